"""``make up``: the whole system on this machine, in the foreground, until Ctrl-C or SIGTERM.

Infrastructure and services run as child processes with their logs in ``<run dir>/logs``. A process
that dies is restarted with capped exponential backoff, as Kubernetes would; data in the run folder
is kept for the next start.
"""

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from udaconnect_demo import SMALL, already_loaded, generate, load
from udaconnect_devstack.errors import InfrastructureError
from udaconnect_devstack.stack import REPO_ROOT, LocalStack, StackPorts

log = logging.getLogger("udaconnect-up")

RESTART_BACKOFF_INITIAL = 1.0
RESTART_BACKOFF_MAX = 60.0
# A process that stayed up this long is healthy again: its next crash starts the backoff afresh.
STABLE_AFTER_SECONDS = 60.0


@dataclass
class RestartPolicy:
    failures: int = 0
    next_attempt: float = 0.0
    started_at: float = 0.0

    def record_crash(self, now: float) -> float:
        if now - self.started_at > STABLE_AFTER_SECONDS:
            self.failures = 0
        delay = min(RESTART_BACKOFF_INITIAL * 2.0**self.failures, RESTART_BACKOFF_MAX)
        self.failures += 1
        self.next_attempt = now + delay
        return delay


class Supervisor:
    """Watches every process of the stack and restarts the ones that died."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.policies: dict[str, RestartPolicy] = {}
        self.waiting: set[str] = set()

    def _watch(self, name: str, running: bool, restart: Callable[[], None]) -> None:
        policy = self.policies.setdefault(name, RestartPolicy(started_at=time.monotonic()))
        now = time.monotonic()
        if running:
            return
        if name not in self.waiting:
            delay = policy.record_crash(now)
            self.waiting.add(name)
            log.error("%s died; restarting in %.0fs (crash #%d)", name, delay, policy.failures)
            return
        if now < policy.next_attempt:
            return
        try:
            restart()
        except InfrastructureError as exc:
            delay = policy.record_crash(time.monotonic())
            log.error("%s failed to restart (next try in %.0fs): %s", name, delay, exc)
            return
        self.waiting.discard(name)
        policy.started_at = time.monotonic()
        log.warning("%s restarted", name)

    def check(self) -> None:
        self._watch("postgres", self.stack.postgres.is_running(), self.stack.postgres.start)
        self._watch("kafka", self.stack.kafka.is_running(), self.stack.kafka.start)
        for name, service in self.stack.services.items():
            self._watch(name, service.is_running(), service.start)


def main() -> None:
    parser = argparse.ArgumentParser(prog="udaconnect-up", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=REPO_ROOT / ".run", help="data and logs (kept)")
    parser.add_argument("--no-demo", action="store_true", help="do not load the small demo conference")
    parser.add_argument("--no-frontend", action="store_true", help="do not build and serve the web front end")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per demo request would bury the addresses and tokens printed after the load.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping everything", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    ports = StackPorts.from_environment()
    stack = LocalStack(args.run_dir, ports, frontend=not args.no_frontend)
    try:
        stack.start()
        if not args.no_demo:
            load_demo_conference(stack)
        print_urls(stack)
        supervisor = Supervisor(stack)
        while not stop.wait(1.0):
            supervisor.check()
    except InfrastructureError as exc:
        log.error("%s", exc)
        raise SystemExit(1) from exc
    finally:
        stack.stop()
        log.info("stopped; data kept in %s", stack.run_dir)


def load_demo_conference(stack: LocalStack) -> None:
    """The small demo conference, through the real write path (idempotent: a second start adds nothing)."""
    person_api, location_api = stack.url("person-api"), stack.url("location-api")
    if already_loaded(person_api, SMALL, token=stack.organizer_token()):
        log.info("demo conference already loaded (persons exist); skipping")
        return
    report = load(generate(SMALL), person_api, location_api, token=stack.organizer_token())
    log.info(
        "demo conference loaded: %d persons, %d pings in %.1fs (%.0f pings/s); try a connection query for 2026-06-01",
        report.persons,
        report.pings,
        report.seconds,
        report.pings_per_second,
    )


def print_urls(stack: LocalStack) -> None:
    ports = stack.ports
    identities = stack.demo_identities()
    for identity in identities:
        # For scripts and curl: T=$(cat .run/auth/organizer.token)
        token_file = stack.run_dir / "auth" / f"{identity['role']}.token"
        token_file.touch(mode=0o600)  # a credential: its owner's only
        token_file.chmod(0o600)
        token_file.write_text(f"{identity['token']}\n")
    lines = [
        "",
        "UdaConnect is running. Ctrl-C stops everything (data is kept).",
        *([f"  front end       http://localhost:{ports.frontend}/"] if stack.with_frontend else []),
        f"  person-api      http://localhost:{ports.person_api}/api/persons   docs: http://localhost:{ports.person_api}/docs",
        f"  location-api    http://localhost:{ports.location_api}/api/locations   docs: http://localhost:{ports.location_api}/docs",
        f"  connection-api  http://localhost:{ports.connection_api}/api/persons/<id>/connection   docs: http://localhost:{ports.connection_api}/docs",
        f"  persistence     gRPC 127.0.0.1:{ports.persistence_grpc}   try: uv run persistence-client health",
        f"                  metrics http://localhost:{ports.persistence_metrics}/metrics",
        f"  ingest-consumer metrics http://localhost:{ports.consumer_metrics}/metrics",
        f"  Kafka           {stack.kafka.bootstrap_servers}",
        f"  PostgreSQL      {stack.postgres.libpq_dsn('udaconnect_reader', 'udaconnect_reader', 'udaconnect')}",
        f"  logs            {stack.logs_dir}",
        "",
        "Every API needs a bearer token. Demo tokens (valid 7 days, new ones at every start; also in "
        f"{stack.run_dir / 'auth'}/<role>.token):",
        *(f"  {identity['name']:<32} {identity['token']}" for identity in identities),
        "",
    ]
    print("\n".join(lines), flush=True)
