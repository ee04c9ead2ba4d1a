"""The issue's speed targets and the one line per target a script reads: ``TARGET name: measured (goal goal) PASS``."""

from dataclasses import dataclass
from enum import Enum


class Better(Enum):
    HIGHER = ">="
    LOWER = "<="


def format_value(value: float, unit: str) -> str:
    """``1,234 pings/s``, ``35.2x``, ``48.1 ms``: thousands separators, few decimals; ``x`` and ``%`` glued on."""
    if abs(value) >= 100:
        number = f"{value:,.0f}"
    elif abs(value) >= 10:
        number = f"{value:.1f}"
    else:
        number = f"{value:.2f}"
    return f"{number}{unit}" if unit in ("x", "%") else f"{number} {unit}"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: float
    goal: float
    better: Better
    unit: str
    # What was measured, in words, for the report (e.g. "person 17, 2026-06-02, 84 pings").
    what: str = ""
    # The measurement is a bound, not a value (e.g. the query hit the timeout): "<" or ">" before the figure.
    bound: str = ""

    @property
    def passed(self) -> bool:
        if self.better is Better.HIGHER:
            # A lower bound (">") that reaches the goal is a pass; an upper bound ("<") proves nothing more.
            return self.measured >= self.goal and self.bound != "<"
        return self.measured <= self.goal and self.bound != ">"

    @property
    def outcome(self) -> str:
        return "PASS" if self.passed else "MISS"

    @property
    def measured_text(self) -> str:
        return self.bound + format_value(self.measured, self.unit)

    @property
    def goal_text(self) -> str:
        return f"{self.better.value} {format_value(self.goal, self.unit)}"

    def line(self) -> str:
        return f"TARGET {self.name}: {self.measured_text} (goal {self.goal_text}) {self.outcome}"
