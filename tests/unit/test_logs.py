"""The JSON log format: one object a line, and the trace it belongs to when there is one."""

import io
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from udaconnect_common.logs import TraceContext, configure_logging, json_formatter


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(TraceContext())
    logger = logging.getLogger(f"test-json-{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_a_line_inside_a_span_carries_its_trace_and_span_ids() -> None:
    stream = io.StringIO()
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        _logger(stream).warning("stored %d pings", 3)
    line = json.loads(stream.getvalue())
    context = span.get_span_context()
    assert line["message"] == "stored 3 pings"
    assert (line["level"], line["logger"]) == ("WARNING", _logger(stream).name)
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert "time" in line


def test_a_line_outside_any_span_has_no_trace() -> None:
    stream = io.StringIO()
    _logger(stream).info('a "quoted" message\nover two lines')
    line = json.loads(stream.getvalue())
    assert line["message"] == 'a "quoted" message\nover two lines'
    assert line["trace_id"] is None


def test_an_unknown_format_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        configure_logging("INFO", "xml")
