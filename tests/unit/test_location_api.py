"""The location API's HTTP behaviour, with in-memory fakes for Kafka and the database."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from location_api.app import create_app
from location_api.schemas import MAX_BATCH_SIZE, LocationPage, LocationPublic
from tests.tokens import access_control, bearer, organizer_token
from udaconnect_common.kafka import DeliveryFailed
from udaconnect_common.timerange import TimeRange


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[LocationPublic] = []
        self.failure: DeliveryFailed | None = None

    async def publish(self, locations: list[LocationPublic]) -> None:
        if self.failure is not None:
            raise self.failure
        self.published.extend(locations)

    async def check(self) -> None:
        return None


class FakeReader:
    def __init__(self) -> None:
        self.locations: list[LocationPublic] = []

    async def get(self, location_id: uuid.UUID) -> LocationPublic | None:
        return next((loc for loc in self.locations if loc.id == location_id), None)

    async def list_page(
        self, person_id: uuid.UUID, period: TimeRange, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> LocationPage:
        rows = sorted(
            (
                loc
                for loc in self.locations
                if loc.person_id == person_id and period.start <= loc.creation_time < period.end
            ),
            key=lambda loc: (loc.creation_time, loc.id),
        )
        if after is not None:
            rows = [loc for loc in rows if (loc.creation_time, loc.id) > after]
        return LocationPage(locations=rows[:limit], has_more=len(rows) > limit)

    async def check(self) -> None:
        return None


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader()


@pytest.fixture
def client(publisher: FakePublisher, reader: FakeReader) -> Iterator[TestClient]:
    with TestClient(
        create_app(publisher, reader, access=access_control()), headers=bearer(organizer_token())
    ) as test_client:
        yield test_client


PERSON = str(uuid.uuid4())
PING = {"person_id": PERSON, "latitude": 37.55, "longitude": -122.29, "creation_time": "2026-06-01T12:00:00+02:00"}


def test_post_publishes_the_ping_in_utc_with_axes_kept(client: TestClient, publisher: FakePublisher) -> None:
    response = client.post("/api/locations", json=PING)

    assert response.status_code == 202
    [published] = publisher.published
    assert (published.latitude, published.longitude) == (37.55, -122.29)
    assert published.creation_time == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert response.json()["creation_time"] == "2026-06-01T10:00:00Z"


def test_missing_creation_time_is_the_time_received(client: TestClient, publisher: FakePublisher) -> None:
    before = datetime.now(UTC)
    client.post("/api/locations", json={k: v for k, v in PING.items() if k != "creation_time"})
    assert before <= publisher.published[0].creation_time <= datetime.now(UTC)


def test_batch_ids_follow_the_idempotency_key(client: TestClient) -> None:
    body = {"locations": [PING, PING, PING]}
    first = client.post("/api/locations/batch", json=body, headers={"Idempotency-Key": "k1"}).json()["ids"]
    again = client.post("/api/locations/batch", json=body, headers={"Idempotency-Key": "k1"}).json()["ids"]
    other = client.post("/api/locations/batch", json=body, headers={"Idempotency-Key": "k2"}).json()["ids"]
    unkeyed = client.post("/api/locations/batch", json=body).json()["ids"]

    assert first == again
    assert len(set(first)) == 3
    assert not set(first) & set(other)
    assert not set(first) & set(unkeyed)


@pytest.mark.parametrize("count", [0, MAX_BATCH_SIZE + 1])
def test_batch_size_is_bounded(client: TestClient, publisher: FakePublisher, count: int) -> None:
    response = client.post("/api/locations/batch", json={"locations": [PING] * count})
    assert response.status_code in (413, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert publisher.published == []


def test_broker_failure_is_a_503(client: TestClient, publisher: FakePublisher) -> None:
    publisher.failure = DeliveryFailed("Local: Broker transport failure")
    response = client.post("/api/locations/batch", json={"locations": [PING]})
    assert response.status_code == 503
    assert response.headers["retry-after"]


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-06-01", "end_date": "2026-06-02"},
        {"person_id": PERSON, "start_date": "2026-06-02", "end_date": "2026-06-01"},
        {"person_id": "nope", "start_date": "2026-06-01", "end_date": "2026-06-02"},
        {"person_id": PERSON, "start_date": "2026-06-01", "end_date": "2026-06-02", "cursor": "xx"},
    ],
)
def test_bad_query_parameters_are_422(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/locations", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_geojson_is_a_feature_collection_paged_like_the_array(client: TestClient, reader: FakeReader) -> None:
    person = uuid.uuid4()
    reader.locations = [
        LocationPublic(
            id=uuid.uuid4(),
            person_id=person,
            latitude=37.5 + i / 1000,
            longitude=-122.25,
            creation_time=datetime(2026, 6, 1, 10, i, tzinfo=UTC),
        )
        for i in range(5)
    ]
    params = {"person_id": str(person), "start_date": "2026-06-01", "end_date": "2026-06-01", "limit": 2}
    seen: list[str] = []
    url: str | None = "/api/locations"
    while url is not None:
        response = client.get(
            url, params=params if url == "/api/locations" else None, headers={"Accept": "application/geo+json"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        body = response.json()
        assert body["type"] == "FeatureCollection"
        seen.extend(feature["id"] for feature in body["features"])
        url = response.links["next"]["url"] if "next" in response.links else None

    assert seen == [str(loc.id) for loc in reader.locations]
    first = client.get("/api/locations", params=params, headers={"Accept": "application/geo+json"}).json()["features"][
        0
    ]
    assert first["geometry"]["coordinates"] == [-122.25, 37.5]
    assert first["properties"] == {"person_id": str(person), "creation_time": "2026-06-01T10:00:00Z"}


def test_the_openapi_document_describes_both_representations(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    content = document["paths"]["/api/locations"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/LocationPublic"}
    assert content["application/geo+json"]["schema"] == {"$ref": "#/components/schemas/LocationFeatureCollection"}
    schemas = document["components"]["schemas"]
    assert schemas["PointGeometry"]["properties"]["coordinates"]["description"].startswith("[longitude, latitude]")
    assert "type" in schemas["LocationFeature"]["required"]
