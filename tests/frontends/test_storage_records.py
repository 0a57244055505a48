"""The storage domain's records (engine/storage/models.py) as both transports send them: every field
of a record is a field of its proto message by the same name (to_message and project drop a name
they do not know, so a misnamed field would vanish silently), and a Pool built from recorded tool
output becomes the gRPC message and the HTTP JSON of its route field for field."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest
from google.protobuf.json_format import ParseDict
from starlette.applications import Starlette
from starlette.routing import Route

from engine.storage import models
from engine.storage.btrfs import parse
from engine.storage.btrfs.pool import pool_record
from frontends._gen.sigmavault.v1 import common_pb2, storage_pb2
from frontends.calls.storage import CALLS
from frontends.grpc_api.base import to_message
from frontends.http_api.storage import route
from frontends.records import plain
from frontends.schema import project
from frontends.stack import _storage_snapshot
from tests.utils import run

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor
    from google.protobuf.message import Message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "btrfs"
# every record a transport sends, and its message
MESSAGES: dict[type, Descriptor] = {
    models.DeviceErrors: storage_pb2.DeviceErrors.DESCRIPTOR,
    models.PoolDevice: storage_pb2.PoolMember.DESCRIPTOR,
    models.ScrubSummary: storage_pb2.ScrubSummary.DESCRIPTOR,
    models.Pool: storage_pb2.Pool.DESCRIPTOR,
    models.PoolListing: storage_pb2.ListPoolsResponse.DESCRIPTOR,
    models.Source: common_pb2.Source.DESCRIPTOR,
    models.DestroyedPool: storage_pb2.DestroyPoolResponse.DESCRIPTOR,
    models.ScrubStatus: storage_pb2.ScrubStatus.DESCRIPTOR,
    models.Volume: storage_pb2.Volume.DESCRIPTOR,
    models.VolumeListing: storage_pb2.ListVolumesResponse.DESCRIPTOR,
    models.DeletedVolume: storage_pb2.DeleteVolumeResponse.DESCRIPTOR,
    models.Snapshot: storage_pb2.Snapshot.DESCRIPTOR,
    models.SnapshotListing: storage_pb2.ListSnapshotsResponse.DESCRIPTOR,
    models.DeletedSnapshot: storage_pb2.DeleteSnapshotResponse.DESCRIPTOR,
    models.SnapshotSchedule: storage_pb2.SnapshotSchedule.DESCRIPTOR,
    models.ScheduleListing: storage_pb2.ListSchedulesResponse.DESCRIPTOR,
    models.DeletedSchedule: storage_pb2.DeleteScheduleResponse.DESCRIPTOR,
    models.StorageJob: storage_pb2.StorageJob.DESCRIPTOR,
    models.StorageJobListing: storage_pb2.ListJobsResponse.DESCRIPTOR,
    models.SmartAttribute: storage_pb2.SmartAttribute.DESCRIPTOR,
    models.SelfTestResult: storage_pb2.SelfTestResult.DESCRIPTOR,
    models.SelfTestState: storage_pb2.SelfTestState.DESCRIPTOR,
    models.SmartInfo: storage_pb2.SmartInfo.DESCRIPTOR,
    models.IoCounters: common_pb2.IoCounters.DESCRIPTOR,
    models.Disk: storage_pb2.Disk.DESCRIPTOR,
    models.DiskListing: storage_pb2.ListDisksResponse.DESCRIPTOR,
    models.SelfTestStarted: storage_pb2.StartSelfTestResponse.DESCRIPTOR,
}
INTERNAL = {models.RestoreOutcome}  # logged at start, sent by no transport


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def degraded_pool() -> models.Pool:
    """A mounted raid1 filesystem with a device missing, error counters and a scrub that corrected one:
    every nested message has values other than its defaults."""
    (fs,) = parse.parse_filesystem_show(fixture("filesystem_show_degraded_mounted.txt"))
    usage = parse.parse_filesystem_usage(fixture("filesystem_usage_b.txt"))
    stats = parse.parse_device_stats(fixture("device_stats_missing.txt"))
    scrub = parse.parse_scrub_status(fixture("scrub_status_R_corrected.txt"))
    return dataclasses.replace(pool_record(fs, "/mnt/tank", usage, stats, scrub), managed=True)


@pytest.mark.parametrize("name", sorted(c.__name__ for c in MESSAGES))
def test_record_fields_are_their_message_fields(name: str) -> None:
    record = getattr(models, name)
    message = MESSAGES[record]
    names = [f.name for f in dataclasses.fields(record)]
    assert set(names) == set(message.fields_by_name), record
    for field in dataclasses.fields(record):  # a nested message is a record of that message's type
        proto = message.fields_by_name[field.name]
        if proto.message_type is not None:
            nested = [c for c, d in MESSAGES.items() if d is proto.message_type]
            assert nested and nested[0].__name__ in str(field.type), (record, field.name)


def test_every_record_is_checked() -> None:
    exported = {getattr(models, name) for name in models.__all__ if isinstance(getattr(models, name), type)}
    assert exported == set(MESSAGES) | INTERNAL


def _same(record: Any, message: Message, http: dict[str, Any], where: str) -> None:
    """``record``'s every field in the gRPC message and in the HTTP JSON, by the message's field names."""
    for field in message.DESCRIPTOR.fields:
        value, sent = getattr(record, field.name), getattr(message, field.name)
        at = f"{where}.{field.name}"
        if field.message_type is not None and field.is_repeated:
            assert len(value) == len(sent) == len(http[field.name]), at
            for i, (item, item_sent, item_http) in enumerate(zip(value, sent, http[field.name], strict=True)):
                _same(item, item_sent, item_http, f"{at}[{i}]")
        elif field.message_type is not None:
            _same(value, sent, http[field.name], at)
        else:
            expected = list(value) if field.is_repeated else value
            assert (list(sent) if field.is_repeated else sent) == expected == http[field.name], at


@dataclasses.dataclass
class _Storage:
    """The storage domain's GetPool answering one record: what this test looks at is the route."""

    pool: models.Pool

    async def get_pool(self, name: str) -> models.Pool:
        assert name == self.pool.name
        return self.pool


