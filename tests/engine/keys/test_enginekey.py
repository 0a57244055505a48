"""The inline-task key (engine/keys/engine_key.py): created 0600, sealed with the passphrase (and a plain one
sealed at load), rotated with the previous key kept; the key pipe's messages; the crypto agent's
previous-key fallback and SET_KEY."""

from __future__ import annotations

import json
import os
import stat
from typing import TYPE_CHECKING

import pytest

from engine.core.agents.base import TaskError
from engine.core.agents.crypto import CryptoAgent
from engine.core.codes import Status
from engine.keys import keyfile
from engine.keys.engine_key import InlineKeys, load_inline_keys, receive_keys, rotate_files, send_keys
from engine.keys.keyfile import KeystoreError

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyfile, "SCRYPT_LOG_N", 12)


def _passphrase(tmp_path: Path, text: str = "inline secret\n") -> Path:
    path = tmp_path / "pw"
    path.write_text(text)
    return path


def test_created_plain_then_sealed_at_load_with_a_passphrase(tmp_path: Path) -> None:
    keys = load_inline_keys(tmp_path)
    path = tmp_path / "keys" / "engine.key"
    assert path.read_bytes() == keys.current and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not keys.previous and not keys.protected
    assert keys.current.hex() not in repr(keys) and load_inline_keys(tmp_path).current == keys.current
    sealed = load_inline_keys(tmp_path, _passphrase(tmp_path))
    assert sealed.current == keys.current and sealed.protected
    doc = json.loads(path.read_text())
    assert doc["private_key"]["protection"] == "scrypt" and keys.current.hex() not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(KeystoreError) as wrong:
        load_inline_keys(tmp_path, _passphrase(tmp_path, "not it\n"))
    assert wrong.value.code == "wrong_passphrase"
    with pytest.raises(KeystoreError) as missing:
        load_inline_keys(tmp_path)
    assert missing.value.code == "passphrase_required"
    path.write_bytes(b"short")
    with pytest.raises(KeystoreError):
        load_inline_keys(tmp_path)


@pytest.mark.parametrize("with_passphrase", [False, True])
def test_rotation_keeps_one_previous_key(tmp_path: Path, with_passphrase: bool) -> None:
    pw = _passphrase(tmp_path) if with_passphrase else None
    first = load_inline_keys(tmp_path, pw)
    second = rotate_files(tmp_path, pw, first)
    assert second.previous == first.current != second.current
    assert load_inline_keys(tmp_path, pw) == second
    third = rotate_files(tmp_path, pw, second)
    loaded = load_inline_keys(tmp_path, pw)
    assert loaded.current == third.current and loaded.previous == second.current  # the first one is gone
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["engine.key", "engine.key.previous"]


def test_key_pipe_messages(tmp_path: Path) -> None:
    r, w = os.pipe()
    os.set_blocking(r, False)
    try:
        assert receive_keys(r) is None
        a, b = InlineKeys(b"a" * 32), InlineKeys(b"b" * 32, b"a" * 32)
        send_keys(w, 2, a)
        send_keys(w, 3, b)
        assert receive_keys(r) == (3, b"b" * 32, b"a" * 32)  # the newest wins
        send_keys(w, 4, a)
        assert receive_keys(r) == (4, b"a" * 32, b"")
    finally:
        os.close(r)
        os.close(w)


def _run(handler: object, data: bytes) -> bytes:
    slot = bytearray(4096)
    slot[: len(data)] = data
    n = handler(memoryview(slot), len(data), 0, memoryview(slot))  # type: ignore[operator]
    return bytes(slot[:n])


def test_crypto_agent_falls_back_to_the_previous_key_and_takes_new_keys() -> None:
    old, new = os.urandom(32), os.urandom(32)
    agent = CryptoAgent(old)
    before = _run(agent.encrypt, b"before")
    slot = bytearray(new + old)
    assert agent.set_keys(memoryview(slot), 64, 0, memoryview(slot)) == 0
    assert slot == bytes(64)  # the keys do not stay in the slot
    after = _run(agent.encrypt, b"after")
    assert _run(agent.decrypt, before) == b"before" and _run(agent.decrypt, after) == b"after"
    assert _run(CryptoAgent(new).decrypt, after) == b"after"
    with pytest.raises(TaskError) as dropped:
        _run(CryptoAgent(new).decrypt, before)
    assert dropped.value.status == Status.AUTH_FAILED
    with pytest.raises(TaskError) as bad:
        agent.set_keys(memoryview(bytearray(64)), 10, 0, memoryview(bytearray(64)))
    assert bad.value.status == Status.BAD_PARAMS
