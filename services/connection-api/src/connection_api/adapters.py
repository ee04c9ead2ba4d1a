"""The real adapter: PostgreSQL + PostGIS through the read-only role."""

import uuid
from datetime import datetime

from sqlalchemy import RowMapping, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connection_api.queries import Proximity, connections_statement, contacts_statement
from connection_api.schemas import Connection, ConnectionPage, Contact, ContactPage, LocationPublic, PersonPublic
from udaconnect_common.tables import person_table


def _person(row: RowMapping) -> PersonPublic:
    return PersonPublic(
        id=row["person_id"], first_name=row["first_name"], last_name=row["last_name"], company_name=row["company_name"]
    )


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
        statement = connections_statement(query, limit + 1, after)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).mappings().all()
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
