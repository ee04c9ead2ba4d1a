import numpy as np
import numpy.typing as npt

def add_contacts(
    time: npt.NDArray[np.int64],
    offset: npt.NDArray[np.int32],
    person: npt.NDArray[np.int32],
    order: npt.NDArray[np.int32],
    cube_start: npt.NDArray[np.int64],
    cube_end: npt.NDArray[np.int64],
    corner: npt.NDArray[np.float64],
    centre: npt.NDArray[np.float64],
    own_start: npt.NDArray[np.int64],
    own_end: npt.NDArray[np.int64],
    own_time: npt.NDArray[np.int64],
    own_xyz: npt.NDArray[np.float64],
    own_from_centre: npt.NDArray[np.float64],
    period_start: int,
    period_end: int,
    window_us: int,
    distance: float,
    skip_person: int,
    max_checks: int,
    encounters: npt.NDArray[np.int64],
    first_seen: npt.NDArray[np.int64],
    last_seen: npt.NDArray[np.int64],
    closest_squared: npt.NDArray[np.float64],
) -> bool: ...
