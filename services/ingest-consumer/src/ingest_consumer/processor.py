"""The ingest loop: Kafka batch in, persistence service call, dead letters, then the offset commit.

Guarantees (see docs/reliability.md):
- at-least-once: an offset is committed only after every message before it in its partition is stored
  or dead-lettered; a crash replays from the last commit and the persistence service's idempotent
  inserts make the replay harmless;
- transient failures (persistence service or database away) are retried with capped exponential
  backoff, keeping the batch;
- a message that can never be stored (undecodable, invalid values, person that never arrives) goes to
  the dead-letter topic with the reason, and the loop moves on: one bad message never stalls it;
- a batch the store refuses as a whole (a record only the database refuses) is tried a bounded number
  of times, then halved until the refused records are found: only those are dead-lettered;
- a person deletion is applied before the locations of its batch; what arrives for a deleted person
  afterwards (a ping in flight, a replayed creation) is dropped and counted, not dead-lettered: a dead
  letter would keep the coordinates of someone who asked to be forgotten.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from confluent_kafka import KafkaException, Message, TopicPartition
from google.protobuf.message import DecodeError
from prometheus_client import Counter, Gauge

from ingest_consumer.dead_letters import DeadLetter, DeadLetterFailed, DeadLetterSink, Envelope
from ingest_consumer.gateway import PersistenceGateway, RefusedBatchError, TransientStoreError
from ingest_consumer.metrics import BATCH_SIZE
from ingest_consumer.settings import IngestSettings
from udaconnect.v1 import location_pb2, persistence_pb2, person_pb2
from udaconnect_common.tracing import consumer_batch_span

logger = logging.getLogger(__name__)

STORED = Counter("ingest_stored_total", "Messages stored (or found already stored)", ["topic"])
DEAD_LETTERED = Counter("ingest_dead_lettered_total", "Messages sent to the dead-letter topic", ["topic"])
RETRIES = Counter("ingest_transient_failures_total", "Calls that failed transiently and were retried")
REFUSED = Counter("ingest_refused_batches_total", "Batches (or parts of one) the store refused as a whole")
DROPPED_DELETED = Counter(
    "ingest_dropped_for_deleted_person_total", "Messages dropped because their person was deleted", ["topic"]
)
DELETED_PERSONS = Counter("ingest_deleted_persons_total", "Person deletions applied")
PARKED = Gauge("ingest_parked_locations", "Locations waiting for their person to be stored")

T = TypeVar("T")
Item = TypeVar("Item", person_pb2.Person, location_pb2.Location)


class KafkaConsumerPort(Protocol):
    """The part of ``confluent_kafka.Consumer`` the loop uses (a fake stands in for it in unit tests)."""

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]: ...

    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[False]) -> list[TopicPartition]: ...

    def assignment(self) -> list[TopicPartition]: ...

    def pause(self, partitions: list[TopicPartition]) -> None: ...

    def resume(self, partitions: list[TopicPartition]) -> None: ...


class ShutdownRequested(Exception):
    """Stop was asked for while waiting to retry: leave the batch uncommitted, it will be redelivered."""


@dataclass(slots=True)
class ParkedLocation:
    envelope: Envelope
    location: location_pb2.Location
    first_attempt: float
    next_attempt: float
    attempts: int


class IngestProcessor:
    def __init__(
        self,
        consumer: KafkaConsumerPort,
        gateway: PersistenceGateway,
        dead_letters: DeadLetterSink,
        settings: IngestSettings,
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._gateway = gateway
        self._dead_letters = dead_letters
        self._settings = settings
        self._stop = stop
        self._clock = clock
        # Next offset to commit per partition, if nothing before it is still parked.
        self._consumed_upto: dict[tuple[str, int], int] = {}
        self._committed: dict[tuple[str, int], int] = {}
        self._parked: dict[tuple[str, int, int], ParkedLocation] = {}
        self._locations_paused = False

    # -- rebalance callbacks (called from inside consume(), between steps) --------------------------

    def on_revoke(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        revoked = {(p.topic, p.partition) for p in partitions}
        # Parked messages of a revoked partition are uncommitted, so their new owner gets them again.
        self._parked = {k: v for k, v in self._parked.items() if (k[0], k[1]) not in revoked}
        for key in revoked:
            self._consumed_upto.pop(key, None)
            self._committed.pop(key, None)
        self._locations_paused = False
        PARKED.set(len(self._parked))

    # -- the loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except ShutdownRequested:
                logger.info("stopping with the current batch uncommitted; it will be redelivered")
                return

    def step(self) -> None:
        messages = self._consumer.consume(self._settings.batch_size, self._settings.poll_timeout_seconds)
        if messages:
            BATCH_SIZE.observe(len(messages))
        persons: list[tuple[Envelope, person_pb2.Person]] = []
        locations: list[tuple[Envelope, location_pb2.Location]] = []
        deletions: list[tuple[Envelope, uuid.UUID]] = []
        dead: list[DeadLetter] = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise RuntimeError(f"fatal Kafka consumer error: {error.str()}")
                logger.warning("Kafka consumer error: %s", error.str())
                continue
            envelope = _envelope(message)
            self._consumed_upto[(envelope.topic, envelope.partition)] = envelope.offset + 1
            if envelope.topic == self._settings.kafka_topic_persons:
                decoded_person = _decode(envelope, person_pb2.Person)
                if isinstance(decoded_person, str):
                    dead.append(DeadLetter(envelope, decoded_person))
                else:
                    persons.append((envelope, decoded_person))
            elif envelope.topic == self._settings.kafka_topic_locations:
                decoded_location = _decode(envelope, location_pb2.Location)
                if isinstance(decoded_location, str):
                    dead.append(DeadLetter(envelope, decoded_location))
                else:
                    locations.append((envelope, decoded_location))
            elif envelope.topic == self._settings.kafka_topic_person_deletions:
                deletion = _decode(envelope, person_pb2.PersonDeletion)
                person_id = _person_id(deletion.person_id) if not isinstance(deletion, str) else None
                if isinstance(deletion, str) or person_id is None:
                    why = deletion if isinstance(deletion, str) else f"not a person id: {deletion.person_id!r}"
                    dead.append(DeadLetter(envelope, why))
                else:
                    deletions.append((envelope, person_id))
            else:
                dead.append(DeadLetter(envelope, f"no handler for topic {envelope.topic}"))

        # Persons first: a person and its first pings often arrive in the same batch.
        if persons:
            with consumer_batch_span(self._settings.kafka_topic_persons, [e.headers for e, _ in persons]):
                response, refused = self._save_isolating([p for _, p in persons], self._gateway.save_persons)
            dead.extend(self._rejected(persons, response, unknown_person_ok=False))
            dead.extend(DeadLetter(persons[index][0], why) for index, why in refused)
            stored = len(persons) - len(response.rejections) - len(refused)
            STORED.labels(self._settings.kafka_topic_persons).inc(stored)
        if deletions:
            with consumer_batch_span(self._settings.kafka_topic_person_deletions, [e.headers for e, _ in deletions]):
                self._delete_persons(deletions, dead)
        self._store_locations(locations, dead)
        if dead:
            self._with_retry(lambda: self._send_dead_letters(dead))
        self._commit()
        self._apply_backpressure()

    def _delete_persons(self, deletions: list[tuple[Envelope, uuid.UUID]], dead: list[DeadLetter]) -> None:
        ids = sorted({str(person_id) for _, person_id in deletions})
        try:
            response = self._with_retry(lambda: self._gateway.delete_persons(ids))
        except RefusedBatchError as exc:
            # The ids were checked above, so this is a bug of the service: keep the requests for a replay.
            dead.extend(
                DeadLetter(envelope, f"deletion refused by the persistence service: {exc}") for envelope, _ in deletions
            )
            return
        DELETED_PERSONS.inc(len(ids))
        logger.info(
            "deleted %d person(s): %d person row(s), %d ping(s)",
            len(ids),
            response.persons_deleted,
            response.locations_deleted,
        )

    # -- locations and the parking lot ------------------------------------------------------------

    def _store_locations(self, fresh: list[tuple[Envelope, location_pb2.Location]], dead: list[DeadLetter]) -> None:
        now = self._clock()
        due = [p for p in self._parked.values() if p.next_attempt <= now]
        batch = [(p.envelope, p.location) for p in due] + fresh
        if not batch:
            return
        with consumer_batch_span(self._settings.kafka_topic_locations, [e.headers for e, _ in batch]):
            response, refused = self._save_isolating([loc for _, loc in batch], self._gateway.save_locations)
        dead.extend(self._rejected(batch, response, unknown_person_ok=True))
        # A refused location is not "unknown person": below it leaves the parking lot, for the dead letters.
        dead.extend(DeadLetter(batch[index][0], why) for index, why in refused)
        stored = len(batch) - len(response.rejections) - len(refused)
        STORED.labels(self._settings.kafka_topic_locations).inc(stored)
        unknown = {r.index for r in response.rejections if r.reason == persistence_pb2.REJECTION_REASON_UNKNOWN_PERSON}
        now = self._clock()
        for index, (envelope, location) in enumerate(batch):
            key = (envelope.topic, envelope.partition, envelope.offset)
            if index not in unknown:
                self._parked.pop(key, None)
                continue
            parked = self._parked.get(key) or ParkedLocation(envelope, location, now, now, 0)
            if now - parked.first_attempt >= self._settings.unknown_person_retry_seconds:
                self._parked.pop(key, None)
                dead.append(
                    DeadLetter(
                        envelope,
                        f"person {location.person_id} not stored after "
                        f"{self._settings.unknown_person_retry_seconds:.0f}s of retries",
                    )
                )
                continue
            parked.attempts += 1
            parked.next_attempt = now + min(0.5 * 2 ** (parked.attempts - 1), self._settings.retry_max_seconds)
            self._parked[key] = parked
        PARKED.set(len(self._parked))

    def _rejected(
        self,
        batch: Sequence[tuple[Envelope, object]],
        response: persistence_pb2.SaveResponse,
        unknown_person_ok: bool,
    ) -> list[DeadLetter]:
        letters = []
        dropped: dict[str, int] = {}
        for rejection in response.rejections:
            if unknown_person_ok and rejection.reason == persistence_pb2.REJECTION_REASON_UNKNOWN_PERSON:
                continue
            if rejection.reason == persistence_pb2.REJECTION_REASON_DELETED_PERSON:
                topic = batch[rejection.index][0].topic
                dropped[topic] = dropped.get(topic, 0) + 1
                continue
            reason = persistence_pb2.RejectionReason.Name(rejection.reason)
            letters.append(DeadLetter(batch[rejection.index][0], f"{reason}: {rejection.detail}"))
        for topic, count in dropped.items():
            DROPPED_DELETED.labels(topic).inc(count)
            logger.info("dropped %d message(s) of %s for deleted persons", count, topic)
        return letters

    def _send_dead_letters(self, dead: list[DeadLetter]) -> None:
        try:
            self._dead_letters.send(dead)
        except DeadLetterFailed as exc:
            raise TransientStoreError(f"dead-letter topic: {exc}") from exc
        for letter in dead:
            DEAD_LETTERED.labels(letter.envelope.topic).inc()

    # -- commits and flow control -----------------------------------------------------------------

    def _commit(self) -> None:
        oldest_parked: dict[tuple[str, int], int] = {}
        for topic, partition, offset in self._parked:
            key = (topic, partition)
            oldest_parked[key] = min(offset, oldest_parked.get(key, offset))
        offsets = []
        for key, upto in self._consumed_upto.items():
            # Never commit past a parked message: after a crash it must be read again.
            position = min(upto, oldest_parked.get(key, upto))
            if self._committed.get(key) != position:
                offsets.append(TopicPartition(key[0], key[1], position))
        if not offsets:
            return
        try:
            # Synchronous: the next batch starts only when this one is durably done.
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # Typically a rebalance took the partitions away meanwhile. Their new owner replays from the
            # last commit, and the idempotent store makes that replay harmless.
            logger.warning("offset commit failed, messages will be redelivered: %s", exc)
            return
        for tp in offsets:
            self._committed[(tp.topic, tp.partition)] = tp.offset

    def _apply_backpressure(self) -> None:
        over = len(self._parked) >= self._settings.max_parked_locations
        if over == self._locations_paused:
            return
        partitions = [tp for tp in self._consumer.assignment() if tp.topic == self._settings.kafka_topic_locations]
        if over:
            logger.warning("%d locations wait for their person: pausing location partitions", len(self._parked))
            self._consumer.pause(partitions)
        else:
            self._consumer.resume(partitions)
        self._locations_paused = over

    def _save_isolating(
        self,
        items: list[Item],
        save: Callable[[list[Item]], persistence_pb2.SaveResponse],
        refusals_allowed: int | None = None,
    ) -> tuple[persistence_pb2.SaveResponse, list[tuple[int, str]]]:
        """Store ``items``; the store's response, and the (index, reason) of each item it refused.

        A refused batch is tried ``refused_batch_attempts`` times (it may have been a passing bug), then
        halved, each half tried once, recursively: a single bad record among n costs about 2·log2(n) calls,
        and every other record is stored.
        """
        attempts = self._settings.refused_batch_attempts if refusals_allowed is None else refusals_allowed
        try:
            return self._with_retry(lambda: save(items), refusals_allowed=attempts), []
        except RefusedBatchError as exc:
            REFUSED.inc()
            if len(items) == 1:
                return persistence_pb2.SaveResponse(), [(0, f"refused by the persistence service: {exc}")]
        middle: int = len(items) // 2
        left: persistence_pb2.SaveResponse
        right: persistence_pb2.SaveResponse
        left, left_refused = self._save_isolating(items[:middle], save, refusals_allowed=1)
        right, right_refused = self._save_isolating(items[middle:], save, refusals_allowed=1)
        shifted: list[persistence_pb2.Rejection] = [
            persistence_pb2.Rejection(index=r.index + middle, id=r.id, reason=r.reason, detail=r.detail)
            for r in right.rejections
        ]
        merged = persistence_pb2.SaveResponse(
            inserted=left.inserted + right.inserted,
            already_stored=left.already_stored + right.already_stored,
            rejections=[*left.rejections, *shifted],
        )
        return merged, left_refused + [(index + middle, why) for index, why in right_refused]

    def _with_retry(self, call: Callable[[], T], refusals_allowed: int = 1) -> T:
        """``call()``, retried with backoff while it fails transiently (for as long as that lasts) and up to
        ``refusals_allowed`` attempts in all while it is refused (then the refusal is raised)."""
        delay = self._settings.retry_initial_seconds
        refusals = 0
        while True:
            try:
                return call()
            except TransientStoreError as exc:
                RETRIES.inc()
                logger.warning("transient failure, retrying in %.1fs: %s", delay, exc)
                failure: Exception = exc
            except RefusedBatchError as exc:
                refusals += 1
                if refusals >= refusals_allowed:
                    raise
                logger.warning("store refused the batch (%d of %d), retrying: %s", refusals, refusals_allowed, exc)
                failure = exc
            if self._stop.wait(delay):
                raise ShutdownRequested() from failure
            delay = min(delay * 2, self._settings.retry_max_seconds)


def _envelope(message: Message) -> Envelope:
    topic = message.topic()
    partition = message.partition()
    offset = message.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("not a consumed message: topic, partition or offset missing")
    raw = message.headers() or ()
    pairs = raw.items() if isinstance(raw, dict) else raw
    headers = tuple((name, value.encode() if isinstance(value, str) else value) for name, value in pairs)
    return Envelope(topic, partition, offset, message.key(), message.value(), headers)


Decodable = TypeVar("Decodable", person_pb2.Person, location_pb2.Location, person_pb2.PersonDeletion)


def _decode(envelope: Envelope, message_type: type[Decodable]) -> Decodable | str:
    """The decoded message, or the reason it cannot be decoded."""
    if envelope.value is None:
        return "empty message value"
    try:
        return message_type.FromString(envelope.value)
    except DecodeError as exc:
        return f"undecodable {message_type.DESCRIPTOR.full_name}: {exc}"


def _person_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
