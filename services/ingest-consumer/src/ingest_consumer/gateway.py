"""The port to the persistence service: a gRPC adapter here, an in-memory fake in the unit tests."""

from typing import Protocol, TypeVar

import grpc

from ingest_consumer.metrics import timed_call
from udaconnect.v1 import location_pb2, persistence_pb2, persistence_pb2_grpc, person_pb2

Request = TypeVar(
    "Request",
    persistence_pb2.SavePersonsRequest,
    persistence_pb2.SaveLocationsRequest,
    persistence_pb2.DeletePersonsRequest,
)
Response = TypeVar("Response", persistence_pb2.SaveResponse, persistence_pb2.DeleteResponse)


class TransientStoreError(Exception):
    """The store could not answer now (service restarting, database away); the same call may succeed later."""


class RefusedBatchError(Exception):
    """The store answered and refused the batch as it is: a record the database will not take, or a bug.

    Sending the same batch again is expected to fail again, so the caller tries it a bounded number of
    times, then splits it to find the records refused and dead-letters only those.
    """


# A call that failed with one of these may succeed as it is later: the service or its database is away,
# busy, or raced a concurrent change. Any other status is the service's answer about this batch.
TRANSIENT_STATUSES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
    }
)


class PersistenceGateway(Protocol):
    def save_persons(self, persons: list[person_pb2.Person]) -> persistence_pb2.SaveResponse: ...

    def save_locations(self, locations: list[location_pb2.Location]) -> persistence_pb2.SaveResponse: ...

    def delete_persons(self, person_ids: list[str]) -> persistence_pb2.DeleteResponse: ...


class GrpcPersistenceGateway:
    """One channel for the life of the process (gRPC reconnects by itself)."""

    def __init__(self, address: str, timeout_seconds: float) -> None:
        self._channel = grpc.insecure_channel(address)
        self._stub = persistence_pb2_grpc.PersistenceServiceStub(self._channel)
        self._timeout = timeout_seconds

    def save_persons(self, persons: list[person_pb2.Person]) -> persistence_pb2.SaveResponse:
        return self._call(self._stub.SavePersons, persistence_pb2.SavePersonsRequest(persons=persons))

    def save_locations(self, locations: list[location_pb2.Location]) -> persistence_pb2.SaveResponse:
        return self._call(self._stub.SaveLocations, persistence_pb2.SaveLocationsRequest(locations=locations))

    def delete_persons(self, person_ids: list[str]) -> persistence_pb2.DeleteResponse:
        return self._call(self._stub.DeletePersons, persistence_pb2.DeletePersonsRequest(person_ids=person_ids))

    def _call(self, method: "grpc.UnaryUnaryMultiCallable[Request, Response]", request: Request) -> Response:
        try:
            # wait_for_ready: while the service restarts, wait (up to the deadline) instead of failing at once.
            with timed_call(type(request).__name__.removesuffix("Request")):
                response: Response = method(request, timeout=self._timeout, wait_for_ready=True)
        except grpc.RpcError as error:
            # The batch is only committed once stored or dead-lettered, so a failed call loses nothing.
            # Items the service knows it can never store come back as per-item rejections, not as errors.
            code = error.code()
            failure = f"{code.name}: {error.details()}"
            if code in TRANSIENT_STATUSES:
                raise TransientStoreError(failure) from error
            raise RefusedBatchError(failure) from error
        return response

    def close(self) -> None:
        self._channel.close()
