"""Date ranges in query parameters, with the semantics every API shares.

``start_date``/``end_date`` are either calendar days (``YYYY-MM-DD``, UTC, **both inclusive**) or full
ISO 8601 times with an offset (``2026-06-01T09:30:00Z``; inclusive too). A time without an offset is
refused: it would silently mean different instants to different clients.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Query
from pydantic import AwareDatetime

TimeBound = date | AwareDatetime

_BOUND_DESCRIPTION = "A UTC calendar day `YYYY-MM-DD` or an ISO 8601 time with offset; inclusive."
StartDate = Annotated[TimeBound, Query(description=f"Start. {_BOUND_DESCRIPTION}", examples=["2026-06-01"])]
EndDate = Annotated[TimeBound, Query(description=f"End. {_BOUND_DESCRIPTION}", examples=["2026-06-03"])]


class InvalidTimeRange(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Half-open ``[start, end)`` in UTC, the form SQL compares best."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def _start(bound: TimeBound) -> datetime:
    if isinstance(bound, datetime):
        return bound.astimezone(UTC)
    return datetime.combine(bound, time.min, UTC)


def _end_exclusive(bound: TimeBound) -> datetime:
    if isinstance(bound, datetime):
        # Inclusive end: the smallest step past it (PostgreSQL keeps microseconds).
        return bound.astimezone(UTC) + timedelta(microseconds=1)
    return datetime.combine(bound + timedelta(days=1), time.min, UTC)


def time_range(start: TimeBound, end: TimeBound, max_length: timedelta | None = None) -> TimeRange:
    """The range from ``start`` to ``end`` inclusive. Raises :class:`InvalidTimeRange` saying what is wrong."""
    result = TimeRange(_start(start), _end_exclusive(end))
    if result.end <= result.start:
        raise InvalidTimeRange(f"end_date ({end.isoformat()}) is before start_date ({start.isoformat()})")
    if max_length is not None and result.length > max_length:
        raise InvalidTimeRange(f"the range is longer than the maximum of {max_length.days} days")
    return result
