"""The port to the persistence service: a gRPC adapter here, an in-memory fake in the unit tests."""

from typing import Protocol, TypeVar

import grpc

from udaconnect.v1 import location_pb2, persistence_pb2, persistence_pb2_grpc, person_pb2

Request = TypeVar("Request", persistence_pb2.SavePersonsRequest, persistence_pb2.SaveLocationsRequest)


class TransientStoreError(Exception):
    """The store could not answer now (service restarting, database away); the same call may succeed later."""


class PersistenceGateway(Protocol):
    def save_persons(self, persons: list[person_pb2.Person]) -> persistence_pb2.SaveResponse: ...

    def save_locations(self, locations: list[location_pb2.Location]) -> persistence_pb2.SaveResponse: ...


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

    def _call(
        self,
        method: "grpc.UnaryUnaryMultiCallable[Request, persistence_pb2.SaveResponse]",
        request: Request,
    ) -> persistence_pb2.SaveResponse:
        try:
            # wait_for_ready: while the service restarts, wait (up to the deadline) instead of failing at once.
            response: persistence_pb2.SaveResponse = method(request, timeout=self._timeout, wait_for_ready=True)
        except grpc.RpcError as error:
            # Every failed call is retried: the batch is only committed once stored, so nothing is lost.
            # Items that can never be stored come back as per-item rejections, not as call errors.
            raise TransientStoreError(f"{error.code().name}: {error.details()}") from error
        return response

    def close(self) -> None:
        self._channel.close()
