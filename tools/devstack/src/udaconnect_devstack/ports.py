"""Port helpers for running infrastructure on loopback without clashing with other runs."""

import socket
import time
from contextlib import ExitStack

from udaconnect_devstack.errors import InfrastructureError

_LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now.

    The kernel picks it (bind to port 0); someone else may grab it before the caller binds, which is
    acceptable for local runs and tests, and far less likely than with a fixed port.
    """
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Return `count` distinct free TCP ports on 127.0.0.1.

    All sockets stay bound until every port is picked, so the kernel cannot hand out the same port
    twice (two successive `free_port()` calls may).
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    with ExitStack() as stack:
        ports: list[int] = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((_LOOPBACK, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def is_port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Return True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        # Refused / unreachable / timed out all mean "not (yet) listening"; that is the answer.
        return False


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Block until host:port accepts TCP connections; raise InfrastructureError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not is_port_open(host, port):
        if time.monotonic() >= deadline:
            raise InfrastructureError(f"nothing is listening on {host}:{port} after {timeout:.1f}s")
        time.sleep(0.1)


def require_free_port(host: str, port: int, what: str) -> None:
    """Fail fast, and clearly, when something already listens on host:port.

    A server started on a taken port dies on bind, but until then a readiness probe could talk to
    the other listener; this check turns the common case (a leftover `make up`) into a clear error.
    """
    if is_port_open(host, port):
        raise InfrastructureError(
            f"cannot start {what}: {host}:{port} is already in use (a server left running by an "
            "earlier run? stop it or choose another port)"
        )
