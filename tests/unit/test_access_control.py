"""Who may call what: every API endpoint against every kind of caller, and the write rate limit.

The callers: no token, a token with a bad signature, an expired one, one for another audience, an
attendee asking about someone else, the attendee asking about themself, and an organizer.
"""

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from connection_api.app import create_app as create_connection_app
from location_api.app import create_app as create_location_app
from location_api.schemas import LocationPublic
from person_api.app import create_app as create_person_app
from person_api.schemas import PersonPublic
from tests.tokens import access_control, attendee_token, bearer, organizer_token, signing_key
from tests.unit import test_connection_api as connection_fakes
from tests.unit import test_location_api as location_fakes
from tests.unit import test_person_api as person_fakes
from udaconnect_common.auth import (
    ATTENDEE,
    ORGANIZER,
    JwtAuthenticator,
    Principal,
    Unauthorized,
    WriteLimiter,
    generate_signing_key,
    mint_token,
    static_key,
)
from udaconnect_common.problems import ProblemError

OWN = connection_fakes.SUBJECT  # the person the connection API's fake knows
OTHER = uuid.uuid4()
OWN_PING = uuid.uuid4()
OTHER_PING = uuid.uuid4()
WHEN = datetime(2026, 6, 1, 9, tzinfo=UTC)
RANGE = {"start_date": "2026-06-01", "end_date": "2026-06-02"}


def _ping(person_id: uuid.UUID) -> dict[str, object]:
    return {"person_id": str(person_id), "latitude": 37.78, "longitude": -122.40, "creation_time": WHEN.isoformat()}


@dataclass(frozen=True)
class Endpoint:
    api: str
    method: str
    # The path and body for a request about ``person``.
    path: Callable[[uuid.UUID], str]
    body: Callable[[uuid.UUID], object] | None = None
    # Only organizers, whoever it is about.
    organizers_only: bool = False
    # The answer when allowed.
    allowed: int = 200


ENDPOINTS = {
    "POST persons": Endpoint(
        "person",
        "POST",
        lambda _: "/api/persons",
        lambda _: {"first_name": "A", "last_name": "B", "company_name": "C"},
        organizers_only=True,
        allowed=202,
    ),
    "GET persons": Endpoint("person", "GET", lambda _: "/api/persons"),
    "DELETE person": Endpoint("person", "DELETE", lambda p: f"/api/persons/{p}", allowed=202),
    "GET export": Endpoint("person", "GET", lambda p: f"/api/persons/{p}/export"),
    "GET person": Endpoint("person", "GET", lambda p: f"/api/persons/{p}"),
    "POST location": Endpoint("location", "POST", lambda _: "/api/locations", _ping, allowed=202),
    "POST batch": Endpoint(
        "location", "POST", lambda _: "/api/locations/batch", lambda p: {"locations": [_ping(p)]}, allowed=202
    ),
    "GET locations": Endpoint(
        "location", "GET", lambda p: f"/api/locations?person_id={p}&start_date=2026-06-01&end_date=2026-06-02"
    ),
    "GET location": Endpoint("location", "GET", lambda p: f"/api/locations/{OWN_PING if p == OWN else OTHER_PING}"),
    "GET connection": Endpoint(
        "connection", "GET", lambda p: f"/api/persons/{p}/connection?start_date=2026-06-01&end_date=2026-06-02"
    ),
    "GET contacts": Endpoint(
        "connection", "GET", lambda p: f"/api/persons/{p}/contacts?start_date=2026-06-01&end_date=2026-06-02"
    ),
}
# Listing persons names everyone: any valid token may.
PUBLIC_TO_ATTENDEES = {"GET persons"}


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, TestClient]]:
    person_reader = person_fakes.FakeReader()
    for person_id in (OWN, OTHER):
        person_reader.persons[person_id] = PersonPublic(id=person_id, first_name="F", last_name="L", company_name="C")
    location_reader = location_fakes.FakeReader()
    for ping_id, person_id in ((OWN_PING, OWN), (OTHER_PING, OTHER)):
        location_reader.locations.append(
            LocationPublic(id=ping_id, person_id=person_id, latitude=1.0, longitude=2.0, creation_time=WHEN)
        )
    apps = {
        "person": create_person_app(person_fakes.FakePublisher(), person_reader, access=access_control()),
        "location": create_location_app(location_fakes.FakePublisher(), location_reader, access=access_control()),
        "connection": create_connection_app(connection_fakes.FakeReader([]), access=access_control()),
    }
    clients = {name: TestClient(app) for name, app in apps.items()}
    yield clients
    for client in clients.values():
        client.close()


def _call(clients: dict[str, TestClient], name: str, about: uuid.UUID, headers: dict[str, str]) -> int:
    endpoint = ENDPOINTS[name]
    body = endpoint.body(about) if endpoint.body else None
    response = clients[endpoint.api].request(endpoint.method, endpoint.path(about), json=body, headers=headers)
    status: int = response.status_code
    if status in (401, 403):
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return status


FOREIGN_PRIVATE_KEY, _ = generate_signing_key()
REFUSED_TOKENS = {
    "no token": {},
    "not bearer": {"Authorization": "Basic b3duOnRyYWNrcw=="},
    "garbage": bearer("not-a-jwt"),
    "bad signature": bearer(mint_token(FOREIGN_PRIVATE_KEY, subject=str(OWN), roles=[ORGANIZER])),
    "expired": bearer(organizer_token(now=datetime.now(UTC) - timedelta(hours=2), lifetime=timedelta(hours=1))),
    "wrong audience": bearer(organizer_token(audience="someone-else")),
    "wrong issuer": bearer(organizer_token(issuer="https://idp.example.com")),
}


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("token", REFUSED_TOKENS)
def test_a_missing_or_invalid_token_is_a_401(clients: dict[str, TestClient], name: str, token: str) -> None:
    assert _call(clients, name, OWN, REFUSED_TOKENS[token]) == 401


