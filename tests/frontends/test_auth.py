"""The access policy, the per-client cap and the log filters on their own (the served tests in
test_security.py, test_tls.py and tests/system/test_exposed.py drive them through real ports)."""

from __future__ import annotations

import logging
import stat
from typing import TYPE_CHECKING

import grpc
import pytest

from engine.access.credentials import (
    CredentialError,
    add_named_token,
    is_loopback,
    parse_tokens,
    remove_named_token,
    token_digest,
)
from frontends.auth import (
    CALLS,
    HTTP_CALLS,
    AccessPolicy,
    grpc_call_name,
    grpc_method_is_open,
    grpc_peer_host,
    http_call_name,
    http_path_is_open,
    is_read,
)
from frontends.caller import Caller
from frontends.errors import ErrorAnswer
from frontends.limits import ClientLimiter
from frontends.logfilters import OneLineClientErrors, RedactCredentials, install

if TYPE_CHECKING:
    from pathlib import Path

TOKEN = "0123456789abcdef0123"
READ = "read-token-0123456789abcdef"
OPS = "ops-token-0123456789abcdef"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("engine.example", False),
        ("fe80::1%eth0", False),
    ],
)
def test_loopback_is_decided_without_dns(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def _named_tokens(path: Path, *entries: tuple[str, str, str]) -> Path:
    path.write_text("# name role hash\n" + "".join(f"{n} {r} sha256:{token_digest(t).hex()}\n" for n, r, t in entries))
    path.chmod(0o600)
    return path


def test_the_admin_token_and_named_tokens_with_roles(tmp_path: Path) -> None:
    tokens = _named_tokens(tmp_path / "tokens", ("prometheus", "read", READ), ("ops", "admin", OPS))
    policy = AccessPolicy(TOKEN, tokens_file=str(tokens), socket_hint="/run/sigmavault", token_hint="/d/api-token")
    assert policy.authenticate(f"Bearer {TOKEN}", "http", "127.0.0.1") == Caller("admin", "admin", "http", "127.0.0.1")
    assert policy.authenticate(f"  bearer   {READ} ", "grpc", "10.0.0.7") == Caller(
        "prometheus", "read", "grpc", "10.0.0.7"
    )
    ops = policy.authenticate(f"Bearer {OPS}", "websocket", "::1")
    assert isinstance(ops, Caller) and (ops.name, ops.role) == ("ops", "admin")
    missing = policy.authenticate(None, "http", "127.0.0.1")
    assert isinstance(missing, ErrorAnswer) and (missing.http_status, missing.grpc_code) == (
        401,
        grpc.StatusCode.UNAUTHENTICATED,
    )
    assert "/run/sigmavault" in missing.message and "/d/api-token" in missing.message  # how to get in
    assert missing.headers()["WWW-Authenticate"] == 'Bearer realm="sigmavault"'
    for wrong in ("Bearer wrong", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer \u00e9t\u00e9", "Bearer "):
        refused = policy.authenticate(wrong, "http", "127.0.0.1")
        assert isinstance(refused, ErrorAnswer) and refused.code == "unauthenticated", wrong
        assert 'error="invalid_token"' in refused.headers()["WWW-Authenticate"] and TOKEN not in refused.message


def test_roles_decide_by_the_call_table() -> None:
    policy = AccessPolicy(TOKEN)
    reader = Caller("prometheus", "read", "grpc", "10.0.0.7")
    assert policy.authorize(reader, "storage.ListPools", is_read("storage.ListPools")) is None
    for call in (
        "storage.DestroyPool",
        "storage.CreatePool",
        "compression.StartJob",
        "compression.ReadRange",
        "agents.DispatchTask",
        "no.SuchCall",
    ):
        refused = policy.authorize(reader, call, is_read(call))
        assert refused is not None and (refused.http_status, refused.grpc_code) == (
            403,
            grpc.StatusCode.PERMISSION_DENIED,
        )
        assert refused.metadata == {"call": call, "required_role": "admin", "role": "read"}
        assert "'admin'" in refused.message
    assert policy.authorize(AccessPolicy.unix_caller("http", 0), "storage.DestroyPool", False) is None
    assert AccessPolicy.unix_caller("grpc", None).name == "unix" and AccessPolicy.unix_caller("http", 1000).uid == 1000


def test_named_tokens_file_is_strict_and_reread_when_it_changes(tmp_path: Path) -> None:
    tokens = _named_tokens(tmp_path / "tokens", ("prometheus", "read", READ))
    tokens.chmod(0o644)
    with pytest.raises(CredentialError, match="chmod it 0600"):
        AccessPolicy(TOKEN, tokens_file=str(tokens))
    tokens.chmod(0o600)
    for bad, rule in (
        ("a read sha256:00", "the hash must be"),
        ("a writer sha256:" + "0" * 64, "the role"),
        ("-a read sha256:" + "0" * 64, "a token's name"),
        ("a read", "expected"),
    ):
        with pytest.raises(CredentialError, match=rule):
            parse_tokens(bad)
    policy = AccessPolicy(TOKEN, tokens_file=str(tokens))
    assert policy.identify(OPS) is None
    added = add_named_token(str(tokens), "ops", "admin")
    policy._next_reload = 0.0  # the once-a-second look at the file, now
    assert policy.identify(added) == ("ops", "admin") and policy.identify(READ) == ("prometheus", "read")
    assert added not in tokens.read_text() and stat.S_IMODE(tokens.stat().st_mode) == 0o600
    with pytest.raises(CredentialError, match="exists already"):
        add_named_token(str(tokens), "ops", "read")
    assert remove_named_token(str(tokens), "ops") and not remove_named_token(str(tokens), "ops")


def test_every_call_of_both_transports_has_one_name_in_the_policy() -> None:
    from frontends.calls.storage import CALLS as STORAGE_CALLS
    from perf.fuzz.grpc_cases import rpc_methods

    for method in rpc_methods():
        name = grpc_call_name(method.path)
        assert grpc_method_is_open(method.path) or name in CALLS, method.path
    assert grpc_call_name("/sigmavault.v1.StorageService/DestroyPool") == "storage.DestroyPool"
    assert grpc_call_name("/sigmavault.v1.CompressionService/ReadRange") == "compression.ReadRange"
    assert http_call_name("GET", "/api/v1/compression/files/range") == "compression.ReadRange"
    assert not is_read("compression.ReadRange")  # file contents read as root: admin, on both transports
    assert grpc_method_is_open("/grpc.health.v1.Health/Check") and not grpc_method_is_open("/x.Health/Check")
    assert grpc_peer_host("ipv4:127.0.0.1:5000") == "127.0.0.1" and grpc_peer_host("ipv6:[::1]:5000") == "::1"
    assert grpc_peer_host("unix:/run/x.sock") is None
    for (verb, path), name in HTTP_CALLS.items():  # the storage routes are named by their RPC
        assert name in CALLS or http_path_is_open(path), (verb, path)
    assert all(f"storage.{rpc}" in CALLS for rpc in STORAGE_CALLS)


def test_client_limiter_counts_per_client_and_forgets_idle_ones() -> None:
    limiter = ClientLimiter(2)
    assert limiter.enabled and not ClientLimiter(0).enabled
    assert limiter.try_acquire("a") and limiter.try_acquire("a") and not limiter.try_acquire("a")
    assert limiter.try_acquire("b") and limiter.inflight("a") == 2 and limiter.active_clients() == 2
    limiter.release("a")
    assert limiter.try_acquire("a")
    for _ in range(2):
        limiter.release("a")
    limiter.release("b")
    assert limiter.active_clients() == 0 and limiter.refused == 1
    assert limiter.refusal.headers() == {"Retry-After": "1"}
    assert limiter.refusal.grpc_code == grpc.StatusCode.RESOURCE_EXHAUSTED and limiter.refusal.code == "client_limit"


def test_log_filters_redact_credentials_and_drop_client_tracebacks() -> None:
    record = logging.LogRecord(
        "uvicorn.error", logging.DEBUG, __file__, 1, "< %s: %s", ("authorization", f"Bearer {TOKEN}"), None
    )
    assert RedactCredentials().filter(record)
    assert record.getMessage() == "< authorization: <redacted>"
    plain = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "GET /healthz %s", ("200",), None)
    assert RedactCredentials().filter(plain) and plain.getMessage() == "GET /healthz 200"
    try:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    except UnicodeDecodeError:
        import sys

        failed = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Invalid UTF-8 sequence received from client.",
            (),
            sys.exc_info(),
        )
    assert OneLineClientErrors().filter(failed) and failed.exc_info is None
    install()
    install()
    kinds = [type(f) for f in logging.getLogger("uvicorn.error").filters]
    assert kinds.count(RedactCredentials) == 1 and kinds.count(OneLineClientErrors) == 1
