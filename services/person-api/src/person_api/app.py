"""The person API application, wired from the ports it is given (the composition root is ``main``)."""

from collections.abc import Sequence

from fastapi import FastAPI

from person_api.ports import PersonPublisher, PersonReader
from person_api.routes import router
from udaconnect_common.auth import AccessControl
from udaconnect_common.http import ShutdownHook, create_api


def create_app(
    publisher: PersonPublisher,
    reader: PersonReader,
    *,
    access: AccessControl,
    max_body_bytes: int = 64 * 1024,
    cors_origins: Sequence[str] = (),
    on_shutdown: Sequence[ShutdownHook] = (),
) -> FastAPI:
    return create_api(
        title="UdaConnect person API",
        description="Conference attendees. Writes are asynchronous: accepted onto Kafka, stored by the ingest path.",
        routers=[router],
        access=access,
        readiness_checks={"database": reader.check, "kafka": publisher.check},
        max_body_bytes=max_body_bytes,
        cors_origins=cors_origins,
        on_shutdown=on_shutdown,
        state={"publisher": publisher, "reader": reader},
    )
