"""Contacts and pages of connections from the in-memory index (``contacts_index``, ``connection_pages``);
the rest, and everything while the index cannot be used, from SQL (``adapters``)."""

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
import psycopg
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connection_api.adapters import SqlConnectionReader
from connection_api.connection_pages import Candidates, RowKeys, ewkb_points, matching, page_candidates, row_keys
from connection_api.contacts_feed import ContactsIndex
from connection_api.contacts_index import ContactsSnapshot, Pings, TooManyCubes, Totals, from_micros, to_micros
from connection_api.ports import TooCostly
from connection_api.proximity import Proximity
from connection_api.schemas import ConnectionPage, ConnectionRow, Contact, ContactPage, PersonPublic
from udaconnect_common.tables import person_table

ANSWERS = Counter("contacts_answers_total", "Contacts requests answered, by what answered them", ["by"])
CONNECTION_ANSWERS = Counter(
    "connection_pages_total", "Connection pages answered, by what answered them (index or sql)", ["by"]
)
# The candidates' rows by (person, time), in the page's order, from each partition's (person_id,
# creation_time) index; the range bounds prune the partitions. Times travel as microseconds from
# PostgreSQL's epoch; positions as the points themselves (decoded by numpy: five PostGIS calls a row cost
# more than the lookup).
_ROWS_SQL = """SELECT location.id, location.person_id, location.creation_time, location.coordinate,
       location.space_time, person.first_name, person.last_name, person.company_name,
       wanted.place, wanted.micros
FROM unnest(%(places)s::int4[], %(micros)s::int8[]) AS wanted(place, micros)
JOIN location ON location.person_id = (%(person_ids)s::uuid[])[wanted.place + 1]
 AND location.creation_time = TIMESTAMPTZ '2000-01-01 00:00:00+00' + wanted.micros * INTERVAL '1 microsecond'
-- A lookup by key per row (OFFSET 0 keeps it one): the planner expects one row per key and, joined,
-- would scan the person table for each.
JOIN LATERAL (
  SELECT first_name, last_name, company_name FROM person WHERE person.id = location.person_id OFFSET 0
) AS person ON true
WHERE location.creation_time >= %(first)s AND location.creation_time <= %(last)s
ORDER BY location.creation_time, location.id"""
# More distinct (person, time) pairs than this for one page (a crowd of pings at one instant where the page
# is cut): the page is read by SQL, which breaks the tie by id itself.
MAX_PAGE_KEYS = 20_000
_MICROSECOND = timedelta(microseconds=1)
_TOO_COSTLY_PAGE = (
    "Not even the first minutes of this search fit in the work a request may do (about a second): give a "
    "window, a smaller distance or a shorter range."
)
_TOO_COSTLY = (
    "Counting these contacts needs more work than a request may do (about a second): ask for a shorter "
    "range (such as one day), a window, or a smaller distance."
)


