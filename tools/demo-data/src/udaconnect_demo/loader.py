"""Loads a demo conference through UdaConnect's public HTTP APIs, as phones and a sign-up form would.

Every request carries an ``Idempotency-Key`` derived from the spec's seed, so the ids the APIs give are
the same on every run: loading twice, or retrying after a failure halfway, stores nothing twice.
Persons go first (the pings need their ids), then the pings in batches of one person's pings each.
"""

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from udaconnect_demo.generator import Conference, ConferenceSpec, DemoPerson, DemoPing, iso_utc

MAX_BATCH_SIZE = 1000  # what the location API accepts in one batch
DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 10.0
RETRY_AFTER_MAX_S = 30.0


class LoadError(Exception):
    """An API refused the demo data (``problem`` holds its problem document), or stayed unavailable."""

    def __init__(self, message: str, status: int | None = None, problem: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LoadReport:
    persons: int
    pings: int
    batches: int
    seconds: float
    retries: int  # requests sent again after a 503 or a connection failure

    @property
    def pings_per_second(self) -> float:
        return self.pings / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        return (
            f"loaded {self.persons:,} persons and {self.pings:,} pings in {self.batches:,} batches "
            f"in {self.seconds:.1f} s ({self.pings_per_second:,.0f} pings/s, {self.retries} retries)"
        )


class _Poster:
    """POSTs with an idempotency key; retries 503s and connection failures with the same key."""

    def __init__(self, client: httpx.Client, max_attempts: int) -> None:
        self.client = client
        self.max_attempts = max_attempts
        self.retries = 0
        self._lock = threading.Lock()

    def post(self, url: str, key: str, body: bytes) -> Any:
        headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = self.client.post(url, content=body, headers=headers)
            except httpx.TransportError as exc:
                # Refused, reset or timed out: the API may be restarting. The request may also have
                # arrived, which is why the retry sends the same key.
                if last:
                    raise LoadError(f"POST {url} (key {key}) failed {attempt} times; last: {exc!r}") from exc
                self._wait(_backoff(attempt))
                continue
            if response.status_code == 202:
                try:
                    return response.json()
                except ValueError as exc:
                    raise LoadError(
                        f"POST {url} (key {key}): 202 without a JSON body: {response.text[:200]!r}"
                    ) from exc
            if response.status_code == 503 and not last:
                # The broker is momentarily unavailable and nothing was accepted: wait as told, then retry.
                told = _retry_after(response)
                self._wait(_backoff(attempt) if told is None else told)
                continue
            raise _refusal(response, key)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, seconds: float) -> None:
        with self._lock:
            self.retries += 1
        time.sleep(seconds)


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_INITIAL_S * 2.0 ** (attempt - 1), BACKOFF_MAX_S))


def _retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (capped), or None when absent or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit():
        return None
    return min(float(value), RETRY_AFTER_MAX_S)


def _refusal(response: httpx.Response, key: str | None) -> LoadError:
    request = response.request
    try:
        problem: Any = response.json()
    except ValueError:
        problem = response.text
    if isinstance(problem, dict):
        reason = str(problem.get("detail") or problem.get("title") or problem)
    else:
        reason = str(problem)[:500]
    what = "the demo data is invalid (a bug in the generator)" if response.status_code == 422 else "refused"
    keyed = f" (key {key})" if key else ""
    return LoadError(
        f"{request.method} {request.url}{keyed}: {response.status_code} {what}: {reason}",
        status=response.status_code,
        problem=problem,
    )


def _person_body(person: DemoPerson) -> bytes:
    body = {"first_name": person.first_name, "last_name": person.last_name, "company_name": person.company_name}
    return json.dumps(body, separators=(",", ":")).encode()


def _batch_body(person_id: str, pings: Sequence[DemoPing]) -> bytes:
    locations = [
        {
            "person_id": person_id,
            "latitude": ping.latitude,
            "longitude": ping.longitude,
            "creation_time": iso_utc(ping.creation_time),
        }
        for ping in pings
    ]
    return json.dumps({"locations": locations}, separators=(",", ":")).encode()


def _batches(conference: Conference, batch_size: int) -> Iterator[tuple[int, int, list[DemoPing]]]:
    """(person index, batch number, pings): each person's pings cut into batches, so keys never shift."""
    for person_index, pings in itertools.groupby(conference.iter_pings(), key=lambda ping: ping.person_index):
        batch_no = 0
        while chunk := list(itertools.islice(pings, batch_size)):
            yield person_index, batch_no, chunk
            batch_no += 1


