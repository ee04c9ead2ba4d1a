"""The connection benchmark: the service's one statement against the legacy N+1 algorithm, same run, same database.

* A seeded sample of person-days; every combination of range (1 day, whole event), distance (5 m, 50 m) and
  window (none, 5 minutes) runs the service's statement (:func:`connection_api.queries.connections_statement`,
  compiled for psycopg, with a limit above any answer) over it, as the read-only role the API uses.
* The legacy algorithm runs in full for one person-day (5 m, no window: the legacy's own semantics) and both
  answers are compared; elsewhere its cost is the per-ping cost measured on a few pings times the person's pings.
* The HTTP endpoint is timed end to end under a few concurrent clients, against the bare statement it runs.
"""

import asyncio
import gc
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg
from psycopg import errors, sql
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from connection_api.adapters import SqlConnectionReader
from connection_api.contacts_feed import ContactsFeed, ContactsIndex
from connection_api.contacts_reader import IndexedConnectionReader
from connection_api.proximity import Proximity
from connection_api.queries import connections_statement
from connection_api.settings import DEFAULT_CONTACTS_INDEX_MAX_PINGS
from udaconnect_bench import auth, legacy
from udaconnect_bench.stats import Summary
from udaconnect_common.db import create_read_engine
from udaconnect_common.timerange import time_range

log = logging.getLogger(__name__)

# Above any answer: the SQL comparison wants every row, not a page.
EVERYTHING = 100_000_000
HTTP_PAGE = 1000  # the API's maximum page size
# Rounds of first pages over the sample: a percentile over that many requests, not one draw per person-day.
FIRST_PAGE_ROUNDS = 3
COPRESENCE_WINDOW_MIN = 5

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PersonDay:
    person_id: uuid.UUID
    day: date
    pings: int  # the person's pings that day
    event_pings: int  # the person's pings over the whole event


@dataclass(frozen=True, slots=True)
class Combination:
    whole_event: bool
    distance_m: float
    window_min: int | None

    @property
    def label(self) -> str:
        span = "whole event" if self.whole_event else "1 day"
        window = f"{self.window_min} min window" if self.window_min else "no window"
        return f"{span}, {self.distance_m:g} m, {window}"

    @property
    def key(self) -> str:
        return f"{'event' if self.whole_event else 'day'}-{self.distance_m:g}m-{self.window_min or 'nowindow'}"


LEGACY_SEMANTICS = Combination(whole_event=False, distance_m=5.0, window_min=None)
COPRESENCE = Combination(whole_event=False, distance_m=5.0, window_min=COPRESENCE_WINDOW_MIN)
COMBINATIONS = tuple(
    Combination(whole_event, distance, window)
    for whole_event in (False, True)
    for distance in (5.0, 50.0)
    for window in (None, COPRESENCE_WINDOW_MIN)
)


@dataclass(frozen=True, slots=True)
class Event:
    first_day: date
    last_day: date


def date_range(combination: Combination, person_day: PersonDay, event: Event) -> tuple[date, date]:
    """First and last day, both inclusive (the API's semantics)."""
    if combination.whole_event:
        return event.first_day, event.last_day
    return person_day.day, person_day.day


def proximity(combination: Combination, person_day: PersonDay, event: Event) -> Proximity:
    first, last = date_range(combination, person_day, event)
    window = timedelta(minutes=combination.window_min) if combination.window_min else None
    return Proximity(person_day.person_id, time_range(first, last), combination.distance_m, window)


def compiled_statement(query: Proximity, limit: int) -> tuple[sql.SQL, dict[str, Any]]:
    """The whole answer in one statement (the service reads a page in slices: :class:`ServicePages`)."""
    compiled = connections_statement(query, query.period, limit, None).compile(
        dialect=psycopg_dialect.dialect()  # type: ignore[no-untyped-call]
    )
    return sql.SQL(str(compiled)), dict(compiled.params)


# -- the sample ------------------------------------------------------------------------------------


