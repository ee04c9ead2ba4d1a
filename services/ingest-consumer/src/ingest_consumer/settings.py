from udaconnect_common.settings import CommonSettings


class IngestSettings(CommonSettings):
    consumer_group_id: str = "udaconnect-ingest"
    # Static group membership (KIP-345): a restarted instance with the same id takes its partitions
    # back at once, without a rebalance. Set it to a name stable across restarts (e.g. a StatefulSet
    # pod name); leave it empty where instances come and go (a Deployment).
    consumer_instance_id: str = ""
    # How soon a crashed member (one without a static id) is noticed and its partitions reassigned.
    consumer_session_timeout_ms: int = 10_000
    persistence_address: str = "127.0.0.1:50051"
    # Messages per batch: one gRPC call (and one database transaction) per topic per batch. Under load,
    # end to end into PostGIS: 500 -> 10.8k pings/s, 2000 -> 19.8k, 5000 -> 21.2k (make bench). A batch is
    # what arrives within poll_timeout_seconds, up to this many: that timeout bounds the added latency
    # when idle.
    batch_size: int = 5000
    poll_timeout_seconds: float = 0.5
    # How much the Kafka client fetches ahead of the batch being stored (a dozen batches of pings).
    prefetch_kbytes: int = 8192
    rpc_timeout_seconds: float = 15.0
    # Backoff for transient failures (persistence service or database away), capped.
    retry_initial_seconds: float = 0.2
    retry_max_seconds: float = 10.0
    # A batch the persistence service refuses as a whole (not "unavailable": its answer about this batch)
    # is tried this many times, then split to dead-letter only the records it refuses.
    refused_batch_attempts: int = 3
    # A location may arrive before its person (different topics): keep retrying it this long, then
    # dead-letter it with the reason.
    unknown_person_retry_seconds: float = 300.0
    # Locations parked waiting for their person; above this, location partitions pause until it drains.
    max_parked_locations: int = 50_000
    metrics_host: str = "127.0.0.1"
    # Prometheus metrics; 0 turns the endpoint off.
    metrics_port: int = 9464
