"""What the person API needs from the outside world. Real adapters in ``adapters``, fakes in the unit tests."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from person_api.export import ExportedPing
from person_api.schemas import PersonPage, PersonPublic


class PersonPublisher(Protocol):
    async def publish(self, person: PersonPublic) -> None:
        """Hand the new person to the write path; returns once it is durably accepted.

        Raises ``udaconnect_common.kafka.DeliveryFailed`` when it could not be accepted.
        """

    async def publish_deletion(self, person_id: uuid.UUID) -> datetime:
        """Hand a deletion to the write path (the same guarantees as ``publish``); returns when it was asked."""

    async def check(self) -> None:
        """Raise when the write path is unreachable."""


class PersonReader(Protocol):
    async def get(self, person_id: uuid.UUID) -> PersonPublic | None: ...

    async def list_page(
        self, limit: int, after: tuple[str, str, uuid.UUID] | None, search: str | None = None
    ) -> PersonPage:
        """Persons ordered by (last_name, first_name, id), strictly after the given sort key; with ``search``,
        only those whose first, last or company name contains it, case-insensitively."""
        ...

    def export_pings(self, person_id: uuid.UUID) -> AsyncIterator[ExportedPing]:
        """Every ping of the person, in time order, as they are read."""
        ...

    async def check(self) -> None:
        """Raise when the database does not answer."""
