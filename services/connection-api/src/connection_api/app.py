"""The connection API application, wired from the reader it is given (the composition root is ``main``)."""

from collections.abc import Sequence

from fastapi import FastAPI

from connection_api.ports import ConnectionReader
from connection_api.routes import router
from udaconnect_common.geojson import ConnectionFeatureCollection
from udaconnect_common.http import ShutdownHook, create_api


def create_app(
    reader: ConnectionReader,
    *,
    max_body_bytes: int = 16 * 1024,
    cors_origins: Sequence[str] = (),
    on_shutdown: Sequence[ShutdownHook] = (),
) -> FastAPI:
    return create_api(
        title="UdaConnect connection API",
        description="Whom an attendee was near, when, and how close: one set-based PostGIS query per request.",
        routers=[router],
        readiness_checks={"database": reader.check},
        max_body_bytes=max_body_bytes,
        cors_origins=cors_origins,
        on_shutdown=on_shutdown,
        extra_schemas=[ConnectionFeatureCollection],
        state={"reader": reader},
    )
