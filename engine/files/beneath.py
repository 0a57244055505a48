"""Resolve a path beneath a root from a directory descriptor, one component at a time.

The root is opened by its configured name (the administrator's path; followed). Every component
after it is opened with ``openat(dir_fd, name, O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK)`` relative to
the descriptor of the one before, so no full path is looked up again and a component that is a
symlink is seen as one, even if it was swapped in a moment ago. A symlink is followed by hand, the
way the kernel would but never out of the roots: its target is read with ``readlinkat``; a
relative target continues from the directory holding the link, ``..`` pops the descriptor stack
(never past the root: ``Escape``), an absolute target must start with a root and restarts from it.
At most 40 links are followed (the kernel's ELOOP limit). Each directory is compared (device,
inode) with what file jobs never touch (``Blocked``).

``openat2(RESOLVE_BENEATH)`` does the same in one call on Linux 5.6+, but refuses absolute symlinks
that stay inside the root and needs ctypes: this walk costs one openat and one fstat per component
(a few microseconds each) and runs everywhere.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from engine.errors import Conflict

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
MAX_LINKS = 40


class Root(NamedTuple):
    written: str  # as configured
    real: str  # with its own symlinks resolved (at start)


class Escape(Exception):
    """A symlink leads out of the roots."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class Blocked(Exception):
    """The walk reached the data directory or a private file."""


class Missing(Exception):
    """A directory on the way does not exist."""

    def __init__(self, directory: str) -> None:
        super().__init__(directory)
        self.directory = directory


class NotDirectory(Missing):
    """A component on the way is not a directory (nor a symlink to one)."""


class Resolved:
    """A path resolved under a root: the descriptor of its directory (``dir_fd``) and its name there,
    what ``lstat`` found (``st``, None when nothing is there yet) and, for a source or a directory,
    the object itself opened (``fd``). ``path`` is what it resolved to, for messages and job records.
    Owns its descriptors: ``close`` (idempotent) or ``with``."""

    dir_fd: int = -1
    fd: int = -1

    def __init__(self, path: str, dir_fd: int, name: str, st: os.stat_result | None, fd: int = -1) -> None:
        self.path, self.dir_fd, self.name, self.st, self.fd = path, dir_fd, name, st, fd

    def __repr__(self) -> str:
        return f"Resolved({self.path!r}, dir_fd={self.dir_fd}, fd={self.fd})"

    @property
    def exists(self) -> bool:
        return self.st is not None

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)

    def lstat(self) -> os.stat_result | None:
        """What is under the name now (None: nothing), without following a symlink."""
        try:
            return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def close(self) -> None:
        fds, self.fd, self.dir_fd = (self.fd, self.dir_fd), -1, -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)

    def __enter__(self) -> Resolved:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def close_all(handles: Iterable[Resolved | None]) -> None:
    for handle in handles:
        if handle is not None:
            handle.close()


