"""What a user of the connection API waits for, timed over HTTP from this process (a separate client).

* **Contacts** for a whole event, per person: the first page (the API's default size) and the whole answer
  (every page followed). A 422 (the question needs more than the request's budget of database time) is
  an answer the user did not get: it counts as missing the goal, at no time.
* **Co-presence**, the first page of 1,000 for a person-day.
* **Legacy semantics**, the whole answer of a person-day followed page by page, against the legacy
  algorithm's time for the same answer.
* **Worst cases**: requests chosen to be costly (pings at a pole and on the antimeridian, the largest
  distance over the whole event, the smallest distance, a year-long range): the slowest answer.
"""

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from udaconnect_bench import auth
from udaconnect_bench.connection import Event, PersonDay

log = logging.getLogger(__name__)

CONTACTS_PAGE = 100  # the API's default page
CONNECTION_PAGE = 1000  # its largest


@dataclass
class Timed:
    """One kind of request, asked once per person (or case): times of answered ones, and the refused."""

    label: str
    seconds: list[float] = field(default_factory=list)
    # 422s (too costly for the budget) and how long the user waited for each.
    refused_seconds: list[float] = field(default_factory=list)
    rows: int = 0
    # Of ``seconds`` (whole answers): the client's own decoding of the JSON it received.
    decoding_seconds: list[float] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.refused_seconds)

    @property
    def asked(self) -> int:
        return len(self.seconds) + self.refused


@dataclass
class HttpTargets:
    contacts_first_page: dict[str, Timed]
    contacts_whole: dict[str, Timed]
    copresence_first_page: Timed
    legacy_whole: Timed
    worst: list[tuple[str, float, int]]  # (request, seconds, status)


def _get(http: httpx.Client, url: str, params: dict[str, str] | None = None) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = http.get(url, params=params)
    response.read()
    return time.perf_counter() - began, response


def _whole(http: httpx.Client, url: str, params: dict[str, str]) -> tuple[float, int, int, float]:
    """Every page followed: (seconds, rows, status of the last response, seconds of them the client spent
    decoding the JSON)."""
    began = time.perf_counter()
    rows = 0
    decoding = 0.0
    next_url: str | None = url
    next_params: dict[str, str] | None = params
    while next_url is not None:
        response = http.get(next_url, params=next_params)
        if response.status_code != 200:
            return time.perf_counter() - began, rows, response.status_code, decoding
        decode_began = time.perf_counter()
        rows += len(response.json())
        decoding += time.perf_counter() - decode_began
        link = response.links.get("next")
        next_url, next_params = (str(http.base_url.join(link["url"])), None) if link else (None, None)
    return time.perf_counter() - began, rows, 200, decoding


def _record(timed: Timed, seconds: float, status: int, rows: int = 0) -> None:
    if status == 200:
        timed.seconds.append(seconds)
        timed.rows += rows
    elif status == 422:
        timed.refused_seconds.append(seconds)
    else:
        raise RuntimeError(f"{timed.label}: HTTP {status}")


# Label -> (target name, parameters).
CONTACT_CASES = {
    "5 m, no window": ("5m", {"distance": "5"}),
    "5 m, 5 min window": ("5m-window", {"distance": "5", "window": "5"}),
    "50 m, no window": ("50m", {"distance": "50"}),
    "50 m, 5 min window": ("50m-window", {"distance": "50", "window": "5"}),
}


def measure(base: str, sample: Sequence[PersonDay], event: Event, owner_dsn: str, legacy_day: PersonDay) -> HttpTargets:
    persons = list(dict.fromkeys(day.person_id for day in sample))
    whole_event = {"start_date": event.first_day.isoformat(), "end_date": event.last_day.isoformat()}
    first_pages = {label: Timed(f"contacts {label}") for label in CONTACT_CASES}
    wholes = {label: Timed(f"contacts {label}, every page") for label in CONTACT_CASES}
    copresence = Timed("co-presence first page")
    legacy_whole = Timed("legacy semantics, every page")
    with httpx.Client(base_url=base, timeout=120.0, headers=auth.headers()) as http:
        _wait_for_contacts_index(http, owner_dsn, f"/api/persons/{persons[0]}/contacts", whole_event)
        # Warm the API's pool and code paths.
        http.get(f"/api/persons/{persons[0]}/contacts", params={**whole_event, "window": "5"})
        for label, (_, case) in CONTACT_CASES.items():
            for person in persons:
                url = f"/api/persons/{person}/contacts"
                params = {**whole_event, **case, "limit": str(CONTACTS_PAGE)}
                seconds, response = _get(http, url, params)
                _record(first_pages[label], seconds, response.status_code, 1)
                seconds, rows, status, _ = _whole(http, url, params)
                _record(wholes[label], seconds, status, rows)
            log.info(
                "contacts %s: %d answered, %d refused",
                label,
                len(first_pages[label].seconds),
                first_pages[label].refused,
            )
        for _ in range(3):
            for day in sample:
                params = {
                    "start_date": day.day.isoformat(),
                    "end_date": day.day.isoformat(),
                    "distance": "5",
                    "window": "5",
                    "limit": str(CONNECTION_PAGE),
                }
                seconds, response = _get(http, f"/api/persons/{day.person_id}/connection", params)
                _record(copresence, seconds, response.status_code, len(response.json()))
        legacy_date = legacy_day.day.isoformat()
        for _ in range(3):
            params = {
                "start_date": legacy_date,
                "end_date": legacy_date,
                "distance": "5",
                "limit": str(CONNECTION_PAGE),
            }
            seconds, rows, status, decoding = _whole(http, f"/api/persons/{legacy_day.person_id}/connection", params)
            _record(legacy_whole, seconds, status, rows)
            legacy_whole.decoding_seconds.append(decoding)
        worst = _worst_cases(http, owner_dsn, persons[0], event)
    return HttpTargets(first_pages, wholes, copresence, legacy_whole, worst)


