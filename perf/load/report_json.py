"""``--json PATH``: the run's figures, exactly as the console summary and the HTML report use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def write(result: dict[str, Any], path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return out
