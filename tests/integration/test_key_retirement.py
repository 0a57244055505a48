"""Key retirement and rotation of the inline-task key through a real ``engined serve``: which files are
still sealed to a key (their headers read again), refusals without confirm, for the current key and
while files are sealed to it, retirement after a rewrap, the old files then refused with key_retired;
engine.key rotated under running workers, sealed with the passphrase, migrated from the clear."""

from __future__ import annotations

import base64
import json
import shutil
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from engine.files.sealed import read_header
from frontends import pb, rpc
from tests.engine.files.files_helpers import mixed
from tests.filejobs import JobsClient, engine_processes, served_with_root

if TYPE_CHECKING:
    import httpx

pytestmark = pytest.mark.multiprocess

DATA = mixed(256 * 1024, seed=7)
KEYS = "/api/v1/encryption/keys"


def _error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code, error
    return error


def _key_of(path: Path) -> str:
    with path.open("rb") as f:
        return read_header(f.fileno()).key_id.hex()


def _reason(exc: grpc.RpcError) -> str:
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            info = error_details_pb2.ErrorInfo()
            status.details[0].Unpack(info)
            return str(info.reason)
    return ""


def _states(http: httpx.Client) -> dict[str, str]:
    answer = http.get(KEYS)
    assert answer.status_code == 200, answer.text
    return {k["key_id"]: k["state"] for k in answer.json()["keys"]}


def test_retire_a_key_after_its_files_are_rewrapped(tmp_path: Path) -> None:
    with served_with_root(tmp_path) as (served, root):
        (root / "a.bin").write_bytes(DATA)
        (root / "old").mkdir()
        jobs = JobsClient(served)
        http = jobs.http
        first = http.get("/api/v1/encryption/status").json()["key_id"]
        sealed = [root / "old" / "f1.sv", root / "f2.sv"]
        for path in sealed:
            assert jobs.run(operation="encrypt", source=str(root / "a.bin"), destination=str(path))["state"] == "done"
        shutil.copy(sealed[0], root / "copy.sv")  # sealed to the first key, unknown to the engine
        second = http.post("/api/v1/encryption/rotate", json={}).json()["key_id"]
        assert _states(http) == {first: "active", second: "current"}

        files = http.get(f"{KEYS}/{first}/files").json()
        assert sorted(files["files"]) == sorted(map(str, sealed)) and files["files_sealed"] == 2
        _error(http.post(f"{KEYS}/{second}/retire", json={"confirm": second}), 409, "key_current")
        refused = _error(http.post(f"{KEYS}/{first}/retire"), 400, "confirmation_required")  # no body at all
        assert refused["metadata"]["files_sealed"] == "2" and str(sealed[0]) in refused["metadata"]["files"]
        assert str(sealed[0]) in refused["message"] and f"confirm={first!r}" in refused["message"]
        in_use = _error(http.post(f"{KEYS}/{first}/retire", json={"confirm": first}), 409, "key_in_use")
        assert in_use["metadata"]["files_sealed"] == "2"
        _error(http.post(f"{KEYS}/{first}/retire", json={"confirm": second}), 400, "confirmation_required")

        assert jobs.run(operation="rewrap", source=str(root / "old"))["files_rewrapped"] == 1
        left = http.get(f"{KEYS}/{first}/files").json()
        assert left["files"] == [str(sealed[1])]
        assert http.get(f"{KEYS}/{second}/files").json()["files"] == [str(sealed[0])]  # the index followed it
        sealed[1].rename(root / "moved.sv")  # moved by hand: the engine can only say it is gone
        left = http.get(f"{KEYS}/{first}/files").json()
        assert left["files"] == [] and left["files_gone"] == 1
        retired = http.post(f"{KEYS}/{first}/retire", json={"confirm": first})
        assert retired.status_code == 200, retired.text
        key = retired.json()["key"]
        assert key["state"] == "retired" and key["retired_unix"] > 0 and key["key_id"] == first
        assert _states(http) == {first: "retired", second: "current"}
        keys_dir = served.data_dir / "keys"
        assert not (keys_dir / f"hpke-{first}.json").exists()
        public_only = json.loads((keys_dir / f"retired-{first}.json").read_text())
        assert "private_key" not in public_only and public_only["key_id"] == first
        assert http.get("/api/v1/encryption/status").json()["retired_keys"] == 1

        for path in (root / "copy.sv", root / "moved.sv"):  # still sealed to the retired key
            job = jobs.run(operation="decrypt", source=str(path), destination=str(root / "x.out"))
            assert job["state"] == "failed" and job["error_code"] == "key_retired", job
        assert _key_of(sealed[0]) == second
        back = jobs.run(operation="decrypt", source=str(sealed[0]), destination=str(root / "back.bin"))
        assert back["state"] == "done" and (root / "back.bin").read_bytes() == DATA
        _error(http.post(f"{KEYS}/{first}/retire", json={"confirm": first}), 409, "key_retired")
        _error(http.post(f"{KEYS}/{'ab' * 16}/retire", json={"confirm": "ab" * 16}), 404, "unknown_key")
        _error(http.post(f"{KEYS}/nothex/retire", json={"confirm": "x"}), 404, "unknown_key")
        _error(http.post(f"{KEYS}/{first}/retire", json={"confirm": first, "bogus": 1}), 400, "invalid_request")
        jobs.close()


