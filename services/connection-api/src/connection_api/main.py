"""Composition root: settings from the environment, the database adapter, uvicorn."""

import ctypes
from datetime import timedelta

from fastapi import FastAPI

from connection_api.adapters import SqlConnectionReader
from connection_api.app import create_app
from connection_api.contacts_feed import ContactsFeed, ContactsIndex
from connection_api.contacts_reader import IndexedConnectionReader
from connection_api.ports import ConnectionReader
from connection_api.settings import ConnectionApiSettings
from udaconnect_common.auth import access_control_from
from udaconnect_common.db import create_read_engine
from udaconnect_common.http import ReadinessCheck, ShutdownHook, StartupHook, serve
from udaconnect_common.logs import configure_logging
from udaconnect_common.tracing import configure_tracing, instrument_engine

# glibc's M_MMAP_THRESHOLD (malloc.h): allocations from this size on get pages of their own.
_M_MMAP_THRESHOLD = -3
_MMAP_FROM_BYTES = 128 * 1024


def _return_large_arrays_to_the_system() -> None:
    """Fix glibc's threshold for giving an allocation pages of its own at its default (128 KiB).

    By default glibc raises it after each large free, up to 32 MB: the contacts index's arrays, freed when
    it is loaded again, then come from the heap and stay in the process (40 MB more RSS measured after one
    load). Fixed, every array of the index returns to the system when freed. Not glibc: nothing to do.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_FROM_BYTES)


def build_app() -> FastAPI:
    settings = ConnectionApiSettings()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing("connection-api")
    engine = create_read_engine(
        settings.database_url, settings.database_pool_size, settings.database_statement_timeout_ms
    )
    instrument_engine(engine)
    sql = SqlConnectionReader(engine, timedelta(milliseconds=settings.query_budget_ms))
    reader: ConnectionReader = sql
    on_startup: list[StartupHook] = []
    on_shutdown: list[ShutdownHook] = [engine.dispose]
    readiness: dict[str, ReadinessCheck] = {}
    if settings.contacts_index_max_pings > 0:
        _return_large_arrays_to_the_system()
        index = ContactsIndex(ContactsFeed(engine, settings.database_url, settings.contacts_index_max_pings))
        indexed = IndexedConnectionReader(sql, engine, index)
        reader = indexed
        on_startup.append(index.start)
        on_shutdown.insert(0, index.close)
        readiness["contacts_index"] = indexed.check_index
    return create_app(
        reader,
        access=access_control_from(settings),
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_allow_origins,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        readiness_checks=readiness,
    )


def main() -> None:
    serve("connection_api.main:build_app", ConnectionApiSettings())
