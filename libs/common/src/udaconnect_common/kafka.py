"""Kafka plumbing shared by the APIs (producing writes) and the ingest consumer.

The APIs answer 202 only once the broker has acknowledged the message: the producer is idempotent
with acks=all, and :meth:`AsyncKafkaProducer.send` resolves only from librdkafka's delivery report.
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from udaconnect_common.tracing import message_headers, tracer

logger = logging.getLogger(__name__)

# Headers put on a dead-lettered message, so an operator can see why and where it came from.
DLQ_REASON = "dlq.reason"
DLQ_ORIGINAL_TOPIC = "dlq.original.topic"
DLQ_ORIGINAL_PARTITION = "dlq.original.partition"
DLQ_ORIGINAL_OFFSET = "dlq.original.offset"
DLQ_FAILED_AT = "dlq.failed.at"

# On the APIs' /metrics (the default registry). Per message, not per request: a batch POST is many.
PRODUCER_ACKNOWLEDGED = Counter(
    "kafka_producer_acknowledged_total", "Messages the broker acknowledged (acks=all)", ["topic"]
)
# error: librdkafka's name for it (_MSG_TIMED_OUT, _QUEUE_FULL, ...), what an operator searches for.
PRODUCER_FAILED = Counter(
    "kafka_producer_failed_total", "Messages not acknowledged: their requests were answered 503", ["topic", "error"]
)
# Acknowledged messages only: a failed one's figure is the delivery timeout, which says nothing of the broker.
PRODUCER_ACK_SECONDS = Histogram(
    "kafka_producer_ack_seconds",
    "From produce() to the broker's acknowledgement (librdkafka's delivery report)",
    ["topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def reliable_producer_config(bootstrap_servers: str, client_id: str, delivery_timeout_ms: int) -> dict[str, Any]:
    """Producer settings under which an acknowledged message is durable and never duplicated by retries."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "client.id": client_id,
        # Idempotence implies acks=all and bounded in-flight requests; retries cannot reorder or duplicate.
        "enable.idempotence": True,
        "acks": "all",
        # A few milliseconds of batching under load; negligible latency when idle.
        "linger.ms": 2,
        # The delivery report (success or failure) is guaranteed within this time, which bounds how long
        # a POST can wait before it answers 503.
        "message.timeout.ms": delivery_timeout_ms,
        "compression.type": "lz4",
    }


class DeliveryFailed(Exception):
    """The broker did not acknowledge the message; nothing was accepted."""

    def __init__(self, reason: str, retriable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retriable = retriable


class AsyncKafkaProducer:
    """One long-lived producer per process, awaitable per message.

    librdkafka does its network work in its own threads; a small thread of ours calls ``poll()`` so
    delivery reports are served promptly and resolves the asyncio future of each message.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._producer = Producer(dict(config))
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll_loop, name="kafka-delivery-poller", daemon=True)
        self._poller.start()

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            self._producer.poll(0.1)

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: Mapping[str, bytes] | None = None,
    ) -> None:
        """Produce one message and wait for the broker's acknowledgement. Raises :class:`DeliveryFailed`."""
        await self.send_all(topic, [(key, value)], headers)

    async def send_all(
        self,
        topic: str,
        messages: Sequence[tuple[bytes, bytes]],
        headers: Mapping[str, bytes] | None = None,
    ) -> None:
        """Produce ``(key, value)`` messages and wait until the broker has acknowledged every one.

        Raises :class:`DeliveryFailed` if any was not acknowledged. One future for the whole batch, settled
        by the last delivery report: a future per message cost more than the rest of a batch POST.
        """
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[None] = loop.create_future()
        outcome = _BatchOutcome(len(messages))
        acknowledged, ack_seconds = PRODUCER_ACKNOWLEDGED.labels(topic), PRODUCER_ACK_SECONDS.labels(topic)

        def on_delivery(error: KafkaError | None, message: Message) -> None:
            # Called on the poller thread; the last report hands the outcome to the event loop.
            if error is None:
                acknowledged.inc()
                latency = message.latency()
                if latency is not None:
                    ack_seconds.observe(latency)
            else:
                PRODUCER_FAILED.labels(topic, error.name()).inc()
            if outcome.report(error):
                loop.call_soon_threadsafe(_settle, delivered, outcome.first_error)

        with tracer.start_as_current_span(f"{topic} publish", kind=SpanKind.PRODUCER):
            # The trace context travels in the headers, for the consumer's span to link to.
            header_list: list[tuple[str, str | bytes | None]] = [*(headers or {}).items(), *message_headers()]
            self._produce_all(topic, messages, header_list or None, on_delivery, outcome)
            await delivered

    def _produce_all(
        self,
        topic: str,
        messages: Sequence[tuple[bytes, bytes]],
        header_list: list[tuple[str, str | bytes | None]] | None,
        on_delivery: Callable[[KafkaError | None, Message], None],
        outcome: "_BatchOutcome",
    ) -> None:
        for produced, (key, value) in enumerate(messages):
            try:
                self._producer.produce(topic, value=value, key=key, headers=header_list, on_delivery=on_delivery)
            except (BufferError, KafkaException) as exc:
                # What was produced may still be delivered, but the caller is told the batch failed: the
                # APIs answer 503 and the client retries under the same ids, which the store deduplicates.
                outcome.abandon()
                # The messages never handed to librdkafka get no delivery report: counted here.
                kind = "_QUEUE_FULL" if isinstance(exc, BufferError) else exc.args[0].name()
                PRODUCER_FAILED.labels(topic, kind).inc(len(messages) - produced)
                if isinstance(exc, BufferError):
                    # The local queue is full: the broker is slow or away. Back-pressure, not a server bug.
                    raise DeliveryFailed(f"producer queue full: {exc}") from exc
                error = exc.args[0]
                raise DeliveryFailed(str(error), retriable=error.retriable()) from exc

    def broker_count(self, timeout: float) -> int:
        """How many brokers the cluster metadata lists (0 when unreachable). Blocking: call in a thread."""
        try:
            return len(self._producer.list_topics(timeout=timeout).brokers)
        except KafkaException as exc:
            logger.warning("kafka metadata request failed: %s", exc)
            return 0

    async def check(self) -> None:
        """Raise when no broker answers (for readiness probes)."""
        if await asyncio.to_thread(self.broker_count, 2.0) == 0:
            raise ConnectionError("no Kafka broker answers")

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the poller."""
        remaining = self._producer.flush(timeout)
        if remaining:
            logger.error("%d message(s) not delivered at shutdown; their requests were not acknowledged", remaining)
        self._stopping.set()
        self._poller.join()


def _settle(future: "asyncio.Future[None]", error: KafkaError | None) -> None:
    if future.done():  # the request was cancelled (client went away); the outcome has no one to tell
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(DeliveryFailed(error.str(), retriable=error.retriable()))


class _BatchOutcome:
    """Counts a batch's delivery reports (which arrive on the poller thread) and keeps the first error."""

    def __init__(self, expected: int) -> None:
        self._lock = threading.Lock()
        self._outstanding = expected
        self.first_error: KafkaError | None = None

    def report(self, error: KafkaError | None) -> bool:
        """Record one report; True when it was the last one outstanding."""
        with self._lock:
            if error is not None and self.first_error is None:
                self.first_error = error
            self._outstanding -= 1
            return self._outstanding == 0

    def abandon(self) -> None:
        """Producing stopped part way: the caller has been told, and no longer waits for the outcome."""
        with self._lock:
            # Never reaches zero from here on, so no report settles the (already failed) request.
            self._outstanding = -1
