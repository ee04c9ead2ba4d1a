"""Validated records ready to store, made from protobuf messages. Invalid input never reaches SQL."""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from udaconnect.v1 import location_pb2, person_pb2
from udaconnect_common.timeconv import from_timestamp

MAX_NAME_LENGTH = 100


class InvalidRecord(ValueError):
    """The item can never be stored as it is."""


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: uuid.UUID
    first_name: str
    last_name: str
    company_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LocationRecord:
    id: uuid.UUID
    person_id: uuid.UUID
    latitude: float
    longitude: float
    creation_time: datetime
    received_at: datetime | None


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidRecord(f"{field} is not a UUID: {value!r}") from exc


def _time(value: Timestamp, field: str) -> datetime:
    try:
        return from_timestamp(value)
    except ValueError as exc:  # outside years 1 to 9999: no datetime (nor PostgreSQL timestamp) holds it
        raise InvalidRecord(f"{field} is out of range: {exc}") from exc


def _name(value: str, field: str) -> str:
    stripped = value.strip()
    if not stripped or len(stripped) > MAX_NAME_LENGTH or "\x00" in stripped:
        raise InvalidRecord(f"{field} must be 1 to {MAX_NAME_LENGTH} characters without NUL")
    return stripped


def person_record(message: person_pb2.Person) -> PersonRecord:
    if not message.HasField("created_at"):
        raise InvalidRecord("created_at is missing")
    return PersonRecord(
        id=_uuid(message.id, "id"),
        first_name=_name(message.first_name, "first_name"),
        last_name=_name(message.last_name, "last_name"),
        company_name=_name(message.company_name, "company_name"),
        created_at=_time(message.created_at, "created_at"),
    )


def location_record(message: location_pb2.Location) -> LocationRecord:
    if not (math.isfinite(message.latitude) and -90.0 <= message.latitude <= 90.0):
        raise InvalidRecord(f"latitude must be within [-90, 90], got {message.latitude}")
    if not (math.isfinite(message.longitude) and -180.0 <= message.longitude <= 180.0):
        raise InvalidRecord(f"longitude must be within [-180, 180], got {message.longitude}")
    if not message.HasField("creation_time"):
        raise InvalidRecord("creation_time is missing")
    return LocationRecord(
        id=_uuid(message.id, "id"),
        person_id=_uuid(message.person_id, "person_id"),
        latitude=message.latitude,
        longitude=message.longitude,
        creation_time=_time(message.creation_time, "creation_time"),
        received_at=_time(message.received_at, "received_at") if message.HasField("received_at") else None,
    )
