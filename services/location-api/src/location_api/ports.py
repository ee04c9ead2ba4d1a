"""What the location API needs from the outside world. Real adapters in ``adapters``, fakes in the unit tests."""

import uuid
from datetime import datetime
from typing import Protocol

from location_api.schemas import LocationPage, LocationPublic
from udaconnect_common.timerange import TimeRange


class LocationPublisher(Protocol):
    async def publish(self, locations: list[LocationPublic]) -> None:
        """Hand the pings to the write path; returns once every one is durably accepted.

        Raises ``udaconnect_common.kafka.DeliveryFailed`` when any could not be accepted.
        """

    async def check(self) -> None: ...


class LocationReader(Protocol):
    async def get(self, location_id: uuid.UUID) -> LocationPublic | None: ...

    async def list_page(
        self, person_id: uuid.UUID, period: TimeRange, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> LocationPage:
        """The person's pings in the period, ordered by (creation_time, id), strictly after ``after``."""
        ...

    async def check(self) -> None: ...
