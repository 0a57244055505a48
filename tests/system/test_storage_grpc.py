"""The storage core path over gRPC with the generated stubs, as the Go API calls it: create a pool,
a volume and a snapshot, roll back, scrub as a job, read SMART; errors carry their reason in the
google.rpc.ErrorInfo; and a pool the engine created is mounted again when the engine restarts."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from frontends import pb, rpc
from tests.served import start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = [pytest.mark.system, pytest.mark.multiprocess]


def reason(call: Callable[..., Any], request: Any) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    """(code, ErrorInfo reason, ErrorInfo metadata) of a failing call, as a Go client reads them."""
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=60)
    status = rpc_status.from_call(info.value)
    assert status is not None and info.value.details()
    detail = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(detail)
    return info.value.code(), detail.reason, dict(detail.metadata)


def wait_job(stub: rpc.StorageServiceStub, job_id: str, timeout: float = 60) -> pb.StorageJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stub.GetJob(pb.GetJobRequest(id=job_id), timeout=10)
        if job.state in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def test_grpc_core_path_and_restore_at_restart(loop_devices: Any, tmp_path: Path, pool_name: str) -> None:
    devs = loop_devices(2, 256)
    workdir = tmp_path / "engine"
    workdir.mkdir()
    pool_root = str(tmp_path / "pools")
    served = start_served(workdir, SIGMAVAULT_POOL_ROOT=pool_root)
    try:
        with served.channel() as channel:
            mountpoint = _core_path(rpc.StorageServiceStub(channel), devs, pool_name)
        assert stop_served(served) == 0, served.output()
        # the machine restarts: the pool is not mounted; the next engine mounts it again at start
        subprocess.run(["umount", mountpoint], check=True, timeout=30)
        served = start_served(workdir, SIGMAVAULT_POOL_ROOT=pool_root)
        with served.channel() as channel:
            stub = rpc.StorageServiceStub(channel)
            deadline = time.monotonic() + 30
            while not stub.GetPool(pb.GetPoolRequest(pool=pool_name), timeout=30).mounted:
                assert time.monotonic() < deadline, served.output()
                time.sleep(0.1)
            assert (Path(mountpoint) / "docs" / "report.txt").read_bytes() == b"version one"
            assert f"pool {pool_name} at start: mounted" in served.output()
            destroyed = stub.DestroyPool(pb.DestroyPoolRequest(pool=pool_name, confirm=pool_name), timeout=60)
            assert destroyed.destroyed
    finally:
        assert stop_served(served) == 0, served.output()


def _core_path(stub: rpc.StorageServiceStub, devs: list[str], name: str) -> str:
    pool = stub.CreatePool(pb.CreatePoolRequest(name=name, devices=devs, data_profile="raid1"), timeout=120)
    assert (pool.health, pool.mounted, pool.data_profile, pool.managed) == ("ONLINE", True, "raid1", True)
    assert sorted(m.path for m in pool.members) == sorted(devs)
    assert name in [p.name for p in stub.ListPools(pb.ListPoolsRequest(), timeout=30).pools]

    volume = stub.CreateVolume(pb.CreateVolumeRequest(pool=name, volume="docs"), timeout=60)
    report = Path(volume.path) / "report.txt"
    report.write_bytes(b"version one")
    snapshot = stub.CreateSnapshot(pb.CreateSnapshotRequest(pool=name, volume="docs", snapshot="s1"), timeout=60)
    assert snapshot.readonly and snapshot.created_unix > 0
    report.write_bytes(b"version two")
    code, why, meta = reason(stub.RollbackVolume, pb.RollbackVolumeRequest(pool=name, volume="docs", snapshot="s1"))
    assert (code, why, meta["target"]) == (grpc.StatusCode.INVALID_ARGUMENT, "CONFIRMATION_REQUIRED", "docs")
    stub.RollbackVolume(pb.RollbackVolumeRequest(pool=name, volume="docs", snapshot="s1", confirm="docs"), timeout=60)
    assert report.read_bytes() == b"version one"
    assert [s.name for s in stub.ListSnapshots(pb.ListSnapshotsRequest(pool=name), timeout=30).snapshots] == ["s1"]

    job = stub.StartScrub(pb.StartScrubRequest(pool=name), timeout=60)
    assert job.kind == "scrub" and job.id.startswith("job-")
    code, why, meta = reason(stub.Balance, pb.BalanceRequest(pool=name))
    assert (code, why, meta["running_operation"]) == (grpc.StatusCode.FAILED_PRECONDITION, "POOL_BUSY", "scrub")
    done = wait_job(stub, job.id)
    assert (done.state, done.percent, done.errors_found) == ("done", 100.0, 0)
    status = stub.GetScrubStatus(pb.GetScrubStatusRequest(pool=name), timeout=30)
    assert status.state == "finished" and status.percent == 100.0
    assert job.id in [j.id for j in stub.ListJobs(pb.ListJobsRequest(), timeout=30).jobs]

    disks = [d for d in stub.ListDisks(pb.ListDisksRequest(), timeout=60).disks if d.type == "disk"]
    assert disks
    smart = stub.GetSmart(pb.GetSmartRequest(disk=disks[0].name), timeout=60)
    assert smart.device == disks[0].path and smart.available == disks[0].smart.available
    if not smart.available:  # the virtio disks here: said per disk, with smartctl's reason
        assert smart.detail
    code, why, _ = reason(stub.GetPool, pb.GetPoolRequest(pool=name + "-absent"))
    assert (code, why) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    code, why, meta = reason(stub.CreatePool, pb.CreatePoolRequest(name="..", devices=devs))
    assert (code, why, meta["rule"]) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_NAME", "dot_dot")
    return pool.mountpoint
