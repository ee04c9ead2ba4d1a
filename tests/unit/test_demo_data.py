"""The demo conference: deterministic, inside the venue and its hours, people really meet; its HTTP loader."""

import dataclasses
import itertools
import json
import random
import threading
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from udaconnect_demo.cli import main
from udaconnect_demo.generator import SMALL, Conference, ConferenceSpec, DemoPing, generate, write_csv
from udaconnect_demo.loader import LoadError, already_loaded, load
from udaconnect_demo.names import COMPANIES, FIRST_NAMES, LAST_NAMES
from udaconnect_demo.stats import encounter_stats

PERSON_API = "http://persons.test"
LOCATION_API = "http://locations.test"
TINY = ConferenceSpec(seed=7, people=3, days=1)


@pytest.fixture(scope="module")
def small() -> Conference:
    return generate(SMALL)


@pytest.fixture(scope="module")
def small_pings(small: Conference) -> list[DemoPing]:
    return list(small.iter_pings())


# -- generator --------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_conference(small: Conference) -> None:
    again = generate(SMALL)
    assert again.persons == small.persons
    assert list(itertools.islice(again.iter_pings(), 3000)) == list(itertools.islice(small.iter_pings(), 3000))


def test_another_seed_gives_another_conference(small: Conference) -> None:
    other = generate(dataclasses.replace(SMALL, seed=SMALL.seed + 1))
    assert [(p.first_name, p.last_name) for p in other.persons] != [(p.first_name, p.last_name) for p in small.persons]
    first = [(p.latitude, p.longitude, p.creation_time) for p in itertools.islice(small.iter_pings(), 100)]
    assert [(p.latitude, p.longitude, p.creation_time) for p in itertools.islice(other.iter_pings(), 100)] != first


