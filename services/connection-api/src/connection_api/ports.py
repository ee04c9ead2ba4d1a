"""What the connection API needs from the database. The real adapter is in ``adapters``; fakes in unit tests."""

import uuid
from datetime import datetime
from typing import Protocol

from connection_api.proximity import Proximity
from connection_api.schemas import ConnectionPage, ContactPage


class TooCostly(Exception):
    """The question needs more database time than a request may use (the reader's budget)."""


class ConnectionReader(Protocol):
    async def person_exists(self, person_id: uuid.UUID) -> bool: ...

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        """A page, or a shorter one with ``resume_at`` when the budget ends first; :class:`TooCostly` when
        not even the first stretch of time fits in it."""
        ...

    async def contacts(self, query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> ContactPage:
        """Raises :class:`TooCostly` when the answer needs more than the budget."""
        ...

    async def check(self) -> None: ...
