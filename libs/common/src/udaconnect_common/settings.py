"""The settings every service shares, read from the environment (12-factor).

Each service subclasses :class:`CommonSettings`; settings are built in the service's entry point
(its composition root), never at import time, so tests can pass their own.
"""

from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_persons: str = "udaconnect.persons.v1"
    kafka_topic_locations: str = "udaconnect.locations.v1"
    kafka_topic_person_deletions: str = "udaconnect.person-deletions.v1"
    kafka_topic_dead_letters: str = "udaconnect.dead-letters.v1"
    log_level: str = "INFO"
    # "text" for a terminal, "json" (one object a line, with the trace id) for a log collector.
    log_format: str = "text"


class ApiSettings(CommonSettings):
    """What every HTTP API shares. Each API sets its own default port."""

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_workers: int = 1
    # One log line per request. Off by default: at thousands of requests a second it cost ~5% of the
    # process, and the request counts and latencies are in /metrics. On for debugging.
    http_access_log: bool = False
    # The read-only role: the APIs never write to the database (writes go through Kafka).
    database_url: str = "postgresql+psycopg://udaconnect_reader:udaconnect_reader@127.0.0.1:5433/udaconnect"
    database_pool_size: int = 5
    # A read that runs longer is stopped by PostgreSQL and answered 503: a client has long given up by
    # then, and the statement would keep a connection and a core busy for nobody.
    database_statement_timeout_ms: int = 30_000
    # Upper bound on how long a POST waits for the broker's acknowledgement before answering 503.
    kafka_delivery_timeout_ms: int = 5000
    max_body_bytes: int = 64 * 1024
    # Bearer tokens (udaconnect_common.auth). Production: an OpenID Connect provider's JWKS URL, issuer and
    # audience. Local runs: the public half of a key the development stack generates. Neither, and auth
    # not explicitly disabled: the service refuses to start.
    auth_disabled: bool = False
    auth_jwks_url: str = ""
    auth_public_key_file: str = ""
    auth_issuer: str = "udaconnect-local"
    auth_audience: str = "udaconnect"
    auth_algorithms: tuple[str, ...] = ("ES256", "RS256")
    # Where the roles are in the token ("realm_access.roles" for Keycloak) and which claim is the person id.
    auth_roles_claim: str = "roles"
    auth_person_claim: str = "sub"
    # Writes per token subject and process (the limits library's notation). A phone pings every 30 s or
    # sends a batch when it reconnects; an organizer imports in bulk.
    rate_limit_attendee_writes: str = "60/minute"
    rate_limit_organizer_writes: str = "6000/minute"
    # Origins of the web front end, which calls the APIs from the browser.
    cors_allow_origins: tuple[str, ...] = ("http://localhost:3000", "http://127.0.0.1:3000")
