"""NetworkService's RPCs as one table (frontends/calls/__init__.py): the host domain's network."""

from __future__ import annotations

from frontends._gen.sigmavault.v1 import network_pb2 as pb
from frontends.calls.table import Call

CALLS: dict[str, Call] = {
    "GetMeshStatus": Call(pb.GetMeshStatusRequest, pb.MeshStatus, lambda rt, r: rt.host.mesh()),
}
