"""Locations end to end on the real system, including the ones that arrive before their person."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from tests.integration.conftest import ORPHAN_RETRY_SECONDS
from tests.support import eventually, unique_name, wait_for_dead_letter
from udaconnect_common import kafka as kafka_headers
from udaconnect_common.ids import PERSON_ID_NAMESPACE, id_for_idempotency_key
from udaconnect_devstack.stack import TOPIC_DEAD_LETTERS, LocalStack

pytestmark = pytest.mark.integration

Db = psycopg.Connection[tuple[object, ...]]


def create_person(person_api: httpx.Client, prefix: str = "Loc") -> str:
    body = {"first_name": unique_name(prefix), "last_name": "Walker", "company_name": "Pings Inc"}
    response = person_api.post("/api/persons", json=body)
    assert response.status_code == 202, response.text
    person_id: str = response.json()["id"]
    eventually(lambda: True if person_api.get(f"/api/persons/{person_id}").status_code == 200 else None)
    return person_id


def stored_location(location_api: httpx.Client, location_id: str) -> dict[str, object]:
    def probe() -> dict[str, object] | None:
        response = location_api.get(f"/api/locations/{location_id}")
        return response.json() if response.status_code == 200 else None

    return eventually(probe)


def test_post_then_get_keeps_latitude_as_y_and_longitude_as_x(
    person_api: httpx.Client, location_api: httpx.Client, db: Db
) -> None:
    person_id = create_person(person_api)
    body = {"person_id": person_id, "latitude": 37.55, "longitude": -122.29, "creation_time": "2026-06-01T10:15:00Z"}

    accepted = location_api.post("/api/locations", json=body)

    assert accepted.status_code == 202, accepted.text
    location_id = accepted.json()["id"]
    assert accepted.headers["location"] == f"/api/locations/{location_id}"
    stored = stored_location(location_api, location_id)
    assert stored == {"id": location_id, **body, "creation_time": "2026-06-01T10:15:00Z"}
    # In the database: X is the longitude, Y the latitude, SRID 4326.
    row = db.execute(
        "SELECT ST_X(coordinate::geometry), ST_Y(coordinate::geometry), ST_SRID(coordinate) "
        "FROM location WHERE id = %s",
        (location_id,),
    ).fetchone()
    assert row == (-122.29, 37.55, 4326)


def test_creation_time_defaults_to_the_time_received(person_api: httpx.Client, location_api: httpx.Client) -> None:
    person_id = create_person(person_api)
    before = datetime.now(UTC)

    accepted = location_api.post("/api/locations", json={"person_id": person_id, "latitude": 1.5, "longitude": 2.5})

    stored = stored_location(location_api, accepted.json()["id"])
    creation_time = datetime.fromisoformat(str(stored["creation_time"]))
    assert before - timedelta(seconds=1) <= creation_time <= datetime.now(UTC)


def test_batch_is_stored_whole_and_a_retry_with_the_same_key_adds_nothing(
    person_api: httpx.Client, location_api: httpx.Client, db: Db
) -> None:
    person_id = create_person(person_api)
    pings = [
        {
            "person_id": person_id,
            "latitude": 10 + i / 1000,
            "longitude": 20,
            "creation_time": f"2026-06-01T10:{i:02d}:00Z",
        }
        for i in range(50)
    ]
    key = f"batch-{uuid.uuid4()}"

    first = location_api.post("/api/locations/batch", json={"locations": pings}, headers={"Idempotency-Key": key})
    retry = location_api.post("/api/locations/batch", json={"locations": pings}, headers={"Idempotency-Key": key})

    assert first.status_code == retry.status_code == 202
    ids = first.json()["ids"]
    assert ids == retry.json()["ids"]
    assert len(set(ids)) == 50

    def all_stored() -> bool | None:
        row = db.execute("SELECT count(*) FROM location WHERE person_id = %s", (person_id,)).fetchone()
        return True if row == (50,) else None

    eventually(all_stored)
    listed = location_api.get(
        "/api/locations", params={"person_id": person_id, "start_date": "2026-06-01", "end_date": "2026-06-01"}
    ).json()
    assert [item["id"] for item in listed] == ids  # ordered by time, which is the batch order here


def test_invalid_batch_item_rejects_the_whole_batch_naming_the_item(location_api: httpx.Client, db: Db) -> None:
    person_id = str(uuid.uuid4())
    pings = [{"person_id": person_id, "latitude": 1.0, "longitude": 1.0} for _ in range(5)]
    pings[3] = {"person_id": person_id, "latitude": 91.0, "longitude": 1.0}

    response = location_api.post("/api/locations/batch", json={"locations": pings})

    assert response.status_code == 422
    assert any(error["loc"][:4] == ["body", "locations", 3, "latitude"] for error in response.json()["errors"])
    assert db.execute("SELECT count(*) FROM location WHERE person_id = %s", (person_id,)).fetchone() == (0,)


def test_query_by_values_pages_in_time_order_with_inclusive_dates(
    person_api: httpx.Client, location_api: httpx.Client
) -> None:
    person_id = create_person(person_api)
    times = ["2026-06-01T00:00:00Z", "2026-06-01T23:59:59Z", "2026-06-02T12:00:00Z", "2026-06-03T00:00:00Z"]
    pings = [{"person_id": person_id, "latitude": 5.0, "longitude": 6.0, "creation_time": t} for t in times]
    ids = location_api.post("/api/locations/batch", json={"locations": pings}).json()["ids"]
    for location_id in ids:
        stored_location(location_api, location_id)

    seen: list[str] = []
    url: str | None = "/api/locations"
    params: dict[str, str | int] | None = {
        "person_id": person_id,
        "start_date": "2026-06-01",
        "end_date": "2026-06-02",
        "limit": 2,
    }
    while url:
        response = location_api.get(url, params=params)
        assert response.status_code == 200
        seen.extend(item["id"] for item in response.json())
        url, params = (response.links["next"]["url"], None) if "next" in response.links else (None, None)

    # Both days inclusive; the ping at midnight of the 3rd is outside.
    assert seen == ids[:3]
    exact = location_api.get(
        "/api/locations",
        params={"person_id": person_id, "start_date": "2026-06-01T23:59:59Z", "end_date": "2026-06-02T12:00:00Z"},
    ).json()
    assert [item["id"] for item in exact] == ids[1:3]


def test_location_before_its_person_is_kept_until_the_person_arrives(
    person_api: httpx.Client, location_api: httpx.Client
) -> None:
    # With an Idempotency-Key the person's id is known before the person is sent, so a ping can go first,
    # as when the two travel through different topics and the location overtakes the person.
    key = f"late-person-{uuid.uuid4()}"
    future_person_id = str(id_for_idempotency_key(PERSON_ID_NAMESPACE, key))
    ping = location_api.post("/api/locations", json={"person_id": future_person_id, "latitude": 3.0, "longitude": 4.0})
    assert ping.status_code == 202
    time.sleep(1.5)  # the consumer has tried it by now and parked it
    assert location_api.get(f"/api/locations/{ping.json()['id']}").status_code == 404

    person_body = {"first_name": unique_name("Late"), "last_name": "Comer", "company_name": "Slow Co"}
    made = person_api.post("/api/persons", json=person_body, headers={"Idempotency-Key": key})

    assert made.json()["id"] == future_person_id
    stored = stored_location(location_api, ping.json()["id"])
    assert stored["person_id"] == future_person_id


def test_location_whose_person_never_comes_is_dead_lettered_with_the_reason(
    stack: LocalStack, location_api: httpx.Client
) -> None:
    orphan_person = str(uuid.uuid4())
    ping = location_api.post("/api/locations", json={"person_id": orphan_person, "latitude": 3.0, "longitude": 4.0})
    assert ping.status_code == 202

    found = wait_for_dead_letter(
        stack.kafka.bootstrap_servers, TOPIC_DEAD_LETTERS, orphan_person.encode(), ORPHAN_RETRY_SECONDS + 30
    )

    assert orphan_person in found[kafka_headers.DLQ_REASON].decode()
    assert found[kafka_headers.DLQ_ORIGINAL_TOPIC] == b"udaconnect.locations.v1"
    assert location_api.get(f"/api/locations/{ping.json()['id']}").status_code == 404


VALID: dict[str, object] = {"person_id": "{pid}", "latitude": 1.0, "longitude": 1.0}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": 1.0, "longitude": 1.0}, "person_id"),
        ({"person_id": "not-a-uuid", "latitude": 1.0, "longitude": 1.0}, "person_id"),
        ({"person_id": "{pid}", "latitude": 90.5, "longitude": 1.0}, "latitude"),
        ({"person_id": "{pid}", "latitude": 1.0, "longitude": -180.01}, "longitude"),
        ({"person_id": "{pid}", "latitude": "37.5", "longitude": 1.0}, "latitude"),
        (
            {"person_id": "{pid}", "latitude": 1.0, "longitude": 1.0, "creation_time": "2026-06-01T10:00:00"},
            "creation_time",
        ),
        ({"person_id": "{pid}", "latitude": 1.0, "longitude": 1.0, "creation_time": "yesterday"}, "creation_time"),
        (
            {"person_id": "{pid}", "latitude": 1.0, "longitude": 1.0, "creation_time": "2999-01-01T00:00:00Z"},
            "creation_time",
        ),
        ({"person_id": "{pid}", "latitude": 1.0, "longitude": 1.0, "altitude": 3}, "altitude"),
    ],
)
def test_invalid_location_is_a_422_naming_the_field(
    location_api: httpx.Client, db: Db, body: dict[str, object], field: str
) -> None:
    person_id = str(uuid.uuid4())
    payload = {key: (person_id if value == "{pid}" else value) for key, value in body.items()}

    response = location_api.post("/api/locations", json=payload)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(field in error["loc"] for error in response.json()["errors"])


def test_unknown_location_is_404_and_malformed_id_422(location_api: httpx.Client) -> None:
    assert location_api.get(f"/api/locations/{uuid.uuid4()}").status_code == 404
    assert location_api.get("/api/locations/123").status_code == 422