def test_csv_is_byte_identical_for_the_same_spec(tmp_path: Path) -> None:
    spec = dataclasses.replace(SMALL, people=8)
    first = write_csv(generate(spec), tmp_path / "a")
    write_csv(generate(spec), tmp_path / "b")
    for name in ("persons.csv", "locations.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    lines = (tmp_path / "a" / "locations.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "person_key,key,latitude,longitude,creation_time"
    assert len(lines) == first.pings + 1
    person_key, key, latitude, longitude, moment = lines[1].split(",")
    assert person_key == "demo-2026-person-0"
    assert key == f"demo-2026-{spec.fingerprint}-ping-0-0"
    assert -90 <= float(latitude) <= 90
    assert -180 <= float(longitude) <= 180
    assert moment.endswith("Z")
    assert datetime.fromisoformat(moment).tzinfo is not None
    persons = (tmp_path / "a" / "persons.csv").read_text(encoding="utf-8").splitlines()
    assert persons[0] == "key,first_name,last_name,company_name"
    assert len(persons) == 9


def test_persons_look_real_and_have_stable_keys(small: Conference) -> None:
    assert len(small.persons) == SMALL.people
    for index, person in enumerate(small.persons):
        assert person.index == index
        assert person.idempotency_key == f"demo-{SMALL.seed}-person-{index}"
        assert person.first_name in FIRST_NAMES
        assert person.last_name in LAST_NAMES
        assert person.company_name in COMPANIES
    # Colleagues come together: some company sends more than one person.
    assert Counter(p.company_name for p in small.persons).most_common(1)[0][1] >= 2


def test_pings_lie_in_the_venue_during_event_hours(small: Conference, small_pings: list[DemoPing]) -> None:
    bounds = small.bounds
    windows = [small.event_window(day) for day in range(SMALL.days)]
    last_time: dict[int, datetime] = {}
    keys: set[str] = set()
    for ping in small_pings:
        assert -90.0 <= ping.latitude <= 90.0
        assert -180.0 <= ping.longitude <= 180.0
        assert bounds.south <= ping.latitude <= bounds.north, ping
        assert bounds.west <= ping.longitude <= bounds.east, ping
        assert ping.creation_time.utcoffset() == timedelta(0), ping
        assert any(start <= ping.creation_time <= end for start, end in windows), ping
        previous = last_time.get(ping.person_index)
        assert previous is None or ping.creation_time > previous, ping
        last_time[ping.person_index] = ping.creation_time
        keys.add(ping.idempotency_key)
    assert len(keys) == len(small_pings)
    # The venue box is 200 m x 150 m.
    assert (bounds.north - bounds.south) * 111_320 == pytest.approx(150.0)


def test_small_has_about_the_expected_number_of_pings(small_pings: list[DemoPing]) -> None:
    # 40 people, ~90% of 2 days of ~8 hours, a ping every 2 minutes: ~17k; small enough for `make up`.
    assert 12_000 <= len(small_pings) <= 30_000
    per_person = Counter(ping.person_index for ping in small_pings)
    assert len(per_person) == SMALL.people


def test_attendance_varies_like_a_real_conference(small: Conference, small_pings: list[DemoPing]) -> None:
    days_per_person: defaultdict[int, set[int]] = defaultdict(set)
    first_of_day: dict[tuple[int, int], datetime] = {}
    for ping in small_pings:
        day = (ping.creation_time.date() - SMALL.start_day).days
        days_per_person[ping.person_index].add(day)
        first_of_day.setdefault((ping.person_index, day), ping.creation_time)
    # Some skip a day, some come late.
    assert any(len(days) < SMALL.days for days in days_per_person.values())
    assert any(moment.hour >= 10 for moment in first_of_day.values())


def test_people_cluster_into_connections(small: Conference, small_pings: list[DemoPing]) -> None:
    real = encounter_stats(small_pings, SMALL.center_latitude, SMALL.center_longitude)
    # Baseline: the same people at the same times, each ping anywhere in the venue.
    rnd = random.Random(0)
    bounds = small.bounds
    scattered = [
        ping._replace(latitude=rnd.uniform(bounds.south, bounds.north), longitude=rnd.uniform(bounds.west, bounds.east))
        for ping in small_pings
    ]
    baseline = encounter_stats(scattered, SMALL.center_latitude, SMALL.center_longitude)
    assert real.close_ping_pairs > 10_000
    assert real.close_ping_pairs > 10 * baseline.close_ping_pairs
    assert real.persons_with_contacts == SMALL.people


def test_spec_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="people"):
        ConferenceSpec(seed=1, people=0, days=1)
    with pytest.raises(ValueError, match="ping_interval_seconds"):
        ConferenceSpec(seed=1, people=1, days=1, ping_interval_seconds=0)


def test_cli_generates_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--size", "small", "--people", "4", "--days", "1", "--csv", str(tmp_path)]) == 0
    assert "4 persons" in capsys.readouterr().out
    assert (tmp_path / "locations.csv").stat().st_size > 0


# -- loader -----------------------------------------------------------------------------------------


