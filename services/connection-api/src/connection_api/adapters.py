"""The real adapter: PostgreSQL + PostGIS through the read-only role."""

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from psycopg.errors import QueryCanceled
from sqlalchemy import Result, RowMapping, Select, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connection_api.ports import TooCostly
from connection_api.proximity import Proximity
from connection_api.queries import (
    connections_page_statement,
    contacts_statement,
    next_candidate_statement,
    slice_params,
)
from connection_api.schemas import ConnectionPage, ConnectionRow, Contact, ContactPage, PersonPublic
from connection_api.settings import DEFAULT_QUERY_BUDGET_MS
from udaconnect_common.tables import person_table
from udaconnect_common.timerange import TimeRange

# A page of connections reads the period in slices of the others' time, from the cursor on: first this
# long, then as long as the last slice's pace says the page still needs (at most GROWTH times longer). A
# busy floor fills a page within minutes; an empty stretch (a night) is jumped over in one statement.
FIRST_SLICE = timedelta(minutes=2)
# Each statement costs a few milliseconds before it reads a row: a morning that fills slowly is better
# read in a few quickly growing slices (2, 8, 32 minutes) than in many doubling ones. A slice that
# overshoots costs only the extra rows it reads, cut by the page's LIMIT.
GROWTH = 4
# The database time one request may use unless told otherwise (``QUERY_BUDGET_MS``).
DEFAULT_BUDGET = timedelta(milliseconds=DEFAULT_QUERY_BUDGET_MS)
# A statement given less than this is not started: it could not finish.
MIN_STATEMENT_MS = 20


def _person(row: RowMapping) -> PersonPublic:
    return PersonPublic(
        id=row["person_id"], first_name=row["first_name"], last_name=row["last_name"], company_name=row["company_name"]
    )


def _next_span(span: timedelta, found: int, missing: int) -> timedelta:
    """How long the next slice is: :data:`GROWTH` times longer, or if the last slice found rows, what its
    pace says the rest of the page needs (a quarter more, so one more slice usually does), whichever is
    shorter."""
    if found == 0:
        return span * GROWTH
    return max(FIRST_SLICE, min(span * GROWTH, span * (1.25 * missing / found)))


_SET_TIMEOUT = text("SELECT set_config('statement_timeout', :ms, true)")
_SET_TIMEOUT_AND_HASHING = text(
    "SELECT set_config('statement_timeout', :ms, true), set_config('enable_sort', 'off', true)"
)


class _OutOfBudget(Exception):
    pass


