"""``python -m perf chaos`` at its smallest: every phase, on one real ``engined serve`` (then its successors).

The long run (a minute of worker kills at 150/s) is the perf command's; here the same code runs a few
seconds of each phase, with the same checks: worker kills under a mixed load (0 hung, only the tasks
of the killed workers fail, each worker back in under a second, file jobs byte-identical, idle after),
the frontend killed under load (ports back within 2 s, the running job interrupted), the supervisor
killed (children exit by themselves, the next start reclaims the shared memory and lists the job
interrupted), a full loop-mounted disk (root only) and vanished sources. About 45 s.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hdrh", reason="the perf extra (hdrhistogram) is not installed")

from perf.chaos import cli, workers
from perf.chaos.load import LoadPlan

pytestmark = pytest.mark.multiprocess
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd tool checks the file jobs' output")
def test_every_phase_passes(tmp_path: Path) -> None:
    plan = workers.WorkerPlan(
        load=LoadPlan(rate=60, seconds=6, timeout_s=10, file_jobs=0.1, job_bytes=1 << 20),
        kill_every_s=1.5,
        verified_bytes=4 << 20,
    )
    # the frontend is killed 4-6.5 s in (once its job is caught running); clients may see errors for at most 5 s
    # (ports back, one reconnect), then at least 2 clean seconds: 12 s leaves room for both
    reports = cli.run_phases(tmp_path, list(cli.PHASES), plan, frontend_seconds=12)
    for report in reports:
        print(report.summary())
    assert [r.phase for r in reports] == [
        "worker kills under load",
        "frontend SIGKILL under load",
        "supervisor SIGKILL",
        "full disk and vanished source",
        "engine logs",
    ]
    failed = [f"{r.phase}: {c.name}: {c.detail}" for r in reports for c in r.failures()]
    assert not failed, "\n".join(failed)
    kills = reports[0].figures["kills"]
    assert kills["kills"] >= 2 and kills["back_ms_max"] < 1000
    assert reports[0].figures["verified_jobs"]["identical"] >= 1
    front = reports[1].figures["kill"]
    assert front["http_s"] < 2 and front["grpc_answers_s"] < 2
    cases = reports[3].figures["cases"]
    assert {"source deleted while its job runs", "source deleted while its job waits"} <= set(cases)


def test_the_command_refuses_unknown_phases() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perf", "chaos", "--phases", "workers,meteor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "unknown phase(s): meteor" in done.stderr
