"""NetworkService: the PhantomMesh overlay and the host's interfaces; every RPC is one entry of
frontends/calls/network.py (the table HTTP uses too)."""

from __future__ import annotations

from frontends._gen.sigmavault.v1 import network_pb2 as pb
from frontends._gen.sigmavault.v1 import network_pb2_grpc as rpc
from frontends.calls.network import CALLS
from frontends.grpc_api.base import Servicer
from frontends.grpc_api.table import add_calls


class NetworkServicer(Servicer, rpc.NetworkServiceServicer):
    register = staticmethod(rpc.add_NetworkServiceServicer_to_server)


add_calls(NetworkServicer, pb.DESCRIPTOR, "NetworkService", CALLS)
