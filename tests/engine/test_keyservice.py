"""KeyService (engine/keyservice.py): opened off the loop, a keystore that cannot open is reported
and refused by every key operation instead of stopping the engine, and answers hold no secret."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import orjson
import pytest

from engine.errors import BadRequest, NotFound
from engine.keyfile import KeystoreError, parse_public_key
from engine.keys import Keystore
from engine.keyservice import KeyService
from tests.utils import run

if TYPE_CHECKING:
    from pathlib import Path


def test_open_rotate_export(tmp_path: Path) -> None:
    keys = KeyService(str(tmp_path))
    assert keys.status()["keystore_error"] == "the keystore is opening"

    async def scenario() -> None:
        await keys.open()
        first = await keys.public_key()
        assert parse_public_key(first["pem"]).public_bytes == first["public_key"]
        rotated = await keys.rotate()
        assert rotated["previous_key_id"] == first["key_id"] != rotated["key_id"]
        assert (await keys.public_key(first["key_id"]))["fingerprint"] == first["fingerprint"]
        with pytest.raises(BadRequest):
            await keys.public_key("not hex")
        with pytest.raises(NotFound):
            await keys.public_key("00" * 16)

    run(scenario())
    status = keys.status()
    assert status["keys"] == 2 and status["pq_enabled"] and status["rotated_unix"] > 0
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
    assert not status["pq_enabled"] and "passphrase" in status["keystore_error"]
    assert "the right passphrase" not in status["keystore_error"] and "a wrong one" not in status["keystore_error"]
