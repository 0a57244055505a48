"""Small JSON state files under the data dir, written atomically with mode 0600 (engine/common/fsutil.py:
a crash leaves either the old or the new file, never half of one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from engine.common.fsutil import write_private

if TYPE_CHECKING:
    from pathlib import Path


def read_json(path: Path, default: Any) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return default


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
