"""Pages of connections from the in-memory index (``contacts_index``): which pings, the database only for
their rows.

A page is the first ``limit`` other pings near the person after the cursor, by (time, id). The index
knows each ping's person, time and position but not its id (16 bytes more per ping), so a page is made
in two steps:

1. *Candidates*: the near pings of stretches of the others' time from the cursor on, grown as the SQL
   reader grows its slices, until more than a page lies after the cursor's time
   (:func:`page_candidates`). Ids break ties of time, so the stretch keeps every ping at the cursor's time
   and at the time where the page is cut: the page is among them, whatever their ids.
2. *Rows*: the database reads those pings by (person, time) from its index, with their ids and persons;
   a row is a candidate's when its position, read back as the index stores it, is the candidate's
   (:func:`matching_rows`); a person deleted since the index last loaded has no rows left. The rows are
   then ordered by (time, id) and cut after the cursor.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from connection_api.contacts_index import Floats, Int64s, Pings, Search, TooManyNear, as_stored

# The first stretch read, and by how much a stretch may grow (as the SQL reader's slices).
FIRST_STRETCH_US = 2 * 60 * 1_000_000
GROWTH = 4
# A stretch holds at most this many near pings for each one a page wants (or MIN_HOLD): one grown over a
# night into a busy day is read again shorter, rather than hold its million pings (tens of megabytes).
HOLD_PER_WANTED = 8
MIN_HOLD = 10_000


def next_stretch(span_us: int, found: int, missing: int) -> int:
    """How long the next stretch is: :data:`GROWTH` times longer, or if the last one found pings, what its
    pace says the rest of the page needs (a quarter more, so one more stretch usually does)."""
    if found == 0:
        return span_us * GROWTH
    return int(max(FIRST_STRETCH_US, min(span_us * GROWTH, span_us * 1.25 * missing / found)))


@dataclass(frozen=True)
class Candidates:
    """The near pings a page is taken from, in time order, and how far the search read.

    ``read_until``: every near ping before it is among ``pings`` or before the cursor; None when the search
    reached the end of its range. ``complete``: the search stopped because it had enough for a page,
    not because its work ran out (then ``read_until`` is where the stretch it could not finish began).
    """

    pings: Pings
    read_until: int | None
    complete: bool


def page_candidates(search: Search, first: int, after_time: int | None, wanted: int) -> Candidates:
    """The near pings from ``first`` on that hold the first ``wanted`` after a cursor at ``after_time``
    (any id: every ping at that time is kept), with every ping at the time of the last of them.

    Reads stretches of time, each in one call of the kernel, until ``wanted`` pings lie after
    ``after_time`` or the range ends; an empty stretch makes the next one :data:`GROWTH` times longer, so
    a year with three busy days costs a dozen calls, not one per day.
    """
    found: list[Pings] = []
    after = 0
    start, span = first, FIRST_STRETCH_US
    complete = True
    hold = max(HOLD_PER_WANTED * wanted, MIN_HOLD)
    while start < search.end and after < wanted:
        stop = min(start + span, search.end)
        try:
            # A stretch of a single microsecond is held whatever it holds (the reader then asks SQL).
            near = search.near(start, stop, most=hold if stop - start > 1 else None)
        except TooManyNear as exc:
            # Overshot into a busy time: a shorter stretch, sized by what this one found.
            span = max(1, (stop - start) * hold // (2 * exc.found))
            continue
        if near is None:
            complete = False
            break
        found.append(near)
        later = int(np.count_nonzero(near.time > after_time)) if after_time is not None else len(near)
        after += later
        start = stop
        span = next_stretch(span, later, wanted - after)
    pings = Pings.concat(found)
    read_until: int | None = start if start < search.end or not complete else None
    if after >= wanted:
        # Cut at the time of the wanted-th ping after the cursor's time, keeping its ties.
        later_times = pings.time if after_time is None else pings.time[pings.time > after_time]
        cut = int(later_times[wanted - 1])
        pings = pings.take(np.flatnonzero(pings.time <= cut))
        read_until = cut + 1
    return Candidates(pings, read_until, complete)


@dataclass(frozen=True)
class RowKeys:
    """The (person, time) of each candidate once, as the rows' statement takes them: the distinct persons'
    ids, and per key its person's place among them and its microseconds (PostgreSQL array literals: a
    thousand values are dumped by psycopg one by one in Python, slower than finding their rows)."""

    persons: Int64s
    person_ids: str
    places: str
    micros: str
    count: int


def row_keys(candidates: Pings, ids: Sequence[Any]) -> RowKeys:
    keys = np.unique(np.stack([candidates.person.astype(np.int64), candidates.time], axis=1), axis=0)
    persons, places = np.unique(keys[:, 0], return_inverse=True)
    return RowKeys(
        persons,
        _array_literal(str(ids[person]) for person in persons.tolist()),
        _array_literal(map(str, places.tolist())),
        _array_literal(map(str, keys[:, 1].tolist())),
        len(keys),
    )


def _array_literal(values: Iterable[str]) -> str:
    return "{" + ",".join(values) + "}"


def matching(candidates: Pings, person: Int64s, micros: Int64s, xyz: Floats) -> npt.NDArray[np.bool_]:
    """Which rows (each a ``person`` number, ``micros`` and position) are candidates: the same person, time
    and position as the index stores it (``as_stored``). The database may hold other pings of the same
    person at the same time elsewhere: those are not near."""
    wanted = set(zip(candidates.person.tolist(), candidates.time.tolist(), *candidates.xyz.T.tolist(), strict=True))
    keys = zip(person.tolist(), micros.tolist(), *as_stored(xyz).T.tolist(), strict=True)
    return np.fromiter((key in wanted for key in keys), np.bool_, len(person))


def ewkb_points(blobs: Sequence[bytes], dimensions: int) -> Floats:
    """Points as PostGIS sends them in binary (extended WKB: byte order, type, SRID, then the coordinates),
    little-endian with an SRID, as an n x ``dimensions`` array. Raises ValueError on any other shape."""
    size = _EWKB_HEADER + 8 * dimensions
    if any(len(blob) != size for blob in blobs):
        raise ValueError(f"a point is not {size} bytes of extended WKB")
    raw = np.frombuffer(b"".join(blobs), np.uint8).reshape(len(blobs), size)
    if len(blobs) and ((raw[:, 0] != 1).any() or (raw[:, 1:5] != raw[0, 1:5]).any()):
        raise ValueError("the points are not all little-endian extended WKB of one type")
    points: Floats = raw[:, _EWKB_HEADER:].copy().view("<f8").reshape(len(blobs), dimensions)
    return points


# Byte order (1), geometry type with flags (4), SRID (4).
_EWKB_HEADER = 9
