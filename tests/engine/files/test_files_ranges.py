"""RangeReader answers a RangeRead record: the plain bytes of a seekable file, clamped to its end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.files.models import RangeRead
from engine.files.paths import PathPolicy
from engine.files.ranges import RangeReader
from tests.engine.files.files_helpers import mixed, seekable_bytes, write
from tests.utils import run

if TYPE_CHECKING:
    from pathlib import Path

DATA = mixed(200_000)


def test_a_range_is_a_record_clamped_to_the_end(tmp_path: Path) -> None:
    path = str(write(tmp_path / "f.zst", seekable_bytes(DATA, 64 * 1024)))
    reader = RangeReader(PathPolicy([str(tmp_path)]))
    try:
        got = reader.read(path, 70_000, 1000)
        assert got == RangeRead(data=DATA[70_000:71_000], offset=70_000, length=1000, file_bytes=len(DATA))
        tail = run(reader.read_async(path, len(DATA) - 10, 100))
        assert (tail.data, tail.offset, tail.length) == (DATA[-10:], len(DATA) - 10, 10)
        past = reader.read(path, len(DATA) + 5, 1)
        assert (past.data, past.offset, past.length, past.file_bytes) == (b"", len(DATA), 0, len(DATA))
    finally:
        reader.close()
