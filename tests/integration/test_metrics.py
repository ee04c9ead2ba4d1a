"""The APIs' /metrics on the real system: the producer's acknowledgements and the read pool's figures."""

import httpx
import pytest

from tests.support import scrape, unique_name
from udaconnect_devstack.stack import TOPIC_PERSONS, LocalStack

pytestmark = pytest.mark.integration


def test_an_accepted_post_counts_one_acknowledged_message_and_its_latency(
    stack: LocalStack, person_api: httpx.Client
) -> None:
    metrics = f"{stack.url('person-api')}/metrics"
    before = scrape(metrics)
    body = {"first_name": unique_name("Metric"), "last_name": "Counted", "company_name": "Prometheus"}
    assert person_api.post("/api/persons", json=body).status_code == 202
    after = scrape(metrics)
    for series in ("kafka_producer_acknowledged_total", "kafka_producer_ack_seconds_count"):
        assert after(series, topic=TOPIC_PERSONS) - before(series, topic=TOPIC_PERSONS) == 1, series
    assert after("kafka_producer_ack_seconds_sum", topic=TOPIC_PERSONS) > before(
        "kafka_producer_ack_seconds_sum", topic=TOPIC_PERSONS
    )


def test_a_read_api_reports_its_pool(stack: LocalStack, person_api: httpx.Client) -> None:
    assert person_api.get("/api/persons").status_code == 200
    metrics = scrape(f"{stack.url('person-api')}/metrics")
    assert metrics("db_pool_size", engine="read") == 5  # DATABASE_POOL_SIZE's default
    assert metrics("db_pool_max_connections", engine="read") == 10
    # The read came back: its connection is idle in the pool.
    assert metrics("db_pool_checked_in", engine="read") >= 1
