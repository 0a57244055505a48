"""KeyService (engine/keys/service.py): opened off the loop, a keystore that cannot open is reported
and refused by every key operation instead of stopping the engine, and answers hold no secret."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import orjson
import pytest

from engine.errors import BadRequest, Conflict, NotFound
from engine.files.sealed_files import seal_bytes
from engine.jobs.model import JobRecord, JobState
from engine.keys.keyfile import KeystoreError, parse_public_key
from engine.keys.keystore import Keystore
from engine.keys.service import KeyService
from tests.utils import run

if TYPE_CHECKING:
    from pathlib import Path


def test_open_rotate_export(tmp_path: Path) -> None:
    keys = KeyService(str(tmp_path))
    assert keys.status().keystore_error == "the keystore is opening"

    async def scenario() -> None:
        await keys.open()
        first = await keys.public_key()
        assert parse_public_key(first.pem).public_bytes == first.public_key
        rotated = await keys.rotate()
        assert rotated.previous_key_id == first.key_id != rotated.key_id
        assert (await keys.public_key(first.key_id)).fingerprint == first.fingerprint
        with pytest.raises(BadRequest):
            await keys.public_key("not hex")
        with pytest.raises(NotFound):
            await keys.public_key("00" * 16)

    run(scenario())
    status = keys.status()
    assert status.keys == 2 and status.pq_enabled and (status.rotated_unix or 0) > 0
    assert status.keystore_error is None  # open: left out of the answer
    seeds = [orjson.loads(p.read_bytes())["private_key"]["seed"] for p in (tmp_path / "keys").glob("hpke-*.json")]
    text = orjson.dumps(status).decode()
    assert seeds and not any(seed in text or base64.b64decode(seed).hex() in text for seed in seeds)


def test_a_keystore_that_cannot_open_is_reported(tmp_path: Path) -> None:
    right, wrong = tmp_path / "right", tmp_path / "wrong"
    right.write_text("the right passphrase\n")
    wrong.write_text("a wrong one\n")
    Keystore.open(tmp_path, right)
    keys = KeyService(str(tmp_path), str(wrong))

    async def scenario() -> None:
        await keys.open()
        for call in (keys.store(), keys.rotate(), keys.public_key()):
            with pytest.raises(KeystoreError) as info:
                await call
            assert info.value.code == "keystore_unavailable" and "passphrase" in info.value.message

    run(scenario())
    status = keys.status()
    error = status.keystore_error or ""
    assert not status.pq_enabled and "passphrase" in error and status.key_id is None
    assert "the right passphrase" not in error and "a wrong one" not in error


def test_retire_refusals_and_force(tmp_path: Path) -> None:
    sealed = tmp_path / "f.sv"
    keys = KeyService(str(tmp_path))

    async def scenario() -> None:
        await keys.open()
        store = await keys.store()
        old = store.current
        sealed.write_bytes(seal_bytes(b"data", old.recipient))
        keys.record_sealed(str(sealed), old.key_id)
        new = await keys.rotate()
        with pytest.raises(Conflict) as current:
            await keys.retire(new.key_id, confirm=new.key_id)
        assert current.value.code == "key_current"
        with pytest.raises(BadRequest) as unconfirmed:
            await keys.retire(old.key_id.hex())
        assert unconfirmed.value.code == "confirmation_required" and str(sealed) in unconfirmed.value.message
        assert unconfirmed.value.metadata["files"] == str(sealed)
        with pytest.raises(Conflict) as in_use:
            await keys.retire(old.key_id.hex(), confirm=old.key_id.hex())
        assert in_use.value.code == "key_in_use" and in_use.value.metadata["files_sealed"] == "1"
        assert (await keys.key_files(old.key_id.hex())).files == (str(sealed),)
        done = await keys.retire(old.key_id.hex(), confirm=old.key_id.hex(), force=True)
        assert done.key.state == "retired" and done.files_abandoned == (str(sealed),)
        states = {k.key_id: k.state for k in (await keys.list_keys()).keys}
        assert states == {old.key_id.hex(): "retired", new.key_id: "current"}
        with pytest.raises(NotFound):
            await keys.retire("00" * 16, confirm="00" * 16)
        with pytest.raises(BadRequest):
            await keys.key_files("xyz")

    run(scenario())
    run(keys.close())


def test_a_new_index_is_seeded_from_the_job_history(tmp_path: Path) -> None:
    store = Keystore.open(tmp_path)
    sealed = tmp_path / "f.sv"
    sealed.write_bytes(seal_bytes(b"data", store.current.recipient))
    key_id = store.current.key_id.hex()
    history = [
        JobRecord("job-1", "encrypt", "file", str(sealed), JobState.DONE, result={"key_id": key_id}),
        JobRecord("job-2", "encrypt", "file", str(tmp_path / "failed.sv"), JobState.FAILED),
        JobRecord("job-3", "compress", "file", str(tmp_path / "x.zst"), JobState.DONE),
    ]
    keys = KeyService(str(tmp_path), history=lambda: history)

    async def scenario() -> None:
        await keys.open()
        assert (await keys.key_files(key_id)).files == (str(sealed),)

    run(scenario())
    run(keys.close())
