"""The devstack library really starts PostgreSQL+PostGIS and Kafka, and both keep their data.

Self-contained on purpose (own servers on free ports in temp folders), so it neither needs shared
fixtures nor clashes with a running `make up`.
"""

import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer, Producer
from psycopg import errors as pg_errors

from udaconnect_devstack import (
    InfrastructureError,
    KafkaBroker,
    PostgresServer,
    ensure_kafka_libs,
    find_untraversable_dir,
    free_port,
    free_ports,
)

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_DIR = REPO_ROOT / "infra" / "kafka"

DB, OWNER, OWNER_PW, READER, READER_PW = "devstack_test", "dt_owner", "owner-pw", "dt_reader", "reader-pw"
SUPERUSER_PW = "su-pw"
TOPIC = "devstack-test"


@pytest.fixture(scope="module")
def pg_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("devstack-pg")
    if os.geteuid() != 0 or find_untraversable_dir(base) is None:
        yield base
        return
    # As root the server runs as OS user 'postgres', which cannot enter pytest's temp root
    # (/tmp/pytest-of-root is 0700). Use a private dir under the system temp dir that it can
    # traverse (but not list).
    base = Path(tempfile.mkdtemp(prefix="udaconnect-devstack-pg-"))
    try:
        base.chmod(0o711)
        yield base
    finally:
        shutil.rmtree(base)


@pytest.fixture(scope="module")
def postgres(pg_base: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(pg_base / "data", free_port(), superuser_password=SUPERUSER_PW)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    port, controller_port = free_ports(2)
    broker = KafkaBroker(
        tmp_path_factory.mktemp("devstack-kafka"),
        port,
        controller_port,
        ensure_kafka_libs(KAFKA_DIR),
        KAFKA_DIR / "log4j2.properties",
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_postgres_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        server = PostgresServer(tmp_path / "data", sock.getsockname()[1])
        with pytest.raises(InfrastructureError, match="already in use"):
            server.start(timeout=10)
        assert not server.is_running()


def test_postgres_roles_postgis_and_restart(postgres: PostgresServer) -> None:
    assert postgres.is_running()
    assert postgres.pid is not None
    postgres.ensure_database(DB, OWNER, OWNER_PW, READER, READER_PW)
    postgres.ensure_database(DB, OWNER, OWNER_PW, READER, READER_PW)  # idempotent

    assert postgres.dsn(OWNER, OWNER_PW, DB) == (
        f"postgresql+psycopg://{OWNER}:{OWNER_PW}@127.0.0.1:{postgres.port}/{DB}"
    )
    with psycopg.connect(postgres.libpq_dsn(OWNER, OWNER_PW, DB)) as conn:
        # The owner can create in schema public (PG15 took that right away from PUBLIC).
        conn.execute("CREATE TABLE place (id int PRIMARY KEY, at geography(Point, 4326) NOT NULL)")
        conn.execute("INSERT INTO place VALUES (1, ST_GeogFromText('SRID=4326;POINT(-122.29 37.55)'))")

    with psycopg.connect(postgres.libpq_dsn(READER, READER_PW, DB), autocommit=True) as conn:
        version = conn.execute("SELECT postgis_full_version()").fetchone()
        assert version is not None
        assert "POSTGIS=" in version[0]
        # Default privileges: the reader sees a table the owner created after the grants.
        assert conn.execute("SELECT id FROM place").fetchall() == [(1,)]
        with pytest.raises((pg_errors.ReadOnlySqlTransaction, pg_errors.InsufficientPrivilege)):
            conn.execute("INSERT INTO place VALUES (2, ST_GeogFromText('POINT(0 0)'))")
        with pytest.raises((pg_errors.ReadOnlySqlTransaction, pg_errors.InsufficientPrivilege)):
            conn.execute("CREATE TABLE sneaky (id int)")

    first_pid = postgres.pid
    postgres.stop()
    assert not postgres.is_running()
    assert postgres.pid is None
    postgres.start()
    assert postgres.pid != first_pid
    with psycopg.connect(postgres.libpq_dsn(READER, READER_PW, DB)) as conn:
        assert conn.execute("SELECT id FROM place").fetchall() == [(1,)]


def _consume_one(broker: KafkaBroker, topic: str, timeout: float = 30.0) -> tuple[bytes | None, bytes | None]:
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap_servers,
            "group.id": f"devstack-test-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                raise AssertionError(f"consume failed: {error}")
            return message.key(), message.value()
        raise AssertionError(f"no message on {topic} within {timeout}s")
    finally:
        consumer.close()


def test_kafka_topics_produce_consume_and_restart(kafka: KafkaBroker) -> None:
    assert kafka.is_running()
    assert kafka.pid is not None
    kafka.create_topics({TOPIC: 3})
    kafka.create_topics({TOPIC: 3})  # idempotent
    with kafka.admin_client() as admin:
        metadata = admin.list_topics(TOPIC, timeout=10)
    assert len(metadata.topics[TOPIC].partitions) == 3
    with pytest.raises(InfrastructureError, match="expected 5"):
        kafka.create_topics({TOPIC: 5})

    producer = Producer({"bootstrap.servers": kafka.bootstrap_servers, "enable.idempotence": True, "acks": "all"})
    producer.produce(TOPIC, key=b"person-1", value=b"hello")
    assert producer.flush(30) == 0
    assert _consume_one(kafka, TOPIC) == (b"person-1", b"hello")

    meta = kafka.data_dir / "meta.properties"
    formatted = meta.stat().st_mtime_ns
    kafka.stop()
    assert not kafka.is_running()
    assert kafka.pid is None
    kafka.start()
    assert meta.stat().st_mtime_ns == formatted  # reused, not formatted again
    assert _consume_one(kafka, TOPIC) == (b"person-1", b"hello")
