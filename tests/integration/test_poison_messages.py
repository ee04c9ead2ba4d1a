"""Messages that can never be stored end in the dead-letter topic with a reason; the good ones around them
are stored, and the consumer keeps going. A dead letter can be replayed once its cause is fixed."""

import os
import subprocess
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from confluent_kafka import Producer

from tests.integration.conftest import ORPHAN_RETRY_SECONDS
from tests.support import eventually, unique_name, wait_for_dead_letter
from udaconnect.v1 import location_pb2, person_pb2
from udaconnect_common import kafka as kafka_headers
from udaconnect_common.ids import PERSON_ID_NAMESPACE, id_for_idempotency_key
from udaconnect_common.timeconv import to_timestamp
from udaconnect_devstack.services import venv_script
from udaconnect_devstack.stack import TOPIC_DEAD_LETTERS, TOPIC_LOCATIONS, TOPIC_PERSONS, LocalStack

pytestmark = pytest.mark.integration

NOW = to_timestamp(datetime(2026, 6, 1, 9, tzinfo=UTC))


def produce(stack: LocalStack, topic: str, key: bytes, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": stack.kafka.bootstrap_servers, "enable.idempotence": True})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(10) == 0


def good_person() -> person_pb2.Person:
    return person_pb2.Person(
        id=str(uuid.uuid4()), first_name=unique_name("Good"), last_name="P", company_name="C", created_at=NOW
    )


def location(person_id: str, latitude: float = 1.0) -> location_pb2.Location:
    return location_pb2.Location(
        id=str(uuid.uuid4()), person_id=person_id, latitude=latitude, longitude=2.0, creation_time=NOW
    )


def test_poison_messages_are_dead_lettered_and_the_good_ones_stored(
    stack: LocalStack, person_api: httpx.Client, location_api: httpx.Client
) -> None:
    before = good_person()
    after = good_person()
    garbage_key = f"garbage-{uuid.uuid4()}".encode()
    invalid = location(before.id, latitude=123.0)
    orphan = location(str(uuid.uuid4()))
    fine = location(after.id)

    produce(stack, TOPIC_PERSONS, before.id.encode(), before.SerializeToString())
    produce(stack, TOPIC_PERSONS, garbage_key, b"\xff\xfe this is not protobuf \x00\x01")
    produce(stack, TOPIC_PERSONS, after.id.encode(), after.SerializeToString())
    produce(stack, TOPIC_LOCATIONS, invalid.person_id.encode(), invalid.SerializeToString())
    produce(stack, TOPIC_LOCATIONS, orphan.person_id.encode(), orphan.SerializeToString())
    produce(stack, TOPIC_LOCATIONS, fine.person_id.encode(), fine.SerializeToString())

    for person_id in (before.id, after.id):
        url = f"/api/persons/{person_id}"
        eventually(lambda url=url: True if person_api.get(url).status_code == 200 else None)  # type: ignore[misc]
    eventually(lambda: True if location_api.get(f"/api/locations/{fine.id}").status_code == 200 else None)

    bootstrap = stack.kafka.bootstrap_servers
    garbage = wait_for_dead_letter(bootstrap, TOPIC_DEAD_LETTERS, garbage_key, 30)
    bad_values = wait_for_dead_letter(bootstrap, TOPIC_DEAD_LETTERS, invalid.person_id.encode(), 30)
    never = wait_for_dead_letter(bootstrap, TOPIC_DEAD_LETTERS, orphan.person_id.encode(), ORPHAN_RETRY_SECONDS + 30)

    assert b"undecodable" in garbage[kafka_headers.DLQ_REASON] or b"INVALID" in garbage[kafka_headers.DLQ_REASON]
    assert garbage[kafka_headers.DLQ_ORIGINAL_TOPIC] == TOPIC_PERSONS.encode()
    assert int(garbage[kafka_headers.DLQ_ORIGINAL_OFFSET]) >= 0
    assert b"latitude" in bad_values[kafka_headers.DLQ_REASON]
    assert orphan.person_id.encode() in never[kafka_headers.DLQ_REASON]
    assert location_api.get(f"/api/locations/{invalid.id}").status_code == 404
    assert stack.services["ingest-consumer"].is_running()


def test_a_dead_letter_is_replayed_after_its_cause_is_fixed(
    stack: LocalStack, person_api: httpx.Client, location_api: httpx.Client
) -> None:
    key = f"fixed-later-{uuid.uuid4()}"
    person_id = str(id_for_idempotency_key(PERSON_ID_NAMESPACE, key))
    ping = location(person_id)
    produce(stack, TOPIC_LOCATIONS, person_id.encode(), ping.SerializeToString())
    wait_for_dead_letter(
        stack.kafka.bootstrap_servers, TOPIC_DEAD_LETTERS, person_id.encode(), ORPHAN_RETRY_SECONDS + 30
    )
    env = {**os.environ, **stack.common_env()}
    tool = venv_script("ingest-dead-letters")

    listing = subprocess.run([tool, "list"], env=env, capture_output=True, text=True, check=True)
    assert person_id in listing.stdout
    # The fix: the missing person arrives (late, under its agreed key).
    body = {"first_name": unique_name("Fixed"), "last_name": "Later", "company_name": "C"}
    assert person_api.post("/api/persons", json=body, headers={"Idempotency-Key": key}).json()["id"] == person_id
    eventually(lambda: True if person_api.get(f"/api/persons/{person_id}").status_code == 200 else None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tool, *args], env=env, capture_output=True, text=True, check=True)

    dry = run("replay", "--dry-run", "--reason-contains", person_id)
    assert person_id in dry.stdout
    assert location_api.get(f"/api/locations/{ping.id}").status_code == 404
    replay = run("replay", "--reason-contains", person_id)

    assert "replayed 1 dead letter" in replay.stderr
    eventually(lambda: True if location_api.get(f"/api/locations/{ping.id}").status_code == 200 else None)
    again = run("replay", "--reason-contains", person_id)
    assert "replayed 0 dead letter" in again.stderr


def test_a_record_only_the_database_refuses_is_dead_lettered_and_its_batch_neighbours_stored(
    stack: LocalStack, person_api: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    refused_name = unique_name("Refused")
    # A rule the service's own checks do not know: only PostgreSQL refuses this record.
    db.execute(f"ALTER TABLE person ADD CONSTRAINT test_refuses_one_name CHECK (first_name <> '{refused_name}')")
    try:
        neighbours = [good_person() for _ in range(20)]
        refused = good_person()
        refused.first_name = refused_name
        # One producer, one flush: the consumer meets them in one batch, the refused one in the middle.
        producer = Producer({"bootstrap.servers": stack.kafka.bootstrap_servers, "enable.idempotence": True})
        for person in [*neighbours[:10], refused, *neighbours[10:]]:
            producer.produce(TOPIC_PERSONS, key=person.id.encode(), value=person.SerializeToString())
        assert producer.flush(10) == 0

        headers = wait_for_dead_letter(stack.kafka.bootstrap_servers, TOPIC_DEAD_LETTERS, refused.id.encode(), 60)
        reason = headers[kafka_headers.DLQ_REASON].decode()
        assert "test_refuses_one_name" in reason
        assert "INVALID_ARGUMENT" in reason

        def all_neighbours_stored() -> bool | None:
            found = [person_api.get(f"/api/persons/{person.id}").status_code for person in neighbours]
            return True if found == [200] * len(neighbours) else None

        eventually(all_neighbours_stored)
        assert person_api.get(f"/api/persons/{refused.id}").status_code == 404
    finally:
        db.execute("ALTER TABLE person DROP CONSTRAINT test_refuses_one_name")
