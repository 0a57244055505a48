"""``python -m perf load ...``, ``compare ...``, ``fuzz ...``, ``chaos ...`` and ``soak ...`` (the other
benchmarks keep their own modules: ``python -m perf.engine``, ``perf.frontend``, ``perf.asgi``)."""

from __future__ import annotations

import os
import sys

COMMANDS = ("load", "compare", "fuzz", "chaos", "soak")
USAGE = f"usage: python -m perf {{{','.join(COMMANDS)}}} ... (--help after the command for its options)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"perf: {USAGE}", file=sys.stderr)
        return 2
    if argv[0] == "fuzz":
        from perf.fuzz.cli import main as fuzz_main  # needs the test extra (schemathesis, hypothesis)

        return fuzz_main(argv[1:])
    if argv[0] == "chaos":
        from perf.chaos.cli import main as chaos_main

        return chaos_main(argv[1:])
    if argv[0] == "soak":
        from perf.soak.cli import main as soak_main

        return soak_main(argv[1:])
    if argv[0] == "load":
        from perf.load.cli import main as load_main

        return load_main(argv[1:])
    from perf.load.compare import main as compare_main

    return compare_main(argv[1:])


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``| head``): nothing more to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
