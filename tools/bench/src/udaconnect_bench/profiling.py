"""Where the time goes in a service: py-spy samples the running process (no restart, no code change).

``--gil`` keeps only the samples of the thread holding the GIL, i.e. Python doing work: with a rate of
100 Hz over ``seconds``, samples / (100 x seconds) is the share of the time the process computes in Python.
Samples are summarised by package (``starlette``, ``sqlalchemy``, ``asyncio``...), by function (self time), and by
the project's own functions (inclusive time).
"""

import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

RATE_HZ = 100
PROJECT_PACKAGES = (
    "udaconnect_common",
    "person_api",
    "location_api",
    "connection_api",
    "ingest_consumer",
    "persistence_service",
)
# With --subprocesses, py-spy roots each stack in a frame naming the process and its command line: not code, and
# a machine path that has no place in a report.
_PROCESS_FRAME = re.compile(r'^process \d+:".*"')
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class Profile:
    service: str
    seconds: float
    samples: int
    by_package: list[tuple[str, float]]
    top_self: list[tuple[str, float]]
    top_project: list[tuple[str, float]]

    @property
    def python_busy_share(self) -> float:
        return self.samples / (RATE_HZ * self.seconds)


def _frame_parts(frame: str) -> tuple[str, str]:
    """``("Handle._run", "asyncio/events.py")`` from ``Handle._run (asyncio/events.py:80)``."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    return match.group("function"), match.group("file")


def package_of(file: str) -> str:
    """``asyncio`` for ``asyncio/events.py``, ``threading`` for ``threading.py``, ``frozen`` for ``<frozen os>``."""
    if file.startswith("<"):
        return "frozen" if "frozen" in file else file
    first = file.split("/", 1)[0]
    return first.removesuffix(".py") or "native"


def summarise(service: str, seconds: float, collapsed: Iterable[str], top: int = 10) -> Profile:
    """Summarise py-spy's raw (collapsed stack) output: ``frame;frame;...;leaf count`` per line."""
    packages: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    project: Counter[str] = Counter()
    total = 0
    for line in collapsed:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_parts(frame) for frame in stack.split(";") if not _PROCESS_FRAME.match(frame)]
        if not frames:
            # The GIL holder had no Python frame: native code (an extension) running with the GIL.
            frames = [("(native code)", "")]
        function, file = frames[-1]
        packages[package_of(file)] += count
        self_time[f"{function} ({file})"] += count
        for seen in {f"{fn} ({fl})" for fn, fl in frames if package_of(fl) in PROJECT_PACKAGES}:
            project[seen] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, count / total) for name, count in counter.most_common(top)] if total else []

    return Profile(service, seconds, total, shares(packages), shares(self_time), shares(project))


def record(pid: int, seconds: float, output: Path) -> "subprocess.Popen[bytes]":
    """Start py-spy on ``pid`` (and its subprocesses: uvicorn workers) for ``seconds``; wait with :func:`collect`."""
    py_spy = Path(sys.executable).parent / "py-spy"
    argv = [
        str(py_spy),
        "record",
        "--pid",
        str(pid),
        "--duration",
        f"{seconds:.0f}",
        "--rate",
        str(RATE_HZ),
        "--gil",
        "--nonblocking",
        "--subprocesses",
        "--format",
        "raw",
        "--output",
        str(output),
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def collect(service: str, seconds: float, process: "subprocess.Popen[bytes]", output: Path) -> Profile:
    log_text, _ = process.communicate()
    if process.returncode != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed on {service} (exit code {process.returncode}): {log_text.decode()[-1000:]}")
    with output.open(encoding="utf-8", errors="replace") as lines:
        return summarise(service, seconds, lines)


def record_many(
    pids: dict[str, int], seconds: float, directory: Path
) -> list[tuple[str, "subprocess.Popen[bytes]", Path]]:
    started = []
    for service, pid in pids.items():
        output = directory / f"profile-{service}.txt"
        started.append((service, record(pid, seconds, output), output))
    return started


def collect_many(seconds: float, started: Sequence[tuple[str, "subprocess.Popen[bytes]", Path]]) -> list[Profile]:
    return [collect(service, seconds, process, output) for service, process, output in started]
