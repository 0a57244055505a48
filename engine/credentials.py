"""What the security settings name, checked once at start: the API token (or the file holding it),
the TLS certificate, key and client CA, and whether an address is loopback.

engine/config.py calls these while it builds the configuration, so a wrong file mode, an unreadable
certificate or a short token stops start-up with one line, like any other bad setting. Nothing here
ever puts a token in a message: errors name the variable and the rule, never the value.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import stat
from functools import lru_cache
from pathlib import Path

TOKEN_MIN_CHARS = 16
REDACTED = "<redacted>"


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


def read_token_file(path: str) -> str:
    """The token held in ``path`` (surrounding whitespace dropped); the file must be mode 0600."""
    file = Path(path)
    _private_file(file)
    try:
        text = file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise CredentialError("cannot be read as ASCII text") from None
    return check_token(text)


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
