"""``engined top``: a live terminal view of a running engine's workers and agents.

Reads the shared tables and rings straight from the control segment (tools/engine_view.py), never
the engine's ports: it works when the frontend is down and costs the engine nothing. Rates are the
difference between two readings a refresh apart. Keys: ``q`` quits (Ctrl-C too), ``s`` cycles the
sort order.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import time
import tty
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from engine.core.attach import AttachedEngine
from ipc.segment import pid_alive
from tools.engine_view import Rates, Reading, client_is_live, rates, take

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

STYLE = {
    # agents
    "idle": "green",
    "busy": "bold cyan",
    "error": "bold red",
    "restarting": "bold yellow",
    "draining": "magenta",
    "drained": "dim magenta",
    "unknown": "dim",
    # workers
    "ready": "green",
    "starting": "yellow",
    "stopped": "red",
}

# sort name -> (title, key on (agent row, agent rates), descending)
SORTS: dict[str, tuple[str, Callable[[dict[str, Any], dict[str, float]], float], bool]] = {
    "rate": ("tasks/s", lambda row, r: r["tasks_per_s"], True),
    "mbs": ("MB/s in", lambda row, r: r["in_mb_per_s"], True),
    "latency": ("latency", lambda row, r: r["latency_ns"], True),
    "errors": ("errors", lambda row, r: row["errors"], True),
    "id": ("agent id", lambda row, r: row["id"], False),
}
CHROME_LINES = 14  # header, blank lines, table titles, headers and rules, footer: what is not a row


def human(value: float) -> str:
    """1234 -> '1.2k': four characters for a column of rates."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}"


def duration(ns: float) -> str:
    if ns <= 0:
        return "-"
    if ns < 1e6:
        return f"{ns / 1e3:.0f} µs"
    if ns < 1e8:
        return f"{ns / 1e6:.1f} ms"
    if ns < 1e9:
        return f"{ns / 1e6:.0f} ms"
    return f"{ns / 1e9:.1f} s"


def agent_status(row: dict[str, Any]) -> str:
    """As agent.status events say it: a drained agent is draining while tasks are still in flight."""
    if row["drain"]:
        return "draining" if row["inflight"] else "drained"
    return str(row["status"])


def _client_line(cur: Reading, r: Rates) -> Text:
    c = cur.client
    if not client_is_live(cur):
        if not c["pid"]:
            return Text(
                "client: none has written its figures (an embedded engine's caller does not refresh them)", style="dim"
            )
        age = (cur.taken_ns - c["updated_ns"]) / 1e9
        return Text(
            f"client pid {c['pid']}: not refreshed for {age:.1f} s (frontend restarting or stopped?)", style="yellow"
        )
    line = Text(f"client pid {c['pid']}: ")
    line.append(f"{c['inflight']} in flight", style="bold")
    line.append(
        f", {c['queued']} queued, slots free {c['slots_free']}/{cur.header['n_slots']}, "
        f"admitted {c['admitted']} ({human(r.admitted_per_s)}/s), "
    )
    rejected = c["rejected_queue_full"] + c["rejected_no_slot"]
    line.append(
        f"rejected {rejected} (queue full {c['rejected_queue_full']}, no slot {c['rejected_no_slot']})",
        style="bold red" if rejected else "",
    )
    line.append(f", lost to dead workers {c['workers_lost_tasks']}")
    if c["oldest_req_id"]:
        age = cur.taken_ns - c["oldest_since_ns"]
        line.append(
            f"; oldest in flight #{c['oldest_req_id']} (agent {c['oldest_agent']}, worker "
            f"{c['oldest_worker']}) ≥ {duration(age) if age > 0 else '0 ms'}"
        )
    return line


def _header(cur: Reading, r: Rates, note: str) -> Group:
    h = cur.header
    up = max(0.0, time.time() - h["created_ns"] / 1e9)
    title = Text("engined top", style="bold")
    title.append(f"  {note}")
    shape = Text(
        f"up {up / 60:.0f} min · {h['n_workers']} workers · {len(cur.agents)} agents · {h['n_slots']} x "
        f"{h['slot_bytes'] >> 10} KiB slots · rings of {h['ring_capacity']}"
    )
    totals = Text(
        f"{human(r.total('tasks_per_s'))} tasks/s · {r.total('in_mb_per_s'):.1f} MB/s in · "
        f"{r.total('out_mb_per_s'):.1f} MB/s out",
        style="bold",
    )
    errors = r.total("errors_per_s")
    if errors:
        totals.append(f" · {human(errors)} errors/s", style="bold red")
    return Group(title, shape, totals, _client_line(cur, r))


def _table(title: str, columns: tuple[str, ...], left: tuple[str, ...]) -> Table:
    table = Table(
        title=title, title_justify="left", title_style="bold", box=None, header_style="bold underline", pad_edge=False
    )
    for name in columns:
        table.add_column(name, justify="left" if name in left else "right", no_wrap=True)
    return table


