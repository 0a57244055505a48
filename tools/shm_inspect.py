"""Look inside a running engine's shared memory without touching it.

    python -m tools.shm_inspect              every live engine in /dev/shm
    python -m tools.shm_inspect --watch 1    refresh every second (Ctrl-C to stop)

Prints the worker table, ring occupancy, the client's admission figures and the busiest agents,
read from the control segment mapped read-only (engine/attach.py).
"""

from __future__ import annotations

import argparse
import sys
import time

from engine.attach import AttachedEngine, control_segments
from ipc.errors import LayoutMismatch


def inspect(name: str) -> str:
    try:
        engine = AttachedEngine(name)
    except LayoutMismatch as exc:
        return f"{name}: not a segment this version can read ({exc})"
    with engine:
        table, h = engine.table, engine.header
        assert table is not None
        client = table.client_row()
        lines = [f"{name}: {h['n_workers']} workers, {table.layout.n_agents} agents, {h['n_slots']} x "
                 f"{h['slot_bytes'] >> 10} KiB slots; client pid {client['pid']}: {client['inflight']} in flight, "
                 f"{client['queued']} queued, {client['slots_free']} slots free"]  # fmt: skip
        lines.append("  worker  pid      state       epoch restarts    tasks  errors  busy_s  sleeps  sub/comp queued")
        for row, (sub, comp) in zip(table.worker_rows(), engine.ring_occupancy(), strict=True):
            lines.append(f"  {row['id']:>6}  {row['pid']:<8} {row['state']:<11} {row['epoch']:>5} {row['restarts']:>8} "
                         f"{row['tasks']:>8} {row['errors']:>7} {row['busy_ns'] / 1e9:>7.2f} {row['sleeps']:>7}  "
                         f"{sub}/{comp}")  # fmt: skip
        busiest = sorted(enumerate(table.agent_rows()), key=lambda item: -item[1]["tasks"])[:10]
        lines.append("  busiest agents: " + ", ".join(f"#{i} {r['tasks']} tasks ({r['status']})" for i, r in busiest))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="refresh every SECONDS")
    args = parser.parse_args(argv)
    try:
        while True:
            names = control_segments()
            print("\n\n".join(inspect(n) for n in names) if names else "no engine segments in /dev/shm")
            if not args.watch:
                return 0
            time.sleep(args.watch)
            print("\033[2J\033[H", end="")  # clear the terminal
    except KeyboardInterrupt:  # Ctrl-C ends a watch: quietly, with the shell's usual status
        return 130


if __name__ == "__main__":
    sys.exit(main())
