"""Deleting a person on the real system: while their pings are still flowing, and for good."""

import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from tests.integration.test_location_write_path import create_person
from tests.support import eventually
from udaconnect_devstack.stack import TOPIC_LOCATIONS, TOPIC_PERSONS, LocalStack

pytestmark = pytest.mark.integration

Db = psycopg.Connection[tuple[object, ...]]
DAY = "2026-07-01"
START = datetime(2026, 7, 1, 9, tzinfo=UTC)


def _ping(person_id: str, index: int) -> dict[str, object]:
    # Everyone stands within a metre of the same spot, a second apart.
    return {
        "person_id": person_id,
        "latitude": 37.7840 + (index % 5) * 0.000002,
        "longitude": -122.4010,
        "creation_time": (START + timedelta(seconds=index)).isoformat(),
    }


def _count(db: Db, sql: str, value: str) -> int:
    row = db.execute(sql, (value,)).fetchone()
    assert row is not None
    return int(str(row[0]))


def _dropped_for_deleted(stack: LocalStack, topic: str = TOPIC_LOCATIONS) -> float:
    """What the consumer has dropped of ``topic`` because its person was deleted (its metric)."""
    metrics = httpx.get(f"http://127.0.0.1:{stack.ports.consumer_metrics}/metrics", timeout=10).text
    prefix = f'ingest_dropped_for_deleted_person_total{{topic="{topic}"}}'
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix))


def test_a_deleted_person_is_gone_everywhere_even_with_pings_in_flight(
    stack: LocalStack, person_api: httpx.Client, location_api: httpx.Client, db: Db
) -> None:
    leaving, staying = create_person(person_api, "Leaving"), create_person(person_api, "Staying")
    for index in range(20):
        assert location_api.post("/api/locations", json=_ping(staying, index)).status_code == 202
    dropped_before = _dropped_for_deleted(stack)

    # Pings for the leaving person keep coming, through the delete and after it (as an organizer's bulk
    # import: an attendee's own phone would meet its write limit at this pace).
    posted: list[int] = []
    stop = threading.Event()

    def phone() -> None:
        with httpx.Client(base_url=stack.url("location-api"), headers=stack.organizer_headers(), timeout=30) as client:
            index = 0
            while not stop.is_set():
                posted.append(client.post("/api/locations", json=_ping(leaving, index)).status_code)
                index += 1

    sender = threading.Thread(target=phone)
    sender.start()
    try:
        eventually(lambda: _count(db, "SELECT count(*) FROM location WHERE person_id = %s", leaving) >= 20 or None)
        # The person deletes themself.
        themself = {"Authorization": f"Bearer {stack.attendee_token(leaving)}"}
        deleted = person_api.delete(f"/api/persons/{leaving}", headers=themself)
        assert deleted.status_code == 202, deleted.text
        assert deleted.json()["person_id"] == leaving
        time.sleep(1.5)
    finally:
        stop.set()
        sender.join()
    assert posted
    assert set(posted) == {202}

    # Deleting again is accepted the same way; someone else may not.
    assert person_api.delete(f"/api/persons/{leaving}").status_code == 202
    other = {"Authorization": f"Bearer {stack.attendee_token(staying)}"}
    assert person_api.delete(f"/api/persons/{leaving}", headers=other).status_code == 403

    # Every ping posted after the delete has been dropped once the consumer has seen them all.
    eventually(lambda: _dropped_for_deleted(stack) > dropped_before or None)
    eventually(lambda: person_api.get(f"/api/persons/{leaving}").status_code == 404 or None)
    time.sleep(2)  # what was still in flight arrives now, and must not bring them back
    assert _count(db, "SELECT count(*) FROM location WHERE person_id = %s", leaving) == 0
    assert _count(db, "SELECT count(*) FROM person WHERE id = %s", leaving) == 0
    assert _count(db, "SELECT count(*) FROM deleted_person WHERE id = %s", leaving) == 1

    # Nothing of them in anyone's answers.
    day = {"start_date": DAY, "end_date": DAY}
    with httpx.Client(base_url=stack.url("connection-api"), headers=stack.organizer_headers(), timeout=30) as api:
        connections = api.get(f"/api/persons/{staying}/connection", params={**day, "limit": 1000}).json()
        contacts = api.get(f"/api/persons/{staying}/contacts", params=day).json()
        assert leaving not in {c["person"]["id"] for c in connections}
        assert leaving not in {c["person"]["id"] for c in contacts}
        assert api.get(f"/api/persons/{leaving}/contacts", params=day).status_code == 404
    listed = location_api.get("/api/locations", params={**day, "person_id": leaving})
    assert listed.json() == []


def test_a_replayed_creation_does_not_bring_a_deleted_person_back(
    stack: LocalStack, person_api: httpx.Client, db: Db
) -> None:
    key = f"replayed-{uuid.uuid4()}"
    body = {"first_name": "Ghost", "last_name": "Replay", "company_name": "Echo"}
    person_id = person_api.post("/api/persons", json=body, headers={"Idempotency-Key": key}).json()["id"]
    eventually(lambda: person_api.get(f"/api/persons/{person_id}").status_code == 200 or None)
    assert person_api.delete(f"/api/persons/{person_id}").status_code == 202
    eventually(lambda: person_api.get(f"/api/persons/{person_id}").status_code == 404 or None)

    # A client retrying its old request gets the same id back, and the consumer drops it.
    dropped_before = _dropped_for_deleted(stack, TOPIC_PERSONS)
    replay = person_api.post("/api/persons", json=body, headers={"Idempotency-Key": key})
    assert replay.json()["id"] == person_id
    eventually(lambda: _dropped_for_deleted(stack, TOPIC_PERSONS) > dropped_before or None)
    assert _count(db, "SELECT count(*) FROM person WHERE id = %s", person_id) == 0


def test_the_consumer_reports_its_lag_batches_and_calls(stack: LocalStack, person_api: httpx.Client) -> None:
    create_person(person_api, "Metrics")

    def reported() -> str | None:
        text = httpx.get(f"http://127.0.0.1:{stack.ports.consumer_metrics}/metrics", timeout=10).text
        # A partition's lag is known once the consumer has a position in it: the person's partition has one.
        lag = re.search(r'ingest_consumer_lag\{partition="\d+",topic="udaconnect\.persons\.v1"\} \d', text)
        return text if lag and "ingest_batch_size_count" in text else None

    metrics = eventually(reported, timeout=30)
    assert 'ingest_persistence_call_seconds_count{method="SavePersons"}' in metrics
