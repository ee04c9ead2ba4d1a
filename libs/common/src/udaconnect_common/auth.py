"""Who is asking: bearer tokens (JWT) on every API, two roles, and a write rate limit per token subject.

Tokens come from an OpenID Connect provider in production (its issuer, audience and JWKS URL are
settings; keys are fetched and cached by PyJWT's ``PyJWKClient``), or are signed with a local key pair
in local runs (the development stack makes one and mints demo tokens with :func:`mint_token`).

* **organizer**: everything.
* **attendee**: the token's person claim (``sub`` by default) is their person id. They may list persons,
  read their own person, pings, connections and contacts, and post pings for themselves.

A missing or invalid token is a 401, a valid token on someone else's data a 403, both as problem
documents. Auth is off only with ``AUTH_DISABLED=true``, never by default.
"""

import asyncio
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from udaconnect_common.problems import ProblemError
from udaconnect_common.settings import ApiSettings

ORGANIZER = "organizer"
ATTENDEE = "attendee"
ROLES = (ORGANIZER, ATTENDEE)

# What local runs sign with and expect: an ES256 key pair of the run folder, this issuer and audience.
LOCAL_ISSUER = "udaconnect-local"
DEFAULT_AUDIENCE = "udaconnect"
LOCAL_ALGORITHM = "ES256"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller a valid token names."""

    subject: str
    roles: frozenset[str]
    # The person an attendee is; None when the token's person claim is not a person id.
    person_id: uuid.UUID | None

    @property
    def is_organizer(self) -> bool:
        return ORGANIZER in self.roles

    def may_act_for(self, person_id: uuid.UUID) -> bool:
        """Whether this caller may read ``person_id``'s data and post pings in their name."""
        return self.is_organizer or (ATTENDEE in self.roles and self.person_id == person_id)

    def describe(self) -> str:
        role = ORGANIZER if self.is_organizer else ATTENDEE if ATTENDEE in self.roles else "no role"
        return f"{role} {self.subject}"


# Every check passes: only with the explicit AUTH_DISABLED setting.
ANONYMOUS_ORGANIZER = Principal(subject="anonymous", roles=frozenset({ORGANIZER}), person_id=None)


class Unauthorized(Exception):
    """The request carries no token this service accepts (401)."""


class Authenticator(Protocol):
    async def authenticate(self, token: str | None) -> Principal:
        """The caller ``token`` names; raises :class:`Unauthorized` when there is none or it is not valid."""
        ...


class DisabledAuthenticator:
    """AUTH_DISABLED=true: every request is an organizer, with or without a token."""

    async def authenticate(self, token: str | None) -> Principal:
        return ANONYMOUS_ORGANIZER


KeyLookup = Callable[[str], Any]
"""The key that verifies a token, found from the token itself (its ``kid`` with a JWKS)."""


class JwtAuthenticator:
    """Verifies signature, expiry, issuer and audience; maps the claims to a :class:`Principal`.

    A verified token is remembered until it expires, so a client sending the same token on every
    request pays for one signature check (ES256 costs ~0.1 ms, a JWKS lookup may cost a fetch)."""

    CACHE_SIZE = 10_000

    def __init__(
        self,
        key_for: KeyLookup,
        *,
        issuer: str,
        audience: str,
        algorithms: Iterable[str],
        roles_claim: str = "roles",
        person_claim: str = "sub",
        leeway_seconds: float = 30.0,
        fetches_keys: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key_for = key_for
        self._issuer = issuer
        self._audience = audience
        self._algorithms = list(algorithms)
        self._roles_path = roles_claim.split(".")
        self._person_claim = person_claim
        self._leeway = leeway_seconds
        # A JWKS lookup may go to the network: off the event loop.
        self._fetches_keys = fetches_keys
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("this endpoint needs an Authorization: Bearer token")
        remembered = self._verified.get(token)
        now = self._clock()
        if remembered is not None and now < remembered[1] + self._leeway:
            return remembered[0]
        key = await asyncio.to_thread(self._key_for, token) if self._fetches_keys else self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized(f"the token is not for this audience (expected {self._audience!r})") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized(f"the token is not from the expected issuer ({self._issuer!r})") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized("the token's signature does not verify") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"the token is not valid: {exc}") from exc
        principal = self._principal(claims)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        raw_roles: Any = claims
        for step in self._roles_path:
            raw_roles = raw_roles.get(step) if isinstance(raw_roles, Mapping) else None
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        roles = (
            frozenset(role for role in raw_roles or () if role in ROLES) if isinstance(raw_roles, list) else frozenset()
        )
        try:
            person_id: uuid.UUID | None = uuid.UUID(str(claims.get(self._person_claim)))
        except ValueError:
            person_id = None
        return Principal(subject=str(claims["sub"]), roles=roles, person_id=person_id)


def static_key(public_key_pem: bytes) -> KeyLookup:
    """One public key (local runs, or a provider without JWKS)."""
    key = serialization.load_pem_public_key(public_key_pem)
    return lambda _token: key


