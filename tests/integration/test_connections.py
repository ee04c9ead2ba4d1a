"""The connection and contacts queries against an independent brute-force computation, and their plan.

The data is written straight into PostGIS (the write path has its own tests): a small, dense,
seeded crowd around one point, plus hand-placed pings just inside and just outside the distance and
at the edges of the date range.
"""

import asyncio
import itertools
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from geographiclib.geodesic import Geodesic
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from connection_api.adapters import SqlConnectionReader, _Budget, _OutOfBudget
from connection_api.ports import TooCostly
from connection_api.proximity import Proximity
from connection_api.queries import connections_statement, next_candidate_statement, slice_params
from udaconnect_common.db import create_read_engine
from udaconnect_common.timerange import time_range
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration

# Sydney Opera House forecourt: far from every other test's data.
CENTRE_LAT, CENTRE_LON = -33.8568, 151.2153
DAY1 = datetime(2026, 6, 1, tzinfo=UTC)
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Ping:
    id: str
    person_id: str
    latitude: float
    longitude: float
    time: datetime


@dataclass
class Crowd:
    persons: dict[str, tuple[str, str, str]]
    pings: list[Ping]
    subject: str  # the person whose connections the tests ask for


def _offset(lat: float, lon: float, azimuth: float, metres: float) -> tuple[float, float]:
    result = Geodesic.WGS84.Direct(lat, lon, azimuth, metres)
    return result["lat2"], result["lon2"]


def _distance(a: Ping, b: Ping) -> float:
    distance: float = Geodesic.WGS84.Inverse(a.latitude, a.longitude, b.latitude, b.longitude)["s12"]
    return distance


def _make_crowd(seed: int = 20260601) -> Crowd:
    rng = random.Random(seed)
    persons = {str(uuid.uuid4()): (f"Crowd{i:02d}", "Member", "Sydney Events") for i in range(30)}
    ids = list(persons)
    subject = ids[0]
    pings: list[Ping] = []
    # Everyone wanders a 60 m x 60 m square for two days and a bit (dense enough for many encounters).
    for person_id in ids:
        for _ in range(90):
            north, east = rng.uniform(-30, 30), rng.uniform(-30, 30)
            lat = CENTRE_LAT + north / METRES_PER_DEGREE
            lon = CENTRE_LON + east / 92_600.0  # metres per degree of longitude at this latitude, roughly
            moment = DAY1 + timedelta(seconds=rng.uniform(0, 2.2 * 86_400))
            pings.append(Ping(str(uuid.uuid4()), person_id, lat, lon, moment))
    # Hand-placed edges around one of the subject's pings, far from the crowd so nothing else is near.
    anchor_lat, anchor_lon = _offset(CENTRE_LAT, CENTRE_LON, 0.0, 500.0)
    anchor_time = DAY1 + timedelta(hours=12)
    pings.append(Ping(str(uuid.uuid4()), subject, anchor_lat, anchor_lon, anchor_time))
    for metres, minutes, azimuth in [(4.99, 1, 10.0), (5.01, 1, 100.0), (4.0, 4, 200.0), (4.0, 6, 300.0)]:
        lat, lon = _offset(anchor_lat, anchor_lon, azimuth, metres)
        pings.append(Ping(str(uuid.uuid4()), ids[1], lat, lon, anchor_time + timedelta(minutes=minutes)))
    # Date-range edges: the last microsecond of day 2 is in, midnight of day 3 is out.
    edge_lat, edge_lon = _offset(CENTRE_LAT, CENTRE_LON, 180.0, 800.0)
    last_moment = DAY1 + timedelta(days=2) - timedelta(microseconds=1)
    pings.append(Ping(str(uuid.uuid4()), subject, edge_lat, edge_lon, last_moment))
    pings.append(Ping(str(uuid.uuid4()), ids[2], edge_lat, edge_lon, last_moment))
    pings.append(Ping(str(uuid.uuid4()), ids[3], edge_lat, edge_lon, DAY1 + timedelta(days=2)))
    return Crowd(persons, pings, subject)


