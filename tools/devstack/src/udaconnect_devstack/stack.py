"""The whole UdaConnect system on one machine: PostgreSQL+PostGIS, Kafka, topics, migrations, services.

Used by ``make up`` (fixed, documented ports, run folder ``.run/``) and by the integration tests (free
ports, a temporary folder), so both run exactly the same components the same way.
"""

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import psycopg

from udaconnect_common.auth import ATTENDEE, ORGANIZER, generate_signing_key, mint_token
from udaconnect_common.ids import PERSON_ID_NAMESPACE, id_for_idempotency_key
from udaconnect_demo import SMALL, LoadReport, generate, load
from udaconnect_demo.floor_plan import floor_plan_geojson
from udaconnect_devstack._process import run_checked
from udaconnect_devstack.errors import InfrastructureError
from udaconnect_devstack.frontend import FrontendConfig, ensure_built
from udaconnect_devstack.kafka import KafkaBroker, KafkaCluster, ensure_kafka_libs
from udaconnect_devstack.ports import free_ports
from udaconnect_devstack.postgres import PostgresServer
from udaconnect_devstack.services import ServiceProcess, grpc_ready, http_ready, venv_script

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[4]

DATABASE = "udaconnect"
# Local-only credentials for a loopback cluster the stack creates itself; deployments use secrets.
OWNER, OWNER_PASSWORD = "udaconnect", "udaconnect"
READER, READER_PASSWORD = "udaconnect_reader", "udaconnect_reader"

# Demo tokens are minted at every start, signed with the run folder's key; a restart makes new ones.
DEMO_TOKEN_LIFETIME = timedelta(days=7)

TOPIC_PERSONS = "udaconnect.persons.v1"
TOPIC_LOCATIONS = "udaconnect.locations.v1"
TOPIC_PERSON_DELETIONS = "udaconnect.person-deletions.v1"
TOPIC_DEAD_LETTERS = "udaconnect.dead-letters.v1"
# More than one partition so consumers can scale out; locations are keyed by person (order per person).
TOPIC_PARTITIONS = {TOPIC_PERSONS: 3, TOPIC_PERSON_DELETIONS: 3, TOPIC_LOCATIONS: 6, TOPIC_DEAD_LETTERS: 1}


@dataclass(frozen=True)
class StackPorts:
    postgres: int = 5433
    kafka: int = 9092
    kafka_controller: int = 9093
    persistence_grpc: int = 50051
    persistence_metrics: int = 9465
    person_api: int = 8001
    location_api: int = 8002
    connection_api: int = 8003
    consumer_metrics: int = 9464
    frontend: int = 3000

    @classmethod
    def from_environment(cls) -> "StackPorts":
        """The documented defaults, each overridable by an environment variable (e.g. ``PERSON_API_PORT``)."""
        defaults = cls()
        return cls(
            **{name: int(os.environ.get(f"{name.upper()}_PORT", value)) for name, value in vars(defaults).items()}
        )

    @classmethod
    def free(cls) -> "StackPorts":
        """Free ports, for tests that must not clash with a running ``make up``."""
        return cls(*free_ports(len(vars(cls()))))