def jwks_keys(jwks_url: str, cache_seconds: float = 300, refetch_cooldown_seconds: float = 30) -> KeyLookup:
    """The provider's published keys, fetched on first use and cached. A ``kid`` not among them refetches
    them (a rotated key), at most once per cooldown: tokens with made-up key ids cannot hammer the provider."""
    client = jwt.PyJWKClient(
        jwks_url, cache_keys=True, lifespan=cache_seconds, timeout=5, cooldown_duration=refetch_cooldown_seconds
    )

    def key_for(token: str) -> Any:
        try:
            return client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise ProblemError(
                503,
                "Identity provider unavailable",
                "The keys that verify tokens could not be fetched; retry later.",
                headers={"Retry-After": "5"},
            ) from exc
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise Unauthorized(f"the token's signing key is not one the identity provider publishes: {exc}") from exc

    return key_for


class WriteLimiter:
    """Writes per token subject, per role (a phone pings every 30 s; an organizer's import is bulk).

    In memory, so per process: with N replicas behind a balancer a subject gets up to N times the limit.
    That bounds a runaway client, which is the point; it is not a quota."""

    def __init__(self, attendee_limit: str, organizer_limit: str, clock: Callable[[], float] = time.time) -> None:
        self._limits: dict[bool, RateLimitItem] = {False: parse(attendee_limit), True: parse(organizer_limit)}
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._clock = clock

    def check(self, principal: Principal) -> None:
        limit = self._limits[principal.is_organizer]
        if self._limiter.hit(limit, principal.subject):
            return
        reset_at, _ = self._limiter.get_window_stats(limit, principal.subject)
        retry_after = max(1, math.ceil(reset_at - self._clock()))
        raise ProblemError(
            429,
            "Too many requests",
            f"At most {limit} writes per token subject; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class AccessControl:
    """What an API needs to know who asks and how often they may write."""

    authenticator: Authenticator
    write_limiter: WriteLimiter


def access_control_from(settings: ApiSettings) -> AccessControl:
    """From an API's settings (:class:`udaconnect_common.settings.ApiSettings`). Fails at startup, not at
    the first request, when neither a key nor a provider is configured and auth is not explicitly off."""
    limiter = WriteLimiter(settings.rate_limit_attendee_writes, settings.rate_limit_organizer_writes)
    if settings.auth_disabled:
        return AccessControl(DisabledAuthenticator(), limiter)
    if settings.auth_jwks_url:
        key_for, fetches_keys = jwks_keys(settings.auth_jwks_url), True
    elif settings.auth_public_key_file:
        key_for, fetches_keys = static_key(Path(settings.auth_public_key_file).read_bytes()), False
    else:
        raise ValueError(
            "no way to verify tokens: set AUTH_JWKS_URL (with AUTH_ISSUER and AUTH_AUDIENCE) for an OpenID "
            "Connect provider, or AUTH_PUBLIC_KEY_FILE for a local key; AUTH_DISABLED=true turns authentication off"
        )
    authenticator = JwtAuthenticator(
        key_for,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        algorithms=settings.auth_algorithms,
        roles_claim=settings.auth_roles_claim,
        person_claim=settings.auth_person_claim,
        fetches_keys=fetches_keys,
    )
    return AccessControl(authenticator, limiter)


# -- FastAPI dependencies ---------------------------------------------------------------------------

# auto_error=False: a missing or malformed header is our own 401 problem, not FastAPI's 403.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A JWT from the organisation's identity provider (or `make up`'s demo tokens).",
)


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    access: AccessControl = request.app.state.access
    try:
        return await access.authenticator.authenticate(credentials.credentials if credentials else None)
    except Unauthorized as exc:
        raise ProblemError(
            401,
            "Unauthorized",
            str(exc),
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc}"'},
        ) from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def writer(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller of a write endpoint, counted against their write limit."""
    access: AccessControl = request.app.state.access
    access.write_limiter.check(principal)
    return principal


Writer = Annotated[Principal, Depends(writer)]


def forbidden(principal: Principal, why: str) -> ProblemError:
    return ProblemError(403, "Forbidden", f"{why} (signed in as {principal.describe()})")


def require_organizer(principal: Principal, action: str) -> None:
    if not principal.is_organizer:
        raise forbidden(principal, f"only organizers may {action}")


def require_person(principal: Principal, person_id: uuid.UUID, what: str) -> None:
    """403 unless ``principal`` is an organizer or is the attendee ``person_id``."""
    if not principal.may_act_for(person_id):
        raise forbidden(principal, f"attendees may only {what}")


# -- local keys and tokens (development stack, tests, tools) -----------------------------------------


def generate_signing_key() -> tuple[bytes, bytes]:
    """A new ES256 key pair as PEM: (private, public)."""
    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def mint_token(
    private_key_pem: bytes,
    *,
    subject: str,
    roles: Iterable[str],
    issuer: str = LOCAL_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    lifetime: timedelta = timedelta(hours=12),
    now: datetime | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    key_id: str | None = None,
) -> str:
    """A token signed with a local key, as an identity provider would issue it (``key_id``: its ``kid``)."""
    issued = now or datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "roles": list(roles),
        "iat": issued,
        "exp": issued + lifetime,
        **(extra_claims or {}),
    }
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, private_key_pem, algorithm=LOCAL_ALGORITHM, headers=headers)
