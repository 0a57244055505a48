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
import dataclasses
import functools
import logging
import os
import socket
import sys

import orjson

from engine import unixsock
from engine.cli_tokens import add_token_commands, run_token_command
from engine.cli_tools import TOOL_COMMANDS, add_tool_commands, run_tool
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


def open_ports(cfg: EngineConfig) -> tuple[EngineConfig, list[socket.socket]]:
    """Bind the HTTP listeners here, once, TCP and the Unix socket: every frontend incarnation
    inherits them (a restarted frontend keeps the port and the queued connections). Check the gRPC
    port is free and settle a 0 on a number, so restarts keep it too. Raises OSError with a
    one-line reason naming the variable."""
    try:
        listener = _bind(cfg.host, cfg.engine_port)
    except OSError as exc:
        raise OSError(
            f"cannot listen on {cfg.host}:{cfg.engine_port} (SIGMAVAULT_ENGINE_PORT): {exc.strerror}"
        ) from None
    listener.listen(2048)
    try:
        with _bind(cfg.host, cfg.grpc_port) as probe:
            grpc_port = probe.getsockname()[1]
        unixsock.prepare_run_dir(cfg.run_dir, cfg.socket_gid)
        unix_listener = unixsock.bind_unix(cfg.http_socket, cfg.socket_gid)
    except unixsock.SocketError:
        listener.close()
        raise
    except OSError as exc:
        listener.close()
        raise OSError(f"cannot listen on {cfg.host}:{cfg.grpc_port} (SIGMAVAULT_GRPC_PORT): {exc.strerror}") from None
    return dataclasses.replace(cfg, engine_port=listener.getsockname()[1], grpc_port=grpc_port), [
        listener,
        unix_listener,
    ]


def serve(cfg: EngineConfig, *, listeners: list[socket.socket]) -> int:
    from engine.keyfile import KeystoreError
    from engine.resources import EngineResources
    from engine.sdnotify import Notifier
    from engine.supervisor import Supervisor

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
    supervisor = Supervisor(res, frontend=target, notifier=Notifier.from_environment(), serving=serving,
                            listeners=listeners)  # fmt: skip
    logger.info(
        "engined %s: %d workers, %d agents, %d x %d KiB slots, data in %s, segments %s",
        version(), cfg.workers, cfg.agents, cfg.slots, cfg.slot_bytes // 1024, cfg.data_dir,
        ", ".join(res.segment_names),
    )  # fmt: skip
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
    try:
        cfg = EngineConfig.from_env()
        cfg.check_data_dir(create=args.command != "config")  # config only prints: it makes nothing
    except ConfigError as exc:
        print(f"engined: configuration error: {exc}", file=sys.stderr)
        return 2
    os.environ.pop("SIGMAVAULT_API_TOKEN", None)  # read: the system tools the engine runs need not inherit it
    if args.command == "config":
        sys.stdout.write(orjson.dumps(cfg.as_env(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
        return 0
    listeners: list[socket.socket] = []
    if not args.no_frontend:
        try:
            cfg, created = cfg.with_api_token()
            cfg, listeners = open_ports(cfg)
        except ConfigError as exc:
            print(f"engined: configuration error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"engined: {exc}", file=sys.stderr)
            return 2
        if created:  # the path, never the value
            print(f"engined: generated the admin API token in {cfg.api_token_file} (mode 0600)", file=sys.stderr)
    _configure_logging(cfg)
    try:
        return serve(cfg, listeners=listeners)
    finally:
        for listener in listeners:
            listener.close()
        if listeners:
            unixsock.unlink_quietly(cfg.http_socket, cfg.grpc_socket)


if __name__ == "__main__":
    sys.exit(main())
