"""Composition root of the persistence service: settings, engine, gRPC server with health and reflection."""

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from persistence_service.metrics import MetricsInterceptor
from persistence_service.servicer import PersistenceServicer
from persistence_service.settings import PersistenceSettings
from persistence_service.store import SqlStore
from udaconnect.v1 import persistence_pb2, persistence_pb2_grpc
from udaconnect_common.db import observe_pool
from udaconnect_common.logs import configure_logging
from udaconnect_common.tracing import configure_tracing, instrument_engine, instrument_grpc_server

logger = logging.getLogger(__name__)

SERVICE_NAME = persistence_pb2.DESCRIPTOR.services_by_name["PersistenceService"].full_name
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def build_server(settings: PersistenceSettings, store: SqlStore) -> tuple[grpc.Server, health.HealthServicer, int]:
    server = grpc.server(
        ThreadPoolExecutor(max_workers=settings.grpc_max_workers, thread_name_prefix="grpc"),
        interceptors=[MetricsInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    persistence_pb2_grpc.add_PersistenceServiceServicer_to_server(PersistenceServicer(store), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    return server, health_servicer, port


class DatabaseWatch:
    """Reports the database's reachability through the gRPC health service, for readiness probes.

    The server itself stays SERVING (alive); the ``PersistenceService`` entry turns NOT_SERVING while the
    database does not answer, so a load balancer can route around an instance that cannot write.
    """

    def __init__(self, engine: Engine, health_servicer: health.HealthServicer, interval_seconds: float = 5.0) -> None:
        self._engine = engine
        self._health = health_servicer
        self._interval = interval_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="database-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        serving = True
        while not self._stopped.wait(self._interval):
            try:
                with self._engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                reachable = True
            except DBAPIError as exc:
                reachable = False
                if serving:
                    logger.warning("database unreachable, reporting NOT_SERVING: %s", exc.orig)
            if reachable != serving:
                status = (
                    health_pb2.HealthCheckResponse.SERVING if reachable else health_pb2.HealthCheckResponse.NOT_SERVING
                )
                self._health.set(SERVICE_NAME, status)
                serving = reachable


class Retention:
    """Drops the day partitions of pings older than ``days``, at start and then every ``interval`` seconds.

    Every replica runs this; one at a time does the work (an advisory lock), the others skip that round.
    """

    def __init__(self, store: SqlStore, days: int, interval: float) -> None:
        self._store = store
        self._days = days
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def run_once(self) -> list[str] | None:
        """The days dropped, or None when another replica was doing this round."""
        horizon = datetime.now(UTC) - timedelta(days=self._days)
        dropped = self._store.drop_days_before_alone(horizon)
        if dropped is None:
            logger.debug("retention: another replica is dropping expired days; skipping this round")
        elif dropped:
            logger.info(
                "retention: dropped %d day(s) of pings before %s: %s", len(dropped), horizon, ", ".join(dropped)
            )
        return dropped

    def _run(self) -> None:
        while True:
            try:
                self.run_once()
            except DBAPIError as exc:
                # The database is away: the next round tries again; nothing is lost by waiting.
                logger.warning("retention: could not drop expired days: %s", exc.orig)
            if self._stopped.wait(self._interval):
                return


def main() -> None:
    settings = PersistenceSettings()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing("persistence-service")
    # Before the server is built: the interceptor is installed into servers made afterwards.
    instrument_grpc_server()
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=0,
        # Replace connections broken by a database restart instead of failing the next RPC with them.
        pool_pre_ping=True,
    )
    instrument_engine(engine)
    observe_pool(engine, "write")
    store = SqlStore(engine)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.grpc_host)
    server, health_servicer, port = build_server(settings, store)
    server.start()
    watch = DatabaseWatch(engine, health_servicer, settings.database_watch_seconds)
    watch.start()
    retention = Retention(store, settings.location_retention_days, settings.retention_check_seconds)
    if settings.location_retention_days > 0:
        retention.start()
    logger.info("persistence service listening on %s:%d", settings.grpc_host, port)

    stopped = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info(
            "signal %d: finishing in-flight RPCs (up to %.0fs), then stopping", signum, settings.shutdown_grace_seconds
        )
        # Tell health checkers first so load balancers stop sending new calls.
        health_servicer.enter_graceful_shutdown()
        stopped.set()
        server.stop(settings.shutdown_grace_seconds)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.wait_for_termination()
    watch.stop()
    if settings.location_retention_days > 0:
        retention.stop()
    engine.dispose()
    logger.info("persistence service stopped%s", "" if stopped.is_set() else " unexpectedly")