class _Budget:
    """What is left of a request's database time; each statement is cancelled by PostgreSQL when it runs out."""

    def __init__(self, total: timedelta, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._deadline = clock() + total.total_seconds()

    async def execute(
        self,
        connection: AsyncConnection,
        statement: Any,
        params: dict[str, Any] | None = None,
        *,
        hash_grouping: bool = False,
    ) -> Result[Any]:
        """``statement`` with the rest of the budget as its timeout; :class:`_OutOfBudget` if it runs out.

        ``hash_grouping``: plan it with sorting discouraged (``enable_sort = off``), so that groups are
        hashed rather than sorted; the statement's own ORDER BY still sorts."""
        left_ms = int((self._deadline - self._clock()) * 1000)
        if left_ms < MIN_STATEMENT_MS:
            raise _OutOfBudget
        # Local to the transaction the statement runs in; the session's own settings stay for the rest.
        await connection.execute(_SET_TIMEOUT_AND_HASHING if hash_grouping else _SET_TIMEOUT, {"ms": str(left_ms)})
        try:
            result: Result[Any] = await connection.execute(statement, params)
        except DBAPIError as exc:
            if not isinstance(exc.orig, QueryCanceled):
                raise
            # The cancelled statement aborted its transaction; the next statement starts a new one.
            await connection.rollback()
            raise _OutOfBudget from exc
        return result


class SqlConnectionReader:
    def __init__(
        self, engine: AsyncEngine, budget: timedelta = DEFAULT_BUDGET, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._engine = engine
        self._budget = budget
        self._clock = clock

    async def person_exists(self, person_id: uuid.UUID) -> bool:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(person_table.c.id).where(person_table.c.id == person_id))).first()
        return row is not None

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        # One row past the page tells whether another page follows.
        rows, resume_at = await self._connections_by_slice(query, limit + 1, after)
        connections: list[ConnectionRow] = [
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
        return ConnectionPage(connections=connections, has_more=len(rows) > limit, resume_at=resume_at)

    async def _connections_by_slice(
        self, query: Proximity, wanted: int, after: tuple[datetime, uuid.UUID] | None
    ) -> tuple[list[RowMapping], datetime | None]:
        """Up to ``wanted`` rows, read stretch after stretch of the others' time, so a page costs what its rows
        cost rather than what the whole answer costs (a day without a window can be 200,000 rows).

        When the budget runs out first, the rows so far and the time up to which everything was read: the
        page ends there, shorter, and the next one starts there. A page's cost is bounded by the budget
        whatever the range (a year of a legacy client's request) and wherever the pings are.
        """
        rows: list[RowMapping] = []
        first = query.period.start if after is None else max(query.period.start, after[0])
        span = FIRST_SLICE
        windowed = query.window is not None
        read = connections_page_statement(query.cube_size, windowed=windowed, with_cursor=after is not None)
        jump = next_candidate_statement(query.cube_size, windowed=windowed)
        budget = _Budget(self._budget, self._clock)
        # Every near ping before this time is in ``rows`` (or on an earlier page).
        read_up_to = first
        async with self._engine.connect() as connection:
            try:
                # First to the earliest other ping that may be near: over the night before, in one statement.
                start = await self._next_candidate(connection, budget, jump, query, first)
                while start is not None and len(rows) < wanted:
                    read_up_to = start
                    others = TimeRange(start, min(start + span, query.period.end))
                    params = slice_params(query, others, wanted - len(rows), after)
                    found = (await budget.execute(connection, read, params)).mappings().all()
                    rows.extend(found)
                    read_up_to = others.end
                    span = _next_span(span, len(found), wanted - len(rows))
                    start = others.end if others.end < query.period.end else None
                    if start is not None and not found:
                        # Nothing near in that stretch: on to the next other ping that may be.
                        start = await self._next_candidate(connection, budget, jump, query, start)
            except _OutOfBudget:
                if read_up_to == first:
                    raise TooCostly(
                        f"Not even the first {span.total_seconds() / 60:g} minutes of this search fit in the "
                        f"{self._budget.total_seconds() * 1000:.0f} ms of database time a request may use: "
                        "give a window, a smaller distance or a shorter range."
                    ) from None
                return rows, read_up_to
        return rows, None

    @staticmethod
    async def _next_candidate(
        connection: AsyncConnection, budget: _Budget, jump: Select[Any], query: Proximity, start: datetime
    ) -> datetime | None:
        """The time of the earliest other ping from ``start`` on that may be near; None if there is none."""
        found: datetime | None = (
            await budget.execute(connection, jump, slice_params(query, TimeRange(start, query.period.end)))
        ).scalar()
        return None if found is None else max(start, found)

    async def contacts(self, query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> ContactPage:
        statement = contacts_statement(query, limit + 1, after)
        async with self._engine.connect() as connection:
            try:
                # The closest-distance pass groups ~300,000 near pairs by person: sorted (the planner's
                # choice, to merge with the counts) they spilled to disk; hashed, the whole statement took
                # 7-23% less (5 m and 50 m, with and without a window, on the bench conference).
                budget = _Budget(self._budget, self._clock)
                rows = (await budget.execute(connection, statement, hash_grouping=True)).mappings().all()
            except _OutOfBudget:
                raise TooCostly(
                    f"Counting these contacts needs more than the {self._budget.total_seconds() * 1000:.0f} ms "
                    "of database time a request may use: ask for a shorter range (such as one day), a window, "
                    "or a smaller distance."
                ) from None
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
