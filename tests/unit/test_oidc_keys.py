"""Tokens from an OpenID Connect provider: keys fetched from its JWKS URL (a real HTTP server here), cached,
refetched for a key id not seen yet, and a provider that does not answer is a 503, not a 401."""

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from udaconnect_common.auth import (
    ORGANIZER,
    JwtAuthenticator,
    Unauthorized,
    access_control_from,
    generate_signing_key,
    jwks_keys,
    mint_token,
)
from udaconnect_common.problems import ProblemError
from udaconnect_common.settings import ApiSettings

ISSUER = "https://idp.example.com/realms/conference"
AUDIENCE = "udaconnect-web"


class Provider:
    """A JWKS endpoint whose published keys a test can change."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}  # kid -> private PEM
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                body = json.dumps({"keys": [provider.jwk(kid) for kid in provider.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/protocol/openid-connect/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self, kid: str) -> bytes:
        self.keys[kid] = generate_signing_key()[0]
        return self.keys[kid]

    def jwk(self, kid: str) -> dict[str, object]:
        private = serialization.load_pem_private_key(self.keys[kid], password=None)
        public_jwk: dict[str, object] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))  # type: ignore[arg-type]
        return {**public_jwk, "kid": kid, "use": "sig", "alg": "ES256"}

    def token(self, kid: str, roles: list[str]) -> str:
        return mint_token(self.keys[kid], subject="user-1", roles=roles, issuer=ISSUER, audience=AUDIENCE, key_id=kid)


@pytest.fixture
def provider() -> Iterator[Provider]:
    serving = Provider()
    yield serving
    serving.server.shutdown()


def _authenticator(url: str):  # type: ignore[no-untyped-def]
    settings = ApiSettings(auth_jwks_url=url, auth_issuer=ISSUER, auth_audience=AUDIENCE)
    return access_control_from(settings).authenticator


def test_keys_are_fetched_once_and_refetched_for_a_new_key_id(provider: Provider) -> None:
    provider.add_key("2026-11")
    authenticator = JwtAuthenticator(
        jwks_keys(provider.url, refetch_cooldown_seconds=0),
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=["ES256"],
        fetches_keys=True,
    )
    first = asyncio.run(authenticator.authenticate(provider.token("2026-11", [ORGANIZER])))
    assert first.is_organizer
    asyncio.run(authenticator.authenticate(provider.token("2026-11", ["attendee"])))
    assert provider.fetches == 1
    # The provider rotates its key: a token signed with the new one makes the keys be fetched again.
    provider.add_key("2026-12")
    assert asyncio.run(authenticator.authenticate(provider.token("2026-12", [ORGANIZER]))).is_organizer
    assert provider.fetches == 2


def test_unknown_key_ids_refetch_at_most_once_per_cooldown(provider: Provider) -> None:
    provider.add_key("k")
    authenticator = _authenticator(provider.url)
    asyncio.run(authenticator.authenticate(provider.token("k", [ORGANIZER])))
    stranger = generate_signing_key()[0]
    for attempt in range(5):
        made_up = mint_token(stranger, subject="x", roles=[], issuer=ISSUER, audience=AUDIENCE, key_id=f"kid-{attempt}")
        with pytest.raises(Unauthorized):
            asyncio.run(authenticator.authenticate(made_up))
    assert provider.fetches == 1


def test_a_key_the_provider_does_not_publish_is_a_401(provider: Provider) -> None:
    provider.add_key("published")
    stranger = generate_signing_key()[0]
    token = mint_token(stranger, subject="x", roles=[ORGANIZER], issuer=ISSUER, audience=AUDIENCE, key_id="unknown")
    with pytest.raises(Unauthorized, match="signing key"):
        asyncio.run(_authenticator(provider.url).authenticate(token))
    # Signed by a stranger under a published key id: the signature does not verify.
    forged = mint_token(stranger, subject="x", roles=[ORGANIZER], issuer=ISSUER, audience=AUDIENCE, key_id="published")
    with pytest.raises(Unauthorized, match="signature"):
        asyncio.run(_authenticator(provider.url).authenticate(forged))


def test_a_provider_that_does_not_answer_is_a_503(provider: Provider) -> None:
    provider.add_key("k")
    token = provider.token("k", [ORGANIZER])
    provider.server.shutdown()
    provider.server.server_close()
    with pytest.raises(ProblemError) as refused:
        asyncio.run(_authenticator(provider.url).authenticate(token))
    assert refused.value.status == 503
    assert refused.value.headers["Retry-After"]


def test_a_service_with_no_way_to_verify_tokens_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="AUTH_JWKS_URL"):
        access_control_from(ApiSettings())
    assert access_control_from(ApiSettings(auth_disabled=True)).authenticator is not None
