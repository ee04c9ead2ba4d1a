"""HTTP plumbing the three APIs share: RFC 9457 problem details, health/ready/metrics, body size limit.

Every error an API returns is ``application/problem+json`` that says what is wrong; an input error is
never a 500.
"""

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_fastapi_instrumentator import Instrumentator
from psycopg.errors import QueryCanceled
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from udaconnect_common.auth import AccessControl, current_principal
from udaconnect_common.geojson import register_schemas
from udaconnect_common.paging import InvalidCursor
from udaconnect_common.problems import ProblemError as ProblemError
from udaconnect_common.settings import ApiSettings
from udaconnect_common.tracing import instrument_app

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What a 503 asks the client to wait: Kafka's and PostgreSQL's usual failover or restart time.
RETRY_AFTER_SECONDS = 5
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    # For 422: one entry per invalid field, {"loc": [...], "msg": "...", "type": "..."}.
    errors: list[dict[str, Any]] | None = None


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(title=title, status=status, detail=detail, instance=request.url.path, errors=errors)
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Keep what helps a client fix the request; drop echoed input (it may be huge) and pydantic's URLs.
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
        for error in jsonable_encoder(exc.errors())
    ]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this request's path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE and isinstance(route, APIRoute):
            methods |= route.methods or set()
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(request, exc.status, exc.title, exc.detail, headers=exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return problem_response(request, 422, "Invalid request", detail, errors=errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(
            exc.status_code, "HTTP error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route's methods when several routes share a path.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(request, exc.status_code, title, str(exc.detail), headers=headers)

    async def on_invalid_cursor(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(request, 422, "Invalid request", "cursor: not a cursor this API made")

    async def on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(getattr(exc, "orig", None), QueryCanceled):
            # The statement timeout: asking again the same way would take as long.
            logger.warning("statement timeout on %s %s", request.method, request.url.path)
            return problem_response(
                request,
                503,
                "Query took too long",
                "The query ran longer than this service allows and was stopped; ask for less "
                "(a shorter date range, a smaller distance, a window).",
            )
        # The database is restarting or unreachable: a temporary condition, not a bug, so 503 + Retry-After.
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            request,
            503,
            "Database unavailable",
            "The database did not answer; retry later.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not bad input: log it with its traceback and answer a problem document, not HTML.
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "Internal server error", "The error has been logged.")

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(InvalidCursor, on_invalid_cursor)
    app.add_exception_handler(OperationalError, on_database_unavailable)
    app.add_exception_handler(InterfaceError, on_database_unavailable)
    app.add_exception_handler(Exception, on_unexpected)


class ReadyReport(BaseModel):
    status: str
    checks: dict[str, str]


ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the dependency it checks does not answer."""


def install_health_routes(app: FastAPI, checks: Mapping[str, ReadinessCheck]) -> None:
    """``/health``: the process is alive. ``/ready``: every dependency answers (503 and which one if not)."""

    @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["operations"],
        summary="Readiness: every dependency answers",
        responses={503: {"description": "A dependency does not answer", "model": Problem, "content": _PROBLEM_CONTENT}},
        response_model=ReadyReport,
    )
    async def ready(request: Request) -> JSONResponse:
        failures: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
            except Exception as exc:  # noqa: BLE001 - reported in the answer, which is the point of /ready
                failures[name] = f"{type(exc).__name__}: {exc}"
        if failures:
            detail = "; ".join(f"{name}: {why}" for name, why in failures.items())
            return problem_response(request, 503, "Not ready", detail)
        return JSONResponse({"status": "ready", "checks": {name: "ok" for name in checks}})


def install_metrics(app: FastAPI) -> None:
    Instrumentator().instrument(app).expose(app, endpoint="/metrics", include_in_schema=False)


ShutdownHook = Callable[[], Awaitable[None]]
StartupHook = Callable[[], None]


# Allocations between two collections of the young generation, and young (then middle) collections
# between two of the next one (Python's defaults: 700, 10, 10).
GC_THRESHOLDS = (50_000, 50, 100)


def serve(app_factory: str, settings: ApiSettings) -> None:
    """Run an API under uvicorn. ``app_factory`` ("module:function") builds the app in each worker."""
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.http_host,
        port=settings.http_port,
        workers=settings.http_workers,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=settings.http_access_log,
    )


def create_api(
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    access: AccessControl,
    readiness_checks: Mapping[str, ReadinessCheck],
    max_body_bytes: int,
    cors_origins: Sequence[str] = (),
    on_shutdown: Sequence[ShutdownHook] = (),
    on_startup: Sequence[StartupHook] = (),
    state: Mapping[str, object] | None = None,
    extra_schemas: Sequence[type[BaseModel]] = (),
) -> FastAPI:
    """A FastAPI app with what every UdaConnect API has: problem details, /health, /ready, /metrics,
    a request body limit and CORS for the web front end. Every route of ``routers`` needs a bearer token
    that ``access`` accepts (the operations routes need none). Resources are closed by ``on_shutdown``;
    ``on_startup`` runs in the event loop before the first request (to start background work).
    ``extra_schemas``: models of alternative representations (GeoJSON) the OpenAPI document describes."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything built so far (modules, schemas, the app, its engine) lives as long as the process:
        # out of the collector's sight, so a full collection stops walking 100,000 objects to find no
        # garbage among them (it had paused a request for 50 ms every few requests).
        gc.freeze()
        # A page of 1,000 connections allocates ~100,000 objects that live as long as the request: at the
        # default threshold (700) the young generation is collected ~150 times a page, and survivors push
        # older collections; the older generations are collected less often in step. Measured on the
        # co-presence first page over HTTP: 2-3 ms less at the median, 4-5 ms less at p95.
        gc.set_threshold(*GC_THRESHOLDS)
        for start in on_startup:
            start()
        yield
        for hook in on_shutdown:
            await hook()

    app = FastAPI(title=title, version="1.0.0", description=description, lifespan=lifespan)
    # The adapters the routes' dependencies hand out (``request.app.state.<name>``).
    for name, value in (state or {}).items():
        setattr(app.state, name, value)
    app.state.access = access
    for router in routers:
        app.include_router(router, dependencies=[Depends(current_principal)], responses=problem_responses(401, 403))
    install_problem_handlers(app)
    install_health_routes(app, readiness_checks)
    install_metrics(app)
    instrument_app(app)
    register_schemas(app, extra_schemas)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Location", "Link", "Retry-After", "Content-Disposition"],
        )
    return app


class BodySizeLimit:
    """ASGI middleware: answer 413 to a request body larger than ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise StarletteHTTPException(413, f"request body larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        response = problem_response(
            Request(scope), 413, "Request body too large", f"request body larger than {self.max_bytes} bytes"
        )
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


_RESPONSE_DESCRIPTIONS = {
    400: "The request body cannot be parsed at all (for instance, bytes that are not UTF-8)",
    401: "No valid bearer token: missing, expired, badly signed, or for another issuer or audience",
    403: "The token is valid but may not do this (an attendee asking for someone else's data)",
    404: "Not found",
    413: "Request body too large",
    422: "Invalid request: the problem's `errors` say which field and why",
    429: "Too many writes for this token's subject; retry after `Retry-After` seconds",
    503: "The message broker is unavailable; nothing was accepted. Retry after `Retry-After` seconds",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem documents a route can answer.

    Documented as ``application/problem+json`` (what is sent); the ``Problem`` schema itself is registered
    by the ``/ready`` route, which every API has.
    """
    return {status: {"description": _RESPONSE_DESCRIPTIONS[status], "content": _PROBLEM_CONTENT} for status in statuses}


def broker_unavailable(reason: str) -> ProblemError:
    return ProblemError(
        503,
        "Write path unavailable",
        f"The message broker did not acknowledge the write ({reason}); retry later with the same Idempotency-Key.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def invalid_parameter(name: str, why: str) -> ProblemError:
    return ProblemError(422, "Invalid request", f"{name}: {why}")
