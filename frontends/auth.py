"""Who may call what: one AccessPolicy for HTTP, the WebSocket and gRPC (docs/SECURITY.md).

Nobody is anonymous, loopback included. A call is let in by one of two ways:

- the Unix sockets under SIGMAVAULT_RUN_DIR (engined.http.sock, engined.grpc.sock): the kernel
  admits whoever may open them (root and SIGMAVAULT_SOCKET_GROUP, the directory is 0750 and the
  sockets 0660), so such a caller acts as ``admin``, named ``uid:<n>`` where the transport reads
  SO_PEERCRED (HTTP) and ``unix`` where it cannot (gRPC);
- a bearer token on the TCP ports (``Authorization: Bearer <token>``, gRPC metadata
  ``authorization``, the dashboard's session cookie, or the WebSocket's first message): the admin
  token (SIGMAVAULT_API_TOKEN(_FILE), else ``<data_dir>/api-token`` generated at first start) or a
  named token of SIGMAVAULT_API_TOKENS_FILE with its role, ``admin`` or ``read``.

Open without a credential: /healthz, /readyz, grpc.health.v1 and the dashboard's page and files
(the page asks for the token itself). A call has one name whatever the transport (CALLS below,
e.g. ``storage.DestroyPool``); a ``read`` caller may make the calls CALLS marks as reads, an
``admin`` caller every call. A call missing from CALLS needs ``admin``. Tokens are compared by
their SHA-256 with hmac.compare_digest, every entry each time.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from typing import TYPE_CHECKING

import grpc

from engine.access.credentials import CredentialError, NamedToken, read_tokens_file, token_digest
from engine.common.logsafe import safe_text
from frontends.caller import Caller
from frontends.errors import ErrorAnswer

if TYPE_CHECKING:
    from engine.config import EngineConfig
    from frontends.caller import Role, Transport

logger = logging.getLogger(__name__)
access_log = logging.getLogger("sigmavault.access")

OPEN_HTTP_PATHS = frozenset({"/healthz", "/readyz"})
OPEN_HTTP_PREFIXES = ("/static/",)  # the dashboard's own files: no data in them
DASHBOARD_PAGE = "/"
READ_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_GRPC_SERVICES = ("/grpc.health.v1.Health/",)
REALM = 'Bearer realm="sigmavault"'
RELOAD_EVERY_S = 1.0  # how often the named tokens file's mtime is looked at (a token added needs no restart)

# every call by its one name -> whether it is a read (a ``read`` token may make it). Reads tell the
# state of the engine; compression.ReadRange is not one: it hands out file contents the engine
# reads as root, so it needs ``admin`` like the file jobs that wrote them.
CALLS: dict[str, bool] = {
    **{f"agent.{m}": True for m in ("ListAgents", "GetAgent", "ListAgentTasks", "GetSwarm")},
    **{f"agent.{m}": False for m in ("DispatchTask", "DrainAgent", "ResumeAgent")},
    "block.Process": False,
    "block.ProcessStream": False,
    **{f"compression.{m}": True for m in ("GetStats", "ListJobs", "GetJob")},
    **{f"compression.{m}": False for m in ("StartJob", "CancelJob", "ReadRange")},
    **{f"encryption.{m}": True for m in ("GetStatus", "GetPublicKey", "ListKeys", "ListKeyFiles")},
    **{f"encryption.{m}": False for m in ("RotateKey", "RetireKey", "RotateEngineKey")},
    "network.GetMeshStatus": True,
    **{
        f"storage.{m}": True
        for m in (
            "ListPools",
            "GetPool",
            "GetScrubStatus",
            "ListVolumes",
            "ListSnapshots",
            "ListSchedules",
            "ListDisks",
            "GetSmart",
            "ListJobs",
            "GetJob",
        )
    },
    **{
        f"storage.{m}": False
        for m in (
            "CreatePool",
            "ImportPool",
            "ExportPool",
            "DestroyPool",
            "AddDevice",
            "RemoveDevice",
            "ReplaceDevice",
            "Balance",
            "StartScrub",
            "CancelScrub",
            "CreateVolume",
            "SetQuota",
            "DeleteVolume",
            "CreateSnapshot",
            "DeleteSnapshot",
            "RollbackVolume",
            "CloneSnapshot",
            "CreateSchedule",
            "UpdateSchedule",
            "DeleteSchedule",
            "StartSelfTest",
            "CancelJob",
        )
    },
    **{f"system.{m}": True for m in ("GetStatus", "GetMetrics", "ListServices", "Prometheus", "OpenAPI")},
    "system.ListAuditEntries": True,  # a read (the audit log does not record it), but ADMIN_READS
    "events.Subscribe": True,  # the WebSocket relay: it only sends events
    "session.Get": True,
    "reflection.ServerReflectionInfo": True,
}

# reads that need ``admin`` all the same: who did what is for admins (docs/SECURITY.md). They stay
# reads for the audit log (not recorded), and a ``read`` caller gets the usual 403 permission_denied
ADMIN_READS = frozenset({"system.ListAuditEntries"})

# gRPC service -> the first part of its calls' names (the service's name without "Service", lower case)
GRPC_DOMAINS = {"ServerReflection": "reflection"}

# HTTP routes that are not named by their RPC where they are declared (the storage routes are:
# frontends/http_api/storage.py route()); the gRPC method of the same call gives the name
HTTP_CALLS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/agents"): "agent.ListAgents",
    ("GET", "/api/v1/agents/{id}"): "agent.GetAgent",
    ("GET", "/api/v1/agents/{id}/tasks"): "agent.ListAgentTasks",
    ("POST", "/api/v1/agents/{id}/task"): "agent.DispatchTask",
    ("POST", "/api/v1/tasks"): "agent.DispatchTask",
    ("GET", "/api/v1/swarm"): "agent.GetSwarm",
    ("POST", "/api/v1/agents/{id}/drain"): "agent.DrainAgent",
    ("POST", "/api/v1/agents/{id}/resume"): "agent.ResumeAgent",
    ("GET", "/api/v1/compression/stats"): "compression.GetStats",
    ("GET", "/api/v1/compression/jobs"): "compression.ListJobs",
    ("POST", "/api/v1/compression/jobs"): "compression.StartJob",
    ("GET", "/api/v1/compression/jobs/{id}"): "compression.GetJob",
    ("DELETE", "/api/v1/compression/jobs/{id}"): "compression.CancelJob",
    ("GET", "/api/v1/compression/files/range"): "compression.ReadRange",
    ("GET", "/api/v1/encryption/status"): "encryption.GetStatus",
    ("POST", "/api/v1/encryption/rotate"): "encryption.RotateKey",
    ("GET", "/api/v1/encryption/public-key"): "encryption.GetPublicKey",
    ("GET", "/api/v1/encryption/keys"): "encryption.ListKeys",
    ("GET", "/api/v1/encryption/keys/{id}/files"): "encryption.ListKeyFiles",
    ("POST", "/api/v1/encryption/keys/{id}/retire"): "encryption.RetireKey",
    ("POST", "/api/v1/encryption/engine-key/rotate"): "encryption.RotateEngineKey",
    ("GET", "/api/v1/audit"): "system.ListAuditEntries",
    ("GET", "/api/v1/network/phantommesh"): "network.GetMeshStatus",
    ("GET", "/api/v1/system/status"): "system.GetStatus",
    ("GET", "/api/v1/system/metrics"): "system.GetMetrics",
    ("GET", "/api/v1/system/services"): "system.ListServices",
    ("GET", "/metrics"): "system.Prometheus",
    ("GET", "/openapi.json"): "system.OpenAPI",
    ("GET", "/healthz"): "health.Check",
    ("GET", "/readyz"): "health.Ready",
    ("GET", "/"): "dashboard.Page",
}


def grpc_call_name(method: str) -> str:
    """``/sigmavault.v1.StorageService/DestroyPool`` -> ``storage.DestroyPool``."""
    service, _, name = method.rpartition("/")
    short = service.rpartition(".")[2]
    return f"{GRPC_DOMAINS.get(short) or short.removesuffix('Service').lower()}.{name}"


def http_call_name(method: str, path: str) -> str:
    """The name of an HTTP route (method and path template); unknown routes get ``http.<METHOD> <path>``."""
    return HTTP_CALLS.get((method, path)) or f"http.{method} {path}"


def is_read(call: str) -> bool:
    return CALLS.get(call, False)


def grpc_method_is_open(method: str) -> bool:
    return method.startswith(OPEN_GRPC_SERVICES)


def grpc_method_is_read(method: str) -> bool:
    """Whether CALLS marks this gRPC method's call a read (what a ``read`` token may make)."""
    return is_read(grpc_call_name(method))


