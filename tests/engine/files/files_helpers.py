"""Shared by the file-format tests: mixed test data and reference writers built from the modules'
pure functions (the way the job runner will use them), plus the real CLIs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import zstandard

from engine.files.zstd_frames import frame_checksum
from engine.files.zstd_seekable import SeekTableBuilder

TEXT = (
    b"SigmaVault keeps the NAS's files safe: blocks are compressed, sealed and written in order. "
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.\n"
)


def mixed(n: int, seed: int = 7) -> bytes:
    """Half random, half text-like bytes (distinct, not one block repeated)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    words = rng.integers(0, len(TEXT) - 16, size=max(1, (n - half) // 16 + 1))
    text = b"".join(TEXT[w : w + 16] for w in words.tolist())[: n - half]
    return bytes(rng.integers(0, 256, half, dtype=np.uint8)) + text


def seekable_bytes(data: bytes, frame_bytes: int, level: int = 3, checksums: bool = True) -> bytes:
    cctx = zstandard.ZstdCompressor(level=level, write_checksum=checksums)
    builder = SeekTableBuilder(checksums=checksums)
    parts = []
    for i in range(0, max(len(data), 1), frame_bytes):
        frame = cctx.compress(data[i : i + frame_bytes])
        builder.add(len(frame), len(data[i : i + frame_bytes]), frame_checksum(frame) if checksums else None)
        parts.append(frame)
    return b"".join(parts) + builder.to_bytes()


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"the {tool} CLI is not installed")
    return path


def cli(args: list[str], stdin: bytes | None = None) -> bytes:
    done = subprocess.run(args, input=stdin, capture_output=True, check=True, timeout=60)
    return done.stdout


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
