"""``engined``: the engine's command line.

engined serve     run the supervisor, one worker per core and the frontend until SIGTERM/SIGINT
engined config    print the effective configuration (after SIGMAVAULT_* and .env) and exit
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

import orjson

from engine.config import ConfigError, EngineConfig
from engine.resources import EngineResources
from engine.supervisor import Supervisor

logger = logging.getLogger("engined")


def _configure_logging(cfg: EngineConfig) -> None:
    level = logging.DEBUG if cfg.debug else getattr(logging, cfg.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")


def check_ports(cfg: EngineConfig) -> str | None:
    """A one-line reason when a port cannot be bound now (else None): fail at start-up with the
    variable's name rather than have the frontend crash-loop later."""
    for variable, port in (("SIGMAVAULT_ENGINE_PORT", cfg.engine_port), ("SIGMAVAULT_GRPC_PORT", cfg.grpc_port)):
        with socket.socket(socket.AF_INET6 if ":" in cfg.host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((cfg.host, port))
            except OSError as exc:
                return f"cannot listen on {cfg.host}:{port} ({variable}): {exc.strerror}"
    return None


def serve(cfg: EngineConfig, *, frontend: bool) -> int:
    target = None
    if frontend:
        from frontends.process import frontend_main  # imports no grpc: only the forked child loads it

        target = frontend_main
    res = EngineResources.create(cfg)
    supervisor = Supervisor(res, frontend=target)
    logger.info(
        "engined: %d workers, %d agents, %d x %d KiB slots, segments %s",
        cfg.workers, cfg.agents, cfg.slots, cfg.slot_bytes // 1024, ", ".join(res.segment_names),
    )  # fmt: skip
    try:
        return supervisor.run()
    finally:
        supervisor.release()
        res.close()
        res.unlink()
        logger.info("engined: stopped, segments removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="engined", description="SigmaVault engine")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="run the engine until SIGTERM or SIGINT")
    serve_parser.add_argument("--no-frontend", action="store_true", help="workers only, no gRPC/HTTP ports")
    sub.add_parser("config", help="print the effective configuration as JSON")
    args = parser.parse_args(argv)
    try:
        cfg = EngineConfig.from_env()
    except ConfigError as exc:
        print(f"engined: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "config":
        sys.stdout.write(orjson.dumps(cfg.as_env(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
        return 0
    if not args.no_frontend and (reason := check_ports(cfg)):
        print(f"engined: {reason}", file=sys.stderr)
        return 2
    _configure_logging(cfg)
    return serve(cfg, frontend=not args.no_frontend)


if __name__ == "__main__":
    sys.exit(main())
