"""The ingest benchmark: POSTs accepted per second, pings per second from the HTTP call to a row in PostGIS, and
the ceiling of the same rows: PostgreSQL ``COPY`` at the consumer's batch size, and the persistence service alone.

How the end-to-end lag is measured, not assumed: the APIs give every ping a UUIDv7 whose first 48 bits are the
millisecond at which the API accepted it. A poller reads the newest such id stored (one descent of the primary
key) four times a second: now minus its time is the age of the newest stored ping, the pipeline's lag. The
end-to-end rate is the pings accepted divided by the time from the first POST until all of them are stored
(counted over the primary key).
"""

import json
import logging
import random
import struct
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import psycopg
from sqlalchemy import create_engine

from persistence_service.records import LocationRecord
from persistence_service.store import SqlStore
from udaconnect.v1 import location_pb2, persistence_pb2, persistence_pb2_grpc
from udaconnect_bench import auth, wrk
from udaconnect_bench.stats import Summary
from udaconnect_common.ids import new_id
from udaconnect_common.timeconv import to_timestamp
from udaconnect_demo.generator import Conference, iso_utc

log = logging.getLogger(__name__)

Row = tuple[Any, ...]
_UUID7_TAIL = b"\x00" * 10
_EWKB_POINT_4326 = struct.pack("<BII", 1, 0x20000001, 4326)  # little endian, Point with SRID, 4326


def uuid7_at(moment: float, high: bool = False) -> uuid.UUID:
    """The lowest (or highest) UUIDv7 of the millisecond ``moment`` (Unix seconds)."""
    prefix = int(moment * 1000).to_bytes(6, "big")
    return uuid.UUID(bytes=prefix + (b"\xff" * 10 if high else _UUID7_TAIL))


def uuid7_time(value: uuid.UUID) -> float:
    """The Unix time (seconds) in a UUIDv7."""
    return int.from_bytes(value.bytes[:6], "big") / 1000


# -- persons for the ingest runs ------------------------------------------------------------------------


def create_persons(person_api: str, dsn: str, count: int, timeout_s: float = 60.0) -> list[uuid.UUID]:
    """POST ``count`` persons (with idempotency keys) and wait until the write path has stored them all."""
    ids: list[uuid.UUID] = []
    with httpx.Client(base_url=person_api, timeout=30.0, headers=auth.headers()) as http:
        for index in range(count):
            response = http.post(
                "/api/persons",
                json={"first_name": f"Bench{index}", "last_name": "Ingest", "company_name": "UdaConnect Bench"},
                headers={"Idempotency-Key": f"udaconnect-bench-ingest-person-{index}"},
            )
            response.raise_for_status()
            ids.append(uuid.UUID(response.json()["id"]))
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM person WHERE id = ANY(%s)", (ids,)).fetchone()
            stored = int(row[0]) if row else 0
            if stored == count:
                return ids
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {stored} of {count} bench persons stored after {timeout_s:.0f} s")
            time.sleep(0.2)


# -- lag and drain ---------------------------------------------------------------------------------------


@dataclass
class LagPoller:
    """Four times a second: the age of the newest ping stored since ``since`` (see the module docstring)."""

    dsn: str
    since: float
    interval_s: float = 0.25
    lags: list[tuple[float, float]] = field(default_factory=list)  # (time, lag seconds)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lag-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise RuntimeError("the lag poller failed") from self._error

    def _run(self) -> None:
        low, high = uuid7_at(self.since), uuid7_at(self.since + 86_400, high=True)
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self._stop.wait(self.interval_s):
                    rows = conn.execute(
                        "SELECT id FROM location WHERE id >= %s AND id <= %s ORDER BY id DESC LIMIT 8", (low, high)
                    ).fetchall()
                    now = time.time()
                    # A UUIDv5 of the loaded data may fall in the range by chance: only UUIDv7 tell a time.
                    newest = next((row[0] for row in rows if row[0].version == 7), None)
                    if newest is not None:
                        self.lags.append((now, now - uuid7_time(newest)))
        except BaseException as exc:
            self._error = exc
            raise


def stored_since(conn: psycopg.Connection[Row], since: float) -> int:
    row = conn.execute(
        "SELECT count(*) FROM location WHERE id >= %s AND id <= %s",
        (uuid7_at(since), uuid7_at(since + 86_400, high=True)),
    ).fetchone()
    return int(row[0]) if row else 0


