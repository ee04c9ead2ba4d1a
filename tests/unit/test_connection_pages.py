"""Connection pages from the index: the near pings of stretches (against every pair compared in numpy), the
cut that keeps every tie, the stretches' growth, and which database rows are the candidates'."""

import numpy as np
import pytest

from connection_api import connection_pages
from connection_api.connection_pages import (
    FIRST_STRETCH_US,
    GROWTH,
    ewkb_points,
    matching,
    next_stretch,
    page_candidates,
)
from connection_api.contacts_index import ContactsSnapshot, PingIndex, Pings, TooManyNear, as_stored
from udaconnect_common.cubes import earth_centred

MINUTE_US = 60_000_000
PERSONS = 12
ME = 0
START, END = 0, 24 * 60 * MINUTE_US


def _crowd(seed: int, count: int = 3000) -> Pings:
    """Pings in a 16 m cube in San Francisco over a day, many at the same second (ties in time)."""
    rng = np.random.default_rng(seed)
    centre = np.array(earth_centred(37.77, -122.42))
    # Busy in the morning and the evening, nothing at night: stretches have to grow over it.
    hours = rng.choice([8, 9, 10, 18, 19], count)
    seconds = hours * 3600 + rng.integers(0, 3600, count)
    return Pings(
        (seconds * 1_000_000).astype(np.int64),
        centre + rng.uniform(-8, 8, (count, 3)),
        rng.integers(0, PERSONS, count).astype(np.int32),
    )


def _snapshot(pings: Pings) -> ContactsSnapshot:
    """An index of ``pings``, the last 200 in the small part (a page draws on both)."""
    split = len(pings) - 200
    persons = {number: number for number in range(PERSONS)}
    return ContactsSnapshot(
        persons,
        list(persons),
        PingIndex.of(pings.take(np.arange(split))),
        PingIndex.of(pings.take(np.arange(split, len(pings)))),
    )


def _near(pings: Pings, distance: float, window_us: int | None) -> np.ndarray:
    """Positions of the other pings near one of ME's, every pair compared."""
    xyz = as_stored(pings.xyz)
    mine = pings.person == ME
    difference = xyz[:, None, :] - xyz[mine][None, :, :]
    squared = (difference[..., 0] ** 2 + difference[..., 1] ** 2) + difference[..., 2] ** 2
    pair = squared <= distance * distance
    if window_us is not None:
        pair &= np.abs(pings.time[:, None] - pings.time[mine][None, :]) <= window_us
    return np.flatnonzero(pair.any(axis=1) & (pings.person != ME))


def _keys(pings: Pings) -> list[tuple[int, int, float, float, float]]:
    return sorted(zip(pings.person.tolist(), pings.time.tolist(), *as_stored(pings.xyz).T.tolist(), strict=True))


@pytest.mark.parametrize(("distance", "window_min"), [(5.0, None), (5.0, 5), (3.0, 10), (20.0, None)])
@pytest.mark.parametrize("wanted", [1, 7, 101])
def test_pages_of_candidates_follow_one_another_to_every_near_ping(
    distance: float, window_min: int | None, wanted: int
) -> None:
    pings = _crowd(seed=int(distance * 10) + wanted)
    window_us = None if window_min is None else window_min * MINUTE_US
    expected = pings.take(_near(pings, distance, window_us))
    assert len(expected) > 3 * wanted
    search = _snapshot(pings).search(ME, START, END, distance, window_us)

    # As the reader pages: the next page starts at the time of this one's last ping (its ties come again).
    seen: set[tuple[int, int, float, float, float]] = set()
    after: int | None = None
    first = START
    pages = 0
    while True:
        candidates = page_candidates(search, first, after, wanted)
        pages += 1
        assert candidates.complete
        times = candidates.pings.time
        assert (np.diff(times) >= 0).all(), "in time order"
        # Every near ping from the cursor's time up to the cut, and nothing else.
        cut = END if candidates.read_until is None else candidates.read_until
        in_reach = (expected.time >= first) & (expected.time < cut)
        assert _keys(candidates.pings) == _keys(expected.take(np.flatnonzero(in_reach)))
        seen.update(_keys(candidates.pings))
        later = times if after is None else times[times > after]
        if candidates.read_until is None:
            assert len(later) < wanted
            break
        # At least a page after the cursor, cut just after the time of the page's last ping.
        assert len(later) >= wanted
        assert int(later[wanted - 1]) == candidates.read_until - 1
        after = first = int(later[wanted - 1])
    assert seen == set(_keys(expected))
    assert pages >= len(expected) // wanted // 2


