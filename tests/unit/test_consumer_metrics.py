"""The consumer's lag, batch and call metrics, from librdkafka's statistics and a timed call."""

import json

from prometheus_client import REGISTRY

from ingest_consumer.metrics import record_statistics, timed_call


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_the_lag_of_each_consumed_partition_is_recorded_and_unknown_ones_are_not() -> None:
    stats = {
        "topics": {
            "udaconnect.locations.v1": {
                "partitions": {
                    "0": {"consumer_lag": 42},
                    "1": {"consumer_lag": 0},
                    # Not (yet) consumed by this member, and librdkafka's internal unassigned partition.
                    "2": {"consumer_lag": -1},
                    "-1": {"consumer_lag": 7},
                }
            }
        }
    }
    record_statistics(json.dumps(stats))
    assert _sample("ingest_consumer_lag", topic="udaconnect.locations.v1", partition="0") == 42
    assert _sample("ingest_consumer_lag", topic="udaconnect.locations.v1", partition="1") == 0
    assert _sample("ingest_consumer_lag", topic="udaconnect.locations.v1", partition="2") is None
    assert _sample("ingest_consumer_lag", topic="udaconnect.locations.v1", partition="-1") is None
    record_statistics(json.dumps({"topics": {}}))  # a report without topics changes nothing
    assert _sample("ingest_consumer_lag", topic="udaconnect.locations.v1", partition="0") == 42


def test_a_call_is_timed_even_when_it_fails() -> None:
    ticks = iter([10.0, 10.25, 20.0, 21.0])
    before = _sample("ingest_persistence_call_seconds_count", method="Probe") or 0.0
    with timed_call("Probe", clock=lambda: next(ticks)):
        pass
    try:
        with timed_call("Probe", clock=lambda: next(ticks)):
            raise TimeoutError
    except TimeoutError:
        pass
    assert _sample("ingest_persistence_call_seconds_count", method="Probe") == before + 2
    assert _sample("ingest_persistence_call_seconds_sum", method="Probe") == 1.25
