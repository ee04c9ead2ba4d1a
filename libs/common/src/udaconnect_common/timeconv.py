"""Conversion between timezone-aware datetimes and ``google.protobuf.Timestamp`` (always UTC)."""

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def to_timestamp(moment: datetime) -> Timestamp:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a time without a timezone is ambiguous")
    timestamp = Timestamp()
    timestamp.FromDatetime(moment.astimezone(UTC))
    return timestamp


def from_timestamp(timestamp: Timestamp) -> datetime:
    return timestamp.ToDatetime(tzinfo=UTC)