class Walk:
    """The stack of directory descriptors from the root to where the walk is (closed by ``close``
    unless handed over with ``take``)."""

    def __init__(
        self,
        root: Root,
        root_of: Callable[[str], tuple[Root, list[str]] | None],
        forbidden: Callable[[os.stat_result], bool],
    ) -> None:
        self._root_of = root_of
        self._forbidden = forbidden
        self.fds: list[int] = []
        self.names: list[str] = []
        self.root = root
        self._open_root(root)

    @property
    def top(self) -> int:
        return self.fds[-1]

    @property
    def path(self) -> str:
        return "/".join([self.root.real.rstrip("/"), *self.names]) or "/"

    def close(self) -> None:
        while self.fds:
            os.close(self.fds.pop())
        self.names.clear()

    def _open_root(self, root: Root) -> None:
        self.close()
        self.root = root
        try:
            fd = os.open(root.real, os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise Conflict(
                f"the job root {root.written!r} cannot be opened: {exc.strerror}",
                code="root_unavailable",
                metadata={"root": root.written},
            ) from None
        self._push(fd, None)

    def _push(self, fd: int, name: str | None) -> None:
        self.fds.append(fd)
        if name is not None:
            self.names.append(name)
        if self._forbidden(os.fstat(fd)):
            raise Blocked

    def run(self, parts: list[str], *, follow_last: bool) -> tuple[str, os.stat_result | None]:
        """Walk ``parts``; returns the final name (in ``top``) and its lstat (None: nothing there).
        The name is "" when the walk ended on a directory (a link to ``.``, to a root)."""
        todo, links = deque(parts), 0
        while todo:
            part = todo.popleft()
            if part == "..":
                if len(self.fds) == 1:
                    raise Escape(f"{self.path}/..")
                os.close(self.fds.pop())
                self.names.pop()
                continue
            if todo:  # a directory on the way
                fd = self._open_dir(part)
                if fd is None:
                    links = self._follow(part, todo, links)
                else:
                    self._push(fd, part)
                continue
            try:
                st = os.stat(part, dir_fd=self.top, follow_symlinks=False)
            except FileNotFoundError:
                return part, None
            if follow_last and stat.S_ISLNK(st.st_mode):
                links = self._follow(part, todo, links)
                continue
            return part, st
        return "", None

    def _open_dir(self, name: str) -> int | None:
        """The directory ``name`` opened, or None when it is a symlink (to follow by hand)."""
        for _ in range(3):  # a name flipping between a directory and something else: look again
            try:
                return os.open(name, DIR_FLAGS, dir_fd=self.top)
            except FileNotFoundError:
                raise Missing(f"{self.path}/{name}") from None
            except NotADirectoryError:  # O_DIRECTORY | O_NOFOLLOW on a symlink: ENOTDIR, as for a file
                pass
            try:
                st = os.stat(name, dir_fd=self.top, follow_symlinks=False)
            except FileNotFoundError:
                raise Missing(f"{self.path}/{name}") from None
            if stat.S_ISLNK(st.st_mode):
                return None
            if not stat.S_ISDIR(st.st_mode):
                raise NotDirectory(f"{self.path}/{name}")
        raise Missing(f"{self.path}/{name}")  # never the same thing twice: as good as not there

    def _follow(self, name: str, todo: deque[str], links: int) -> int:
        if links >= MAX_LINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
        try:
            target = os.readlink(name, dir_fd=self.top)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):  # no longer a symlink, or gone: it changed under the walk
                raise Missing(f"{self.path}/{name}") from None
            raise
        parts = [p for p in target.split("/") if p not in ("", ".")]
        if target.startswith("/"):
            found = self._root_of(target)
            if found is None:
                raise Escape(target)
            self._open_root(found[0])
            parts = found[1]
        todo.extendleft(reversed(parts))
        return links + 1

    def enter(self, name: str) -> None:
        """Step into the directory ``name`` (the final component of a walk that wants one)."""
        fd = self._open_dir(name)
        if fd is None:  # swapped for a symlink since the walk looked
            raise NotDirectory(f"{self.path}/{name}")
        self._push(fd, name)

    def take(self, name: str, st: os.stat_result | None, fd: int = -1) -> Resolved:
        """Hand over ``top`` (and ``fd``) as a Resolved; the rest of the stack is closed."""
        path = f"{self.path.rstrip('/')}/{name}"
        dir_fd = self.fds.pop()
        self.close()
        return Resolved(path, dir_fd, name, st, fd)

    def take_directory(self) -> Resolved:
        """The directory the walk ended in, as a Resolved whose ``fd`` is that directory (and
        ``dir_fd`` a second descriptor of it: rewrap needs only the directory itself)."""
        path, fd = self.path, self.fds.pop()
        self.close()
        try:
            dup = os.dup(fd)
        except OSError:
            os.close(fd)
            raise
        return Resolved(path, dup, ".", os.fstat(fd), fd)
