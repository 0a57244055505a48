from __future__ import annotations

import pytest

from engine.config import EngineConfig
from engine.embedded import Engine
from tests.utils import run
from tools.shm_inspect import inspect


@pytest.mark.multiprocess
def test_shm_inspect_reads_a_live_engine(config: EngineConfig) -> None:
    with Engine.start(config) as engine:
        run(engine.submit("echo", b"x", agent=3))
        assert engine.res is not None
        text = inspect(f"{engine.res.prefix}_ctl")
    assert f"{config.workers} workers" in text
    assert "ready" in text
    assert "#3 1 tasks" in text