def _workers(cur: Reading, r: Rates) -> Table:
    table = _table(
        "workers",
        (
            "worker",
            "pid",
            "state",
            "cpu",
            "node",
            "restarts",
            "tasks/s",
            "busy",
            "errors",
            "sub queue",
            "comp queue",
            "heartbeat",
        ),
        ("state",),
    )
    for w, wr, (sub, comp) in zip(cur.workers, r.workers, cur.rings, strict=True):
        beat = cur.taken_ns - w["heartbeat_ns"] if w["heartbeat_ns"] else 0
        table.add_row(
            str(w["id"]),
            str(w["pid"]),
            Text(w["state"], style=STYLE.get(w["state"], "")),
            "-" if w["cpu"] < 0 else str(w["cpu"]),
            "-" if w["node"] < 0 else str(w["node"]),
            Text(str(w["restarts"]), style="yellow" if w["restarts"] else ""),
            human(wr["tasks_per_s"]),
            f"{wr['busy_percent']:.0f} %",
            str(w["errors"]),
            str(sub.occupancy),
            str(comp.occupancy),
            duration(beat) if beat else "-",
        )
    return table


def _agents(cur: Reading, r: Rates, sort: str, limit: int | None) -> Group:
    title, key, descending = SORTS[sort]
    order = sorted(range(len(cur.agents)), key=lambda i: key(cur.agents[i], r.agents[i]), reverse=descending)
    shown = order if limit is None else order[: max(1, limit)]
    columns = (
        "agent",
        "worker",
        "status",
        "tasks/s",
        "MB/s in",
        "MB/s out",
        "latency",
        "max",
        "tasks",
        "errors",
        "in flight",
        "last",
    )
    table = _table(f"agents (by {title})", columns, ("status", "last"))
    for i in shown:
        row, ar = cur.agents[i], r.agents[i]
        status = agent_status(row)
        table.add_row(
            str(i),
            str(row["worker"]),
            Text(status, style=STYLE.get(status, "")),
            human(ar["tasks_per_s"]),
            f"{ar['in_mb_per_s']:.1f}",
            f"{ar['out_mb_per_s']:.1f}",
            duration(ar["latency_ns"]),
            duration(row["latency_ns_max"]),
            str(row["tasks"]),
            Text(str(row["errors"]), style="red" if ar["errors_per_s"] else ""),
            str(row["inflight"]),
            Text(row["last_status"], style="" if row["last_status"] == "ok" else "red"),
        )
    parts: list[Any] = [table]
    if len(shown) < len(order):
        parts.append(Text(f"… {len(order) - len(shown)} more agents (a taller terminal shows them)", style="dim"))
    return Group(*parts)


def render(
    prev: Reading | None,
    cur: Reading,
    *,
    sort: str = "rate",
    note: str = "",
    height: int | None = None,
    interval: float = 1.0,
) -> Group:
    """One screen. ``height``: the terminal's rows (the agents list is cut to fit; None shows all)."""
    r = rates(prev, cur)
    limit = None if height is None else height - CHROME_LINES - len(cur.workers)
    footer = Text(
        f"q quit · s sort ({SORTS[sort][0]}) · refresh {interval:g} s · read from /dev/shm/{cur.name}", style="dim"
    )
    return Group(_header(cur, r, note), Text(""), _workers(cur, r), Text(""), _agents(cur, r, sort, limit), footer)


@contextlib.contextmanager
def _keys() -> Iterator[Callable[[float], str]]:
    """A function waiting up to N seconds for keys (cbreak mode: one key at a time, Ctrl-C still works)."""
    fd = sys.stdin.fileno() if sys.stdin.isatty() else -1
    saved = termios.tcgetattr(fd) if fd >= 0 else None
    if fd >= 0:
        tty.setcbreak(fd)

    def wait(seconds: float) -> str:
        if fd < 0:
            time.sleep(seconds)
            return ""
        ready, _, _ = select.select([fd], [], [], max(0.0, seconds))
        return os.read(fd, 32).decode(errors="replace") if ready else ""

    try:
        yield wait
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_top(
    name: str,
    note: str,
    *,
    interval: float = 1.0,
    sort: str = "rate",
    once: bool = False,
    console: Console | None = None,
) -> int:
    """Show engine ``name`` until ``q``/Ctrl-C (``once``: print one screen and return)."""
    console = console or Console()
    sorts = list(SORTS)
    with AttachedEngine(name) as engine:
        prev = take(engine)
        time.sleep(min(interval, 0.25))  # the first screen already has rates
        cur = take(engine)
        if once:
            console.print(render(prev, cur, sort=sort, note=note, interval=interval))
            return 0
        try:
            with _keys() as wait_key, Live(console=console, screen=True, auto_refresh=False) as live:
                while True:
                    live.update(
                        render(prev, cur, sort=sort, note=note, height=console.size.height, interval=interval),
                        refresh=True,
                    )
                    deadline = time.monotonic() + interval
                    while (left := deadline - time.monotonic()) > 0:
                        keys = wait_key(left).lower()
                        if "q" in keys:
                            return 0
                        if "s" in keys:
                            sort = sorts[(sorts.index(sort) + 1) % len(sorts)]
                            live.update(
                                render(prev, cur, sort=sort, note=note, height=console.size.height, interval=interval),
                                refresh=True,
                            )
                    if engine.owner_pid and not pid_alive(engine.owner_pid):
                        break
                    prev, cur = cur, take(engine)
        except KeyboardInterrupt:
            return 130
    console.print(f"engined top: the engine {name} stopped (owner pid {engine.owner_pid} is gone)")
    return 1
