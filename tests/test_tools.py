from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from engine.core.embedded import Engine
from tests.utils import run, wait_until
from tools.shm_inspect import inspect

if TYPE_CHECKING:
    from engine.config import EngineConfig


@pytest.mark.multiprocess
def test_shm_inspect_reads_a_live_engine(config: EngineConfig) -> None:
    with Engine.start(config) as engine:
        run(engine.submit("echo", b"x", agent=3))
        assert engine.res is not None
        name = f"{engine.res.prefix}_ctl"
        # the worker counts a task just after answering it: wait for the count, not the answer
        assert wait_until(lambda: "#3 1 tasks" in inspect(name), timeout=5)
        text = inspect(name)
    assert f"{config.workers} workers" in text
    assert "ready" in text
    assert "#3 1 tasks" in text


@pytest.mark.parametrize("module", ["perf.asgi", "perf.engine", "perf.frontend"])
def test_benchmarks_answer_help_and_refuse_unknown_flags(module: str) -> None:
    import subprocess
    import sys

    helped = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "usage:" in helped.stdout
    refused = subprocess.run(
        [sys.executable, "-m", module, "--no-such-flag"], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "unrecognized arguments: --no-such-flag" in refused.stderr


@pytest.mark.multiprocess
def test_shm_inspect_reports_a_segment_of_another_version(config: EngineConfig) -> None:
    with Engine.start(config) as engine:
        assert engine.res is not None
        words = engine.client.table.words
        assert words is not None
        words[1] = 99  # the tables' version word, as an engine of another version would write it
        try:
            text = inspect(f"{engine.res.prefix}_ctl")
        finally:
            words[1] = 1
    assert "not a segment this version can read" in text and "tables version" in text
