"""SIGTERM stops every service cleanly, well within its grace period, and it comes back."""

import signal
import time

import httpx
import pytest

from tests.support import eventually, unique_name
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration

SERVICES = ["person-api", "location-api", "connection-api", "ingest-consumer", "persistence-service"]


@pytest.mark.parametrize("name", SERVICES)
def test_sigterm_stops_the_service_cleanly_and_it_restarts(
    stack: LocalStack, person_api: httpx.Client, name: str
) -> None:
    service = stack.services[name]
    started = time.monotonic()

    exit_code = service.stop()

    stopping_seconds = time.monotonic() - started
    service.start()
    print(f"{name}: exit code {exit_code} after {stopping_seconds:.2f}s")
    if name.endswith("-api"):
        # uvicorn drains, runs the shutdown hooks (producer flush, pool close), then re-raises SIGTERM so the
        # exit status says why it stopped.
        assert exit_code in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in service.log_path.read_text(errors="replace")
    else:
        assert exit_code == 0
    assert stopping_seconds < service.stop_timeout
    # The write path works end to end again.
    person_id = person_api.post(
        "/api/persons", json={"first_name": unique_name("Back"), "last_name": name, "company_name": "C"}
    ).json()["id"]
    eventually(lambda: True if person_api.get(f"/api/persons/{person_id}").status_code == 200 else None)