@pytest.fixture(scope="module")
def crowd(stack: LocalStack) -> Crowd:
    data = _make_crowd()
    with psycopg.connect(stack.owner_libpq_dsn) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY person (id, first_name, last_name, company_name) FROM STDIN") as copy:
            for person_id, (first, last, company) in data.persons.items():
                copy.write_row((person_id, first, last, company))
        cursor.executemany(
            "INSERT INTO location (id, person_id, coordinate, creation_time) "
            "VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
            [(p.id, p.person_id, p.longitude, p.latitude, p.time) for p in data.pings],
        )
        cursor.execute("ANALYZE location")
    return data


def brute_force(
    crowd: Crowd, start: datetime, end: datetime, distance: float, window: timedelta | None
) -> dict[str, float]:
    """Other ping id -> closest distance to one of the subject's pings, by geodesic arithmetic in Python."""
    in_range = [p for p in crowd.pings if start <= p.time < end]
    mine = [p for p in in_range if p.person_id == crowd.subject]
    # A cheap box test first (a degree of latitude is >= 110 km; of longitude here >= 90 km), then geodesics.
    margin_lat, margin_lon = (distance + 1) / 110_000, (distance + 1) / 90_000
    near: dict[str, float] = {}
    for other in in_range:
        if other.person_id == crowd.subject:
            continue
        for own in mine:
            if abs(own.latitude - other.latitude) > margin_lat or abs(own.longitude - other.longitude) > margin_lon:
                continue
            if window is not None and abs(own.time - other.time) > window:
                continue
            metres = _distance(own, other)
            if metres <= distance:
                near[other.id] = min(metres, near.get(other.id, metres))
    return near


