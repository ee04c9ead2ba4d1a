"""The proximity queries: one set-based SQL statement each, driven by the person's own pings.

Plan (checked by a test with EXPLAIN): the person's pings come from the btree on
(person_id, creation_time); for each, the other pings come from the composite GiST index on
(coordinate, creation_time) through ``ST_DWithin`` (metres on the WGS84 spheroid) and the time range.
The legacy service ran one full-table scan per own ping, with latitude and longitude swapped.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CTE, Select, and_, func, or_, select, tuple_

from udaconnect_common.tables import location_table, person_table
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
        # and the time condition always reaches the composite index.
        return self.window if self.window is not None else self.period.length


def _near_pings(query: Proximity, with_position: bool) -> CTE:
    """Each other ping near one of the person's pings, once, with the closest distance between them.

    ``with_position`` adds the ping's coordinates, read here from the row already in hand: fetching them
    again by id afterwards made the planner hash the whole table on dense data.
    """
    mine = (
        select(location_table.c.coordinate, location_table.c.creation_time)
        .where(
            location_table.c.person_id == query.person_id,
            location_table.c.creation_time >= query.period.start,
            location_table.c.creation_time < query.period.end,
        )
        .cte("mine")
        # Computed once, then drives a nested loop into the spatial index.
        .prefix_with("MATERIALIZED")
    )
    other = location_table.alias("other")
    window = query.effective_window
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
            func.min(func.ST_Distance(other.c.coordinate, mine.c.coordinate)).label("distance_m"),
        )
        .select_from(
            mine.join(
                other,
                and_(
                    func.ST_DWithin(other.c.coordinate, mine.c.coordinate, query.distance_m),
                    other.c.creation_time >= query.period.start,
                    other.c.creation_time < query.period.end,
                    other.c.creation_time.between(mine.c.creation_time - window, mine.c.creation_time + window),
                    other.c.person_id != query.person_id,
                ),
            )
        )
        .group_by(other.c.id)
        .cte("near")
    )


def connections_statement(query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None) -> Select[Any]:
    """Each other ping once, ordered by (time, id); one page after the cursor."""
    near = _near_pings(query, with_position=True)
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
    """One row per other person, most encounters first (then person id); one page after the cursor."""
    near = _near_pings(query, with_position=False)
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
