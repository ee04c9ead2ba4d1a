"""Access control on the real services: the keys the stack made, its tokens, the real write path."""

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import eventually
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration


def _person(person_api: httpx.Client) -> str:
    body = {"first_name": "Ada", "last_name": f"Access-{uuid.uuid4().hex[:8]}", "company_name": "Tokens Inc"}
    response = person_api.post("/api/persons", json=body)
    assert response.status_code == 202
    person_id: str = response.json()["id"]
    eventually(lambda: person_api.get(f"/api/persons/{person_id}").status_code == 200 or None)
    return person_id


def test_an_attendee_posts_and_reads_their_own_pings_only(stack: LocalStack, person_api: httpx.Client) -> None:
    me, someone = _person(person_api), _person(person_api)
    mine = {"Authorization": f"Bearer {stack.attendee_token(me)}"}
    ping = {"person_id": me, "latitude": 37.7834, "longitude": -122.4018, "creation_time": "2026-06-01T09:00:00Z"}
    with httpx.Client(base_url=stack.url("location-api"), headers=mine, timeout=30) as locations:
        posted = locations.post("/api/locations", json=ping)
        assert posted.status_code == 202
        ping_id = posted.json()["id"]
        assert eventually(lambda: locations.get(f"/api/locations/{ping_id}").status_code == 200 or None)
        assert locations.post("/api/locations", json={**ping, "person_id": someone}).status_code == 403
        own = {"start_date": "2026-06-01", "end_date": "2026-06-01"}
        assert locations.get("/api/locations", params={**own, "person_id": me}).json()[0]["id"] == ping_id
        assert locations.get("/api/locations", params={**own, "person_id": someone}).status_code == 403
    with httpx.Client(base_url=stack.url("connection-api"), headers=mine, timeout=30) as connections:
        query = {"start_date": "2026-06-01", "end_date": "2026-06-01"}
        assert connections.get(f"/api/persons/{me}/contacts", params=query).status_code == 200
        refused = connections.get(f"/api/persons/{someone}/connection", params=query)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("service", ["person-api", "location-api", "connection-api"])
def test_without_a_token_every_api_is_401_but_health_answers(stack: LocalStack, service: str) -> None:
    path = {
        "person-api": "/api/persons",
        "location-api": f"/api/locations/{uuid.uuid4()}",
        "connection-api": f"/api/persons/{uuid.uuid4()}/contacts?start_date=2026-06-01&end_date=2026-06-01",
    }[service]
    response = httpx.get(stack.url(service) + path, timeout=30)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(stack.url(service) + "/health", timeout=30).status_code == 200


def test_an_attendee_exports_what_is_stored_about_them(stack: LocalStack, person_api: httpx.Client) -> None:
    me = _person(person_api)
    mine = {"Authorization": f"Bearer {stack.attendee_token(me)}"}
    pings = [
        {
            "person_id": me,
            "latitude": 37.78 + i * 1e-5,
            "longitude": -122.40,
            "creation_time": f"2026-06-02T10:{i:02d}:00Z",
        }
        for i in range(30)
    ]
    with httpx.Client(base_url=stack.url("location-api"), headers=mine, timeout=30) as locations:
        ids = locations.post("/api/locations/batch", json={"locations": pings}).json()["ids"]
    with httpx.Client(base_url=stack.url("person-api"), headers=mine, timeout=30) as persons:

        def complete_export() -> dict[str, Any] | None:
            document: dict[str, Any] = persons.get(f"/api/persons/{me}/export").json()
            return document if len(document["locations"]) == len(pings) else None

        exported = eventually(complete_export)
        assert exported["person"]["id"] == me
        assert [ping["id"] for ping in exported["locations"]] == ids
        assert exported["locations"][3]["latitude"] == pings[3]["latitude"]
        gpx = persons.get(f"/api/persons/{me}/export", params={"format": "gpx"})
        assert gpx.status_code == 200
        assert gpx.text.count("<trkpt ") == 30
        geojson = persons.get(f"/api/persons/{me}/export", params={"format": "geojson"}).json()
        assert geojson["features"][0]["geometry"]["coordinates"] == [-122.40, 37.78]
        someone = _person(person_api)
        assert persons.get(f"/api/persons/{someone}/export").status_code == 403


def test_the_logs_hold_neither_tokens_nor_coordinates(stack: LocalStack, person_api: httpx.Client) -> None:
    me = _person(person_api)
    token = stack.attendee_token(me)
    # Digits no other test posts, so that finding them in a log can only mean this ping.
    ping = {"person_id": me, "latitude": 37.7812345, "longitude": -122.4054321, "creation_time": "2026-06-03T08:00:00Z"}
    with httpx.Client(base_url=stack.url("location-api"), timeout=30) as locations:
        mine = {"Authorization": f"Bearer {token}"}
        ping_id = locations.post("/api/locations", json=ping, headers=mine).json()["id"]
        eventually(lambda: locations.get(f"/api/locations/{ping_id}", headers=mine).status_code == 200 or None)
        # Refusals too: an invalid token and a foreign ping.
        locations.post("/api/locations", json=ping, headers={"Authorization": f"Bearer {token}x"})
        locations.post("/api/locations", json={**ping, "person_id": str(uuid.uuid4())}, headers=mine)
    logs = "\n".join(path.read_text(errors="replace") for path in Path(stack.logs_dir).glob("*.log"))
    assert logs  # the services do log
    for secret in (token, token.split(".")[2], stack.organizer_token().split(".")[1][:40], "7812345", "4054321"):
        assert secret not in logs
