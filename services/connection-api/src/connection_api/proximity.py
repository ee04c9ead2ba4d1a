"""The question every connection query answers, as a domain value: whose pings, when, how near, how close in time.

It lives apart from the SQL that answers it, so the ports, the routes and the tests name it without
importing an adapter.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from udaconnect_common.cubes import CubeSize, size_for
from udaconnect_common.timerange import TimeRange


@dataclass(frozen=True, slots=True)
class Proximity:
    person_id: uuid.UUID
    period: TimeRange
    distance_m: float
    # Co-presence: the other ping must also be within this time of the person's ping.
    window: timedelta | None

    @property
    def effective_window(self) -> timedelta:
        # Without a window every pair in the range qualifies, and no two pings in the range are further
        # apart than its length: so "no window" is the range's length, and one time condition serves both.
        return self.window if self.window is not None else self.period.length

    @property
    def cube_size(self) -> CubeSize:
        """The size of cube the search for this distance reads."""
        return size_for(self.distance_m)
