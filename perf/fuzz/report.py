"""SurfaceReport: how many cases one surface was sent, what came back, and the failures."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_FAILURES_KEPT = 25


def excluded(label: str, patterns: tuple[str, ...]) -> bool:
    """``--exclude``: a pattern leaves out the operations it starts, or just one when it ends with ``$``."""
    return any(label == p[:-1] if p.endswith("$") else label.startswith(p) for p in patterns)


@dataclass
class SurfaceReport:
    surface: str
    cases: int = 0
    operations: int = 0  # routes, RPCs or message kinds exercised
    outcomes: Counter[str] = field(default_factory=Counter)  # e.g. "400", "INVALID_ARGUMENT", "closed 1009"
    failures: list[str] = field(default_factory=list)  # the first few, each enough to reproduce
    failure_count: int = 0
    hung: int = 0
    healthy_after: bool | None = None
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def record(self, outcome: str) -> None:
        self.cases += 1
        self.outcomes[outcome] += 1

    def fail(self, description: str) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append(description)

    def finish(self, healthy: bool) -> SurfaceReport:
        self.healthy_after = healthy
        self.seconds = round(time.monotonic() - self.started, 2)
        return self

    @property
    def ok(self) -> bool:
        return self.failure_count == 0 and self.hung == 0 and bool(self.healthy_after)

    def as_dict(self) -> dict[str, Any]:
        return {
            "surface": self.surface,
            "cases": self.cases,
            "operations": self.operations,
            "failures": self.failure_count,
            "hung": self.hung,
            "healthy_after": self.healthy_after,
            "seconds": self.seconds,
            "outcomes": dict(sorted(self.outcomes.items())),
            "first_failures": self.failures,
        }

    def summary(self) -> str:
        top = ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common(8))
        verdict = "ok" if self.ok else "FAILED"
        return (
            f"{self.surface:<10} {self.cases:>7} cases over {self.operations:>3} operations in "
            f"{self.seconds:>6.1f} s: {self.failure_count} failures, {self.hung} hung, "
            f"healthy after: {self.healthy_after} [{verdict}]  ({top})"
        )
