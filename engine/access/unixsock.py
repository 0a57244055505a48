"""The engine's Unix sockets: the run directory, binding, and who is on the other end.

SIGMAVAULT_RUN_DIR holds ``engined.http.sock`` and ``engined.grpc.sock``. The directory is made
0750 and owned by this user and SIGMAVAULT_SOCKET_GROUP, the sockets 0660 with the same owners:
the kernel then lets only this user (root) and that group's members connect (EACCES for anyone
else), as Docker's socket does; a caller that gets in is an admin (frontends/auth.py).

A socket file left by an engine that died is removed before binding; one that still answers
belongs to a running engine, and start-up stops rather than steal it (checked before the engine
creates any file). The sockets are removed when the engine stops, and the run directory too when
this engine made it and nothing else is left in it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct

PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
DIR_MODE = 0o750
SOCKET_MODE = 0o660


class SocketError(OSError):
    """A run directory or socket that cannot be made as the rules want; the message says why."""


def check_run_dir(path: str) -> None:
    """What ``prepare_run_dir`` and ``bind_unix`` would refuse, found without making anything: a run
    directory that is not a directory or belongs to another user, a socket path taken by something
    else or still answered by a running engine (start-up checks this before it creates a file)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SocketError(f"cannot prepare SIGMAVAULT_RUN_DIR {path}: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise SocketError(f"SIGMAVAULT_RUN_DIR {path} is not a directory")
    if info.st_uid != os.geteuid():
        raise SocketError(f"SIGMAVAULT_RUN_DIR {path} belongs to uid {info.st_uid}, not to this user")


def prepare_run_dir(path: str, gid: int) -> bool:
    """The run directory exists, 0750, owned by this user and ``gid`` (group members may enter).
    True when it was made now (``remove_run_dir`` removes it at stop)."""
    try:
        made = not os.path.lexists(path)
        os.makedirs(path, mode=DIR_MODE, exist_ok=True)
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode):
            raise SocketError(f"SIGMAVAULT_RUN_DIR {path} is not a directory")
        if info.st_uid != os.geteuid():
            raise SocketError(f"SIGMAVAULT_RUN_DIR {path} belongs to uid {info.st_uid}, not to this user")
        if info.st_gid != gid:
            os.chown(path, -1, gid)
        os.chmod(path, DIR_MODE)
    except SocketError:
        raise
    except OSError as exc:
        raise SocketError(f"cannot prepare SIGMAVAULT_RUN_DIR {path}: {exc.strerror}") from None
    return made


def remove_run_dir(path: str) -> None:
    """Remove the run directory this engine made, if nothing is left in it (another engine's
    sockets, anything an administrator put there: it stays)."""
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _served(path: str) -> bool:
    """Whether ``path`` is a socket something still answers on (else: nothing there, or a dead one's)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(info.st_mode):
        raise SocketError(f"{path} exists and is not a socket: remove it or choose another SIGMAVAULT_RUN_DIR")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:  # ECONNREFUSED: a socket left by an engine that is gone
            return False
    return True


def check_not_served(path: str) -> None:
    """Refuse a socket path a running engine still answers on (or that holds something else)."""
    if _served(path):
        raise SocketError(f"another engine serves {path}: stop it, or give this one another SIGMAVAULT_RUN_DIR")


def remove_stale(path: str) -> None:
    """Remove a socket file nobody serves any more; refuse one a running engine still answers on."""
    check_not_served(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def restrict(path: str, gid: int) -> None:
    """Owner this user and ``gid``, mode 0660 (the directory already keeps everyone else out)."""
    os.chown(path, -1, gid)
    os.chmod(path, SOCKET_MODE)


def bind_unix(path: str, gid: int) -> socket.socket:
    """A listening Unix stream socket at ``path`` (not inheritable over exec), 0660 ``:gid``."""
    remove_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        restrict(path, gid)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise SocketError(f"cannot listen on {path}: {exc.strerror}") from None
    sock.set_inheritable(False)
    return sock


def unlink_quietly(*paths: str) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket (SO_PEERCRED)."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEERCRED.size)
    except OSError:
        return None
    return int(PEERCRED.unpack(raw)[1])