@pytest.mark.parametrize("name", ENDPOINTS)
def test_an_organizer_may_do_everything(clients: dict[str, TestClient], name: str) -> None:
    headers = bearer(organizer_token())
    assert _call(clients, name, OWN, headers) == ENDPOINTS[name].allowed
    assert _call(clients, name, OTHER, headers) in (ENDPOINTS[name].allowed, 404)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_an_attendee_may_act_for_themself_only(clients: dict[str, TestClient], name: str) -> None:
    headers = bearer(attendee_token(OWN))
    endpoint = ENDPOINTS[name]
    own = _call(clients, name, OWN, headers)
    other = _call(clients, name, OTHER, headers)
    if endpoint.organizers_only:
        assert (own, other) == (403, 403)
    elif name in PUBLIC_TO_ATTENDEES:
        assert (own, other) == (endpoint.allowed, endpoint.allowed)
    else:
        assert (own, other) == (endpoint.allowed, 403)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_token_without_a_role_may_not_read_anyone(clients: dict[str, TestClient], name: str) -> None:
    token = mint_token(signing_key()[0], subject=str(OWN), roles=["speaker"])
    expected = ENDPOINTS[name].allowed if name in PUBLIC_TO_ATTENDEES else 403
    assert _call(clients, name, OWN, bearer(token)) == expected


def test_a_batch_with_one_foreign_ping_is_refused_whole(clients: dict[str, TestClient]) -> None:
    body = {"locations": [_ping(OWN), _ping(OTHER)]}
    response = clients["location"].post("/api/locations/batch", json=body, headers=bearer(attendee_token(OWN)))
    assert response.status_code == 403
    assert "post pings for themselves" in response.json()["detail"]


def test_the_operations_routes_need_no_token(clients: dict[str, TestClient]) -> None:
    for client in clients.values():
        assert client.get("/health").status_code == 200
        assert client.get("/openapi.json").status_code == 200


def test_writes_beyond_the_limit_are_429_with_retry_after() -> None:
    reader = person_fakes.FakeReader()
    app = create_person_app(person_fakes.FakePublisher(), reader, access=access_control(organizer_writes="3/minute"))
    body = {"first_name": "A", "last_name": "B", "company_name": "C"}
    with TestClient(app) as client:
        statuses = [
            client.post("/api/persons", json=body, headers=bearer(organizer_token())).status_code for _ in range(4)
        ]
        assert statuses == [202, 202, 202, 429]
        refused = client.post("/api/persons", json=body, headers=bearer(organizer_token()))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["content-type"] == "application/problem+json"
        # Reads are not limited, and another subject has a limit of its own.
        assert client.get("/api/persons", headers=bearer(organizer_token())).status_code == 200
        other = mint_token(signing_key()[0], subject="organizer-2", roles=[ORGANIZER])
        assert client.post("/api/persons", json=body, headers=bearer(other)).status_code == 202


def test_a_refused_write_publishes_nothing() -> None:
    publisher = location_fakes.FakePublisher()
    app = create_location_app(publisher, location_fakes.FakeReader(), access=access_control())
    with TestClient(app) as client:
        response = client.post("/api/locations", json=_ping(OTHER), headers=bearer(attendee_token(OWN)))
    assert response.status_code == 403
    assert publisher.published == []


def test_roles_are_read_from_a_nested_claim_and_a_verified_token_is_remembered() -> None:
    private, public = generate_signing_key()
    lookups: list[str] = []

    def key_for(token: str) -> object:
        lookups.append(token)
        return static_key(public)(token)

    now = [datetime.now(UTC).timestamp()]
    authenticator = JwtAuthenticator(
        key_for,
        issuer="https://idp.example.com/realms/conf",
        audience="udaconnect",
        algorithms=["ES256"],
        roles_claim="realm_access.roles",
        clock=lambda: now[0],
    )
    token = mint_token(
        private,
        subject=str(OWN),
        roles=[],
        issuer="https://idp.example.com/realms/conf",
        lifetime=timedelta(minutes=5),
        extra_claims={"realm_access": {"roles": [ATTENDEE, "offline_access"]}},
    )
    principal = asyncio.run(authenticator.authenticate(token))
    assert (principal.roles, principal.person_id) == (frozenset({ATTENDEE}), OWN)
    assert asyncio.run(authenticator.authenticate(token)) == principal
    assert len(lookups) == 1
    # Once past its expiry (and the leeway) the remembered answer is not used: the token is checked again
    # (and refused then, as the expired-token case above shows against the real clock).
    now[0] += 10 * 60
    asyncio.run(authenticator.authenticate(token))
    assert len(lookups) == 2
    with pytest.raises(Unauthorized, match="needs an Authorization"):
        asyncio.run(authenticator.authenticate(None))


def test_the_limiter_counts_per_subject_and_role() -> None:
    limiter = WriteLimiter("1/minute", "2/minute")
    person = Principal(subject="p", roles=frozenset({ATTENDEE}), person_id=OWN)
    organizer = Principal(subject="o", roles=frozenset({ORGANIZER}), person_id=None)
    limiter.check(person)
    limiter.check(organizer)
    limiter.check(organizer)
    with pytest.raises(ProblemError, match="At most 1 per 1 minute") as refused:
        limiter.check(person)
    assert refused.value.status == 429
    with pytest.raises(ProblemError):
        limiter.check(organizer)
