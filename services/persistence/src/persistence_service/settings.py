from udaconnect_common.settings import CommonSettings


class PersistenceSettings(CommonSettings):
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    grpc_max_workers: int = 8
    # Prometheus metrics over HTTP, on the gRPC host; 0 turns the endpoint off. Next to the consumer's 9464.
    metrics_port: int = 9465
    # The owner role: this is the only service that writes.
    database_url: str = "postgresql+psycopg://udaconnect:udaconnect@127.0.0.1:5433/udaconnect"
    database_pool_size: int = 8
    # Seconds in-flight RPCs get to finish on SIGTERM before the server stops.
    shutdown_grace_seconds: float = 10.0
    # How often the database's reachability is checked for the gRPC health service.
    database_watch_seconds: float = 5.0
    # Pings older than this many days are dropped, a day partition at a time (0: kept for ever).
    location_retention_days: int = 0
    # How often expired days are looked for.
    retention_check_seconds: float = 3600.0
