"""GeoJSON (RFC 7946) answers for the lists of pings, chosen by the request's ``Accept`` header.

A map draws GeoJSON as it comes; the JSON lists stay arrays for the legacy front end. Both representations
of a list page the same way (the same ``Link`` header), and answer ``Vary: Accept`` so a cache keeps them
apart. Positions are ``[longitude, latitude]``, as RFC 7946 says (the legacy API swapped them elsewhere).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from udaconnect_common.schemas import LocationPublic, PersonPublic

GEOJSON_MEDIA_TYPE = "application/geo+json"
JSON_MEDIA_TYPE = "application/json"


def _media_ranges(accept: str) -> list[tuple[str, float, int]]:
    """(media range, q, position) for each entry of an Accept header; malformed q values count as 1."""
    ranges = []
    for position, entry in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in entry.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 1.0
        if media:
            ranges.append((media.lower(), quality, position))
    return ranges


def prefers_geojson(accept: str | None) -> bool:
    """True when the client asks for GeoJSON at least as much as for plain JSON.

    Only an explicit ``application/geo+json`` counts: ``*/*`` or a missing header keep the JSON array, so
    existing clients see no change. When both are listed with the same weight, GeoJSON wins: a client
    names it only because it wants it.
    """
    if not accept:
        return False
    geojson_q: float | None = None
    json_q = 0.0
    for media, quality, _position in _media_ranges(accept):
        if media == GEOJSON_MEDIA_TYPE:
            geojson_q = quality
        elif media in (JSON_MEDIA_TYPE, "application/*", "*/*"):
            json_q = max(json_q, quality)
    return geojson_q is not None and geojson_q > 0 and geojson_q >= json_q


def wants_geojson(request: Request) -> bool:
    return prefers_geojson(request.headers.get("accept"))


class _GeoJsonModel(BaseModel):
    # What is sent always has its "type": the schema says so, and the front end's types rely on it.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class PointGeometry(_GeoJsonModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(description="[longitude, latitude] in WGS84 degrees (RFC 7946)")


class LocationProperties(_GeoJsonModel):
    person_id: uuid.UUID
    creation_time: datetime


class LocationFeature(_GeoJsonModel):
    type: Literal["Feature"] = "Feature"
    id: uuid.UUID = Field(description="The location's id")
    geometry: PointGeometry
    properties: LocationProperties


class LocationFeatureCollection(_GeoJsonModel):
    """A page of location pings as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[LocationFeature]


class ConnectionProperties(LocationProperties):
    person: PersonPublic = Field(description="The other person, whose ping this is")


class ConnectionFeature(_GeoJsonModel):
    type: Literal["Feature"] = "Feature"
    id: uuid.UUID = Field(description="The other person's location id")
    geometry: PointGeometry
    properties: ConnectionProperties


class ConnectionFeatureCollection(_GeoJsonModel):
    """A page of connections as a GeoJSON FeatureCollection: each feature is the other person's ping."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ConnectionFeature]


def location_feature(location: LocationPublic, **extra_properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(location.id),
        "geometry": {"type": "Point", "coordinates": [location.longitude, location.latitude]},
        "properties": {
            "person_id": str(location.person_id),
            "creation_time": location.creation_time.isoformat().replace("+00:00", "Z"),
            **extra_properties,
        },
    }


def feature_collection_response(features: Iterable[dict[str, Any]], link: str | None) -> JSONResponse:
    """A page as a FeatureCollection, with the page's ``Link`` header when another page follows."""
    headers = {"Vary": "Accept"} if link is None else {"Vary": "Accept", "Link": link}
    return JSONResponse(
        {"type": "FeatureCollection", "features": list(features)}, media_type=GEOJSON_MEDIA_TYPE, headers=headers
    )


def geojson_list_response(geojson_model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``200`` entry that adds the GeoJSON representation to a list route's JSON array.

    The schema is registered in the document's components by :func:`register_schemas`.
    """
    return {
        200: {
            "description": (
                "The page as a JSON array, or as a GeoJSON FeatureCollection when `Accept` asks for "
                "`application/geo+json`. Both carry the same `Link` header."
            ),
            "content": {GEOJSON_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{geojson_model.__name__}"}}},
        }
    }


def register_schemas(app: FastAPI, models: Iterable[type[BaseModel]]) -> None:
    """Add schemas no route declares as its response model (alternative representations) to the document."""
    models = list(models)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas[model.__name__] = schema
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