@dataclasses.dataclass
class _Runtime:
    storage: _Storage


def test_a_pool_is_the_same_on_grpc_and_on_its_http_route() -> None:
    pool = degraded_pool()
    assert pool.members[0].state == "MISSING" and pool.members[0].errors.checksum_errors == 1  # a real degraded one
    call = CALLS["GetPool"]
    grpc_answer = to_message(call.response, pool)  # what StorageServicer.GetPool sends
    endpoint = route(_Runtime(_Storage(pool)), "GET", "/api/v1/storage/pools/{name}", "GetPool", "One pool")  # type: ignore[arg-type]
    app = Starlette(routes=[Route(endpoint.path, endpoint.handler, methods=[endpoint.method])])
    answer = run(_get(app, "/api/v1/storage/pools/tank"))
    assert answer.status_code == 200, answer.text
    http = orjson.loads(answer.content)
    _same(pool, grpc_answer, http, "Pool")
    assert set(http) == set(storage_pb2.Pool.DESCRIPTOR.fields_by_name)  # nothing more, nothing left out
    assert http == plain(pool)
    assert ParseDict(http, storage_pb2.Pool()) == grpc_answer  # the HTTP JSON is the message's JSON form


def test_absent_is_none_on_both_transports() -> None:
    """A disk without SMART: HTTP leaves the figures out (as before records), gRPC sends proto3's defaults."""
    smart = models.SmartInfo(available=False, device="/dev/vda", detail="Unknown USB bridge")
    http = orjson.loads(run(_get(_smart_app(smart), "/api/v1/storage/disks/vda/smart")).content)
    assert http == {"available": False, "device": "/dev/vda", "detail": "Unknown USB bridge"}
    sent = to_message(storage_pb2.SmartInfo, smart)
    assert (sent.available, sent.device, sent.passed, sent.HasField("self_test")) == (False, "/dev/vda", False, False)


async def _get(app: Starlette, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path)


def _smart_app(smart: models.SmartInfo) -> Starlette:
    class Storage:
        async def get_smart(self, disk: str, *, extended: bool) -> models.SmartInfo:
            return smart

    @dataclasses.dataclass
    class Runtime:
        storage: Storage

    path = "/api/v1/storage/disks/{disk}/smart"
    endpoint = route(Runtime(Storage()), "GET", path, "GetSmart", "SMART")  # type: ignore[arg-type]
    return Starlette(routes=[Route(endpoint.path, endpoint.handler, methods=[endpoint.method])])


def test_the_storage_watcher_sends_the_messages_json_form() -> None:
    """storage.event's disks and pools (frontends/stack.py): as the HTTP listings give them, without the
    fields that listing does not ask for (a disk's SMART, a pool's ``managed``) rather than null."""
    snapshot = run(_storage_snapshot())
    assert snapshot["disks"], "lsblk lists no device"
    for disk in snapshot["disks"]:
        assert "smart" not in disk and disk == project(storage_pb2.Disk.DESCRIPTOR, disk)
        assert set(disk) == set(storage_pb2.Disk.DESCRIPTOR.fields_by_name) - {"smart"}
    for pool in snapshot["pools"]:
        assert set(pool) == set(storage_pb2.Pool.DESCRIPTOR.fields_by_name) - {"managed"}
