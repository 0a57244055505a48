"""The storage and system surface that needs no pool: SMART per disk, self-test refusals, service
states, CPU and memory in the status, and how /openapi.json describes named path parameters;
over HTTP (checked against /openapi.json) and gRPC, on the session's ``engined serve``."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import pytest

from engine.host.services import SYSTEMD_RUNTIME
from frontends import pb, rpc
from tests.contract import check
from tests.engine.storage.test_zfs import RECORDED, unusable_zfs_tools
from tests.served import start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.served import Served

pytestmark = pytest.mark.multiprocess
SMART = "/api/v1/storage/disks/{disk}/smart"


@pytest.fixture(scope="module")
def document(served: Served) -> dict[str, Any]:
    return httpx.get(f"{served.http}/openapi.json", headers=served.headers, timeout=10).json()


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.http, headers=served.headers, timeout=60) as client:
        yield client


def test_every_disk_says_whether_it_has_smart(http: httpx.Client, document: dict[str, Any]) -> None:
    disks = [
        d
        for d in check(document, "/api/v1/storage/disks", "get", http.get("/api/v1/storage/disks"))["disks"]
        if d["type"] == "disk"
    ]
    assert disks, "lsblk lists no whole disk"
    for disk in disks:
        answer = http.get(f"/api/v1/storage/disks/{disk['name']}/smart")
        if shutil.which("smartctl") is None:
            assert (
                answer.status_code == 501
                and "smartmontools" in check(document, SMART, "get", answer)["error"]["message"]
            )
            continue
        smart = check(document, SMART, "get", answer)
        assert answer.status_code == 200 and smart["device"] == disk["path"]
        assert smart["available"] == disk["smart"]["available"]
        if not smart["available"]:  # virtio disks here: smartctl's own reason, per disk
            assert disk["path"] in smart["detail"] or "SMART" in smart["detail"], smart


def test_smart_refusals_name_the_rule(http: httpx.Client, document: dict[str, Any]) -> None:
    for name, status, code in (
        ("sv-absent", 404, "unknown_disk"),
        ("null", 400, "not_block_device"),
        ("a!b!c%20", 400, "invalid_name"),
    ):
        answer = http.get(f"/api/v1/storage/disks/{name}/smart")
        assert (answer.status_code, check(document, SMART, "get", answer)["error"]["code"]) == (status, code), name
    route = "/api/v1/storage/disks/{disk}/selftest"
    disk = next(d["name"] for d in http.get("/api/v1/storage/disks").json()["disks"] if d["type"] == "disk")
    kind = http.post(f"/api/v1/storage/disks/{disk}/selftest", json={"kind": "medium"})
    assert kind.status_code == 400 and "short or long" in check(document, route, "post", kind)["error"]["message"]
    if shutil.which("smartctl") is not None and not http.get(f"/api/v1/storage/disks/{disk}/smart").json()["available"]:
        none = http.post(f"/api/v1/storage/disks/{disk}/selftest", json={})
        assert (none.status_code, check(document, route, "post", none)["error"]["code"]) == (501, "no_smart")


def test_services_and_host_status(http: httpx.Client, document: dict[str, Any], served: Served) -> None:
    services = check(document, "/api/v1/system/services", "get", http.get("/api/v1/system/services"))
    status = check(document, "/api/v1/system/status", "get", http.get("/api/v1/system/status"))
    assert status["cpu"]["count"] >= 1 and status["cpu"]["model"] and len(status["cpu"]["load_average"]) == 3
    assert 0 < status["memory"]["available_bytes"] <= status["memory"]["total_bytes"]
    assert status["boot_time_unix"] > 0 and status["host_uptime_s"] > 0
    with served.channel() as channel:
        stub = rpc.SystemServiceStub(channel)
        listed = stub.ListServices(pb.ListServicesRequest(), timeout=30)
        assert stub.GetStatus(pb.GetStatusRequest(), timeout=10).cpu.count == status["cpu"]["count"]
    assert [s.name for s in listed.sources] == [s["name"] for s in services["sources"]] == ["systemd"]
    if not SYSTEMD_RUNTIME.is_dir():  # these sandboxes: said plainly, nothing guessed
        assert services["services"] == [] and not services["sources"][0]["available"]
        assert "systemd is not running" in services["sources"][0]["detail"]
        assert Path("/proc/1/comm").read_text().strip() in listed.sources[0].detail
    else:
        assert any(s["name"] == "ssh" for s in services["services"])


def test_named_path_parameters_are_strings(document: dict[str, Any]) -> None:
    def schema(path: str, method: str, name: str) -> dict[str, Any]:
        params = document["paths"][path][method]["parameters"]
        found: dict[str, Any] = next(p["schema"] for p in params if p["name"] == name)
        return found

    snapshot = "/api/v1/storage/pools/{name}/volumes/{volume}/snapshots/{snapshot}"
    for name in ("name", "volume", "snapshot"):
        assert schema(snapshot, "delete", name)["type"] == "string"
    assert schema("/api/v1/storage/jobs/{job_id}", "get", "job_id")["type"] == "string"
    assert schema(SMART, "get", "disk")["type"] == "string"
    assert schema("/api/v1/storage/schedules/{id}", "patch", "id")["type"] == "integer"
    assert schema("/api/v1/agents/{id}", "get", "id")["type"] == "integer"
    destroy = document["paths"]["/api/v1/storage/pools/{name}"]["delete"]
    assert destroy["requestBody"]["required"] is False and any(p["name"] == "confirm" for p in destroy["parameters"])
    assert document["paths"]["/api/v1/storage/pools"]["post"]["requestBody"]["required"] is True
    assert {"409", "422", "501"} <= set(destroy["responses"])


def test_zfs_unusable_is_a_state_not_an_error(tmp_path: Path) -> None:
    """An engine whose zpool cannot reach ZFS (the zfs-fuse daemon not running, as recorded): status and
    the pool listing say so and why; an unknown pool is a 404 and Btrfs is listed as ever."""
    recorded = "zpool_list_zfs_fuse_no_daemon.stderr"
    served = start_served(tmp_path, PATH=unusable_zfs_tools(tmp_path / "bin", recorded))
    try:
        with httpx.Client(base_url=served.http, headers=served.headers, timeout=60) as http:
            document = http.get("/openapi.json").json()
            said = f"ZFS is installed but not usable: {RECORDED[recorded]}"
            status: dict[str, Any] = {}
            for _ in range(500):  # the start's pool listing runs in the background
                status = check(document, "/api/v1/system/status", "get", http.get("/api/v1/system/status"))
                if status.get("storage_sources"):
                    break
                time.sleep(0.02)
            sources = {s["name"]: s for s in status["storage_sources"]}
            assert sources["zfs"] == {"name": "zfs", "available": False, "detail": said}
            listing = check(document, "/api/v1/storage/pools", "get", http.get("/api/v1/storage/pools"))
            listed = {s["name"]: s for s in listing["sources"]}
            assert listed["zfs"]["detail"] == said and listed["btrfs"] == sources["btrfs"]
            for path in ("/api/v1/storage/pools/sv-absent", "/api/v1/storage/pools/sv-absent/scrub"):
                absent = http.get(path)
                assert absent.status_code == 404, absent.text
                assert absent.json()["error"]["code"] == "not_found"
        with served.channel() as channel:
            status_pb = rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), timeout=10)
            assert [s.detail for s in status_pb.storage_sources if s.name == "zfs"] == [said]
            with pytest.raises(grpc.RpcError) as absent_rpc:
                rpc.StorageServiceStub(channel).GetPool(pb.GetPoolRequest(pool="sv-absent"), timeout=30)
            assert absent_rpc.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        assert stop_served(served) == 0, served.output()[-3000:]


def test_a_failing_schedule_runner_is_restarted_and_counted(tmp_path: Path) -> None:
    """A schedule file the runner cannot read (damaged on disk) makes the runner fail at each run: it is
    restarted with backoff, each failure logged with its traceback, and /metrics counts the restarts."""
    storage = tmp_path / "data" / "storage"
    storage.mkdir(parents=True, mode=0o700)
    (tmp_path / "data").chmod(0o700)
    (storage / "schedules.json").write_bytes(b'[{"id": 1, "pool": "tank"')  # cut short: not JSON
    served = start_served(tmp_path)
    pattern = re.compile(r'^sigmavault_background_restarts_total\{task="storage\.snapshots"\} (\S+)$', re.M)
    try:
        with httpx.Client(base_url=served.http, headers=served.headers, timeout=60) as http:
            restarts = 0.0
            deadline = time.monotonic() + 20
            while restarts < 2 and time.monotonic() < deadline:  # the first restart comes 1 s after the failure
                found = pattern.findall(http.get("/metrics").text)
                restarts = float(found[0]) if found else 0.0
                time.sleep(0.05)
            assert restarts >= 2, http.get("/metrics").text
    finally:
        assert stop_served(served) == 0, served.output()[-3000:]
    log = served.output()
    assert "background task storage.snapshots failed (restart 1 in 1.0 s)" in log
    assert "background task storage.snapshots failed (restart 2 in 2.0 s)" in log
    assert "Traceback" in log and "JSONDecodeError" in log