def fetch_all(api: httpx.Client, url: str, params: dict[str, str | int | float]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    next_params: dict[str, str | int | float] | None = params
    while next_url:
        response = api.get(next_url, params=next_params)
        assert response.status_code == 200, response.text
        items.extend(response.json())
        next_url, next_params = (response.links["next"]["url"], None) if "next" in response.links else (None, None)
    return items


SCENARIOS = [
    # start, end, distance, window (minutes)
    ("2026-06-01", "2026-06-01", 5.0, None),
    ("2026-06-01", "2026-06-02", 5.0, None),
    ("2026-06-01", "2026-06-02", 5.0, 5),
    ("2026-06-02", "2026-06-03", 12.5, None),
    ("2026-06-01T06:00:00Z", "2026-06-01T18:00:00+02:00", 8.0, 30),
]


@pytest.mark.parametrize(("start", "end", "distance", "window"), SCENARIOS)
def test_connections_equal_a_brute_force_geodesic_computation(
    crowd: Crowd, connection_api: httpx.Client, start: str, end: str, distance: float, window: int | None
) -> None:
    params: dict[str, str | int | float] = {"start_date": start, "end_date": end, "distance": distance, "limit": 97}
    if window is not None:
        params["window"] = window
    period = time_range(
        datetime.fromisoformat(start) if "T" in start else datetime.fromisoformat(start).date(),
        datetime.fromisoformat(end) if "T" in end else datetime.fromisoformat(end).date(),
    )
    expected = brute_force(crowd, period.start, period.end, distance, timedelta(minutes=window) if window else None)

    connections = fetch_all(connection_api, f"/api/persons/{crowd.subject}/connection", params)

    got = [c["location"] for c in connections]
    ids = [str(location["id"]) for location in got]
    assert len(ids) == len(set(ids)), "an other ping appears twice"
    assert set(ids) == set(expected)
    assert len(expected) > 0
    print(f"{start}..{end} {distance} m window {window}: {len(expected)} other pings near, all matched")
    order = [(str(location["creation_time"]), str(location["id"])) for location in got]
    assert order == sorted(order)
    by_id = {p.id: p for p in crowd.pings}
    for connection in connections:
        location, person = connection["location"], connection["person"]
        ping = by_id[str(location["id"])]
        assert (location["latitude"], location["longitude"]) == pytest.approx((ping.latitude, ping.longitude))
        assert person["id"] == location["person_id"] == ping.person_id


@pytest.mark.parametrize(("start", "end", "distance", "window"), SCENARIOS)
def test_the_whole_range_in_one_statement_gives_the_brute_force_answer(
    crowd: Crowd,
    db: psycopg.Connection[tuple[object, ...]],
    start: str,
    end: str,
    distance: float,
    window: int | None,
) -> None:
    """The whole range as one stretch, straight in SQL (the API reads it in stretches)."""
    period = time_range(
        datetime.fromisoformat(start) if "T" in start else datetime.fromisoformat(start).date(),
        datetime.fromisoformat(end) if "T" in end else datetime.fromisoformat(end).date(),
    )
    gap = timedelta(minutes=window) if window else None
    expected = brute_force(crowd, period.start, period.end, distance, gap)
    query = Proximity(uuid.UUID(crowd.subject), period, distance, gap)
    statement = connections_statement(query, period, 1_000_000, None)
    compiled = statement.compile(dialect=psycopg_dialect.dialect())  # type: ignore[no-untyped-call]
    rows = db.execute(sql.SQL(str(compiled)), compiled.params).fetchall()

    assert [str(row[0]) for row in rows] != []
    assert {str(row[0]) for row in rows} == set(expected)
    assert len(rows) == len(expected)
    times = [(row[4], str(row[0])) for row in rows]
    assert times == sorted(times)


def test_the_distance_edge_is_exact_to_the_centimetre(crowd: Crowd, connection_api: httpx.Client) -> None:
    params: dict[str, str | int | float] = {"start_date": "2026-06-01", "end_date": "2026-06-01", "limit": 1000}
    near = {c["location"]["id"] for c in fetch_all(connection_api, f"/api/persons/{crowd.subject}/connection", params)}
    edge_pings = [
        p
        for p in crowd.pings
        if p.person_id == list(crowd.persons)[1] and p.time.hour == 12 and p.time.minute in (1, 4, 6)
    ]
    by_minute_and_side = {(p.time.minute, round(_distance_to_anchor(crowd, p), 2)): p.id for p in edge_pings}
    assert by_minute_and_side[(1, 4.99)] in near
    assert by_minute_and_side[(1, 5.01)] not in near

    windowed = {
        c["location"]["id"]
        for c in fetch_all(connection_api, f"/api/persons/{crowd.subject}/connection", {**params, "window": 5})
    }
    assert by_minute_and_side[(4, 4.0)] in windowed
    assert by_minute_and_side[(6, 4.0)] not in windowed
    assert by_minute_and_side[(6, 4.0)] in near


def _distance_to_anchor(crowd: Crowd, ping: Ping) -> float:
    anchor = next(p for p in crowd.pings if p.person_id == crowd.subject and p.time == DAY1 + timedelta(hours=12))
    return _distance(anchor, ping)


def test_both_dates_are_inclusive_for_everyone(crowd: Crowd, connection_api: httpx.Client) -> None:
    ids = list(crowd.persons)
    params: dict[str, str | int | float] = {"start_date": "2026-06-02", "end_date": "2026-06-02", "limit": 1000}
    people = {
        c["person"]["id"]
        for c in fetch_all(connection_api, f"/api/persons/{crowd.subject}/connection", params)
        if c["location"]["creation_time"].endswith("23:59:59.999999Z")
    }
    assert ids[2] in people  # the last microsecond of the end day
    assert ids[3] not in people  # midnight after it


def test_contacts_aggregate_the_same_encounters(crowd: Crowd, connection_api: httpx.Client) -> None:
    period = time_range(DAY1.date(), (DAY1 + timedelta(days=1)).date())
    expected = brute_force(crowd, period.start, period.end, 5.0, None)
    by_id = {p.id: p for p in crowd.pings}
    per_person: dict[str, list[str]] = {}
    for ping_id in expected:
        per_person.setdefault(by_id[ping_id].person_id, []).append(ping_id)

    contacts = fetch_all(
        connection_api,
        f"/api/persons/{crowd.subject}/contacts",
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "limit": 7},
    )

    assert {c["person"]["id"] for c in contacts} == set(per_person)
    for contact in contacts:
        pings = per_person[contact["person"]["id"]]
        assert contact["encounters"] == len(pings)
        times = sorted(by_id[p].time for p in pings)
        assert datetime.fromisoformat(str(contact["first_seen"])) == times[0]
        assert datetime.fromisoformat(str(contact["last_seen"])) == times[-1]
        assert contact["closest_distance_m"] == pytest.approx(min(expected[p] for p in pings), abs=1e-3)
    ranking = [(-int(str(c["encounters"])), str(c["person"]["id"])) for c in contacts]
    assert ranking == sorted(ranking)