def wait_drained(dsn: str, since: float, expected: int, timeout_s: float) -> tuple[int, float]:
    """Poll until the ``expected`` pings accepted since ``since`` are stored: (stored, when all were or the timeout)."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            stored = stored_since(conn, since)
            now = time.time()
            if stored >= expected or time.monotonic() > deadline:
                return stored, now
            time.sleep(0.25)


# -- the HTTP ingest runs ----------------------------------------------------------------------------------


@dataclass
class HttpIngest:
    endpoint: str
    connections: int
    pings_per_request: int
    wrk: wrk.WrkResult
    accepted_pings: int
    stored_pings: int
    started: float
    drained_at: float
    drained: bool
    lags: list[float]

    @property
    def requests_per_s(self) -> float:
        return self.wrk.succeeded_per_s

    @property
    def accepted_pings_per_s(self) -> float:
        return self.accepted_pings / self.wrk.duration_s

    @property
    def end_to_end_s(self) -> float:
        return self.drained_at - self.started

    @property
    def end_to_end_pings_per_s(self) -> float:
        return self.stored_pings / self.end_to_end_s

    def lag_summary(self) -> Summary | None:
        return Summary.of(self.lags) if self.lags else None


def _http_run(
    script: str,
    script_dir: Path,
    url: str,
    dsn: str,
    *,
    endpoint: str,
    connections: int,
    seconds: float,
    args: list[str],
    pings_per_request: int,
    drain_timeout_s: float,
) -> HttpIngest:
    started = time.time()
    poller = LagPoller(dsn, started)
    poller.start()
    try:
        process = wrk.start(
            script,
            script_dir / f"{endpoint.strip('/').replace('/', '-')}.lua",
            url,
            connections=connections,
            seconds=seconds,
            args=args,
        )
        result = wrk.finish(process)
        accepted = result.succeeded * pings_per_request
        stored, drained_at = wait_drained(dsn, started, accepted, drain_timeout_s)
    finally:
        poller.stop()
    if result.failed:
        log.warning("%s: %s", endpoint, result.errors)
    return HttpIngest(
        endpoint=endpoint,
        connections=connections,
        pings_per_request=pings_per_request,
        wrk=result,
        accepted_pings=accepted,
        stored_pings=stored,
        started=started,
        drained_at=drained_at,
        drained=stored >= accepted,
        lags=[lag for _, lag in poller.lags],
    )


def single_posts(
    location_api: str,
    dsn: str,
    person_ids: Sequence[uuid.UUID],
    work_dir: Path,
    *,
    connections: int,
    seconds: float,
    drain_timeout_s: float,
) -> HttpIngest:
    ids_file = work_dir / "ingest-person-ids.txt"
    ids_file.write_text("".join(f"{pid}\n" for pid in person_ids), encoding="ascii")
    return _http_run(
        wrk.SINGLE_POST,
        work_dir,
        location_api,
        dsn,
        endpoint="/api/locations",
        connections=connections,
        seconds=seconds,
        args=[str(ids_file)],
        pings_per_request=1,
        drain_timeout_s=drain_timeout_s,
    )


def floor_rate(location_api: str, work_dir: Path, *, connections: int, seconds: float) -> wrk.WrkResult:
    """GET /health on the location API, with the single POSTs' connections: the ceiling they are compared with."""
    result = wrk.finish(
        wrk.start(wrk.HEALTH, work_dir / "health.lua", location_api, connections=connections, seconds=seconds, args=[])
    )
    if result.failed:
        raise RuntimeError(f"GET /health failed under load: {result.errors}")
    return result


@dataclass(frozen=True, slots=True)
class Ping:
    person_id: uuid.UUID
    latitude: float
    longitude: float
    creation_time: datetime


def bench_pings(conference: Conference, person_ids: Sequence[uuid.UUID], count: int) -> list[Ping]:
    """``count`` of the conference's pings (real places and times), handed out to the bench's persons in turn."""
    pings: list[Ping] = []
    for ping in conference.iter_pings():
        if len(pings) == count:
            break
        pings.append(
            Ping(person_ids[ping.person_index % len(person_ids)], ping.latitude, ping.longitude, ping.creation_time)
        )
    random.Random("udaconnect-bench:ingest-order").shuffle(pings)  # noqa: S311 - seeded, not crypto
    return pings


def batch_posts(
    location_api: str,
    dsn: str,
    pings: Sequence[Ping],
    work_dir: Path,
    *,
    batch_size: int,
    connections: int,
    seconds: float,
    drain_timeout_s: float,
) -> HttpIngest:
    bodies = []
    for number, first in enumerate(range(0, len(pings) - batch_size + 1, batch_size)):
        body = {
            "locations": [
                {
                    "person_id": str(p.person_id),
                    "latitude": p.latitude,
                    "longitude": p.longitude,
                    "creation_time": iso_utc(p.creation_time),
                }
                for p in pings[first : first + batch_size]
            ]
        }
        path = work_dir / f"batch-{number}.json"
        path.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
        bodies.append(str(path))
    return _http_run(
        wrk.BATCH_POST,
        work_dir,
        location_api,
        dsn,
        endpoint="/api/locations/batch",
        connections=connections,
        seconds=seconds,
        args=bodies,
        pings_per_request=batch_size,
        drain_timeout_s=drain_timeout_s,
    )