def _wait_for_contacts_index(http: httpx.Client, owner_dsn: str, url: str, params: dict[str, str]) -> None:
    """Until the connection API's contacts index holds every ping loaded (it was started before the load,
    and loads again in the background when it sees it): a user of a running system meets a loaded index."""
    with psycopg.connect(owner_dsn, autocommit=True) as db:
        pings = int((db.execute("SELECT count(*) FROM location").fetchone() or (0,))[0])
    deadline = time.monotonic() + 300
    while True:
        # A request makes the index look at what is new (and start a load when needed).
        http.get(url, params={**params, "window": "5"})
        metrics = http.get("/metrics").text
        held = [line.split()[-1] for line in metrics.splitlines() if line.startswith("contacts_index_pings ")]
        if held and float(held[0]) >= pings:
            log.info("contacts index holds %s pings", held[0])
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the contacts index did not load the {pings} pings within 300 s")
        time.sleep(1.0)


# Pings that once cost the most: near a pole, where a latitude/longitude grid's cells are slivers, and
# across the antimeridian, where its columns wrap.
EDGE_PLACES = {"north pole": (89.99999, 0.0), "south pole": (-89.9999, 45.0), "antimeridian": (-16.8, 179.99999)}


def _worst_cases(http: httpx.Client, owner_dsn: str, person: uuid.UUID, event: Event) -> list[tuple[str, float, int]]:
    """The costliest requests the bench can think of, each asked once (after the other measurements: it adds
    pings). Returns (request, seconds, status) for each."""
    start = datetime.combine(event.first_day, datetime.min.time(), UTC) + timedelta(hours=12)
    edge_person = uuid.uuid5(uuid.NAMESPACE_URL, "udaconnect-bench/edge-person")
    with psycopg.connect(owner_dsn, autocommit=True) as db:
        db.execute(
            "INSERT INTO person (id, first_name, last_name, company_name) VALUES (%s, 'Edge', 'Case', 'Bench') "
            "ON CONFLICT DO NOTHING",
            (edge_person,),
        )
        for index, (latitude, longitude) in enumerate(EDGE_PLACES.values()):
            for who in (person, edge_person):
                db.execute(
                    "INSERT INTO location (id, person_id, coordinate, creation_time) "
                    "VALUES (gen_random_uuid(), %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
                    (who, longitude, latitude, start + timedelta(minutes=index)),
                )
    whole_event = {"start_date": event.first_day.isoformat(), "end_date": event.last_day.isoformat()}
    year = {"start_date": f"{event.first_day.year}-01-01", "end_date": f"{event.first_day.year}-12-30"}
    cases: list[tuple[str, str, dict[str, str]]] = []
    for endpoint in ("connection", "contacts"):
        for distance in ("0.01", "5", "500"):
            for window in (None, "5"):
                params = {**whole_event, "distance": distance, **({"window": window} if window else {})}
                cases.append((endpoint, f"{endpoint} whole event {distance} m window {window}", params))
        cases.append((endpoint, f"{endpoint} legacy year 5 m", {**year, "distance": "5"}))
    results = []
    for endpoint, label, params in cases:
        seconds, response = _get(http, f"/api/persons/{person}/{endpoint}", params)
        if response.status_code not in (200, 422):
            raise RuntimeError(f"{label}: HTTP {response.status_code} {response.text[:200]}")
        results.append((label, seconds, response.status_code))
    return results
