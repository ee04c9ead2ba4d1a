"""The proximity queries: set-based SQL statements driven by the person's own pings.

The person's pings come from the btree on (person_id, creation_time); the other pings near them from the
4-D GiST on ``space_time`` (Earth-centred metres and time, migration 0002), searched with boxes: D metres
around the person's pings in space, and in time their window cut to the range (or to the slice of the
range being read). The exact check is a straight-line distance in metres, equal to the spheroid's
geodesic to under a micrometre at these distances, and the exact times. Two ways to search, the same
answer (the tests check both against a geodesic brute force, and the plan with EXPLAIN):

* by ping: one index search per own ping. Fewest candidates: best for a whole range at once.
* by cell: the own pings grouped in grid cells of space (and of time, with a window), one index search per
  cell. Each search costs ~0.1 ms however little it finds, and a person keeping still for a talk makes
  dozens of searches find the same neighbours: best for the short slices a page is read in.

The legacy service ran one full-table scan per own ping, with latitude and longitude swapped.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from udaconnect_common.tables import SPACE_TIME_EPOCH, location_table, person_table
from udaconnect_common.timerange import TimeRange


@dataclass(frozen=True, slots=True)
class Proximity:
    person_id: uuid.UUID
    period: TimeRange
    distance_m: float
    # Co-presence: the other ping must also be within this time of the person's ping.
    window: timedelta | None

    @property
    def effective_window(self) -> timedelta:
        # Without a window every pair in the range qualifies, and no two pings in the range are further
        # apart than its length: so "no window" is the range's length. One statement shape serves both,
        # and the time condition always reaches the index.
        return self.window if self.window is not None else self.period.length


def _seconds(at: datetime) -> float:
    """A time as ``space_time``'s M coordinate."""
    return (at - SPACE_TIME_EPOCH).total_seconds()


def _cell_size_m(distance_m: float) -> float:
    """Edge of the grid cells the person's pings are grouped in: the search distance (at least a metre).
    Larger cells mean fewer index searches but more candidates to check; about the distance balances them."""
    return max(distance_m, 1.0)


_CELL_KEYS = ("cell_x", "cell_y", "cell_z", "cell_t")

# What changes from one slice to the next is bound, not built in: a page's statements are built once and
# run for each slice with :func:`slice_params` (building and compiling them cost more than running them).
_SLICE_START = bindparam("slice_start", type_=DateTime(timezone=True))
_SLICE_END = bindparam("slice_end", type_=DateTime(timezone=True))
_OWN_FROM = bindparam("own_from", type_=DateTime(timezone=True))
_OWN_TO = bindparam("own_to", type_=DateTime(timezone=True))
_M_FROM = bindparam("m_from", type_=Float)
_M_TO = bindparam("m_to", type_=Float)
_PAGE_LIMIT = bindparam("page_limit", type_=Integer)


def slice_params(query: Proximity, others: TimeRange, limit: int | None = None) -> dict[str, Any]:
    """The values that bind a statement to ``others``, a part of the period (and a page size)."""
    window = query.effective_window
    values: dict[str, Any] = {
        "slice_start": others.start,
        "slice_end": others.end,
        # The own pings that can pair with an other ping in ``others``: in the period, within the window of it.
        "own_from": max(query.period.start, others.start - window),
        "own_to": min(query.period.end, others.end + window),
        "m_from": _seconds(others.start),
        "m_to": _seconds(others.end),
    }
    if limit is not None:
        values["page_limit"] = limit
    return values


def _mine(query: Proximity) -> CTE:
    """The person's pings that can pair with an other ping in the slice, with their coordinates and the
    grid cell each is in."""
    window = query.effective_window
    space_time = location_table.c.space_time
    size = _cell_size_m(query.distance_m)
    x, y, z, m = func.ST_X(space_time), func.ST_Y(space_time), func.ST_Z(space_time), func.ST_M(space_time)
    return (
        select(
            space_time,
            location_table.c.creation_time,
            x.label("x"),
            y.label("y"),
            z.label("z"),
            m.label("m"),
            func.floor(x / size).label("cell_x"),
            func.floor(y / size).label("cell_y"),
            func.floor(z / size).label("cell_z"),
            # With a window, cells are a window long in time too, so a cell's box spans three windows at most.
            (func.floor(m / window.total_seconds()) if query.window is not None else literal(0.0)).label("cell_t"),
        )
        .where(
            location_table.c.person_id == query.person_id,
            location_table.c.creation_time >= _OWN_FROM,
            location_table.c.creation_time < _OWN_TO,
        )
        .cte("mine")
        # Computed once, then drives the index searches.
        .prefix_with("MATERIALIZED")
    )


