"""Look inside a running engine's shared memory without touching it.

    python -m tools.shm_inspect              every live engine in /dev/shm
    python -m tools.shm_inspect --watch 1    refresh every second (Ctrl-C to stop)

Maps the control segment read-only straight from /dev/shm (no multiprocessing.shared_memory, so
no resource tracker that could unlink it on exit), checks magic and layout version, and prints
the worker table, ring occupancy and the busiest agents.
"""

from __future__ import annotations

import argparse
import mmap
import time
from pathlib import Path

import numpy as np

from engine.metrics import MetricsTable
from ipc.layout import CTL_MAGIC, HEADER_DTYPE, LAYOUT_VERSION, ControlLayout
from ipc.ring import SpscRing
from ipc.segment import SHM_DIR, engine_segments


def inspect(name: str) -> str:
    path = Path(SHM_DIR) / name
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        buf = memoryview(mapped)
        header = np.ndarray((), dtype=HEADER_DTYPE, buffer=buf)
        magic, version = int(header["magic"]), int(header["version"])
        if magic != CTL_MAGIC or version != LAYOUT_VERSION:
            del header
            buf.release()
            return f"{name}: not a v{LAYOUT_VERSION} control segment (magic {magic:#x}, version {version})"
        layout = ControlLayout(int(header["n_workers"]), int(header["n_agents"]), int(header["ring_capacity"]),
                               int(header["history_len"]))  # fmt: skip
        slots, slot_bytes = int(header["n_slots"]), int(header["slot_bytes"])
        del header
        table = MetricsTable(buf, layout)
        lines = [
            f"{name}: {layout.n_workers} workers, {layout.n_agents} agents, {slots} x {slot_bytes >> 10} KiB slots"
        ]
        lines.append("  worker  pid      state       epoch restarts    tasks  errors  busy_s  sleeps  sub/comp queued")
        for row in table.worker_rows():
            queued = []
            for offset in (layout.submission_ring_offset(row["id"]), layout.completion_ring_offset(row["id"])):
                ring = SpscRing(buf, offset, layout.ring_capacity, init=False)  # reads only: len() = tail - head
                queued.append(len(ring))
                ring.release()
            lines.append(f"  {row['id']:>6}  {row['pid']:<8} {row['state']:<11} {row['epoch']:>5} {row['restarts']:>8} "
                         f"{row['tasks']:>8} {row['errors']:>7} {row['busy_ns'] / 1e9:>7.2f} {row['sleeps']:>7}  "
                         f"{queued[0]}/{queued[1]}")  # fmt: skip
        busiest = sorted(enumerate(table.agent_rows()), key=lambda item: -item[1]["tasks"])[:10]
        lines.append("  busiest agents: " + ", ".join(f"#{i} {r['tasks']} tasks ({r['status']})" for i, r in busiest))
        table.release()
        buf.release()
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="refresh every SECONDS")
    args = parser.parse_args()
    while True:
        names = [n for n in engine_segments() if n.endswith("_ctl")]
        print("\n\n".join(inspect(n) for n in names) if names else f"no engine segments in {SHM_DIR}")
        if not args.watch:
            return
        time.sleep(args.watch)
        print("\033[2J\033[H", end="")  # clear the terminal


if __name__ == "__main__":
    main()
