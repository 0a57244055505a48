"""The keys through a real ``engined serve``: status, public key export, rotation, re-wrapping older
files to the new key, and no key material in any answer, event, log line, metric or job record."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import orjson
import pytest

from engine.files.sealed import open_data_key, read_header
from engine.keys.keyfile import parse_public_key
from engine.keys.keystore import Keystore
from frontends import pb, rpc
from tests.engine.files.files_helpers import mixed
from tests.filejobs import JobsClient, events_until_done, leftovers, progress_events, served_with_root

if TYPE_CHECKING:
    from tests.served import Served

pytestmark = pytest.mark.multiprocess

TOOL = Path(__file__).parent.parent.parent / "tools" / "sv_decrypt.py"
DATA = mixed(1 << 20, seed=41)


def _decrypt_with(key_file: Path, sealed: Path, out: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-I", str(TOOL), "--key", str(key_file), str(sealed), "-o", str(out)],
        capture_output=True,
        timeout=60,
        check=False,
    )


def _secrets(served: Served, sealed: list[Path]) -> list[bytes]:
    """Every secret the engine holds, in the forms a leak would take: seeds, data keys, the inline key."""
    keys_dir = served.data_dir / "keys"
    raw = [(keys_dir / "engine.key").read_bytes()]
    raw += [base64.b64decode(orjson.loads(p.read_bytes())["private_key"]["seed"]) for p in keys_dir.glob("hpke-*.json")]
    store = Keystore.open(served.data_dir, create=False)
    for path in sealed:
        with path.open("rb") as f:
            header = read_header(f.fileno())
        pair = store.get(header.key_id)
        raw.append(open_data_key(header, pair.private_key, pair.key_id).material)
    forms = []
    for secret in raw:
        forms += [
            secret,
            secret.hex().encode(),
            secret.hex().upper().encode(),
            base64.b64encode(secret),
            base64.urlsafe_b64encode(secret).rstrip(b"="),
            base64.b64encode(secret).rstrip(b"="),
        ]
    return forms


def test_status_export_rotation_and_rewrap(tmp_path: Path) -> None:
    answers: list[bytes] = []
    with served_with_root(tmp_path) as (served, root):
        (root / "a.bin").write_bytes(DATA)
        (root / "old").mkdir()
        jobs = JobsClient(served)
        http = jobs.http

        def get(path: str) -> dict[str, Any]:
            answer = http.get(path)
            assert answer.status_code == 200, answer.text
            answers.append(answer.content)
            doc: dict[str, Any] = answer.json()
            return doc

        status = get("/api/v1/encryption/status")
        assert status["pq_enabled"] and status["pq_wrapping_enabled"] and "X-Wing" in str(status["suite"])
        assert status["keys"] == 1 and status["rotated_unix"] == 0 and len(str(status["fingerprint"])) == 64
        assert status["algorithm"] == "AES-256-GCM" and "encrypt_tasks" in status  # the inline kinds' fields
        first = get("/api/v1/encryption/public-key")
        assert parse_public_key(str(first["pem"])).key_id.hex() == first["key_id"] == status["key_id"]
        assert base64.b64decode(str(first["public_key"])) == parse_public_key(str(first["pem"])).public_bytes
        with progress_events(served) as ws:
            sealed = [root / "old" / f"f{i}.sv" for i in range(3)]
            for path in sealed:
                job = jobs.start(operation="encrypt", source=str(root / "a.bin"), destination=str(path), compress=True)
                answers += [orjson.dumps(e) for e in events_until_done(ws, job["id"])]
            (root / "old" / "notes.txt").write_bytes(b"not sealed: skipped")
            rotated = http.post("/api/v1/encryption/rotate", json={})
            assert rotated.status_code == 200, rotated.text
            answers.append(rotated.content)
            info = rotated.json()
            assert info["previous_key_id"] == first["key_id"] != info["key_id"] and info["rotated_unix"] > 0
            with served.channel() as channel:
                keys = rpc.EncryptionServiceStub(channel)
                exported = keys.GetPublicKey(pb.GetPublicKeyRequest(key_id=info["key_id"]))
                assert exported.key_id == info["key_id"] and len(exported.public_key) == 1216
                old = keys.GetPublicKey(pb.GetPublicKeyRequest(key_id=first["key_id"]))
                assert old.fingerprint == first["fingerprint"]
                answers += [exported.SerializeToString(), old.SerializeToString()]
                with pytest.raises(grpc.RpcError) as missing:
                    keys.GetPublicKey(pb.GetPublicKeyRequest(key_id="00" * 16))
                assert missing.value.code() == grpc.StatusCode.NOT_FOUND
                grpc_status = keys.GetStatus(pb.GetEncryptionStatusRequest())
                assert grpc_status.key_id == info["key_id"] and grpc_status.keys == 2
                assert grpc_status.files_sealed == 3 and grpc_status.bytes_sealed == 3 * len(DATA)
                answers.append(grpc_status.SerializeToString())
            secrets = _secrets(served, sealed)  # before the rewrap: the data keys stay the same after it
            rewrap = jobs.start(operation="rewrap", source=str(root / "old"))
            answers += [orjson.dumps(e) for e in events_until_done(ws, rewrap["id"])]
        done = jobs.get(rewrap["id"])
        assert done["state"] == "done" and done["files_rewrapped"] == 3 and done["files_total"] == 4, done
        again = jobs.run(operation="rewrap", source=str(sealed[0]))
        assert again["state"] == "done" and again["files_rewrapped"] == 0  # already on the current key
        new_key_file = served.data_dir / "keys" / f"hpke-{info['key_id']}.json"
        for path in sealed:
            with path.open("rb") as f:
                assert read_header(f.fileno()).key_id.hex() == info["key_id"]
            plain = tmp_path / f"{path.name}.plain"
            done_tool = _decrypt_with(new_key_file, path, plain)  # the new key alone opens it
            assert done_tool.returncode == 0, done_tool.stderr
            assert plain.read_bytes() == DATA
        back = jobs.run(operation="decrypt", source=str(sealed[1]), destination=str(root / "back.bin"))
        assert back["state"] == "done" and back["key_id"] == info["key_id"]
        status = get("/api/v1/encryption/status")
        assert status["files_rewrapped"] == 3 and status["files_opened"] == 1 and status["keys"] == 2
        with served.channel() as channel:
            third = rpc.EncryptionServiceStub(channel).RotateKey(pb.RotateKeyRequest())
            assert third.previous_key_id == info["key_id"] != third.key_id and third.rotated_unix > 0
            answers.append(third.SerializeToString())
        assert leftovers(root) == []
        for route in ("/api/v1/compression/jobs?limit=256", "/metrics", "/openapi.json", "/api/v1/system/status"):
            answers.append(http.get(route).content)
        jobs.close()
    stored = [p.read_bytes() for p in served.data_dir.rglob("*") if p.is_file() and "keys" not in p.parts]
    assert any(b"job-" in blob for blob in stored)  # the job store (and its WAL) is among them
    stored.append(served.output().encode())
    haystacks = answers + stored
    for secret in secrets:
        for hay in haystacks:
            assert secret not in hay, "key material leaked into an answer, an event, the log or the job store"
