"""What the web front end reads on the real system: person search, GeoJSON pages, CORS for its origin."""

import uuid

import httpx
import pytest

from tests.integration.test_location_write_path import create_person
from tests.support import eventually, unique_name
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration


def _post_person(person_api: httpx.Client, first: str, last: str, company: str) -> str:
    response = person_api.post("/api/persons", json={"first_name": first, "last_name": last, "company_name": company})
    assert response.status_code == 202, response.text
    person_id: str = response.json()["id"]
    eventually(lambda: True if person_api.get(f"/api/persons/{person_id}").status_code == 200 else None)
    return person_id


def _search(person_api: httpx.Client, q: str) -> list[str]:
    ids: list[str] = []
    url: str | None = None
    params: dict[str, str | int] | None = {"q": q, "limit": 2}
    while True:
        response = person_api.get(url or "/api/persons", params=params)
        assert response.status_code == 200, response.text
        ids.extend(person["id"] for person in response.json())
        if "next" not in response.links:
            return ids
        url, params = response.links["next"]["url"], None


def test_search_finds_full_names_and_companies_in_any_case_with_wildcards_literal(person_api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    ada = _post_person(person_api, f"Ada{tag}", "Lovelace", f"Engines_{tag}")
    alan = _post_person(person_api, f"Alan{tag}", "Turing", f"Bletchley%{tag}")
    grace = _post_person(person_api, f"Grace{tag}", "Hopper", f"Engines{tag}")

    assert sorted(_search(person_api, tag)) == sorted([ada, alan, grace])
    assert _search(person_api, f"ada{tag} lovelace") == [ada]  # the full name, as typed
    assert _search(person_api, f"ENGINES_{tag}") == [ada]  # "_" is not a wildcard
    assert _search(person_api, f"%{tag}") == [alan]  # nor is "%"
    assert _search(person_api, f"nobody-{tag}") == []


def test_geojson_pages_of_locations_and_connections_cover_the_json_pages(
    person_api: httpx.Client, location_api: httpx.Client, connection_api: httpx.Client
) -> None:
    me, other = create_person(person_api, "Geo"), create_person(person_api, "Geo")
    # Somewhere no other test puts pings: the two stand 1 m apart for five minutes.
    pings = [
        {
            "person_id": who,
            "latitude": -33.8568 + dy,
            "longitude": 151.2153,
            "creation_time": f"2026-03-0{day}T10:0{m}:00Z",
        }
        for who, dy in ((me, 0.0), (other, 0.000009))
        for day in (3,)
        for m in range(5)
    ]
    accepted = location_api.post(
        "/api/locations/batch", json={"locations": pings}, headers={"Idempotency-Key": unique_name("geo")}
    )
    assert accepted.status_code == 202, accepted.text
    range_ = {"start_date": "2026-03-03", "end_date": "2026-03-03"}

    def all_stored() -> bool | None:
        listed = location_api.get("/api/locations", params={"person_id": other, **range_, "limit": 10}).json()
        return True if len(listed) == 5 else None

    eventually(all_stored)
    geo = {"Accept": "application/geo+json"}
    first = location_api.get("/api/locations", params={"person_id": me, **range_, "limit": 3}, headers=geo)
    assert first.headers["content-type"] == "application/geo+json"
    second = location_api.get(first.links["next"]["url"], headers=geo)
    assert "next" not in second.links
    features = first.json()["features"] + second.json()["features"]
    assert [f["geometry"]["coordinates"] for f in features] == [[151.2153, -33.8568]] * 5

    connection_url = f"/api/persons/{me}/connection"
    as_json = connection_api.get(connection_url, params={**range_, "distance": 5, "window": 1}).json()
    as_geojson = connection_api.get(connection_url, params={**range_, "distance": 5, "window": 1}, headers=geo).json()
    assert len(as_json) == 5
    assert [f["id"] for f in as_geojson["features"]] == [c["location"]["id"] for c in as_json]
    assert {f["properties"]["person"]["id"] for f in as_geojson["features"]} == {other}
    lon, lat = as_geojson["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((151.2153, -33.8568 + 0.000009))


def test_the_apis_allow_the_front_ends_origin_and_no_other(stack: LocalStack, person_api: httpx.Client) -> None:
    origin = stack.frontend_origins()[0]
    allowed = person_api.options(
        "/api/persons",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == origin
    listed = person_api.get("/api/persons?limit=1", headers={"Origin": origin})
    assert "link" in listed.headers["access-control-expose-headers"].lower()

    refused = person_api.options(
        "/api/persons", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in refused.headers
