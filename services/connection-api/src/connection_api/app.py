"""The connection API application, wired from the reader it is given (the composition root is ``main``)."""

from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from connection_api.ports import ConnectionReader, TooCostly
from connection_api.routes import router
from udaconnect_common.auth import AccessControl
from udaconnect_common.geojson import ConnectionFeatureCollection
from udaconnect_common.http import ReadinessCheck, ShutdownHook, StartupHook, create_api, problem_response


def create_app(
    reader: ConnectionReader,
    *,
    access: AccessControl,
    max_body_bytes: int = 16 * 1024,
    cors_origins: Sequence[str] = (),
    on_shutdown: Sequence[ShutdownHook] = (),
    on_startup: Sequence[StartupHook] = (),
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
) -> FastAPI:
    app = create_api(
        title="UdaConnect connection API",
        description=(
            "Whom an attendee was near, when, and how close: set-based PostGIS queries, and contacts over a "
            "whole event from an in-memory index of every ping."
        ),
        routers=[router],
        access=access,
        readiness_checks={"database": reader.check, **(readiness_checks or {})},
        max_body_bytes=max_body_bytes,
        cors_origins=cors_origins,
        on_shutdown=on_shutdown,
        on_startup=on_startup,
        extra_schemas=[ConnectionFeatureCollection],
        state={"reader": reader},
    )
    app.add_exception_handler(TooCostly, _on_too_costly)
    return app


async def _on_too_costly(request: Request, exc: Exception) -> JSONResponse:
    # A question the reader cannot answer within a request's budget: what to ask instead, in the detail.
    return problem_response(request, 422, "Query too costly", str(exc))
