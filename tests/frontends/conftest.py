"""A real ``engined serve`` shared by the frontend tests of one session."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ipc.segment import engine_segments, segment_owner
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("served")
    (workdir / "files").mkdir()  # the job root (the data directory never is one)
    served = start_served(workdir, SIGMAVAULT_JOB_ROOTS=str(workdir / "files"))
    yield served
    code = stop_served(served)
    assert code == 0, served.output()
    left = [name for name in engine_segments() if segment_owner(name) == served.proc.pid]
    assert not left, f"engined serve left shared-memory segments: {left}"
