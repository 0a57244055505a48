"""Shared helpers for perf/ commands: the machine line, medians, targets table, JSON output."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu,
        "usable_cpus": len(os.sched_getaffinity(0)),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


@dataclass
class Figure:
    name: str
    value: float
    unit: str = ""
    target: str = ""  # e.g. ">= 0.9"
    note: str = ""

    def met(self) -> bool | None:
        if not self.target:
            return None
        op, _, bound = self.target.partition(" ")
        limit = float(bound)
        return self.value >= limit if op == ">=" else self.value <= limit


@dataclass
class Report:
    title: str
    figures: list[Figure] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str = "", target: str = "", note: str = "") -> None:
        self.figures.append(Figure(name, value, unit, target, note))
        self.print_figure(self.figures[-1])

    @staticmethod
    def print_figure(fig: Figure) -> None:
        met = fig.met()
        verdict = "" if met is None else ("  [met]" if met else "  [MISSED]")
        target = f"  (target {fig.target})" if fig.target else ""
        note = f"  -- {fig.note}" if fig.note else ""
        print(f"  {fig.name:<28} {fig.value:>12.3f} {fig.unit:<8}{target}{verdict}{note}", flush=True)

    def as_json(self) -> bytes:
        return orjson.dumps(
            {
                "title": self.title,
                "machine": machine(),
                "figures": {
                    f.name: {"value": f.value, "unit": f.unit, "target": f.target, "met": f.met(), "note": f.note}
                    for f in self.figures
                },
                **self.extra,
            },
            option=orjson.OPT_INDENT_2,
        )

    def write(self, path: str | None) -> None:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(self.as_json())
            print(f"wrote {path}")
