"""The protobuf Timestamp conversions agree with protobuf's own, and refuse what no datetime holds."""

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from udaconnect_common.timeconv import from_timestamp, to_timestamp

FIRST_SECOND = -62_135_596_800  # 0001-01-01T00:00:00Z
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z


@given(st.integers(FIRST_SECOND, LAST_SECOND), st.integers(0, 999_999_999))
def test_from_timestamp_equals_protobufs_own_conversion(seconds: int, nanos: int) -> None:
    timestamp = Timestamp(seconds=seconds, nanos=nanos)
    assert from_timestamp(timestamp) == timestamp.ToDatetime(tzinfo=UTC)
    assert from_timestamp(timestamp).tzinfo is UTC


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_datetime_survives_the_round_trip(moment: datetime) -> None:
    assert from_timestamp(to_timestamp(moment)) == moment


@pytest.mark.parametrize("seconds", [LAST_SECOND + 1, FIRST_SECOND - 1, 10**12, -(10**12)])
def test_a_time_no_datetime_holds_is_a_value_error(seconds: int) -> None:
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        from_timestamp(Timestamp(seconds=seconds))


def test_nanoseconds_are_cut_to_the_microsecond() -> None:
    timestamp = Timestamp(seconds=0, nanos=1_999)
    assert from_timestamp(timestamp) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=1)
