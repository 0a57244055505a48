"""Which paths a file job may read and write: the rules, each refusal naming the one it broke.

A path must be absolute, without ``..`` components, under one of the roots (the data directory and
SIGMAVAULT_JOB_ROOTS) both as written and once every symlink is resolved (a link inside a root that
points out of it is refused); a source must be an existing regular file (not a directory, device,
FIFO or socket); a destination's directory must exist under a root, and an existing destination is
replaced only with ``overwrite`` (else AlreadyExists) and only if it is a regular file.

The checks run before a job is queued; the job opens the resolved source with O_NOFOLLOW and
checks the descriptor again, so a file swapped for a FIFO in between fails rather than hangs.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import AlreadyExists, BadRequest, InsufficientSpace, NotFound

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_PATH_CHARS = 4096
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse(what: str, path: str, rule: str, code: str = "invalid_path") -> BadRequest:
    return BadRequest(f"{what} {path!r} {rule}", code=code, metadata={"path": path[:256]})


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file" if not stat.S_ISREG(mode) else "a regular file"


@dataclass(frozen=True)
class Destination:
    path: Path  # resolved directory + the final name as given
    exists: bool


class PathPolicy:
    """The roots file jobs are confined to (resolved once, at start)."""

    def __init__(self, roots: Iterable[str]) -> None:
        given = [os.path.normpath(r) for r in roots if r]
        self.roots = tuple(dict.fromkeys(os.path.realpath(r) for r in given))
        self._written = tuple(dict.fromkeys([*given, *self.roots]))  # a root may itself be a symlink

    def __repr__(self) -> str:
        return f"PathPolicy(roots={self.roots})"

    @staticmethod
    def _under(path: str, roots: tuple[str, ...]) -> bool:
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)

    def _inside(self, path: str) -> bool:
        return self._under(path, self._written)

    def _lexical(self, what: str, raw: str) -> str:
        if not isinstance(raw, str) or not raw:
            raise BadRequest(f"{what} path is missing", code="invalid_path")
        if len(raw) > MAX_PATH_CHARS or "\0" in raw:
            raise _refuse(what, raw[:64], f"is not a usable path (over {MAX_PATH_CHARS} characters or a NUL byte)")
        if not os.path.isabs(raw):
            raise _refuse(what, raw, "is not absolute: give the full path")
        if ".." in raw.split("/"):
            raise _refuse(what, raw, "contains '..': paths must not climb out of a directory", code="path_escape")
        normal = os.path.normpath(raw)
        if not self._inside(normal):
            raise _refuse(what, raw, f"is outside the directories file jobs may use ({', '.join(self.roots)}; "
                          "SIGMAVAULT_JOB_ROOTS adds more)", code="outside_roots")  # fmt: skip
        return normal

    def _resolved(self, what: str, raw: str, normal: str) -> str:
        real = os.path.realpath(normal)
        if not self._under(real, self.roots):
            if real == normal:
                raise _refuse(what, raw, f"is outside the directories file jobs may use ({', '.join(self.roots)})",
                              code="outside_roots")  # fmt: skip
            raise _refuse(what, raw, f"resolves through a symlink to {real!r}, outside the directories file jobs "
                          "may use", code="symlink_escape")  # fmt: skip
        return real

    def source(self, raw: str) -> Path:
        """An existing regular file under the roots, resolved."""
        real, mode = self._existing("source", raw)
        if not stat.S_ISREG(mode):
            raise _refuse("source", raw, f"is {kind_of(mode)}; file jobs read regular files", code="not_a_file")
        return Path(real)

    def existing(self, raw: str) -> Path:
        """An existing file or directory under the roots (rewrap takes both), resolved."""
        real, mode = self._existing("path", raw)
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise _refuse("path", raw, f"is {kind_of(mode)}; give a file or a directory", code="not_a_file")
        return Path(real)

    def _existing(self, what: str, raw: str) -> tuple[str, int]:
        """``raw`` checked and resolved under the roots, and its mode; 404 when it does not exist."""
        real = self._resolved(what, raw, self._lexical(what, raw))
        try:
            return real, os.stat(real).st_mode
        except FileNotFoundError:
            raise NotFound(f"{what} {raw!r} does not exist", code="not_found", metadata={"path": raw[:256]}) from None
        except OSError as exc:  # a name over NAME_MAX, a symlink loop, a permission
            raise _refuse(what, raw, f"cannot be read: {exc.strerror}") from None

    def destination(self, raw: str, overwrite: bool, source: Path | None = None) -> Destination:
        """Where a job may write: the directory resolved under the roots, the name as given."""
        normal = self._lexical("destination", raw)
        name = os.path.basename(normal)
        if not name or raw.endswith("/") or name in (".", ".."):
            raise _refuse("destination", raw, "names a directory, not a file", code="not_a_file")
        parent = self._resolved("destination", raw, os.path.dirname(normal))
        if not os.path.isdir(parent):
            raise _refuse("destination", raw, f"is in {os.path.dirname(normal)!r}, which is not an existing "
                          "directory", code="no_directory")  # fmt: skip
        path = Path(parent) / name
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return Destination(path, False)
        except OSError as exc:  # a name over NAME_MAX (255 bytes), a permission
            raise _refuse("destination", raw, f"cannot be used: {exc.strerror}") from None
        if stat.S_ISLNK(st.st_mode):
            raise _refuse("destination", raw, "is a symlink; name the file itself", code="symlink_escape")
        if not stat.S_ISREG(st.st_mode):
            raise _refuse("destination", raw, f"is {kind_of(st.st_mode)}; a job writes regular files",
                          code="not_a_file")  # fmt: skip
        if source is not None and os.path.samefile(path, source):
            raise _refuse("destination", raw, "is the source itself; write to another name", code="same_file")
        if not overwrite:
            raise AlreadyExists(f"destination {raw!r} exists; set overwrite to replace it", code="already_exists",
                                metadata={"path": raw[:256]})  # fmt: skip
        return Destination(path, True)


def check_free_space(directory: Path, needed: int, what: str) -> int:
    """Refuse before starting when ``directory``'s filesystem has less than ``needed`` bytes free
    for this user (statvfs f_bavail); returns what is free."""
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    if needed > free:
        raise InsufficientSpace(f"{what} needs up to {needed} bytes in {str(directory)!r}, which has {free} free",
                                code="insufficient_space",
                                metadata={"needed": needed, "free": free, "path": str(directory)})  # fmt: skip
    return free
