"""Helpers the integration and end-to-end tests share."""

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import httpx
from confluent_kafka import Consumer
from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.2) -> T:
    """Poll until ``probe`` returns something other than None; fail with the last state after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f}s")
        time.sleep(interval)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_for_dead_letter(bootstrap_servers: str, topic: str, key: bytes, timeout: float) -> dict[str, bytes]:
    """The headers of the first dead letter with this key; fails after ``timeout`` seconds."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap_servers, "group.id": f"test-{uuid.uuid4()}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error() is not None or message.key() != key:
                continue
            raw = message.headers() or []
            pairs = raw.items() if isinstance(raw, dict) else raw
            return {str(name): value if isinstance(value, bytes) else str(value).encode() for name, value in pairs}
    finally:
        consumer.close()
    raise AssertionError(f"no dead letter with key {key!r} on {topic} within {timeout:.0f}s")


def scrape(url: str) -> Callable[..., float]:
    """Fetch a Prometheus endpoint once; the result gives a sample's value by name and labels (0 if absent)."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=10).raise_for_status().text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(name: str, **labels: str) -> float:
        return samples.get((name, frozenset(labels.items())), 0.0)

    return value
