"""EncryptionService's RPCs as one table (frontends/calls/__init__.py): the keys domain (the keystore's
key pairs, the files sealed to them) and the inline-task key.

EncryptionStatus is composed here from its two owners: the inline key's part with the workers'
counters (EncryptionInfo), and the keystore's (KeyService).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import encryption_pb2 as pb
from frontends.calls.table import Call
from frontends.records import plain

if TYPE_CHECKING:
    from engine.runtime import Runtime


async def _status(rt: Runtime, request: pb.GetEncryptionStatusRequest) -> dict[str, Any]:
    keystore = rt.keys.status()
    inline = rt.encryption.status(rt.monitor.kind_totals(), pq_enabled=keystore.pq_enabled)
    return {**plain(inline), **plain(keystore)}


CALLS: dict[str, Call] = {
    "GetStatus": Call(pb.GetEncryptionStatusRequest, pb.EncryptionStatus, _status),
    "RotateKey": Call(pb.RotateKeyRequest, pb.KeyInfo, lambda rt, r: rt.keys.rotate()),
    "GetPublicKey": Call(pb.GetPublicKeyRequest, pb.PublicKey, lambda rt, r: rt.keys.public_key(r.key_id)),
    "ListKeys": Call(pb.ListKeysRequest, pb.KeyList, lambda rt, r: rt.keys.list_keys()),
    "ListKeyFiles": Call(pb.ListKeyFilesRequest, pb.KeyFiles, lambda rt, r: rt.keys.key_files(r.key_id)),
    "RetireKey": Call(
        pb.RetireKeyRequest,
        pb.RetireKeyResponse,
        lambda rt, r: rt.keys.retire(r.key_id, confirm=r.confirm, force=r.force),
    ),
    "RotateEngineKey": Call(
        pb.RotateEngineKeyRequest, pb.EngineKeyInfo, lambda rt, r: rt.engine_key.rotate(confirm=r.confirm)
    ),
}