def client_key(host: str | None) -> str:
    """A peer address as logs and the audit show it (IPv4-mapped IPv6 as IPv4); ``unix`` for the socket."""
    if host is None or host == "unix":
        return "unix"
    return host.removeprefix("::ffff:") if host.startswith("::ffff:") and "." in host else host


def http_path_is_open(path: str) -> bool:
    return path in OPEN_HTTP_PATHS or path == DASHBOARD_PAGE or path.startswith(OPEN_HTTP_PREFIXES)


def grpc_peer_host(peer: str) -> str | None:
    """The address in a gRPC peer string (``ipv4:127.0.0.1:5000``, ``ipv6:[::1]:5000``); None for
    a Unix socket or anything unparsable."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return None


def _bearer_value(authorization: str) -> str | None:
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class AccessPolicy:
    """Finds the caller of a call (authentication) and decides whether its role may make it."""

    def __init__(
        self,
        token: str,
        *,
        tokens_file: str = "",
        socket_hint: str = "",
        token_hint: str = "",
        log_admitted: bool = False,
    ) -> None:
        self._admin_digest = token_digest(token) if token else b""
        self._tokens_file = tokens_file
        self._named: list[NamedToken] = []
        self._tokens_mtime: float | None = None
        self._next_reload = 0.0
        self.log_admitted = log_admitted
        if tokens_file:
            self._reload(initial=True)
        how = []
        if socket_hint:
            how.append(f"connect to the engine's Unix socket in {socket_hint} (as root or a member of its group)")
        how.append(
            f"send 'Authorization: Bearer <token>'{f' (the admin token is in {token_hint})' if token_hint else ''}"
        )
        hint = " or ".join(how)
        self.missing = ErrorAnswer(
            401,
            grpc.StatusCode.UNAUTHENTICATED,
            "unauthenticated",
            f"this call needs a credential: {hint}; see docs/SECURITY.md",
            {},
            extra_headers={"WWW-Authenticate": REALM},
        )
        self.wrong = ErrorAnswer(
            401,
            grpc.StatusCode.UNAUTHENTICATED,
            "unauthenticated",
            f"the token presented is not valid: {hint}; see docs/SECURITY.md",
            {},
            extra_headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )

    @classmethod
    def from_config(cls, config: EngineConfig) -> AccessPolicy:
        token_hint = config.api_token_file if config.api_token_file else "SIGMAVAULT_API_TOKEN"
        return cls(
            config.api_token,
            tokens_file=config.api_tokens_file,
            socket_hint=config.run_dir,
            token_hint=token_hint,
            log_admitted=config.access_log or config.debug,
        )

    # tokens ----------------------------------------------------------------------------------
    def _reload(self, *, initial: bool = False) -> None:
        try:
            mtime = os.stat(self._tokens_file).st_mtime
        except OSError:
            mtime = None
        if mtime == self._tokens_mtime and not initial:
            return
        try:
            named = read_tokens_file(self._tokens_file) if mtime is not None else []
        except CredentialError as exc:
            if initial:
                raise
            logger.error("the named tokens file %s is not used until fixed: %s", self._tokens_file, exc.rule)
            return
        self._named, self._tokens_mtime = named, mtime
        if not initial:
            logger.info("named tokens: %d read from %s", len(named), self._tokens_file)

    def _maybe_reload(self) -> None:
        if self._tokens_file:
            now = time.monotonic()
            if now >= self._next_reload:
                self._next_reload = now + RELOAD_EVERY_S
                self._reload()

    def identify(self, token: str) -> tuple[str, Role] | None:
        """The name and role of ``token``, or None. Every entry is compared, in constant time each."""
        self._maybe_reload()
        presented = token_digest(token)
        found: tuple[str, Role] | None = None
        if self._admin_digest and hmac.compare_digest(presented, self._admin_digest):
            found = ("admin", "admin")
        for entry in self._named:
            if hmac.compare_digest(presented, entry.digest) and found is None:
                found = (entry.name, entry.role)
        if found is None and self._tokens_file and self._changed():
            # a token just added works on its first call, not up to a second later (one stat per unknown token)
            self._reload()
            found = next(((e.name, e.role) for e in self._named if hmac.compare_digest(presented, e.digest)), None)
        return found

    def _changed(self) -> bool:
        try:
            return os.stat(self._tokens_file).st_mtime != self._tokens_mtime
        except OSError:
            return self._tokens_mtime is not None

    def authenticate(self, authorization: str | None, transport: Transport, peer: str) -> Caller | ErrorAnswer:
        """A caller from an ``Authorization`` value (None: none was sent), else the 401 to answer."""
        if authorization is None:
            return self.missing
        value = _bearer_value(authorization)
        identity = self.identify(value) if value is not None else None
        if identity is None:
            return self.wrong
        return Caller(identity[0], identity[1], transport, peer)

    def holds(self, name: str, role: Role) -> bool:
        """Whether a token of this name and role still exists (a session of a removed token ends)."""
        if name == "admin":
            return role == "admin" and bool(self._admin_digest)
        self._maybe_reload()
        return any(entry.name == name and entry.role == role for entry in self._named)

    @staticmethod
    def unix_caller(transport: Transport, uid: int | None) -> Caller:
        """A caller the kernel let through the Unix socket's mode and group: admin."""
        return Caller(f"uid:{uid}" if uid is not None else "unix", "admin", transport, "unix", uid)

    # roles -----------------------------------------------------------------------------------
    def authorize(self, caller: Caller, call: str, read: bool) -> ErrorAnswer | None:
        """None when ``caller``'s role may make ``call``, else the 403 naming the missing role."""
        if caller.role == "admin" or (read and call not in ADMIN_READS):
            return None
        return ErrorAnswer(
            403,
            grpc.StatusCode.PERMISSION_DENIED,
            "permission_denied",
            f"{call} needs the role 'admin'; the token {caller.name!r} has the role '{caller.role}'",
            {"call": call, "required_role": "admin", "role": caller.role},
        )

    # the access log ---------------------------------------------------------------------------
    def admitted(self, caller: Caller, call: str) -> None:
        if self.log_admitted:
            access_log.info("admit %s %s (%s)", safe_text(caller.describe()), safe_text(call), caller.role)

    @staticmethod
    def refused(who: str, call: str, answer: ErrorAnswer) -> None:
        # every part is the client's text (a path, a method, a peer): escaped, one line whatever it holds
        access_log.warning("refuse %s %s: %s", safe_text(who), safe_text(call), answer.code)
