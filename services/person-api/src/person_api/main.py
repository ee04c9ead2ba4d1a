"""Composition root: settings from the environment, real adapters, uvicorn."""

from fastapi import FastAPI

from person_api.adapters import KafkaPersonPublisher, SqlPersonReader
from person_api.app import create_app
from person_api.settings import PersonApiSettings
from udaconnect_common.auth import access_control_from
from udaconnect_common.db import create_read_engine
from udaconnect_common.http import serve
from udaconnect_common.kafka import AsyncKafkaProducer, reliable_producer_config
from udaconnect_common.logs import configure_logging
from udaconnect_common.tracing import configure_tracing, instrument_engine


def build_app() -> FastAPI:
    settings = PersonApiSettings()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing("person-api")
    producer = AsyncKafkaProducer(
        reliable_producer_config(settings.kafka_bootstrap_servers, "person-api", settings.kafka_delivery_timeout_ms)
    )
    engine = create_read_engine(
        settings.database_url, settings.database_pool_size, settings.database_statement_timeout_ms
    )
    instrument_engine(engine)
    return create_app(
        KafkaPersonPublisher(producer, settings.kafka_topic_persons, settings.kafka_topic_person_deletions),
        SqlPersonReader(engine),
        access=access_control_from(settings),
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_allow_origins,
        on_shutdown=[producer.aclose, engine.dispose],
    )


def main() -> None:
    serve("person_api.main:build_app", PersonApiSettings())
