"""One log format for every service, to stderr (collected by the runner).

``text`` (the default, for people reading a terminal): timestamp, level, logger, message. ``json`` (for
log collectors, set in the manifests): one JSON object a line with the same fields, plus the trace and
span id of the request or batch being handled when tracing is on, so a log line leads to its trace.
"""

import logging
from typing import Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class TraceContext(logging.Filter):
    """Adds the current span's ``trace_id`` and ``span_id`` (hex, as tracing back ends show them) to a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        return True


def json_formatter() -> logging.Formatter:
    formatter: Any = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
    return formatter  # type: ignore[no-any-return]


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(json_formatter())
        handler.addFilter(TraceContext())
    elif log_format == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
