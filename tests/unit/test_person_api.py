"""The person API's HTTP behaviour, with in-memory fakes for Kafka and the database."""

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from person_api.app import create_app
from person_api.export import ExportedPing
from person_api.schemas import PersonPage, PersonPublic
from tests.tokens import access_control, bearer, organizer_token
from udaconnect_common.kafka import DeliveryFailed


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[PersonPublic] = []
        self.deletions: list[uuid.UUID] = []
        self.failure: DeliveryFailed | None = None

    async def publish(self, person: PersonPublic) -> None:
        if self.failure is not None:
            raise self.failure
        self.published.append(person)

    async def publish_deletion(self, person_id: uuid.UUID) -> datetime:
        if self.failure is not None:
            raise self.failure
        self.deletions.append(person_id)
        return datetime.now(UTC)

    async def check(self) -> None:
        if self.failure is not None:
            raise ConnectionError("broker down")


class FakeReader:
    def __init__(self) -> None:
        self.persons: dict[uuid.UUID, PersonPublic] = {}
        self.searches: list[str] = []
        self.pings: dict[uuid.UUID, list[ExportedPing]] = {}
        self.down = False

    async def get(self, person_id: uuid.UUID) -> PersonPublic | None:
        if self.down:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))
        return self.persons.get(person_id)

    async def list_page(
        self, limit: int, after: tuple[str, str, uuid.UUID] | None, search: str | None = None
    ) -> PersonPage:
        ordered = sorted(self.persons.values(), key=lambda p: (p.last_name, p.first_name, p.id))
        if search is not None:
            self.searches.append(search)
            needle = search.lower()
            ordered = [p for p in ordered if needle in f"{p.first_name} {p.last_name} | {p.company_name}".lower()]
        if after is not None:
            ordered = [p for p in ordered if (p.last_name, p.first_name, p.id) > after]
        return PersonPage(persons=ordered[:limit], has_more=len(ordered) > limit)

    async def export_pings(self, person_id: uuid.UUID) -> AsyncIterator[ExportedPing]:
        for ping in self.pings.get(person_id, []):
            yield ping

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
        create_app(publisher, reader, access=access_control(), max_body_bytes=1024), headers=bearer(organizer_token())
    ) as test_client:
        yield test_client


VALID = {"first_name": "Taco", "last_name": "Fargo", "company_name": "Alpha Omega Upholstery"}


def test_post_accepts_publishes_and_points_to_the_new_person(client: TestClient, publisher: FakePublisher) -> None:
    response = client.post("/api/persons", json=VALID)

    assert response.status_code == 202
    body = response.json()
    person_id = uuid.UUID(body["id"])
    assert person_id.version == 7
    assert response.headers["location"] == f"/api/persons/{person_id}"
    assert {k: body[k] for k in VALID} == VALID
    assert [p.id for p in publisher.published] == [person_id]


def test_post_strips_whitespace_from_names(client: TestClient) -> None:
    response = client.post("/api/persons", json={**VALID, "first_name": "  Taco "})
    assert response.json()["first_name"] == "Taco"


