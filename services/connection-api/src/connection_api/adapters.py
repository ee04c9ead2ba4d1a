"""The real adapter: PostgreSQL + PostGIS through the read-only role."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connection_api.queries import (
    Proximity,
    any_near_statement,
    connections_page_statement,
    contacts_statement,
    slice_params,
)
from connection_api.schemas import Connection, ConnectionPage, Contact, ContactPage, LocationPublic, PersonPublic
from udaconnect_common.tables import person_table
from udaconnect_common.timerange import TimeRange

# A page of connections reads the period in slices of the others' time, from the cursor on: first this
# long, then as long as the last slice's pace says the page still needs (at most double). A busy floor
# fills a page within minutes; an empty stretch (a night) is crossed in a few statements, log2 of its
# length over this.
FIRST_SLICE = timedelta(minutes=2)


def _person(row: RowMapping) -> PersonPublic:
    return PersonPublic(
        id=row["person_id"], first_name=row["first_name"], last_name=row["last_name"], company_name=row["company_name"]
    )


def _next_span(span: timedelta, found: int, missing: int) -> timedelta:
    """How long the next slice is: double, or if the last slice found rows, what its pace says the rest
    of the page needs (a quarter more, so one more slice usually does), whichever is shorter."""
    if found == 0:
        return span * 2
    return max(FIRST_SLICE, min(span * 2, span * (1.25 * missing / found)))


class SqlConnectionReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def person_exists(self, person_id: uuid.UUID) -> bool:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(person_table.c.id).where(person_table.c.id == person_id))).first()
        return row is not None

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        # One row past the page tells whether another page follows.
        rows = await self._connections_by_slice(query, limit + 1, after)
        connections = [
            Connection(
                person=_person(row),
                location=LocationPublic(
                    id=row["id"],
                    person_id=row["person_id"],
                    latitude=row["latitude"],
                    longitude=row["longitude"],
                    creation_time=row["creation_time"],
                ),
            )
            for row in rows[:limit]
        ]
        return ConnectionPage(connections=connections, has_more=len(rows) > limit)

    async def _connections_by_slice(
        self, query: Proximity, wanted: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[RowMapping]:
        """Up to ``wanted`` rows, read slice after slice of the others' time, so a page costs what its rows
        cost rather than what the whole answer costs (a day without a window can be 200,000 rows)."""
        rows: list[RowMapping] = []
        start = query.period.start if after is None else max(query.period.start, after[0])
        span = FIRST_SLICE
        # The span was reached by doubling over slices with nothing near: it says nothing about how busy
        # the next stretch is.
        grown_over_nothing = False
        read, probe = connections_page_statement(query, after), any_near_statement(query)
        async with self._engine.connect() as connection:
            while len(rows) < wanted and start < query.period.end:
                others = TimeRange(start, min(start + span, query.period.end))
                if span > FIRST_SLICE:
                    if not (await connection.execute(probe, slice_params(query, others))).first():
                        # Nothing near in the whole slice: skip it, and look twice as far next.
                        start, span, grown_over_nothing = others.end, span * 2, True
                        continue
                    if grown_over_nothing:
                        # Something is near after an empty stretch, and so long a slice could hold a busy
                        # stretch whole: halve it until the first short slice with something near.
                        span = max(span / 2, FIRST_SLICE)
                        continue
                found = (
                    (await connection.execute(read, slice_params(query, others, wanted - len(rows)))).mappings().all()
                )
                rows.extend(found)
                start, span, grown_over_nothing = (
                    others.end,
                    _next_span(span, len(found), wanted - len(rows)),
                    not found,
                )
        return rows

    async def contacts(self, query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> ContactPage:
        statement = contacts_statement(query, limit + 1, after)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).mappings().all()
        contacts = [
            Contact(
                person=_person(row),
                encounters=row["encounters"],
                first_seen=row["first_seen"],
                last_seen=row["last_seen"],
                closest_distance_m=row["closest_distance_m"],
            )
            for row in rows[:limit]
        ]
        return ContactPage(contacts=contacts, has_more=len(rows) > limit)

    async def check(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
