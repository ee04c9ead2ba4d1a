"""OpenTelemetry tracing across the write path: HTTP → Kafka → consumer → gRPC → SQL.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, the
standard OpenTelemetry variables: then each service exports its spans over OTLP/HTTP. Without them the API's
default tracer records nothing and costs next to nothing.

The trace context crosses Kafka in each message's headers (W3C ``traceparent``). A consumer stores a batch
of many messages at once, so its span is the batch's, with a *link* to each message's producer span (the
OpenTelemetry messaging convention); gRPC and SQL spans are children of it.
"""

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

tracer = trace.get_tracer("udaconnect")

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_enabled() -> bool:
    return any(os.environ.get(name) for name in _ENDPOINT_VARIABLES)


def configure_tracing(service_name: str, exporter: SpanExporter | None = None) -> bool:
    """Install a tracer provider exporting over OTLP when configured (or to ``exporter``, in tests);
    whether tracing is on."""
    if exporter is None:
        if not tracing_enabled():
            return False
        # Imported only when used: the exporter pulls in an HTTP client.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True


def message_headers() -> list[tuple[str, bytes]]:
    """The current trace context as Kafka headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(name, value.encode()) for name, value in carrier.items()]


def _context_of(headers: Sequence[tuple[str, bytes | None]] | None) -> trace.SpanContext | None:
    carrier = {name: value.decode(errors="replace") for name, value in headers or () if value is not None}
    span_context = trace.get_current_span(propagate.extract(carrier)).get_span_context()
    return span_context if span_context.is_valid else None


@contextmanager
def consumer_batch_span(topic: str, headers: Iterable[Sequence[tuple[str, bytes | None]] | None]) -> Iterator[Any]:
    """A span for storing one batch of ``topic``, linked to the producer span of each of its messages."""
    links = [trace.Link(context) for context in map(_context_of, headers) if context is not None]
    with tracer.start_as_current_span(
        f"{topic} process",
        kind=trace.SpanKind.CONSUMER,
        links=links,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
    ) as span:
        yield span


def instrument_grpc_server() -> None:
    """Server spans for every RPC, children of the caller's span (context from the gRPC metadata)."""
    if trace_provider_installed():
        from opentelemetry.instrumentation.grpc import GrpcInstrumentorServer

        GrpcInstrumentorServer().instrument()  # type: ignore[no-untyped-call]


def instrument_grpc_client() -> None:
    if trace_provider_installed():
        from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient

        GrpcInstrumentorClient().instrument()  # type: ignore[no-untyped-call]


def instrument_engine(engine: Any) -> None:
    """A span per SQL statement of ``engine`` (a sync Engine; an AsyncEngine's ``sync_engine``)."""
    if trace_provider_installed():
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # Its declared range ends before SQLAlchemy 2.1, but all it uses is the engine's cursor events, which
        # 2.1 keeps: the tracing test sees its spans.
        SQLAlchemyInstrumentor().instrument(engine=getattr(engine, "sync_engine", engine), skip_dep_check=True)


def instrument_app(app: Any) -> None:
    """Server spans for the API's routes (not for the probes and /metrics, which would drown them)."""
    if trace_provider_installed():
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready,metrics")


def trace_provider_installed() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)
