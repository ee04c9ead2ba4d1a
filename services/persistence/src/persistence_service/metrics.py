"""The persistence service's Prometheus metrics: every unary call by method and status code, and its duration.

Named as the usual gRPC server metrics (``grpc_server_handled_total``, ``grpc_server_handling_seconds``), so
existing dashboards and alerts for gRPC servers work on them. The consumer times the same calls from its
side (``ingest_persistence_call_seconds``); the difference is the network and the consumer's own queueing.
"""

import time
from collections.abc import Callable
from typing import Any

import grpc
from prometheus_client import Counter, Histogram

HANDLED = Counter(
    "grpc_server_handled_total",
    "Calls completed on the server, by status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from the call's arrival to its response, whatever its status",
    ["grpc_service", "grpc_method"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
)


def split_method(full_method: str) -> tuple[str, str]:
    """``/udaconnect.v1.PersistenceService/SaveLocations`` -> its service and its method."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service, method


class MetricsInterceptor(grpc.ServerInterceptor):
    """Counts and times unary calls. Streaming calls (only server reflection, used by people with a CLI) pass
    through uncounted: a stream's duration is how long someone kept it open, which measures nothing of ours."""

    def intercept_service(
        self,
        # Quoted: grpc's RpcMethodHandler is generic in its stubs only.
        continuation: Callable[[grpc.HandlerCallDetails], "grpc.RpcMethodHandler[Any, Any] | None"],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> "grpc.RpcMethodHandler[Any, Any] | None":
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        service, method = split_method(handler_call_details.method)
        behaviour: Callable[[Any, grpc.ServicerContext], Any] = handler.unary_unary
        seconds = HANDLING_SECONDS.labels(service, method)

        def counted(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            # context.abort() raises after setting the code; any other exception is grpc's UNKNOWN.
            failed = grpc.StatusCode.UNKNOWN
            try:
                response = behaviour(request, context)
                failed = grpc.StatusCode.OK
                return response
            finally:
                code = context.code() or failed  # type: ignore[attr-defined]  # in grpc, not its stubs
                HANDLED.labels(service, method, code.name).inc()
                seconds.observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            counted,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
