"""The read APIs' engine against the real PostgreSQL: the read-only role, and the statement timeout."""

import asyncio

import pytest
from psycopg.errors import InsufficientPrivilege, QueryCanceled, ReadOnlySqlTransaction
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from udaconnect_common.db import create_read_engine
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration


async def _run(url: str, statement: str, timeout_ms: int) -> object:
    engine = create_read_engine(url, pool_size=1, statement_timeout_ms=timeout_ms)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(statement))).scalar()
    finally:
        await engine.dispose()


def test_postgresql_stops_a_statement_longer_than_the_timeout(stack: LocalStack) -> None:
    assert asyncio.run(_run(stack.reader_url, "SHOW statement_timeout", 1500)) == "1500ms"
    with pytest.raises(OperationalError) as stopped:
        asyncio.run(_run(stack.reader_url, "SELECT pg_sleep(2)", 200))
    assert isinstance(stopped.value.orig, QueryCanceled)


def test_the_read_apis_role_cannot_write(stack: LocalStack) -> None:
    with pytest.raises(DBAPIError) as refused:
        asyncio.run(_run(stack.reader_url, "DELETE FROM person", 30_000))
    # Read-only sessions, and no write privilege under them either.
    assert isinstance(refused.value.orig, ReadOnlySqlTransaction | InsufficientPrivilege)
