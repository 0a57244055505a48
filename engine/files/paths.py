"""Which paths a file job may touch: the rules, each refusal naming the one it broke, and the
descriptors a path resolves to.

A path must be absolute, without ``..`` components, and start with one of the roots
(SIGMAVAULT_JOB_ROOTS; never the data directory, which start-up refuses inside or around a root).
It is then resolved beneath its root from a directory descriptor, one component at a time
(engine/files/beneath.py): nothing after the root is ever looked up by its full name, and a symlink
is followed only while it stays under a root. A source must be a regular file (not a directory,
device, FIFO or socket), opened ``O_NOFOLLOW | O_NONBLOCK`` there and then; a destination's
directory must exist, and an existing destination is replaced only with ``overwrite`` (else
AlreadyExists) and only if it is a regular file.

The result, ``Resolved``, holds the descriptors (the final directory, and the source file itself):
the job reads, creates, renames and fsyncs through them (``dir_fd=``) and never resolves the name
again, so a directory swapped for a symlink after the request cannot redirect it.
"""

from __future__ import annotations

import os
import stat
import time
from typing import TYPE_CHECKING

from engine.errors import AlreadyExists, BadRequest, Conflict, InsufficientSpace, NotFound
from engine.files.beneath import FILE_FLAGS, Blocked, Escape, Missing, NotDirectory, Resolved, Root, Walk, close_all

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["PathPolicy", "Resolved", "check_free_space", "close_all", "kind_of"]

MAX_PATH_CHARS = 4096
FORBIDDEN_TTL_S = 30.0  # how long the data directory's (device, inode) list is trusted before a rescan
MAX_FORBIDDEN_ENTRIES = 10_000
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symlink"),
)


def _refuse(what: str, path: str, rule: str, code: str = "invalid_path") -> BadRequest:
    return BadRequest(f"{what} {path!r} {rule}", code=code, metadata={"path": path[:256]})


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file" if not stat.S_ISREG(mode) else "a regular file"


