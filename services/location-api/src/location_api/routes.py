"""``/api/locations``: thin HTTP entry points that validate, then call the publisher or the reader."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from location_api.ports import LocationPublisher, LocationReader
from location_api.schemas import (
    LocationBatchAccepted,
    LocationBatchCreate,
    LocationCreate,
    LocationPublic,
)
from udaconnect_common.auth import CurrentPrincipal, Principal, Writer, require_person
from udaconnect_common.geojson import (
    LocationFeatureCollection,
    feature_collection_response,
    geojson_list_response,
    location_feature,
    wants_geojson,
)
from udaconnect_common.http import ProblemError, broker_unavailable, invalid_parameter, problem_responses
from udaconnect_common.ids import LOCATION_ID_NAMESPACE, id_for_idempotency_key, new_id
from udaconnect_common.kafka import DeliveryFailed
from udaconnect_common.paging import encode_cursor, next_link, read_cursor
from udaconnect_common.timerange import EndDate, InvalidTimeRange, StartDate, time_range

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000


# async def, not def: FastAPI runs a plain def dependency in its thread pool, a thread hop per request.
async def get_publisher(request: Request) -> LocationPublisher:
    publisher: LocationPublisher = request.app.state.publisher
    return publisher


async def get_reader(request: Request) -> LocationReader:
    reader: LocationReader = request.app.state.reader
    return reader


PublisherDep = Annotated[LocationPublisher, Depends(get_publisher)]
ReaderDep = Annotated[LocationReader, Depends(get_reader)]
IdempotencyKey = Annotated[
    str | None, Header(min_length=1, max_length=255, description="Client-chosen key that makes retries safe")
]

router = APIRouter(prefix="/api/locations", tags=["locations"])


def _accepted(item: LocationCreate, location_id: uuid.UUID, received_at: datetime) -> LocationPublic:
    return LocationPublic(
        id=location_id,
        person_id=item.person_id,
        latitude=item.latitude,
        longitude=item.longitude,
        creation_time=item.creation_time or received_at,
    )


def _require_own_pings(principal: Principal, items: list[LocationCreate]) -> None:
    # An attendee posts pings for themselves only; a batch with one foreign ping is refused whole.
    for person_id in {item.person_id for item in items}:
        require_person(principal, person_id, "post pings for themselves")


async def _publish(publisher: LocationPublisher, locations: list[LocationPublic]) -> None:
    try:
        await publisher.publish(locations)
    except DeliveryFailed as exc:
        raise broker_unavailable(exc.reason) from exc


@router.post(
    "",
    status_code=202,
    summary="Accept one location ping",
    description=(
        "Validates the ping, gives it its id and hands it to the message broker; answers 202 once the broker "
        "has acknowledged it. The ping is stored shortly after, even if its person is still on its way. "
        "With an `Idempotency-Key` header the id is derived from the key, so a retry cannot store it twice."
    ),
    response_model=LocationPublic,
    responses=problem_responses(400, 413, 422, 429, 503),
)
async def create_location(
    body: LocationCreate,
    publisher: PublisherDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    _require_own_pings(principal, [body])
    location_id = id_for_idempotency_key(LOCATION_ID_NAMESPACE, idempotency_key) if idempotency_key else new_id()
    location = _accepted(body, location_id, datetime.now(UTC))
    await _publish(publisher, [location])
    # Serialized here in one call, not through FastAPI's response model (which would check the model
    # again and build a dict first): a phone's single ping is the request this API answers most.
    return Response(
        location.model_dump_json(),
        status_code=202,
        media_type="application/json",
        headers={"Location": f"/api/locations/{location_id}"},
    )


@router.post(
    "/batch",
    status_code=202,
    summary="Accept many location pings at once",
    description=(
        "For a phone uploading the pings it collected. Every item is validated first: one invalid item "
        "rejects the whole batch with a 422 whose `errors` name each bad item by index (`loc`). "
        "With an `Idempotency-Key` header, item *i* gets an id derived from the key and *i*, so a retried "
        "batch (for instance after a 503) stores nothing twice. Without one, a retry after a 503 may store "
        "some pings twice under different ids: send the key."
    ),
    responses=problem_responses(400, 413, 422, 429, 503),
)
async def create_location_batch(
    body: LocationBatchCreate, publisher: PublisherDep, principal: Writer, idempotency_key: IdempotencyKey = None
) -> LocationBatchAccepted:
    _require_own_pings(principal, body.locations)
    received_at = datetime.now(UTC)
    locations = [
        _accepted(
            item,
            id_for_idempotency_key(LOCATION_ID_NAMESPACE, f"{idempotency_key}#{index}")
            if idempotency_key
            else new_id(),
            received_at,
        )
        for index, item in enumerate(body.locations)
    ]
    await _publish(publisher, locations)
    return LocationBatchAccepted(ids=[location.id for location in locations])


@router.api_route("/batch", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def batch_is_post_only() -> None:
    # Without this, GET /api/locations/batch would reach GET /{location_id} and answer 422 ("batch" is not a
    # UUID) instead of 405.
    raise ProblemError(405, "Method not allowed", "Batches are POSTed only.", headers={"Allow": "POST"})


@router.get(
    "",
    summary="A person's locations in a time range",
    description=(
        "The person's pings ordered by time (then id). Paged: when more follow, the "
        '`Link: <...>; rel="next"` header holds the next page\'s URL; no such header means the last page. '
        "With `Accept: application/geo+json` the page is a GeoJSON FeatureCollection of points "
        "(`[longitude, latitude]`), paged the same way."
    ),
    response_model=list[LocationPublic],
    responses={**geojson_list_response(LocationFeatureCollection), **problem_responses(422)},
)
async def list_locations(
    request: Request,
    response: Response,
    reader: ReaderDep,
    principal: CurrentPrincipal,
    person_id: Annotated[uuid.UUID, Query(description="Whose pings")],
    start_date: StartDate,
    end_date: EndDate,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Page size")] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=2048, description="Opaque cursor from a next link")] = None,
) -> list[LocationPublic] | JSONResponse:
    try:
        period = time_range(start_date, end_date)
    except InvalidTimeRange as exc:
        raise invalid_parameter("end_date", str(exc)) from exc
    require_person(principal, person_id, "read their own pings")
    after = read_cursor(cursor, datetime.fromisoformat, uuid.UUID)
    page = await reader.list_page(person_id, period, limit, after)
    if page.has_more:
        last = page.locations[-1]
        response.headers["Link"] = next_link(request.url, encode_cursor([last.creation_time.isoformat(), last.id]))
    if wants_geojson(request):
        return feature_collection_response(map(location_feature, page.locations), response.headers.get("link"))
    response.headers["Vary"] = "Accept"
    return page.locations


@router.get("/{location_id}", summary="Get one location ping", responses=problem_responses(404, 422))
async def get_location(
    location_id: Annotated[uuid.UUID, Path(description="The id the POST answered")],
    reader: ReaderDep,
    principal: CurrentPrincipal,
) -> LocationPublic:
    location = await reader.get(location_id)
    if location is None:
        raise ProblemError(404, "Not found", f"No location with id {location_id}.")
    require_person(principal, location.person_id, "read their own pings")
    return location
