"""Composition root of the ingest consumer: settings, Kafka consumer group, gRPC gateway, dead-letter sink."""

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from confluent_kafka import Consumer, Producer
from prometheus_client import start_http_server

from ingest_consumer.dead_letters import KafkaDeadLetterSink
from ingest_consumer.gateway import GrpcPersistenceGateway
from ingest_consumer.metrics import STATISTICS_INTERVAL_MS, record_statistics
from ingest_consumer.processor import IngestProcessor
from ingest_consumer.settings import IngestSettings
from udaconnect_common.kafka import reliable_producer_config
from udaconnect_common.logs import configure_logging
from udaconnect_common.tracing import configure_tracing, instrument_grpc_client

logger = logging.getLogger(__name__)


def main() -> None:
    settings = IngestSettings()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing("ingest-consumer")
    instrument_grpc_client()
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: finishing the current batch, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    consumer_config: dict[str, str | int | bool | Callable[[str], None]] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": settings.consumer_group_id,
        "client.id": "ingest-consumer",
        # Offsets are committed by hand, only after the batch is stored (at-least-once).
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        # A long database outage keeps the batch in retry; stay in the group meanwhile.
        "max.poll.interval.ms": 600_000,
        "session.timeout.ms": settings.consumer_session_timeout_ms,
        "heartbeat.interval.ms": max(500, settings.consumer_session_timeout_ms // 5),
        # librdkafka prefetches up to 64 MB by default; behind under load, that was most of the process's
        # memory. A few batches ahead is all the next poll needs.
        "queued.max.messages.kbytes": settings.prefetch_kbytes,
        "fetch.max.bytes": settings.prefetch_kbytes * 1024,
        # The lag per partition, for /metrics.
        "statistics.interval.ms": STATISTICS_INTERVAL_MS,
        "stats_cb": record_statistics,
    }
    if settings.consumer_instance_id:
        consumer_config["group.instance.id"] = settings.consumer_instance_id
    consumer = Consumer(consumer_config)
    gateway = GrpcPersistenceGateway(settings.persistence_address, settings.rpc_timeout_seconds)
    dead_letter_producer = Producer(
        reliable_producer_config(settings.kafka_bootstrap_servers, "ingest-consumer-dlq", delivery_timeout_ms=30_000)
    )
    processor = IngestProcessor(
        consumer, gateway, KafkaDeadLetterSink(dead_letter_producer, settings.kafka_topic_dead_letters), settings, stop
    )
    topics = [settings.kafka_topic_persons, settings.kafka_topic_person_deletions, settings.kafka_topic_locations]
    consumer.subscribe(topics, on_revoke=processor.on_revoke)
    logger.info("consuming %s as group %s", ", ".join(topics), settings.consumer_group_id)
    try:
        processor.run()
    finally:
        # close() leaves the group at once, so the partitions move to another member without waiting
        # for the session timeout. Nothing uncommitted is committed here.
        consumer.close()
        gateway.close()
        dead_letter_producer.flush(10)
    logger.info("ingest consumer stopped")
