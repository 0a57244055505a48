"""``engined top | inspect | profile | tune``: the operators' and engineers' tools, on the command line.

The tools live in tools/ and are imported only when one is run (the engine package never imports
them at module level, as with the frontends). top, inspect and profile read a running engine's
shared memory; they need no configuration and send it no request.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

TOOL_COMMANDS = ("top", "inspect", "profile", "tune")
SORTS = ("rate", "mbs", "latency", "errors", "id")


def _which_engine(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--pid", type=int, help="the engine with this process (supervisor, frontend or a worker)")
    group.add_argument("--segment", metavar="NAME", help="the engine with this segment (sigmavault_<pid>_<token>)")


def add_tool_commands(sub: Any) -> None:
    top = sub.add_parser("top", help="live view of a running engine's workers and agents (q quits)")
    _which_engine(top)
    top.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes (default 1)")
    top.add_argument("--sort", choices=SORTS, default="rate", help="agents' order (default: tasks/s); s cycles")
    top.add_argument("--once", action="store_true", help="print one screen and exit (also when not on a terminal)")
    inspect = sub.add_parser("inspect", help="rings, slots, stalls and the oldest task in flight of a running engine")
    _which_engine(inspect)
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.add_argument(
        "--stall-after",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="a ring holding descriptors whose consumer is silent this long is stalled",
    )
    profile = sub.add_parser("profile", help="sample every process of a running engine (flame graphs, top functions)")
    _which_engine(profile)
    profile.add_argument("--seconds", type=int, default=10, help="how long to sample (default 10)")
    profile.add_argument("--out", type=Path, help="output directory (default ./engined-profile-<time>)")
    profile.add_argument(
        "--method",
        choices=("auto", "py-spy", "signals"),
        default="auto",
        help="py-spy when installed (auto), or the engine's own stack dumps (signals)",
    )
    profile.add_argument("--rate", type=int, help="samples per second per process (py-spy 100, signals 50)")
    profile.add_argument("--memory", action="store_true", help="also trace allocations (tracemalloc) during the run")
    profile.add_argument("--top", type=int, default=25, help="functions listed in top.txt (default 25)")
    profile.add_argument("--idle", action="store_true", help="signals: keep samples of waiting threads")
    tune = sub.add_parser("tune", help="measure workers, spin, slot size and pinning here; write a recommended .env")
    tune.add_argument("--seconds", type=float, default=50.0, help="time for all measurements (default 50)")
    tune.add_argument("--out", type=Path, default=Path("sigmavault-tuned.env"), help="where to write the .env")
    tune.add_argument("--min-slot-kib", type=int, default=1024, help="smallest slot to recommend (default 1024)")


def run_tool(args: argparse.Namespace) -> int:
    from tools.engine_view import NoEngine

    try:
        return int(_COMMANDS[args.command](args))
    except NoEngine as exc:
        print(f"engined {args.command}: {exc}", file=sys.stderr)
        return 1


def _top(args: argparse.Namespace) -> int:
    from tools.engine_view import choose_engine
    from tools.top import run_top

    name, note = choose_engine(args.pid, args.segment)
    if args.interval <= 0:
        print("engined top: --interval must be above 0", file=sys.stderr)
        return 2
    return run_top(name, note, interval=args.interval, sort=args.sort, once=args.once or not sys.stdout.isatty())


def _inspect(args: argparse.Namespace) -> int:
    import orjson

    from tools.engine_view import choose_engine, read_engine
    from tools.ring_inspect import as_text, describe

    name, note = choose_engine(args.pid, args.segment)
    doc = describe(read_engine(name), args.stall_after)
    if args.json:
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(f"engined inspect: {note}\n{as_text(doc)}")
    return 0


def _profile(args: argparse.Namespace) -> int:
    from tools.engine_view import choose_engine, read_engine
    from tools.profile import run_profile

    name, note = choose_engine(args.pid, args.segment)
    if args.seconds < 1:
        print("engined profile: --seconds must be at least 1", file=sys.stderr)
        return 2
    out = args.out or Path(f"engined-profile-{time.strftime('%Y%m%d-%H%M%S')}")
    print(f"engined profile: {note}; sampling for {args.seconds} s ...", file=sys.stderr)
    try:
        targets, text = run_profile(
            read_engine(name),
            seconds=args.seconds,
            out=out,
            method=args.method,
            rate=args.rate,
            memory=args.memory,
            top=args.top,
            idle=args.idle,
        )
    except FileNotFoundError as exc:
        print(f"engined profile: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    written = sorted(p.name for p in out.iterdir())
    print(f"\nwritten to {out}/: {', '.join(written)}", file=sys.stderr)
    return 0 if any(t.stacks for t in targets) else 1


def _tune(args: argparse.Namespace) -> int:
    from tools.tune import tune, write_env

    if args.seconds < 5:
        print("engined tune: --seconds must be at least 5", file=sys.stderr)
        return 2
    tuning = tune(args.seconds, args.min_slot_kib * 1024)
    write_env(tuning, args.out)
    print(f"\nrecommended settings written to {args.out}:")
    for variable, (value, _why) in tuning.chosen.items():
        print(f"  {variable}={value}")
    return 0


_COMMANDS = {"top": _top, "inspect": _inspect, "profile": _profile, "tune": _tune}
