"""Messages that can never be stored go to the dead-letter topic, with where they came from and why."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from confluent_kafka import KafkaError, Message, Producer

from udaconnect_common import kafka

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A consumed Kafka message, reduced to what processing needs."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    # The message's headers (the trace context among them).
    headers: tuple[tuple[str, bytes | None], ...] = ()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    envelope: Envelope
    reason: str


class DeadLetterSink(Protocol):
    def send(self, letters: list[DeadLetter]) -> None:
        """Durably hand over every letter, or raise ``DeadLetterFailed``."""


class DeadLetterFailed(Exception):
    pass


class KafkaDeadLetterSink:
    def __init__(self, producer: Producer, topic: str, flush_timeout_seconds: float = 30.0) -> None:
        self._producer = producer
        self._topic = topic
        self._flush_timeout = flush_timeout_seconds

    def send(self, letters: list[DeadLetter]) -> None:
        failures: list[str] = []

        def on_delivery(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failures.append(error.str())

        failed_at = datetime.now(UTC).isoformat().encode()
        for letter in letters:
            source = letter.envelope
            self._producer.produce(
                self._topic,
                key=source.key,
                value=source.value,
                headers=[
                    (kafka.DLQ_REASON, letter.reason.encode()),
                    (kafka.DLQ_ORIGINAL_TOPIC, source.topic.encode()),
                    (kafka.DLQ_ORIGINAL_PARTITION, str(source.partition).encode()),
                    (kafka.DLQ_ORIGINAL_OFFSET, str(source.offset).encode()),
                    (kafka.DLQ_FAILED_AT, failed_at),
                ],
                on_delivery=on_delivery,
            )
            logger.warning("dead-lettered %s[%d]@%d: %s", source.topic, source.partition, source.offset, letter.reason)
        remaining = self._producer.flush(self._flush_timeout)
        if remaining or failures:
            raise DeadLetterFailed(f"{remaining} not delivered, failures: {failures[:3]}")