def test_a_stretch_that_overshoots_into_a_busy_time_is_read_again_shorter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection_pages, "MIN_HOLD", 20)
    monkeypatch.setattr(connection_pages, "HOLD_PER_WANTED", 1)
    pings = _crowd(seed=5)
    expected = pings.take(_near(pings, 5.0, None))
    search = _snapshot(pings).search(ME, START, END, 5.0, None)
    held: list[int] = []
    refused: list[int] = []
    near = search.near

    def recording(start: int, end: int, max_checks: int = 10**9, most: int | None = None) -> Pings | None:
        try:
            found = near(start, end, max_checks, most)
        except TooManyNear as exc:
            refused.append(exc.found)
            raise
        held.append(0 if found is None else len(found))
        return found

    monkeypatch.setattr(search, "near", recording)

    # From midnight: the stretches grow over the night, then land in the morning's crowd.
    candidates = page_candidates(search, START, None, wanted=15)

    assert refused, "no stretch overshot"
    assert max(held) <= 20
    cut = candidates.read_until
    assert cut is not None
    assert _keys(candidates.pings) == _keys(expected.take(np.flatnonzero(expected.time < cut)))


def test_a_cursor_at_a_crowded_instant_keeps_every_ping_of_that_instant() -> None:
    pings = _crowd(seed=3)
    at = int(pings.time[pings.person != ME][0])
    centre = as_stored(pings.xyz[pings.person == ME][:1])[0]
    # Five others at the very position of one of ME's pings, all at one instant.
    crowded = Pings(np.full(5, at), np.tile(centre, (5, 1)), np.arange(1, 6, dtype=np.int32))
    mine = Pings(np.array([at]), centre[None, :].copy(), np.array([ME], np.int32))
    search = _snapshot(Pings.concat([pings, crowded, mine])).search(ME, START, END, 5.0, MINUTE_US)

    candidates = page_candidates(search, at, at, wanted=1)

    at_the_instant = candidates.pings.time == at
    assert np.count_nonzero(at_the_instant) >= 5


def test_the_work_bound_ends_a_page_where_the_stretch_it_could_not_finish_began() -> None:
    pings = _crowd(seed=4)
    search = _snapshot(pings).search(ME, START, END, 20.0, None)
    search.checks = 10**12  # as if the request had already done all its work

    candidates = page_candidates(search, 8 * 60 * MINUTE_US, None, wanted=10)

    assert not candidates.complete
    assert candidates.read_until == 8 * 60 * MINUTE_US
    assert len(candidates.pings) == 0


def test_stretches_grow_over_empty_time_and_follow_the_pace_of_a_busy_one() -> None:
    assert next_stretch(FIRST_STRETCH_US, found=0, missing=1000) == FIRST_STRETCH_US * GROWTH
    # 400 found in 2 minutes, 600 missing: 1.25 x 1.5 x 2 minutes, under GROWTH x.
    assert next_stretch(FIRST_STRETCH_US, found=400, missing=600) == int(FIRST_STRETCH_US * 1.25 * 1.5)
    # A slow pace: at most GROWTH x.
    assert next_stretch(FIRST_STRETCH_US, found=10, missing=900) == FIRST_STRETCH_US * GROWTH
    # Never shorter than the first stretch.
    assert next_stretch(FIRST_STRETCH_US, found=1000, missing=1) == FIRST_STRETCH_US


def test_only_the_rows_at_a_candidates_person_time_and_position_are_kept() -> None:
    xyz = np.array([earth_centred(37.77, -122.42), earth_centred(37.7701, -122.42)])
    candidates = Pings(np.array([10, 20]), as_stored(xyz), np.array([1, 2], np.int32))
    rows = [
        ("a", 1, 10, xyz[0]),  # the first candidate
        ("b", 1, 10, xyz[0] + 1e-3),  # the same person and time, a millimetre away: another ping
        ("c", 2, 20, xyz[1]),  # the second
        ("d", 2, 21, xyz[1]),  # a microsecond later
        ("e", 1, 20, xyz[1]),  # another person
    ]

    kept = matching(
        candidates,
        np.array([row[1] for row in rows]),
        np.array([row[2] for row in rows]),
        np.array([row[3] for row in rows]),
    )

    assert [row[0] for row, keep in zip(rows, kept, strict=True) if keep] == ["a", "c"]


def test_points_are_read_from_the_extended_wkb_postgis_sends() -> None:
    # SELECT ST_SetSRID(ST_MakePoint(-122.4018868, 37.7841251), 4326)::geography, in binary.
    point = bytes.fromhex("0101000020e61000006cac6983b8995ec0823c16365ee44240")
    # An Earth-centred POINT ZM with SRID 4978, as location.space_time is stored.
    space_time = bytes.fromhex("01010000e07213000054065f124ca244c1445f91367b4150c14f1b0e62e3a64d4154e3254fee2c9241")

    assert ewkb_points([point, point], 2).tolist() == [[-122.4018868, 37.7841251]] * 2
    assert ewkb_points([space_time], 4)[0, :3].tolist() == [-2704536.1435249243, -4261356.852622811, 3886534.7660555015]
    assert ewkb_points([], 2).shape == (0, 2)
    with pytest.raises(ValueError, match="not 25 bytes"):
        ewkb_points([point, space_time], 2)
    with pytest.raises(ValueError, match="little-endian"):
        ewkb_points([b"\x00" + point[1:]], 2)
