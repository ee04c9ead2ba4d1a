"""Bad input, table-driven, on the real services: each gets the right 4xx problem and changes nothing;
text that merely looks like SQL is stored as text."""

import uuid

import httpx
import psycopg
import pytest

from tests.support import eventually

pytestmark = pytest.mark.integration

Db = psycopg.Connection[tuple[object, ...]]

INJECTIONS = [
    "'; DROP TABLE person; --",
    "Robert'); DELETE FROM location WHERE ('1'='1",
    "1 OR 1=1",
    "$$; SELECT pg_sleep(10); $$",
    "\\x00",
]


def row_counts(db: Db) -> tuple[object, ...]:
    row = db.execute("SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM location)").fetchone()
    assert row is not None
    return row


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_in_text_fields_is_stored_verbatim(person_api: httpx.Client, db: Db, text: str) -> None:
    body = {"first_name": text, "last_name": f"Injected-{uuid.uuid4().hex[:8]}", "company_name": text}

    response = person_api.post("/api/persons", json=body)

    assert response.status_code == 202
    person_id = response.json()["id"]
    stored = eventually(
        lambda: (
            person_api.get(f"/api/persons/{person_id}").json()
            if person_api.get(f"/api/persons/{person_id}").status_code == 200
            else None
        )
    )
    assert stored["first_name"] == text.strip()
    assert stored["company_name"] == text.strip()
    assert db.execute(
        "SELECT to_regclass('person') IS NOT NULL AND to_regclass('location') IS NOT NULL"
    ).fetchone() == (True,)


@pytest.mark.parametrize("text", INJECTIONS)
@pytest.mark.parametrize(
    ("api", "path", "parameter"),
    [
        ("person", "/api/persons/{text}", None),
        ("person", "/api/persons", "cursor"),
        ("location", "/api/locations/{text}", None),
        ("location", "/api/locations?person_id={text}&start_date=2026-06-01&end_date=2026-06-02", None),
        ("location", "/api/locations?person_id={pid}&start_date={text}&end_date=2026-06-02", None),
        ("connection", "/api/persons/{text}/connection?start_date=2026-06-01&end_date=2026-06-02", None),
        ("connection", "/api/persons/{pid}/connection?start_date=2026-06-01&end_date={text}", None),
        ("connection", "/api/persons/{pid}/contacts?start_date=2026-06-01&end_date=2026-06-02&distance={text}", None),
        ("connection", "/api/persons/{pid}/connection?start_date=2026-06-01&end_date=2026-06-02&window={text}", None),
    ],
)
def test_sql_in_identifiers_and_parameters_is_a_422(
    person_api: httpx.Client,
    location_api: httpx.Client,
    connection_api: httpx.Client,
    db: Db,
    text: str,
    api: str,
    path: str,
    parameter: str | None,
) -> None:
    client = {"person": person_api, "location": location_api, "connection": connection_api}[api]
    before = row_counts(db)
    url = path.replace("{text}", text).replace("{pid}", str(uuid.uuid4()))
    params = {parameter: text} if parameter else None

    response = client.get(url, params=params)

    assert response.status_code in (404, 422), (url, response.status_code, response.text)
    if response.status_code == 404:
        # A path segment cut short by the URL rules (e.g. at '#' or '/') may name no route; still no harm.
        assert "{text}" in path
    assert response.headers["content-type"] == "application/problem+json"
    assert row_counts(db) == before


def ping(latitude: bytes) -> bytes:
    return b'{"person_id": "00000000-0000-0000-0000-000000000000", "latitude": ' + latitude + b', "longitude": 1}'


@pytest.mark.parametrize(
    ("api", "path", "payload", "status"),
    [
        ("person", "/api/persons", b"{", 422),
        ("person", "/api/persons", b'{"first_name": ["A"], "last_name": "B", "company_name": "C"}', 422),
        ("person", "/api/persons", b'{"first_name": null, "last_name": "B", "company_name": "C"}', 422),
        ("person", "/api/persons", b'"just a string"', 422),
        ("person", "/api/persons", b'{"first_name": "' + b"x" * 70_000 + b'"}', 413),
        ("location", "/api/locations", b'{"person_id": "not-a-uuid", "latitude": 1, "longitude": 1}', 422),
        (
            "location",
            "/api/locations",
            b'{"person_id": "00000000-0000-0000-0000-000000000000", "latitude": NaN, "longitude": 1}',
            422,
        ),
        (
            "location",
            "/api/locations",
            b'{"person_id": "00000000-0000-0000-0000-000000000000", "latitude": 1e400, "longitude": 1}',
            422,
        ),
        (
            "location",
            "/api/locations",
            b'{"person_id": "00000000-0000-0000-0000-000000000000", "latitude": true, "longitude": 1}',
            422,
        ),
        ("location", "/api/locations/batch", b'{"locations": []}', 422),
        ("location", "/api/locations/batch", b'{"locations": {"0": {}}}', 422),
        (
            "location",
            "/api/locations/batch",
            b'{"locations": ['
            + b",".join([b'{"person_id":"00000000-0000-0000-0000-000000000000","latitude":1,"longitude":1}'] * 1001)
            + b"]}",
            422,
        ),
        ("location", "/api/locations/batch", b"[" + b" " * 600_000 + b"]", 413),
    ],
)
def test_malformed_bodies_get_the_right_4xx_and_change_nothing(
    person_api: httpx.Client, location_api: httpx.Client, db: Db, api: str, path: str, payload: bytes, status: int
) -> None:
    client = {"person": person_api, "location": location_api}[api]
    before = row_counts(db)

    response = client.post(path, content=payload, headers={"Content-Type": "application/json"})

    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert row_counts(db) == before
