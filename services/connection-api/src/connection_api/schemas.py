"""The HTTP shapes of the connection API, named by role."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from udaconnect_common.schemas import LOCATION_EXAMPLE, PERSON_EXAMPLE, LocationPublic, PersonPublic

__all__ = [
    "CONNECTION_ROWS",
    "Connection",
    "ConnectionPage",
    "ConnectionRow",
    "Contact",
    "ContactPage",
    "LocationPublic",
    "PersonPublic",
]


class Connection(BaseModel):
    """One ping of another person near one of the person's own pings."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"person": PERSON_EXAMPLE, "location": LOCATION_EXAMPLE}]}
    )

    person: PersonPublic = Field(description="The other person")
    location: LocationPublic = Field(description="The other person's ping")


class Contact(BaseModel):
    """Everything one other person and the person had in common in the range."""

    person: PersonPublic
    encounters: int = Field(description="How many of the other person's pings were near one of the person's")
    first_seen: datetime = Field(description="Time of the first such ping")
    last_seen: datetime = Field(description="Time of the last such ping")
    closest_distance_m: float = Field(description="Smallest distance between the two, in metres (WGS84 spheroid)")


class PersonRow(TypedDict):
    id: uuid.UUID
    first_name: str
    last_name: str
    company_name: str


class LocationRow(TypedDict):
    id: uuid.UUID
    person_id: uuid.UUID
    latitude: float
    longitude: float
    creation_time: datetime


class ConnectionRow(TypedDict):
    """A :class:`Connection` as plain dicts, the same fields in the same order (a unit test holds them
    equal): a page of 1,000 is serialized straight from its rows, without 3,000 model instances first,
    which cost more than finding the page."""

    person: PersonRow
    location: LocationRow


CONNECTION_ROWS = TypeAdapter(list[ConnectionRow])


@dataclass(frozen=True)
class ConnectionPage:
    """A page as a reader answers it (the response is its ``connections``, serialized as ``Connection``s)."""

    connections: list[ConnectionRow]
    has_more: bool
    # Set when the page ended early, before it was full, to keep its cost within the request's budget:
    # every near ping before this time is on this page or an earlier one; the next page starts here.
    resume_at: datetime | None = None


class ContactPage(BaseModel):
    contacts: list[Contact]
    has_more: bool
