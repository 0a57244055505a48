"""EngineConfig: the only place that reads the environment and the optional ``.env`` file.

Every setting is a ``SIGMAVAULT_*`` variable; the environment wins over ``.env``. A bad value raises
ConfigError whose one-line message names the variable and the rule, and start-up stops there.
"""

from __future__ import annotations

import dataclasses
import difflib
import grp
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.access import credentials

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)
PREFIX = "SIGMAVAULT_"
_MIB = 1 << 20


class ConfigError(ValueError):
    def __init__(self, variable: str, value: str, rule: str) -> None:
        super().__init__(f"{variable}={value!r} is invalid: {rule}")
        self.variable = variable
        self.value = value
        self.rule = rule


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _number(kind: type[int] | type[float], lo: float, hi: float) -> Callable[[str], Any]:
    def parse(raw: str) -> int | float:
        value = kind(raw.strip())
        if not lo <= value <= hi:
            raise ValueError
        return value

    what = "an integer" if kind is int else "a number"
    parse.rule = f"must be {what} in {lo:g}-{hi:g}" if kind is float else f"must be {what} in {lo}-{hi}"  # type: ignore[attr-defined]
    return parse


def _int(lo: int, hi: int) -> Callable[[str], int]:
    return _number(int, lo, hi)


def _float(lo: float, hi: float) -> Callable[[str], float]:
    return _number(float, lo, hi)


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError


_bool.rule = "must be one of 1/0, true/false, yes/no, on/off"  # type: ignore[attr-defined]


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.strip().lower() not in options:
            raise ValueError
        return raw.strip().lower()

    parse.rule = f"must be one of {', '.join(options)}"  # type: ignore[attr-defined]
    return parse


def _power_of_two(lo: int, hi: int) -> Callable[[str], int]:
    base = _int(lo, hi)

    def parse(raw: str) -> int:
        value = base(raw)
        if value & (value - 1):
            raise ValueError
        return value

    parse.rule = f"must be a power of two in {lo}-{hi}"  # type: ignore[attr-defined]
    return parse


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError
    return raw.strip()


_text.rule = "must not be empty"  # type: ignore[attr-defined]


def _absolute_path(raw: str) -> str:
    value = raw.strip()
    if not value.startswith("/") or "\x00" in value:
        raise ValueError
    return os.path.normpath(value)


_absolute_path.rule = "must be an absolute path"  # type: ignore[attr-defined]


def _optional(check: Callable[[str], Any]) -> Callable[[str], str]:
    """Empty means unset; anything else must pass ``check`` (which raises CredentialError)."""

    def parse(raw: str) -> str:
        value = raw.strip()
        if value:
            check(value)
        return value

    parse.rule = "is invalid"  # type: ignore[attr-defined]  # CredentialError carries the real rule
    return parse


def _blank_or(check: Callable[[str], str]) -> Callable[[str], str]:
    """Empty means the default; anything else must pass ``check`` (whose rule is kept)."""

    def parse(raw: str) -> str:
        return check(raw) if raw.strip() else ""

    parse.rule = check.rule  # type: ignore[attr-defined]
    return parse


def _port(raw: str) -> int:
    value = int(raw.strip())
    if value != 0 and not 1024 <= value <= 65535:
        raise ValueError
    return value


def _roots(raw: str) -> str:
    parts = [p.strip() for p in raw.split(":") if p.strip()]
    if any(not os.path.isabs(p) or "\0" in p for p in parts):
        raise ValueError
    return ":".join(os.path.normpath(p) for p in parts)


_roots.rule = "must be absolute directories separated by ':' (empty: file jobs are off)"  # type: ignore[attr-defined]


def _largest_job_block(slot_bytes: int, ceiling: int = _MIB) -> int:
    """1 MiB, or the largest block under it whose worst-case output fits a slot."""
    lo, hi = 1, ceiling
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if _job_block_fits(mid) <= slot_bytes else (lo, mid - 1)
    return lo


def _job_block_bytes(raw: str) -> int:
    value = int(raw.strip())
    if value != 0 and not 4096 <= value <= 64 * _MIB:
        raise ValueError
    return value