def _box(query: Proximity, low: Sequence[Any], high: Sequence[Any]) -> ColumnElement[Any]:
    """The 4-D search box for own pings spanning ``low`` to ``high`` (x, y, z, m): D metres wider each way
    in space and the window longer each way in time, cut to the slice. A two-point line is the simplest
    geometry whose bounding box is that box."""
    d, w = literal(query.distance_m), query.effective_window.total_seconds()
    (x0, y0, z0, m0), (x1, y1, z1, m1) = low, high
    return func.ST_MakeLine(
        func.ST_MakePoint(x0 - d, y0 - d, z0 - d, func.greatest(m0 - w, _M_FROM)),
        func.ST_MakePoint(x1 + d, y1 + d, z1 + d, func.least(m1 + w, _M_TO)),
    )


def _extent_box(query: Proximity, mine: CTE) -> ColumnElement[Any]:
    """The search box of a group of own pings (an aggregate over ``mine``): their extent, widened."""
    columns = [mine.c.x, mine.c.y, mine.c.z, mine.c.m]
    return _box(query, [func.min(c) for c in columns], [func.max(c) for c in columns])


def _cells(query: Proximity, mine: CTE) -> CTE:
    """The grid cells holding the person's pings, each with the box that holds every other ping that can
    be near one of the cell's pings."""
    keys = [mine.c[key] for key in _CELL_KEYS]
    return select(*keys, _extent_box(query, mine).label("box")).group_by(*keys).cte("cells").prefix_with("MATERIALIZED")


def _exactly_near(query: Proximity, mine: CTE, other: Any) -> list[ColumnElement[bool]]:
    """The exact conditions on a pair of an own ping and an other ping. Not ST_3DDWithin: its own index
    support expands in X, Y and Z but not in M, and so would demand the very same time."""
    window = query.effective_window
    return [
        func.ST_3DDistance(other.c.space_time, mine.c.space_time) <= query.distance_m,
        other.c.creation_time >= _SLICE_START,
        other.c.creation_time < _SLICE_END,
        other.c.creation_time.between(mine.c.creation_time - window, mine.c.creation_time + window),
        other.c.person_id != query.person_id,
    ]


def _near_pings(query: Proximity, *, with_position: bool, by_cell: bool) -> CTE:
    """Each other ping in the slice near one of the person's pings, once, with the closest distance
    between them.

    ``with_position`` adds the ping's coordinates, read with the row already in hand: fetching them again
    by id afterwards made the planner hash the whole table on dense data.
    """
    mine = _mine(query)
    other = location_table.alias("other")
    # Longitude is X, latitude is Y.
    position = [
        func.ST_Y(func.geometry(other.c.coordinate)).label("latitude"),
        func.ST_X(func.geometry(other.c.coordinate)).label("longitude"),
    ]
    if not by_cell:
        point = [mine.c.x, mine.c.y, mine.c.z, mine.c.m]
        search = other.c.space_time.op("&&&")(_box(query, point, point))
        # Grouped by the primary key, so the row's other columns may be read.
        return (
            select(
                other.c.id,
                other.c.person_id,
                other.c.creation_time,
                *(position if with_position else []),
                func.min(func.ST_3DDistance(other.c.space_time, mine.c.space_time)).label("distance_m"),
            )
            .select_from(mine.join(other, and_(search, *_exactly_near(query, mine, other))))
            .group_by(other.c.id)
            .cte("near")
        )
    cells = _cells(query, mine)
    # Every other ping in a cell's box, read once per cell. Materialized, so that the planner keeps one
    # index search per cell. Nothing else on ``other`` here: a time filter invited a scan by time.
    candidate = (
        select(*(cells.c[key] for key in _CELL_KEYS), other.c.id, other.c.person_id, other.c.creation_time)
        .add_columns(other.c.space_time, *(position if with_position else []))
        .select_from(cells.join(other, other.c.space_time.op("&&&")(cells.c.box)))
        .cte("candidate")
        .prefix_with("MATERIALIZED")
    )
    same_cell = and_(*(mine.c[key] == candidate.c[key] for key in _CELL_KEYS))
    columns = [candidate.c.id, candidate.c.person_id, candidate.c.creation_time]
    if with_position:
        columns += [candidate.c.latitude, candidate.c.longitude]
    return (
        select(*columns, func.min(func.ST_3DDistance(candidate.c.space_time, mine.c.space_time)).label("distance_m"))
        # Each candidate against the own pings of its cell.
        .select_from(candidate.join(mine, and_(same_cell, *_exactly_near(query, mine, candidate))))
        # A candidate can be in several cells' boxes: once.
        .group_by(*columns)
        .cte("near")
    )