def test_retire_over_grpc_and_force(tmp_path: Path) -> None:
    with served_with_root(tmp_path) as (served, root):
        (root / "a.bin").write_bytes(DATA)
        jobs = JobsClient(served)
        assert (
            jobs.run(operation="encrypt", source=str(root / "a.bin"), destination=str(root / "f.sv"))["state"] == "done"
        )
        with served.channel() as channel:
            keys = rpc.EncryptionServiceStub(channel)
            old = keys.GetStatus(pb.GetEncryptionStatusRequest()).key_id
            keys.RotateKey(pb.RotateKeyRequest())
            with pytest.raises(grpc.RpcError) as refused:
                keys.RetireKey(pb.RetireKeyRequest(key_id=old))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert _reason(refused.value) == "CONFIRMATION_REQUIRED" and str(root / "f.sv") in refused.value.details()
            with pytest.raises(grpc.RpcError) as in_use:
                keys.RetireKey(pb.RetireKeyRequest(key_id=old, confirm=old))
            assert in_use.value.code() == grpc.StatusCode.FAILED_PRECONDITION and _reason(in_use.value) == "KEY_IN_USE"
            files = keys.ListKeyFiles(pb.ListKeyFilesRequest(key_id=old))
            assert list(files.files) == [str(root / "f.sv")]
            done = keys.RetireKey(pb.RetireKeyRequest(key_id=old, confirm=old, force=True))
            assert done.key.state == "retired" and list(done.files_abandoned) == [str(root / "f.sv")]
            assert {k.key_id: k.state for k in keys.ListKeys(pb.ListKeysRequest()).keys}[old] == "retired"
            with pytest.raises(grpc.RpcError) as unknown:
                keys.RetireKey(pb.RetireKeyRequest(key_id="cd" * 16, confirm="cd" * 16))
            assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        job = jobs.run(operation="decrypt", source=str(root / "f.sv"), destination=str(root / "x.out"))
        assert job["state"] == "failed" and job["error_code"] == "key_retired"
        jobs.close()


def _task(http: httpx.Client, kind: str, data: bytes, agent: int | None = None) -> httpx.Response:
    path = "/api/v1/tasks" if agent is None else f"/api/v1/agents/{agent}/task"
    return http.post(path, json={"kind": kind, "data": base64.b64encode(data).decode()})


def _sealed(http: httpx.Client, data: bytes, agent: int | None = None) -> bytes:
    answer = _task(http, "encrypt", data, agent)
    assert answer.status_code == 200, answer.text
    return base64.b64decode(answer.json()["data"])


def _opens(http: httpx.Client, blob: bytes, agent: int | None = None) -> bytes:
    answer = _task(http, "decrypt", blob, agent)
    assert answer.status_code == 200, answer.text
    return base64.b64decode(answer.json()["data"])


def _crypto_agents(http: httpx.Client) -> list[int]:
    """One agent able to encrypt on each worker."""
    by_worker: dict[int, int] = {}
    for agent in http.get("/api/v1/agents").json()["agents"]:
        if "encrypt" in agent["capabilities"]:
            by_worker.setdefault(agent["worker"], agent["id"])
    return [by_worker[w] for w in sorted(by_worker)]


