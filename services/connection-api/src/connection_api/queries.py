"""The proximity queries: set-based SQL statements driven by the person's own pings.

Plan (checked by a test with EXPLAIN): the person's pings come from the btree on (person_id,
creation_time); for each, the other pings come from the 4-D GiST on ``space_time`` (Earth-centred
metres and time, migration 0002) with one box per own ping: D metres around it in space, and in time
its window cut to the range (or to the slice of the range being read). The exact check is a straight-
line distance in metres, equal to the spheroid's geodesic to under a micrometre at these distances.
The legacy service ran one full-table scan per own ping, with latitude and longitude swapped.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CTE, ColumnElement, Join, Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.sql.selectable import NamedFromClause

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


def _search_box(mine_space_time: Any, distance_m: float, window_s: float, others: TimeRange) -> ColumnElement[Any]:
    """The 4-D box the index is searched with for one own ping: a cube of 2D metres around it, and the
    ping's time +- the window, cut to the others' time range. A two-point line is the simplest geometry
    whose bounding box is exactly that box."""
    x, y, z, m = (
        func.ST_X(mine_space_time),
        func.ST_Y(mine_space_time),
        func.ST_Z(mine_space_time),
        func.ST_M(mine_space_time),
    )
    d = literal(distance_m)
    return func.ST_MakeLine(
        func.ST_MakePoint(x - d, y - d, z - d, func.greatest(m - window_s, _seconds(others.start))),
        func.ST_MakePoint(x + d, y + d, z + d, func.least(m + window_s, _seconds(others.end))),
    )


@dataclass(frozen=True, slots=True)
class _Pairs:
    """The join of the person's pings (``mine``) with the other pings near them: one row per pair."""

    mine: CTE
    other: NamedFromClause
    near: ColumnElement[bool]
    distance: ColumnElement[float]

    def join(self) -> Join:
        return self.mine.join(self.other, self.near)


def _pairs(query: Proximity, others: TimeRange) -> _Pairs:
    """Pairs of one of the person's pings and an other ping in ``others`` (a part of the period)."""
    window = query.effective_window
    # The own pings that can pair with an other ping in ``others``: within the window of it, in the period.
    own_from = max(query.period.start, others.start - window)
    own_to = min(query.period.end, others.end + window)
    mine = (
        select(
            location_table.c.space_time,
            location_table.c.creation_time,
            _search_box(location_table.c.space_time, query.distance_m, window.total_seconds(), others).label("box"),
        )
        .where(
            location_table.c.person_id == query.person_id,
            location_table.c.creation_time >= own_from,
            location_table.c.creation_time < own_to,
        )
        .cte("mine")
        # Computed once, then drives a nested loop into the index.
        .prefix_with("MATERIALIZED")
    )
    other = location_table.alias("other")
    distance = func.ST_3DDistance(other.c.space_time, mine.c.space_time)
    near = and_(
        # The index condition. Not ST_3DDWithin: its own index support expands the point in X, Y and Z
        # but not in M, and so would demand the very same time.
        other.c.space_time.op("&&&")(mine.c.box),
        distance <= query.distance_m,
        other.c.creation_time >= others.start,
        other.c.creation_time < others.end,
        other.c.creation_time.between(mine.c.creation_time - window, mine.c.creation_time + window),
        other.c.person_id != query.person_id,
    )
    return _Pairs(mine, other, near, distance)


def _near_pings(query: Proximity, others: TimeRange, with_position: bool) -> CTE:
    """Each other ping in ``others`` near one of the person's pings, once, with the closest distance
    between them.

    ``with_position`` adds the ping's coordinates, read here from the row already in hand: fetching them
    again by id afterwards made the planner hash the whole table on dense data.
    """
    pairs = _pairs(query, others)
    other = pairs.other
    position = (
        # Longitude is X, latitude is Y. Grouped by the primary key, so the row's other columns may be read.
        [
            func.ST_Y(func.geometry(other.c.coordinate)).label("latitude"),
            func.ST_X(func.geometry(other.c.coordinate)).label("longitude"),
        ]
        if with_position
        else []
    )
    return (
        select(
            other.c.id,
            other.c.person_id,
            other.c.creation_time,
            *position,
            func.min(pairs.distance).label("distance_m"),
        )
        .select_from(pairs.join())
        .group_by(other.c.id)
        .cte("near")
    )


def any_near_statement(query: Proximity, others: TimeRange) -> Select[Any]:
    """One row if some other ping in ``others`` is near the person, else none: stops at the first pair,
    so it is cheap both ways. The reader uses it to skip stretches where nothing is near."""
    return select(literal(1)).select_from(_pairs(query, others).join()).limit(1)


def connections_statement(
    query: Proximity, others: TimeRange, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> Select[Any]:
    """Each other ping in ``others`` (a slice of the period) once, ordered by (time, id), after the cursor.

    The reader walks the period slice by slice until a page is full, so a page costs what its rows cost,
    not what the whole answer costs (a day without a window can be 100,000 rows on a busy floor).
    """
    near = _near_pings(query, others, with_position=True)
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
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(tuple_(near.c.creation_time, near.c.id) > tuple_(*after))
    return statement


def contacts_statement(query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> Select[Any]:
    """One row per other person, most encounters first (then person id); one page after the cursor.

    Ordered by a count over the whole period, so every page reads the whole answer.
    """
    near = _near_pings(query, query.period, with_position=False)
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
    return statement
