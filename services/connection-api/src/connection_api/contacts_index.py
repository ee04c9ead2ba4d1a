"""Contacts over a whole event, from memory: every ping filed by Earth-centred cube, searched by compiled loops.

SQL answers contacts for a day; a three-day event at 50 m is over a million candidate pings, more than a
statement can classify within a request's budget. So the connection API keeps every ping in memory
(12 bytes of position, 8 of time, 4 of person, and 8 for two more orders: ~48 MB for 1.56M pings), in
arrays filed by cube, and answers contacts from them (``contacts_kernel``). ``contacts_feed`` loads them
and keeps them current.

The search, for the person P, a distance D and an optional window W (docs/architecture.md has the figure):

1. P's own pings in the range, from the per-person order.
2. *Reach*: the cubes that can hold a ping within D of one of them (the cubes each own ping's D-box
   overlaps; the own pings are gathered by their own cube first, as the SQL does, so a long stay lists
   its cubes once), with the own pings that reach each: :func:`reach_lists`.
3. The cubes that hold pings: one binary search per reached cube in the index's sorted cube numbers.
4. The exact check, per cube: every other ping in it against that cube's own pings only, in time order
   with a window, in order of distance from the cube's centre without one.

The size of cube follows D: 6.25 m cubes up to 6.25 m (a D-box then overlaps at most 3 along an axis),
50 m beyond. Cubes are uniform in metres, so the poles and the antimeridian cost what the equator does.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from connection_api import contacts_kernel
from udaconnect_common.cubes import COARSE, FINE, CubeSize, cube_key, reach

Int64s = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]

# PostgreSQL's own epoch: a timestamptz travels as microseconds from it (binary COPY), so times are kept so.
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Up to this distance the fine cubes are searched: a D-box overlaps at most three along each axis.
FINE_UP_TO_M = FINE.metres
# A request may list at most this many (cube, block of own pings) pairs and make this many distance checks
# (about a second of one core): beyond either, it is too costly and answered 422.
MAX_REACHED_CUBES = 2_000_000
MAX_CHECKS = 400_000_000


def to_micros(at: datetime) -> int:
    """Microseconds from :data:`PG_EPOCH`."""
    return (at - PG_EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=int(micros))


class _NumpyOps:
    """The cube arithmetic of ``udaconnect_common.cubes`` on numpy arrays (the same floor, in int64)."""

    def floor(self, value: Any) -> Any:
        return np.floor(value).astype(np.int64)

    def sqrt(self, value: Any) -> Any:
        return np.sqrt(value)

    def abs(self, value: Any) -> Any:
        return np.abs(value)

    def integer(self, value: int) -> Any:
        return np.int64(value)


NUMPY_OPS = _NumpyOps()


class TooManyCubes(Exception):
    """The reach of the own pings lists more cubes than a request may search."""


@dataclass(frozen=True)
class Pings:
    """Pings as columns: microseconds from :data:`PG_EPOCH`, Earth-centred metres, and a person number."""

    time: Int64s
    xyz: Floats
    person: Int32s

    @staticmethod
    def empty() -> "Pings":
        return Pings(np.empty(0, np.int64), np.empty((0, 3), np.float64), np.empty(0, np.int32))

    @staticmethod
    def concat(parts: "list[Pings]") -> "Pings":
        parts = [part for part in parts if len(part)] or [Pings.empty()]
        return Pings(
            np.concatenate([part.time for part in parts]),
            np.concatenate([part.xyz for part in parts]),
            np.concatenate([part.person for part in parts]),
        )

    def take(self, positions: npt.NDArray[np.integer[Any]]) -> "Pings":
        return Pings(self.time[positions], self.xyz[positions], self.person[positions])

    def __len__(self) -> int:
        return len(self.time)

    @property
    def nbytes(self) -> int:
        return self.time.nbytes + self.xyz.nbytes + self.person.nbytes


def cube_numbers(xyz: Floats, size_m: float) -> Int64s:
    """Each point's cube number along each axis (n x 3)."""
    numbers: Int64s = NUMPY_OPS.floor(xyz / size_m)
    return numbers


def cube_keys(numbers: Int64s) -> Int64s:
    keys: Int64s = cube_key(numbers[:, 0], numbers[:, 1], numbers[:, 2], NUMPY_OPS)
    return keys


