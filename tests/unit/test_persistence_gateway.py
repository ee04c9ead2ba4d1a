"""The consumer's gRPC gateway tells a store that is away from a store that refuses the batch."""

import grpc
import pytest

from ingest_consumer.gateway import GrpcPersistenceGateway, RefusedBatchError, TransientStoreError
from udaconnect.v1 import persistence_pb2


class FailedCall(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "what the server said"


def _failing_with(code: grpc.StatusCode) -> object:
    def call(request: object, timeout: float, wait_for_ready: bool) -> persistence_pb2.SaveResponse:
        raise FailedCall(code)

    return call


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
    ],
)
def test_an_absent_or_busy_store_is_transient(code: grpc.StatusCode) -> None:
    gateway = GrpcPersistenceGateway("127.0.0.1:1", timeout_seconds=0.1)
    with pytest.raises(TransientStoreError, match=code.name):
        gateway._call(_failing_with(code), persistence_pb2.SavePersonsRequest())  # type: ignore[arg-type]
    gateway.close()


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.UNIMPLEMENTED,
    ],
)
def test_an_answer_about_the_batch_is_a_refusal(code: grpc.StatusCode) -> None:
    gateway = GrpcPersistenceGateway("127.0.0.1:1", timeout_seconds=0.1)
    with pytest.raises(RefusedBatchError, match="what the server said"):
        gateway._call(_failing_with(code), persistence_pb2.SavePersonsRequest())  # type: ignore[arg-type]
    gateway.close()
