"""The real adapter: PostgreSQL + PostGIS through the read-only role."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import RowMapping, Select, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connection_api.proximity import Proximity
from connection_api.queries import (
    connections_page_statement,
    contacts_statement,
    next_candidate_statement,
    slice_params,
)
from connection_api.schemas import Connection, ConnectionPage, Contact, ContactPage, PersonPublic
from udaconnect_common.tables import person_table
from udaconnect_common.timerange import TimeRange

# A page of connections reads the period in slices of the others' time, from the cursor on: first this
# long, then as long as the last slice's pace says the page still needs (at most double). A busy floor
# fills a page within minutes; an empty stretch (a night) is jumped over in one statement.
FIRST_SLICE = timedelta(minutes=2)

_CONNECTIONS = TypeAdapter(list[Connection])


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
        # Validated in one call for the whole page (pydantic's core, in Rust): faster than building each
        # model in Python, even without validation (model_construct).
        connections = _CONNECTIONS.validate_python(
            [
                {
                    "person": {
                        "id": row["person_id"],
                        "first_name": row["first_name"],
                        "last_name": row["last_name"],
                        "company_name": row["company_name"],
                    },
                    "location": {
                        "id": row["id"],
                        "person_id": row["person_id"],
                        "latitude": row["latitude"],
                        "longitude": row["longitude"],
                        "creation_time": row["creation_time"],
                    },
                }
                for row in rows[:limit]
            ]
        )
        return ConnectionPage(connections=connections, has_more=len(rows) > limit)

    async def _connections_by_slice(
        self, query: Proximity, wanted: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[RowMapping]:
        """Up to ``wanted`` rows, read stretch after stretch of the others' time, so a page costs what its rows
        cost rather than what the whole answer costs (a day without a window can be 200,000 rows)."""
        rows: list[RowMapping] = []
        first = query.period.start if after is None else max(query.period.start, after[0])
        span = FIRST_SLICE
        windowed = query.window is not None
        read = connections_page_statement(query.cube_size, windowed=windowed, with_cursor=after is not None)
        jump = next_candidate_statement(query.cube_size, windowed=windowed)
        async with self._engine.connect() as connection:
            # First to the earliest other ping that may be near: over the night before, in one statement.
            start = await self._next_candidate(connection, jump, query, first)
            while start is not None and len(rows) < wanted:
                others = TimeRange(start, min(start + span, query.period.end))
                found = (
                    (await connection.execute(read, slice_params(query, others, wanted - len(rows), after)))
                    .mappings()
                    .all()
                )
                rows.extend(found)
                span = _next_span(span, len(found), wanted - len(rows))
                start = others.end if others.end < query.period.end else None
                if start is not None and not found:
                    # Nothing near in that stretch: on to the next other ping that may be.
                    start = await self._next_candidate(connection, jump, query, start)
        return rows

    @staticmethod
    async def _next_candidate(
        connection: AsyncConnection, jump: Select[Any], query: Proximity, start: datetime
    ) -> datetime | None:
        """The time of the earliest other ping from ``start`` on that may be near; None if there is none."""
        found: datetime | None = (
            await connection.execute(jump, slice_params(query, TimeRange(start, query.period.end)))
        ).scalar()
        return None if found is None else max(start, found)

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
