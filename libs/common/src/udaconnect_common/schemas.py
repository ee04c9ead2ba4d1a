"""The public JSON shapes of a person and of a location: one contract for the three APIs and the front end."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, JsonValue

PERSON_EXAMPLE: dict[str, JsonValue] = {
    "id": "01936f4e-8a4e-7c3a-9d1e-4b6f2a0c9e11",
    "first_name": "Taco",
    "last_name": "Fargo",
    "company_name": "Alpha Omega Upholstery",
}
LOCATION_EXAMPLE: dict[str, JsonValue] = {
    "id": "01936f4e-9b2c-7d11-8e5f-0a3b4c5d6e7f",
    "person_id": "01936f4e-8a4e-7c3a-9d1e-4b6f2a0c9e11",
    "latitude": 37.553441,
    "longitude": -122.290524,
    "creation_time": "2026-06-01T10:15:00Z",
}


class PersonPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PERSON_EXAMPLE]})

    id: uuid.UUID
    first_name: str
    last_name: str
    company_name: str


class LocationPublic(BaseModel):
    """Coordinates are numbers in WGS84 degrees (the legacy API sent strings); times are ISO 8601 UTC."""

    model_config = ConfigDict(json_schema_extra={"examples": [LOCATION_EXAMPLE]})

    id: uuid.UUID
    person_id: uuid.UUID
    latitude: float
    longitude: float
    creation_time: datetime
