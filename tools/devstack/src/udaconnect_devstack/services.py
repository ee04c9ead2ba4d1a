"""UdaConnect's own services as local child processes, each with its log file, readiness check and restart."""

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from udaconnect_devstack._process import kill_process, log_tail, spawn, stop_process
from udaconnect_devstack.errors import InfrastructureError

log = logging.getLogger(__name__)


def venv_script(name: str) -> str:
    """A console script of this environment (services are installed in the same venv as this tool)."""
    return str(Path(sys.executable).parent / name)


def http_ready(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - our own localhost URL
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    return check


def grpc_ready(target: str) -> Callable[[], bool]:
    def check() -> bool:
        with grpc.insecure_channel(target) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(  # type: ignore[attr-defined]
                    health_pb2.HealthCheckRequest(service=""), timeout=1.0
                )
            except grpc.RpcError:
                return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    return check


def always_ready() -> bool:
    return True


@dataclass
class ServiceProcess:
    """One service: how to start it, how to know it is ready, its log."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    cwd: Path
    ready: Callable[[], bool] = always_ready
    stop_timeout: float = 20.0
    restarts: int = 0
    _proc: "subprocess.Popen[bytes] | None" = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def start(self, timeout: float = 60.0) -> None:
        environment = {**os.environ, **self.env}
        self._proc = spawn(self.argv, log_path=self.log_path, cwd=self.cwd, env=environment)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self._proc.poll() is not None:
                raise InfrastructureError(
                    f"{self.name} exited with code {self._proc.returncode} while starting; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise InfrastructureError(
                    f"{self.name} not ready within {timeout:.0f}s; log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.2)
        log.info("%s ready (pid %d)", self.name, self._proc.pid)

    def stop(self) -> int | None:
        """SIGTERM (graceful: in-flight work finishes), SIGKILL after the timeout."""
        if self._proc is None:
            return None
        return stop_process(self._proc, name=self.name, graceful_signal=signal.SIGTERM, timeout=self.stop_timeout)

    def kill(self) -> None:
        """SIGKILL, no goodbye: what a crash or an OOM kill looks like."""
        if self._proc is not None:
            kill_process(self._proc)
