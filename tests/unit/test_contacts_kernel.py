"""The compiled contacts loop with a window, against every pair compared in numpy."""

import numpy as np
import numpy.typing as npt
import pytest

from connection_api.contacts_kernel import near_in_window

MINUTE_US = 60_000_000
INT64 = np.iinfo(np.int64)


def _totals(persons: int) -> tuple[npt.NDArray[np.int64], ...]:
    return (
        np.zeros(persons, np.int64),
        np.full(persons, INT64.max, np.int64),
        np.full(persons, INT64.min, np.int64),
    )


def _brute_force(
    other_time: npt.NDArray[np.int64],
    other_xyz: npt.NDArray[np.float64],
    other_person: npt.NDArray[np.int32],
    own_time: npt.NDArray[np.int64],
    own_xyz: npt.NDArray[np.float64],
    window_us: int,
    distance: float,
    persons: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    difference = other_xyz[:, None, :] - own_xyz[None, :, :]
    squared = difference[..., 0] ** 2 + difference[..., 1] ** 2 + difference[..., 2] ** 2
    pair = (squared <= distance * distance) & (np.abs(other_time[:, None] - own_time[None, :]) <= window_us)
    near = pair.any(axis=1)
    encounters, first, last = _totals(persons)
    closest = np.full(persons, np.inf)
    for i in np.flatnonzero(near):
        who = other_person[i]
        encounters[who] += 1
        first[who] = min(first[who], other_time[i])
        last[who] = max(last[who], other_time[i])
        closest[who] = min(closest[who], squared[i][pair[i]].min())
    return encounters, first, last, closest


def _crowd(
    rng: np.random.Generator, pings: int, spread_m: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Pings in time order around an Earth-centred point near San Francisco, at whole microseconds."""
    time = np.sort(rng.integers(0, 120 * MINUTE_US, pings)).astype(np.int64)
    xyz = np.array([-2_706_000.0, -4_261_000.0, 3_885_000.0]) + rng.uniform(-spread_m, spread_m, (pings, 3))
    return time, np.ascontiguousarray(xyz)


CROWDS = [(1, 5.0, 5, 20.0), (2, 50.0, 5, 80.0), (3, 0.5, 30, 3.0)]


@pytest.mark.parametrize(("seed", "distance", "window_min", "spread_m"), CROWDS)
def test_the_same_totals_as_every_pair_compared(seed: int, distance: float, window_min: int, spread_m: float) -> None:
    rng = np.random.default_rng(seed)
    persons = 12
    other_time, other_xyz = _crowd(rng, 3000, spread_m)
    other_person = rng.integers(0, persons, other_time.size).astype(np.int32)
    own_time, own_xyz = _crowd(rng, 200, spread_m)
    window_us = window_min * MINUTE_US
    encounters, first, last = _totals(persons)
    closest = np.full(persons, np.inf)

    near_in_window(
        other_time, other_xyz, other_person, own_time, own_xyz, window_us, distance, encounters, first, last, closest
    )

    expected = _brute_force(other_time, other_xyz, other_person, own_time, own_xyz, window_us, distance, persons)
    # Some met, not everyone: a crowd where the check decides.
    assert encounters.sum() > 0
    assert encounters.sum() < other_time.size
    np.testing.assert_array_equal(encounters, expected[0])
    np.testing.assert_array_equal(first, expected[1])
    np.testing.assert_array_equal(last, expected[2])
    np.testing.assert_array_equal(closest, expected[3])


def test_the_edges_of_the_window_and_of_the_distance_are_inclusive() -> None:
    own_time = np.array([10 * MINUTE_US], np.int64)
    own_xyz = np.zeros((1, 3))
    # Exactly the window before, exactly after, a microsecond beyond; exactly D away, and just beyond it.
    other_time = np.array([5 * MINUTE_US, 5 * MINUTE_US + 1, 15 * MINUTE_US, 15 * MINUTE_US + 1], np.int64)
    other_xyz = np.array([[3.0, 4.0, 0.0], [5.000001, 0.0, 0.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    other_person = np.array([0, 1, 2, 3], np.int32)
    encounters, first, last = _totals(4)
    closest = np.full(4, np.inf)

    near_in_window(
        other_time, other_xyz, other_person, own_time, own_xyz, 5 * MINUTE_US, 5.0, encounters, first, last, closest
    )

    np.testing.assert_array_equal(encounters, [1, 0, 1, 0])
    np.testing.assert_array_equal(closest, [25.0, np.inf, 25.0, np.inf])


def test_arrays_of_different_lengths_are_refused() -> None:
    encounters, first, last = _totals(1)
    with pytest.raises(ValueError, match="same number of pings"):
        near_in_window(
            np.zeros(2, np.int64),
            np.zeros((3, 3)),
            np.zeros(2, np.int32),
            np.zeros(1, np.int64),
            np.zeros((1, 3)),
            1,
            1.0,
            encounters,
            first,
            last,
            np.full(1, np.inf),
        )
