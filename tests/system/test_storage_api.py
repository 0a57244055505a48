"""Storage through the public surface of a real ``engined serve``, as root on loop devices: HTTP
with every answer checked against /openapi.json, the storage.event messages on a WebSocket client,
and (test_storage_grpc.py) the same core path over gRPC. The pools are mounted under a
SIGMAVAULT_POOL_ROOT in the test's tmp dir; the engine is stopped before the loop fixture unmounts
and detaches everything, even when a test fails."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect

from tests.contract import check
from tests.served import start_served, stop_served
from tests.system.conftest import corrupt_first_copy, pattern_file

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.served import Served

pytestmark = [pytest.mark.system, pytest.mark.multiprocess]
POOLS = "/api/v1/storage/pools"


@pytest.fixture
def engine(loop_devices: Callable[[int, int], list[str]], tmp_path: Path) -> Iterator[Served]:
    """``engined serve`` with its pool root in tmp_path; it depends on ``loop_devices`` so that it
    stops before the loops are unmounted and detached."""
    workdir = tmp_path / "engine"
    workdir.mkdir()
    served = start_served(workdir, SIGMAVAULT_POOL_ROOT=str(tmp_path / "pools"))
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()


class Api:
    """An HTTP client that checks every answer against /openapi.json and the status expected."""

    def __init__(self, served: Served) -> None:
        self.client = httpx.Client(base_url=served.http, headers=served.headers, timeout=60)
        self.document = self.client.get("/openapi.json").json()

    def __call__(self, method: str, route: str, status: int = 200, *, path: str | None = None, **kwargs: Any) -> Any:
        """``route`` is the document's template; ``path`` the concrete URL (default: the route)."""
        response = self.client.request(method, path or route, **kwargs)
        assert response.status_code == status, (method, path or route, response.text)
        return check(self.document, route, method.lower(), response)

    def wait_job(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self("GET", "/api/v1/storage/jobs/{job_id}", path=f"/api/v1/storage/jobs/{job_id}")
            if job["state"] in ("done", "failed", "cancelled"):
                return dict(job)
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not end in {timeout} s")


@pytest.fixture
def api(engine: Served) -> Iterator[Api]:
    """Closed after the test whatever its outcome (left to the garbage collector, the client's socket
    surfaced as a ResourceWarning error in a later test)."""
    client = Api(engine)
    yield client
    client.client.close()


class Events:
    """A WebSocket client subscribed to storage.event, collecting in a thread."""

    def __init__(self, served: Served) -> None:
        self.conn = connect(
            f"ws://127.0.0.1:{served.http_port}/ws", additional_headers=served.headers, open_timeout=5
        ).__enter__()
        self.conn.recv(timeout=5)  # server.hello
        self.conn.send(orjson.dumps({"type": "client.subscribe", "data": {"types": ["storage.event"]}}).decode())
        assert orjson.loads(self.conn.recv(timeout=5))["type"] == "client.subscribed"
        self.seen: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            for raw in self.conn:
                message = orjson.loads(raw)
                if message["type"] == "storage.event":
                    self.seen.append(message["data"])
        except Exception:  # closed
            return

    def for_job(self, job_id: str) -> list[dict[str, Any]]:
        return [e for e in self.seen if e.get("job", {}).get("id") == job_id]

    def close(self) -> None:
        self.conn.close()
        self._thread.join(5)


def test_pool_volume_snapshot_rollback_scrub_and_remove(engine: Served, loop_devices: Any, pool_name: str) -> None:
    api, events = Api(engine), Events(engine)
    try:
        _scenario(api, events, loop_devices(3, 256), pool_name)
    finally:
        events.close()
        api.client.close()


def _scenario(api: Api, events: Events, devs: list[str], name: str) -> None:
    pool_path, one = f"{POOLS}/{name}", POOLS + "/{name}"
    pool = api("POST", POOLS, json={"name": name, "devices": devs[:2], "data_profile": "raid1"})
    assert (pool["health"], pool["mounted"], pool["managed"], pool["data_profile"]) == ("ONLINE", True, True, "raid1")
    assert [p["name"] for p in api("GET", POOLS)["pools"] if p["name"] == name] == [name]  # listed at once

    # a volume, a file, a snapshot, a change, a rollback to the old bytes
    volume = api(
        "POST", one + "/volumes", path=f"{pool_path}/volumes", json={"volume": "docs", "quota_bytes": 64 << 20}
    )
    report = Path(volume["path"]) / "report.txt"
    report.write_bytes(b"version one")
    snap_route = one + "/volumes/{volume}/snapshots"
    snap = api("POST", snap_route, path=f"{pool_path}/volumes/docs/snapshots", json={"snapshot": "before"})
    assert snap["readonly"] and snap["volume"] == "docs"
    report.write_bytes(b"version two, longer")
    rollback_route, rollback = (
        snap_route + "/{snapshot}/rollback",
        f"{pool_path}/volumes/docs/snapshots/before/rollback",
    )
    refused = api("POST", rollback_route, 400, path=rollback, json={"confirm": "before"})
    assert refused["error"]["code"] == "confirmation_required"
    rolled = api("POST", rollback_route, path=rollback, json={"confirm": "docs"})
    assert report.read_bytes() == b"version one" and rolled["quota_bytes"] == 64 << 20
    assert [s["name"] for s in api("GET", snap_route, path=f"{pool_path}/volumes/docs/snapshots")["snapshots"]] == [
        "before"
    ]
    assert [v["name"] for v in api("GET", one + "/volumes", path=f"{pool_path}/volumes")["volumes"]] == ["docs"]

    # corrupt one mirror, scrub as a job: errors found and corrected, told on the WebSocket
    movie = Path(volume["path"]) / "movie.bin"
    corrupt_first_copy(devs[0], pattern_file(movie, 256 << 10))
    expected = movie.read_bytes()
    job = api("POST", one + "/scrub", path=f"{pool_path}/scrub")
    assert (job["kind"], job["pool"], job["state"]) == ("scrub", name, "running")
    busy = api("POST", one + "/devices", 409, path=f"{pool_path}/devices", json={"device": devs[2]})["error"]
    assert (busy["code"], busy["metadata"]["running_operation"]) == ("pool_busy", "scrub")
    assert "scrub is running" in busy["message"]
    beside = api("POST", one + "/volumes", path=f"{pool_path}/volumes", json={"volume": "during-scrub"})
    assert beside["name"] == "during-scrub"  # short volume operations may run beside a scrub
    done = api.wait_job(job["id"])
    assert done["state"] == "done", done
    assert done["errors_found"] >= 1 and done["errors_corrected"] >= 1 and done["errors_uncorrectable"] == 0
    assert done["percent"] == 100.0 and "corrected" in done["message"]
    status = api("GET", one + "/scrub", path=f"{pool_path}/scrub")
    assert (status["state"], status["job_id"]) == ("finished", "") and status["errors_corrected"] >= 1
    assert movie.read_bytes() == expected
    assert any(j["id"] == job["id"] for j in api("GET", "/api/v1/storage/jobs")["jobs"])
    time.sleep(0.2)  # the last event may still be on its way
    actions = [e["action"] for e in events.for_job(job["id"])]
    assert actions[0] == "job_progress" and actions[-1] == "job_done", actions
    assert "errors_found" in actions and actions.index("errors_found") < actions.index("job_done")
    assert events.for_job(job["id"])[-1]["job"]["errors_corrected"] >= 1

    # a third device, then remove the first: a job during which the pool stays readable
    pool = api("POST", one + "/devices", path=f"{pool_path}/devices", json={"device": devs[2]})
    assert sorted(pool["devices"]) == sorted(devs)
    blob, payload = Path(volume["path"]) / "blob", os.urandom(24 << 20)
    blob.write_bytes(payload)
    unconfirmed = api("DELETE", one + "/devices", 400, path=f"{pool_path}/devices", params={"device": devs[0]})
    assert unconfirmed["error"]["code"] == "confirmation_required"
    job = api("DELETE", one + "/devices", path=f"{pool_path}/devices", json={"device": devs[0], "confirm": devs[0]})
    assert job["kind"] == "remove_device" and job["target"] == devs[0]
    second = api("POST", one + "/balance", 409, path=f"{pool_path}/balance", json={})["error"]
    assert (second["code"], second["metadata"]["running_operation"]) == ("pool_busy", "remove_device")
    reads = 0
    while api("GET", "/api/v1/storage/jobs/{job_id}", path=f"/api/v1/storage/jobs/{job['id']}")["state"] in (
        "queued",
        "running",
    ):
        assert blob.read_bytes() == payload
        reads += 1
    assert api.wait_job(job["id"])["state"] == "done" and reads >= 1
    pool = api("GET", one, path=pool_path)
    assert sorted(pool["devices"]) == sorted(devs[1:]) and pool["health"] == "ONLINE"
    assert blob.read_bytes() == payload

    # destroy: confirmed by name only; the listing shows it gone at once
    wrong = api("DELETE", one, 400, path=pool_path, params={"confirm": "not-" + name})
    assert wrong["error"]["code"] == "confirmation_required"
    assert api("DELETE", one, path=pool_path, params={"confirm": name}) == {"name": name, "destroyed": True}
    assert name not in [p["name"] for p in api("GET", POOLS)["pools"]]


def test_bad_input_gets_the_rule_never_a_500(
    engine: Served, api: Api, loop_devices: Any, pool_name: str, tmp_path: Path
) -> None:
    devs = loop_devices(3, 128)
    root = subprocess.run(["findmnt", "-no", "SOURCE", "/"], capture_output=True, text=True).stdout.strip()

    def refused(body: dict[str, Any], code: str, rule: str | None = None, status: int = 400) -> dict[str, Any]:
        error: dict[str, Any] = api("POST", POOLS, status, json=body)["error"]
        assert error["code"] == code, error
        if rule is not None:
            assert error["metadata"]["rule"] == rule, error
        return error

    for bad, rule in (
        ("a/b", "slash"),
        ("..", "dot_dot"),
        ("x\x01y", "control_character"),
        ("", "empty"),
        ("-rf", "leading_dot_or_dash"),
        ("é", "characters"),
    ):
        refused({"name": bad, "devices": devs[:1]}, "invalid_name", rule)
    refused({"name": pool_name, "devices": ["/etc/passwd"]}, "device_refused", "not_block_device")
    refused({"name": pool_name, "devices": ["/dev/null"]}, "device_refused", "not_block_device")
    if root.startswith("/dev/"):
        refused({"name": pool_name, "devices": [root]}, "device_refused", "root_filesystem")
    refused({"name": pool_name, "devices": [devs[0], devs[0]]}, "device_refused", "duplicate")
    error = refused({"name": pool_name, "devices": devs[:3], "data_profile": "raid5"}, "raid56_refused")
    assert "RAID5/6" in error["message"] and "force" in error["message"]
    subprocess.run(["mkfs.ext4", "-q", "-F", devs[2]], check=True, capture_output=True, timeout=60)
    error = refused({"name": pool_name, "devices": [devs[2]]}, "device_refused", "signature")
    assert "ext4" in error["message"] and "force" in error["message"]
    mnt = tmp_path / "elsewhere"
    mnt.mkdir()
    subprocess.run(["mount", devs[2], str(mnt)], check=True, timeout=30)
    refused({"name": pool_name, "devices": [devs[2]], "force": True}, "device_refused", "mounted")
    refused({"name": pool_name}, "invalid_request")  # no devices: the body says which field
    assert api.client.post(POOLS, content=b"{not json").json()["error"]["code"] == "malformed_json"
    refused({"name": pool_name, "devices": devs[:1], "colour": "red"}, "invalid_request")

    one, absent = POOLS + "/{name}", f"{POOLS}/{pool_name}-absent"
    assert api("GET", one, 404, path=absent)["error"]["code"] == "not_found"
    assert api("POST", one + "/scrub", 404, path=absent + "/scrub")["error"]["code"] == "not_found"
    assert api("GET", one + "/volumes", 404, path=absent + "/volumes")["error"]["code"] == "not_found"
    assert api("DELETE", one, 400, path=absent)["error"]["code"] == "confirmation_required"

    pool = api("POST", POOLS, json={"name": pool_name, "devices": devs[:1]})
    assert (pool["data_profile"], pool["metadata_profile"]) == ("single", "dup")
    pool_path = f"{POOLS}/{pool_name}"
    vol = api("POST", one + "/volumes", 400, path=f"{pool_path}/volumes", json={"volume": ".hidden"})["error"]
    assert (vol["code"], vol["metadata"]["rule"]) == ("invalid_name", "leading_dot_or_dash")
    assert api("POST", POOLS, 409, json={"name": pool_name, "devices": devs[1:2]})["error"]["code"] == "already_exists"
    assert api("DELETE", one, 400, path=pool_path)["error"]["code"] == "confirmation_required"
    absent_volume = {"pool": pool_name, "volume": "none", "keep": 3, "period": "daily"}
    assert api("POST", "/api/v1/storage/schedules", 404, json=absent_volume)["error"]["code"] == "not_found"
    api("POST", one + "/volumes", path=f"{pool_path}/volumes", json={"volume": "docs"})
    schedule = api(
        "POST", "/api/v1/storage/schedules", json={"pool": pool_name, "volume": "docs", "keep": 24, "period": "hourly"}
    )
    assert schedule["interval_s"] == 3600 and schedule["next_run_unix"] > time.time()
    bad = api(
        "POST",
        "/api/v1/storage/schedules",
        400,
        json={"pool": pool_name, "volume": "docs", "keep": 0, "period": "hourly"},
    )
    assert bad["error"]["code"] == "invalid_schedule"
    yearly = api(
        "POST",
        "/api/v1/storage/schedules",
        400,
        json={"pool": pool_name, "volume": "docs", "keep": 3, "period": "yearly"},
    )
    assert "hourly, daily, weekly" in yearly["error"]["message"]
    sched = "/api/v1/storage/schedules/{id}"
    paused = api("PATCH", sched, path=f"/api/v1/storage/schedules/{schedule['id']}", json={"enabled": False})
    assert (paused["enabled"], paused["next_run_unix"]) == (False, 0.0)
    assert api("GET", "/api/v1/storage/schedules")["schedules"] == [paused]
    assert api("DELETE", sched, path=f"/api/v1/storage/schedules/{schedule['id']}")["deleted"] is True
    assert api("DELETE", sched, 404, path="/api/v1/storage/schedules/999")["error"]["code"] == "not_found"
    assert (
        api("GET", "/api/v1/storage/jobs/{job_id}", 404, path="/api/v1/storage/jobs/job-nope")["error"]["code"]
        == "unknown_job"
    )
    assert api("GET", "/api/v1/storage/jobs", 400, params={"limit": "many"})["error"]["code"] == "invalid_argument"
    assert api("DELETE", one, path=pool_path, json={"confirm": pool_name})["destroyed"] is True
    assert "Traceback" not in engine.output()


def test_the_other_routes_on_a_real_pool(api: Api, loop_devices: Any, pool_name: str) -> None:
    """Export/import, quota, clone, snapshot and volume deletion, balance and replace as jobs, and
    the scrub cancel that finds nothing to cancel: each route answers its message."""
    devs = loop_devices(3, 256)
    one, path = POOLS + "/{name}", f"{POOLS}/{pool_name}"
    volume_route, volume_path = one + "/volumes/{volume}", f"{path}/volumes/docs"
    api("POST", POOLS, json={"name": pool_name, "devices": devs[:2], "data_profile": "raid1"})
    exported = api("POST", one + "/export", path=f"{path}/export")
    assert (exported["health"], exported["mounted"]) == ("EXPORTED", False)
    assert (
        api("POST", one + "/volumes", 409, path=f"{path}/volumes", json={"volume": "docs"})["error"]["code"]
        == "pool_not_mounted"
    )
    imported = api("POST", one + "/import", path=f"{path}/import", json={})
    assert (imported["health"], imported["mounted"]) == ("ONLINE", True)

    docs = api("POST", one + "/volumes", path=f"{path}/volumes", json={"volume": "docs"})
    (Path(docs["path"]) / "a.txt").write_bytes(b"snapshotted")
    quota = api("PUT", volume_route + "/quota", path=f"{volume_path}/quota", json={"quota_bytes": 32 << 20})
    assert quota["quota_bytes"] == 32 << 20
    api("POST", volume_route + "/snapshots", path=f"{volume_path}/snapshots", json={"snapshot": "s1"})
    listed = api("GET", one + "/snapshots", path=f"{path}/snapshots", params={"volume": "docs"})["snapshots"]
    assert [(s["volume"], s["name"]) for s in listed] == [("docs", "s1")]
    clone = api(
        "POST",
        volume_route + "/snapshots/{snapshot}/clone",
        path=f"{volume_path}/snapshots/s1/clone",
        json={"new_volume": "copy"},
    )
    assert (Path(clone["path"]) / "a.txt").read_bytes() == b"snapshotted"
    has = api("DELETE", volume_route, 409, path=volume_path, params={"confirm": "docs"})["error"]
    assert has["code"] == "has_snapshots"
    snapshot_route = volume_route + "/snapshots/{snapshot}"
    assert api("DELETE", snapshot_route, 400, path=f"{volume_path}/snapshots/s1")["error"]["code"] == (
        "confirmation_required"
    )
    gone = api("DELETE", snapshot_route, path=f"{volume_path}/snapshots/s1", params={"confirm": "s1"})
    assert gone == {"pool": pool_name, "volume": "docs", "name": "s1", "deleted": True}
    deleted = api("DELETE", volume_route, path=volume_path, params={"confirm": "docs", "with_snapshots": "true"})
    assert deleted == {"pool": pool_name, "name": "docs", "deleted": True}
    assert [v["name"] for v in api("GET", one + "/volumes", path=f"{path}/volumes")["volumes"]] == ["copy"]

    none = api("DELETE", one + "/scrub", 409, path=f"{path}/scrub")["error"]
    assert none["code"] == "scrub_not_running"
    balance = api("POST", one + "/balance", path=f"{path}/balance", json={})
    assert api.wait_job(balance["id"])["state"] == "done"
    replace = api("POST", one + "/replace", path=f"{path}/replace", json={"old_device": devs[1], "new_device": devs[2]})
    assert replace["kind"] == "replace_device" and api.wait_job(replace["id"])["state"] == "done"
    pool = api("GET", one, path=path)
    assert sorted(pool["devices"]) == sorted([devs[0], devs[2]])
    assert (Path(clone["path"]) / "a.txt").read_bytes() == b"snapshotted"
    kinds = [j["kind"] for j in api("GET", "/api/v1/storage/jobs", params={"limit": 2})["jobs"]]
    assert kinds == ["replace_device", "balance"]
    api("DELETE", one, path=path, params={"confirm": pool_name})
