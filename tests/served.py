"""Run a real ``engined serve`` on 127.0.0.1 with ports picked by the test (shared with perf/)."""

from __future__ import annotations

from perf.procs import Served, start_served, stop_served

__all__ = ["Served", "start_served", "stop_served"]
