"""The keystore: X-Wing keys from the draft's vector, 0700/0600 files, rotation that keeps old keys,
passphrase sealing (scrypt), public key export to another box, and no key material anywhere visible."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from engine.errors import Conflict, NotFound
from engine.files.models import Rewrapped
from engine.files.sealed import DataKey, new_header, parse_header
from engine.files.sealed_files import open_bytes, rewrap_file, seal_bytes
from engine.keys import keyfile
from engine.keys.keyfile import (
    KeystoreError,
    export_public_key,
    parse_public_key,
    unseal_seed,
    xwing_private_key,
)
from engine.keys.keystore import Keystore, load_or_create_key

FIXTURES = Path(__file__).parents[2] / "fixtures"


@pytest.fixture
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at N=2**17 costs ~0.5 s; tests that only need *a* sealed key use N=2**12."""
    monkeypatch.setattr(keyfile, "SCRYPT_LOG_N", 12)


def passphrase_file(tmp_path: Path, text: bytes = b"correct horse battery staple\n") -> Path:
    path = tmp_path / "passphrase"
    path.write_bytes(text)
    path.chmod(0o600)
    return path


def test_xwing_key_from_seed_matches_the_draft_vector() -> None:
    vector = json.loads((FIXTURES / "xwing_vector.json").read_text())
    _, public = xwing_private_key(bytes.fromhex(vector["seed"]))
    assert public.hex() == vector["public_key"]


def test_new_keystore_layout_and_modes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="engine.keys.keystore"):
        store = Keystore.open(tmp_path)
    keys_dir = tmp_path / "keys"
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    files = sorted(p.name for p in keys_dir.iterdir())
    key_id = store.current.key_id.hex()
    assert files == ["current.json", f"hpke-{key_id}.json"]
    for p in keys_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    status = store.status()
    assert status["key_id"] == key_id and status["fingerprint"].startswith(key_id) and status["pq_enabled"]
    assert status["rotated_unix"] == 0 and status["keys"] == 1 and not status["protected"]
    assert "ML-KEM-768+X25519" in status["suite"]
    assert str(keys_dir / f"hpke-{key_id}.json") in caplog.text  # the path is logged, the key is not
    seed = base64.b64decode(json.loads((keys_dir / f"hpke-{key_id}.json").read_text())["private_key"]["seed"])
    assert seed.hex() not in caplog.text and base64.b64encode(seed).decode() not in caplog.text
    again = Keystore.open(tmp_path)
    assert again.current.key_id == store.current.key_id


def test_loose_modes_are_tightened(tmp_path: Path) -> None:
    Keystore.open(tmp_path)
    keys_dir = tmp_path / "keys"
    keys_dir.chmod(0o755)
    for p in keys_dir.iterdir():
        p.chmod(0o644)
    Keystore.open(tmp_path)
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys_dir.iterdir())


def test_rotation_keeps_old_keys_and_rewrap_moves_files(tmp_path: Path) -> None:
    store = Keystore.open(tmp_path / "data")
    first = store.current
    data = os.urandom(300_000)
    sealed = tmp_path / "file.sv"
    sealed.write_bytes(seal_bytes(data, first.recipient, block_bytes=65536))
    second = store.rotate()
    assert store.current is second and second.key_id != first.key_id and store.status()["rotated_unix"] > 0
    reopened = Keystore.open(tmp_path / "data")
    assert reopened.current.key_id == second.key_id and len(reopened.keys()) == 2
    old = reopened.get(first.key_id)
    assert open_bytes(sealed.read_bytes(), old.private_key, old.key_id) == data

    blocks_before = sealed.read_bytes()[parse_header(sealed.read_bytes()).header_bytes :]
    result = rewrap_file(sealed, reopened)
    assert result == Rewrapped(second.key_id.hex(), True, previous_key_id=first.key_id.hex(), path=str(sealed))
    blob = sealed.read_bytes()
    header = parse_header(blob)
    assert header.key_id == second.key_id and blob[header.header_bytes :] == blocks_before  # blocks untouched
    assert open_bytes(blob, reopened.current.private_key, second.key_id) == data
    assert rewrap_file(sealed, reopened).rewrapped is False
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    with pytest.raises(NotFound, match="is not in this keystore") as info:
        reopened.get(b"\x00" * 16)
    assert info.value.code == "unknown_key"


def test_passphrase_sealed_keys(tmp_path: Path, fast_scrypt: None) -> None:
    pw = passphrase_file(tmp_path)
    store = Keystore.open(tmp_path / "data", pw)
    key_file = store.current.path
    doc = json.loads(key_file.read_text())
    assert doc["private_key"]["protection"] == "scrypt" and "seed" not in doc["private_key"]
    assert store.status()["protected"]
    with pytest.raises(KeystoreError, match="no passphrase file is set") as info:
        Keystore.open(tmp_path / "data")
    assert info.value.code == "passphrase_required"
    with pytest.raises(KeystoreError, match="does not open") as info:
        Keystore.open(tmp_path / "data", passphrase_file(tmp_path, b"wrong\n"))
    assert info.value.code == "wrong_passphrase"
    assert Keystore.open(tmp_path / "data", passphrase_file(tmp_path)).current.key_id == store.current.key_id


