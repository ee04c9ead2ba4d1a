"""The consumer's Prometheus metrics that are not counts of the loop's outcomes (those are in ``processor``):
lag per partition, batch sizes, and how long each call to the persistence service takes."""

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import Gauge, Histogram

LAG = Gauge("ingest_consumer_lag", "Messages behind the partition's end (librdkafka's view)", ["topic", "partition"])
BATCH_SIZE = Histogram(
    "ingest_batch_size",
    "Messages per consumed batch",
    buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000),
)
PERSISTENCE_CALL = Histogram(
    "ingest_persistence_call_seconds",
    "Duration of one call to the persistence service",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
)

# How often librdkafka reports its statistics (the lag among them); a setting of the consumer.
STATISTICS_INTERVAL_MS = 5000


def record_statistics(stats_json: str) -> None:
    """librdkafka's statistics callback: each assigned partition's ``consumer_lag`` (-1: not known yet)."""
    stats = json.loads(stats_json)
    for topic, topic_stats in stats.get("topics", {}).items():
        for partition, partition_stats in topic_stats.get("partitions", {}).items():
            lag = partition_stats.get("consumer_lag", -1)
            # -1 is librdkafka's internal UA partition and partitions not consumed by this member.
            if partition != "-1" and lag >= 0:
                LAG.labels(topic, partition).set(lag)


@contextmanager
def timed_call(method: str, clock: Callable[[], float] = time.perf_counter) -> Iterator[None]:
    started = clock()
    try:
        yield
    finally:
        PERSISTENCE_CALL.labels(method).observe(clock() - started)
