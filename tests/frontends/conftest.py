"""A real ``engined serve`` shared by the frontend tests of one session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ipc.segment import engine_segments
from tests.served import Served, start_served, stop_served


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    before = set(engine_segments())
    served = start_served(tmp_path_factory.mktemp("served"))
    yield served
    code = stop_served(served)
    assert code == 0, served.output()
    assert set(engine_segments()) <= before, "engined serve left shared-memory segments"
