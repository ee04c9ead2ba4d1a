"""A faithful re-implementation of the legacy monolith's connection algorithm (``ConnectionService.find_contacts``).

The legacy service first loaded the person's locations in ``[start_date, end_date)``, then ran, for each of them,
one query over the whole ``location`` table (N+1). Its column was ``geometry(Point, 4326)`` and the query cast it to
``geography``: no index on the column can serve the cast, so each query is a full scan. It is run here against
``legacy_location`` (the same rows in the legacy layout, see :mod:`udaconnect_bench.loading`), in the same database.

Two deliberate differences, neither of which changes the cost:

* the legacy swapped latitude and longitude in ``ST_MakePoint``; here the point is built the right way round
  (longitude is X), otherwise its answer would be about another place (or out of range for a geography);
* the legacy compared others' pings with ``TO_DATE(end_date) > creation_time``; the benchmark passes the day after the
  service's last day as ``end_date`` so both cover exactly the same range.

Only the SQL is timed: the monolith also built a Python object per returned row (a ``Connection`` holding a
``Location`` and a ``Person``), which is left out, in the legacy's favour.
"""

import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

import psycopg

# The legacy's first query: the person's own pings (SQLAlchemy ORM filters, end exclusive).
_OWN_PINGS = """
SELECT id, person_id, ST_X(coordinate), ST_Y(coordinate), creation_time
FROM legacy_location
WHERE person_id = %(person_id)s AND creation_time < %(end_date)s AND creation_time >= %(start_date)s
"""

# The legacy's per-ping query, verbatim but for ST_MakePoint's argument order (see the module docstring).
_NEAR_ONE_PING = """
SELECT person_id, id, ST_X(coordinate), ST_Y(coordinate), creation_time
FROM legacy_location
WHERE ST_DWithin(coordinate::geography,
                 ST_SetSRID(ST_MakePoint(%(longitude)s, %(latitude)s), 4326)::geography, %(meters)s)
AND person_id != %(person_id)s
AND TO_DATE(%(start_date)s, 'YYYY-MM-DD') <= creation_time
AND TO_DATE(%(end_date)s, 'YYYY-MM-DD') > creation_time
"""


@dataclass(frozen=True, slots=True)
class OwnPing:
    longitude: float
    latitude: float
    creation_time: datetime


@dataclass
class LegacyRun:
    """One person's range, run ping by ping. ``ids``: the other pings found, duplicates removed."""

    own_pings_seconds: float
    own_pings: int
    per_ping_seconds: list[float] = field(default_factory=list)
    rows: int = 0
    ids: set[uuid.UUID] = field(default_factory=set)

    @property
    def seconds(self) -> float:
        return self.own_pings_seconds + sum(self.per_ping_seconds)


def own_pings(
    conn: psycopg.Connection[tuple[object, ...]], person_id: uuid.UUID, start: date, end: date
) -> list[OwnPing]:
    rows = conn.execute(_OWN_PINGS, {"person_id": person_id, "start_date": start, "end_date": end}, prepare=False)
    return [OwnPing(cast(float, r[2]), cast(float, r[3]), cast(datetime, r[4])) for r in rows.fetchall()]


def near_one_ping(
    conn: psycopg.Connection[tuple[object, ...]],
    ping: OwnPing,
    meters: float,
    person_id: uuid.UUID,
    start: date,
    end: date,
) -> list[tuple[object, ...]]:
    """The legacy's per-ping query; ``start``/``end`` as the legacy took them (``YYYY-MM-DD``, end exclusive)."""
    params = {
        "longitude": ping.longitude,
        "latitude": ping.latitude,
        "meters": meters,
        "person_id": person_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
    }
    return conn.execute(_NEAR_ONE_PING, params, prepare=False).fetchall()


def run(
    conn: psycopg.Connection[tuple[object, ...]],
    person_id: uuid.UUID,
    start: date,
    end: date,
    meters: float,
    ping_indexes: list[int] | None = None,
) -> LegacyRun:
    """The legacy algorithm for ``person_id`` in ``[start, end)``: in full, or for the pings at ``ping_indexes``."""
    started = time.perf_counter()
    mine = own_pings(conn, person_id, start, end)
    result = LegacyRun(own_pings_seconds=time.perf_counter() - started, own_pings=len(mine))
    chosen = mine if ping_indexes is None else [mine[i] for i in ping_indexes if i < len(mine)]
    for ping in chosen:
        began = time.perf_counter()
        rows = near_one_ping(conn, ping, meters, person_id, start, end)
        result.per_ping_seconds.append(time.perf_counter() - began)
        result.rows += len(rows)
        result.ids.update(row[1] for row in rows if isinstance(row[1], uuid.UUID))
    return result
