"""Database engines. Built by each service's composition root, never at import time."""

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_read_engine(database_url: str, pool_size: int = 5, statement_timeout_ms: int = 30_000) -> AsyncEngine:
    """An async engine for the read APIs (connect as the read-only role: reads never write); PostgreSQL
    cancels a statement that runs longer than ``statement_timeout_ms``."""
    return create_async_engine(
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
