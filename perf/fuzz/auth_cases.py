"""Auth: every operation of the engine, sent without a credential, with wrong ones and with a read-only one.

The operations come from the engine itself (every HTTP operation of /openapi.json, every RPC in the
proto descriptors, the WebSocket), so a new route or RPC is covered as it lands. Each round sends each
operation once with one credential of:

- none, and wrong ones (a random token, a token one character off, another scheme, an empty bearer,
  bytes a header should not carry): everything but the health probes must be refused 401 /
  UNAUTHENTICATED;
- the read-only token: a call that changes state must be refused 403 / PERMISSION_DENIED, a read must
  get past the access check (any answer but 401/403, with the few admin-only reads named below).

Anything else is a case *wrongly admitted* (or wrongly refused) and fails the surface. The request
bodies are empty: the access check comes before the body is read, so a body cannot change the verdict,
and a call that is wrongly admitted does nothing harmful with an empty request.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
import httpx
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from perf.fuzz.grpc_cases import rpc_methods
from perf.fuzz.report import SurfaceReport

if TYPE_CHECKING:
    from perf.fuzz.grpc_cases import Method

CALL_TIMEOUT_S = 10.0
STREAM_TIMEOUT_S = 2.0  # a Watch* admitted sends nothing until something happens: its deadline is the answer
OPEN_HTTP = frozenset({"/healthz", "/readyz", "/"})  # the probes and the dashboard's page (no data in it)
OPEN_GRPC = ("/grpc.health.v1.Health/",)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_RPC_PREFIXES = ("Get", "List", "Watch")
READ_RPC_SERVICES = ("/grpc.reflection.",)
# reads that only an admin may make (the audit log says who did what on the box)
# reads that only an admin may make: the audit log (who did what on the box) and a file's bytes (the range
# read hands out what the engine reads as root, like the file jobs that wrote it)
ADMIN_READS = frozenset(
    {
        "GET /api/v1/audit",
        "/sigmavault.v1.SystemService/ListAuditEntries",
        "GET /api/v1/compression/files/range",
    }
)
# the dashboard's session (frontends/http_api/session.py, served by the access middleware, not a route of the
# OpenAPI document): any valid credential may open, read and close its own; nothing else may
SESSION = (("POST", "/api/v1/session"), ("GET", "/api/v1/session"), ("DELETE", "/api/v1/session"))
NONE, WRONG, READ = "none", "wrong", "read"


@dataclass(frozen=True)
class Credential:
    kind: str  # NONE, WRONG or READ
    header: str | None  # the Authorization value, None: not sent


def wrong_credentials(rng: random.Random, read_token: str) -> list[Credential]:
    """Credentials that must not open anything: each round draws a fresh set."""
    other = "".join(rng.choice("0123456789abcdef") for _ in range(len(read_token)))
    flipped = read_token[:-1] + ("0" if read_token[-1] != "0" else "1")
    junk = "".join(chr(rng.randrange(0x21, 0x7F)) for _ in range(rng.randrange(1, 80)))
    return [
        Credential(NONE, None),
        Credential(WRONG, f"Bearer {other}"),
        Credential(WRONG, f"Bearer {flipped}"),
        Credential(WRONG, f"Basic {read_token}"),
        Credential(WRONG, "Bearer"),  # the scheme alone (a value with a trailing space cannot be sent)
        Credential(WRONG, f"Bearer {junk}"),
        Credential(WRONG, read_token),  # the token without its scheme
    ]


def _fill(path: str) -> str:
    """A concrete path for a template: every ``{param}`` gets a harmless value that names nothing."""
    return re.sub(r"\{[^}]+\}", "fuzz-auth-0", path)


def http_operations(client: httpx.Client) -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation the engine documents."""
    document = client.get("/openapi.json").raise_for_status().json()
    methods = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
    out = [(m.upper(), path) for path, item in document["paths"].items() for m in item if m.upper() in methods]
    return sorted(out)


def _http_verdict(label: str, method: str, path: str, credential: Credential, status: int) -> str | None:
    """None when ``status`` is right for this call and credential, else what is wrong."""
    if path in OPEN_HTTP:
        return None if status < 500 else f"{status} on a health probe"
    if (method, path) in SESSION:
        if credential.kind == READ:
            return None if status < 400 else f"{status}: the session refused a valid read-only token"
        return None if status in (400, 401) else f"{status}: the session admitted a {credential.kind} credential"
    if credential.kind != READ:
        return None if status == 401 else f"{status}: not refused 401 without a valid credential"
    if method not in READ_METHODS or label in ADMIN_READS:
        return None if status == 403 else f"{status}: a read-only token was not refused 403"
    return None if status not in (401, 403) else f"{status}: a read-only token was refused a read"


