"""StorageService: every RPC is one entry of frontends/calls/storage.py (the table HTTP uses too),
turned here into a servicer method that counts, times and maps errors like every other."""

from __future__ import annotations

from frontends._gen.sigmavault.v1 import storage_pb2 as pb
from frontends._gen.sigmavault.v1 import storage_pb2_grpc as rpc
from frontends.calls.storage import CALLS
from frontends.grpc_api.base import Servicer
from frontends.grpc_api.table import add_calls


class StorageServicer(Servicer, rpc.StorageServiceServicer):
    register = staticmethod(rpc.add_StorageServiceServicer_to_server)


add_calls(StorageServicer, pb.DESCRIPTOR, "StorageService", CALLS)
