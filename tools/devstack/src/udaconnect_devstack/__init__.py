"""UdaConnect's local infrastructure: real PostgreSQL+PostGIS and Kafka (KRaft) as child processes."""

from udaconnect_devstack.errors import InfrastructureError
from udaconnect_devstack.kafka import KafkaBroker, ensure_kafka_libs, find_java
from udaconnect_devstack.ports import free_port, free_ports, is_port_open, require_free_port, wait_for_port
from udaconnect_devstack.postgres import (
    PostgresServer,
    find_postgres_bindir,
    find_untraversable_dir,
)

__all__ = [
    "InfrastructureError",
    "KafkaBroker",
    "PostgresServer",
    "ensure_kafka_libs",
    "find_java",
    "find_postgres_bindir",
    "find_untraversable_dir",
    "free_port",
    "free_ports",
    "is_port_open",
    "require_free_port",
    "wait_for_port",
]
