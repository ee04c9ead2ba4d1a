import numpy as np
import numpy.typing as npt

def near_in_window(
    other_time: npt.NDArray[np.int64],
    other_xyz: npt.NDArray[np.float64],
    other_person: npt.NDArray[np.int32],
    own_time: npt.NDArray[np.int64],
    own_xyz: npt.NDArray[np.float64],
    window_us: int,
    distance: float,
    encounters: npt.NDArray[np.int64],
    first_seen: npt.NDArray[np.int64],
    last_seen: npt.NDArray[np.int64],
    closest_squared: npt.NDArray[np.float64],
) -> None: ...