# -- the ceiling: COPY, and the persistence service alone ------------------------------------------------


@dataclass(frozen=True)
class BatchedWrite:
    what: str
    rows: int
    batch_size: int
    seconds: float
    batch_seconds: list[float]

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def _ewkb_hex(longitude: float, latitude: float) -> str:
    return (_EWKB_POINT_4326 + struct.pack("<dd", longitude, latitude)).hex()


def copy_ceiling(dsn: str, pings: Sequence[Ping], batch_size: int) -> BatchedWrite:
    """The same rows, fresh ids, ``COPY`` into ``location`` (same table, same indexes), one transaction per batch.

    The COPY text is built before the clock starts: what is timed is PostgreSQL's work, the ceiling.
    """
    received = datetime.now(UTC).isoformat()
    payloads = []
    for first in range(0, len(pings), batch_size):
        lines = []
        for p in pings[first : first + batch_size]:
            stamp = p.creation_time.isoformat()
            lines.append(f"{new_id()}\t{p.person_id}\t{_ewkb_hex(p.longitude, p.latitude)}\t{stamp}\t{received}\n")
        payloads.append(("".join(lines).encode(), len(lines)))
    batch_seconds = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        for payload, _rows in payloads:
            began = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor().copy(
                    "COPY location (id, person_id, coordinate, creation_time, received_at) FROM STDIN"
                ) as copy,
            ):
                copy.write(payload)
            batch_seconds.append(time.perf_counter() - began)
        seconds = time.perf_counter() - started
    return BatchedWrite("PostgreSQL COPY", sum(rows for _, rows in payloads), batch_size, seconds, batch_seconds)


def store_rate(database_url: str, pings: Sequence[Ping], batch_size: int) -> BatchedWrite:
    """The same rows, fresh ids, through the persistence service's own store (``SqlStore.save_locations``) called
    in-process: the service without gRPC, protobuf and validation. Records are built before the clock starts."""
    now = datetime.now(UTC)
    batches = [
        [
            LocationRecord(new_id(), p.person_id, p.latitude, p.longitude, p.creation_time, now)
            for p in pings[first : first + batch_size]
        ]
        for first in range(0, len(pings), batch_size)
    ]
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    store = SqlStore(engine)
    batch_seconds = []
    stored = 0
    try:
        store.save_locations(batches[0][:1])  # connect before the clock starts
        started = time.perf_counter()
        for batch in batches:
            began = time.perf_counter()
            stored += store.save_locations(batch).inserted
            batch_seconds.append(time.perf_counter() - began)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return BatchedWrite("its store alone, in-process (no gRPC)", stored, batch_size, seconds, batch_seconds)


def persistence_rate(target: str, pings: Sequence[Ping], batch_size: int) -> BatchedWrite:
    """The same rows, fresh ids, through the persistence service's ``SaveLocations``: one call at a time, as the
    ingest consumer makes them. Requests are built before the clock starts."""
    now = to_timestamp(datetime.now(UTC))
    requests = []
    for first in range(0, len(pings), batch_size):
        locations = [
            location_pb2.Location(
                id=str(new_id()),
                person_id=str(p.person_id),
                latitude=p.latitude,
                longitude=p.longitude,
                creation_time=to_timestamp(p.creation_time),
                received_at=now,
            )
            for p in pings[first : first + batch_size]
        ]
        requests.append(persistence_pb2.SaveLocationsRequest(locations=locations))
    batch_seconds = []
    stored = 0
    with grpc.insecure_channel(target) as channel:
        stub = persistence_pb2_grpc.PersistenceServiceStub(channel)
        stub.SaveLocations(persistence_pb2.SaveLocationsRequest(), timeout=30.0, wait_for_ready=True)
        started = time.perf_counter()
        for request in requests:
            began = time.perf_counter()
            response = stub.SaveLocations(request, timeout=60.0)
            batch_seconds.append(time.perf_counter() - began)
            if response.rejections:
                raise RuntimeError(f"the persistence service rejected bench pings: {response.rejections[0]}")
            stored += response.inserted
        seconds = time.perf_counter() - started
    return BatchedWrite("persistence service (gRPC SaveLocations)", stored, batch_size, seconds, batch_seconds)
