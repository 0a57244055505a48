"""Fixtures the file-job tests share: each module's ``engine`` fixture serves ``(Served, job root)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.filejobs import JobsClient

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.served import Served


@pytest.fixture
def jobs(engine: tuple[Served, Path]) -> Iterator[JobsClient]:
    """A client of the module's engine, closed after the test whatever its outcome."""
    client = JobsClient(engine[0])
    yield client
    client.close()