def test_clear_keys_are_sealed_when_a_passphrase_arrives(tmp_path: Path, fast_scrypt: None) -> None:
    store = Keystore.open(tmp_path / "data")
    data = b"sealed before the passphrase" * 1000
    blob = seal_bytes(data, store.current.recipient, block_bytes=4096)
    store.rotate()
    locked = Keystore.open(tmp_path / "data", passphrase_file(tmp_path))
    assert all(json.loads(k.path.read_text())["private_key"]["protection"] == "scrypt" for k in locked.keys())  # noqa: SIM118 -- Keystore.keys() is a method, not dict.keys
    old = locked.get(parse_header(blob).key_id)
    assert open_bytes(blob, old.private_key, old.key_id) == data


def test_real_scrypt_parameters_are_stated_in_the_file(tmp_path: Path) -> None:
    sealed = keyfile.seal_seed(os.urandom(32), b"k" * 16, b"pw")
    assert (sealed["log_n"], sealed["r"], sealed["p"]) == (17, 8, 1)
    with pytest.raises(KeystoreError, match="out of the accepted range"):
        unseal_seed({**sealed, "log_n": 30}, b"k" * 16, b"pw", tmp_path / "k.json")


def test_public_key_export_lets_another_box_seal_to_us(tmp_path: Path) -> None:
    ours = Keystore.open(tmp_path / "ours")
    text = ours.export_public()
    assert text.startswith("-----BEGIN SIGMAVAULT PUBLIC KEY-----\n") and text.endswith(
        "-----END SIGMAVAULT PUBLIC KEY-----\n"
    )
    recipient = parse_public_key(text)
    assert recipient.key_id == ours.current.key_id
    blob = seal_bytes(b"from the other box", recipient, block_bytes=1024)  # no private key needed
    assert open_bytes(blob, ours.current.private_key, ours.current.key_id) == b"from the other box"
    for bad in ("nonsense", text.replace("A", "B", 1)[:200], text.replace("SIGMAVAULT PUBLIC", "OTHER PUBLIC")):
        with pytest.raises(ValueError, match=r"public key|base64|SIGMAVAULT"):
            parse_public_key(bad)


def test_no_key_material_in_reprs_status_or_errors(tmp_path: Path) -> None:
    store = Keystore.open(tmp_path)
    pair = store.current
    doc = json.loads(pair.path.read_text())
    seed = base64.b64decode(doc["private_key"]["seed"])
    header, data_key = new_header(pair.recipient, original_bytes=10, block_bytes=4)
    secrets = [seed, data_key.material]
    visible = [
        repr(store),
        repr(pair),
        repr(pair.recipient),
        repr(data_key),
        repr(header),
        str(store.status()),
        str(pair.info()),
        repr(DataKey(bytes(32))),
    ]
    for bad in ({**doc, "private_key": {"protection": "none", "seed": "!!"}}, {**doc, "key_id": "00" * 16}):
        with pytest.raises(KeystoreError) as info:
            keyfile.KeyPair(pair.path, bad, None).private_key  # noqa: B018
        visible += [str(info.value), repr(info.value)]
    text = "\n".join(visible)
    for secret in secrets:
        for form in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)):
            assert form not in text


def test_legacy_raw_key_still_works(tmp_path: Path) -> None:
    key = load_or_create_key(str(tmp_path))
    assert len(key) == 32 and load_or_create_key(str(tmp_path)) == key
    assert stat.S_IMODE((tmp_path / "keys" / "engine.key").stat().st_mode) == 0o600
    store = Keystore.open(tmp_path)  # the keystore lives beside it
    assert store.current.key_id and (tmp_path / "keys" / "engine.key").read_bytes() == key


def test_export_public_key_is_stable_text() -> None:
    _, public = xwing_private_key(bytes(32))
    text = export_public_key(public)
    assert parse_public_key(text).public_bytes == public
    assert all(len(line) <= 64 for line in text.splitlines()[1:-1])


def test_retire_deletes_the_private_key_and_keeps_the_public_part(tmp_path: Path) -> None:
    store = Keystore.open(tmp_path)
    old = store.current
    with pytest.raises(Conflict) as current:
        store.retire(old.key_id)
    assert current.value.code == "key_current"
    store.rotate()
    retired = store.retire(old.key_id)
    assert retired.key_id == old.key_id and retired.retired_unix > 0 and not old.path.exists()
    record = tmp_path / "keys" / f"retired-{old.key_id.hex()}.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600 and "private_key" not in json.loads(record.read_text())
    with pytest.raises(Conflict) as gone:
        store.get(old.key_id)
    assert gone.value.code == "key_retired"
    assert store.public_bytes(old.key_id) == old.public_bytes
    reopened = Keystore.open(tmp_path)
    assert [r.key_id for r in reopened.retired()] == [old.key_id] and len(reopened.keys()) == 1
    assert reopened.status()["retired_keys"] == 1
    with pytest.raises(NotFound):
        reopened.retire(b"\0" * 16)


def test_a_retirement_cut_short_is_finished_at_open(tmp_path: Path) -> None:
    store = Keystore.open(tmp_path)
    old = store.current
    store.rotate()
    kept = old.path.read_bytes()
    store.retire(old.key_id)
    old.path.write_bytes(kept)  # as if the engine died after writing the record, before the removal
    held = Keystore.open(tmp_path).keys()
    assert not old.path.exists() and old.key_id not in [k.key_id for k in held]
