"""Bearer tokens for the unit tests: one key pair per test session, signed as a local run signs them."""

import functools
import uuid

from udaconnect_common.auth import (
    ATTENDEE,
    DEFAULT_AUDIENCE,
    LOCAL_ALGORITHM,
    LOCAL_ISSUER,
    ORGANIZER,
    AccessControl,
    JwtAuthenticator,
    WriteLimiter,
    generate_signing_key,
    mint_token,
    static_key,
)


@functools.cache
def signing_key() -> tuple[bytes, bytes]:
    return generate_signing_key()


def access_control(attendee_writes: str = "1000/minute", organizer_writes: str = "100000/minute") -> AccessControl:
    """What a local run's API verifies tokens with, with limits no unit test reaches unless it means to."""
    authenticator = JwtAuthenticator(
        static_key(signing_key()[1]), issuer=LOCAL_ISSUER, audience=DEFAULT_AUDIENCE, algorithms=[LOCAL_ALGORITHM]
    )
    return AccessControl(authenticator, WriteLimiter(attendee_writes, organizer_writes))


def organizer_token(**options: object) -> str:
    return mint_token(signing_key()[0], subject="organizer-1", roles=[ORGANIZER], **options)  # type: ignore[arg-type]


def attendee_token(person_id: uuid.UUID, **options: object) -> str:
    return mint_token(signing_key()[0], subject=str(person_id), roles=[ATTENDEE], **options)  # type: ignore[arg-type]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
