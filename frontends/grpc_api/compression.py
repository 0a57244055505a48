"""CompressionService: figures, jobs (one-block and file jobs) and range reads; every RPC is one entry
of frontends/calls/compression.py (the table HTTP uses too)."""

from __future__ import annotations

from frontends._gen.sigmavault.v1 import compression_pb2 as pb
from frontends._gen.sigmavault.v1 import compression_pb2_grpc as rpc
from frontends.calls.compression import CALLS
from frontends.grpc_api.base import Servicer
from frontends.grpc_api.table import add_calls


class CompressionServicer(Servicer, rpc.CompressionServiceServicer):
    register = staticmethod(rpc.add_CompressionServiceServicer_to_server)


add_calls(CompressionServicer, pb.DESCRIPTOR, "CompressionService", CALLS)