def test_unknown_person_is_404(crowd: Crowd, connection_api: httpx.Client) -> None:
    response = connection_api.get(
        f"/api/persons/{uuid.uuid4()}/connection", params={"start_date": "2026-06-01", "end_date": "2026-06-02"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_extreme_distances_are_answered_exactly(crowd: Crowd, connection_api: httpx.Client) -> None:
    day = {"start_date": "2026-06-01", "end_date": "2026-06-01"}
    for distance in (0.01, 500.0):
        expected = brute_force(crowd, *_day_bounds("2026-06-01"), distance, None)
        for endpoint in ("connection", "contacts"):
            response = connection_api.get(
                f"/api/persons/{crowd.subject}/{endpoint}", params={**day, "distance": distance, "limit": 1}
            )
            assert response.status_code == 200, (endpoint, distance, response.text)
        got = fetch_all(connection_api, f"/api/persons/{crowd.subject}/connection", {**day, "distance": distance})
        assert {c["location"]["id"] for c in got} == set(expected), distance


def test_the_legacy_front_ends_year_long_request_gets_its_whole_answer(
    crowd: Crowd, connection_api: httpx.Client
) -> None:
    # What the legacy front end asks, for the year the crowd is in: every page followed.
    params: dict[str, str | int | float] = {"start_date": "2026-01-01", "end_date": "2026-12-30", "distance": 5}
    period = time_range(datetime(2026, 1, 1, tzinfo=UTC).date(), datetime(2026, 12, 30, tzinfo=UTC).date())
    expected = brute_force(crowd, period.start, period.end, 5.0, None)

    got = fetch_all(connection_api, f"/api/persons/{crowd.subject}/connection", {**params, "limit": 1000})

    assert len(expected) > 0
    assert [c["location"]["id"] for c in got] == sorted(
        expected, key=lambda ping_id: (next(p.time for p in crowd.pings if p.id == ping_id), ping_id)
    )
    contacts = fetch_all(connection_api, f"/api/persons/{crowd.subject}/contacts", params)
    assert sum(int(str(c["encounters"])) for c in contacts) == len(expected)


def _day_bounds(day: str) -> tuple[datetime, datetime]:
    period = time_range(datetime.fromisoformat(day).date(), datetime.fromisoformat(day).date())
    return period.start, period.end


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-06-02", "end_date": "2026-06-01"},
        {"start_date": "2026-06-01"},
        {"start_date": "01/06/2026", "end_date": "2026-06-02"},
        {"start_date": "2026-06-01T10:00:00", "end_date": "2026-06-02"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "distance": "0"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "distance": "1e-13"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "distance": "-5"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "distance": "501"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "distance": "five"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "distance": "nan"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "window": "0"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "window": "1441"},
        {"start_date": "2026-06-01", "end_date": "2026-06-02", "cursor": "bm90IGEgY3Vyc29y"},
    ],
)
def test_bad_parameters_are_422_problems(crowd: Crowd, connection_api: httpx.Client, params: dict[str, str]) -> None:
    for endpoint in ("connection", "contacts"):
        response = connection_api.get(f"/api/persons/{crowd.subject}/{endpoint}", params=params)
        assert response.status_code == 422, (endpoint, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_plan_drives_from_the_person_index_into_the_cube_index(
    crowd: Crowd, stack: LocalStack, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    # The crowd was written straight into the table, so into its default partition. Giving its days their
    # partitions moves those rows in, as the persistence service's writes would have placed them.
    for day in range(3):
        db.execute("SELECT ensure_location_partition(date '2026-06-01' + %s)", (day,))
    assert db.execute(
        "SELECT count(*) FROM location_default WHERE creation_time >= '2026-06-01' AND creation_time < '2026-06-04'"
    ).fetchone() == (0,)
    # Enough rows elsewhere (Paris) that a sequential scan would be a real choice for the planner.
    db.execute(
        """
        INSERT INTO person (id, first_name, last_name, company_name)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'Filler', 'Person', 'Paris'
        FROM generate_series(1, 500) AS g
        """
    )
    db.execute(
        """
        INSERT INTO location (id, person_id, coordinate, creation_time)
        SELECT gen_random_uuid(),
               ('00000000-0000-4000-8000-' || lpad(to_hex(1 + g % 500), 12, '0'))::uuid,
               ST_SetSRID(ST_MakePoint(2.35 + random() / 100, 48.85 + random() / 100), 4326)::geography,
               timestamptz '2026-06-01' + random() * interval '3 days'
        FROM generate_series(1, 200000) AS g
        """
    )
    db.execute("ANALYZE location")
    for window, distance in itertools.product((None, timedelta(minutes=5)), (5.0, 50.0)):
        query = Proximity(uuid.UUID(crowd.subject), time_range(DAY1.date(), DAY1.date()), distance, window)
        dialect = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]
        jump = next_candidate_statement(query.cube_size, windowed=window is not None).params(
            slice_params(query, query.period)
        )
        for statement in (connections_statement(query, query.period, 101, None), jump):
            compiled = statement.compile(dialect=dialect)
            rows = db.execute(sql.SQL("EXPLAIN ") + sql.SQL(str(compiled)), compiled.params).fetchall()
            plan = "\n".join(str(line[0]) for line in rows)

            print(plan)
            # Each day partition has the parent's indexes, named after the partition and the columns.
            assert "location_d20260601_person_id_creation_time_idx" in plan, plan
            # With a window the jump needs only the person's own pings.
            if statement is not jump or window is None:
                assert f"location_d20260601_{query.cube_size.column}_creation_time_idx" in plan, plan
            # No day partition is scanned whole (the default partition, which holds only strays, may be).
            assert not re.search(r"Seq Scan on location_d\d{8}", plan), plan
            # Only the partitions of the day asked for (and the default's strays) are read.
            assert "location_d20260603" not in plan, plan


# Places where a latitude/longitude grid is easy to get wrong: across the antimeridian (Taveuni, Fiji), far
# north (Longyearbyen, Svalbard), and a few metres from either pole, where every longitude meets.
EDGE_PLACES = {
    "antimeridian": (-16.8, 179.99997),
    "far-north": (78.2232, 15.6267),
    "north-pole": (89.99999, 0.0),
    "south-pole": (-89.9999, 45.0),
}
EDGE_DAY = datetime(2026, 7, 1, tzinfo=UTC)


def _edge_crowd(place: str, day: datetime, seed: int) -> Crowd:
    rng = random.Random(seed)
    lat0, lon0 = EDGE_PLACES[place]
    persons = {str(uuid.uuid4()): (f"Edge{i:02d}", place, "Edge Cases Ltd") for i in range(8)}
    pings = []
    for person_id in persons:
        for _ in range(40):
            lat, lon = _offset(lat0, lon0, rng.uniform(0, 360), rng.uniform(0, 40))
            lon = (lon + 180.0) % 360.0 - 180.0  # both sides of the antimeridian, as phones report them
            pings.append(Ping(str(uuid.uuid4()), person_id, lat, lon, day + timedelta(seconds=rng.uniform(0, 7200))))
    return Crowd(persons, pings, next(iter(persons)))


# Both cube sizes, on either side of the distance that switches between them, and the largest distance.
@pytest.mark.parametrize(("distance", "day"), [(3.0, 0), (12.0, 1), (25.0, 2), (26.0, 3), (60.0, 4), (500.0, 5)])
@pytest.mark.parametrize("place", sorted(EDGE_PLACES))
def test_the_cubes_find_every_near_ping_across_the_antimeridian_and_at_the_poles(
    stack: LocalStack,
    db: psycopg.Connection[tuple[object, ...]],
    connection_api: httpx.Client,
    place: str,
    distance: float,
    day: int,
) -> None:
    # A day of its own for each case, so that no other case's pings are near.
    when = EDGE_DAY + timedelta(days=day)
    edge = _edge_crowd(place, when, seed=len(place) * 1000 + day)
    with psycopg.connect(stack.owner_libpq_dsn) as connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO person (id, first_name, last_name, company_name) VALUES (%s, %s, %s, %s)",
            [(person_id, *names) for person_id, names in edge.persons.items()],
        )
        cursor.executemany(
            "INSERT INTO location (id, person_id, coordinate, creation_time) "
            "VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
            [(p.id, p.person_id, p.longitude, p.latitude, p.time) for p in edge.pings],
        )
    mine = [p for p in edge.pings if p.person_id == edge.subject]
    # No box test here: every pair, by geodesic.
    expected = {
        other.id
        for other in edge.pings
        if other.person_id != edge.subject and any(_distance(own, other) <= distance for own in mine)
    }
    if place == "antimeridian":
        assert {p.longitude > 0 for p in edge.pings} == {True, False}
    query = Proximity(uuid.UUID(edge.subject), time_range(when.date(), when.date()), distance, None)
    compiled = connections_statement(query, query.period, 1_000_000, None).compile(
        dialect=psycopg_dialect.dialect()  # type: ignore[no-untyped-call]
    )
    rows = db.execute(sql.SQL(str(compiled)), compiled.params).fetchall()

    assert len(expected) > 0
    assert {str(row[0]) for row in rows} == expected
    assert len(rows) == len(expected)
    # Contacts (from the in-memory index) count the same pings.
    day_text = when.date().isoformat()
    params: dict[str, str | int | float] = {"start_date": day_text, "end_date": day_text, "distance": distance}
    contacts = fetch_all(connection_api, f"/api/persons/{edge.subject}/contacts", {**params, "limit": 1000})
    assert sum(int(str(contact["encounters"])) for contact in contacts) == len(expected)


