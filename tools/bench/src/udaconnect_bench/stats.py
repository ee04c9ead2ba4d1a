"""Percentiles and latency summaries: pure functions, unit-tested."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between the closest ranks (NumPy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be within [0, 100], got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    below = math.floor(position)
    above = math.ceil(position)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass(frozen=True, slots=True)
class Summary:
    """Latencies (or any sample) in one unit. ``censored``: samples stopped at a timeout, counted at the timeout,
    so the percentiles they reach are lower bounds."""

    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    maximum: float
    censored: int = 0

    @classmethod
    def of(cls, values: Sequence[float], censored: int = 0) -> "Summary":
        return cls(
            n=len(values),
            p50=percentile(values, 50),
            p95=percentile(values, 95),
            p99=percentile(values, 99),
            mean=sum(values) / len(values),
            maximum=max(values),
            censored=censored,
        )

    def is_lower_bound(self, q: float) -> bool:
        """Whether the ``q``-th percentile reaches into the censored (timed-out) samples."""
        if self.censored == 0:
            return False
        return (self.n - 1) * q / 100.0 > self.n - 1 - self.censored


def rate(count: float, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"a rate needs a positive duration, got {seconds}")
    return count / seconds
