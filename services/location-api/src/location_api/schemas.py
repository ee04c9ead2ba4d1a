"""The HTTP shapes of a location ping, named by role."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from udaconnect_common.schemas import LOCATION_EXAMPLE, LocationPublic

__all__ = ["LocationBatchAccepted", "LocationBatchCreate", "LocationCreate", "LocationPage", "LocationPublic"]

MAX_BATCH_SIZE = 1000
# A phone's clock may run a little ahead; far-future or ancient pings are bad data.
MAX_CLOCK_SKEW = timedelta(hours=24)
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)

Latitude = Annotated[float, Field(ge=-90, le=90, strict=True, allow_inf_nan=False, description="WGS84 degrees")]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True, allow_inf_nan=False, description="WGS84 degrees")]

_EXAMPLE = {key: value for key, value in LOCATION_EXAMPLE.items() if key != "id"}


class LocationCreate(BaseModel):
    """One ping from a phone. Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    person_id: uuid.UUID
    latitude: Latitude
    longitude: Longitude
    creation_time: AwareDatetime | None = Field(
        default=None,
        description="The phone's time of the ping, ISO 8601 with offset. When absent: the time the API received it.",
    )

    @field_validator("creation_time")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value < EARLIEST_TIME:
            raise ValueError(f"creation_time is before {EARLIEST_TIME.date()}")
        if value > datetime.now(UTC) + MAX_CLOCK_SKEW:
            raise ValueError("creation_time is more than 24 hours in the future")
        return value.astimezone(UTC)


class LocationBatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"locations": [_EXAMPLE]}]})

    locations: list[LocationCreate] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class LocationBatchAccepted(BaseModel):
    ids: list[uuid.UUID] = Field(description="The id of each location, in the order of the request")


class LocationPage(BaseModel):
    locations: list[LocationPublic]
    has_more: bool
