"""Retention on the real database: an expired day is a dropped partition, and recent answers do not change;
one persistence replica at a time does it.

The days are in 2001, far from every other test's data, so that dropping them touches nothing else.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import grpc
import httpx
import psycopg
import pytest
from sqlalchemy import create_engine

from persistence_service.main import Retention
from persistence_service.store import SqlStore
from tests.support import eventually
from udaconnect.v1 import location_pb2, persistence_pb2, persistence_pb2_grpc, person_pb2
from udaconnect_common.timeconv import to_timestamp
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration

OLD_DAY = datetime(2001, 1, 10, 9, tzinfo=UTC)
RECENT_DAY = datetime(2001, 3, 10, 9, tzinfo=UTC)
HORIZON = datetime(2001, 2, 1, tzinfo=UTC)
NOW = to_timestamp(datetime.now(UTC))


def _pings(person_id: str, day: datetime, count: int) -> list[location_pb2.Location]:
    return [
        location_pb2.Location(
            id=str(uuid.uuid4()),
            person_id=person_id,
            latitude=37.7840 + (i % 7) * 0.000003,
            longitude=-122.4010,
            creation_time=to_timestamp(day + timedelta(seconds=30 * i)),
        )
        for i in range(count)
    ]


def _partition_exists(db: psycopg.Connection[tuple[object, ...]], name: str) -> bool:
    row = db.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def test_an_expired_day_is_dropped_whole_and_recent_answers_stay(
    stack: LocalStack, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    persons = [str(uuid.uuid4()) for _ in range(3)]
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.persistence_grpc}") as channel:
        stub = persistence_pb2_grpc.PersistenceServiceStub(channel)
        stub.SavePersons(
            persistence_pb2.SavePersonsRequest(
                persons=[
                    person_pb2.Person(id=p, first_name="Old", last_name="Timer", company_name="C", created_at=NOW)
                    for p in persons
                ]
            ),
            timeout=30,
        )
        for person_id in persons:
            batch = _pings(person_id, OLD_DAY, 100) + _pings(person_id, RECENT_DAY, 100)
            saved = stub.SaveLocations(persistence_pb2.SaveLocationsRequest(locations=batch), timeout=30)
            assert (saved.inserted, list(saved.rejections)) == (200, [])
    # The persistence service gave each day its partition before storing into it.
    assert _partition_exists(db, "location_d20010110")
    assert _partition_exists(db, "location_d20010310")

    day = {"start_date": "2001-03-10", "end_date": "2001-03-10", "distance": "5", "window": "5"}
    with httpx.Client(base_url=stack.url("connection-api"), headers=stack.organizer_headers(), timeout=30) as api:
        before = api.get(f"/api/persons/{persons[0]}/contacts", params=day).json()
        assert {contact["person"]["id"] for contact in before} == set(persons[1:])

        engine = create_engine(stack.owner_url)
        try:
            dropped = SqlStore(engine).drop_days_before(HORIZON)
        finally:
            engine.dispose()

        assert "location_d20010110" in dropped
        assert not any(name >= "location_d20010201" for name in dropped)
        assert not _partition_exists(db, "location_d20010110")
        assert _partition_exists(db, "location_d20010310")
        old = db.execute(
            "SELECT count(*) FROM location WHERE creation_time < %s AND person_id = ANY(%s::uuid[])", (HORIZON, persons)
        ).fetchone()
        assert old == (0,)
        after = api.get(f"/api/persons/{persons[0]}/contacts", params=day).json()
        assert after == before
        # The old day's answer is empty now.
        old_day = {**day, "start_date": "2001-01-10", "end_date": "2001-01-10"}
        assert api.get(f"/api/persons/{persons[0]}/contacts", params=old_day).json() == []

    # A ping of an expired day that still arrives is kept only until the next round of retention.
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.persistence_grpc}") as channel:
        stub = persistence_pb2_grpc.PersistenceServiceStub(channel)
        late = stub.SaveLocations(persistence_pb2.SaveLocationsRequest(locations=_pings(persons[0], OLD_DAY, 1)))
        assert late.inserted == 1
    engine = create_engine(stack.owner_url)
    try:
        SqlStore(engine).drop_days_before(HORIZON)
    finally:
        engine.dispose()
    assert db.execute("SELECT count(*) FROM location WHERE creation_time < %s", (HORIZON,)).fetchone() == (0,)


def test_an_id_is_stored_once_even_when_its_time_differs_within_a_day(
    stack: LocalStack, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    """A client retrying with the same Idempotency-Key and no creation_time: the API stamps each attempt
    with the time it received it, so the same id comes twice with times seconds apart."""
    person_id = str(uuid.uuid4())
    ping = _pings(person_id, RECENT_DAY, 1)[0]
    retried = location_pb2.Location()
    retried.CopyFrom(ping)
    retried.creation_time.CopyFrom(to_timestamp(RECENT_DAY + timedelta(seconds=40)))
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.persistence_grpc}") as channel:
        stub = persistence_pb2_grpc.PersistenceServiceStub(channel)
        stub.SavePersons(
            persistence_pb2.SavePersonsRequest(
                persons=[
                    person_pb2.Person(id=person_id, first_name="Re", last_name="Try", company_name="C", created_at=NOW)
                ]
            )
        )
        first = stub.SaveLocations(persistence_pb2.SaveLocationsRequest(locations=[ping]))
        second = stub.SaveLocations(persistence_pb2.SaveLocationsRequest(locations=[retried]))
    assert (first.inserted, second.inserted, second.already_stored) == (1, 0, 1)
    assert db.execute("SELECT count(*) FROM location WHERE id = %s", (ping.id,)).fetchone() == (1,)


def test_one_replica_at_a_time_runs_retention(stack: LocalStack, db: psycopg.Connection[tuple[object, ...]]) -> None:
    """Two replicas' rounds at once: the one in the middle of dropping holds the lock, the other skips."""
    expired = "location_d19990110"
    db.execute("SELECT ensure_location_partition(%s)", (date(1999, 1, 10),))
    # Everything before 1999-02-01 (and the time of day now) is expired; no other test stores that early.
    days = (datetime.now(UTC).date() - date(1999, 2, 1)).days
    # Without the guard the second's DROP would wait for the reader below: fail then, not hang.
    engines = [create_engine(stack.owner_url, connect_args={"options": "-c lock_timeout=5s"}) for _ in range(2)]
    first, second = (Retention(SqlStore(engine), days, interval=3600) for engine in engines)
    try:
        # Hold the first replica mid-round: its DROP waits for this reader of the expired day.
        with psycopg.connect(stack.owner_libpq_dsn) as reader, ThreadPoolExecutor(1) as pool:
            reader.execute(f"LOCK TABLE {expired} IN ACCESS SHARE MODE")
            round_one = pool.submit(first.run_once)
            eventually(lambda: True if _advisory_locks_held(db) else None, timeout=10)
            assert second.run_once() is None, "the second replica skips while the first drops"
            assert _partition_exists(db, expired)
            reader.rollback()
            assert round_one.result(timeout=30) == [expired]
        assert not _partition_exists(db, expired)
        assert second.run_once() == [], "the lock is released with the first replica's transaction"
    finally:
        for engine in engines:
            engine.dispose()


def _advisory_locks_held(db: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = db.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").fetchone()
    return bool(row and row[0])
