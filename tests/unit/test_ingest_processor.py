"""The ingest loop's guarantees, with fakes for Kafka, the persistence service and the dead-letter topic."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
from confluent_kafka import TopicPartition

from ingest_consumer.dead_letters import DeadLetter
from ingest_consumer.gateway import RefusedBatchError, TransientStoreError
from ingest_consumer.processor import IngestProcessor, ShutdownRequested
from ingest_consumer.settings import IngestSettings
from udaconnect.v1 import location_pb2, persistence_pb2, person_pb2
from udaconnect_common.timeconv import to_timestamp

SETTINGS = IngestSettings(
    retry_initial_seconds=0.001, retry_max_seconds=0.002, unknown_person_retry_seconds=60.0, metrics_port=0
)
PERSONS = SETTINGS.kafka_topic_persons
LOCATIONS = SETTINGS.kafka_topic_locations
DELETIONS = SETTINGS.kafka_topic_person_deletions
NOW = to_timestamp(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


class FakeMessage:
    def __init__(self, topic: str, partition: int, offset: int, value: bytes | None) -> None:
        self._topic, self._partition, self._offset, self._value = topic, partition, offset, value

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"key"

    def headers(self) -> None:
        return None

    def value(self) -> bytes | None:
        return self._value


class FakeConsumer:
    def __init__(self) -> None:
        self.batches: list[list[FakeMessage]] = []
        self.committed: dict[tuple[str, int], int] = {}

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[FakeMessage]:
        return self.batches.pop(0) if self.batches else []

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> list[TopicPartition]:
        for tp in offsets:
            self.committed[(tp.topic, tp.partition)] = tp.offset
        return offsets

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(LOCATIONS, 0)]

    def pause(self, partitions: list[TopicPartition]) -> None: ...

    def resume(self, partitions: list[TopicPartition]) -> None: ...


class FakeGateway:
    """Stores like the real service: idempotent by id, locations need their person."""

    def __init__(self) -> None:
        self.persons: dict[str, person_pb2.Person] = {}
        self.locations: dict[str, location_pb2.Location] = {}
        self.transient_failures = 0
        self.calls = 0
        # Like a database constraint the service does not know of: a batch holding this name fails whole.
        self.refused_name: str | None = None
        self.tombstones: set[str] = set()

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.transient_failures:
            self.transient_failures -= 1
            raise TransientStoreError("UNAVAILABLE: database unavailable")

    def save_persons(self, persons: list[person_pb2.Person]) -> persistence_pb2.SaveResponse:
        self._maybe_fail()
        if any(person.first_name == self.refused_name for person in persons):
            raise RefusedBatchError('INVALID_ARGUMENT: the database refuses the batch: violates check "no_mallory"')
        rejections = []
        for index, person in enumerate(persons):
            if person.id in self.tombstones:
                rejections.append(
                    persistence_pb2.Rejection(index=index, reason=persistence_pb2.REJECTION_REASON_DELETED_PERSON)
                )
            elif not person.first_name:
                rejections.append(
                    persistence_pb2.Rejection(
                        index=index, reason=persistence_pb2.REJECTION_REASON_INVALID, detail="first_name empty"
                    )
                )
            else:
                self.persons[person.id] = person
        return persistence_pb2.SaveResponse(rejections=rejections)

    def save_locations(self, locations: list[location_pb2.Location]) -> persistence_pb2.SaveResponse:
        self._maybe_fail()
        rejections = []
        for index, location in enumerate(locations):
            if location.person_id in self.tombstones:
                rejections.append(
                    persistence_pb2.Rejection(index=index, reason=persistence_pb2.REJECTION_REASON_DELETED_PERSON)
                )
            elif location.person_id not in self.persons:
                rejections.append(
                    persistence_pb2.Rejection(index=index, reason=persistence_pb2.REJECTION_REASON_UNKNOWN_PERSON)
                )
            else:
                self.locations[location.id] = location
        return persistence_pb2.SaveResponse(rejections=rejections)

    def delete_persons(self, person_ids: list[str]) -> persistence_pb2.DeleteResponse:
        self._maybe_fail()
        self.tombstones.update(person_ids)
        gone = [i for i, location in self.locations.items() if location.person_id in person_ids]
        for location_id in gone:
            del self.locations[location_id]
        persons = sum(1 for person_id in person_ids if self.persons.pop(person_id, None) is not None)
        return persistence_pb2.DeleteResponse(persons_deleted=persons, locations_deleted=len(gone))


class FakeDeadLetters:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def send(self, letters: list[DeadLetter]) -> None:
        self.letters.extend(letters)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Parts = tuple[FakeConsumer, FakeGateway, FakeDeadLetters, FakeClock]


def person_message(offset: int, first_name: str = "Ada") -> tuple[str, FakeMessage]:
    person = person_pb2.Person(
        id=str(uuid.uuid4()), first_name=first_name, last_name="L", company_name="C", created_at=NOW
    )
    return person.id, FakeMessage(PERSONS, 0, offset, person.SerializeToString())


def location_message(offset: int, person_id: str) -> tuple[str, FakeMessage]:
    location = location_pb2.Location(
        id=str(uuid.uuid4()), person_id=person_id, latitude=37.55, longitude=-122.29, creation_time=NOW
    )
    return location.id, FakeMessage(LOCATIONS, 0, offset, location.SerializeToString())


def deletion_message(offset: int, person_id: str) -> FakeMessage:
    deletion = person_pb2.PersonDeletion(person_id=person_id, requested_at=NOW)
    return FakeMessage(DELETIONS, 0, offset, deletion.SerializeToString())


@pytest.fixture
def parts() -> Parts:
    return FakeConsumer(), FakeGateway(), FakeDeadLetters(), FakeClock()


def make(parts: Parts) -> IngestProcessor:
    consumer, gateway, dead, clock = parts
    return IngestProcessor(consumer, gateway, dead, SETTINGS, threading.Event(), clock)  # type: ignore[arg-type]


def test_stores_a_batch_then_commits_past_it(
    parts: Parts,
) -> None:
    consumer, gateway, dead, _ = parts
    person_id, person = person_message(0)
    location_id, location = location_message(0, person_id)
    consumer.batches = [[person, location]]

    make(parts).step()

    assert set(gateway.persons) == {person_id}
    assert set(gateway.locations) == {location_id}
    assert consumer.committed == {(PERSONS, 0): 1, (LOCATIONS, 0): 1}
    assert dead.letters == []


def test_garbage_and_invalid_messages_are_dead_lettered_and_the_good_ones_stored(
    parts: Parts,
) -> None:
    consumer, gateway, dead, _ = parts
    good_id, good = person_message(0)
    _, invalid = person_message(1, first_name="")
    garbage = FakeMessage(PERSONS, 0, 2, b"\xff\xff\xff\xff not protobuf")
    empty = FakeMessage(PERSONS, 0, 3, None)
    after_id, after = person_message(4)
    consumer.batches = [[good, invalid, garbage, empty, after]]

    make(parts).step()

    assert set(gateway.persons) == {good_id, after_id}
    assert sorted(letter.envelope.offset for letter in dead.letters) == [1, 2, 3]
    reasons = {letter.envelope.offset: letter.reason for letter in dead.letters}
    assert "INVALID" in reasons[1]
    assert "undecodable" in reasons[2]
    assert "empty" in reasons[3]
    assert consumer.committed[(PERSONS, 0)] == 5


def test_transient_failures_are_retried_without_losing_the_batch(
    parts: Parts,
) -> None:
    consumer, gateway, _, _ = parts
    gateway.transient_failures = 3
    person_id, person = person_message(0)
    consumer.batches = [[person]]

    make(parts).step()

    assert gateway.calls == 4
    assert set(gateway.persons) == {person_id}
    assert consumer.committed == {(PERSONS, 0): 1}


def test_stop_during_retry_leaves_the_batch_uncommitted(
    parts: Parts,
) -> None:
    consumer, gateway, dead, clock = parts
    gateway.transient_failures = 1_000_000
    _, person = person_message(0)
    consumer.batches = [[person]]
    stop = threading.Event()
    stop.set()
    processor = IngestProcessor(consumer, gateway, dead, SETTINGS, stop, clock)  # type: ignore[arg-type]

    with pytest.raises(ShutdownRequested):
        processor.step()
    assert consumer.committed == {}


def test_location_before_its_person_waits_and_holds_the_commit_back(
    parts: Parts,
) -> None:
    consumer, gateway, dead, clock = parts
    person_id, person = person_message(0)
    early_id, early = location_message(0, person_id)
    _, later = location_message(1, str(uuid.uuid4()))
    gateway.persons["someone"] = person_pb2.Person(id="someone")
    processor = make(parts)

    consumer.batches = [[early]]
    processor.step()
    assert gateway.locations == {}
    # Not committed past the waiting location: a crash now must replay it.
    assert consumer.committed.get((LOCATIONS, 0), 0) == 0

    consumer.batches = [[person, later]]
    clock.now += 5
    processor.step()

    assert early_id in gateway.locations
    assert dead.letters == []
    # The first location is stored; the second waits for its person, so the commit stops there.
    assert consumer.committed[(LOCATIONS, 0)] == 1


def test_location_whose_person_never_comes_is_dead_lettered_after_the_bound(
    parts: Parts,
) -> None:
    consumer, gateway, dead, clock = parts
    orphan_person = str(uuid.uuid4())
    _, orphan = location_message(0, orphan_person)
    processor = make(parts)

    consumer.batches = [[orphan]]
    processor.step()
    assert dead.letters == []

    clock.now += SETTINGS.unknown_person_retry_seconds + 1
    processor.step()

    assert len(dead.letters) == 1
    assert orphan_person in dead.letters[0].reason
    assert consumer.committed[(LOCATIONS, 0)] == 1
    assert gateway.locations == {}


def test_rebalance_forgets_parked_locations_of_revoked_partitions(
    parts: Parts,
) -> None:
    consumer, _, dead, clock = parts
    _, orphan = location_message(0, str(uuid.uuid4()))
    processor = make(parts)
    consumer.batches = [[orphan]]
    processor.step()

    processor.on_revoke(None, [TopicPartition(LOCATIONS, 0)])
    clock.now += SETTINGS.unknown_person_retry_seconds + 1
    processor.step()

    # The new owner of the partition replays it from the last commit; this member does nothing more.
    assert dead.letters == []


def test_a_batch_refused_for_one_record_dead_letters_only_that_record(parts: Parts) -> None:
    consumer, gateway, dead, _ = parts
    gateway.refused_name = "Mallory"
    messages = [person_message(offset, "Mallory" if offset == 37 else "Ada") for offset in range(100)]
    consumer.batches = [[message for _, message in messages]]

    make(parts).step()

    assert set(gateway.persons) == {person_id for offset, (person_id, _) in enumerate(messages) if offset != 37}
    assert [letter.envelope.offset for letter in dead.letters] == [37]
    assert 'violates check "no_mallory"' in dead.letters[0].reason
    assert consumer.committed == {(PERSONS, 0): 100}, "the partition moves on past the refused record"
    # Three tries of the whole batch, then about two calls per halving (log2(100) ~ 7 levels).
    assert gateway.calls <= SETTINGS.refused_batch_attempts + 2 * 7 + 1


def test_a_refusal_that_passes_on_retry_splits_nothing(parts: Parts) -> None:
    consumer, gateway, dead, _ = parts
    ids_and_messages = [person_message(offset) for offset in range(4)]
    consumer.batches = [[message for _, message in ids_and_messages]]
    refusals = iter([True, False])

    def refuse_once(persons: list[person_pb2.Person]) -> persistence_pb2.SaveResponse:
        if next(refusals, False):
            raise RefusedBatchError("INTERNAL: a passing bug")
        return FakeGateway.save_persons(gateway, persons)

    gateway.save_persons = refuse_once  # type: ignore[method-assign]
    make(parts).step()

    assert len(gateway.persons) == 4
    assert dead.letters == []


def test_transient_failures_never_split_or_dead_letter(parts: Parts) -> None:
    consumer, gateway, dead, _ = parts
    gateway.transient_failures = 2 * SETTINGS.refused_batch_attempts + 5
    consumer.batches = [[message for _, message in (person_message(offset) for offset in range(8))]]

    make(parts).step()

    assert len(gateway.persons) == 8
    assert dead.letters == []


def test_a_deletion_forgets_the_person_and_drops_what_comes_for_them_later(parts: Parts) -> None:
    consumer, gateway, dead, _ = parts
    person_id, person = person_message(0)
    stored_id, stored = location_message(0, person_id)
    processor = make(parts)
    consumer.batches = [[person, stored]]
    processor.step()
    assert stored_id in gateway.locations

    # The deletion and a ping still in flight arrive together, then a replay of the creation.
    _, in_flight = location_message(1, person_id)
    replayed = FakeMessage(PERSONS, 0, 1, gateway_person(gateway, person_id))
    consumer.batches = [[deletion_message(0, person_id), in_flight], [replayed]]
    processor.step()
    processor.step()

    assert person_id not in gateway.persons
    assert gateway.locations == {}
    # Dropped, not dead-lettered (a dead letter would keep the deleted person's coordinates), and not
    # parked: the commits move past them.
    assert dead.letters == []
    assert consumer.committed[(LOCATIONS, 0)] == 2
    assert consumer.committed[(DELETIONS, 0)] == 1
    assert consumer.committed[(PERSONS, 0)] == 2


def gateway_person(gateway: FakeGateway, person_id: str) -> bytes:
    return person_pb2.Person(id=person_id, first_name="Ada", last_name="L", company_name="C").SerializeToString()


def test_a_deletion_that_is_not_a_person_id_is_dead_lettered(parts: Parts) -> None:
    consumer, gateway, dead, _ = parts
    consumer.batches = [[deletion_message(0, "not-a-uuid"), FakeMessage(DELETIONS, 0, 1, b"\xff\xff")]]
    make(parts).step()
    assert dead.letters[0].reason == "not a person id: 'not-a-uuid'"
    assert len(dead.letters) == 2
    assert gateway.tombstones == set()
    assert consumer.committed[(DELETIONS, 0)] == 2


def test_a_deletion_is_retried_through_transient_failures(parts: Parts) -> None:
    consumer, gateway, dead, _ = parts
    person_id = str(uuid.uuid4())
    gateway.transient_failures = 2
    consumer.batches = [[deletion_message(0, person_id)]]
    make(parts).step()
    assert gateway.tombstones == {person_id}
    assert dead.letters == []