_job_block_bytes.rule = "must be 0 (1 MiB, or what fits a slot) or an integer in 4096-67108864"  # type: ignore[attr-defined]


def _job_block_fits(block: int) -> int:
    """Slot bytes a file-job block of ``block`` bytes needs at worst: a sealed zstd record (80-byte
    slot header, length word, zstd's bound, tag) is the largest of the per-block outputs."""
    small = ((128 << 10) - block) >> 11 if block < 128 << 10 else 0
    return 80 + 4 + block + (block >> 8) + small + 16


_port.rule = "must be an integer in 1024-65535 (or 0: any free port, reported at start)"  # type: ignore[attr-defined]
_PORT = _port


SUN_PATH_MAX = 108  # sockaddr_un.sun_path on Linux, its final NUL included


def default_run_dir(data_dir: str, environ: Mapping[str, str] | None = None) -> str:
    """/run/sigmavault for root; else $XDG_RUNTIME_DIR/sigmavault, or <data_dir>/sockets without one."""
    env = os.environ if environ is None else environ
    if os.geteuid() == 0:
        return "/run/sigmavault"
    runtime = env.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime, "sigmavault") if runtime else os.path.join(data_dir, "sockets")


def _group_id(raw: str) -> int:
    if raw.isdigit():
        return int(raw)
    return grp.getgrnam(raw).gr_gid


def _group(raw: str) -> str:
    raw = raw.strip()
    if not raw:
        raise ValueError(raw)
    try:
        _group_id(raw)
    except KeyError:
        raise ValueError(raw) from None
    return raw


_group.rule = "must name a group of this system (a name from /etc/group, or a number)"  # type: ignore[attr-defined]


def default_data_dir(environ: Mapping[str, str] | None = None) -> str:
    """systemd's StateDirectory when it gave one, /var/lib/sigmavault for root, else the user's
    XDG data home: a service never keeps its keys and job history in root's home directory."""
    env = os.environ if environ is None else environ
    state = env.get("STATE_DIRECTORY")
    if state:
        return state.split(":")[0]
    if os.geteuid() == 0:
        return "/var/lib/sigmavault"
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "sigmavault")


