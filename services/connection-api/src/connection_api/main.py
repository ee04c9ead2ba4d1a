"""Composition root: settings from the environment, the database adapter, uvicorn."""

from datetime import timedelta

from fastapi import FastAPI

from connection_api.adapters import SqlConnectionReader
from connection_api.app import create_app
from connection_api.settings import ConnectionApiSettings
from udaconnect_common.auth import access_control_from
from udaconnect_common.db import create_read_engine
from udaconnect_common.http import serve
from udaconnect_common.logs import configure_logging
from udaconnect_common.tracing import configure_tracing, instrument_engine


def build_app() -> FastAPI:
    settings = ConnectionApiSettings()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing("connection-api")
    engine = create_read_engine(
        settings.database_url, settings.database_pool_size, settings.database_statement_timeout_ms
    )
    instrument_engine(engine)
    return create_app(
        SqlConnectionReader(engine, timedelta(milliseconds=settings.query_budget_ms)),
        access=access_control_from(settings),
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_allow_origins,
        on_shutdown=[engine.dispose],
    )


def main() -> None:
    serve("connection_api.main:build_app", ConnectionApiSettings())
