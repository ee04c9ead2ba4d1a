"""The connection API's parameter handling and paging, with an in-memory fake reader."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.errors import QueryCanceled
from pydantic import TypeAdapter
from sqlalchemy.exc import OperationalError

from connection_api.adapters import FIRST_SLICE, GROWTH, _next_span
from connection_api.app import create_app
from connection_api.ports import TooCostly
from connection_api.proximity import Proximity
from connection_api.schemas import (
    CONNECTION_ROWS,
    Connection,
    ConnectionPage,
    ConnectionRow,
    ContactPage,
    LocationPublic,
    PersonPublic,
)
from tests.tokens import access_control, bearer, organizer_token

SUBJECT = uuid.uuid4()
OTHER = PersonPublic(id=uuid.uuid4(), first_name="O", last_name="Ther", company_name="C")


class FakeReader:
    def __init__(self, connections: list[ConnectionRow]) -> None:
        self.rows = connections
        self.queries: list[Proximity] = []

    async def person_exists(self, person_id: uuid.UUID) -> bool:
        return person_id == SUBJECT

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        self.queries.append(query)
        rows = [c for c in self.rows if after is None or (c["location"]["creation_time"], c["location"]["id"]) > after]
        return ConnectionPage(connections=rows[:limit], has_more=len(rows) > limit)

    async def contacts(self, query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> ContactPage:
        self.queries.append(query)
        return ContactPage(contacts=[], has_more=False)

    async def check(self) -> None:
        return None


def _connections(count: int) -> list[ConnectionRow]:
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    return [
        {
            "person": {"id": OTHER.id, "first_name": "O", "last_name": "Ther", "company_name": "C"},
            "location": {
                "id": uuid.uuid4(),
                "person_id": OTHER.id,
                "latitude": 1.0,
                "longitude": 2.0,
                "creation_time": start + timedelta(minutes=i),
            },
        }
        for i in range(count)
    ]


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader(_connections(5))


@pytest.fixture
def client(reader: FakeReader) -> Iterator[TestClient]:
    with TestClient(create_app(reader, access=access_control()), headers=bearer(organizer_token())) as test_client:
        yield test_client


URL = f"/api/persons/{SUBJECT}/connection"


def test_defaults_are_five_metres_no_window_and_inclusive_days(client: TestClient, reader: FakeReader) -> None:
    response = client.get(URL, params={"start_date": "2026-06-01", "end_date": "2026-06-02"})

    assert response.status_code == 200
    [query] = reader.queries
    assert query.distance_m == 5.0
    assert query.window is None
    assert query.period.start == datetime(2026, 6, 1, tzinfo=UTC)
    assert query.period.end == datetime(2026, 6, 3, tzinfo=UTC)
    # Without a window, the time condition spans the whole range (so the one SQL shape stays correct).
    assert query.effective_window == timedelta(days=2)


def test_window_is_minutes(client: TestClient, reader: FakeReader) -> None:
    client.get(URL, params={"start_date": "2026-06-01", "end_date": "2026-06-01", "window": 5})
    assert reader.queries[0].effective_window == timedelta(minutes=5)


def test_pages_link_to_the_rest(client: TestClient, reader: FakeReader) -> None:
    seen: list[str] = []
    url: str | None = URL + "?start_date=2026-06-01&end_date=2026-06-01&limit=2"
    while url:
        response = client.get(url)
        seen.extend(item["location"]["id"] for item in response.json())
        url = response.links["next"]["url"] if "next" in response.links else None
    assert seen == [str(c["location"]["id"]) for c in reader.rows]


def test_unknown_person_is_404_before_any_query(client: TestClient, reader: FakeReader) -> None:
    response = client.get(
        f"/api/persons/{uuid.uuid4()}/contacts", params={"start_date": "2026-06-01", "end_date": "2026-06-02"}
    )
    assert response.status_code == 404
    assert reader.queries == []


@pytest.mark.parametrize(
    "extra",
    [
        {"end_date": "2026-05-31"},
        {"distance": "0"},
        {"distance": "1e-13"},  # once an integer overflow in the cell arithmetic, a 500
        {"distance": "0.0099"},
        {"distance": "500.1"},
        {"distance": "inf"},
        {"window": "-1"},
        {"window": "2.5"},
    ],
)
@pytest.mark.parametrize("endpoint", ["connection", "contacts"])
def test_bad_parameters_are_422(client: TestClient, reader: FakeReader, extra: dict[str, str], endpoint: str) -> None:
    params = {"start_date": "2026-06-01", "end_date": "2026-06-02", **extra}
    response = client.get(URL.replace("connection", endpoint), params=params)
    assert response.status_code == 422, response.text
    assert reader.queries == []


def test_any_range_is_asked_for_even_the_legacy_front_ends_year(client: TestClient, reader: FakeReader) -> None:
    for endpoint in ("connection", "contacts"):
        params = {"start_date": "2020-01-01", "end_date": "2020-12-30", "distance": "5"}
        response = client.get(URL.replace("connection", endpoint), params=params)
        assert response.status_code == 200, response.text
    assert [query.period.length for query in reader.queries] == [timedelta(days=365)] * 2


class BudgetReader(FakeReader):
    """As the real reader answers when its budget of database time runs out: a short page, or refusal."""

    def __init__(self, resume_at: datetime | None) -> None:
        super().__init__(_connections(2))
        self.resume_at = resume_at
        self.afters: list[tuple[datetime, uuid.UUID] | None] = []

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        self.afters.append(after)
        if self.resume_at is None:
            raise TooCostly("give a window")
        if after is not None:
            return ConnectionPage(connections=[], has_more=False)
        return ConnectionPage(connections=self.rows, has_more=False, resume_at=self.resume_at)

    async def contacts(self, query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> ContactPage:
        raise TooCostly("ask for one day")


def test_a_page_cut_short_by_the_budget_links_to_where_it_stopped() -> None:
    stopped = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)
    reader = BudgetReader(resume_at=stopped)
    with TestClient(create_app(reader, access=access_control()), headers=bearer(organizer_token())) as client:
        first = client.get(URL, params={"start_date": "2026-06-01", "end_date": "2026-06-03", "limit": 100})
        assert first.status_code == 200
        assert len(first.json()) == 2  # fewer than the limit, and yet a next page
        second = client.get(first.links["next"]["url"])
    assert second.status_code == 200
    assert "next" not in second.links
    # The next page starts at the time reached, before any id there.
    assert reader.afters == [None, (stopped, uuid.UUID(int=0))]


def test_a_question_too_costly_for_the_budget_is_a_422_saying_what_to_ask() -> None:
    with TestClient(
        create_app(BudgetReader(resume_at=None), access=access_control()), headers=bearer(organizer_token())
    ) as client:
        for endpoint, advice in (("connection", "give a window"), ("contacts", "ask for one day")):
            response = client.get(
                URL.replace("connection", endpoint), params={"start_date": "2026-06-01", "end_date": "2026-06-03"}
            )
            assert response.status_code == 422
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["title"] == "Query too costly"
            assert advice in response.json()["detail"]


def test_the_smallest_distance_is_answered(client: TestClient, reader: FakeReader) -> None:
    response = client.get(URL, params={"start_date": "2026-06-01", "end_date": "2026-06-01", "distance": "0.01"})
    assert response.status_code == 200
    assert reader.queries[0].distance_m == 0.01


def test_a_slice_that_found_nothing_grows_the_next() -> None:
    assert _next_span(FIRST_SLICE * 4, found=0, missing=100) == FIRST_SLICE * 4 * GROWTH


def test_a_slice_that_found_rows_sizes_the_next_by_its_pace() -> None:
    # 400 rows in 8 minutes, 100 more wanted: 2 minutes at that pace, a quarter more.
    assert _next_span(timedelta(minutes=8), found=400, missing=100) == timedelta(minutes=2.5)
    # Never more than GROWTH times longer, never under the first slice.
    assert _next_span(timedelta(minutes=8), found=1, missing=1000) == timedelta(minutes=8) * GROWTH
    assert _next_span(timedelta(minutes=8), found=10_000, missing=1) == FIRST_SLICE


class SlowReader(FakeReader):
    """As if PostgreSQL's statement timeout, or an outage, stopped the query."""

    def __init__(self, cause: Exception) -> None:
        super().__init__([])
        self.cause = cause

    async def connections(
        self, query: Proximity, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> ConnectionPage:
        raise OperationalError("SELECT ...", {}, self.cause)


def test_a_query_stopped_by_the_statement_timeout_is_a_503_saying_to_ask_for_less() -> None:
    with TestClient(
        create_app(SlowReader(QueryCanceled("canceling statement due to statement timeout")), access=access_control()),
        headers=bearer(organizer_token()),
    ) as client:
        response = client.get(URL, params={"start_date": "2026-06-01", "end_date": "2026-06-02"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Query took too long"
    assert "shorter date range" in response.json()["detail"]
    assert "Retry-After" not in response.headers


def test_a_database_outage_is_a_503_with_retry_after() -> None:
    with TestClient(
        create_app(SlowReader(psycopg.OperationalError("connection refused")), access=access_control()),
        headers=bearer(organizer_token()),
    ) as client:
        response = client.get(URL, params={"start_date": "2026-06-01", "end_date": "2026-06-02"})
    assert response.status_code == 503
    assert response.json()["title"] == "Database unavailable"
    assert "Retry-After" in response.headers


def test_geojson_pages_are_the_other_pings_lon_lat_with_the_same_links(client: TestClient) -> None:
    params = {"start_date": "2026-06-01", "end_date": "2026-06-01", "limit": 3}
    geojson = client.get(URL, params=params, headers={"Accept": "application/geo+json"})
    plain = client.get(URL, params=params)

    assert geojson.status_code == 200
    assert geojson.headers["content-type"] == "application/geo+json"
    assert "Accept" in geojson.headers["vary"]
    assert "Accept" in plain.headers["vary"]
    assert geojson.headers["link"] == plain.headers["link"]
    collection = geojson.json()
    assert collection["type"] == "FeatureCollection"
    assert [f["id"] for f in collection["features"]] == [c["location"]["id"] for c in plain.json()]
    feature = collection["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [2.0, 1.0]}  # [longitude, latitude]
    assert feature["properties"]["person"] == {
        "id": str(OTHER.id),
        "first_name": "O",
        "last_name": "Ther",
        "company_name": "C",
    }
    assert feature["properties"]["creation_time"] == "2026-06-01T09:00:00Z"


def test_a_page_serialized_from_its_rows_is_the_json_of_the_connection_models() -> None:
    rows = _connections(3)
    models = [Connection(person=PersonPublic(**r["person"]), location=LocationPublic(**r["location"])) for r in rows]

    assert CONNECTION_ROWS.dump_json(rows) == TypeAdapter(list[Connection]).dump_json(models)
    # The same fields in the same order, so that the OpenAPI document (from the models) says what is sent.
    assert list(ConnectionRow.__annotations__) == list(Connection.model_fields)
    row_fields = [list(ConnectionRow.__annotations__[name].__annotations__) for name in Connection.model_fields]
    assert row_fields == [list(PersonPublic.model_fields), list(LocationPublic.model_fields)]
