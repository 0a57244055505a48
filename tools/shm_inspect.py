"""Look inside a running engine's shared memory without touching it (``engined inspect`` for every engine).

    python -m tools.shm_inspect              every live engine in /dev/shm
    python -m tools.shm_inspect --watch 1    refresh every second (Ctrl-C to stop)
    python -m tools.shm_inspect --json       the same as JSON (one document per engine, in a list)

Prints, per engine, what ``engined inspect`` prints (tools/ring_inspect.py): the client's admission
figures and free slots, the oldest task in flight, every ring's head, tail, flags and stalls, and
the busiest agents, read from the control segment mapped read-only (engine/core/attach.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

import orjson

from engine.core.attach import control_segments
from ipc.errors import LayoutMismatch
from tools.engine_view import read_engine
from tools.ring_inspect import as_text, describe


def inspect_doc(name: str) -> dict[str, Any]:
    """One engine as ``engined inspect --json`` prints it ({"segment", "error"} when unreadable)."""
    try:
        return describe(read_engine(name))
    except LayoutMismatch as exc:
        return {"segment": name, "error": f"not a segment this version can read ({exc})"}
    except FileNotFoundError:
        return {"segment": name, "error": "gone (the engine stopped)"}


def inspect(name: str) -> str:
    doc = inspect_doc(name)
    return f"{name}: {doc['error']}" if "error" in doc else as_text(doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="refresh every SECONDS")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    if args.watch:
        # Ctrl-C is how a watch ends, even when started where SIGINT was ignored (a background job of a
        # script, whose children inherit the ignore: Python then installs no handler and Ctrl-C did nothing)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while True:
            names = control_segments()
            # flushed each refresh: through a pipe (| tee, a test) a refresh shows when it is made,
            # not when 8 KiB of them have filled the buffer (~20 s of "no engine segments")
            if args.json:
                print(orjson.dumps([inspect_doc(n) for n in names]).decode(), flush=True)
            else:
                text = "\n\n".join(inspect(n) for n in names) if names else "no engine segments in /dev/shm"
                print(text, flush=True)
            if not args.watch:
                return 0
            time.sleep(args.watch)
            if not args.json:
                print("\033[2J\033[H", end="")  # clear the terminal
    except KeyboardInterrupt:  # Ctrl-C ends a watch: quietly, with the shell's usual status
        return 130


if __name__ == "__main__":
    sys.exit(main())