@dataclass(frozen=True)
class Reach:
    """The cubes that can hold a ping within D of one of the own pings, each with the own pings that reach
    it: cube ``c`` is ``keys[c]`` (numbers ``numbers[c]``) and its own pings are
    ``members[starts[c]:starts[c + 1]]``, in the own pings' order."""

    keys: Int64s
    numbers: Int64s
    starts: Int64s
    members: Int64s


def reach_lists(
    own_xyz: Floats,
    distance_m: float,
    size_m: float,
    max_cubes: int = MAX_REACHED_CUBES,
    keep: Callable[[Int64s, Int64s], npt.NDArray[np.bool_]] | None = None,
) -> Reach:
    """The cubes of ``size_m`` within reach of the own pings (their D-boxes, widened by the cubes' margin).

    The own pings are gathered into *blocks*, one per cube they lie in, and each block lists the cubes its
    members' boxes overlap together: fewer cubes listed than ping by ping (a person standing still reaches
    the same few), a few more own pings per cube to compare (all of the block's). ``keep`` (the cubes'
    numbers and keys) says which cubes to keep before their own pings are listed: at 500 m a box holds
    9,261 cubes, of which a venue fills a few dozen. Raises :class:`TooManyCubes` when more than
    ``max_cubes`` (cube, block) pairs would be listed.
    """
    if len(own_xyz) == 0:
        return Reach(np.empty(0, np.int64), np.empty((0, 3), np.int64), np.zeros(1, np.int64), np.empty(0, np.int64))
    bounds = [reach(own_xyz[:, axis], distance_m, size_m, NUMPY_OPS) for axis in range(3)]
    first = np.stack([axis_first for axis_first, _ in bounds], axis=1)
    last = np.stack([axis_last for _, axis_last in bounds], axis=1)
    _, block_of = np.unique(cube_keys(cube_numbers(own_xyz, size_m)), return_inverse=True)
    blocks = int(block_of.max()) + 1
    block_first = np.full((blocks, 3), np.iinfo(np.int64).max, np.int64)
    block_last = np.full((blocks, 3), np.iinfo(np.int64).min, np.int64)
    np.minimum.at(block_first, block_of, first)
    np.maximum.at(block_last, block_of, last)
    spans = block_last - block_first + 1
    per_block = spans.prod(axis=1)
    if int(per_block.sum()) > max_cubes:
        raise TooManyCubes
    # Every (block, cube in its box) pair, the box walked in x, then y, then z.
    pair_block = np.repeat(np.arange(blocks), per_block)
    within = np.arange(len(pair_block)) - np.repeat(np.cumsum(per_block) - per_block, per_block)
    span_y, span_z = spans[pair_block, 1], spans[pair_block, 2]
    numbers = block_first[pair_block] + np.stack(
        [within // (span_y * span_z), (within // span_z) % span_y, within % span_z], axis=1
    )
    pair_key = cube_keys(numbers)
    keys, first_pair, pair_cube = np.unique(pair_key, return_index=True, return_inverse=True)
    if keep is not None:
        kept = keep(numbers[first_pair], keys)
        renumbered = np.cumsum(kept) - 1
        pairs = kept[pair_cube]
        pair_block, pair_cube = pair_block[pairs], renumbered[pair_cube[pairs]]
        keys, first_pair = keys[kept], first_pair[kept]
    # Each pair brings its block's members: sorted by cube, then by the own pings' order.
    block_members = np.argsort(block_of, kind="stable")
    block_sizes = np.bincount(block_of, minlength=blocks)
    block_starts = np.cumsum(block_sizes) - block_sizes
    by_cube = np.argsort(pair_cube, kind="stable")
    sizes = block_sizes[pair_block[by_cube]]
    member_pair = np.repeat(by_cube, sizes)
    offset = np.arange(len(member_pair)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    members = block_members[block_starts[pair_block[member_pair]] + offset]
    member_cube = pair_cube[member_pair]
    # A block's members are in order; a cube reached by several blocks gets theirs in the own order again.
    members = members[np.lexsort((members, member_cube))]
    counts = np.bincount(pair_cube, weights=block_sizes[pair_block], minlength=len(keys)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Reach(keys, numbers[first_pair], starts, members.astype(np.int64))


@dataclass(frozen=True)
class CubeLevel:
    """The index's pings filed by cubes of one size: cube ``keys[c]`` holds positions
    ``order[starts[c]:starts[c + 1]]`` (``order`` empty: the positions themselves), in time order, in the
    50 m cube with corner ``corners[c]``."""

    size: CubeSize
    order: Int32s
    keys: Int64s
    starts: Int64s
    corners: Floats

    def find(self, keys: Int64s) -> Int64s:
        """Each key's cube number in this level, -1 where no ping is filed under it."""
        found = np.searchsorted(self.keys, keys)
        held = found < len(self.keys)
        held[held] = self.keys[found[held]] == keys[held]
        return np.where(held, found, -1)


@dataclass(frozen=True)
class Filed:
    """Pings stored for the search: in order of 50 m cube (by cube number), then time. A position is its
    offset from its 50 m cube's corner, in units of :data:`OFFSET_UNIT_M` (int32 x 3: 12 bytes, not 24),
    so a position read back is within 1.5e-8 m of the one stored. ``fine`` is each ping's 6.25 m cube
    within its 50 m cube (0 to 511)."""

    time: Int64s
    offset: Int32s
    person: Int32s
    coarse_numbers: Int64s
    coarse_starts: Int64s
    fine: npt.NDArray[np.int16]


_HALF_DIAGONAL = math.sqrt(3.0) / 2.0
# As the kernel's: floating-point rounding around Earth-centred positions, far under this.
BOUND_SLACK_M = 1e-6
# 2^-25 m: 50 m is 1.7e9 units, inside an int32, and a product by a power of two is exact.
OFFSET_UNIT_M = 2.0**-25
# 6.25 m cubes nest in 50 m cubes, eight along each axis: a fine cube's 50 m cube is its number // 8.
FINE_PER_COARSE = round(COARSE.metres / FINE.metres)


def compact(xyz: Floats) -> tuple[Int64s, Int32s, npt.NDArray[np.int16]]:
    """Each point's 50 m cube numbers, its offset from that cube's corner, and its 6.25 m cube in it.

    Both sizes come from the 6.25 m numbers (``floor(x / 6.25)``, then ``// 8``), so they nest exactly.
    """
    fine = cube_numbers(xyz, FINE.metres)
    coarse = fine // FINE_PER_COARSE
    # Exact: x and the corner are within 50 m of each other, so their difference is (Sterbenz).
    offset = np.rint((xyz - coarse * COARSE.metres) / OFFSET_UNIT_M).astype(np.int32)
    within = fine - coarse * FINE_PER_COARSE
    sub = (within[:, 0] * FINE_PER_COARSE + within[:, 1]) * FINE_PER_COARSE + within[:, 2]
    return coarse, offset, sub.astype(np.int16)


def positions(offset: Int32s, corners: Floats) -> Floats:
    """Earth-centred metres of pings from their offsets and their 50 m cubes' corners (as the kernel does)."""
    result: Floats = corners + offset.astype(np.float64) * OFFSET_UNIT_M
    return result


def as_stored(xyz: Floats) -> Floats:
    """Points as the index reads them back (within 1.5e-8 m of ``xyz``): what its distances are between."""
    coarse, offset, _ = compact(xyz)
    return positions(offset, (coarse * COARSE.metres).astype(np.float64))


def run_starts(changes: npt.NDArray[np.bool_], count: int) -> Int64s:
    """Where each run of equal values among ``count`` starts, then ``count``; ``changes[i]``: value i + 1
    differs from value i."""
    if count == 0:
        return np.zeros(1, np.int64)
    return np.concatenate([[0], np.flatnonzero(changes) + 1, [count]]).astype(np.int64)


def file_pings(pings: Pings) -> Filed:
    """``pings`` (in any order) as :class:`Filed`; the loader gets them so from the database instead."""
    coarse, offset, fine = compact(pings.xyz)
    stored = np.lexsort((pings.time, coarse[:, 2], coarse[:, 1], coarse[:, 0]))
    coarse = coarse[stored]
    starts = run_starts((np.diff(coarse, axis=0) != 0).any(axis=1), len(stored))
    return Filed(pings.time[stored], offset[stored], pings.person[stored], coarse[starts[:-1]], starts, fine[stored])


@dataclass
class Totals:
    """Per-person totals of one search, indexed by person number."""

    encounters: Int64s
    first_seen: Int64s
    last_seen: Int64s
    closest_squared: Floats

    @staticmethod
    def zero(persons: int) -> "Totals":
        return Totals(
            np.zeros(persons, np.int64),
            np.full(persons, np.iinfo(np.int64).max, np.int64),
            np.full(persons, np.iinfo(np.int64).min, np.int64),
            np.full(persons, np.inf),
        )


@dataclass(frozen=True)
class OwnPings:
    """The person's pings in the range, in time order."""

    time: Int64s
    xyz: Floats


class PingIndex:
    """A fixed set of pings filed for the search (:class:`Filed`), with a second order by 6.25 m cube, then
    time, and a third by person. Read-only once built, so requests share it."""

    def __init__(self, filed: Filed) -> None:
        self.time, self.offset, self.person = filed.time, filed.offset, filed.person
        cubes = len(filed.coarse_numbers)
        corners = filed.coarse_numbers * COARSE.metres
        self.coarse = CubeLevel(
            COARSE, np.empty(0, np.int32), cube_keys(filed.coarse_numbers), filed.coarse_starts, corners.astype(float)
        )
        # Each ping's 6.25 m cube as (its 50 m cube's place in the coarse level) * 512 + (its place in it):
        # sorting by that, stably, keeps each fine cube in time order (the pings are so already).
        coarse_of = np.repeat(np.arange(cubes, dtype=np.int64), np.diff(filed.coarse_starts))
        fine_key = coarse_of * FINE_PER_COARSE**3 + filed.fine
        del coarse_of
        fine_order = np.argsort(fine_key, kind="stable").astype(np.int32)
        fine_sorted = fine_key[fine_order]
        del fine_key
        fine_starts = run_starts(np.diff(fine_sorted) != 0, len(fine_sorted))
        fine_keys = fine_sorted[fine_starts[:-1]]
        del fine_sorted
        self.fine = CubeLevel(FINE, fine_order, fine_keys, fine_starts, corners[fine_keys // FINE_PER_COARSE**3])
        # Stable: each person's pings in the stored order (by cube); a search sorts its own few by time.
        self.by_person = np.argsort(self.person, kind="stable").astype(np.int32)
        self.person_starts = np.searchsorted(
            self.person[self.by_person], np.arange(int(self.person.max(initial=-1)) + 2)
        )

    @staticmethod
    def of(pings: Pings) -> "PingIndex":
        return PingIndex(file_pings(pings))

    def __len__(self) -> int:
        return len(self.time)

    @property
    def nbytes(self) -> int:
        arrays = (self.time, self.offset, self.person, self.by_person, self.person_starts)
        levels = (self.coarse, self.fine)
        return sum(array.nbytes for array in arrays) + sum(
            level.order.nbytes + level.keys.nbytes + level.starts.nbytes + level.corners.nbytes for level in levels
        )

    def own_pings(self, person: int, start: int, end: int) -> Pings:
        """The person's pings in ``[start, end)``, in no particular order."""
        if person + 1 >= len(self.person_starts):
            return Pings.empty()
        at = self.by_person[self.person_starts[person] : self.person_starts[person + 1]]
        return self.pings_at(at[(self.time[at] >= start) & (self.time[at] < end)])

    def fine_key(self, numbers: Int64s) -> Int64s:
        """The fine level's keys of 6.25 m cubes (``numbers``, n x 3); -1 where its 50 m cube holds no ping."""
        coarse = numbers // FINE_PER_COARSE
        place = self.coarse.find(cube_keys(coarse))
        within = numbers - coarse * FINE_PER_COARSE
        sub = (within[:, 0] * FINE_PER_COARSE + within[:, 1]) * FINE_PER_COARSE + within[:, 2]
        return np.where(place >= 0, place * FINE_PER_COARSE**3 + sub, -1)

    def search(self, own: OwnPings, person: int, distance_m: float, window_us: int | None) -> "CubeSearch | None":
        """The cubes of this index that ``own`` can reach, each with its own pings, ready for the kernel;
        None when there is nothing to search. Raises :class:`TooManyCubes`."""
        if len(self) == 0 or len(own.time) == 0:
            return None
        level = self.fine if distance_m <= FINE_UP_TO_M else self.coarse

        def level_keys(numbers: Int64s, keys: Int64s) -> Int64s:
            return self.fine_key(numbers) if level is self.fine else keys

        reached = reach_lists(
            own.xyz,
            distance_m,
            level.size.metres,
            keep=lambda numbers, keys: level.find(level_keys(numbers, keys)) >= 0,
        )
        # Every cube reached holds pings (``keep``): its place in the level.
        found = level.find(level_keys(reached.numbers, reached.keys))
        members = reached.members
        member_cube = np.repeat(np.arange(len(found)), np.diff(reached.starts))
        centre = (reached.numbers + 0.5) * level.size.metres
        own_xyz = own.xyz[members]
        from_centre = np.sqrt(((own_xyz - centre[member_cube]) ** 2).sum(axis=1))
        # A block lists its members for every cube of its box; only those within D of some point of the
        # cube, that is within D and half a diagonal of its centre, can be near a ping in it.
        within = from_centre <= distance_m + level.size.metres * _HALF_DIAGONAL + BOUND_SLACK_M
        members, own_xyz, from_centre, member_cube = (
            members[within],
            own_xyz[within],
            from_centre[within],
            member_cube[within],
        )
        if window_us is None:
            by_distance = np.lexsort((from_centre, member_cube))
            members, own_xyz, from_centre = members[by_distance], own_xyz[by_distance], from_centre[by_distance]
        sizes = np.bincount(member_cube, minlength=len(found))
        own_starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        cubes = {
            "time": self.time,
            "offset": self.offset,
            "person": self.person,
            "order": level.order,
            "cube_start": level.starts[found],
            "cube_end": level.starts[found + 1],
            "corner": np.ascontiguousarray(level.corners[found]),
            "centre": np.ascontiguousarray(centre),
            "own_start": own_starts[:-1],
            "own_end": own_starts[1:],
            "own_time": own.time[members],
            "own_xyz": np.ascontiguousarray(own_xyz),
            "own_from_centre": from_centre,
        }
        return CubeSearch(self, cubes, -1 if window_us is None else window_us, distance_m, person)

    def pings_at(self, at: npt.NDArray[np.integer[Any]]) -> Pings:
        """The pings at positions ``at`` of the stored order."""
        coarse = np.searchsorted(self.coarse.starts, at, side="right") - 1
        return Pings(self.time[at], positions(self.offset[at], self.coarse.corners[coarse]), self.person[at])


@dataclass(frozen=True)
class CubeSearch:
    """One person's search of one :class:`PingIndex`: the cubes in reach with their own pings (the kernel's
    arrays, in its order), searched for any stretch of the others' time."""

    index: PingIndex
    # The kernel's arguments for the index and the cubes, by name.
    cubes: dict[str, Any]
    window_us: int
    distance_m: float
    person: int

    def _question(self, start: int, end: int, max_checks: int) -> dict[str, Any]:
        """The kernel's arguments both of its entry points share: the cubes, then the question."""
        return {
            **self.cubes,
            "period_start": start,
            "period_end": end,
            "window_us": self.window_us,
            "distance": self.distance_m,
            "skip_person": self.person,
            "max_checks": max_checks,
        }

    def add_contacts(self, start: int, end: int, totals: Totals, max_checks: int = MAX_CHECKS) -> bool:
        """Adds the other pings in ``[start, end)`` near an own ping to ``totals``; False if the search gave
        up after ``max_checks`` distance checks."""
        completed: bool = contacts_kernel.add_contacts(
            **self._question(start, end, max_checks),
            encounters=totals.encounters,
            first_seen=totals.first_seen,
            last_seen=totals.last_seen,
            closest_squared=totals.closest_squared,
        )
        return completed

    def near(self, start: int, end: int, max_checks: int, most: int | None = None) -> tuple[int, int, Int64s | None]:
        """The distance checks made (more than ``max_checks``: it gave up), how many other pings in
        ``[start, end)`` are near an own ping, and their positions in the index in no particular order
        (None when there are more than ``most``: they are not held)."""
        room = 4096 if most is None else min(4096, most + 1)
        while True:
            near = np.empty(room, np.int64)
            checks, found = contacts_kernel.near_pings(**self._question(start, end, max_checks), near=near)
            if found <= room or checks > max_checks:
                return checks, found, near[: min(found, room)]
            if most is not None and found > most:
                return checks, found, None
            room = found


class TooManyNear(Exception):
    """More near pings in a stretch of time than a request may hold at once: ask for a shorter one."""

    def __init__(self, found: int) -> None:
        super().__init__(f"{found} near pings")
        self.found = found


@dataclass
class ContactsSnapshot:
    """What the index holds at one moment: the bulk (rebuilt rarely) and the recent pings (rebuilt on every
    change, small). A request reads one snapshot; a refresh makes a new one."""

    # Person ids to numbers and back; both only grow, so a search on an earlier snapshot still reads its own.
    persons: dict[Any, int]
    ids: list[Any]
    bulk: PingIndex
    recent: PingIndex = field(default_factory=lambda: PingIndex.of(Pings.empty()))
    recent_pings: Pings = field(default_factory=Pings.empty)

    @property
    def parts(self) -> tuple[PingIndex, PingIndex]:
        return self.bulk, self.recent

    def own_pings(self, person: int, start: int, end: int) -> OwnPings:
        own = Pings.concat([part.own_pings(person, start, end) for part in self.parts])
        in_time = np.argsort(own.time, kind="stable")
        return OwnPings(own.time[in_time], np.ascontiguousarray(own.xyz[in_time]))

    def search(self, person: int, start: int, end: int, distance_m: float, window_us: int | None) -> "Search":
        """The search for ``person``'s pings in ``[start, end)``: the others' pings near them, found by
        stretch of the others' time (connections) or all at once (contacts)."""
        return Search(self, person, start, end, distance_m, window_us)

    def totals(
        self, person: int, start: int, end: int, distance_m: float, window_us: int | None, max_checks: int = MAX_CHECKS
    ) -> Totals | None:
        """Everyone's totals with ``person`` in ``[start, end)``; None if the search is too costly."""
        try:
            return self.search(person, start, end, distance_m, window_us).totals(max_checks)
        except TooManyCubes:
            return None


# With a window, a stretch of the others' time is searched against the own pings within the window of it
# only: the cubes they reach are listed for a chunk of at least this much of the others' time at once (a
# page's stretches then share one), not for the whole range (a day of own pings, for a page of minutes).
CHUNK_US = 60 * 60 * 1_000_000


@dataclass
class Search:
    """One person's search of a :class:`ContactsSnapshot` (both its parts) for a range ``[start, end)``."""

    snapshot: ContactsSnapshot
    person: int
    start: int
    end: int
    distance_m: float
    window_us: int | None
    # Distance checks made so far, of the request's MAX_CHECKS.
    checks: int = 0
    # The others' time the cubes listed last serve, and those cubes (for each part of the snapshot).
    _chunk: tuple[int, int, list[CubeSearch]] | None = None

    def _parts(self, start: int, end: int) -> list[CubeSearch]:
        """The cubes in reach for the others' pings in ``[start, end)``. Raises :class:`TooManyCubes`."""
        if self.window_us is None:
            # Without a window every own ping of the range can be near any other ping.
            start, end = self.start, self.end
        if self._chunk is not None and self._chunk[0] <= start and end <= self._chunk[1]:
            return self._chunk[2]
        own_from, own_to = self.start, self.end
        if self.window_us is not None:
            end = min(self.end, max(end, start + CHUNK_US))
            # An other ping at t < end pairs with own pings up to t + W < end + W.
            own_from, own_to = max(self.start, start - self.window_us), min(self.end, end + self.window_us)
        own = self.snapshot.own_pings(self.person, own_from, own_to)
        parts = [part.search(own, self.person, self.distance_m, self.window_us) for part in self.snapshot.parts]
        self._chunk = (start, end, [part for part in parts if part is not None])
        return self._chunk[2]

    def totals(self, max_checks: int = MAX_CHECKS) -> Totals | None:
        """Everyone's totals with the person; None if the search is too costly. Raises :class:`TooManyCubes`."""
        totals = Totals.zero(len(self.snapshot.persons))
        for part in self._parts(self.start, self.end):
            if not part.add_contacts(self.start, self.end, totals, max_checks):
                return None
        return totals

    def near(self, start: int, end: int, max_checks: int = MAX_CHECKS, most: int | None = None) -> Pings | None:
        """The others' pings in ``[start, end)`` (within the search's range) near one of the person's, in
        time order; None when the request's checks, counted over every call, would pass ``max_checks``.
        Raises :class:`TooManyNear` when there are more than ``most`` (not held: a stretch that overshot
        into a busy day could be a million) and :class:`TooManyCubes`."""
        found = []
        held = 0
        start, end = max(start, self.start), min(end, self.end)
        for part in self._parts(start, end):
            left = None if most is None else most - held
            checks, count, at = part.near(start, end, max_checks - self.checks, left)
            self.checks += checks
            if self.checks > max_checks:
                return None
            if at is None:
                raise TooManyNear(held + count)
            held += count
            found.append(part.index.pings_at(at))
        near = Pings.concat(found)
        return near.take(np.argsort(near.time, kind="stable"))
