"""Validation in the persistence service: what can never be stored is rejected before SQL."""

import math
import uuid
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from persistence_service.records import InvalidRecord, location_record, person_record
from udaconnect.v1 import location_pb2, person_pb2
from udaconnect_common.timeconv import to_timestamp

NOW = to_timestamp(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


def location(**overrides: object) -> location_pb2.Location:
    fields: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "latitude": 37.55,
        "longitude": -122.29,
        "creation_time": NOW,
    }
    fields.update(overrides)
    return location_pb2.Location(**fields)  # type: ignore[arg-type]


def test_valid_location_keeps_axes_and_full_precision() -> None:
    record = location_record(location(latitude=37.553441, longitude=-122.290524))
    assert (record.latitude, record.longitude) == (37.553441, -122.290524)
    assert record.received_at is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"latitude": 90.0001}, "latitude"),
        ({"latitude": -91.0}, "latitude"),
        ({"latitude": math.nan}, "latitude"),
        ({"longitude": 180.5}, "longitude"),
        ({"longitude": -math.inf}, "longitude"),
        ({"id": "not-a-uuid"}, "id"),
        ({"person_id": ""}, "person_id"),
        ({"creation_time": None}, "creation_time"),
        # A valid protobuf Timestamp no datetime holds: the message is dead-lettered, not retried forever.
        ({"creation_time": Timestamp(seconds=10**12)}, "creation_time is out of range"),
        ({"received_at": Timestamp(seconds=-(10**12))}, "received_at is out of range"),
    ],
)
def test_invalid_location_is_rejected_with_the_reason(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        location_record(location(**overrides))


def test_person_names_are_checked() -> None:
    valid = person_pb2.Person(id=str(uuid.uuid4()), first_name=" Ada ", last_name="L", company_name="C", created_at=NOW)
    assert person_record(valid).first_name == "Ada"
    for bad in ("", "   ", "x" * 101, "a\x00b"):
        invalid = person_pb2.Person(id=valid.id, first_name=bad, last_name="L", company_name="C", created_at=NOW)
        with pytest.raises(InvalidRecord, match="first_name"):
            person_record(invalid)
