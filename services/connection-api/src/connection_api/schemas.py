"""The HTTP shapes of the connection API, named by role."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from udaconnect_common.schemas import LOCATION_EXAMPLE, PERSON_EXAMPLE, LocationPublic, PersonPublic

__all__ = ["Connection", "ConnectionPage", "Contact", "ContactPage", "LocationPublic", "PersonPublic"]


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


class ConnectionPage(BaseModel):
    connections: list[Connection]
    has_more: bool
    # Set when the page ended early, before it was full, to keep its cost within the request's budget:
    # every near ping before this time is on this page or an earlier one; the next page starts here.
    resume_at: datetime | None = None


class ContactPage(BaseModel):
    contacts: list[Contact]
    has_more: bool
