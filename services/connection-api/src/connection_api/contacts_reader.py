"""Contacts from the in-memory index (``contacts_index``), everything else (and contacts while the index
cannot be used) from SQL (``adapters``)."""

import asyncio
import uuid
from datetime import datetime, timedelta

import numpy as np
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connection_api.adapters import SqlConnectionReader
from connection_api.contacts_feed import ContactsIndex
from connection_api.contacts_index import ContactsSnapshot, Totals, from_micros, to_micros
from connection_api.ports import TooCostly
from connection_api.proximity import Proximity
from connection_api.schemas import ConnectionPage, Contact, ContactPage, PersonPublic
from udaconnect_common.tables import person_table

ANSWERS = Counter("contacts_answers_total", "Contacts requests answered, by what answered them", ["by"])
_MICROSECOND = timedelta(microseconds=1)
_TOO_COSTLY = (
    "Counting these contacts needs more work than a request may do (about a second): ask for a shorter "
    "range (such as one day), a window, or a smaller distance."
)


class IndexedConnectionReader:
    """The :class:`~connection_api.ports.ConnectionReader` of the service: SQL, with contacts from memory."""

    def __init__(self, sql: SqlConnectionReader, engine: AsyncEngine, index: ContactsIndex) -> None:
        self._sql = sql
        self._engine = engine
        self._index = index

    async def person_exists(self, person_id: uuid.UUID) -> bool:
        return await self._sql.person_exists(person_id)

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        return await self._sql.connections(query, limit, after)

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
