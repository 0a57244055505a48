"""EncryptionService: keys and counters, rotation, the public key, key listing and retirement, and
rotation of the inline-task key; every RPC is one entry of frontends/calls/keys.py (the table HTTP
uses too)."""

from __future__ import annotations

from frontends._gen.sigmavault.v1 import encryption_pb2 as pb
from frontends._gen.sigmavault.v1 import encryption_pb2_grpc as rpc
from frontends.calls.keys import CALLS
from frontends.grpc_api.base import Servicer
from frontends.grpc_api.table import add_calls


class EncryptionServicer(Servicer, rpc.EncryptionServiceServicer):
    register = staticmethod(rpc.add_EncryptionServiceServicer_to_server)


add_calls(EncryptionServicer, pb.DESCRIPTOR, "EncryptionService", CALLS)
