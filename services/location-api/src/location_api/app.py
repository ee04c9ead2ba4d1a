"""The location API application, wired from the ports it is given (the composition root is ``main``)."""

from collections.abc import Sequence

from fastapi import FastAPI

from location_api.ports import LocationPublisher, LocationReader
from location_api.routes import router
from udaconnect_common.auth import AccessControl
from udaconnect_common.geojson import LocationFeatureCollection
from udaconnect_common.http import ShutdownHook, create_api


def create_app(
    publisher: LocationPublisher,
    reader: LocationReader,
    *,
    access: AccessControl,
    max_body_bytes: int = 512 * 1024,
    cors_origins: Sequence[str] = (),
    on_shutdown: Sequence[ShutdownHook] = (),
) -> FastAPI:
    return create_api(
        title="UdaConnect location API",
        description="Pings from attendees' phones. Writes are accepted onto Kafka and stored by the ingest path.",
        routers=[router],
        access=access,
        readiness_checks={"database": reader.check, "kafka": publisher.check},
        max_body_bytes=max_body_bytes,
        cors_origins=cors_origins,
        on_shutdown=on_shutdown,
        extra_schemas=[LocationFeatureCollection],
        state={"publisher": publisher, "reader": reader},
    )
