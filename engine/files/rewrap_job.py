"""Re-wrap sealed files to the current key after a rotation, without re-encrypting their data.

Each file's header is rewritten for the current public key (its data key opened with the old
private key the keystore kept); the blocks are copied behind the new header (copy_file_range: a
reflink on btrfs/XFS) into a temporary file that is fsynced and renamed over the original
(engine/files/sealed_files.py ``rewrap_at``). The temporary name is recorded in the job before
each file, so a crash's leftover is removed at the next start. Files already on the current key are
left alone; in a directory, files that are not sealed are skipped. One file that cannot be
re-wrapped (a key this box does not hold, a damaged header, a file swapped for a FIFO or a
directory for a symlink since the request) does not stop the others: the job ends failed and
lists them.

No file of the engine's own is read or replaced: a file with more than one link is compared (device,
inode) with the data directory's files when the directory is listed (the request is refused
``data_dir``) and again, through the descriptor it is read from, at its turn (that file fails
``data_dir``; the others go on).

Descriptors, not names: the request opens the path given (a file, or a directory) beneath its
root and the job keeps that descriptor. A named file is re-wrapped through it. A directory is
listed at the request through descriptors (never following a link), and each file found is reached
again at its turn from the directory's descriptor, one component at a time with O_NOFOLLOW, so
nothing swapped in since can lead the job out of the directory (holding one descriptor per file
of 100,000 would not fit the process's limit).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequest, Conflict, EngineError, from_os_error
from engine.files.beneath import DIR_FLAGS
from engine.files.sealed_files import open_regular, rewrap_at

if TYPE_CHECKING:
    from engine.files.jobrun import FileEnv
    from engine.files.paths import PathPolicy, Resolved
    from engine.jobs.manager import JobContext
    from engine.keys.keystore import Keystore

MAX_FILES = 100_000
MAX_DEPTH = 64
LISTED_FAILURES = 20


@dataclass
class RewrapPlan:
    """The path given, opened (``top``), and the files beneath it: components from ``top`` (``()``:
    ``top`` is the file itself)."""

    top: Resolved
    policy: PathPolicy
    files: list[tuple[str, ...]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files)

    def close(self) -> None:
        self.top.close()

    def path_of(self, parts: tuple[str, ...]) -> str:
        return "/".join([self.top.path.rstrip("/"), *parts]) if parts else self.top.path


def plan(policy: PathPolicy, raw: str) -> RewrapPlan:
    """The file, or every regular file under the directory (links never followed), opened or listed."""
    if not raw:
        raise BadRequest("rewrap needs source: a sealed file or a directory of them", code="invalid_path")
    top = policy.existing(raw)
    found = RewrapPlan(top, policy)
    try:
        if top.st is not None and stat.S_ISREG(top.st.st_mode):
            found.files.append(())
        else:
            _list(top.fd, (), found, raw)
    except BaseException:
        top.close()
        raise
    return found


def _list(dir_fd: int, at: tuple[str, ...], found: RewrapPlan, raw: str) -> None:
    if len(at) > MAX_DEPTH:
        raise BadRequest(f"{raw!r} nests directories more than {MAX_DEPTH} deep; re-wrap it in parts", code="too_deep")
    files = found.files
    with os.scandir(dir_fd) as entries:
        listed = sorted((e.name, e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False)) for e in entries)
    for name, is_dir, is_file in listed:
        if is_file and ".job-" not in name:
            _refuse_private(found, dir_fd, (*at, name))
            files.append((*at, name))
            if len(files) > MAX_FILES:
                raise BadRequest(f"{raw!r} holds more than {MAX_FILES} files; re-wrap it in parts", code="too_many")
        elif is_dir:
            try:
                sub = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            except OSError:  # swapped for a symlink or removed since the listing: not ours to enter
                continue
            try:
                _list(sub, (*at, name), found, raw)
            finally:
                os.close(sub)


def _refuse_private(found: RewrapPlan, dir_fd: int, parts: tuple[str, ...], st: os.stat_result | None = None) -> None:
    """BadRequest ``data_dir`` when the file (``st``, else lstat of its name) is one of the engine's own."""
    if st is None:
        try:
            st = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
    if found.policy.is_forbidden(st):
        raise found.policy.blocked("path", found.path_of(parts))


def _rewrap_one(found: RewrapPlan, parts: tuple[str, ...], store: Keystore, tmp: str) -> str:
    """rewrapped, current (already on the current key) or skipped (not a sealed file)."""
    top = found.top
    if not parts:  # the file named in the request, through the descriptor opened then
        result = rewrap_at(top.dir_fd, top.name, store, tmp=tmp, fd=top.fd)
        return "rewrapped" if result.rewrapped else "current"
    fds: list[int] = []
    try:
        where = top.fd
        for directory in parts[:-1]:
            try:
                where = os.open(directory, DIR_FLAGS, dir_fd=where)
            except (NotADirectoryError, FileNotFoundError):
                raise Conflict(
                    f"{directory!r} was removed or replaced (by a symlink?) since the request", code="source_changed"
                ) from None
            fds.append(where)
        fd = open_regular(where, parts[-1])
        fds.append(fd)
        _refuse_private(found, where, parts, os.fstat(fd))  # the descriptor it would read, checked
        result = rewrap_at(where, parts[-1], store, tmp=tmp, fd=fd, skip_unsealed=True)
    finally:
        for fd in fds:
            os.close(fd)
    if result.skipped:
        return "skipped"
    return "rewrapped" if result.rewrapped else "current"


async def run(env: FileEnv, ctx: JobContext, found: RewrapPlan) -> dict[str, Any]:
    store = await env.keys.store()
    counts = {"rewrapped": 0, "current": 0, "skipped": 0}
    failed: list[dict[str, str]] = []
    total = len(found)
    ctx.progress(0, total, key_id=store.current.key_id.hex(), files_total=total)
    for done, parts in enumerate(found.files, 1):
        path = found.path_of(parts)
        tmp = f".{os.path.basename(path)}.{ctx.record.id}.part"
        ctx.record.params["temporary"] = f"{os.path.dirname(path)}/{tmp}"
        ctx.save()
        try:
            outcome = await env.io.call(_rewrap_one, found, parts, store, tmp)
        except EngineError as exc:
            failed.append({"path": path, "code": exc.code or "", "error": exc.message})
        except OSError as exc:
            error = from_os_error(exc)
            failed.append({"path": path, "code": error.code or "", "error": error.message})
        else:
            counts[outcome] += 1
            if outcome == "rewrapped":
                env.keys.counters.files_rewrapped += 1
            if outcome != "skipped":  # now sealed to the current key: key retirement reads the index
                env.keys.record_sealed(path, store.current.key_id)
        ctx.progress(
            done,
            total,
            message=path,
            files_rewrapped=counts["rewrapped"],
            files_current=counts["current"],
            files_skipped=counts["skipped"],
            files_failed=len(failed),
            failed=failed[:LISTED_FAILURES],
        )
    ctx.record.params.pop("temporary", None)
    if failed:
        first = failed[0]
        raise Conflict(
            f"{len(failed)} of {total} files could not be re-wrapped; the first, {first['path']}: {first['error']}",
            code="rewrap_incomplete",
            metadata={"failed": len(failed)},
        )
    ctx.record.percent = 100.0
    return {
        "files_rewrapped": counts["rewrapped"],
        "files_current": counts["current"],
        "files_skipped": counts["skipped"],
        "files_failed": 0,
    }
