"""The access policy, the per-client cap and the log filters on their own (the served tests in
test_security.py, test_tls.py and tests/system/test_exposed.py drive them through real ports)."""

from __future__ import annotations

import logging

import grpc
import pytest

from engine.credentials import is_loopback
from frontends.auth import AccessPolicy, client_key, grpc_method_is_open, grpc_method_is_read, grpc_peer_host
from frontends.limits import ClientLimiter
from frontends.logfilters import OneLineClientErrors, RedactCredentials, install

TOKEN = "0123456789abcdef0123"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("::ffff:10.0.0.1", False),
     ("engine.example", False), ("fe80::1%eth0", False)],
)  # fmt: skip
def test_loopback_is_decided_without_dns(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_policy_without_a_token_serves_loopback_only() -> None:
    policy = AccessPolicy("")
    assert not policy.enabled
    assert policy.refusal("127.0.0.1", read=False, authorization=None) is None
    assert policy.refusal(None, read=False, authorization=None) is None  # a Unix socket is local
    refused = policy.refusal("10.0.0.7", read=True, authorization=f"Bearer {TOKEN}")
    assert refused is not None and (refused.http_status, refused.grpc_code) == (403, grpc.StatusCode.PERMISSION_DENIED)
    assert refused.code == "loopback_only"


def test_policy_with_a_token() -> None:
    policy = AccessPolicy(TOKEN)
    ok = f"Bearer {TOKEN}"
    assert policy.refusal("127.0.0.1", read=True, authorization=None) is None
    assert policy.refusal("10.0.0.7", read=True, authorization=ok) is None
    assert policy.refusal("10.0.0.7", read=False, authorization=f"  bearer   {TOKEN} ") is None
    for host, read, authorization in (("127.0.0.1", False, None), ("10.0.0.7", True, None),
                                      ("127.0.0.1", True, "Bearer wrong"), ("127.0.0.1", True, TOKEN),
                                      ("127.0.0.1", True, f"Basic {TOKEN}"), ("127.0.0.1", True, f"Bearer {TOKEN}x"),
                                      ("127.0.0.1", True, "Bearer \u00e9t\u00e9")):  # fmt: skip
        refused = policy.refusal(host, read=read, authorization=authorization)
        assert refused is not None, (host, read, authorization)
        assert (refused.http_status, refused.grpc_code, refused.code) == (401, grpc.StatusCode.UNAUTHENTICATED,
                                                                          "unauthenticated")  # fmt: skip
        assert TOKEN not in refused.message
        challenge = refused.headers()["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="sigmavault"')
        assert ('error="invalid_token"' in challenge) is (authorization is not None)


def test_grpc_method_classes_and_peers() -> None:
    for method in (
        "/sigmavault.v1.AgentService/GetAgent",
        "/sigmavault.v1.AgentService/ListAgentTasks",
        "/sigmavault.v1.JobService/WatchJob",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ):
        assert grpc_method_is_read(method), method
    for method in ("/sigmavault.v1.AgentService/DispatchTask", "/sigmavault.v1.AgentService/DrainAgent",
                   "/sigmavault.v1.BlockService/ProcessStream", "/sigmavault.v1.StorageService/CreatePool",
                   "/sigmavault.v1.StorageService/DeleteVolume"):  # fmt: skip
        assert not grpc_method_is_read(method), method
    assert grpc_method_is_open("/grpc.health.v1.Health/Check") and not grpc_method_is_open("/x.Health/Check")
    assert grpc_peer_host("ipv4:127.0.0.1:5000") == "127.0.0.1"
    assert grpc_peer_host("ipv6:[::1]:5000") == "::1"
    assert grpc_peer_host("unix:/run/x.sock") is None
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3" and client_key(None) == "local" and client_key("::1") == "::1"


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
    record = logging.LogRecord("uvicorn.error", logging.DEBUG, __file__, 1, "< %s: %s",
                               ("authorization", f"Bearer {TOKEN}"), None)  # fmt: skip
    assert RedactCredentials().filter(record)
    assert record.getMessage() == "< authorization: <redacted>"
    plain = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "GET /healthz %s", ("200",), None)
    assert RedactCredentials().filter(plain) and plain.getMessage() == "GET /healthz 200"
    try:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    except UnicodeDecodeError:
        import sys

        failed = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1,
                                   "Invalid UTF-8 sequence received from client.", (), sys.exc_info())  # fmt: skip
    assert OneLineClientErrors().filter(failed) and failed.exc_info is None
    install()
    install()
    kinds = [type(f) for f in logging.getLogger("uvicorn.error").filters]
    assert kinds.count(RedactCredentials) == 1 and kinds.count(OneLineClientErrors) == 1
