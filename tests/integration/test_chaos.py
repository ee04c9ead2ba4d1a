"""Chaos: while clients POST persons and locations, kill the consumer and the persistence service and
restart PostgreSQL. Afterwards every id that got a 202 is stored exactly once, and nothing else is.

It runs on a stack of its own (the crashes must not disturb other tests), with the default bounds.
"""

import random
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support import eventually
from udaconnect_devstack.stack import LocalStack, StackPorts

pytestmark = pytest.mark.integration

MIN_PERSONS = 1000
MIN_LOCATIONS = 4000
CLIENT_THREADS = 4
BATCH_SIZE = 25


@pytest.fixture(scope="module")
def chaos_stack() -> Iterator[LocalStack]:
    run_dir = Path(tempfile.mkdtemp(prefix="udaconnect-chaos-"))
    run_dir.chmod(0o711)
    system = LocalStack(run_dir, StackPorts.free())
    try:
        system.start()
        yield system
    finally:
        system.stop()
        shutil.rmtree(run_dir)


@dataclass
class Ledger:
    """What the clients were told: ids that got a 202, and how many requests were refused."""

    persons: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def has_enough(self) -> bool:
        return len(self.persons) >= MIN_PERSONS and len(self.locations) >= MIN_LOCATIONS


def client(stack: LocalStack, ledger: Ledger, chaos_over: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    marker = f"Chaos{seed}"
    with (
        httpx.Client(base_url=stack.url("person-api"), timeout=30, headers=stack.organizer_headers()) as persons,
        httpx.Client(base_url=stack.url("location-api"), timeout=30, headers=stack.organizer_headers()) as locations,
    ):
        while not (
            chaos_over.is_set() and len(ledger.persons) >= MIN_PERSONS and len(ledger.locations) >= MIN_LOCATIONS
        ):
            if not ledger.persons or rng.random() < 0.25:
                body = {
                    "first_name": f"{marker}-{uuid.uuid4().hex[:8]}",
                    "last_name": "Chaos",
                    "company_name": "Kill -9",
                }
                response = persons.post("/api/persons", json=body)
                accepted = [response.json()["id"]] if response.status_code == 202 else []
                target = ledger.persons
            else:
                # Pings of persons already accepted (maybe not stored yet: the parking path gets exercised).
                person_ids = rng.sample(ledger.persons, k=min(len(ledger.persons), 5))
                pings = [
                    {
                        "person_id": rng.choice(person_ids),
                        "latitude": rng.uniform(-60, 60),
                        "longitude": rng.uniform(-170, 170),
                    }
                    for _ in range(BATCH_SIZE if rng.random() < 0.7 else 1)
                ]
                if len(pings) == 1:
                    response = locations.post("/api/locations", json=pings[0])
                    accepted = [response.json()["id"]] if response.status_code == 202 else []
                else:
                    response = locations.post("/api/locations/batch", json={"locations": pings})
                    accepted = response.json()["ids"] if response.status_code == 202 else []
                target = ledger.locations
            with ledger.lock:
                target.extend(accepted)
                if response.status_code != 202:
                    ledger.refused += 1


def test_nothing_acknowledged_is_lost_or_stored_twice_through_crashes(chaos_stack: LocalStack) -> None:
    stack = chaos_stack
    ledger = Ledger()
    chaos_over = threading.Event()
    clients = [
        threading.Thread(target=client, args=(stack, ledger, chaos_over, seed), daemon=True)
        for seed in range(CLIENT_THREADS)
    ]
    started = time.monotonic()
    for thread in clients:
        thread.start()

    consumer = stack.services["ingest-consumer"]
    persistence = stack.services["persistence-service"]
    # What each step did to the process, as the operating system tells it: the old process's exit status
    # and the new one's pid. A kill that did not land (or a restart that did not happen) shows here.
    survived: list[tuple[str, int | None, bool]] = []

    def restarted(name: str, old_pid: int | None, exit_status: int | None, new_pid: int | None) -> None:
        survived.append((name, exit_status, old_pid is not None and new_pid is not None and new_pid != old_pid))

    steps = ("consumer", "persistence", "consumer", "postgres", "graceful", "consumer", "persistence", "consumer")
    for step in steps:
        time.sleep(1.5)
        if step == "graceful":
            # SIGTERM: the consumer finishes (or abandons, uncommitted) its batch and leaves the group cleanly.
            old = consumer.pid
            status = consumer.stop()
            consumer.start()
            restarted("ingest-consumer stopped", old, status, consumer.pid)
        elif step == "consumer":
            old = consumer.pid
            consumer.kill()
            status = consumer.exit_code()
            consumer.start()
            restarted("ingest-consumer killed", old, status, consumer.pid)
        elif step == "persistence":
            old = persistence.pid
            persistence.kill()
            status = persistence.exit_code()
            time.sleep(1.0)  # the consumer meets a dead server, not only a restarting one
            persistence.start()
            restarted("persistence-service killed", old, status, persistence.pid)
        else:
            old = stack.postgres.pid
            status = stack.postgres.stop()
            time.sleep(1.0)
            stack.postgres.start()
            restarted("postgres restarted", old, status, stack.postgres.pid)
    chaos_over.set()
    for thread in clients:
        thread.join(timeout=300)
        assert not thread.is_alive()
    posting_seconds = time.monotonic() - started

    with psycopg.connect(stack.owner_libpq_dsn, autocommit=True) as db:

        def stored(table: str, ids: list[str]) -> int:
            row = db.execute(f"SELECT count(*) FROM {table} WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()
            assert row is not None
            return int(str(row[0]))

        drained_at = time.monotonic()
        eventually(
            lambda: (
                True
                if stored("person", ledger.persons) == len(ledger.persons)
                and stored("location", ledger.locations) == len(ledger.locations)
                else None
            ),
            timeout=180,
        )
        drain_seconds = time.monotonic() - drained_at
        # "Nothing else": every row of this run's persons and of their pings is one the clients were told of.
        extra_persons = db.execute(
            "SELECT count(*) FROM person WHERE last_name = 'Chaos' AND NOT id = ANY(%s::uuid[])", (ledger.persons,)
        ).fetchone()
        extra_locations = db.execute(
            "SELECT count(*) FROM location WHERE NOT id = ANY(%s::uuid[])", (ledger.locations,)
        ).fetchone()
        person_rows = stored("person", ledger.persons)
        location_rows = stored("location", ledger.locations)

    print(
        f"\nchaos: accepted {len(ledger.persons)} persons + {len(ledger.locations)} locations in "
        f"{posting_seconds:.1f}s ({ledger.refused} requests refused with 503); stored {person_rows} + "
        f"{location_rows}; duplicates 0 (primary keys), lost {len(ledger.persons) - person_rows} + "
        f"{len(ledger.locations) - location_rows}, extra {extra_persons[0] if extra_persons else '?'} + "
        f"{extra_locations[0] if extra_locations else '?'}; backlog drained in {drain_seconds:.1f}s; steps {survived}"
    )
    assert len(set(ledger.persons)) == len(ledger.persons)
    assert len(set(ledger.locations)) == len(ledger.locations)
    assert len(ledger.persons) >= MIN_PERSONS
    assert len(ledger.locations) >= MIN_LOCATIONS
    assert extra_persons == (0,)
    assert extra_locations == (0,)
    killed = -signal.SIGKILL
    assert survived == [
        ("ingest-consumer killed", killed, True),
        ("persistence-service killed", killed, True),
        ("ingest-consumer killed", killed, True),
        ("postgres restarted", 0, True),
        ("ingest-consumer stopped", 0, True),  # exit status 0: it drained and left on SIGTERM
        ("ingest-consumer killed", killed, True),
        ("persistence-service killed", killed, True),
        ("ingest-consumer killed", killed, True),
    ]
