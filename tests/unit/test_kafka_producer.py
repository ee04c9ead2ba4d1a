"""The shared producer's failure paths, against a real librdkafka client with no broker to reach.

Success paths (every message acknowledged) run against a real broker in the integration tests.
"""

import asyncio
import socket
import time
import uuid

import pytest
from prometheus_client import REGISTRY

from udaconnect_common.kafka import AsyncKafkaProducer, DeliveryFailed, _BatchOutcome


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _producer(**overrides: object) -> AsyncKafkaProducer:
    return AsyncKafkaProducer(
        {
            "bootstrap.servers": f"127.0.0.1:{_unused_port()}",
            "message.timeout.ms": 300,
            "log_level": 0,  # librdkafka's connection-refused noise is not what is tested here
            **overrides,
        }
    )


def test_a_batch_nobody_acknowledges_fails_once_every_report_is_in() -> None:
    producer = _producer()
    try:
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as failure:
            asyncio.run(producer.send_all("locations", [(b"k", b"one"), (b"k", b"two"), (b"k", b"three")]))
        assert "timed out" in failure.value.reason.lower()
        # Settled by the delivery reports (message.timeout.ms), not by some other timer of ours.
        assert time.monotonic() - started < 10
    finally:
        producer.close(timeout=1)


def test_a_full_local_queue_fails_the_batch_at_once() -> None:
    producer = _producer(**{"queue.buffering.max.messages": 2, "message.timeout.ms": 60_000})
    try:
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as failure:
            asyncio.run(producer.send_all("locations", [(b"k", b"%d" % i) for i in range(5)]))
        assert "queue full" in failure.value.reason
        assert time.monotonic() - started < 5
    finally:
        producer.close(timeout=0.5)


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_unacknowledged_messages_are_counted_as_failed_by_error() -> None:
    topic = f"metrics-{uuid.uuid4().hex}"  # its own series: other tests' messages do not count
    producer = _producer()
    try:
        with pytest.raises(DeliveryFailed):
            asyncio.run(producer.send_all(topic, [(b"k", b"one"), (b"k", b"two")]))
    finally:
        producer.close(timeout=1)
    assert _count("kafka_producer_failed_total", topic=topic, error="_MSG_TIMED_OUT") == 2
    assert _count("kafka_producer_acknowledged_total", topic=topic) == 0
    assert _count("kafka_producer_ack_seconds_count", topic=topic) == 0


def test_messages_a_full_queue_refused_are_counted_as_failed() -> None:
    topic = f"metrics-{uuid.uuid4().hex}"
    producer = _producer(**{"queue.buffering.max.messages": 2, "message.timeout.ms": 300})
    try:
        with pytest.raises(DeliveryFailed):
            asyncio.run(producer.send_all(topic, [(b"k", b"%d" % i) for i in range(5)]))
        # The two queued time out later; their reports come in before close returns.
    finally:
        producer.close(timeout=2)
    assert _count("kafka_producer_failed_total", topic=topic, error="_QUEUE_FULL") == 3
    assert _count("kafka_producer_failed_total", topic=topic, error="_MSG_TIMED_OUT") == 2


def test_batch_outcome_settles_on_the_last_report_with_the_first_error() -> None:
    outcome = _BatchOutcome(3)
    assert outcome.report(None) is False
    first, second = object(), object()
    assert outcome.report(first) is False  # type: ignore[arg-type]
    assert outcome.report(second) is True  # type: ignore[arg-type]
    assert outcome.first_error is first


def test_an_abandoned_batch_is_never_settled_by_late_reports() -> None:
    outcome = _BatchOutcome(2)
    outcome.abandon()
    assert outcome.report(None) is False
    assert outcome.report(None) is False