class LocalStack:
    def __init__(
        self,
        run_dir: Path,
        ports: StackPorts,
        *,
        log_level: str = "INFO",
        service_env: Mapping[str, Mapping[str, str]] | None = None,
        frontend: bool = False,
        kafka_brokers: int = 1,
    ) -> None:
        """``service_env``: extra environment per service name (tests shorten timeouts with it).
        ``frontend``: also build (when its sources changed) and serve the web front end.
        ``kafka_brokers``: more than one runs a KRaft cluster of that many nodes, topics replicated 3 times
        with ``min.insync.replicas`` 2 (the scale-out tests)."""
        self.run_dir = run_dir.absolute()
        self.with_frontend = frontend
        self.service_env = {name: dict(env) for name, env in (service_env or {}).items()}
        self.ports = ports
        self.log_level = log_level
        self.logs_dir = self.run_dir / "logs"
        self.postgres = PostgresServer(
            self.run_dir / "postgres" / "data", ports.postgres, log_path=self.logs_dir / "postgres.log"
        )
        kafka_dir = REPO_ROOT / "infra" / "kafka"
        self.kafka: KafkaBroker | KafkaCluster
        if kafka_brokers == 1:
            self.kafka = KafkaBroker(
                self.run_dir / "kafka",
                ports.kafka,
                ports.kafka_controller,
                libs_dir=kafka_dir / "libs",
                log4j_config=kafka_dir / "log4j2.properties",
            )
        else:
            extra = free_ports(2 * (kafka_brokers - 1))
            node_ports = [(ports.kafka, ports.kafka_controller), *zip(extra[::2], extra[1::2], strict=True)]
            self.kafka = KafkaCluster(
                self.run_dir / "kafka-cluster",
                node_ports,
                libs_dir=kafka_dir / "libs",
                log4j_config=kafka_dir / "log4j2.properties",
            )
        self.services: dict[str, ServiceProcess] = {}

    # -- connection details ------------------------------------------------------------------------

    @property
    def owner_url(self) -> str:
        return self.postgres.dsn(OWNER, OWNER_PASSWORD, DATABASE)

    @property
    def reader_url(self) -> str:
        return self.postgres.dsn(READER, READER_PASSWORD, DATABASE)

    @property
    def owner_libpq_dsn(self) -> str:
        return self.postgres.libpq_dsn(OWNER, OWNER_PASSWORD, DATABASE)

    def http_port(self, service: str) -> int:
        return {
            "person-api": self.ports.person_api,
            "location-api": self.ports.location_api,
            "connection-api": self.ports.connection_api,
            "frontend": self.ports.frontend,
        }[service]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.http_port(service)}"

    def frontend_origins(self) -> list[str]:
        return [f"http://localhost:{self.ports.frontend}", f"http://127.0.0.1:{self.ports.frontend}"]

    # -- tokens ------------------------------------------------------------------------------------

    @property
    def public_key_file(self) -> Path:
        return self.run_dir / "auth" / "public-key.pem"

    def _signing_key(self) -> bytes:
        """The run folder's ES256 key, made on first use and kept (its private half readable by its owner only)."""
        private_file = self.run_dir / "auth" / "signing-key.pem"
        if not private_file.exists():
            private_file.parent.mkdir(parents=True, exist_ok=True)
            private_pem, public_pem = generate_signing_key()
            private_file.touch(mode=0o600)
            private_file.write_bytes(private_pem)
            self.public_key_file.write_bytes(public_pem)
        return private_file.read_bytes()

    def token(self, subject: str, roles: Iterable[str], lifetime: timedelta = DEMO_TOKEN_LIFETIME) -> str:
        """A token the services accept, as the organisation's identity provider would issue it."""
        return mint_token(self._signing_key(), subject=subject, roles=list(roles), lifetime=lifetime)

    def organizer_token(self) -> str:
        return self.token("local-organizer", [ORGANIZER])

    def attendee_token(self, person_id: object) -> str:
        return self.token(str(person_id), [ATTENDEE])

    def organizer_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.organizer_token()}"}

    def demo_identities(self) -> list[dict[str, object]]:
        """Who the front end offers to be in a local run: an organizer, and the demo conference's first attendee."""
        first = generate(SMALL).persons[0]
        person_id = id_for_idempotency_key(PERSON_ID_NAMESPACE, first.idempotency_key)
        return [
            {"name": "Organizer", "role": ORGANIZER, "personId": None, "token": self.organizer_token()},
            {
                "name": f"{first.first_name} {first.last_name} (attendee)",
                "role": ATTENDEE,
                "personId": str(person_id),
                "token": self.attendee_token(person_id),
            },
        ]

    def api_env(self, name: str) -> dict[str, str]:
        self._signing_key()
        env = {
            "HTTP_PORT": str(self.http_port(name)),
            "DATABASE_URL": self.reader_url,
            "AUTH_PUBLIC_KEY_FILE": str(self.public_key_file),
        }
        if "CORS_ALLOW_ORIGINS" not in os.environ:
            # The browser calls the APIs from the front end's origin, whichever port it was given.
            env["CORS_ALLOW_ORIGINS"] = json.dumps(self.frontend_origins())
        return env

    def common_env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "KAFKA_TOPIC_PERSONS": TOPIC_PERSONS,
            "KAFKA_TOPIC_LOCATIONS": TOPIC_LOCATIONS,
            "KAFKA_TOPIC_PERSON_DELETIONS": TOPIC_PERSON_DELETIONS,
            "KAFKA_TOPIC_DEAD_LETTERS": TOPIC_DEAD_LETTERS,
            "LOG_LEVEL": self.log_level,
        }

    # -- infrastructure ----------------------------------------------------------------------------

    def start_infrastructure(self) -> None:
        ensure_kafka_libs(REPO_ROOT / "infra" / "kafka")
        self.postgres.start()
        self.postgres.ensure_database(DATABASE, OWNER, OWNER_PASSWORD, READER, READER_PASSWORD)
        self.kafka.start()
        self.kafka.create_topics(TOPIC_PARTITIONS)

    def migrate(self) -> None:
        run_checked(
            [venv_script("persistence-migrate")],
            what="database migration",
            cwd=REPO_ROOT,
            env={**os.environ, **self.common_env(), "DATABASE_URL": self.owner_url},
        )

    # -- services ----------------------------------------------------------------------------------

    def service_specs(self) -> list[ServiceProcess]:
        """In start order: the writer first, then what calls it."""
        common = self.common_env()
        persistence_target = f"127.0.0.1:{self.ports.persistence_grpc}"

        def spec(name: str, env: dict[str, str], ready: Callable[[], bool]) -> ServiceProcess:
            return ServiceProcess(
                name=name,
                argv=[venv_script(name)],
                env={**common, **env, **self.service_env.get(name, {})},
                log_path=self.logs_dir / f"{name}.log",
                cwd=REPO_ROOT,
                ready=ready,
            )

        return [
            spec(
                "persistence-service",
                {
                    "GRPC_PORT": str(self.ports.persistence_grpc),
                    "METRICS_PORT": str(self.ports.persistence_metrics),
                    "DATABASE_URL": self.owner_url,
                },
                grpc_ready(persistence_target),
            ),
            spec(
                "ingest-consumer",
                {
                    "PERSISTENCE_ADDRESS": persistence_target,
                    "METRICS_PORT": str(self.ports.consumer_metrics),
                    # One local instance, restarted in place: static membership avoids a rebalance wait.
                    "CONSUMER_INSTANCE_ID": "ingest-consumer-0",
                },
                http_ready(f"http://127.0.0.1:{self.ports.consumer_metrics}/metrics"),
            ),
            *(
                spec(name, self.api_env(name), http_ready(f"{self.url(name)}/health"))
                for name in ("person-api", "location-api", "connection-api")
            ),
            *([self.frontend_spec()] if self.with_frontend else []),
        ]

    def frontend_spec(self) -> ServiceProcess:
        """The front end's server, with its /config.json and the demo venue's floor plan in the run folder."""
        folder = self.run_dir / "frontend"
        folder.mkdir(parents=True, exist_ok=True)
        config = FrontendConfig(
            person_api_url=f"http://localhost:{self.ports.person_api}",
            location_api_url=f"http://localhost:{self.ports.location_api}",
            connection_api_url=f"http://localhost:{self.ports.connection_api}",
            venue_url="/venue.geojson",
            event_name="UdaConnect demo conference",
            event_start_date=SMALL.start_day.isoformat(),
            event_end_date=(SMALL.start_day + timedelta(days=SMALL.days - 1)).isoformat(),
            identities=self.demo_identities(),
        )
        (folder / "config.json").write_text(json.dumps(asdict(config), indent=2))
        (folder / "venue.geojson").write_text(json.dumps(floor_plan_geojson(SMALL)))
        return ServiceProcess(
            name="frontend",
            argv=[
                venv_script("udaconnect-frontend"),
                *("--dist", str(REPO_ROOT / "frontend" / "dist")),
                *("--port", str(self.ports.frontend)),
                *("--config", str(folder / "config.json")),
                *("--venue", str(folder / "venue.geojson")),
            ],
            env=self.service_env.get("frontend", {}),
            log_path=self.logs_dir / "frontend.log",
            cwd=REPO_ROOT,
            ready=http_ready(f"{self.url('frontend')}/config.json"),
        )

    def start_services(self, names: Iterable[str] | None = None) -> None:
        wanted = set(names) if names is not None else None
        for service in self.service_specs():
            if wanted is None or service.name in wanted:
                self.services[service.name] = service
                service.start()

    def stop_services(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()

    def start(self) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        if self.with_frontend:
            # First: a broken build should stop the start before anything runs.
            ensure_built(REPO_ROOT / "frontend")
        self.start_infrastructure()
        self.migrate()
        self.start_services()

    def load_demo_and_wait(self, timeout: float = 120.0) -> LoadReport:
        """Load the small demo conference through the real write path; return once every ping is stored."""
        report = load(generate(SMALL), self.url("person-api"), self.url("location-api"), token=self.organizer_token())
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.owner_libpq_dsn, autocommit=True) as db:
            while (db.execute("SELECT count(*) FROM location").fetchone() or (0,))[0] < report.pings:
                if time.monotonic() > deadline:
                    raise InfrastructureError(f"the demo conference was not stored within {timeout:.0f} s")
                time.sleep(0.5)
        return report

    def stop(self) -> None:
        """Services first (they drain), then Kafka, then PostgreSQL. Data is kept for the next start."""
        self.stop_services()
        if self.kafka.is_running():
            self.kafka.stop()
        if self.postgres.is_running():
            self.postgres.stop()
