"""tools/flamegraph.py: folded stacks both ways, and an SVG that is well-formed with a frame per function."""

from __future__ import annotations

from collections import Counter
from xml.etree import ElementTree

from tools.flamegraph import parse_folded, render_svg, to_folded
from tools.profile import parse_faulthandler, short_path

DUMP = """Thread 0x00007f1 (most recent call first):
  File "/usr/lib/python3.11/selectors.py", line 468 in select
  File "/srv/engine/core/supervisor.py", line 230 in _tick

Current thread 0x00007f2 (most recent call first):
  File "/srv/.venv/lib/python3.11/site-packages/zstandard/__init__.py", line 10 in compress
  File "/srv/engine/core/agents/compress.py", line 40 in compress
  File "/srv/engine/core/worker.py", line 150 in _run
  File "/srv/engine/core/worker.py", line 120 in __call__
"""


def test_faulthandler_dumps_become_root_first_stacks_without_waiting_threads() -> None:
    stacks = parse_faulthandler(DUMP + DUMP)
    frames = (
        "__call__ (engine/core/worker.py:120)",
        "_run (engine/core/worker.py:150)",
        "compress (engine/core/agents/compress.py:40)",
        "compress (zstandard/__init__.py:10)",
    )
    assert stacks == Counter({frames: 2})
    assert len(parse_faulthandler(DUMP, idle=True)) == 2  # the waiting thread too, when asked
    assert short_path("/usr/lib/python3.11/asyncio/base_events.py") == "asyncio/base_events.py"


def test_folded_round_trip_and_svg() -> None:
    stacks = Counter({("main", "work", "compress"): 30, ("main", "work"): 5, ("main", "wait <&>"): 1})
    assert parse_folded(to_folded(stacks).splitlines()) == stacks
    svg = render_svg(stacks, "sv-worker-0")
    root = ElementTree.fromstring(svg)  # well-formed: names are escaped
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "all (36 samples, 100.0 %)" in titles and "compress (30 samples, 83.3 %)" in titles
    assert any(t.startswith("wait <&>") for t in titles)
    empty = ElementTree.fromstring(render_svg(Counter(), "idle"))
    assert "0 samples" in "".join(empty.itertext())
