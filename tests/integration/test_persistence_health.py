"""The persistence service's standard gRPC health service follows the database; reflection lists its services;
its metrics count the calls."""

import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from persistence_service.settings import PersistenceSettings
from tests.support import eventually, scrape
from udaconnect.v1 import persistence_pb2, persistence_pb2_grpc
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


def test_metrics_count_each_call_by_method_and_status(stack: LocalStack) -> None:
    metrics = f"http://127.0.0.1:{stack.ports.persistence_metrics}/metrics"
    labels = {"grpc_service": SERVICE, "grpc_method": "DeletePersons"}
    before = scrape(metrics)
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.persistence_grpc}") as channel:
        stub = persistence_pb2_grpc.PersistenceServiceStub(channel)
        stub.DeletePersons(persistence_pb2.DeletePersonsRequest(person_ids=[str(uuid.uuid4())]), timeout=10)
        with pytest.raises(grpc.RpcError) as refused:
            stub.DeletePersons(persistence_pb2.DeletePersonsRequest(person_ids=["not-a-uuid"]), timeout=10)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    after = scrape(metrics)
    for code in ("OK", "INVALID_ARGUMENT"):
        handled = after("grpc_server_handled_total", **labels, grpc_code=code)
        assert handled == before("grpc_server_handled_total", **labels, grpc_code=code) + 1, code
    timed = "grpc_server_handling_seconds_count"
    assert after(timed, **labels) - before(timed, **labels) == 2
    # The writer's pool: the delete used a connection and gave it back.
    assert after("db_pool_size", engine="write") == PersistenceSettings.model_fields["database_pool_size"].default
    assert after("db_pool_checked_in", engine="write") >= 1
