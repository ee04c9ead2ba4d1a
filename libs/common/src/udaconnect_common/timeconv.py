"""Conversion between timezone-aware datetimes and ``google.protobuf.Timestamp`` (always UTC)."""

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp


def to_timestamp(moment: datetime) -> Timestamp:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a time without a timezone is ambiguous")
    timestamp = Timestamp()
    timestamp.FromDatetime(moment.astimezone(UTC))
    return timestamp


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_timestamp(timestamp: Timestamp) -> datetime:
    """The time as an aware UTC datetime, to the microsecond (nanoseconds are cut toward zero, as protobuf's
    own ``ToDatetime`` does, which takes four times as long: the persistence service converts two per ping).
    ValueError when no datetime holds it (outside years 1 to 9999)."""
    nanos = timestamp.nanos
    microseconds = nanos // 1000 if nanos >= 0 else -(-nanos // 1000)
    try:
        return _EPOCH + timedelta(seconds=timestamp.seconds, microseconds=microseconds)
    except OverflowError as exc:
        raise ValueError(f"{timestamp.seconds} s from 1970 is outside the years 1 to 9999") from exc
