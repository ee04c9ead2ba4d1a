"""``/api/persons``: thin HTTP entry points that validate, then call the publisher or the reader."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from person_api.export import MEDIA_TYPES, ExportFormat, export_document
from person_api.ports import PersonPublisher, PersonReader
from person_api.schemas import DeletionAccepted, PersonCreate, PersonPublic
from udaconnect_common.auth import CurrentPrincipal, Writer, require_organizer, require_person
from udaconnect_common.http import ProblemError, broker_unavailable, problem_responses
from udaconnect_common.ids import PERSON_ID_NAMESPACE, id_for_idempotency_key, new_id
from udaconnect_common.kafka import DeliveryFailed
from udaconnect_common.paging import encode_cursor, next_link, read_cursor

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
SEARCH_MAX_LENGTH = 100


# async def, not def: FastAPI runs a plain def dependency in its thread pool, a thread hop per request.
async def get_publisher(request: Request) -> PersonPublisher:
    publisher: PersonPublisher = request.app.state.publisher
    return publisher


async def get_reader(request: Request) -> PersonReader:
    reader: PersonReader = request.app.state.reader
    return reader


PublisherDep = Annotated[PersonPublisher, Depends(get_publisher)]
ReaderDep = Annotated[PersonReader, Depends(get_reader)]

router = APIRouter(prefix="/api/persons", tags=["persons"])


@router.post(
    "",
    status_code=202,
    summary="Accept a new person",
    description=(
        "Validates the person, gives it its id and hands it to the message broker. Answers 202 once the "
        "broker has acknowledged it; the person can be read back with GET as soon as it is stored "
        "(normally well under a second). With an `Idempotency-Key` header the id is derived from the key, "
        "so a retried request cannot create a second person. Organizers only."
    ),
    responses=problem_responses(400, 413, 422, 429, 503),
)
async def create_person(
    body: PersonCreate,
    response: Response,
    publisher: PublisherDep,
    principal: Writer,
    idempotency_key: Annotated[
        str | None,
        Header(min_length=1, max_length=255, description="Client-chosen key that makes retries safe"),
    ] = None,
) -> PersonPublic:
    require_organizer(principal, "add persons")
    person_id = id_for_idempotency_key(PERSON_ID_NAMESPACE, idempotency_key) if idempotency_key else new_id()
    person = PersonPublic(id=person_id, **body.model_dump())
    try:
        await publisher.publish(person)
    except DeliveryFailed as exc:
        raise broker_unavailable(exc.reason) from exc
    response.headers["Location"] = f"/api/persons/{person_id}"
    return person


@router.get(
    "",
    summary="List persons",
    description=(
        "Persons ordered by last name, first name, then id. Paged: when more persons follow, the "
        '`Link: <...>; rel="next"` header holds the next page\'s URL; no such header means the last page. '
        "With `q`, only the persons whose first name, last name or company contains it (any case)."
    ),
    responses=problem_responses(422),
)
async def list_persons(
    request: Request,
    response: Response,
    reader: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Page size")] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="Opaque cursor from a previous page's next link")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=SEARCH_MAX_LENGTH,
            # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
            pattern=r"^[^\x00]*$",
            description="Search: part of the full name (first and last) or of the company name, any case",
            examples=["fargo"],
        ),
    ] = None,
) -> list[PersonPublic]:
    after = read_cursor(cursor, str, str, uuid.UUID)
    search = q.strip() if q is not None else ""
    page = await reader.list_page(limit, after, search or None)
    if page.has_more:
        last = page.persons[-1]
        response.headers["Link"] = next_link(request.url, encode_cursor([last.last_name, last.first_name, last.id]))
    return page.persons


@router.get(
    "/{person_id}",
    summary="Get one person",
    responses=problem_responses(404, 422),
)
async def get_person(
    person_id: Annotated[uuid.UUID, Path(description="The id the POST answered")],
    reader: ReaderDep,
    principal: CurrentPrincipal,
) -> PersonPublic:
    require_person(principal, person_id, "read their own person (the list names everyone)")
    person = await reader.get(person_id)
    if person is None:
        raise ProblemError(404, "Not found", f"No person with id {person_id}.")
    return person


@router.delete(
    "/{person_id}",
    status_code=202,
    summary="Forget a person",
    description=(
        "The person themself or an organizer. Hands the deletion to the message broker and answers 202 once "
        "the broker has it; shortly after, the person, every one of their pings and everything computed from "
        "them (connections, contacts, in their answers and everyone else's) are gone. A tombstone of the id "
        "stays, so a ping still on its way or posted later, or a replayed creation, is dropped instead of "
        "bringing them back. Idempotent: deleting again, or an id never stored, is accepted the same way."
    ),
    responses=problem_responses(422, 429, 503),
)
async def delete_person(
    person_id: Annotated[uuid.UUID, Path(description="Whom to forget")],
    publisher: PublisherDep,
    principal: Writer,
) -> DeletionAccepted:
    require_person(principal, person_id, "delete themselves")
    try:
        requested_at = await publisher.publish_deletion(person_id)
    except DeliveryFailed as exc:
        raise broker_unavailable(exc.reason) from exc
    return DeletionAccepted(person_id=person_id, requested_at=requested_at)


@router.get(
    "/{person_id}/export",
    summary="Everything stored about a person",
    description=(
        "The person themself or an organizer. The person and every one of their pings (position, time, "
        "when it was received), as JSON (`format=json`), as a GeoJSON FeatureCollection of points "
        "(`format=geojson`, `[longitude, latitude]`) or as a GPX 1.1 track (`format=gpx`), streamed as a "
        "download. Nothing else about a person is stored: connections and contacts are computed from the "
        "pings on each request."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export, as a download",
            "content": {media: {} for media in MEDIA_TYPES.values()},
        },
        **problem_responses(404, 422),
    },
)
async def export_person(
    person_id: Annotated[uuid.UUID, Path(description="Whose data")],
    reader: ReaderDep,
    principal: CurrentPrincipal,
    export_format: Annotated[
        ExportFormat, Query(alias="format", description="json (default), geojson or gpx")
    ] = ExportFormat.JSON,
) -> StreamingResponse:
    require_person(principal, person_id, "export their own data")
    person = await reader.get(person_id)
    if person is None:
        raise ProblemError(404, "Not found", f"No person with id {person_id}.")
    document = export_document(person, reader.export_pings(person_id), export_format, datetime.now(UTC))
    filename = f"udaconnect-{person_id}.{export_format.value}"
    return StreamingResponse(
        document,
        media_type=MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
