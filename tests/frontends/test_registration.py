"""A domain joins the transports in a few lists (docs/ADDING_A_DOMAIN.md); these tests fail when one is
forgotten or a name is misspelled, instead of a route quietly needing admin or a service missing
from reflection."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import frontends.pb
import frontends.rpc
from engine.config import EngineConfig
from frontends._gen.sigmavault import v1 as generated
from frontends.auth import CALLS, grpc_call_name, http_call_name, http_path_is_open
from frontends.grpc_api.server import SERVICE_NAMES, SERVICERS
from frontends.http_api.app import endpoints

# routes with no RPC behind them, named in the system domain so one read token reaches them
HTTP_ONLY = {"system.Prometheus", "system.OpenAPI"}


class Anything:
    """Stands in for the runtime's services while the route list is built (handlers are not called)."""

    def __init__(self, **known: Any) -> None:
        self.__dict__.update(known)

    def __getattr__(self, name: str) -> Any:
        return Anything()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return Anything()


def generated_modules(suffix: str) -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(generated.__path__) if m.name.endswith(suffix))


def served(module: str) -> bool:
    """``module`` (a _pb2 name) declares a service."""
    return bool(importlib.import_module(f"{generated.__name__}.{module}").DESCRIPTOR.services_by_name)


def test_every_proto_service_is_served_and_named_for_reflection() -> None:
    declared = {
        service.full_name
        for name in generated_modules("_pb2")
        for service in importlib.import_module(f"{generated.__name__}.{name}").DESCRIPTOR.services_by_name.values()
    }
    assert set(SERVICE_NAMES) == declared
    assert len(SERVICERS) == len(SERVICE_NAMES)


def test_pb_and_rpc_export_every_generated_module() -> None:
    for facade, suffix in ((frontends.pb, "_pb2"), (frontends.rpc, "_pb2_grpc")):
        text = Path(facade.__file__ or "").read_text()
        wanted = [name for name in generated_modules(suffix) if suffix == "_pb2" or served(name.removesuffix("_grpc"))]
        missing = [name for name in wanted if f"v1.{name} import *" not in text]
        assert missing == [], f"{facade.__name__} does not export {missing}"


def test_every_route_has_a_call_name_the_policy_knows(tmp_path: Path) -> None:
    """Each route's one name (Endpoint.call, else auth.HTTP_CALLS) is in the policy's table; a name of
    the form ``<service>.<Rpc>`` names an RPC that exists, so the HTTP route and the RPC share it."""
    config = EngineConfig.from_env(environ={}, env_file=None, data_dir=str(tmp_path))
    rpcs = {
        grpc_call_name(f"/{service.full_name}/{method.name}")
        for name in generated_modules("_pb2")
        for service in importlib.import_module(f"{generated.__name__}.{name}").DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    prefixes = {name.partition(".")[0] for name in rpcs}
    unknown, no_rpc = [], []
    for endpoint in endpoints(Anything(config=config, version="0"), Anything()):  # type: ignore[arg-type]
        if http_path_is_open(endpoint.path):
            continue
        name = endpoint.call or http_call_name(endpoint.method, endpoint.path)
        if name not in CALLS:
            unknown.append((endpoint.method, endpoint.path, name))
        elif name.partition(".")[0] in prefixes and name not in rpcs and name not in HTTP_ONLY:
            no_rpc.append((endpoint.method, endpoint.path, name))
    assert unknown == [], "routes whose call name the policy does not know (they would need admin)"
    assert no_rpc == [], f"routes named after an RPC that does not exist: {no_rpc}"
