"""SystemService: engine and host status, host figures and services, and the audit log; every RPC is
one entry of frontends/calls/system.py (the table HTTP uses too)."""

from __future__ import annotations

from frontends._gen.sigmavault.v1 import system_pb2 as pb
from frontends._gen.sigmavault.v1 import system_pb2_grpc as rpc
from frontends.calls.system import CALLS
from frontends.grpc_api.base import Servicer
from frontends.grpc_api.table import add_calls


class SystemServicer(Servicer, rpc.SystemServiceServicer):
    register = staticmethod(rpc.add_SystemServiceServicer_to_server)


add_calls(SystemServicer, pb.DESCRIPTOR, "SystemService", CALLS)
