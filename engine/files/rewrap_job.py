"""Re-wrap sealed files to the current key after a rotation, without re-encrypting their data.

Each file's header is rewritten for the current public key (its data key opened with the old
private key the keystore kept); the blocks are copied behind the new header (copy_file_range: a
reflink on btrfs/XFS) into a temporary file that is fsynced and renamed over the original
(engine/files/sealed_files.py ``rewrap_file``). The temporary name is recorded in the job before
each file, so a crash's leftover is removed at the next start. Files already on the current key are
left alone; in a directory, files that are not sealed are skipped. One file that cannot be
re-wrapped (a key this box does not hold, a damaged header) does not stop the others: the job
ends failed and lists them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequest, Conflict, EngineError
from engine.files.sealed import MAGIC
from engine.files.sealed_files import rewrap_file

if TYPE_CHECKING:
    from engine.files.jobrun import FileEnv
    from engine.files.paths import PathPolicy
    from engine.jobs.manager import JobContext
    from engine.keys import Keystore

MAX_FILES = 100_000
LISTED_FAILURES = 20


def plan(policy: PathPolicy, raw_paths: list[str]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for every path given; directories are walked without following links."""
    if not raw_paths:
        raise BadRequest("rewrap needs source: a sealed file or a directory of them", code="invalid_path")
    files: list[tuple[Path, bool]] = []
    for raw in raw_paths:
        path = policy.existing(raw)
        if path.is_file():
            files.append((path, True))
            continue
        for directory, _, names in os.walk(path, followlinks=False):
            for name in sorted(names):
                candidate = Path(directory) / name
                if stat.S_ISREG(os.lstat(candidate).st_mode) and ".job-" not in name:
                    files.append((candidate, False))
            if len(files) > MAX_FILES:
                raise BadRequest(f"{raw!r} holds more than {MAX_FILES} files; re-wrap it in parts", code="too_many")
    return files


def _rewrap_one(path: Path, store: Keystore, explicit: bool, tmp: Path) -> str:
    """rewrapped, current (already on the current key) or skipped (not a sealed file)."""
    if not explicit:
        with path.open("rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                return "skipped"
    return "rewrapped" if rewrap_file(path, store, tmp=tmp)["rewrapped"] else "current"


async def run(env: FileEnv, ctx: JobContext, files: list[tuple[Path, bool]]) -> dict[str, Any]:
    store = await env.keys.store()
    counts = {"rewrapped": 0, "current": 0, "skipped": 0}
    failed: list[dict[str, str]] = []
    total = len(files)
    ctx.progress(0, total, key_id=store.current.key_id.hex(), files_total=total)
    for done, (path, explicit) in enumerate(files, 1):
        tmp = path.with_name(f".{path.name}.{ctx.record.id}.part")
        ctx.record.params["temporary"] = str(tmp)
        ctx.save()
        try:
            outcome = await env.io.call(_rewrap_one, path, store, explicit, tmp)
        except EngineError as exc:
            failed.append({"path": str(path), "code": exc.code or "", "error": exc.message})
        except OSError as exc:
            failed.append({"path": str(path), "code": "io_error", "error": exc.strerror or str(exc)})
        else:
            counts[outcome] += 1
            if outcome == "rewrapped":
                env.keys.counters.files_rewrapped += 1
            if outcome != "skipped":  # now sealed to the current key: key retirement reads the index
                env.keys.record_sealed(str(path), store.current.key_id)
        ctx.progress(done, total, message=str(path), files_rewrapped=counts["rewrapped"],
                     files_current=counts["current"], files_skipped=counts["skipped"],
                     files_failed=len(failed), failed=failed[:LISTED_FAILURES])  # fmt: skip
    ctx.record.params.pop("temporary", None)
    if failed:
        first = failed[0]
        raise Conflict(f"{len(failed)} of {total} files could not be re-wrapped; the first, {first['path']}: "
                       f"{first['error']}", code="rewrap_incomplete", metadata={"failed": len(failed)})  # fmt: skip
    ctx.record.percent = 100.0
    return {"files_rewrapped": counts["rewrapped"], "files_current": counts["current"],
            "files_skipped": counts["skipped"], "files_failed": 0}  # fmt: skip
