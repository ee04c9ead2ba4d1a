"""``/api/persons/{id}/connection`` and ``/contacts``: validate the parameters, run one query, page the answer."""

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from connection_api.ports import ConnectionReader
from connection_api.proximity import Proximity
from connection_api.schemas import CONNECTION_ROWS, Connection, Contact, LocationPublic, PersonPublic
from udaconnect_common.auth import CurrentPrincipal, require_person
from udaconnect_common.geojson import (
    ConnectionFeatureCollection,
    feature_collection_response,
    geojson_list_response,
    location_feature,
    wants_geojson,
)
from udaconnect_common.http import ProblemError, invalid_parameter, problem_responses
from udaconnect_common.paging import encode_cursor, next_link, read_cursor
from udaconnect_common.timerange import EndDate, InvalidTimeRange, StartDate, time_range

DEFAULT_DISTANCE_M = 5.0
# A phone's position is good to a few metres; below a centimetre a distance means nothing, and the
# search's cell arithmetic would have to reach over absurdly many cells.
MIN_DISTANCE_M = 0.01
MAX_DISTANCE_M = 500.0
MAX_WINDOW_MINUTES = 24 * 60
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000


# async def, not def: FastAPI runs a plain def dependency in its thread pool, a thread hop per request.
async def get_reader(request: Request) -> ConnectionReader:
    reader: ConnectionReader = request.app.state.reader
    return reader


ReaderDep = Annotated[ConnectionReader, Depends(get_reader)]
Distance = Annotated[
    float,
    Query(
        ge=MIN_DISTANCE_M,
        le=MAX_DISTANCE_M,
        allow_inf_nan=False,
        description=f"Metres on the WGS84 spheroid; {MIN_DISTANCE_M} <= distance <= {MAX_DISTANCE_M:.0f}",
    ),
]
Window = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_WINDOW_MINUTES,
        description=(
            "Co-presence window in minutes: the other ping must also be within this time of the person's ping. "
            "Absent: any time in the range (the legacy behaviour)."
        ),
    ),
]
Limit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=2048, description="Opaque cursor from a next link")]

router = APIRouter(prefix="/api/persons", tags=["connections"])

_RANGE_DOC = (
    "`start_date` and `end_date` are UTC days (`YYYY-MM-DD`) or ISO 8601 times with offset, both inclusive, "
    "any distance apart; the same range applies to the person's pings and the others'."
)
_BUDGET_DOC = (
    " Every request gets a fixed budget of database time; a question that cannot be answered within it is "
    "a 422 that says what to ask instead."
)
NIL_ID = uuid.UUID(int=0)


async def proximity(
    reader: ReaderDep,
    principal: CurrentPrincipal,
    person_id: Annotated[uuid.UUID, Path(description="The person whose encounters are wanted")],
    start_date: StartDate,
    end_date: EndDate,
    distance: Distance = DEFAULT_DISTANCE_M,
    window: Window = None,
) -> Proximity:
    """The parameters both endpoints share, validated together; 403 when the caller may not see the
    person's encounters (before the person is looked up: an attendee learns nothing of others), 404 when
    the person is unknown."""
    require_person(principal, person_id, "read their own connections and contacts")
    try:
        period = time_range(start_date, end_date)
    except InvalidTimeRange as exc:
        raise invalid_parameter("end_date", str(exc)) from exc
    if not await reader.person_exists(person_id):
        raise ProblemError(404, "Not found", f"No person with id {person_id}.")
    return Proximity(person_id, period, distance, timedelta(minutes=window) if window else None)


ProximityDep = Annotated[Proximity, Depends(proximity)]


@router.get(
    "/{person_id}/connection",
    summary="Whom the person was near, ping by ping",
    description=(
        "Every ping of another person within `distance` metres of one of the person's own pings. "
        + _RANGE_DOC
        + " Each other ping appears once, ordered by time then id; `location` is the other person's ping. "
        'Paged: a `Link: <...>; rel="next"` header holds the next page; none means the last page. '
        "With `Accept: application/geo+json` the page is a GeoJSON FeatureCollection of the other persons' "
        "pings (`[longitude, latitude]`, the other person in each feature's properties), paged the same way."
        + _BUDGET_DOC
    ),
    response_model=list[Connection],
    responses={**geojson_list_response(ConnectionFeatureCollection), **problem_responses(404, 422)},
)
async def list_connections(
    request: Request,
    response: Response,
    reader: ReaderDep,
    query: ProximityDep,
    limit: Limit = PAGE_SIZE_DEFAULT,
    cursor: Cursor = None,
) -> Response:
    after = read_cursor(cursor, datetime.fromisoformat, uuid.UUID)
    page = await reader.connections(query, limit, after)
    if page.has_more:
        last = page.connections[-1]["location"]
        response.headers["Link"] = next_link(
            request.url, encode_cursor([last["creation_time"].isoformat(), last["id"]])
        )
    elif page.resume_at is not None:
        # Everything before resume_at is read: the next page starts at it (the nil id sorts before any).
        response.headers["Link"] = next_link(request.url, encode_cursor([page.resume_at.isoformat(), NIL_ID]))
    if wants_geojson(request):
        features = (
            location_feature(
                LocationPublic(**connection["location"]),
                person=PersonPublic(**connection["person"]).model_dump(mode="json"),
            )
            for connection in page.connections
        )
        return feature_collection_response(features, response.headers.get("link"))
    response.headers["Vary"] = "Accept"
    # Serialized in one call (pydantic's core, in Rust) from the rows, not through FastAPI's response model,
    # which would build and check 1,000 models, then turn them into dicts in Python first.
    return Response(
        CONNECTION_ROWS.dump_json(page.connections), media_type="application/json", headers=response.headers
    )


@router.get(
    "/{person_id}/contacts",
    summary="Whom the person met, one row per other person",
    description=(
        "One row per other person who had a ping within `distance` metres of one of the person's pings: "
        "how many such pings, the first and last time, and the closest distance. "
        + _RANGE_DOC
        + " Ordered by encounters (most first), then person id; paged like the connection list."
        + _BUDGET_DOC
    ),
    responses=problem_responses(404, 422),
)
async def list_contacts(
    request: Request,
    response: Response,
    reader: ReaderDep,
    query: ProximityDep,
    limit: Limit = PAGE_SIZE_DEFAULT,
    cursor: Cursor = None,
) -> list[Contact]:
    after = read_cursor(cursor, int, uuid.UUID)
    page = await reader.contacts(query, limit, after)
    if page.has_more:
        last = page.contacts[-1]
        response.headers["Link"] = next_link(request.url, encode_cursor([last.encounters, last.person.id]))
    return page.contacts