def any_near_statement(query: Proximity) -> Select[Any]:
    """One row if some other ping may be near the person in the slice (:func:`slice_params`), else none;
    the reader uses it to skip stretches with nothing near. Two tests, the cheap one first: any ping in one
    box around all the own pings (a single index search, enough to cross a night), then any ping in a
    cell's box (one search per cell, stopping at the first ping found). It can say yes where the exact
    check then finds nothing, which costs a short read, never a wrong answer."""
    mine = _mine(query)
    cells = _cells(query, mine)
    everywhere = select(_extent_box(query, mine)).select_from(mine).scalar_subquery()
    anywhere_near = location_table.alias("anywhere_near")
    in_a_cell = location_table.alias("in_a_cell")
    return select(literal(1)).where(
        exists().where(anywhere_near.c.space_time.op("&&&")(everywhere)),
        exists().select_from(cells.join(in_a_cell, in_a_cell.c.space_time.op("&&&")(cells.c.box))),
    )


def connections_page_statement(
    query: Proximity, after: tuple[datetime, uuid.UUID] | None, *, by_cell: bool = True
) -> Select[Any]:
    """Each other ping in the slice (:func:`slice_params`) once, ordered by (time, id), after the cursor.

    The reader walks the period slice by slice until a page is full, so a page costs what its rows cost,
    not what the whole answer costs (a day without a window can be 200,000 rows on a busy floor). For the
    whole period at once, search ``by_cell=False``.
    """
    near = _near_pings(query, with_position=True, by_cell=by_cell)
    statement = (
        select(
            near.c.id,
            near.c.person_id,
            near.c.latitude,
            near.c.longitude,
            near.c.creation_time,
            person_table.c.first_name,
            person_table.c.last_name,
            person_table.c.company_name,
        )
        .select_from(near.join(person_table, person_table.c.id == near.c.person_id))
        .order_by(near.c.creation_time, near.c.id)
        .limit(_PAGE_LIMIT)
    )
    if after is not None:
        statement = statement.where(tuple_(near.c.creation_time, near.c.id) > tuple_(*after))
    return statement


def connections_statement(
    query: Proximity,
    others: TimeRange,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    *,
    by_cell: bool = True,
) -> Select[Any]:
    """:func:`connections_page_statement` bound to ``others`` and ``limit``."""
    return connections_page_statement(query, after, by_cell=by_cell).params(slice_params(query, others, limit))


def contacts_statement(query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> Select[Any]:
    """One row per other person, most encounters first (then person id); one page after the cursor.

    Ordered by a count over the whole period, so every page reads the whole answer.
    """
    near = _near_pings(query, with_position=False, by_cell=False)
    encounters = func.count().label("encounters")
    contact = (
        select(
            near.c.person_id,
            encounters,
            func.min(near.c.creation_time).label("first_seen"),
            func.max(near.c.creation_time).label("last_seen"),
            func.min(near.c.distance_m).label("closest_distance_m"),
        )
        .group_by(near.c.person_id)
        .subquery("contact")
    )
    statement = (
        select(contact, person_table.c.first_name, person_table.c.last_name, person_table.c.company_name)
        .select_from(contact.join(person_table, person_table.c.id == contact.c.person_id))
        .order_by(contact.c.encounters.desc(), contact.c.person_id)
        .limit(limit)
    )
    if after is not None:
        after_encounters, after_id = after
        statement = statement.where(
            or_(
                contact.c.encounters < after_encounters,
                and_(contact.c.encounters == after_encounters, contact.c.person_id > after_id),
            )
        )
    return statement.params(slice_params(query, query.period))
