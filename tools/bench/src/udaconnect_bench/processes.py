"""Memory and CPU of the processes under test, read from /proc: peak RSS per service, CPU seconds per phase.

A service is its process and every descendant (uvicorn workers when ``HTTP_WORKERS`` > 1), summed: shared
pages count once per process, so the figure errs on the high side, which is the safe side for a limit.
"""

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_PROC = Path("/proc")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcStat:
    pid: int
    ppid: int
    rss_bytes: int
    # utime + stime, plus cutime + cstime: children this process has reaped are counted in their parent.
    cpu_seconds: float


def _read_stat(pid: int) -> ProcStat | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None  # it exited since the directory listing: nothing to count
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): state; ppid is field 4, utime..cstime 14-17, rss 24.
    ticks = sum(int(value) for value in fields[11:15])
    return ProcStat(pid=pid, ppid=int(fields[1]), rss_bytes=int(fields[21]) * _PAGE_SIZE, cpu_seconds=ticks / _TICKS)


def snapshot() -> dict[int, ProcStat]:
    stats: dict[int, ProcStat] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = _read_stat(int(entry.name))
            if stat is not None:
                stats[stat.pid] = stat
    return stats


def tree(stats: Mapping[int, ProcStat], root: int) -> list[ProcStat]:
    """``root`` and its descendants that are alive in ``stats``."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found: list[ProcStat] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in stats:
            found.append(stats[pid])
            pending.extend(children.get(pid, ()))
    return found


@dataclass(frozen=True, slots=True)
class GroupUsage:
    rss_bytes: int
    cpu_seconds: float
    processes: int


@dataclass(frozen=True, slots=True)
class Group:
    """A process to watch; ``descend``: with its descendants (the benchmark itself is watched alone, since the
    stack it starts are its children; the load generators it runs count once they are reaped)."""

    pid: int
    descend: bool = True


def usage(stats: Mapping[int, ProcStat], group: Group) -> GroupUsage:
    alone = [stats[group.pid]] if group.pid in stats else []
    members = tree(stats, group.pid) if group.descend else alone
    return GroupUsage(
        rss_bytes=sum(m.rss_bytes for m in members),
        cpu_seconds=sum(m.cpu_seconds for m in members),
        processes=len(members),
    )


@dataclass
class PhaseCpu:
    name: str
    seconds: float
    cpu_seconds: dict[str, float]


@dataclass
class ProcessSampler:
    """Samples every group's RSS in a thread; :meth:`phase` records the CPU each group used between two marks."""

    groups: Mapping[str, Group]
    interval_s: float = 0.25
    peak_rss: dict[str, int] = field(default_factory=dict)
    peak_processes: dict[str, int] = field(default_factory=dict)
    phases: list[PhaseCpu] = field(default_factory=list)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _mark: tuple[str, float, dict[str, float]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="process-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._close_phase()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> dict[str, GroupUsage]:
        stats = snapshot()
        current = {name: usage(stats, group) for name, group in self.groups.items()}
        with self._lock:
            self.samples += 1
            for name, used in current.items():
                self.peak_rss[name] = max(self.peak_rss.get(name, 0), used.rss_bytes)
                self.peak_processes[name] = max(self.peak_processes.get(name, 0), used.processes)
        return current

    def phase(self, name: str) -> None:
        """Close the current phase (if any) and start ``name``."""
        self._close_phase()
        current = self.sample()
        self._mark = (name, time.monotonic(), {group: used.cpu_seconds for group, used in current.items()})

    def _close_phase(self) -> None:
        if self._mark is None:
            return
        name, started, cpu_before = self._mark
        current = self.sample()
        self.phases.append(
            PhaseCpu(
                name=name,
                seconds=time.monotonic() - started,
                cpu_seconds={group: current[group].cpu_seconds - cpu_before[group] for group in self.groups},
            )
        )
        self._mark = None
