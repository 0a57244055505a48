"""``engined``: the engine's command line.

engined serve     run the supervisor, one worker per core and the frontend until SIGTERM/SIGINT
engined config    check and print the effective configuration (after SIGMAVAULT_* and .env) and exit
engined token     add, list and remove the named API tokens (SIGMAVAULT_API_TOKENS_FILE)
engined top       live view of a running engine's workers and agents (read from shared memory)
engined inspect   rings, slots, stalls and the oldest task in flight of a running engine
engined profile   sample every process of a running engine (py-spy, or the engine's own stack dumps)
engined tune      measure a few settings on this box and write a recommended .env
engined --version

top, inspect and profile read the engine's shared memory (tools/); they never send it a request.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import logging
import os
import socket
import sys
from pathlib import Path

import orjson

from engine.access import unixsock
from engine.cli.tokens import add_token_commands, run_token_command
from engine.cli.tools import TOOL_COMMANDS, add_tool_commands, run_tool
from engine.config import ConfigError, EngineConfig
from engine.runtime import version

logger = logging.getLogger("engined")


def _configure_logging(cfg: EngineConfig) -> None:
    level = logging.DEBUG if cfg.debug else getattr(logging, cfg.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def open_ports(cfg: EngineConfig) -> tuple[EngineConfig, list[socket.socket], bool]:
    """Bind the HTTP listeners here, once, TCP and the Unix socket: every frontend incarnation
    inherits them (a restarted frontend keeps the port and the queued connections). Check the gRPC
    port is free and settle a 0 on a number, so restarts keep it too. Raises OSError with a
    one-line reason naming the variable. True when the run directory was made now."""
    try:
        listener = _bind(cfg.host, cfg.engine_port)
    except OSError as exc:
        raise OSError(
            f"cannot listen on {cfg.host}:{cfg.engine_port} (SIGMAVAULT_ENGINE_PORT): {exc.strerror}"
        ) from None
    listener.listen(2048)
    made = False
    try:
        with _bind(cfg.host, cfg.grpc_port) as probe:
            grpc_port = probe.getsockname()[1]
        made = unixsock.prepare_run_dir(cfg.run_dir, cfg.socket_gid)
        unix_listener = unixsock.bind_unix(cfg.http_socket, cfg.socket_gid)
    except OSError as exc:
        listener.close()
        if made:
            unixsock.remove_run_dir(cfg.run_dir)
        if isinstance(exc, unixsock.SocketError):
            raise
        raise OSError(f"cannot listen on {cfg.host}:{cfg.grpc_port} (SIGMAVAULT_GRPC_PORT): {exc.strerror}") from None
    listeners = [listener, unix_listener]
    return dataclasses.replace(cfg, engine_port=listener.getsockname()[1], grpc_port=grpc_port), listeners, made


def check_start(cfg: EngineConfig, *, frontend: bool) -> None:
    """Everything that can refuse a start and needs nothing made first (ConfigError, SocketError):
    the data directory and the job roots, the token files, the run directory and whether another
    engine answers on its sockets. ``engined config`` runs the same checks but the last."""
    cfg.check_data_dir(create=False)
    if frontend:
        cfg.check_credentials()
        unixsock.check_run_dir(cfg.run_dir)
        for path in (cfg.http_socket, cfg.grpc_socket):
            unixsock.check_not_served(path)


def warn_missing_roots(cfg: EngineConfig) -> None:
    """One line naming the job roots that are not there (yet): jobs into them answer 409
    root_unavailable until they are (a pool mounted later is fine, so this does not stop the start)."""
    missing = [root for root in cfg.job_root_list if not os.path.isdir(root)]
    if missing:
        logger.warning(
            "engined: SIGMAVAULT_JOB_ROOTS names directories that do not exist (yet): %s; file jobs "
            "there are refused (409 root_unavailable) until they are made or mounted",
            ", ".join(missing),
        )


class Made:
    """What this start created (the data directory, the generated token): removed again if the start
    is refused after all, so a refused start leaves nothing behind."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.directories: list[str] = []

    def undo(self) -> None:
        for path in self.files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for path in reversed(self.directories):
            with contextlib.suppress(OSError):  # only if nothing else is in it
                os.rmdir(path)


