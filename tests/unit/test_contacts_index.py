"""Contacts from memory (the cube index and its compiled loops) against every pair compared in numpy."""

import math

import numpy as np
import pytest

from connection_api.contacts_index import (
    ContactsSnapshot,
    PingIndex,
    Pings,
    TooManyCubes,
    Totals,
    as_stored,
    from_micros,
    reach_lists,
    to_micros,
)
from udaconnect_common.cubes import earth_centred

MINUTE_US = 60_000_000
PERSONS = 12
ME = 0


def _brute_force(pings: Pings, start: int, end: int, distance: float, window_us: int | None) -> Totals:
    mine = (pings.person == ME) & (pings.time >= start) & (pings.time < end)
    # Between the positions as stored (within 1.5e-8 m of those given).
    xyz = as_stored(pings.xyz)
    own_time, own_xyz = pings.time[mine], xyz[mine]
    difference = xyz[:, None, :] - own_xyz[None, :, :]
    squared = (difference[..., 0] ** 2 + difference[..., 1] ** 2) + difference[..., 2] ** 2
    pair = squared <= distance * distance
    if window_us is not None:
        pair &= np.abs(pings.time[:, None] - own_time[None, :]) <= window_us
    pair &= ((pings.person != ME) & (pings.time >= start) & (pings.time < end))[:, None]
    totals = Totals.zero(PERSONS)
    for i in np.flatnonzero(pair.any(axis=1)):
        who = pings.person[i]
        totals.encounters[who] += 1
        totals.first_seen[who] = min(totals.first_seen[who], pings.time[i])
        totals.last_seen[who] = max(totals.last_seen[who], pings.time[i])
        totals.closest_squared[who] = min(totals.closest_squared[who], squared[i][pair[i]].min())
    return totals


def _crowd(rng: np.random.Generator, pings: int, latitude: float, longitude: float, spread_m: float) -> Pings:
    """Pings around a point on the ellipsoid, over two hours, at whole microseconds."""
    centre = np.array(earth_centred(latitude, longitude))
    return Pings(
        rng.integers(0, 120 * MINUTE_US, pings).astype(np.int64),
        centre + rng.uniform(-spread_m, spread_m, (pings, 3)),
        rng.integers(0, PERSONS, pings).astype(np.int32),
    )


def _assert_equal(found: Totals, expected: Totals) -> None:
    np.testing.assert_array_equal(found.encounters, expected.encounters)
    np.testing.assert_array_equal(found.first_seen, expected.first_seen)
    np.testing.assert_array_equal(found.last_seen, expected.last_seen)
    np.testing.assert_array_equal(found.closest_squared, expected.closest_squared)


def _snapshot(pings: Pings, recent: int = 0) -> ContactsSnapshot:
    """An index of ``pings``, the last ``recent`` of them in the small part."""
    split = len(pings) - recent
    bulk, newer = pings.take(np.arange(split)), pings.take(np.arange(split, len(pings)))
    persons = {number: number for number in range(PERSONS)}
    return ContactsSnapshot(persons, list(persons), PingIndex.of(bulk), PingIndex.of(newer))


PLACES = {
    "San Francisco": (37.77, -122.42),
    "the North Pole": (89.99999, 10.0),
    "the South Pole": (-89.9999, -45.0),
    "the antimeridian": (-16.5, 180.0),
    "the equator at Greenwich": (0.0, 0.0),
}
# (distance m, window minutes or None, spread m of the crowd)
SEARCHES = [
    (5.0, None, 20.0),
    (5.0, 5, 20.0),
    (50.0, None, 150.0),
    (50.0, 5, 150.0),
    (0.01, None, 0.05),
    (0.01, 30, 0.05),
    (500.0, None, 1500.0),
    (500.0, 10, 1500.0),
    (25.0, None, 60.0),
]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(("distance", "window_min", "spread_m"), SEARCHES)
def test_the_same_totals_as_every_pair_compared(
    place: str, distance: float, window_min: int | None, spread_m: float
) -> None:
    rng = np.random.default_rng(abs(hash((place, distance, window_min))) % 2**32)
    pings = _crowd(rng, 2500, *PLACES[place], spread_m)
    start, end = 10 * MINUTE_US, 110 * MINUTE_US
    window_us = None if window_min is None else window_min * MINUTE_US

    found = _snapshot(pings, recent=300).totals(ME, start, end, distance, window_us)

    expected = _brute_force(pings, start, end, distance, window_us)
    assert found is not None
    # Some met, not every ping: a crowd where the check decides.
    assert 0 < expected.encounters.sum() < len(pings)
    _assert_equal(found, expected)


