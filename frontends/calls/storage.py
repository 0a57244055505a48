"""StorageService's RPCs as one table: request message -> the domain call -> the answer's message.

Both transports use it. gRPC hands over the request it received (frontends/grpc_api/storage.py);
HTTP builds the very same request message from the path, the query and the JSON body
(frontends/http_api/storage.py). So a route and its RPC take the same fields, call the same
StorageService method and answer the same message: they cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from frontends._gen.sigmavault.v1 import storage_pb2 as pb
from frontends.calls.table import Call, now


def _optional(request: Any, name: str) -> Any:
    return getattr(request, name) if request.HasField(name) else None


CALLS: dict[str, Call] = {
    # pools and devices
    "ListPools": Call(pb.ListPoolsRequest, pb.ListPoolsResponse, lambda rt, r: rt.facts.pools()),
    "GetPool": Call(pb.GetPoolRequest, pb.Pool, lambda rt, r: rt.storage.get_pool(r.pool)),
    "CreatePool": Call(
        pb.CreatePoolRequest,
        pb.Pool,
        lambda rt, r: rt.storage.create_pool(
            r.name,
            list(r.devices),
            pool_type=r.type,
            data_profile=r.data_profile,
            metadata_profile=r.metadata_profile,
            force=r.force,
        ),
    ),
    "ImportPool": Call(
        pb.ImportPoolRequest, pb.Pool, lambda rt, r: rt.storage.import_pool(r.pool, degraded=r.degraded)
    ),
    "ExportPool": Call(pb.ExportPoolRequest, pb.Pool, lambda rt, r: rt.storage.export_pool(r.pool)),
    "DestroyPool": Call(
        pb.DestroyPoolRequest, pb.DestroyPoolResponse, lambda rt, r: rt.storage.destroy_pool(r.pool, confirm=r.confirm)
    ),
    "AddDevice": Call(
        pb.AddDeviceRequest, pb.Pool, lambda rt, r: rt.storage.add_device(r.pool, r.device, force=r.force)
    ),
    "RemoveDevice": Call(
        pb.RemoveDeviceRequest,
        pb.StorageJob,
        lambda rt, r: rt.storage.remove_device(r.pool, r.device, confirm=r.confirm),
    ),
    "ReplaceDevice": Call(
        pb.ReplaceDeviceRequest,
        pb.StorageJob,
        lambda rt, r: rt.storage.replace_device(r.pool, r.old_device, r.new_device, force=r.force),
    ),
    "Balance": Call(
        pb.BalanceRequest,
        pb.StorageJob,
        lambda rt, r: rt.storage.balance(
            r.pool, convert_data=r.convert_data, convert_metadata=r.convert_metadata, force=r.force
        ),
    ),
    # scrub
    "StartScrub": Call(pb.StartScrubRequest, pb.StorageJob, lambda rt, r: rt.storage.start_scrub(r.pool)),
    "CancelScrub": Call(pb.CancelScrubRequest, pb.ScrubStatus, lambda rt, r: rt.storage.cancel_scrub(r.pool)),
    "GetScrubStatus": Call(pb.GetScrubStatusRequest, pb.ScrubStatus, lambda rt, r: rt.storage.scrub_status(r.pool)),
    # volumes and snapshots
    "ListVolumes": Call(pb.ListVolumesRequest, pb.ListVolumesResponse, lambda rt, r: rt.storage.list_volumes(r.pool)),
    "CreateVolume": Call(
        pb.CreateVolumeRequest,
        pb.Volume,
        lambda rt, r: rt.storage.create_volume(r.pool, r.volume, quota_bytes=r.quota_bytes),
    ),
    "SetQuota": Call(
        pb.SetQuotaRequest, pb.Volume, lambda rt, r: rt.storage.set_quota(r.pool, r.volume, r.quota_bytes)
    ),
    "DeleteVolume": Call(
        pb.DeleteVolumeRequest,
        pb.DeleteVolumeResponse,
        lambda rt, r: rt.storage.delete_volume(r.pool, r.volume, confirm=r.confirm, with_snapshots=r.with_snapshots),
    ),
    "ListSnapshots": Call(
        pb.ListSnapshotsRequest, pb.ListSnapshotsResponse, lambda rt, r: rt.storage.list_snapshots(r.pool, r.volume)
    ),
    "CreateSnapshot": Call(
        pb.CreateSnapshotRequest, pb.Snapshot, lambda rt, r: rt.storage.create_snapshot(r.pool, r.volume, r.snapshot)
    ),
    "DeleteSnapshot": Call(
        pb.DeleteSnapshotRequest,
        pb.DeleteSnapshotResponse,
        lambda rt, r: rt.storage.delete_snapshot(r.pool, r.volume, r.snapshot, confirm=r.confirm),
    ),
    "RollbackVolume": Call(
        pb.RollbackVolumeRequest,
        pb.Volume,
        lambda rt, r: rt.storage.rollback(r.pool, r.volume, r.snapshot, confirm=r.confirm),
    ),
    "CloneSnapshot": Call(
        pb.CloneSnapshotRequest, pb.Volume, lambda rt, r: rt.storage.clone(r.pool, r.volume, r.snapshot, r.new_volume)
    ),
    # snapshot schedules
    "ListSchedules": Call(
        pb.ListSchedulesRequest, pb.ListSchedulesResponse, lambda rt, r: now(rt.storage.list_schedules())
    ),
    "CreateSchedule": Call(
        pb.CreateScheduleRequest,
        pb.SnapshotSchedule,
        lambda rt, r: rt.storage.create_schedule(
            r.pool, r.volume, period=r.period, interval_s=r.interval_s, keep=r.keep
        ),
    ),
    "UpdateSchedule": Call(
        pb.UpdateScheduleRequest,
        pb.SnapshotSchedule,
        lambda rt, r: now(rt.storage.update_schedule(r.id, enabled=_optional(r, "enabled"), keep=_optional(r, "keep"))),
    ),
    "DeleteSchedule": Call(
        pb.DeleteScheduleRequest, pb.DeleteScheduleResponse, lambda rt, r: now(rt.storage.delete_schedule(r.id))
    ),
    # disks and SMART
    "ListDisks": Call(pb.ListDisksRequest, pb.ListDisksResponse, lambda rt, r: rt.facts.disks()),
    "GetSmart": Call(pb.GetSmartRequest, pb.SmartInfo, lambda rt, r: rt.storage.get_smart(r.disk, extended=r.extended)),
    "StartSelfTest": Call(
        pb.StartSelfTestRequest, pb.StartSelfTestResponse, lambda rt, r: rt.storage.start_self_test(r.disk, r.kind)
    ),
    # jobs
    "ListJobs": Call(pb.ListJobsRequest, pb.ListJobsResponse, lambda rt, r: now(rt.storage.list_jobs(r.limit))),
    "GetJob": Call(pb.GetJobRequest, pb.StorageJob, lambda rt, r: now(rt.storage.get_job(r.id))),
    "CancelJob": Call(pb.CancelJobRequest, pb.StorageJob, lambda rt, r: rt.storage.cancel_job(r.id)),
}