class PathPolicy:
    """The roots file jobs are confined to, and what they never touch: the data directory (every
    directory and file in it, by device and inode, so neither a bind mount nor a hard link can lead
    there) and the ``private`` files (the API token, the named tokens, the key passphrase, the TLS key)."""

    def __init__(self, roots: Iterable[str], *, data_dir: str = "", private: Iterable[str] = ()) -> None:
        given = [os.path.normpath(r) for r in roots if r]
        self.roots = tuple(dict.fromkeys(os.path.realpath(r) for r in given))
        # (as written, as resolved): a path may name a root either way (a root may itself be a symlink)
        self._roots = tuple(dict.fromkeys(Root(written, os.path.realpath(written)) for written in given))
        self.data_dir = os.path.realpath(data_dir) if data_dir else ""
        self._private = tuple(p for p in private if p)
        self._forbidden: frozenset[tuple[int, int]] = frozenset()
        self._forbidden_at = float("-inf")

    def __repr__(self) -> str:
        return f"PathPolicy(roots={self.roots})"

    # what a walk checks -----------------------------------------------------------------------
    def forbidden(self, *, fresh: bool = False) -> frozenset[tuple[int, int]]:
        """(device, inode) of the data directory, everything in it and the private files; rescanned
        when older than FORBIDDEN_TTL_S, or now (``fresh``). A small tree (keys, the SQLite files,
        tokens, the session key, run/): 0.16 ms to rescan a served engine's 19 entries (docs/FILE_JOBS.md)."""
        now = time.monotonic()
        if not fresh and now - self._forbidden_at < FORBIDDEN_TTL_S:
            return self._forbidden
        found: set[tuple[int, int]] = set()
        if self.data_dir:
            for directory, _, files in os.walk(self.data_dir, followlinks=False):
                for path in (directory, *(os.path.join(directory, f) for f in files)):
                    try:
                        st = os.stat(path, follow_symlinks=False)
                    except OSError:
                        continue
                    if not stat.S_ISLNK(st.st_mode):
                        found.add((st.st_dev, st.st_ino))
                if len(found) >= MAX_FORBIDDEN_ENTRIES:
                    break
        for path in self._private:
            try:
                st = os.stat(path)
            except OSError:
                continue
            found.add((st.st_dev, st.st_ino))
        self._forbidden, self._forbidden_at = frozenset(found), now
        return self._forbidden

    def is_forbidden(self, st: os.stat_result) -> bool:
        """Whether the file or directory ``st`` describes (an fstat of the descriptor about to be read,
        or the lstat of a name to replace) is one of the engine's own. The cached scan answers most
        calls; it is redone at once (0.16 ms) when it says yes (an inode of a file removed from the
        data directory since, such as a SQLite journal, may have been reused by a user's file on the
        same filesystem) and for a file with more than one link (maybe a hard link, made since the
        last scan, to a file of the data directory: the answer then holds for this very descriptor)."""
        key = (st.st_dev, st.st_ino)
        if key in self.forbidden():
            return key in self.forbidden(fresh=True)
        linked = st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode)  # a directory has 2+ links of its own
        return linked and key in self.forbidden(fresh=True)

    def root_of(self, path: str) -> tuple[Root, list[str]] | None:
        """The root ``path`` starts with (the longest) and the components after it, ``..`` kept."""
        best: tuple[Root, list[str]] | None = None
        length = -1
        for root in self._roots:
            for prefix in (root.written, root.real):
                base = prefix.rstrip("/")
                if (path == prefix or path.startswith(base + "/")) and len(base) > length:
                    best, length = (root, [p for p in path[len(base) :].split("/") if p not in ("", ".")]), len(base)
        return best

    def _lexical(self, what: str, raw: str) -> tuple[Root, list[str]]:
        if not self._roots:
            raise Conflict(
                "file jobs are off on this engine: no job roots are configured (set SIGMAVAULT_JOB_ROOTS "
                "to the directories they may use)",
                code="no_job_roots",
            )
        if not isinstance(raw, str) or not raw:
            raise BadRequest(f"{what} path is missing", code="invalid_path")
        if len(raw) > MAX_PATH_CHARS or "\0" in raw:
            raise _refuse(what, raw[:64], f"is not a usable path (over {MAX_PATH_CHARS} characters or a NUL byte)")
        if not os.path.isabs(raw):
            raise _refuse(what, raw, "is not absolute: give the full path")
        if ".." in raw.split("/"):
            raise _refuse(what, raw, "contains '..': paths must not climb out of a directory", code="path_escape")
        found = self.root_of(os.path.normpath(raw))
        if found is None:
            raise _refuse(
                what,
                raw,
                f"is outside the directories file jobs may use ({', '.join(self.roots)}; SIGMAVAULT_JOB_ROOTS)",
                code="outside_roots",
            )
        return found

    def _walk(self, what: str, raw: str, *, follow_last: bool) -> tuple[Walk, str, os.stat_result | None]:
        """The walk to ``raw``'s directory (open descriptors: the caller closes it) and the final name."""
        root, parts = self._lexical(what, raw)
        walk = Walk(root, self.root_of, self.is_forbidden)
        try:
            name, st = walk.run(parts, follow_last=follow_last)
        except BaseException as exc:
            walk.close()
            raise self._explain(exc, what, raw) from None
        return walk, name, st

    def blocked(self, what: str, raw: str) -> BaseException:
        """The refusal (400 ``data_dir``) of a path that leads to one of the engine's own files."""
        return self._explain(Blocked(), what, raw)

    def _explain(self, exc: BaseException, what: str, raw: str) -> BaseException:
        if isinstance(exc, Escape):
            return _refuse(
                what,
                raw,
                f"resolves through a symlink to {exc.target!r}, outside the directories file jobs may use",
                code="symlink_escape",
            )
        if isinstance(exc, Blocked):
            return _refuse(
                what,
                raw,
                "leads into the engine's own state (its data directory or a credential "
                "file), which file jobs never touch",
                code="data_dir",
            )
        if isinstance(exc, Missing):
            if what == "destination":
                return _refuse(
                    what, raw, f"is in {exc.directory!r}, which is not an existing directory", code="no_directory"
                )
            return NotFound(f"{what} {raw!r} does not exist", code="not_found", metadata={"path": raw[:256]})
        if isinstance(exc, NotDirectory):
            code = "no_directory" if what == "destination" else "invalid_path"
            return _refuse(what, raw, f"goes through {exc.directory!r}, which is not a directory", code=code)
        if isinstance(exc, Conflict):
            return exc
        if isinstance(exc, OSError):  # a name over NAME_MAX, a symlink loop, a permission
            return _refuse(what, raw, f"cannot be read: {exc.strerror}")
        return exc

    # what the jobs ask for --------------------------------------------------------------------
    def source(self, raw: str) -> Resolved:
        """An existing regular file under the roots, opened (O_RDONLY | O_NOFOLLOW | O_NONBLOCK)."""
        return self._open("source", raw, directories=False)

    def existing(self, raw: str) -> Resolved:
        """An existing file or directory under the roots, opened (rewrap takes both)."""
        return self._open("path", raw, directories=True)

    def _open(self, what: str, raw: str, *, directories: bool) -> Resolved:
        walk, name, st = self._walk(what, raw, follow_last=True)
        try:
            if not name:  # the walk ended on a directory (the root itself, or a link to one)
                if not directories:
                    raise _refuse(what, raw, "is a directory; file jobs read regular files", code="not_a_file")
                return walk.take_directory()
            if st is None:
                raise NotFound(f"{what} {raw!r} does not exist", code="not_found", metadata={"path": raw[:256]})
            if stat.S_ISDIR(st.st_mode) and directories:
                walk.enter(name)
                return walk.take_directory()
            if not stat.S_ISREG(st.st_mode):
                rule = "give a file or a directory" if directories else "file jobs read regular files"
                raise _refuse(what, raw, f"is {kind_of(st.st_mode)}; {rule}", code="not_a_file")
            return self._open_file(walk, name, st, what, raw)
        except BaseException as exc:
            walk.close()
            raise self._explain(exc, what, raw) from None

    def _open_file(self, walk: Walk, name: str, st: os.stat_result, what: str, raw: str) -> Resolved:
        """Open ``name`` in the walk's directory and check it is the regular file lstat saw: a file
        swapped for a FIFO or a symlink in between fails here (O_NONBLOCK: a FIFO never blocks)."""
        try:
            fd = os.open(name, FILE_FLAGS, dir_fd=walk.top)
        except OSError as exc:
            raise _refuse(what, raw, f"cannot be opened: {exc.strerror}") from None
        try:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode):
                raise _refuse(what, raw, f"is {kind_of(now.st_mode)}; file jobs read regular files", code="not_a_file")
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                raise _refuse(what, raw, "was replaced by another file while it was opened", code="source_changed")
            if self.is_forbidden(now):
                raise Blocked
        except BaseException:
            os.close(fd)
            raise
        return walk.take(name, now, fd)

    def destination(self, raw: str, overwrite: bool, source: Resolved | None = None) -> Resolved:
        """Where a job may write: the directory opened under the roots, the final name as given."""
        if raw.endswith("/") or os.path.basename(os.path.normpath(raw or "/")) in ("", ".", ".."):
            self._lexical("destination", raw)  # the root and path rules come first
            raise _refuse("destination", raw, "names a directory, not a file", code="not_a_file")
        walk, name, st = self._walk("destination", raw, follow_last=False)
        try:
            if not name:  # the root itself
                raise _refuse("destination", raw, "names a directory, not a file", code="not_a_file")
            if st is not None:
                self._check_existing(raw, st, overwrite, source)
            return walk.take(name, st)
        except BaseException:
            walk.close()
            raise

    def _check_existing(self, raw: str, st: os.stat_result, overwrite: bool, source: Resolved | None) -> None:
        if self.is_forbidden(st):  # a credential file under a root, or a hard link to one: never replaced
            raise self.blocked("destination", raw)
        if stat.S_ISLNK(st.st_mode):
            raise _refuse("destination", raw, "is a symlink; name the file itself", code="symlink_escape")
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(
                "destination", raw, f"is {kind_of(st.st_mode)}; a job writes regular files", code="not_a_file"
            )
        if (
            source is not None
            and source.st is not None
            and (st.st_dev, st.st_ino) == (source.st.st_dev, source.st.st_ino)
        ):
            raise _refuse("destination", raw, "is the source itself; write to another name", code="same_file")
        if not overwrite:
            raise AlreadyExists(
                f"destination {raw!r} exists; set overwrite to replace it",
                code="already_exists",
                metadata={"path": raw[:256]},
            )

    def locate(self, raw: str) -> Resolved:
        """``raw``'s directory opened under the roots, the final name not followed (for removing a
        file the engine made, such as an interrupted job's temporary)."""
        walk, name, st = self._walk("path", raw, follow_last=False)
        if not name:
            walk.close()
            raise _refuse("path", raw, "is a directory", code="not_a_file")
        return walk.take(name, st)


def check_free_space(directory_fd: int, needed: int, what: str, where: str) -> int:
    """Refuse before starting when the filesystem of the directory open as ``directory_fd`` has less
    than ``needed`` bytes free for this user (fstatvfs f_bavail); returns what is free."""
    st = os.fstatvfs(directory_fd)
    free = st.f_bavail * st.f_frsize
    if needed > free:
        raise InsufficientSpace(
            f"{what} needs up to {needed} bytes in {where!r}, which has {free} free",
            code="insufficient_space",
            metadata={"needed": needed, "free": free, "path": where},
        )
    return free