def person_days(conn: psycopg.Connection[Row]) -> list[PersonDay]:
    rows = conn.execute(
        """
        SELECT person_id, (creation_time AT TIME ZONE 'UTC')::date AS day, count(*),
               sum(count(*)) OVER (PARTITION BY person_id)
        FROM location GROUP BY 1, 2 ORDER BY 2, 1
        """
    ).fetchall()
    return [PersonDay(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def sample(days: Sequence[PersonDay], count: int, seed: str) -> list[PersonDay]:
    rnd = random.Random(f"udaconnect-bench:{seed}:sample")  # noqa: S311 - a seeded sample, not crypto
    return rnd.sample(list(days), min(count, len(days)))


def legacy_person_day(days: Sequence[PersonDay], pings: int) -> PersonDay:
    """The person-day the legacy runs in full: ping count closest to ``pings`` (ties: earliest day, lowest id)."""
    return min(days, key=lambda d: (abs(d.pings - pings), d.day, d.person_id))


# -- the service's statement --------------------------------------------------------------------------


@dataclass
class ServiceRuns:
    combination: Combination
    seconds: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    person_days: list[PersonDay] = field(default_factory=list)
    timeouts: int = 0
    # Answers (other ping ids) kept for the comparison with the legacy, by person-day.
    answers: dict[PersonDay, set[uuid.UUID]] = field(default_factory=dict)
    # The first page as the API reads it (largest page): FIRST_PAGE_ROUNDS rounds over the sample.
    first_page_seconds: list[float] = field(default_factory=list)
    first_page_days: list[PersonDay] = field(default_factory=list)

    def first_page_summary(self) -> Summary:
        return Summary.of(self.first_page_seconds)

    def summary(self) -> Summary:
        return Summary.of(self.seconds, censored=self.timeouts)


class ServiceQuery:
    """Runs the service's statement on one connection of the read-only role, as the API does."""

    def __init__(self, dsn: str, statement_timeout_s: float) -> None:
        self._conn: psycopg.Connection[Row] = psycopg.connect(dsn, autocommit=True)
        self._conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{statement_timeout_s}s")))
        # As the APIs' read engine runs (udaconnect_common.db): JIT compiling cost the whole answers hundreds of
        # milliseconds per statement.
        self._conn.execute("SET jit = off")
        self.timeout_s = statement_timeout_s

    def close(self) -> None:
        self._conn.close()

    def run(self, query: Proximity, limit: int = EVERYTHING) -> tuple[float, list[Row] | None]:
        """Seconds and rows; rows None when the statement hit the timeout (seconds is then the timeout)."""
        statement, params = compiled_statement(query, limit)
        started = time.perf_counter()
        try:
            rows = self._conn.execute(statement, params).fetchall()
        except errors.QueryCanceled:
            log.info("statement cancelled after %.0f s (statement_timeout)", self.timeout_s)
            return self.timeout_s, None
        return time.perf_counter() - started, rows


@dataclass(frozen=True, slots=True)
class PageStatement:
    """One statement a first page ran: the jump over an empty stretch, or the read of a stretch."""

    kind: str
    stretch_start: Any
    stretch_end: Any
    rows: int
    seconds: float


@dataclass(frozen=True, slots=True)
class PageTrace:
    """Where a first page's time goes: its statements in order, and the plan of the slowest."""

    person_day: PersonDay
    seconds: float
    statements: list[PageStatement]
    slowest_plan: str


class ServicePages:
    """The first page exactly as the API reads it, without HTTP: from the in-memory index, loaded here as
    the service loads it (``IndexedConnectionReader``, the read-only role). :meth:`trace` times the SQL
    reader's statements (what answers while the index loads)."""

    def __init__(self, url: str) -> None:
        self._runner = asyncio.Runner()
        # The engine the APIs build (pre-ping, statement timeout), one connection.
        self._engine = create_read_engine(url, pool_size=1)
        self._sql = SqlConnectionReader(self._engine)
        self._index = ContactsIndex(ContactsFeed(self._engine, url, DEFAULT_CONTACTS_INDEX_MAX_PINGS))
        self._reader = IndexedConnectionReader(self._sql, self._engine, self._index)
        self._runner.run(self._load())

    async def _load(self) -> None:
        self._index.start()
        for _ in range(3000):
            if await self._index.current() is not None:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("the contacts index did not load within ten minutes")

    def first_page(self, query: Proximity, limit: int) -> tuple[float, int]:
        """Seconds and rows of the first page."""
        # Everything alive now is frozen out of the collector's sight, as the APIs do at startup: this
        # process keeps whole answers and legacy results (millions of objects an API never holds), and a
        # full collection of them had landed in some of the timings (~100 ms each).
        gc.freeze()
        started = time.perf_counter()
        page = self._runner.run(self._reader.connections(query, limit, None))
        return time.perf_counter() - started, len(page.connections)

    def trace(self, query: Proximity, limit: int, person_day: PersonDay) -> PageTrace:
        """The first page again, each statement timed, then ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest."""
        calls: list[tuple[str, dict[str, Any], int, float]] = []

        def before(conn: Any, _cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool) -> None:
            conn.info["began"] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
            calls.append((statement, dict(parameters), cursor.rowcount, time.perf_counter() - conn.info.pop("began")))

        sync_engine = self._engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", before)
        event.listen(sync_engine, "after_cursor_execute", after)
        try:
            started = time.perf_counter()
            self._runner.run(self._sql.connections(query, limit, None))
            seconds = time.perf_counter() - started
        finally:
            event.remove(sync_engine, "before_cursor_execute", before)
            event.remove(sync_engine, "after_cursor_execute", after)
        statements = [
            # The read statement is the one that gives rows their page (its subquery ``on_page``).
            PageStatement(
                "read" if "on_page" in text_ else "jump",
                params.get("slice_start"),
                params.get("slice_end"),
                rows,
                elapsed,
            )
            for text_, params, rows, elapsed in calls
            if "slice_start" in params
        ]
        slowest_text, slowest_params, _, _ = max(
            (call for call in calls if "slice_start" in call[1]), key=lambda call: call[3]
        )
        plan = self._runner.run(self._explain(slowest_text, slowest_params))
        return PageTrace(person_day, seconds, statements, plan)

    async def _explain(self, statement: str, parameters: dict[str, Any]) -> str:
        async with self._engine.connect() as connection:
            result = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            return "\n".join(str(row[0]) for row in result)

    def close(self) -> None:
        self._runner.run(self._index.close())
        self._runner.run(self._engine.dispose())
        self._runner.close()


def run_combination(
    service: ServiceQuery,
    pages: ServicePages,
    combination: Combination,
    days: Sequence[PersonDay],
    event: Event,
    *,
    budget_s: float,
    min_runs: int,
    max_runs: int,
    keep_answers_of: int,
) -> ServiceRuns:
    """Round robin over ``days`` until the budget (and at least ``min_runs``) or ``max_runs``."""
    runs = ServiceRuns(combination)
    started = time.monotonic()
    index = 0
    while index < max_runs and (index < min_runs or time.monotonic() - started < budget_s):
        person_day = days[index % len(days)]
        seconds, rows = service.run(proximity(combination, person_day, event))
        runs.seconds.append(seconds)
        runs.person_days.append(person_day)
        if rows is None:
            runs.timeouts += 1
            runs.rows.append(-1)
        else:
            runs.rows.append(len(rows))
            if index < keep_answers_of and person_day not in runs.answers:
                runs.answers[person_day] = {row[0] for row in rows}
        index += 1
    # One page unmeasured first: its connection's statements are then prepared, as in a running API.
    pages.first_page(proximity(combination, days[0], event), HTTP_PAGE)
    for _ in range(FIRST_PAGE_ROUNDS):
        for person_day in days:
            elapsed, _ = pages.first_page(proximity(combination, person_day, event), HTTP_PAGE)
            runs.first_page_seconds.append(elapsed)
            runs.first_page_days.append(person_day)
    log.info(
        "%s: %d runs, p50 %.0f ms, %d timeouts; first page p50 %.0f ms",
        combination.label,
        len(runs.seconds),
        runs.summary().p50 * 1000,
        runs.timeouts,
        runs.first_page_summary().p50 * 1000,
    )
    return runs


# -- the legacy algorithm ----------------------------------------------------------------------------


@dataclass
class LegacyFull:
    person_day: PersonDay
    run: legacy.LegacyRun
    service_seconds: list[float]
    service_ids: set[uuid.UUID]
    # The first page of the same answer as the API reads it (largest page).
    first_page_seconds: list[float]
    first_page_trace: PageTrace

    @property
    def service_median_s(self) -> float:
        return sorted(self.service_seconds)[len(self.service_seconds) // 2]

    @property
    def first_page_median_s(self) -> float:
        return sorted(self.first_page_seconds)[len(self.first_page_seconds) // 2]

    @property
    def first_page_ratio(self) -> float:
        return self.run.seconds / self.first_page_median_s

    @property
    def ratio(self) -> float:
        return self.run.seconds / self.service_median_s

    @property
    def same_answer(self) -> bool:
        return self.run.ids == self.service_ids


def legacy_full(
    legacy_conn: psycopg.Connection[Row],
    service: ServiceQuery,
    pages: ServicePages,
    person_day: PersonDay,
    event: Event,
    repeats: int,
) -> LegacyFull:
    """The legacy algorithm in full for one person-day (5 m, no window), the service's statement on the same."""
    query = proximity(LEGACY_SEMANTICS, person_day, event)
    seconds: list[float] = []
    ids: set[uuid.UUID] = set()
    for _ in range(repeats):
        elapsed, rows = service.run(query)
        if rows is None:
            raise RuntimeError(f"the service's statement timed out for the legacy comparison's {person_day}")
        seconds.append(elapsed)
        ids = {row[0] for row in rows}
    first_pages = [pages.first_page(query, HTTP_PAGE)[0] for _ in range(repeats)]
    trace = pages.trace(query, HTTP_PAGE, person_day)
    day_after = person_day.day + timedelta(days=1)
    log.info("legacy algorithm in full: %s (%d pings)", person_day, person_day.pings)
    run = legacy.run(legacy_conn, person_day.person_id, person_day.day, day_after, LEGACY_SEMANTICS.distance_m)
    return LegacyFull(person_day, run, seconds, ids, first_pages, trace)


@dataclass
class LegacyPerPing:
    """The legacy's cost per own ping for one range and distance, measured on a few pings."""

    whole_event: bool
    distance_m: float
    seconds: list[float]
    rows: list[int]
    # Each measured ping's answer is inside the service's answer for the same person and range.
    checked: int = 0
    contained: int = 0
    jit_off_seconds: list[float] = field(default_factory=list)

    @property
    def mean_s(self) -> float:
        return sum(self.seconds) / len(self.seconds)


def legacy_per_ping(
    legacy_conn: psycopg.Connection[Row],
    combination: Combination,
    days: Sequence[PersonDay],
    event: Event,
    pings: int,
    seed: str,
    answers: dict[PersonDay, set[uuid.UUID]],
    jit_off_too: bool,
) -> LegacyPerPing:
    """``pings`` legacy per-ping queries, one from each of the first person-days of the sample."""
    rnd = random.Random(f"udaconnect-bench:{seed}:legacy:{combination.key}")  # noqa: S311 - seeded, not crypto
    measured = LegacyPerPing(combination.whole_event, combination.distance_m, [], [])
    for person_day in list(days)[:pings]:
        first, last = date_range(combination, person_day, event)
        end = last + timedelta(days=1)
        mine = legacy.own_pings(legacy_conn, person_day.person_id, first, end)
        if not mine:
            continue
        ping = mine[rnd.randrange(len(mine))]
        started = time.perf_counter()
        rows = legacy.near_one_ping(legacy_conn, ping, combination.distance_m, person_day.person_id, first, end)
        measured.seconds.append(time.perf_counter() - started)
        measured.rows.append(len(rows))
        answer = answers.get(person_day)
        if answer is not None:
            measured.checked += 1
            measured.contained += int({row[1] for row in rows} <= answer)
        if jit_off_too:
            legacy_conn.execute("SET jit = off")
            started = time.perf_counter()
            legacy.near_one_ping(legacy_conn, ping, combination.distance_m, person_day.person_id, first, end)
            measured.jit_off_seconds.append(time.perf_counter() - started)
            legacy_conn.execute("RESET jit")
    return measured


def legacy_estimate_s(per_ping: LegacyPerPing, person_day: PersonDay) -> float:
    """Per-ping cost x the person's pings in the range (the own-pings query is a few ms, left out)."""
    pings = person_day.event_pings if per_ping.whole_event else person_day.pings
    return per_ping.mean_s * pings


# -- the HTTP endpoint ------------------------------------------------------------------------------------


@dataclass
class HttpRuns:
    concurrency: int
    seconds: list[float]
    errors: int
    rows: list[int]
    wall_s: float
    # The same first page read by the service's own reader in this process (no HTTP), sequentially, on the
    # same person-days.
    sql_seconds: list[float]
    # One whole answer followed page by page (Link: rel="next").
    all_pages_person_day: PersonDay | None = None
    all_pages: int = 0
    all_pages_rows: int = 0
    all_pages_s: float = 0.0
    all_pages_complete: bool = False


def _url(base: str, combination: Combination, person_day: PersonDay, event: Event) -> str:
    first, last = date_range(combination, person_day, event)
    window = f"&window={combination.window_min}" if combination.window_min else ""
    return (
        f"{base}/api/persons/{person_day.person_id}/connection?start_date={first}&end_date={last}"
        f"&distance={combination.distance_m:g}{window}&limit={HTTP_PAGE}"
    )


async def _http_clients(
    base: str, combination: Combination, days: Sequence[PersonDay], event: Event, concurrency: int, seconds: float
) -> tuple[list[float], list[int], int, float]:
    latencies: list[float] = []
    rows: list[int] = []
    failures = 0
    started = time.monotonic()

    async def client(number: int) -> None:
        nonlocal failures
        async with httpx.AsyncClient(timeout=120.0, headers=auth.headers()) as http:
            index = number
            while time.monotonic() - started < seconds:
                url = _url(base, combination, days[index % len(days)], event)
                began = time.perf_counter()
                response = await http.get(url)
                body = response.content
                elapsed = time.perf_counter() - began
                if response.status_code != 200:
                    failures += 1
                    log.warning("GET %s: %d %s", url, response.status_code, body[:300])
                else:
                    latencies.append(elapsed)
                    rows.append(len(response.json()))
                index += concurrency

    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return latencies, rows, failures, time.monotonic() - started


def http_endpoint(
    base: str,
    pages: ServicePages,
    combination: Combination,
    days: Sequence[PersonDay],
    event: Event,
    concurrency: int,
    seconds: float,
    follow_pages_budget_s: float,
) -> HttpRuns:
    # Warm the API's connection pool and code paths: the first requests of a process are not what is measured.
    with httpx.Client(timeout=120.0, headers=auth.headers()) as http:
        for person_day in list(days)[: max(2, concurrency)]:
            http.get(_url(base, combination, person_day, event)).raise_for_status()
    latencies, rows, failures, wall = asyncio.run(_http_clients(base, combination, days, event, concurrency, seconds))
    # The same pages read without HTTP, one at a time, over the person-days the clients asked for.
    asked = len(latencies) + failures
    sql_seconds = []
    for index in range(min(asked, len(days))):
        elapsed, _ = pages.first_page(proximity(combination, days[index % len(days)], event), HTTP_PAGE)
        sql_seconds.append(elapsed)
    result = HttpRuns(concurrency, latencies, failures, rows, wall, sql_seconds)
    _follow_pages(base, combination, days, event, follow_pages_budget_s, result)
    return result


def _follow_pages(
    base: str,
    combination: Combination,
    days: Sequence[PersonDay],
    event: Event,
    budget_s: float,
    result: HttpRuns,
) -> None:
    """A client that wants the whole answer follows ``Link: rel="next"``: time it for the median-sized person-day."""
    by_pings = sorted(days, key=lambda d: (d.pings, d.person_id))
    person_day = by_pings[len(by_pings) // 2]
    result.all_pages_person_day = person_day
    url: str | None = _url(base, combination, person_day, event)
    started = time.perf_counter()
    with httpx.Client(timeout=120.0, headers=auth.headers()) as http:
        while url is not None and time.perf_counter() - started < budget_s:
            response = http.get(url)
            response.raise_for_status()
            result.all_pages += 1
            result.all_pages_rows += len(response.json())
            next_link = response.links.get("next")
            url = str(httpx.URL(base).join(next_link["url"])) if next_link else None
    result.all_pages_s = time.perf_counter() - started
    result.all_pages_complete = url is None
