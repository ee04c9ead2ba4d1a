"""gRPC entry points: translate protobuf batches into records, store them, report per-item outcomes.

Items that can never be stored are rejected one by one (the rest of the batch is stored); a database
that does not answer fails the whole call with UNAVAILABLE so the caller retries: nothing is dropped.
A batch the database refuses (a value or constraint it will not take, which the checks here did not
foresee) fails with INVALID_ARGUMENT: the caller splits it to find the records refused.
"""

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar

import grpc
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from persistence_service.records import InvalidRecord, LocationRecord, PersonRecord, location_record, person_record
from persistence_service.store import DeleteResult, SqlStore, StoreResult
from udaconnect.v1 import location_pb2, persistence_pb2, persistence_pb2_grpc, person_pb2

logger = logging.getLogger(__name__)

Message = TypeVar("Message", person_pb2.Person, location_pb2.Location)
Record = TypeVar("Record", PersonRecord, LocationRecord)


def _validate(
    messages: Sequence[Message], convert: Callable[[Message], Record]
) -> tuple[list[tuple[int, Record]], list[persistence_pb2.Rejection]]:
    """Split a batch into (index, record) pairs to store and rejections of the invalid items."""
    records: list[tuple[int, Record]] = []
    rejections: list[persistence_pb2.Rejection] = []
    for index, message in enumerate(messages):
        try:
            records.append((index, convert(message)))
        except InvalidRecord as exc:
            rejections.append(
                persistence_pb2.Rejection(
                    index=index, id=message.id, reason=persistence_pb2.REJECTION_REASON_INVALID, detail=str(exc)
                )
            )
    return records, rejections


# What the database says of the data itself: sent again as it is, it is refused again.
_REFUSALS = (pg_errors.CheckViolation, pg_errors.NotNullViolation, pg_errors.ExclusionViolation, pg_errors.DataError)


def _abort_for_database_error(context: grpc.ServicerContext, exc: DBAPIError) -> NoReturn:
    if isinstance(exc.orig, _REFUSALS):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"the database refuses the batch: {exc.orig}")
    if isinstance(exc, IntegrityError):
        # A concurrent delete raced the insert; a retry sees the new state.
        context.abort(grpc.StatusCode.ABORTED, f"conflict with a concurrent change, retry: {exc.orig}")
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        context.abort(grpc.StatusCode.UNAVAILABLE, f"database unavailable: {exc.orig}")
    logger.exception("database error")
    context.abort(grpc.StatusCode.INTERNAL, f"database error: {exc.orig}")
    raise AssertionError("context.abort raises")  # for type checkers: abort never returns


class PersistenceServicer(persistence_pb2_grpc.PersistenceServiceServicer):
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def SavePersons(  # noqa: N802 - the name is the RPC's
        self, request: persistence_pb2.SavePersonsRequest, context: grpc.ServicerContext
    ) -> persistence_pb2.SaveResponse:
        indexed, rejections = _validate(request.persons, person_record)
        result = StoreResult(inserted=0, already_stored=0)
        if indexed:
            try:
                result = self._store.save_persons([record for _, record in indexed])
            except DBAPIError as exc:
                _abort_for_database_error(context, exc)
        rejections.extend(
            _deleted(index, str(record.id), record.id)
            for index, record in indexed
            if record.id in result.deleted_person_ids
        )
        rejections.sort(key=lambda rejection: rejection.index)
        return persistence_pb2.SaveResponse(
            inserted=result.inserted, already_stored=result.already_stored, rejections=rejections
        )

    def SaveLocations(  # noqa: N802 - the name is the RPC's
        self, request: persistence_pb2.SaveLocationsRequest, context: grpc.ServicerContext
    ) -> persistence_pb2.SaveResponse:
        indexed, rejections = _validate(request.locations, location_record)
        result = StoreResult(inserted=0, already_stored=0)
        if indexed:
            try:
                result = self._store.save_locations([record for _, record in indexed])
            except DBAPIError as exc:
                _abort_for_database_error(context, exc)
        rejections.extend(
            persistence_pb2.Rejection(
                index=index,
                id=str(record.id),
                reason=persistence_pb2.REJECTION_REASON_UNKNOWN_PERSON,
                detail=f"person {record.person_id} is not stored",
            )
            for index, record in indexed
            if record.person_id in result.unknown_person_ids
        )
        rejections.extend(
            _deleted(index, str(record.id), record.person_id)
            for index, record in indexed
            if record.person_id in result.deleted_person_ids
        )
        rejections.sort(key=lambda rejection: rejection.index)
        return persistence_pb2.SaveResponse(
            inserted=result.inserted, already_stored=result.already_stored, rejections=rejections
        )

    def DeletePersons(  # noqa: N802 - the name is the RPC's
        self, request: persistence_pb2.DeletePersonsRequest, context: grpc.ServicerContext
    ) -> persistence_pb2.DeleteResponse:
        try:
            ids = [uuid.UUID(person_id) for person_id in request.person_ids]
        except ValueError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"not a person id: {exc}")
        result = DeleteResult(persons_deleted=0, locations_deleted=0)
        if ids:
            try:
                result = self._store.delete_persons(ids)
            except DBAPIError as exc:
                _abort_for_database_error(context, exc)
        return persistence_pb2.DeleteResponse(
            persons_deleted=result.persons_deleted, locations_deleted=result.locations_deleted
        )


def _deleted(index: int, item_id: str, person_id: uuid.UUID) -> persistence_pb2.Rejection:
    return persistence_pb2.Rejection(
        index=index,
        id=item_id,
        reason=persistence_pb2.REJECTION_REASON_DELETED_PERSON,
        detail=f"person {person_id} was deleted",
    )
