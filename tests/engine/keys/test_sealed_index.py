"""The index of sealed files (engine/keys/sealed_index.py): each candidate's header read again, files
rewrapped, moved, replaced or swapped for a link or a FIFO sorted out, rows following the files."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from engine.files.sealed_files import seal_bytes
from engine.keys.keystore import Keystore
from engine.keys.sealed_index import SealedIndex, header_key_id

if TYPE_CHECKING:
    from pathlib import Path


def test_scan_reads_every_header_again(tmp_path: Path) -> None:
    store = Keystore.open(tmp_path / "data")
    first = store.current
    second = store.rotate()
    files = {name: tmp_path / name for name in ("kept", "rewrapped", "moved", "replaced", "fifo", "link")}
    for path in files.values():
        path.write_bytes(seal_bytes(b"x" * 1000, first.recipient, block_bytes=256))
    index = SealedIndex.in_data_dir(tmp_path / "data")
    assert index.fresh and stat.S_IMODE(index.path.stat().st_mode) == 0o600
    index.record_many([(str(p), first.key_id) for p in files.values()])
    files["rewrapped"].write_bytes(seal_bytes(b"y", second.recipient))
    files["moved"].rename(tmp_path / "elsewhere")
    files["replaced"].write_bytes(b"plain text now")
    files["fifo"].unlink()
    os.mkfifo(files["fifo"])
    files["link"].unlink()
    files["link"].symlink_to(tmp_path / "elsewhere")  # a sealed file behind a link is not followed
    scan = index.scan(first.key_id)
    assert scan.sealed == [str(files["kept"])] and scan.rewrapped == 1 and scan.gone == 4 and scan.checked == 6
    assert index.candidates(second.key_id) == [str(files["rewrapped"])]  # the row followed the file
    assert index.scan(first.key_id).checked == 1  # the gone ones were dropped
    index.close()
    assert not SealedIndex.in_data_dir(tmp_path / "data").fresh


def test_header_key_id(tmp_path: Path) -> None:
    store = Keystore.open(tmp_path / "data")
    path = tmp_path / "f.sv"
    path.write_bytes(seal_bytes(b"data", store.current.recipient))
    assert header_key_id(path) == store.current.key_id
    path.write_bytes(path.read_bytes()[:40])
    assert header_key_id(path) is None
    assert header_key_id(tmp_path / "missing") is None and header_key_id(tmp_path) is None
