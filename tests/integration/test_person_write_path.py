"""Persons end to end on the real system: HTTP -> Kafka -> ingest consumer -> gRPC -> PostGIS -> HTTP."""

import subprocess
import threading
import time
import uuid

import httpx
import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.support import eventually, unique_name
from udaconnect_devstack.services import venv_script
from udaconnect_devstack.stack import TOPIC_PARTITIONS, TOPIC_PERSONS, LocalStack

pytestmark = pytest.mark.integration


def new_person(prefix: str = "Ada") -> dict[str, str]:
    return {"first_name": unique_name(prefix), "last_name": "Lovelace", "company_name": "Analytical Engines"}


def read_back(api: httpx.Client, person_id: str) -> dict[str, str]:
    def probe() -> dict[str, str] | None:
        response = api.get(f"/api/persons/{person_id}")
        return response.json() if response.status_code == 200 else None

    return eventually(probe)


def rows_with_ids(db: psycopg.Connection[tuple[object, ...]], ids: list[str]) -> int:
    row = db.execute("SELECT count(*) FROM person WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()
    assert row is not None
    return int(str(row[0]))


def topic_end_offsets(stack: LocalStack, topic: str) -> list[int]:
    consumer = Consumer({"bootstrap.servers": stack.kafka.bootstrap_servers, "group.id": "offset-probe"})
    try:
        return [
            consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
            for partition in range(TOPIC_PARTITIONS[topic])
        ]
    finally:
        consumer.close()


def test_post_then_get_round_trip_through_kafka(person_api: httpx.Client) -> None:
    body = new_person()

    accepted = person_api.post("/api/persons", json=body)

    assert accepted.status_code == 202, accepted.text
    created = accepted.json()
    assert accepted.headers["location"] == f"/api/persons/{created['id']}"
    stored = read_back(person_api, created["id"])
    assert stored == {"id": created["id"], **body}
    listed = person_api.get("/api/persons", params={"limit": 1000}).json()
    assert created["id"] in [person["id"] for person in listed]


def test_same_idempotency_key_twice_stores_one_row(
    person_api: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    key = f"retry-{uuid.uuid4()}"
    body = new_person("Retry")

    first = person_api.post("/api/persons", json=body, headers={"Idempotency-Key": key})
    second = person_api.post("/api/persons", json=body, headers={"Idempotency-Key": key})

    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    read_back(person_api, first.json()["id"])
    # Both messages reached the consumer (same key, same partition, in order) before we count.
    later = person_api.post("/api/persons", json=new_person(), headers={"Idempotency-Key": key + "-later"})
    read_back(person_api, later.json()["id"])
    assert rows_with_ids(db, [first.json()["id"]]) == 1
    row = db.execute("SELECT count(*) FROM person WHERE first_name = %s", (body["first_name"],)).fetchone()
    assert row == (1,)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"first_name": "A", "last_name": "B"}',
        b'{"first_name": "", "last_name": "B", "company_name": "C"}',
        b'{"first_name": 1, "last_name": "B", "company_name": "C"}',
        b'{"first_name": "A", "last_name": "B", "company_name": "C", "admin": true}',
        b'{"first_name": "A", "last_name": "B", "company_name": "C"',
        b"[]",
        b"not json",
    ],
)
def test_invalid_body_is_422_and_produces_nothing(stack: LocalStack, person_api: httpx.Client, payload: bytes) -> None:
    before = topic_end_offsets(stack, TOPIC_PERSONS)

    response = person_api.post("/api/persons", content=payload, headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]
    assert topic_end_offsets(stack, TOPIC_PERSONS) == before


def test_unknown_person_is_a_404_problem(person_api: httpx.Client) -> None:
    response = person_api.get(f"/api/persons/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_list_pages_cover_every_person_exactly_once(person_api: httpx.Client) -> None:
    ids = [person_api.post("/api/persons", json=new_person("Page")).json()["id"] for _ in range(7)]
    for person_id in ids:
        read_back(person_api, person_id)

    seen: list[str] = []
    url: str | None = "/api/persons?limit=3"
    while url:
        response = person_api.get(url)
        seen.extend(person["id"] for person in response.json())
        url = response.links["next"]["url"] if "next" in response.links else None

    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen)
    full = person_api.get("/api/persons", params={"limit": 1000}).json()
    assert seen == [person["id"] for person in full]


def test_consumer_killed_mid_stream_loses_and_duplicates_nothing(
    stack: LocalStack, person_api: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    consumer = stack.services["ingest-consumer"]
    accepted: list[str] = []
    failures: list[str] = []

    def post_many() -> None:
        for _ in range(400):
            response = person_api.post("/api/persons", json=new_person("Chaos"))
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            else:
                failures.append(response.text)

    client = threading.Thread(target=post_many)
    client.start()
    kills = 0
    while client.is_alive() and kills < 3:
        time.sleep(0.7)
        consumer.kill()
        kills += 1
        consumer.start()
    client.join()

    assert failures == []
    assert kills >= 2
    started = time.monotonic()
    try:
        eventually(lambda: True if rows_with_ids(db, accepted) == len(accepted) else None, timeout=60)
    finally:
        print(
            f"accepted {len(accepted)}, stored {rows_with_ids(db, accepted)}, consumer kills {kills}, "
            f"drained {time.monotonic() - started:.1f}s after the last kill"
        )
    duplicates = db.execute(
        "SELECT count(*) - count(DISTINCT (first_name, last_name)) FROM person WHERE first_name LIKE 'Chaos-%'"
    ).fetchone()
    assert duplicates == (0,)
    total = db.execute("SELECT count(*) FROM person WHERE first_name LIKE 'Chaos-%'").fetchone()
    assert total == (len(accepted),)


def test_grpc_client_cli_checks_health_and_saves_a_person(
    stack: LocalStack, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    target = f"127.0.0.1:{stack.ports.persistence_grpc}"
    cli = venv_script("persistence-client")

    health = subprocess.run([cli, "--target", target, "health"], capture_output=True, text=True, check=False)
    first_name = unique_name("Cli")
    saved = subprocess.run(
        [cli, "--target", target, "save-person", "--first-name", first_name, "--last-name", "L", "--company-name", "C"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert health.returncode == 0, health.stderr
    assert health.stdout.strip() == "SERVING"
    assert saved.returncode == 0, saved.stderr
    assert '"inserted": 1' in saved.stdout
    assert db.execute("SELECT count(*) FROM person WHERE first_name = %s", (first_name,)).fetchone() == (1,)


def test_broker_down_gives_503_and_writes_nothing_then_recovers(
    stack: LocalStack, person_api: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    body = new_person("Outage")
    stack.kafka.stop()
    try:
        response = person_api.post("/api/persons", json=body)
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert response.headers["content-type"] == "application/problem+json"
        assert person_api.get("/ready").status_code == 503
    finally:
        stack.kafka.start()

    # After the broker is back: the refused person never appears, and writes work again.
    after = person_api.post("/api/persons", json=new_person("Back"))
    assert after.status_code == 202
    read_back(person_api, after.json()["id"])
    assert db.execute("SELECT count(*) FROM person WHERE first_name = %s", (body["first_name"],)).fetchone() == (0,)
