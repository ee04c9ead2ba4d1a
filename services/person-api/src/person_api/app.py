"""The person API application, wired from the ports it is given (the composition root is ``main``)."""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from person_api.ports import PersonPublisher, PersonReader
from person_api.routes import router
from udaconnect_common.http import BodySizeLimit, install_health_routes, install_metrics, install_problem_handlers

ShutdownHook = Callable[[], Awaitable[None]]


def create_app(
    publisher: PersonPublisher,
    reader: PersonReader,
    *,
    max_body_bytes: int = 64 * 1024,
    cors_origins: Sequence[str] = (),
    on_shutdown: Sequence[ShutdownHook] = (),
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        for hook in on_shutdown:
            await hook()

    app = FastAPI(
        title="UdaConnect person API",
        version="1.0.0",
        description="Conference attendees. Writes are asynchronous: accepted onto Kafka, stored by the ingest path.",
        lifespan=lifespan,
    )
    app.state.publisher = publisher
    app.state.reader = reader
    app.include_router(router)
    install_problem_handlers(app)
    install_health_routes(app, {"database": reader.check, "kafka": publisher.check})
    install_metrics(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    if cors_origins:
        # The web front end calls this API directly from its own origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "Idempotency-Key"],
            expose_headers=["Location", "Link", "Retry-After"],
        )
    return app
