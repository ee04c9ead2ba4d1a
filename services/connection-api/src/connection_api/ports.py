"""What the connection API needs from the database. The real adapter is in ``adapters``; fakes in unit tests."""

import uuid
from datetime import datetime
from typing import Protocol

from connection_api.proximity import Proximity
from connection_api.schemas import ConnectionPage, ContactPage


class ConnectionReader(Protocol):
    async def person_exists(self, person_id: uuid.UUID) -> bool: ...

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage: ...

    async def contacts(self, query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> ContactPage: ...

    async def check(self) -> None: ...
