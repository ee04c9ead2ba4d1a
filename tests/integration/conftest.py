"""One real UdaConnect system per test session: PostgreSQL+PostGIS, Kafka (KRaft), the services as processes.

Everything listens on free ports in a temporary folder, so the tests never clash with a running
``make up``. Service logs are printed when a test fails (see ``pytest_runtest_makereport``).
"""

import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from udaconnect_devstack.stack import LocalStack, StackPorts


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    # Not pytest's tmp_path: as root that lies in a 0700 folder the postgres user cannot enter.
    run_dir = Path(tempfile.mkdtemp(prefix="udaconnect-it-"))
    run_dir.chmod(0o711)
    system = LocalStack(
        run_dir,
        StackPorts.free(),
        # A location whose person never comes is dead-lettered after this; short, so a test can see it.
        service_env={
            # The tests write as one organizer, thousands of requests within a minute.
            **{api: {"RATE_LIMIT_ORGANIZER_WRITES": "1000000/minute"} for api in ("person-api", "location-api")},
            "ingest-consumer": {"UNKNOWN_PERSON_RETRY_SECONDS": str(ORPHAN_RETRY_SECONDS)},
            "persistence-service": {"DATABASE_WATCH_SECONDS": "0.5"},
        },
    )
    try:
        system.start()
        yield system
    finally:
        system.stop()
        shutil.rmtree(run_dir)


ORPHAN_RETRY_SECONDS = 8


def _client(stack: LocalStack, service: str) -> httpx.Client:
    # An organizer, who may do everything: these tests are about the write and read paths, not access
    # (tests/unit/test_access_control.py and test_access_on_the_stack.py are).
    return httpx.Client(base_url=stack.url(service), timeout=30.0, headers=stack.organizer_headers())


@pytest.fixture(scope="session")
def person_api(stack: LocalStack) -> Iterator[httpx.Client]:
    with _client(stack, "person-api") as client:
        yield client


@pytest.fixture(scope="session")
def location_api(stack: LocalStack) -> Iterator[httpx.Client]:
    with _client(stack, "location-api") as client:
        yield client


@pytest.fixture(scope="session")
def connection_api(stack: LocalStack) -> Iterator[httpx.Client]:
    with _client(stack, "connection-api") as client:
        yield client


@pytest.fixture
def db(stack: LocalStack) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(stack.owner_libpq_dsn, autocommit=True) as connection:
        yield connection


def service_logs(stack: LocalStack) -> str:
    parts = []
    for log_file in sorted(Path(stack.logs_dir).glob("*.log")):
        lines = log_file.read_text(errors="replace").splitlines()[-25:]
        parts.append(f"--- {log_file.name} (last {len(lines)} lines)\n" + "\n".join(lines))
    return "\n".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failed test that used the stack, attach the tail of every service's log to the report."""
    report: pytest.TestReport = yield
    system = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(system, LocalStack):
        report.sections.append(("service logs", service_logs(system)))
    return report