def _rotate_engine_key(http: httpx.Client) -> dict[str, Any]:
    fingerprint = http.get("/api/v1/encryption/status").json()["key_fingerprint"]
    answer = http.post("/api/v1/encryption/engine-key/rotate", json={"confirm": fingerprint})
    assert answer.status_code == 200, answer.text
    info: dict[str, Any] = answer.json()
    assert info["previous_key_fingerprint"] == fingerprint != info["key_fingerprint"]
    return info


def test_engine_key_rotation_reaches_running_workers(tmp_path: Path) -> None:
    with served_with_root(tmp_path, SIGMAVAULT_WORKERS="2") as (served, _):
        jobs = JobsClient(served)
        http = jobs.http
        agents = _crypto_agents(http)
        assert len(agents) == 2
        before = [_sealed(http, b"made before the rotation", agent) for agent in agents]
        _error(http.post("/api/v1/encryption/engine-key/rotate", json={}), 400, "confirmation_required")
        wrong = http.post("/api/v1/encryption/engine-key/rotate", json={"confirm": "0" * 16})
        _error(wrong, 400, "confirmation_required")
        key_file = served.data_dir / "keys" / "engine.key"
        old_key = key_file.read_bytes()
        info = _rotate_engine_key(http)
        assert info["key_generation"] == 2 and info["workers_updated"] == 2
        assert (served.data_dir / "keys" / "engine.key.previous").read_bytes() == old_key != key_file.read_bytes()
        status = http.get("/api/v1/encryption/status").json()
        assert status["key_fingerprint"] == info["key_fingerprint"] and status["key_generation"] == 2
        after = [_sealed(http, b"after", agent) for agent in agents]
        for agent in agents:  # every worker: the previous key still opens, the new one too
            assert all(_opens(http, blob, agent) == b"made before the rotation" for blob in before)
            assert all(_opens(http, blob, agent) == b"after" for blob in after)
        with served.channel() as channel:
            keys = rpc.EncryptionServiceStub(channel)
            with pytest.raises(grpc.RpcError) as refused:
                keys.RotateEngineKey(pb.RotateEngineKeyRequest())
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            third = keys.RotateEngineKey(pb.RotateEngineKeyRequest(confirm=info["key_fingerprint"]))
            assert third.key_generation == 3 and third.previous_key_fingerprint == info["key_fingerprint"]
        victim = engine_processes(served)["sv-worker-1"]
        victim.send_signal(signal.SIGKILL)  # its successor must start with the keys of generation 3
        deadline = time.monotonic() + 20
        while engine_processes(served).get("sv-worker-1", victim).pid == victim.pid or not _ready(http):
            assert time.monotonic() < deadline, "worker 1 did not come back"
            time.sleep(0.05)
        for agent in agents:
            assert all(_opens(http, blob, agent) == b"after" for blob in after)
            _error(_task(http, "decrypt", before[0], agent), 400, "auth_failed")  # two rotations ago: dropped
            assert _opens(http, _sealed(http, b"third", agent), agents[-1 - agents.index(agent)]) == b"third"
        jobs.close()


def _ready(http: httpx.Client) -> bool:
    return http.get("/readyz").status_code == 200


def test_engine_key_sealed_with_the_passphrase_and_migrated(tmp_path: Path) -> None:
    with served_with_root(tmp_path) as (served, _):
        jobs = JobsClient(served)
        blob = _sealed(jobs.http, b"before the passphrase")
        jobs.close()
    key_file = served.data_dir / "keys" / "engine.key"
    assert len(key_file.read_bytes()) == 32  # in the clear without a passphrase
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("a long passphrase\n")
    passphrase.chmod(0o600)
    with served_with_root(tmp_path, SIGMAVAULT_KEY_PASSPHRASE_FILE=str(passphrase)) as (served, _):
        doc = json.loads(key_file.read_text())
        assert doc["format"] == "sigmavault-engine-key" and doc["private_key"]["protection"] == "scrypt"
        jobs = JobsClient(served)
        http = jobs.http
        assert http.get("/api/v1/encryption/status").json()["key_passphrase_protected"] is True
        assert _opens(http, blob) == b"before the passphrase"
        info = _rotate_engine_key(http)
        assert info["key_passphrase_protected"] is True
        for name in ("engine.key", "engine.key.previous"):
            assert json.loads((served.data_dir / "keys" / name).read_text())["private_key"]["protection"] == "scrypt"
        assert _opens(http, blob) == b"before the passphrase"
        assert _opens(http, _sealed(http, b"after")) == b"after"
        jobs.close()
