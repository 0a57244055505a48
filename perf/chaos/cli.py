"""``python -m perf chaos [--seconds 60] [--kill-every 3] [--rate 150] [--phases ...] [--json out.json]``

Faults under load against a real ``engined serve`` on loopback (2 workers, a job root in a temporary
directory), in phases that each print their checks:

  workers     a worker SIGKILLed every --kill-every s for --seconds while the mixed load runs
  frontend    the frontend SIGKILLed under load: both ports answer again within 2 s
  supervisor  the supervisor SIGKILLed with a file job running: every child exits by itself; the next
              ``engined serve`` on the same data directory reclaims the shared memory and lists the job
              failed "interrupted"
  disk        a full disk (a loop-mounted ext4 as the destination; root only) and a vanished source
              fail their jobs cleanly, leaving no output and no temporary file

Exit 0 when every check passed, 1 otherwise; the engine's log must hold no traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from perf.chaos import disk, frontend, supervisor, workers
from perf.chaos.load import LoadPlan
from perf.chaos.report import PhaseReport
from perf.procs import Served, start_served, stop_served
from perf.report import machine

PHASES = ("workers", "frontend", "supervisor", "disk")


def engine_env(root: Path, **extra: str) -> dict[str, Any]:  # str values; Any: it is spread into **env
    """The chaos engine: a job root, slots enough for the load and two file jobs at once."""
    return {"SIGMAVAULT_JOB_ROOTS": str(root), "SIGMAVAULT_SLOTS": "128", "SIGMAVAULT_SHUTDOWN_GRACE": "5", **extra}


def start_engine(workdir: Path, root: Path, **extra: str) -> Served:
    workdir.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    return start_served(workdir, 60, **engine_env(root, **extra))


def run_phases(
    workdir: Path, phases: list[str], plan: workers.WorkerPlan, frontend_seconds: float, say: Any = print
) -> list[PhaseReport]:
    """Every phase asked for, on one engine (the supervisor phase replaces it with the next start)."""
    root = workdir / "files"
    served = start_engine(workdir / "engine-1", root)
    reports: list[PhaseReport] = []
    logs: list[Served] = [served]
    try:
        if "workers" in phases:
            reports.append(workers.run(served, root, plan))
            say(reports[-1].summary())
        if "frontend" in phases:
            reports.append(frontend.run(served, root, frontend.FrontendPlan(load=plan.load, seconds=frontend_seconds)))
            say(reports[-1].summary())
        if "supervisor" in phases:
            data_dir = str(served.data_dir)  # the next starts on the same data directory

            def start_next() -> Served:
                logs.append(start_engine(workdir / f"engine-{len(logs) + 1}", root, SIGMAVAULT_DATA_DIR=data_dir))
                return logs[-1]

            report, served = supervisor.run(served, root, start_next)
            reports.append(report)
            say(reports[-1].summary())
        if "disk" in phases:
            reports.append(disk.run(served, root, workdir))
            say(reports[-1].summary())
    finally:
        code = stop_served(served) if served.proc.poll() is None else 0
    tracebacks = sum(s.output().count("Traceback") for s in logs)
    logs_report = PhaseReport("engine logs")
    logs_report.check(
        "clean stop, no traceback",
        code == 0 and tracebacks == 0,
        f"the last engine stopped with {code}; {tracebacks} tracebacks in the logs of {len(logs)} starts",
    )
    say(logs_report.summary())
    return [*reports, logs_report]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="worker kills: how long (default 60)")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between worker kills (default 3)")
    parser.add_argument("--rate", type=float, default=150.0, help="load: arrivals per second (default 150)")
    parser.add_argument("--timeout", type=float, default=10.0, help="each request's deadline, s (default 10)")
    parser.add_argument("--frontend-seconds", type=float, default=12.0, help="frontend phase's load (default 12)")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated: {', '.join(PHASES)}")
    parser.add_argument("--json", type=Path, help="write the reports here")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if unknown := sorted(set(phases) - set(PHASES)):
        parser.error(f"unknown phase(s): {', '.join(unknown)}")
    plan = workers.WorkerPlan(
        load=LoadPlan(rate=args.rate, seconds=args.seconds, timeout_s=args.timeout), kill_every_s=args.kill_every
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sv-chaos-") as tmp:
        reports = run_phases(Path(tmp), phases, plan, args.frontend_seconds)
    ok = all(r.ok for r in reports)
    print(f"perf chaos: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s")
    if args.json:
        doc = {"tool": "perf chaos", "machine": machine(), "ok": ok, "reports": [r.as_dict() for r in reports]}
        args.json.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        print(f"wrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