def test_the_edges_of_the_window_and_of_the_distance_are_inclusive() -> None:
    origin = np.array(earth_centred(0.0, 0.0))
    # Mine at 10 min; others exactly the window before, a microsecond beyond it, exactly D away (3-4-5)
    # and just beyond it, at the end of the range (excluded) and at its start.
    times = [10, 5, 5, 15, 15, 10, 10]
    offsets = [(0, 0, 0), (0, 3, 4), (0, 5, 0), (0, 0, 5), (0, 5.000001, 0), (0, 1, 0), (0, 1, 0)]
    pings = Pings(
        np.array(times, np.int64) * MINUTE_US + np.array([0, 0, -1, 0, 0, 0, 0]),
        origin + np.array(offsets, np.float64),
        np.array([ME, 1, 2, 3, 4, 5, 6], np.int32),
    )
    persons = {number: number for number in range(PERSONS)}
    snapshot = ContactsSnapshot(persons, list(persons), PingIndex.of(pings))

    found = snapshot.totals(ME, 5 * MINUTE_US, 15 * MINUTE_US + 1, 5.0, 5 * MINUTE_US)

    assert found is not None
    np.testing.assert_array_equal(found.encounters[:7], [0, 1, 0, 1, 0, 1, 1])


def test_the_range_end_is_exclusive_and_its_start_inclusive() -> None:
    rng = np.random.default_rng(7)
    pings = _crowd(rng, 500, 10.0, 10.0, 3.0)
    pings.time[:] = np.where(rng.random(500) < 0.5, 10 * MINUTE_US, 20 * MINUTE_US)

    found = _snapshot(pings).totals(ME, 10 * MINUTE_US, 20 * MINUTE_US, 5.0, None)

    assert found is not None
    _assert_equal(found, _brute_force(pings, 10 * MINUTE_US, 20 * MINUTE_US, 5.0, None))
    assert found.last_seen.max() == 10 * MINUTE_US


def test_a_search_over_its_check_limit_gives_up() -> None:
    pings = _crowd(np.random.default_rng(3), 3000, 0.0, 0.0, 10.0)

    assert _snapshot(pings).totals(ME, 0, 120 * MINUTE_US, 50.0, None, max_checks=100) is None
    assert _snapshot(pings).totals(ME, 0, 120 * MINUTE_US, 50.0, None) is not None


def test_reach_lists_every_cube_within_the_distance_of_an_own_ping() -> None:
    rng = np.random.default_rng(11)
    own = np.array(earth_centred(45.0, 7.0)) + rng.uniform(-30.0, 30.0, (40, 3))
    distance, size = 5.0, 6.25

    found = reach_lists(own, distance, size)

    # Points within the distance of each own ping (on its sphere): their cube lists that own ping.
    directions = rng.normal(size=(40, 200, 3))
    directions /= np.linalg.norm(directions, axis=2, keepdims=True)
    points = own[:, None, :] + directions * distance * rng.uniform(0, 1, (40, 200, 1))
    keys = dict(zip(found.keys.tolist(), range(len(found.keys)), strict=True))
    for own_ping in range(len(own)):
        for point in points[own_ping]:
            numbers = np.floor(point / size).astype(np.int64)
            cube = keys[int(((numbers[0] + 2**20) << 42) + ((numbers[1] + 2**20) << 21) + numbers[2] + 2**20)]
            assert own_ping in found.members[found.starts[cube] : found.starts[cube + 1]]


def test_reach_refuses_more_cubes_than_allowed() -> None:
    own = np.array([earth_centred(0.0, lon) for lon in np.linspace(0.0, 0.1, 50)])
    with pytest.raises(TooManyCubes):
        reach_lists(own, 500.0, 6.25, max_cubes=1_000_000)


@pytest.mark.parametrize("place", PLACES)
def test_positions_are_stored_to_within_two_hundredths_of_a_micrometre(place: str) -> None:
    rng = np.random.default_rng(5)
    xyz = np.array(earth_centred(*PLACES[place])) + rng.uniform(-200.0, 200.0, (5000, 3))

    assert np.abs(as_stored(xyz) - xyz).max() <= 1.5e-8


def test_microseconds_from_the_postgresql_epoch_round_trip() -> None:
    at = from_micros(851_256_000_123_456)
    assert to_micros(at) == 851_256_000_123_456
    assert at.year == 2026
    assert math.isclose(to_micros(from_micros(0)), 0)
