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
    kafka_topic_dead_letters: str = "udaconnect.dead-letters.v1"
    log_level: str = "INFO"