def serve(cfg: EngineConfig, *, listeners: list[socket.socket]) -> int:
    from engine.core.resources import EngineResources
    from engine.core.sdnotify import Notifier
    from engine.core.supervisor import Supervisor
    from engine.keys.keyfile import KeystoreError

    target = None
    serving = f"{cfg.workers} workers, no frontend"
    if listeners:
        from frontends.process import frontend_main  # imports no grpc: only the forked child loads it

        target = functools.partial(frontend_main, listener=listeners[0], unix_listener=listeners[1])
        serving = f"{cfg.workers} workers, HTTP {cfg.host}:{cfg.engine_port}, gRPC {cfg.host}:{cfg.grpc_port}"
        logger.info(
            "engined: Unix sockets %s and %s (group %s); the admin token for the TCP ports is in %s",
            cfg.http_socket,
            cfg.grpc_socket,
            cfg.socket_group,
            cfg.api_token_file or "SIGMAVAULT_API_TOKEN",
        )
    try:
        res = EngineResources.create(cfg)
    except KeystoreError as exc:  # the inline-task key, read before the workers fork: a wrong passphrase stops here
        print(f"engined: {exc.message}", file=sys.stderr)
        return 2
    # under systemd: READY=1, WATCHDOG=1, STATUS=, STOPPING=1 (the variables are taken out of the
    # environment here, so no child speaks for the engine)
    supervisor = Supervisor(
        res, frontend=target, notifier=Notifier.from_environment(), serving=serving, listeners=listeners
    )
    logger.info(
        "engined %s: %d workers, %d agents, %d x %d KiB slots, data in %s, segments %s",
        version(),
        cfg.workers,
        cfg.agents,
        cfg.slots,
        cfg.slot_bytes // 1024,
        cfg.data_dir,
        ", ".join(res.segment_names),
    )
    try:
        return supervisor.run()
    finally:
        supervisor.release()
        res.close()
        res.unlink()
        cfg.ports_file.unlink(missing_ok=True)  # every frontend is gone: even a killed one's ports are closed
        logger.info("engined: stopped, segments removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="engined", description="SigmaVault engine")
    parser.add_argument("--version", action="version", version=f"engined {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="run the engine until SIGTERM or SIGINT")
    serve_parser.add_argument("--no-frontend", action="store_true", help="workers only, no gRPC/HTTP ports")
    sub.add_parser("config", help="check the configuration and print it as JSON")
    add_token_commands(sub)
    add_tool_commands(sub)
    args = parser.parse_args(argv)
    if args.command in TOOL_COMMANDS:
        return run_tool(args)
    if args.command == "token":
        return run_token_command(args)
    for line in EngineConfig.unknown_settings():
        print(f"engined: warning: {line}", file=sys.stderr)
    frontend = args.command == "config" or not args.no_frontend
    try:
        cfg = EngineConfig.from_env()
        if args.command == "config":  # it only prints: the checks serve runs, nothing made
            cfg.check_data_dir(create=False)
            cfg.check_credentials()
            unixsock.check_run_dir(cfg.run_dir)
        else:
            check_start(cfg, frontend=frontend)
    except ConfigError as exc:
        print(f"engined: configuration error: {exc}", file=sys.stderr)
        return 2
    except unixsock.SocketError as exc:
        print(f"engined: {exc}", file=sys.stderr)
        return 2
    os.environ.pop("SIGMAVAULT_API_TOKEN", None)  # read: the system tools the engine runs need not inherit it
    if args.command == "config":
        sys.stdout.write(orjson.dumps(cfg.as_env(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
        return 0
    listeners: list[socket.socket] = []
    made, run_dir_made = Made(), False
    try:
        made.directories.extend(str(p) for p in _missing_parents(cfg.data_dir))
        cfg.check_data_dir()
        if frontend:
            cfg, created = cfg.with_api_token()
            if created:
                made.files.append(cfg.api_token_file)
            cfg, listeners, run_dir_made = open_ports(cfg)
            if created:  # the path, never the value
                print(f"engined: generated the admin API token in {cfg.api_token_file} (mode 0600)", file=sys.stderr)
    except (ConfigError, OSError) as exc:
        made.undo()
        kind = "configuration error: " if isinstance(exc, ConfigError) else ""
        print(f"engined: {kind}{exc}", file=sys.stderr)
        return 2
    _configure_logging(cfg)
    warn_missing_roots(cfg)
    try:
        return serve(cfg, listeners=listeners)
    finally:
        for listener in listeners:
            listener.close()
        if listeners:
            unixsock.unlink_quietly(cfg.http_socket, cfg.grpc_socket)
        if run_dir_made:
            unixsock.remove_run_dir(cfg.run_dir)


def _missing_parents(path: str) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, outermost first."""
    missing = [p for p in (Path(path).absolute(), *Path(path).absolute().parents) if not p.exists()]
    return list(reversed(missing))


if __name__ == "__main__":
    sys.exit(main())