class SteppingClock:
    """A clock that moves on by ``step`` seconds each time it is read: the budget runs out after a known
    number of statements, whatever this machine's speed."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def _all_pages(reader: SqlConnectionReader, query: Proximity) -> tuple[list[str], int]:
    ids: list[str] = []
    after: tuple[datetime, uuid.UUID] | None = None
    pages = 0
    while True:
        page = await reader.connections(query, 1000, after)
        pages += 1
        ids.extend(str(c["location"]["id"]) for c in page.connections)
        if page.has_more:
            after = (page.connections[-1]["location"]["creation_time"], page.connections[-1]["location"]["id"])
        elif page.resume_at is not None:
            assert page.resume_at < query.period.end
            after = (page.resume_at, uuid.UUID(int=0))
        else:
            return ids, pages


def test_pages_cut_short_by_the_budget_still_add_up_to_the_whole_answer(crowd: Crowd, stack: LocalStack) -> None:
    period = time_range(DAY1.date(), (DAY1 + timedelta(days=2)).date())
    query = Proximity(uuid.UUID(crowd.subject), period, 12.0, timedelta(minutes=30))
    expected = brute_force(crowd, period.start, period.end, 12.0, timedelta(minutes=30))

    async def run() -> tuple[list[str], int]:
        engine = create_read_engine(stack.reader_url)
        try:
            # 100 ms of budget used per statement, 250 ms per request: two statements, then the page ends.
            reader = SqlConnectionReader(engine, timedelta(milliseconds=250), clock=SteppingClock(0.1))
            return await _all_pages(reader, query)
        finally:
            await engine.dispose()

    ids, pages = asyncio.run(run())

    assert pages > 3  # each page ended early, at the budget
    assert len(ids) == len(set(ids))
    assert set(ids) == set(expected)


def test_a_statement_past_the_budget_is_cancelled_by_the_database_and_the_connection_stays_usable(
    stack: LocalStack,
) -> None:
    async def run() -> None:
        engine = create_read_engine(stack.reader_url)
        try:
            async with engine.connect() as connection:
                with pytest.raises(_OutOfBudget):
                    await _Budget(timedelta(milliseconds=100)).execute(connection, text("SELECT pg_sleep(5)"))
                result = await _Budget(timedelta(seconds=5)).execute(connection, text("SELECT 1"))
                assert result.scalar() == 1
            # A budget too small to start a statement raises before the database is asked.
            reader = SqlConnectionReader(engine, timedelta(milliseconds=1))
            query = Proximity(uuid.uuid4(), time_range(DAY1.date(), DAY1.date()), 5.0, None)
            with pytest.raises(TooCostly, match="give a window"):
                await reader.connections(query, 10, None)
            with pytest.raises(TooCostly, match="shorter range"):
                await reader.contacts(query, 10, None)
        finally:
            await engine.dispose()

    asyncio.run(run())
