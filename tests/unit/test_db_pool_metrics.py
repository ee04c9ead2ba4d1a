"""The connection pool's figures on /metrics, from a real SQLAlchemy QueuePool (on SQLite)."""

import gc
import uuid
from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text
from sqlalchemy.pool import QueuePool

from udaconnect_common.db import create_read_engine, observe_pool


def _sample(name: str, engine: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"engine": engine})


def test_checked_out_and_overflow_follow_the_connections_in_use(tmp_path: Path) -> None:
    name = f"test-{uuid.uuid4().hex}"
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}", poolclass=QueuePool, pool_size=2, max_overflow=1)
    observe_pool(engine, name)
    try:
        assert _sample("db_pool_size", name) == 2
        assert _sample("db_pool_max_connections", name) == 3
        assert _sample("db_pool_checked_out", name) == 0
        first, second, third = engine.connect(), engine.connect(), engine.connect()
        first.execute(text("SELECT 1"))
        assert _sample("db_pool_checked_out", name) == 3
        assert _sample("db_pool_overflow", name) == 1
        third.close()
        second.close()
        assert _sample("db_pool_checked_out", name) == 1
        assert _sample("db_pool_checked_in", name) == 2
        assert _sample("db_pool_overflow", name) == 1
        first.close()  # returned to a full pool: closed, the overflow gone
        assert _sample("db_pool_checked_out", name) == 0
        assert _sample("db_pool_checked_in", name) == 2
        assert _sample("db_pool_overflow", name) == 0
    finally:
        engine.dispose()


def test_a_later_engine_of_the_same_name_replaces_the_earlier(tmp_path: Path) -> None:
    name = f"test-{uuid.uuid4().hex}"
    for size in (2, 4):
        engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}", poolclass=QueuePool, pool_size=size)
        observe_pool(engine, name)
    assert _sample("db_pool_size", name) == 4
    del engine
    gc.collect()
    assert _sample("db_pool_size", name) is None, "a discarded engine leaves /metrics"


def test_read_engines_are_reported_as_read() -> None:
    engine = create_read_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_size=3)
    assert _sample("db_pool_size", "read") == 3
    assert _sample("db_pool_max_connections", "read") == 6
    assert _sample("db_pool_checked_out", "read") == 0  # creating the engine connects nothing
    del engine
