"""``python -m perf soak`` for 30 s, with looser bounds than the 10-minute run's.

Exact as in the long run: descriptors do not grow under load and are back to idle after it, the
engine's /dev/shm segments never change, every request is answered, no process restarts, the engine
stops cleanly. Looser, and why: after a 10 s warm-up a Python process is still filling its caches
and arenas (the frontend grew ~1 % in one 15 s window of a 1-minute run, then stayed flat over ten
minutes), so RSS may grow 5 % here, which still catches a leak of a few MiB in 10 s; and the p99 of
a 10 s window is the 8th-slowest of ~800 requests on a shared 2-core box, so the last window may be
up to three times the first (a process that degrades keeps getting slower, and fails that too).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hdrh", reason="the perf extra (hdrhistogram) is not installed")

from perf.soak.cli import soak
from perf.soak.judge import Bounds

pytestmark = pytest.mark.multiprocess
ROOT = Path(__file__).resolve().parents[2]


def test_a_short_soak(tmp_path: Path) -> None:
    bounds = Bounds(warmup_s=10, window_s=10, rss_growth_percent=5.0, p99_slack_percent=200.0)
    report, measured = soak(tmp_path, seconds=30, rate=80, bounds=bounds, every_s=1.0)
    print(report.summary())
    failed = [f"{c.name}: {c.detail}" for c in report.failures()]
    assert not failed, "\n".join(failed)
    assert len(measured["samples"]) >= 20
    assert set(report.figures["rss"]) >= {"engined", "sv-frontend", "sv-worker-0", "sv-worker-1"}
    assert measured["load"]["ok"] >= 2000


def test_the_command_checks_its_windows_fit() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perf", "soak", "--minutes", "1", "--window", "60"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "too short" in done.stderr