def load(
    conference: Conference,
    person_api: str,
    location_api: str,
    concurrency: int = 4,
    batch_size: int = 1000,
    *,
    transport: httpx.BaseTransport | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    timeout_s: float = 30.0,
    token: str | None = None,
) -> LoadReport:
    """Load ``conference`` through the person and location APIs (base URLs, e.g. ``http://localhost:8001``).

    ``token``: an organizer's bearer token (the APIs need one). ``transport`` replaces the network (tests use
    ``httpx.MockTransport``). Raises ``LoadError`` when an
    API refuses the data or stays unavailable after ``max_attempts`` tries of one request.
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be within 1..{MAX_BATCH_SIZE}, not {batch_size}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    batch_prefix = f"demo-{conference.spec.seed}-{conference.spec.fingerprint}-batch-"
    persons_url = f"{person_api.rstrip('/')}/api/persons"
    batch_url = f"{location_api.rstrip('/')}/api/locations/batch"
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # One client for every request: its connections are kept alive and shared by the worker threads.
    with (
        httpx.Client(transport=transport, timeout=timeout_s, limits=limits, headers=_auth(token)) as client,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="demo-load") as pool,
    ):
        poster = _Poster(client, max_attempts)

        def post_person(person: DemoPerson) -> str:
            answer = poster.post(persons_url, person.idempotency_key, _person_body(person))
            if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
                raise LoadError(f"POST {persons_url} (key {person.idempotency_key}): no id in the answer: {answer!r}")
            return str(answer["id"])

        person_ids = list(pool.map(post_person, conference.persons))

        def post_batch(person_index: int, batch_no: int, pings: list[DemoPing]) -> None:
            key = f"{batch_prefix}{person_index}-{batch_no}"
            answer = poster.post(batch_url, key, _batch_body(person_ids[person_index], pings))
            ids = answer.get("ids") if isinstance(answer, dict) else None
            if not isinstance(ids, list) or len(ids) != len(pings):
                raise LoadError(f"POST {batch_url} (key {key}): expected {len(pings)} ids, got {answer!r}")

        pings = 0
        batches = 0
        # A bounded window of batches in flight: enough to keep every worker busy, without
        # materialising millions of pings ahead of the network.
        in_flight: deque[Future[None]] = deque()
        try:
            for person_index, batch_no, chunk in _batches(conference, batch_size):
                if len(in_flight) >= 2 * concurrency:
                    in_flight.popleft().result()
                in_flight.append(pool.submit(post_batch, person_index, batch_no, chunk))
                pings += len(chunk)
                batches += 1
            while in_flight:
                in_flight.popleft().result()
        except BaseException:
            # Do not send what is still queued after a failure; the error itself propagates.
            for future in in_flight:
                future.cancel()
            raise
    return LoadReport(
        persons=len(person_ids),
        pings=pings,
        batches=batches,
        seconds=time.perf_counter() - started,
        retries=poster.retries,
    )


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def already_loaded(
    person_api: str, spec: ConferenceSpec, *, transport: httpx.BaseTransport | None = None, token: str | None = None
) -> bool:
    """Whether the person API already has persons: ``GET /api/persons?limit=1`` answers a non-empty list.

    A cheap check for ``make up`` to skip loading on a restart. It does not prove that ``spec``'s demo data,
    nor all of it, is there (a load interrupted halfway, or persons made by hand, also count): loading is
    idempotent, so when in doubt run ``udaconnect-demo load`` again, which completes what is missing.
    ``spec`` is taken so that a stricter check can come without changing callers.
    """
    url = f"{person_api.rstrip('/')}/api/persons"
    with httpx.Client(transport=transport, timeout=10.0, headers=_auth(token)) as client:
        try:
            response = client.get(url, params={"limit": 1})
        except httpx.TransportError as exc:
            raise LoadError(f"GET {url}: the person API does not answer: {exc!r}") from exc
    if response.status_code != 200:
        raise _refusal(response, key=None)
    persons = response.json()
    if not isinstance(persons, list):
        raise LoadError(f"GET {url}: expected a list of persons, got {persons!r}")
    return len(persons) > 0