class IndexedConnectionReader:
    """The :class:`~connection_api.ports.ConnectionReader` of the service: connections and contacts from
    memory, SQL while the index cannot be used."""

    def __init__(self, sql: SqlConnectionReader, engine: AsyncEngine, index: ContactsIndex) -> None:
        self._sql = sql
        self._engine = engine
        self._index = index

    async def person_exists(self, person_id: uuid.UUID) -> bool:
        return await self._sql.person_exists(person_id)

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        snapshot = await self._index.current()
        if snapshot is None:
            CONNECTION_ANSWERS.labels("sql").inc()
            return await self._sql.connections(query, limit, after)
        person = snapshot.persons.get(query.person_id)
        if person is None:
            CONNECTION_ANSWERS.labels("index").inc()
            return ConnectionPage(connections=[], has_more=False)
        start = to_micros(query.period.start)
        after_time = None if after is None else to_micros(after[0])
        first = start if after_time is None else max(start, after_time)
        candidates = await asyncio.to_thread(self._candidates, snapshot, person, query, first, after_time, limit + 1)
        keys = row_keys(candidates.pings, snapshot.ids)
        if keys.count > MAX_PAGE_KEYS:
            CONNECTION_ANSWERS.labels("sql").inc()
            return await self._sql.connections(query, limit, after)
        CONNECTION_ANSWERS.labels("index").inc()
        if not candidates.complete and not len(candidates.pings) and candidates.read_until == first:
            raise TooCostly(_TOO_COSTLY_PAGE)
        rows = await self._rows(candidates.pings, keys)
        if after is not None:
            rows = [row for row in rows if (row["location"]["creation_time"], row["location"]["id"]) > after]
        has_more = len(rows) > limit
        resume_at = None
        if not has_more and candidates.read_until is not None:
            # Cut short (its work ran out, or the rows of a deleted person were gone): the next page reads on.
            resume_at = from_micros(candidates.read_until)
        return ConnectionPage(connections=rows[:limit], has_more=has_more, resume_at=resume_at)

    @staticmethod
    def _candidates(
        snapshot: ContactsSnapshot, person: int, query: Proximity, first: int, after_time: int | None, wanted: int
    ) -> Candidates:
        window_us = None if query.window is None else query.window // _MICROSECOND
        start, end = to_micros(query.period.start), to_micros(query.period.end)
        search = snapshot.search(person, start, end, query.distance_m, window_us)
        try:
            return page_candidates(search, first, after_time, wanted)
        except TooManyCubes:
            raise TooCostly(_TOO_COSTLY_PAGE) from None

    async def _rows(self, pings: Pings, keys: RowKeys) -> list[ConnectionRow]:
        """The candidates' rows as connections, by (time, id)."""
        if not keys.count:
            return []
        bound = {
            "person_ids": keys.person_ids,
            "places": keys.places,
            "micros": keys.micros,
            "first": from_micros(int(pings.time.min())),
            "last": from_micros(int(pings.time.max())),
        }
        async with self._engine.connect() as connection:
            # One statement: no transaction to begin and end (two round trips).
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            # Straight through psycopg, in binary: a thousand rows through SQLAlchemy's rows cost more than
            # finding them.
            raw = await connection.get_raw_connection()
            driver = cast(psycopg.AsyncConnection[Any], raw.driver_connection)
            async with driver.cursor(binary=True) as cursor:
                await cursor.execute(_ROWS_SQL, bound)
                rows = await cursor.fetchall()
        if not rows:
            return []
        person = keys.persons[np.array([row[8] for row in rows], np.int64)]
        micros = np.array([row[9] for row in rows], np.int64)
        xyz = ewkb_points([row[4] for row in rows], 4)[:, :3]
        kept = matching(pings, person, micros, xyz).tolist()
        longitude, latitude = ewkb_points([row[3] for row in rows], 2).T.tolist()
        found: list[ConnectionRow] = [
            {
                "person": {"id": person_id, "first_name": first, "last_name": last, "company_name": company},
                "location": {
                    "id": location_id,
                    "person_id": person_id,
                    "latitude": latitude[at],
                    "longitude": longitude[at],
                    "creation_time": creation_time,
                },
            }
            for at, (location_id, person_id, creation_time, _, _, first, last, company, _, _) in enumerate(rows)
            if kept[at]
        ]
        return found

    async def check(self) -> None:
        await self._sql.check()

    async def check_index(self) -> None:
        """Ready once the index is loaded: until then every whole-event question would be a 422."""
        if not self._index.ready:
            raise RuntimeError("the contacts index is still loading")

    async def contacts(self, query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> ContactPage:
        snapshot = await self._index.current()
        if snapshot is None:
            ANSWERS.labels("sql").inc()
            return await self._sql.contacts(query, limit, after)
        ANSWERS.labels("index").inc()
        person = snapshot.persons.get(query.person_id)
        if person is None:
            # Known to the database (the route checked) but without a ping yet.
            return ContactPage(contacts=[], has_more=False)
        window_us = None if query.window is None else query.window // _MICROSECOND
        start, end = to_micros(query.period.start), to_micros(query.period.end)
        totals = await asyncio.to_thread(snapshot.totals, person, start, end, query.distance_m, window_us)
        if totals is None:
            raise TooCostly(_TOO_COSTLY)
        return await self._page(snapshot, person, totals, limit, after)

    async def _page(
        self, snapshot: ContactsSnapshot, person: int, totals: Totals, limit: int, after: tuple[int, uuid.UUID] | None
    ) -> ContactPage:
        """One page of the persons met, most encounters first, then by id (after the cursor); the names
        from the database, so a person deleted since the index last loaded is not shown."""
        totals.encounters[person] = 0
        ids = snapshot.ids

        def place(number: int) -> tuple[int, uuid.UUID]:
            return -int(totals.encounters[number]), ids[number]

        order = sorted(np.flatnonzero(totals.encounters).tolist(), key=place)
        if after is not None:
            order = [number for number in order if place(number) > (-after[0], after[1])]
        # Names for a page and one more at a time: more only when some were deleted.
        shown: list[tuple[int, PersonPublic]] = []
        while order and len(shown) <= limit:
            batch, order = order[: limit + 1 - len(shown)], order[limit + 1 - len(shown) :]
            names = await self._names([ids[number] for number in batch])
            shown.extend((number, names[ids[number]]) for number in batch if ids[number] in names)
        contacts = [
            Contact(
                person=name,
                encounters=int(totals.encounters[number]),
                first_seen=from_micros(int(totals.first_seen[number])),
                last_seen=from_micros(int(totals.last_seen[number])),
                closest_distance_m=float(np.sqrt(totals.closest_squared[number])),
            )
            for number, name in shown[:limit]
        ]
        return ContactPage(contacts=contacts, has_more=len(shown) > limit)

    async def _names(self, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, PersonPublic]:
        columns = (person_table.c.id, person_table.c.first_name, person_table.c.last_name, person_table.c.company_name)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(*columns).where(person_table.c.id.in_(person_ids)))).all()
        return {
            row.id: PersonPublic(
                id=row.id, first_name=row.first_name, last_name=row.last_name, company_name=row.company_name
            )
            for row in rows
        }
