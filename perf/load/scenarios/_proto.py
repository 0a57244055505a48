"""The generated protobuf messages and gRPC stubs the scenarios speak (package sigmavault.v1)."""

from __future__ import annotations

from typing import Any

from frontends import pb, rpc

Proto = Any  # a generated message or stub: protoc's Python classes carry no static types worth naming

__all__ = ["Proto", "pb", "rpc"]
