"""One POST's trace through every hop: HTTP → Kafka → consumer → gRPC → SQL, on a stack of its own whose
services export their spans over OTLP/HTTP to a receiver in this test, which keeps them in memory."""

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.support import eventually
from udaconnect_devstack.stack import TOPIC_PERSONS, LocalStack, StackPorts

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    links: tuple[tuple[bytes, bytes], ...]


class Receiver:
    """An OTLP/HTTP trace endpoint that keeps what it is sent."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        receiver.spans.extend(
                            Span(
                                attributes.get("service.name", "?"),
                                span.name,
                                span.kind,
                                span.trace_id,
                                span.span_id,
                                span.parent_span_id,
                                tuple((link.trace_id, link.span_id) for link in span.links),
                            )
                            for span in scope_spans.spans
                        )
                answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def traced() -> Iterator[tuple[LocalStack, Receiver]]:
    receiver = Receiver()
    run_dir = Path(tempfile.mkdtemp(prefix="udaconnect-traced-"))
    run_dir.chmod(0o711)
    # Exported within a fifth of a second rather than the default five.
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "200", "LOG_FORMAT": "json"}
    services = ("person-api", "location-api", "connection-api", "ingest-consumer", "persistence-service")
    system = LocalStack(run_dir, StackPorts.free(), service_env={name: otel for name in services})
    try:
        system.start()
        yield system, receiver
    finally:
        system.stop()
        receiver.server.shutdown()
        shutil.rmtree(run_dir)


SERVER, CLIENT, PRODUCER, CONSUMER = (
    trace_pb2.Span.SPAN_KIND_SERVER,
    trace_pb2.Span.SPAN_KIND_CLIENT,
    trace_pb2.Span.SPAN_KIND_PRODUCER,
    trace_pb2.Span.SPAN_KIND_CONSUMER,
)


def test_one_post_is_followed_from_the_api_to_the_database(traced: tuple[LocalStack, Receiver]) -> None:
    stack, receiver = traced
    body = {"first_name": "Trace", "last_name": "Able", "company_name": "Spans"}
    with httpx.Client(base_url=stack.url("person-api"), headers=stack.organizer_headers(), timeout=30) as api:
        posted = api.post("/api/persons", json=body)
        assert posted.status_code == 202
        eventually(lambda: api.get(f"/api/persons/{posted.json()['id']}").status_code == 200 or None)

    def find(service: str, kind: int, name_part: str, **where: bytes) -> Span | None:
        for span in receiver.spans:
            matches = all(getattr(span, field) == value for field, value in where.items())
            if span.service == service and span.kind == kind and name_part in span.name and matches:
                return span
        return None

    # The API: its server span, and the Kafka publish inside it.
    request = eventually(lambda: find("person-api", SERVER, "POST /api/persons"))
    publish = eventually(lambda: find("person-api", PRODUCER, f"{TOPIC_PERSONS} publish", trace_id=request.trace_id))
    assert publish.parent_span_id == request.span_id
    # The consumer's batch span, linked to that publish through the message's headers.
    batch = eventually(
        lambda: next(
            (
                span
                for span in receiver.spans
                if span.service == "ingest-consumer"
                and span.kind == CONSUMER
                and (publish.trace_id, publish.span_id) in span.links
            ),
            None,
        )
    )
    assert batch.name == f"{TOPIC_PERSONS} process"
    # The gRPC call it makes, the server side of that call, and the SQL the server runs.
    call = eventually(lambda: find("ingest-consumer", CLIENT, "SavePersons", parent_span_id=batch.span_id))
    served = eventually(lambda: find("persistence-service", SERVER, "SavePersons", parent_span_id=call.span_id))
    assert served.trace_id == batch.trace_id == call.trace_id
    sql = eventually(
        lambda: (
            [
                span
                for span in receiver.spans
                if span.service == "persistence-service" and span.trace_id == served.trace_id and span.kind == CLIENT
            ]
            or None
        )
    )
    assert any("INSERT" in span.name for span in sql), [span.name for span in sql]
    # The health probes the stack polls are not traced.
    assert not any("/health" in span.name for span in receiver.spans)


def test_a_log_line_names_the_trace_it_was_written_in(traced: tuple[LocalStack, Receiver]) -> None:
    stack, receiver = traced
    with httpx.Client(base_url=stack.url("person-api"), headers=stack.organizer_headers(), timeout=30) as api:
        person_id = api.post(
            "/api/persons", json={"first_name": "Log", "last_name": "Line", "company_name": "C"}
        ).json()["id"]
        eventually(lambda: api.get(f"/api/persons/{person_id}").status_code == 200 or None)
        assert api.delete(f"/api/persons/{person_id}").status_code == 202
        eventually(lambda: api.get(f"/api/persons/{person_id}").status_code == 404 or None)
    log_file = Path(stack.logs_dir) / "ingest-consumer.log"

    def deletion_line() -> dict[str, str] | None:
        for raw in log_file.read_text(errors="replace").splitlines():
            if raw.startswith("{") and "deleted 1 person" in raw:
                line: dict[str, str] = json.loads(raw)
                return line
        return None

    line = eventually(deletion_line)
    assert line["level"] == "INFO"
    assert line["logger"] == "ingest_consumer.processor"
    # The consumer's span for that deletion batch is in the same trace.
    assert eventually(
        lambda: next(
            (
                span
                for span in receiver.spans
                if span.service == "ingest-consumer"
                and span.trace_id.hex() == line["trace_id"]
                and "person-deletions" in span.name
            ),
            None,
        )
    )