def test_same_idempotency_key_gives_the_same_id_and_different_keys_differ(client: TestClient) -> None:
    first = client.post("/api/persons", json=VALID, headers={"Idempotency-Key": "phone-42-req-1"})
    again = client.post("/api/persons", json=VALID, headers={"Idempotency-Key": "phone-42-req-1"})
    other = client.post("/api/persons", json=VALID, headers={"Idempotency-Key": "phone-42-req-2"})

    assert first.json()["id"] == again.json()["id"]
    assert other.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({"last_name": "Fargo", "company_name": "X"}, "first_name"),
        ({**VALID, "first_name": ""}, "first_name"),
        ({**VALID, "first_name": "   "}, "first_name"),
        ({**VALID, "last_name": 42}, "last_name"),
        ({**VALID, "company_name": "x" * 101}, "company_name"),
        ({**VALID, "nickname": "T"}, "nickname"),
        ({**VALID, "last_name": "nul\x00byte"}, "last_name"),
    ],
)
def test_invalid_body_is_a_422_problem_naming_the_field_and_publishes_nothing(
    client: TestClient, publisher: FakePublisher, body: dict[str, object], bad_field: str
) -> None:
    response = client.post("/api/persons", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert any(bad_field in error["loc"] for error in problem["errors"]), problem
    assert publisher.published == []


def test_malformed_json_is_a_422_problem(client: TestClient, publisher: FakePublisher) -> None:
    response = client.post("/api/persons", content=b'{"first_name": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["title"] == "Invalid request"
    assert publisher.published == []


def test_body_over_the_limit_is_a_413_problem(client: TestClient, publisher: FakePublisher) -> None:
    response = client.post("/api/persons", json={**VALID, "company_name": "x" * 2000})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert publisher.published == []


def test_broker_failure_is_a_503_with_retry_after(client: TestClient, publisher: FakePublisher) -> None:
    publisher.failure = DeliveryFailed("Local: Message timed out")

    response = client.post("/api/persons", json=VALID)

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert "Message timed out" in response.json()["detail"]


def test_ready_names_the_dependency_that_fails(client: TestClient, publisher: FakePublisher) -> None:
    assert client.get("/ready").status_code == 200
    publisher.failure = DeliveryFailed("down")
    response = client.get("/ready")
    assert response.status_code == 503
    assert "kafka" in response.json()["detail"]


def test_database_outage_is_a_503_not_a_500(client: TestClient, reader: FakeReader) -> None:
    reader.down = True
    response = client.get(f"/api/persons/{uuid.uuid4()}")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["title"] == "Database unavailable"


def test_get_unknown_person_is_404_and_malformed_id_is_422(client: TestClient) -> None:
    missing = client.get(f"/api/persons/{uuid.uuid4()}")
    malformed = client.get("/api/persons/not-a-uuid")

    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert malformed.status_code == 422


def _seed(reader: FakeReader, count: int) -> list[PersonPublic]:
    persons = [
        PersonPublic(id=uuid.uuid4(), first_name=f"First{i % 3}", last_name=f"Last{i % 4}", company_name="C")
        for i in range(count)
    ]
    reader.persons = {p.id: p for p in persons}
    return sorted(persons, key=lambda p: (p.last_name, p.first_name, p.id))


def test_list_pages_follow_next_links_to_every_person_in_order(client: TestClient, reader: FakeReader) -> None:
    expected = _seed(reader, 11)
    seen: list[str] = []
    url: str | None = "/api/persons?limit=4"
    pages = 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        seen.extend(person["id"] for person in response.json())
        pages += 1
        next_link = response.links.get("next")
        url = next_link["url"] if next_link else None

    assert seen == [str(p.id) for p in expected]
    assert pages == 3


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=abc", "cursor=%%%", "cursor=WzFd"])
def test_bad_paging_parameters_are_422(client: TestClient, reader: FakeReader, query: str) -> None:
    _seed(reader, 3)
    response = client.get(f"/api/persons?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_openapi_documents_the_errors(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"202", "422", "503"} <= set(paths["/api/persons"]["post"]["responses"])
    assert {"404", "422"} <= set(paths["/api/persons/{person_id}"]["get"]["responses"])


def test_search_passes_the_trimmed_text_and_pages_within_the_matches(client: TestClient, reader: FakeReader) -> None:
    _seed(reader, 12)  # First0..2 x Last0..3
    first = client.get("/api/persons", params={"q": "  first1 ", "limit": 2})
    assert first.status_code == 200
    assert reader.searches[-1] == "first1"
    second = client.get(first.links["next"]["url"])
    names = {p["first_name"] for p in first.json() + second.json()}
    assert names == {"First1"}
    assert "q=" in first.links["next"]["url"], "the next page keeps the search"


@pytest.mark.parametrize("q", ["", "x" * 101, "a\x00b"])
def test_bad_search_text_is_a_422(client: TestClient, reader: FakeReader, q: str) -> None:
    response = client.get("/api/persons", params={"q": q})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "q"]
    assert reader.searches == []


def test_a_blank_search_lists_everyone(client: TestClient, reader: FakeReader) -> None:
    _seed(reader, 3)
    assert len(client.get("/api/persons", params={"q": "   "}).json()) == 3
    assert reader.searches == []


def test_delete_accepts_and_publishes_the_deletion_again_and_again(
    client: TestClient, publisher: FakePublisher
) -> None:
    person_id = uuid.uuid4()
    for _ in range(2):
        response = client.delete(f"/api/persons/{person_id}")
        assert response.status_code == 202
        assert response.json()["person_id"] == str(person_id)
    assert publisher.deletions == [person_id, person_id]


def test_delete_while_the_broker_is_down_is_a_503(client: TestClient, publisher: FakePublisher) -> None:
    publisher.failure = DeliveryFailed("broker down")
    response = client.delete(f"/api/persons/{uuid.uuid4()}")
    assert response.status_code == 503
    assert response.headers["retry-after"]


def _exported(reader: FakeReader) -> tuple[PersonPublic, list[ExportedPing]]:
    person = PersonPublic(id=uuid.uuid4(), first_name="Ada <&>", last_name="Lovelace", company_name="Engines")
    at = datetime(2026, 6, 1, 9, tzinfo=UTC)
    pings = [ExportedPing(str(uuid.uuid4()), 37.78 + i * 1e-6, -122.4 - i * 1e-6, at, at) for i in range(1203)]
    reader.persons[person.id] = person
    reader.pings[person.id] = pings
    return person, pings


def test_export_as_json_has_the_person_and_every_ping(client: TestClient, reader: FakeReader) -> None:
    person, pings = _exported(reader)
    response = client.get(f"/api/persons/{person.id}/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="udaconnect-{person.id}.json"'
    document = response.json()
    assert document["person"] == person.model_dump(mode="json")
    assert [p["id"] for p in document["locations"]] == [p.id for p in pings]
    assert document["locations"][1]["latitude"] == pings[1].latitude
    assert document["locations"][0]["creation_time"] == "2026-06-01T09:00:00Z"


def test_export_as_geojson_puts_longitude_first(client: TestClient, reader: FakeReader) -> None:
    person, pings = _exported(reader)
    response = client.get(f"/api/persons/{person.id}/export", params={"format": "geojson"})
    assert response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    assert len(features) == len(pings)
    assert features[2]["geometry"]["coordinates"] == [pings[2].longitude, pings[2].latitude]


def test_export_as_gpx_is_a_track_of_every_ping_with_names_escaped(client: TestClient, reader: FakeReader) -> None:
    person, pings = _exported(reader)
    response = client.get(f"/api/persons/{person.id}/export", params={"format": "gpx"})
    assert response.headers["content-type"].startswith("application/gpx+xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    gpx = "{http://www.topografix.com/GPX/1/1}"
    assert root.find(f"{gpx}trk/{gpx}name").text == "Ada <&> Lovelace"  # type: ignore[union-attr]
    points = root.findall(f"{gpx}trk/{gpx}trkseg/{gpx}trkpt")
    assert len(points) == len(pings)
    assert (float(points[5].attrib["lat"]), float(points[5].attrib["lon"])) == (pings[5].latitude, pings[5].longitude)


def test_export_of_an_unknown_person_is_404_and_a_bad_format_422(client: TestClient, reader: FakeReader) -> None:
    assert client.get(f"/api/persons/{uuid.uuid4()}/export").status_code == 404
    person, _ = _exported(reader)
    assert client.get(f"/api/persons/{person.id}/export", params={"format": "kml"}).status_code == 422