@dataclass(frozen=True)
class EngineConfig:
    host: str = "127.0.0.1"
    engine_port: int = 8001
    grpc_port: int = 9003
    workers: int = 0  # 0 = one per usable core (os.sched_getaffinity)
    agents: int = 40
    slots: int = 128
    # a file job's 1 MiB block and its worst-case output must fit one slot: zstd's bound of 1 MiB is
    # 1 MiB + 4 KiB, a sealed record adds the 80-byte slot header, a length word and the tag, and an
    # lz4 frame 27 bytes; 16 KiB more than 1 MiB covers all of them (4 KiB pages: 260 of them)
    slot_bytes: int = _MIB + 16 * 1024
    ring_capacity: int = 1024
    history_len: int = 256  # finished tasks kept per agent (ListAgentTasks pages through them)
    spin_us: int = 50  # how long an idle worker polls before sleeping on its doorbell
    client_spin_us: int = 20  # how long a lone awaiting request polls before sleeping
    pin_cpus: bool = False
    numa: str = "off"  # "node": workers placed per NUMA node (engine/host/numa.py plan_affinity)
    max_workers: int = 0  # tasks in flight at once through the scheduler; 0 = one per slot
    rate_limit: float = 0.0  # tasks per second admitted; 0 = unlimited
    queue_limit: int = 1024  # tasks waiting for admission before the engine answers busy
    job_queue_limit: int = 64  # file jobs and storage operations waiting to run before "busy"
    job_block_bytes: int = 0  # a file job's block (one task, frame, record); 0 = 1 MiB, less if slots are smaller
    job_roots: str = ""  # colon-separated directories file jobs may use (never the data directory); empty: none
    job_max_output_bytes: int = 0  # one file job's output at most; 0 = the destination's free space
    key_passphrase_file: str = ""  # seals the HPKE private keys at rest (scrypt); empty = 0600 files
    hang_timeout: float = 10.0  # seconds; a busy worker silent this long is killed and restarted
    shutdown_grace: float = 5.0  # seconds given to in-flight work on SIGTERM
    data_dir: str = ""
    pool_root: str = "/mnt"  # storage pools are mounted at <pool_root>/<pool>
    env: str = "development"
    debug: bool = False
    log_level: str = "info"
    metrics_interval: float = 1.0  # seconds between system.metrics events
    max_message_bytes: int = 0  # gRPC message limit; 0 = slot size + 64 KiB
    # security (docs/SECURITY.md): the token itself never appears in repr(), `engined config` or errors
    api_token: str = field(default="", repr=False)
    api_token_file: str = ""  # read at start (mode 0600); fills api_token
    tls_cert: str = ""  # PEM certificate (chain) of both ports; empty: plain TCP
    tls_key: str = ""
    tls_client_ca: str = ""  # PEM CA bundle: clients must present a certificate it signed (mutual TLS)
    client_max_inflight: int = 0  # calls in flight per client (token name or uid); 0 = no per-client cap
    api_tokens_file: str = ""  # named tokens ("name role sha256:<hex>" lines, 0600); "" = <data_dir>/api-tokens
    run_dir: str = ""  # where the Unix sockets live; "" = /run/sigmavault for root, else a per-user directory
    socket_group: str = ""  # the group the Unix sockets admit (name or number); "" = root's group (0)
    access_log: bool = False  # log every admitted call on sigmavault.access (refusals always are)
    # the audit log (engine/access/audit.py): entries older than this many days, or past the newest N, are dropped
    audit_retention_days: int = 90
    audit_max_entries: int = 100_000

    def __post_init__(self) -> None:
        # derived defaults are resolved here so every process sees the same numbers
        if self.workers == 0:
            object.__setattr__(self, "workers", _usable_cpus())
        if self.max_workers == 0:
            object.__setattr__(self, "max_workers", self.slots)
        if not self.data_dir:
            object.__setattr__(self, "data_dir", default_data_dir())
        if self.max_message_bytes == 0:
            object.__setattr__(self, "max_message_bytes", self.slot_bytes + 65536)
        if self.job_block_bytes == 0:
            object.__setattr__(self, "job_block_bytes", _largest_job_block(self.slot_bytes))
        if not self.api_tokens_file:
            object.__setattr__(self, "api_tokens_file", os.path.join(self.data_dir, "api-tokens"))
        if not self.run_dir:
            object.__setattr__(self, "run_dir", default_run_dir(self.data_dir))
        if not self.socket_group:
            object.__setattr__(self, "socket_group", "0")
        self._check_relations()

    def _check_relations(self) -> None:
        if self.agents < self.workers:
            raise ConfigError(
                f"{PREFIX}AGENTS", str(self.agents), f"must be at least the worker count ({self.workers})"
            )
        if self.max_workers > self.slots:
            raise ConfigError(
                f"{PREFIX}MAX_WORKERS", str(self.max_workers), f"must not exceed the slot count ({self.slots})"
            )
        if self.ring_capacity < self.slots:
            # a completion ring can then never fill: at most `slots` tasks are ever in flight
            raise ConfigError(
                f"{PREFIX}RING_CAPACITY", str(self.ring_capacity), f"must be at least the slot count ({self.slots})"
            )
        if _job_block_fits(self.job_block_bytes) > self.slot_bytes:
            raise ConfigError(
                f"{PREFIX}JOB_BLOCK_BYTES",
                str(self.job_block_bytes),
                f"a block and its worst-case output ({_job_block_fits(self.job_block_bytes)} bytes) "
                f"must fit {PREFIX}SLOT_BYTES ({self.slot_bytes})",
            )
        if self.engine_port == self.grpc_port and self.engine_port:
            raise ConfigError(
                f"{PREFIX}GRPC_PORT", str(self.grpc_port), f"must differ from {PREFIX}ENGINE_PORT ({self.engine_port})"
            )
        self._check_security()

    def _check_security(self) -> None:
        # an address beyond loopback needs no configured token: one always exists (generated if not given)
        too_long = max(len(self.grpc_socket), len(self.http_socket)) + 1 - SUN_PATH_MAX
        if too_long > 0:
            rule = (
                f"is {too_long} bytes too long for a Unix socket path (a socket's path has at most "
                f"{SUN_PATH_MAX - 1} bytes): choose a shorter directory"
            )
            raise ConfigError(f"{PREFIX}RUN_DIR", self.run_dir, rule)
        if bool(self.tls_cert) != bool(self.tls_key):
            given, missing = ("TLS_CERT", "TLS_KEY") if self.tls_cert else ("TLS_KEY", "TLS_CERT")
            raise ConfigError(f"{PREFIX}{given}", getattr(self, given.lower()), f"needs {PREFIX}{missing} too")
        if self.tls_client_ca and not self.tls_cert:
            raise ConfigError(
                f"{PREFIX}TLS_CLIENT_CA",
                self.tls_client_ca,
                f"needs {PREFIX}TLS_CERT and {PREFIX}TLS_KEY (mutual TLS is TLS first)",
            )

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)

    @property
    def grpc_socket(self) -> str:
        return os.path.join(self.run_dir, "engined.grpc.sock")

    @property
    def http_socket(self) -> str:
        return os.path.join(self.run_dir, "engined.http.sock")

    @property
    def socket_gid(self) -> int:
        """The Unix sockets' group as a number (checked at start: an unknown group is a ConfigError)."""
        return _group_id(self.socket_group)

    def check_credentials(self) -> None:
        """What a serving engine reads before it makes anything, checked without making anything: the
        named tokens file (its mode, every line) and, when no token is configured, an existing
        ``<data_dir>/api-token`` (its mode, its content). ``engined config`` and ``serve`` both call it."""
        try:
            credentials.read_tokens_file(self.api_tokens_file)
        except credentials.CredentialError as exc:
            raise ConfigError(f"{PREFIX}API_TOKENS_FILE", self.api_tokens_file, exc.rule) from None
        generated = Path(self.data_dir) / credentials.GENERATED_TOKEN_NAME
        if not self.api_token and os.path.lexists(generated):
            try:
                credentials.read_token_file(str(generated))
            except credentials.CredentialError as exc:
                raise ConfigError(f"{PREFIX}DATA_DIR", self.data_dir, f"api-token: {exc.rule}") from None

    def with_api_token(self) -> tuple[EngineConfig, bool]:
        """This configuration with its admin token: the configured one, else ``<data_dir>/api-token``
        (generated at first start, mode 0600). True when it was generated now. The named tokens file
        is checked here too (its mode, every line). Call after check_data_dir."""
        self.check_credentials()
        if self.api_token:
            return self, False
        try:
            token, path, created = credentials.load_or_create_token(self.data_dir)
        except credentials.CredentialError as exc:
            raise ConfigError(f"{PREFIX}DATA_DIR", self.data_dir, f"api-token: {exc.rule}") from None
        return dataclasses.replace(self, api_token=token, api_token_file=path), created

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: str | os.PathLike[str] | None = ".env",
        **overrides: Any,
    ) -> EngineConfig:
        """Build from ``.env`` (if present) overlaid by ``environ`` (default os.environ), then ``overrides``."""
        merged: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            merged.update(read_env_file(Path(env_file)))
        merged.update(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for name, parse in _PARSERS.items():
            variable = PREFIX + name.upper()
            raw = merged.get(variable)
            if raw is None:
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                rule = exc.rule if isinstance(exc, credentials.CredentialError) else parse.rule  # type: ignore[attr-defined]
                raise ConfigError(variable, credentials.REDACTED if name in _SECRET else raw, rule) from None
        values.update(overrides)
        _blame_port_clash(values, merged)
        _read_credentials(values)
        return cls(**values)

    @staticmethod
    def unknown_settings(
        environ: Mapping[str, str] | None = None,
        env_file: str | os.PathLike[str] | None = ".env",
    ) -> list[str]:
        """One line per SIGMAVAULT_* variable this engine does not know, with the closest known name
        (a typo such as SIGMAVAULT_WORKRES would otherwise be ignored in silence)."""
        merged = dict(read_env_file(Path(env_file))) if env_file is not None and Path(env_file).is_file() else {}
        merged.update(os.environ if environ is None else environ)
        known = [PREFIX + name.upper() for name in _PARSERS]
        lines = []
        for variable in sorted(merged):
            if variable.startswith(PREFIX) and variable not in known and variable not in _NOT_OURS:
                suffix = variable[len(PREFIX) :]
                suffixes = [name[len(PREFIX) :] for name in known]  # the shared prefix would make all look close
                close = (
                    [_MEANT[suffix]]
                    if suffix in _MEANT
                    else difflib.get_close_matches(suffix, suffixes, n=1, cutoff=0.75)
                )
                hint = f" (did you mean {PREFIX}{close[0]}?)" if close else ""
                lines.append(f"unknown setting {variable} is ignored{hint}")
        return lines

    def check_data_dir(self, *, create: bool = True) -> None:
        """The data directory exists (created 0700 if not), this process can write it and no job root
        reaches it; else ConfigError.

        ``create=False`` (``engined config``, which only prints): nothing is made; a directory not there
        yet passes when its nearest existing parent is a directory this process could create it in."""
        variable, path = f"{PREFIX}DATA_DIR", Path(self.data_dir)
        if not create and not path.exists():
            parent = next(p for p in path.absolute().parents if p.exists())
            if not parent.is_dir():
                raise ConfigError(variable, self.data_dir, "cannot create it: Not a directory")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise ConfigError(variable, self.data_dir, f"cannot create it: {parent} is not writable by this user")
            self.check_job_roots()
            return
        try:
            if create:
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(variable, self.data_dir, f"cannot create it: {exc.strerror}") from None
        if not path.is_dir():
            raise ConfigError(variable, self.data_dir, "is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(variable, self.data_dir, "is not writable by this user")
        self.check_job_roots()

    def check_job_roots(self) -> None:
        """No job root is the data directory, holds it or lies in it: keys, the job database, the pool
        registry, schedules and the token must stay out of every file job's reach (ConfigError)."""
        data = os.path.realpath(self.data_dir)
        for root in self.job_root_list:
            real = os.path.realpath(root)
            if real == data or data.startswith(real.rstrip("/") + "/"):
                raise ConfigError(
                    f"{PREFIX}JOB_ROOTS",
                    root,
                    f"contains the data directory ({self.data_dir}: keys, "
                    "job history); name directories beside it, never above it",
                )
            if real.startswith(data + "/"):
                raise ConfigError(
                    f"{PREFIX}JOB_ROOTS",
                    root,
                    f"lies inside the data directory ({self.data_dir}); file jobs never touch the engine's own state",
                )

    @property
    def ports_file(self) -> Path:
        """``<data dir>/run/ports.json``: where a serving frontend listens (written at start, removed at stop)."""
        return Path(self.data_dir) / "run" / "ports.json"

    @property
    def job_root_list(self) -> tuple[str, ...]:
        """The directories file jobs may read and write (SIGMAVAULT_JOB_ROOTS; never the data directory)."""
        return tuple(p for p in self.job_roots.split(":") if p)

    def as_env(self) -> dict[str, str]:
        """Every setting as the ``SIGMAVAULT_*`` variable that would produce it; secrets are redacted
        (a token read from SIGMAVAULT_API_TOKEN_FILE shows as empty: the file is the setting)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET:
                value = credentials.REDACTED if value and not self.api_token_file else ""
            out[PREFIX + f.name.upper()] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out


_PARSERS: dict[str, Callable[[str], Any]] = {
    "host": _text,
    "engine_port": _PORT,
    "grpc_port": _PORT,
    "workers": _int(0, 256),  # 0: one per usable core
    "agents": _int(1, 4096),
    "slots": _int(2, 65536),
    "slot_bytes": _int(4096, 256 * _MIB),
    "ring_capacity": _power_of_two(2, 1 << 20),
    "history_len": _int(1, 1024),
    "spin_us": _int(0, 1_000_000),
    "client_spin_us": _int(0, 1_000_000),
    "pin_cpus": _bool,
    "numa": _choice("off", "node"),
    "max_workers": _int(0, 65536),  # 0: one per slot
    "rate_limit": _float(0, 1e9),
    "queue_limit": _int(0, 1 << 20),
    "job_queue_limit": _int(0, 4096),
    "job_block_bytes": _job_block_bytes,
    "job_roots": _roots,
    "job_max_output_bytes": _int(0, 1 << 62),
    "key_passphrase_file": str.strip,
    "hang_timeout": _float(0.5, 3600),
    "shutdown_grace": _float(0, 600),
    "data_dir": str.strip,
    "pool_root": _absolute_path,
    "env": _choice("development", "production", "test"),
    "debug": _bool,
    "log_level": _choice("debug", "info", "warning", "error"),
    "metrics_interval": _float(0.05, 3600),
    "max_message_bytes": _int(0, 1 << 30),  # 0: slot size + 64 KiB
    "api_token": _optional(credentials.check_token),
    "api_token_file": str.strip,
    "tls_cert": _optional(credentials.check_certificate),
    "tls_key": str.strip,  # checked with the certificate (_read_credentials)
    "tls_client_ca": _optional(credentials.check_certificate),
    "client_max_inflight": _int(0, 1 << 20),  # 0: off
    "api_tokens_file": str.strip,
    "run_dir": _blank_or(_absolute_path),
    "socket_group": _blank_or(_group),
    "access_log": _bool,
    "audit_retention_days": _int(1, 36500),
    "audit_max_entries": _int(1, 10_000_000),
}
_SECRET = frozenset({"api_token"})


# SIGMAVAULT_* variables other programs of the product read (the Go API's); not typos of ours
_NOT_OURS = frozenset({"SIGMAVAULT_API_PORT", "SIGMAVAULT_API_HOST", "SIGMAVAULT_WEB_ROOT"})
# names a user reaches for that are not close in spelling: the HTTP port keeps the seed's ENGINE_PORT
_MEANT = {
    "HTTP_PORT": "ENGINE_PORT",
    "PORT": "ENGINE_PORT",
    "HTTP_HOST": "HOST",
    "GRPC_HOST": "HOST",
    "BIND": "HOST",
    "TOKEN": "API_TOKEN",
    "WORKER_COUNT": "WORKERS",
}


def _blame_port_clash(values: dict[str, Any], merged: Mapping[str, str]) -> None:
    """Equal HTTP and gRPC ports: name the variable that was set, not its unset partner."""
    http, grpc = values.get("engine_port", 8001), values.get("grpc_port", 9003)
    if http != grpc or http == 0:
        return
    if f"{PREFIX}ENGINE_PORT" in merged and f"{PREFIX}GRPC_PORT" not in merged:
        raise ConfigError(f"{PREFIX}ENGINE_PORT", str(http), f"must differ from {PREFIX}GRPC_PORT ({grpc})")
    raise ConfigError(f"{PREFIX}GRPC_PORT", str(grpc), f"must differ from {PREFIX}ENGINE_PORT ({http})")


def _read_credentials(values: dict[str, Any]) -> None:
    """The token file becomes the token; the key is checked against its certificate."""
    token_file = values.get("api_token_file")
    if token_file:
        variable = f"{PREFIX}API_TOKEN_FILE"
        if values.get("api_token"):
            raise ConfigError(variable, token_file, f"set it or {PREFIX}API_TOKEN, not both")
        try:
            values["api_token"] = credentials.read_token_file(token_file)
        except credentials.CredentialError as exc:
            raise ConfigError(variable, token_file, exc.rule) from None
    if values.get("tls_cert") and values.get("tls_key"):
        try:
            credentials.check_key_pair(values["tls_cert"], values["tls_key"])
        except credentials.CredentialError as exc:
            raise ConfigError(f"{PREFIX}TLS_KEY", values["tls_key"], exc.rule) from None


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines; ``#`` comments, blank lines, ``export`` and matching quotes allowed."""
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ").strip()
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{path}:{number}", line, "expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out