class FakeApis:
    """The person and location APIs' write contract, in memory; fails the first requests when told to."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.person_keys: list[str] = []
        self.batches: list[tuple[str, list[dict[str, object]]]] = []
        self.unavailable_batches = 0  # answer 503 to this many batch requests first
        self.invalid = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        assert key, f"no Idempotency-Key on {request.url}"
        body = json.loads(request.content)
        if request.url.path == "/api/persons":
            assert request.url.host == "persons.test"
            with self.lock:
                self.person_keys.append(key)
            return httpx.Response(202, json={"id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)), **body})
        assert request.url.host == "locations.test"
        assert request.url.path == "/api/locations/batch"
        with self.lock:
            if self.unavailable_batches > 0:
                self.unavailable_batches -= 1
                self.batches.append((key, []))
                return httpx.Response(503, headers={"Retry-After": "0"}, json={"title": "Write path unavailable"})
            self.batches.append((key, body["locations"]))
        if self.invalid:
            problem = {"title": "Invalid request", "status": 422, "detail": "locations.0.latitude: too far north"}
            return httpx.Response(422, json=problem, headers={"Content-Type": "application/problem+json"})
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}#{i}")) for i in range(len(body["locations"]))]
        return httpx.Response(202, json={"ids": ids})


def test_load_sends_keys_and_batches_within_size() -> None:
    conference = generate(TINY)
    apis = FakeApis()
    report = load(
        conference, PERSON_API, LOCATION_API, concurrency=3, batch_size=100, transport=httpx.MockTransport(apis.handle)
    )

    assert sorted(apis.person_keys) == sorted(p.idempotency_key for p in conference.persons)
    pings = list(conference.iter_pings())
    assert report.persons == TINY.people
    assert report.pings == len(pings) == sum(len(items) for _, items in apis.batches)
    assert report.batches == len(apis.batches)
    assert all(1 <= len(items) <= 100 for _, items in apis.batches)
    assert len({key for key, _ in apis.batches}) == len(apis.batches)
    ids = {str(uuid.uuid5(uuid.NAMESPACE_URL, p.idempotency_key)): p.index for p in conference.persons}
    for key, items in apis.batches:
        assert key.startswith(f"demo-{TINY.seed}-{TINY.fingerprint}-batch-")
        person_index = int(key.split("-")[4])
        # A batch holds one person's pings, under that person's id.
        assert {ids[str(item["person_id"])] for item in items} == {person_index}
        assert all(str(item["creation_time"]).endswith("Z") for item in items)

    again = FakeApis()
    load(conference, PERSON_API, LOCATION_API, batch_size=100, transport=httpx.MockTransport(again.handle))
    assert sorted(again.batches) == sorted(apis.batches)  # same keys, same bodies: a reload stores nothing new


def test_load_retries_503_with_the_same_key() -> None:
    apis = FakeApis()
    apis.unavailable_batches = 1
    report = load(generate(TINY), PERSON_API, LOCATION_API, concurrency=1, transport=httpx.MockTransport(apis.handle))
    assert report.retries == 1
    assert apis.batches[0][0] == apis.batches[1][0]
    assert apis.batches[0][1] == []
    assert len(apis.batches[1][1]) > 0


def test_load_retries_a_refused_connection() -> None:
    apis = FakeApis()
    failures = [httpx.ConnectError("connection refused")]

    def flaky(request: httpx.Request) -> httpx.Response:
        if failures:
            raise failures.pop()
        return apis.handle(request)

    report = load(generate(TINY), PERSON_API, LOCATION_API, concurrency=1, transport=httpx.MockTransport(flaky))
    assert report.retries == 1
    assert sorted(apis.person_keys) == sorted(p.idempotency_key for p in generate(TINY).persons)


def test_load_gives_up_when_503_persists() -> None:
    apis = FakeApis()
    apis.unavailable_batches = 10
    with pytest.raises(LoadError, match="503"):
        load(generate(TINY), PERSON_API, LOCATION_API, max_attempts=3, transport=httpx.MockTransport(apis.handle))


def test_load_raises_on_422_with_the_problem_detail() -> None:
    apis = FakeApis()
    apis.invalid = True
    with pytest.raises(LoadError, match="too far north") as raised:
        load(generate(TINY), PERSON_API, LOCATION_API, transport=httpx.MockTransport(apis.handle))
    assert raised.value.status == 422
    assert raised.value.problem["title"] == "Invalid request"


def test_already_loaded_asks_for_one_person() -> None:
    seen: list[httpx.URL] = []

    def answer(persons: list[dict[str, str]]) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            seen.append(request.url)
            return httpx.Response(200, json=persons)

        return httpx.MockTransport(handle)

    assert not already_loaded(PERSON_API, SMALL, transport=answer([]))
    person = {"id": str(uuid.uuid4()), "first_name": "Ada", "last_name": "Lovelace", "company_name": "Engines"}
    assert already_loaded(PERSON_API, SMALL, transport=answer([person]))
    assert seen[0].path == "/api/persons"
    assert seen[0].params["limit"] == "1"


def test_load_rejects_batches_larger_than_the_api_takes() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        load(generate(TINY), PERSON_API, LOCATION_API, batch_size=1001)


def test_generated_times_are_utc(small_pings: list[DemoPing]) -> None:
    assert all(ping.creation_time.tzinfo is UTC for ping in small_pings[:100])
