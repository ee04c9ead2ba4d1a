"""The front end's local server: run-time config, client-side routes, caching, nothing outside the build."""

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from udaconnect_devstack.frontend import FrontendConfig, create_app, source_hash

CONFIG = FrontendConfig(
    person_api_url="http://localhost:8001",
    location_api_url="http://localhost:8002",
    connection_api_url="http://localhost:8003",
    venue_url="/venue.geojson",
    event_name="Demo",
    event_start_date="2026-06-01",
    event_end_date="2026-06-02",
)


@pytest.fixture
def build(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>app</title>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return dist


@pytest.fixture
def client(build: Path, tmp_path: Path) -> TestClient:
    venue = tmp_path / "venue.geojson"
    venue.write_text('{"type": "FeatureCollection", "features": []}')
    return TestClient(create_app(build, CONFIG, venue))


def test_config_names_the_three_apis_and_the_event_and_is_never_cached(client: TestClient) -> None:
    response = client.get("/config.json")
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "personApiUrl": "http://localhost:8001",
        "locationApiUrl": "http://localhost:8002",
        "connectionApiUrl": "http://localhost:8003",
        "venueUrl": "/venue.geojson",
        "identities": [],
        "event": {"name": "Demo", "startDate": "2026-06-01", "endDate": "2026-06-02"},
    }


def test_client_routes_fall_back_to_the_app_and_missing_files_are_404(client: TestClient) -> None:
    for path in ("/", "/persons/0193-abc", "/persons/0193-abc?start=2026-06-01&distance=5"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<title>app</title>" in response.text
    assert client.get("/assets/index-gone.js").status_code == 404
    assert client.get("/../secret.txt").status_code == 404
    assert client.get("/%2e%2e/secret.txt").status_code == 404


def test_hashed_assets_are_immutable_and_the_page_is_revalidated(client: TestClient) -> None:
    assert "immutable" in client.get("/assets/index-abc123.js").headers["cache-control"]
    assert client.get("/").headers["cache-control"] == "no-cache"
    assert client.get("/favicon.svg").headers["cache-control"] == "no-cache"


def test_the_page_may_talk_only_to_itself_and_the_three_apis(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    connect = next(part for part in policy.split(";") if part.strip().startswith("connect-src")).split()[1:]
    assert sorted(connect) == ["'self'", "http://localhost:8001", "http://localhost:8002", "http://localhost:8003"]


def test_the_venue_is_geojson(client: TestClient) -> None:
    response = client.get("/venue.geojson")
    assert response.headers["content-type"] == "application/geo+json"
    assert response.json()["type"] == "FeatureCollection"


def test_the_build_is_redone_exactly_when_a_source_changes(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.tsx").write_text("a")
    (tmp_path / "package-lock.json").write_text("{}")
    before = source_hash(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("output is not a source")
    assert source_hash(tmp_path) == before
    (tmp_path / "src" / "main.tsx").write_text("b")
    assert source_hash(tmp_path) != before


def test_scripts_travel_gzipped(build: Path, tmp_path: Path) -> None:
    (build / "assets" / "big-1.js").write_text("const x = 1;\n" * 500)
    client = TestClient(create_app(build, CONFIG))
    response = client.get("/assets/big-1.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert client.get("/venue.geojson").status_code == 404  # none configured
