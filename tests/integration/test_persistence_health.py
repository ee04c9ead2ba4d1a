"""The persistence service's standard gRPC health service follows the database; reflection lists its services."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from tests.support import eventually
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration

SERVICE = "udaconnect.v1.PersistenceService"


def status(channel: grpc.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)  # type: ignore[attr-defined]
    return int(reply.status)


def test_health_turns_not_serving_while_the_database_is_down(stack: LocalStack) -> None:
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.persistence_grpc}") as channel:
        assert status(channel, SERVICE) == serving
        stack.postgres.stop()
        try:
            eventually(lambda: True if status(channel, SERVICE) == not_serving else None, timeout=15)
            assert status(channel, "") == serving  # the process itself is alive
        finally:
            stack.postgres.start()
        eventually(lambda: True if status(channel, SERVICE) == serving else None, timeout=15)


def test_reflection_lists_the_services(stack: LocalStack) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.persistence_grpc}") as channel:
        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= services
