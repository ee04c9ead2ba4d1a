"""Scale-out of the read side, for real on loopback: the read APIs on a PostgreSQL streaming replica, and
two replicas of an API behind one port.

A read API reads wherever ``DATABASE_URL`` points; the persistence service keeps writing to the primary.
"""

import asyncio
import dataclasses
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support import eventually
from udaconnect_devstack.ports import free_ports
from udaconnect_devstack.services import ServiceProcess, http_ready
from udaconnect_devstack.stack import DATABASE, READER, READER_PASSWORD, LocalStack

pytestmark = pytest.mark.integration


@contextmanager
def another(stack: LocalStack, service: str, **env: str) -> Iterator[str]:
    """One more process of ``service`` (an API) on a port of its own, with ``env`` changed; its base URL."""
    port = free_ports(1)[0]
    base = stack.services[service]
    url = f"http://127.0.0.1:{port}"
    process: ServiceProcess = dataclasses.replace(
        base,
        name=f"{service}-{port}",
        env={**base.env, "HTTP_PORT": str(port), **env},
        log_path=base.log_path.with_name(f"{service}-{port}.log"),
        ready=http_ready(f"{url}/health"),
        _proc=None,
    )
    process.start()
    try:
        yield url
    finally:
        process.stop()


def test_the_read_apis_answer_from_a_streaming_replica(stack: LocalStack) -> None:
    standby_dir = Path(stack.run_dir) / "standby" / "data"
    standby = stack.postgres.start_standby(standby_dir, free_ports(1)[0])
    try:
        with psycopg.connect(standby.libpq_dsn(READER, READER_PASSWORD, DATABASE), autocommit=True) as replica:
            assert replica.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        replica_url = standby.dsn(READER, READER_PASSWORD, DATABASE)
        with (
            another(stack, "person-api", DATABASE_URL=replica_url) as on_replica,
            httpx.Client(headers=stack.organizer_headers(), timeout=30) as http,
        ):
            to_primary, to_replica = [], []
            for index in range(15):
                body = {"first_name": "Replica", "last_name": f"Reader-{index}", "company_name": uuid.uuid4().hex}
                posted = http.post(f"{stack.url('person-api')}/api/persons", json=body)
                assert posted.status_code == 202
                accepted = time.monotonic()
                person = f"/api/persons/{posted.json()['id']}"
                on_primary_at = on_replica_at = None
                while on_primary_at is None or on_replica_at is None:
                    if on_primary_at is None and http.get(stack.url("person-api") + person).status_code == 200:
                        on_primary_at = time.monotonic()
                    if on_replica_at is None and http.get(on_replica + person).status_code == 200:
                        on_replica_at = time.monotonic()
                    assert time.monotonic() - accepted < 30, "not readable within 30 s"
                    time.sleep(0.005)
                to_primary.append((on_primary_at - accepted) * 1000)
                to_replica.append((on_replica_at - accepted) * 1000)
            print(
                f"202 to readable: primary p50 {statistics.median(to_primary):.0f} ms (max {max(to_primary):.0f}), "
                f"replica p50 {statistics.median(to_replica):.0f} ms (max {max(to_replica):.0f})"
            )
            # The same answer from both, once the replica has replayed what the primary has.
            query = "/api/persons?q=Reader-&limit=1000"
            eventually(
                lambda: (
                    True
                    if http.get(stack.url("person-api") + query).json() == http.get(on_replica + query).json()
                    else None
                )
            )
    finally:
        standby.stop()


class RoundRobinProxy:
    """A TCP proxy on one port that hands each new connection to the next backend in turn."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_ports(1)[0]
        self.connections = [0] * len(backends)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RoundRobinProxy":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        turn = sum(self.connections) % len(self.backends)
        self.connections[turn] += 1
        backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", self.backends[turn])

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.close()

        await asyncio.gather(pipe(client_reader, backend_writer), pipe(backend_reader, client_writer))


def test_two_replicas_of_each_api_behind_one_port_answer_the_same(stack: LocalStack) -> None:
    for service, path in (
        ("person-api", "/api/persons?limit=50"),
        ("connection-api", None),
    ):
        with another(stack, service) as second:
            ports = [stack.http_port(service), int(second.rsplit(":", 1)[1])]
            with RoundRobinProxy(ports) as proxy:
                if path is None:
                    persons = httpx.get(
                        f"{stack.url('person-api')}/api/persons", params={"limit": 1}, headers=stack.organizer_headers()
                    ).json()
                    path = f"/api/persons/{persons[0]['id']}/contacts?start_date=2026-06-01&end_date=2026-06-01"
                answers = []
                for _ in range(6):
                    # A new connection each time, so that the proxy alternates.
                    response = httpx.get(
                        f"http://127.0.0.1:{proxy.port}{path}", headers=stack.organizer_headers(), timeout=30
                    )
                    assert response.status_code == 200, response.text
                    answers.append(response.json())
                assert all(answer == answers[0] for answer in answers)
                assert proxy.connections == [3, 3]
