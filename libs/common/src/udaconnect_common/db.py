"""Database engines. Built by each service's composition root, never at import time."""

import threading
import weakref
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

READ_ENGINE = "read"


def create_read_engine(database_url: str, pool_size: int = 5, statement_timeout_ms: int = 30_000) -> AsyncEngine:
    """An async engine for the read APIs (connect as the read-only role: reads never write); PostgreSQL
    cancels a statement that runs longer than ``statement_timeout_ms``."""
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # A connection broken by a database restart is replaced instead of failing a request.
        pool_pre_ping=True,
        # No JIT compilation: it pays off for long analytic queries, but costs these short ones tens of
        # milliseconds per statement whenever the planner's estimates are high (a set-returning function's
        # rows are guessed, not known), which is more than the statement itself.
        connect_args={"options": f"-c statement_timeout={int(statement_timeout_ms)} -c jit=off"},
    )
    observe_pool(engine, READ_ENGINE)
    return engine


def observe_pool(engine: Engine | AsyncEngine, name: str) -> None:
    """Report the engine's connection pool on /metrics (the default registry), labelled ``engine=name``.

    A later engine of the same name replaces the earlier one: one series per name, never duplicates.
    """
    _POOLS.add(name, engine.sync_engine if isinstance(engine, AsyncEngine) else engine)


class _PoolCollector(Collector):
    """Reads the pools when scraped: gauges set on every checkout would cost each query a lock or two."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Weak: an engine a test threw away leaves /metrics with it.
        self._engines: weakref.WeakValueDictionary[str, Engine] = weakref.WeakValueDictionary()

    def add(self, name: str, engine: Engine) -> None:
        with self._lock:
            self._engines[name] = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily("db_pool_size", "Connections the pool keeps open", labels=["engine"])
        limit = GaugeMetricFamily(
            "db_pool_max_connections",
            "Most connections the pool opens (size + overflow): at this many checked out, a query waits",
            labels=["engine"],
        )
        checked_out = GaugeMetricFamily("db_pool_checked_out", "Connections in use by a query", labels=["engine"])
        checked_in = GaugeMetricFamily("db_pool_checked_in", "Open connections idle in the pool", labels=["engine"])
        overflow = GaugeMetricFamily(
            "db_pool_overflow", "Connections open beyond the pool's size (closed when returned)", labels=["engine"]
        )
        with self._lock:
            engines = dict(self._engines)
        for name, engine in sorted(engines.items()):
            # Read engine.pool each time: dispose() replaces it.
            pool = engine.pool
            if not isinstance(pool, QueuePool):  # no size to speak of (e.g. NullPool)
                continue
            max_overflow: int = pool._max_overflow  # no public accessor; -1 is unbounded
            size.add_metric([name], pool.size())
            limit.add_metric([name], pool.size() + max_overflow if max_overflow >= 0 else float("inf"))
            checked_out.add_metric([name], pool.checkedout())
            checked_in.add_metric([name], pool.checkedin())
            # Negative until the pool has opened its size's worth of connections.
            overflow.add_metric([name], max(pool.overflow(), 0))
        yield from (size, limit, checked_out, checked_in, overflow)


_POOLS = _PoolCollector()
REGISTRY.register(_POOLS)