def _rpc_is_read(path: str) -> bool:
    return path.startswith(READ_RPC_SERVICES) or path.rpartition("/")[2].startswith(READ_RPC_PREFIXES)


def _grpc_verdict(path: str, credential: Credential, code: grpc.StatusCode) -> str | None:
    if path.startswith(OPEN_GRPC):
        return None if code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN) else f"{code.name} on health"
    if credential.kind != READ:
        return None if code == grpc.StatusCode.UNAUTHENTICATED else f"{code.name}: not refused UNAUTHENTICATED"
    if not _rpc_is_read(path) or path in ADMIN_READS:
        return None if code == grpc.StatusCode.PERMISSION_DENIED else f"{code.name}: read-only token not refused"
    refused = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
    return None if code not in refused else f"{code.name}: a read-only token was refused a read"


def _grpc_code(channel: grpc.Channel, method: Method, header: str | None) -> grpc.StatusCode:
    metadata = (("authorization", header),) if header is not None else ()
    try:
        if method.client_streaming and method.server_streaming:
            for _ in channel.stream_stream(method.path)(iter([b""]), timeout=STREAM_TIMEOUT_S, metadata=metadata):
                break
        elif method.client_streaming:
            channel.stream_unary(method.path)(iter([b""]), timeout=CALL_TIMEOUT_S, metadata=metadata)
        elif method.server_streaming:
            for _ in channel.unary_stream(method.path)(b"", timeout=STREAM_TIMEOUT_S, metadata=metadata):
                break
        else:
            channel.unary_unary(method.path)(b"", timeout=CALL_TIMEOUT_S, metadata=metadata)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def _ws_case(url: str, credential: Credential, report: SurfaceReport) -> None:
    """The relay is a read: a read token gets in, nothing else does (refused at the upgrade, or closed
    after a first message that carries no valid token)."""
    headers = {"Authorization": credential.header} if credential.header is not None else {}
    try:
        with connect(url, additional_headers=headers, open_timeout=CALL_TIMEOUT_S) as ws:
            first: object = ws.recv(timeout=CALL_TIMEOUT_S)
            admitted = '"server.hello"' in str(first)
    except InvalidStatus as exc:
        admitted, first = False, exc.response.status_code
    except (WebSocketException, OSError, TimeoutError) as exc:
        admitted, first = False, type(exc).__name__
    report.record(f"ws {credential.kind} {'in' if admitted else 'refused'}")
    if admitted != (credential.kind == READ):
        report.fail(
            f"/ws with a {credential.kind} credential ({credential.header!r:.40}): admitted={admitted} ({first!r:.80})"
        )


def fuzz_auth(
    base_url: str,
    channel: grpc.Channel,
    *,
    admin_headers: dict[str, str],
    read_token: str,
    cases: int,
    seconds: float,
    seed: int = 0,
) -> SurfaceReport:
    """Rounds over every operation until ``cases`` or ``seconds``; see the module docstring."""
    report = SurfaceReport("auth")
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    read = Credential(READ, f"Bearer {read_token}")
    with httpx.Client(base_url=base_url, timeout=CALL_TIMEOUT_S, headers=admin_headers) as admin:
        operations = [*http_operations(admin), *SESSION]
    methods = rpc_methods()
    report.operations = len(operations) + len(methods) + 1
    ws_url = base_url.replace("http", "ws", 1) + "/ws"
    with httpx.Client(base_url=base_url, timeout=CALL_TIMEOUT_S) as http:
        while report.cases < cases and time.monotonic() < deadline:
            credentials = [*wrong_credentials(rng, read_token), read]
            for method, path in operations:
                credential = rng.choice(credentials)
                label = f"{method} {path}"
                headers = {"Authorization": credential.header} if credential.header is not None else {}
                http.cookies.clear()  # a session a read token opened must not carry over to the next case
                try:
                    status = http.request(method, _fill(path), headers=headers).status_code
                except httpx.TimeoutException:
                    report.hung += 1
                    report.fail(f"hung: {label} with {credential.kind}")
                    continue
                report.record(f"{status} {credential.kind}")
                wrong = _http_verdict(label, method, path, credential, status)
                if wrong:
                    report.fail(f"{label} with {credential.kind} credential {credential.header!r:.40}: {wrong}")
            for rpc_method in methods:
                credential = rng.choice(credentials)
                code = _grpc_code(channel, rpc_method, credential.header)
                report.record(f"{code.name} {credential.kind}")
                wrong = _grpc_verdict(rpc_method.path, credential, code)
                if wrong:
                    report.fail(
                        f"{rpc_method.path} with {credential.kind} credential {credential.header!r:.40}: {wrong}"
                    )
            _ws_case(ws_url, rng.choice(credentials), report)
    return report
