"""Real adapters: Kafka for the write path, PostgreSQL (read-only role) for reads."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import func, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from person_api.export import ExportedPing
from person_api.schemas import PersonPage, PersonPublic
from udaconnect.v1 import person_pb2
from udaconnect_common.kafka import AsyncKafkaProducer
from udaconnect_common.tables import location_table, person_table
from udaconnect_common.timeconv import to_timestamp


class KafkaPersonPublisher:
    def __init__(self, producer: AsyncKafkaProducer, topic: str, deletions_topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self._deletions_topic = deletions_topic

    async def publish(self, person: PersonPublic) -> None:
        message = person_pb2.Person(
            id=str(person.id),
            first_name=person.first_name,
            last_name=person.last_name,
            company_name=person.company_name,
            created_at=to_timestamp(datetime.now(UTC)),
        )
        await self._producer.send(self._topic, key=str(person.id).encode(), value=message.SerializeToString())

    async def publish_deletion(self, person_id: uuid.UUID) -> datetime:
        requested_at = datetime.now(UTC)
        message = person_pb2.PersonDeletion(person_id=str(person_id), requested_at=to_timestamp(requested_at))
        await self._producer.send(self._deletions_topic, key=str(person_id).encode(), value=message.SerializeToString())
        return requested_at

    async def check(self) -> None:
        await self._producer.check()


# Rows fetched from the export's cursor at a time.
EXPORT_ROWS_PER_FETCH = 2000

_PUBLIC_COLUMNS = (
    person_table.c.id,
    person_table.c.first_name,
    person_table.c.last_name,
    person_table.c.company_name,
)


def like_escape(text: str) -> str:
    """``text`` as a LIKE pattern that matches only itself: its wildcards and the escape character escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlPersonReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, person_id: uuid.UUID) -> PersonPublic | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(*_PUBLIC_COLUMNS).where(person_table.c.id == person_id))).first()
        return None if row is None else PersonPublic.model_validate(row._mapping)

    async def list_page(
        self, limit: int, after: tuple[str, str, uuid.UUID] | None, search: str | None = None
    ) -> PersonPage:
        order = (person_table.c.last_name, person_table.c.first_name, person_table.c.id)
        query = select(*_PUBLIC_COLUMNS).order_by(*order).limit(limit + 1)
        if search is not None:
            # Walks the name-order index and filters: its cost is bounded by the person table (no
            # pattern is expensive to match), and a page of common matches stops early.
            pattern = f"%{like_escape(search)}%"
            # "Taco Fargo" finds Taco Fargo: the full name, as people type it.
            full_name = func.concat_ws(" ", person_table.c.first_name, person_table.c.last_name)
            query = query.where(
                or_(
                    full_name.ilike(pattern, escape="\\"),
                    person_table.c.company_name.ilike(pattern, escape="\\"),
                )
            )
        if after is not None:
            # Keyset paging: stable under concurrent inserts, and as cheap on page 1000 as on page 1.
            query = query.where(tuple_(*order) > tuple_(*after))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        persons = [PersonPublic.model_validate(row._mapping) for row in rows[:limit]]
        return PersonPage(persons=persons, has_more=len(rows) > limit)

    async def export_pings(self, person_id: uuid.UUID) -> AsyncIterator[ExportedPing]:
        """Every ping of the person in time order, read through a server-side cursor."""
        coordinate = func.geometry(location_table.c.coordinate)
        query = (
            select(
                location_table.c.id,
                # Longitude is X, latitude is Y.
                func.ST_Y(coordinate),
                func.ST_X(coordinate),
                location_table.c.creation_time,
                location_table.c.received_at,
            )
            .where(location_table.c.person_id == person_id)
            .order_by(location_table.c.creation_time, location_table.c.id)
            .execution_options(yield_per=EXPORT_ROWS_PER_FETCH)
        )
        async with self._engine.connect() as connection:
            async for row in await connection.stream(query):
                yield ExportedPing(str(row[0]), row[1], row[2], row[3], row[4])

    async def check(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
