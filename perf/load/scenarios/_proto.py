"""The generated protobuf messages and gRPC stubs, wherever this checkout keeps them.

The harness speaks the wire contract (package sigmavault.v1), which does not change when the
generated modules are regrouped: ``frontends.pb`` / ``frontends.rpc`` where they exist, else the
single generated module of the older layout.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

Proto = Any  # a generated message or stub: looked up at run time, so annotations can only name it so


def _load() -> tuple[ModuleType, ModuleType]:
    try:
        return importlib.import_module("frontends.pb"), importlib.import_module("frontends.rpc")
    except ImportError:
        return (importlib.import_module("frontends._gen.sigmavault.v1.engine_pb2"),
                importlib.import_module("frontends._gen.sigmavault.v1.engine_pb2_grpc"))  # fmt: skip


pb, rpc = _load()
