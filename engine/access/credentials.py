"""What the security settings name, checked once at start: the API token (or the file holding it, or
the one generated into ``<data_dir>/api-token``), the named tokens file, the TLS certificate, key and
client CA, and whether an address is loopback.

engine/config.py calls these while it builds the configuration, so a wrong file mode, an unreadable
certificate or a short token stops start-up with one line, like any other bad setting. Nothing here
ever puts a token in a message: errors name the variable and the rule, never the value.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import ssl
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from engine.common.fsutil import write_private

TokenRole = Literal["admin", "read"]

TOKEN_MIN_CHARS = 16
REDACTED = "<redacted>"
GENERATED_TOKEN_NAME = "api-token"  # <data_dir>/api-token: the admin token made at first start
ROLES: tuple[TokenRole, ...] = ("admin", "read")
RESERVED_NAMES = frozenset({"admin", "unix"})  # the admin token's and the gRPC socket's callers
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HASH = re.compile(r"^sha256:([0-9a-f]{64})$")


class CredentialError(ValueError):
    """A security setting's file or value breaks a rule; ``rule`` says which (never the secret)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


@lru_cache(maxsize=4096)
def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.0.0.1), and the name ``localhost``.
    Any other name counts as not loopback: deciding by DNS would let a resolver open the engine."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_token(token: str) -> str:
    """A bearer token: at least 16 visible ASCII characters (what an HTTP header can carry as is)."""
    token = token.strip()
    if len(token) < TOKEN_MIN_CHARS or not all(0x21 <= ord(c) <= 0x7E for c in token):
        raise CredentialError(
            f"must be at least {TOKEN_MIN_CHARS} visible ASCII characters without spaces "
            "(e.g. the output of `openssl rand -hex 32`)"
        )
    return token


def _private_file(path: Path, *, others_only: bool = False) -> os.stat_result:
    try:
        info = path.stat()
    except OSError as exc:
        raise CredentialError(f"cannot read it: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CredentialError("is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    forbidden = 0o007 if others_only else 0o077
    if mode & forbidden:
        who = "other users" if others_only else "its group or other users"
        want = "0640 or 0600" if others_only else "0600"
        raise CredentialError(f"is readable or writable by {who} (mode {mode:04o}); chmod it {want}")
    if not os.access(path, os.R_OK):
        raise CredentialError("is not readable by this user")
    return info


def _private_text(file: Path) -> str:
    """The ASCII text of a file only its owner may read or write (0600)."""
    _private_file(file)
    try:
        return file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise CredentialError("cannot be read as ASCII text") from None


def read_token_file(path: str) -> str:
    """The token held in ``path`` (surrounding whitespace dropped); the file must be mode 0600."""
    return check_token(_private_text(Path(path)))


def check_certificate(path: str) -> None:
    """A PEM file ``ssl`` can read as a CA bundle (a server or CA certificate)."""
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise CredentialError(f"is not a readable PEM certificate: {exc}") from None


def check_key_pair(cert: str, key: str) -> None:
    """The private key is not readable by other users, and it matches the certificate."""
    _private_file(Path(key), others_only=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise CredentialError(f"does not load with the certificate: {exc}") from None


def token_digest(token: str) -> bytes:
    """The SHA-256 of a token: what the named tokens file keeps and what calls are compared by."""
    return hashlib.sha256(token.encode("ascii", errors="replace")).digest()


def load_or_create_token(data_dir: str) -> tuple[str, str, bool]:
    """The admin token of an engine given none: ``<data_dir>/api-token``, made at first start
    (``secrets.token_hex(32)``, mode 0600, created exclusively) and read as is afterwards.
    Returns (token, path, created); a file that breaks the rules raises CredentialError."""
    path = Path(data_dir) / GENERATED_TOKEN_NAME
    token, created = load_or_create_secret(path)
    return token, str(path), created


def load_or_create_secret(path: Path) -> tuple[str, bool]:
    """A 64-hex-digit secret kept in ``path`` (made 0600 and exclusively when missing, checked
    as a token file otherwise); True when it was made now. Made whole or not at all: a crash, or
    another process starting at the same moment, never finds it half written."""
    secret = secrets.token_hex(32)
    try:
        write_private(path, (secret + "\n").encode("ascii"), overwrite=False)
    except FileExistsError:
        return read_token_file(str(path)), False
    except OSError as exc:
        raise CredentialError(f"cannot create {path}: {exc.strerror}") from None
    return secret, True


@dataclass(frozen=True, slots=True)
class NamedToken:
    """One line of the named tokens file: ``name role sha256:<hex>``. The token itself is never kept."""

    name: str
    role: TokenRole
    digest: bytes = b""

    def line(self) -> str:
        return f"{self.name} {self.role} sha256:{self.digest.hex()}"


def check_token_name(name: str) -> str:
    if not _TOKEN_NAME.match(name):
        raise CredentialError(
            "a token's name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    if name in RESERVED_NAMES:  # a named token called so could not be told from them in the access and audit logs
        raise CredentialError(
            f"the name {name!r} is reserved: the access and audit logs name the admin token's callers 'admin' and "
            "the Unix sockets' callers 'unix'; choose another"
        )
    return name


def parse_tokens(text: str) -> list[NamedToken]:
    """The named tokens file's lines (``#`` comments and blank lines allowed); a bad line raises
    CredentialError naming its number (never its hash)."""
    out: list[NamedToken] = []
    names: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3:
            raise CredentialError(f"line {number}: expected 'name role sha256:<64 hex digits>'")
        name, role, hashed = parts
        try:
            check_token_name(name)
        except CredentialError as exc:
            raise CredentialError(f"line {number}: {exc.rule}") from None
        if role not in ROLES:
            raise CredentialError(f"line {number}: the role must be one of {', '.join(ROLES)}")
        match = _HASH.match(hashed)
        if match is None:
            raise CredentialError(f"line {number}: the hash must be sha256:<64 lowercase hex digits>")
        if name in names:
            raise CredentialError(f"line {number}: the name {name!r} is given twice")
        names.add(name)
        out.append(NamedToken(name, role, bytes.fromhex(match.group(1))))
    return out


def read_tokens_file(path: str) -> list[NamedToken]:
    """The named tokens of ``path`` (mode 0600, like the token file); a missing file holds none."""
    file = Path(path)
    if not file.exists():
        return []
    return parse_tokens(_private_text(file))


def add_named_token(path: str, name: str, role: TokenRole) -> str:
    """Append a new token's hash to ``path`` (created 0600) and return the token (shown once)."""
    check_token_name(name)
    existing = read_tokens_file(path)
    if any(t.name == name for t in existing):
        raise CredentialError(f"a token named {name!r} exists already (remove it first)")
    token = secrets.token_hex(32)
    entry = NamedToken(name, role, token_digest(token))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as f:
        f.write(entry.line() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return token


def remove_named_token(path: str, name: str) -> NamedToken | None:
    """Drop the token named ``name`` (the file rewritten under a temporary name); returns it, None if absent."""
    existing = read_tokens_file(path)
    kept = [t for t in existing if t.name != name]
    if len(kept) == len(existing):
        return None
    write_private(Path(path), "".join(t.line() + "\n" for t in kept).encode("ascii"))
    return next(t for t in existing if t.name == name)


def digest_matches(presented: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(presented, expected)
