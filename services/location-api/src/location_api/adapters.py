"""Real adapters: Kafka for the write path, PostgreSQL (read-only role) for reads."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from location_api.schemas import LocationPage, LocationPublic
from udaconnect.v1 import location_pb2
from udaconnect_common.kafka import AsyncKafkaProducer
from udaconnect_common.tables import location_table
from udaconnect_common.timeconv import to_timestamp
from udaconnect_common.timerange import TimeRange


class KafkaLocationPublisher:
    def __init__(self, producer: AsyncKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, locations: list[LocationPublic]) -> None:
        received_at = to_timestamp(datetime.now(UTC))
        messages = [
            (
                # Keyed by person: one person's pings share a partition and so stay in order.
                str(location.person_id).encode(),
                location_pb2.Location(
                    id=str(location.id),
                    person_id=str(location.person_id),
                    latitude=location.latitude,
                    longitude=location.longitude,
                    creation_time=to_timestamp(location.creation_time),
                    received_at=received_at,
                ).SerializeToString(),
            )
            for location in locations
        ]
        # All produced at once (librdkafka batches them); returns when the broker has acknowledged every one.
        await self._producer.send_all(self._topic, messages)

    async def check(self) -> None:
        await self._producer.check()


# ST_X is the longitude, ST_Y the latitude.
_PUBLIC_COLUMNS = (
    location_table.c.id,
    location_table.c.person_id,
    func.ST_Y(func.geometry(location_table.c.coordinate)).label("latitude"),
    func.ST_X(func.geometry(location_table.c.coordinate)).label("longitude"),
    location_table.c.creation_time,
)


class SqlLocationReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, location_id: uuid.UUID) -> LocationPublic | None:
        async with self._engine.connect() as connection:
            query = select(*_PUBLIC_COLUMNS).where(location_table.c.id == location_id)
            row = (await connection.execute(query)).first()
        return None if row is None else LocationPublic.model_validate(row._mapping)

    async def list_page(
        self, person_id: uuid.UUID, period: TimeRange, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> LocationPage:
        order = (location_table.c.creation_time, location_table.c.id)
        query = (
            select(*_PUBLIC_COLUMNS)
            .where(
                location_table.c.person_id == person_id,
                location_table.c.creation_time >= period.start,
                location_table.c.creation_time < period.end,
            )
            .order_by(*order)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*after))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        locations = [LocationPublic.model_validate(row._mapping) for row in rows[:limit]]
        return LocationPage(locations=locations, has_more=len(rows) > limit)

    async def check(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
