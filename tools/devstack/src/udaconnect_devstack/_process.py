"""Child-process plumbing shared by the PostgreSQL and Kafka helpers (private to this package)."""

import contextlib
import logging
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from udaconnect_devstack.errors import InfrastructureError

log = logging.getLogger(__name__)

_TAIL_BYTES = 6000


@dataclass(frozen=True)
class Account:
    """A local OS account to run a child process as (PostgreSQL refuses to run as root)."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    @classmethod
    def lookup(cls, name: str) -> "Account":
        try:
            entry = pwd.getpwnam(name)
        except KeyError as exc:
            raise InfrastructureError(
                f"OS user {name!r} does not exist; install the server package (scripts/bootstrap.sh) "
                "or run as a non-root user"
            ) from exc
        return cls(
            name=entry.pw_name,
            uid=entry.pw_uid,
            gid=entry.pw_gid,
            groups=tuple(os.getgrouplist(entry.pw_name, entry.pw_gid)),
        )

    def can_traverse(self, directory: Path) -> bool:
        """Whether this account may search (x bit) `directory`, judged from its mode bits.

        ACLs are not considered: they are rare on dev machines, and the server's own error would
        still show up in the log if one got in the way.
        """
        st = directory.stat()
        if self.uid == 0:
            return True
        if st.st_uid == self.uid:
            return bool(st.st_mode & 0o100)
        if st.st_gid in self.groups:
            return bool(st.st_mode & 0o010)
        return bool(st.st_mode & 0o001)


def log_tail(path: Path, max_bytes: int = _TAIL_BYTES) -> str:
    """Return the last `max_bytes` of a log file as text, for error messages."""
    if not path.exists():
        return f"(no log file at {path})"
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - max_bytes))
        data = fh.read()
    text = data.decode("utf-8", errors="replace")
    if size > max_bytes:
        # Drop the first, probably cut, line.
        text = "...\n" + text.split("\n", 1)[-1]
    return text.rstrip() or "(log is empty)"


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    cwd: Path,
    run_as: Account | None = None,
    env: Mapping[str, str] | None = None,
) -> "subprocess.Popen[bytes]":
    """Start a long-running child with stdout+stderr appended to `log_path`.

    `start_new_session=True` keeps a terminal's Ctrl-C (sent to the foreground process group) away
    from the child: its owner stops it explicitly and in order. The parent's copy of the log handle
    is closed as soon as the child has its own, so nothing leaks however the caller exits.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        log_file.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        log_file.flush()
        try:
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=None if env is None else dict(env),
                start_new_session=True,
                # Popen switches user itself (no runuser/su wrapper): a wrapper would sit between us
                # and the server and turn our shutdown signal into its own (su sends SIGTERM, then
                # SIGKILL after 2s), which is not the shutdown we asked for.
                user=None if run_as is None else run_as.uid,
                group=None if run_as is None else run_as.gid,
                extra_groups=None if run_as is None else list(run_as.groups),
            )
        except OSError as exc:
            raise InfrastructureError(f"could not start {argv[0]}: {exc}") from exc


def run_checked(
    argv: Sequence[str],
    *,
    what: str,
    cwd: Path,
    run_as: Account | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300.0,
) -> str:
    """Run a short command to completion and return its combined output; raise InfrastructureError on failure."""
    try:
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=None if env is None else dict(env),
            timeout=timeout,
            check=False,
            user=None if run_as is None else run_as.uid,
            group=None if run_as is None else run_as.gid,
            extra_groups=None if run_as is None else list(run_as.groups),
        )
    except OSError as exc:
        raise InfrastructureError(f"{what}: could not run {argv[0]}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise InfrastructureError(f"{what}: {' '.join(argv)} did not finish within {timeout:.0f}s") from exc
    output = result.stdout.decode("utf-8", errors="replace")
    if result.returncode != 0:
        raise InfrastructureError(f"{what} failed (exit code {result.returncode}): {' '.join(argv)}\n{output.rstrip()}")
    return output


def stop_process(proc: "subprocess.Popen[bytes]", *, name: str, graceful_signal: signal.Signals, timeout: float) -> int:
    """Ask `proc` to stop with `graceful_signal`; SIGKILL its whole process group after `timeout`.

    Returns the exit code. A process that already exited is simply reaped.
    """
    if proc.poll() is None:
        # ProcessLookupError: it exited between poll() and kill(); wait() below reaps it.
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, graceful_signal)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning(
                "%s (pid %d) did not stop within %.0fs after %s; killing it",
                name,
                proc.pid,
                timeout,
                graceful_signal.name,
            )
    return kill_process(proc)


def kill_process(proc: "subprocess.Popen[bytes]") -> int:
    """SIGKILL the process group led by `proc` (the server and any helpers it forked) and reap it."""
    if proc.poll() is None:
        # The child leads its own session/group (start_new_session), so its pid is the group id.
        # ProcessLookupError: the group is already gone; wait() reaps the leader.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait()


class ChildServer:
    """What the local servers share: a child process that can crash on purpose, restart and be a context.

    Subclasses implement ``start(timeout)`` and ``stop()`` and keep their child in ``_proc``.
    """

    _proc: "subprocess.Popen[bytes] | None" = None
    default_start_timeout: float = 60.0

    def start(self, timeout: float) -> None:
        raise NotImplementedError

    def stop(self) -> int | None:
        """Stop gracefully; the exit status, or None when it was not running."""
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (for chaos tests); the next start recovers."""
        proc = self._proc
        if proc is None:
            return
        kill_process(proc)
        self._proc = None

    def restart(self, timeout: float | None = None) -> None:
        self.stop()
        self.start(timeout=self.default_start_timeout if timeout is None else timeout)

    def __enter__(self) -> Self:
        self.start(timeout=self.default_start_timeout)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
