"""The sealed format's test vector (docs/FORMATS.md): the block layer is recomputed from first
principles, and the stored sealed files (HPKE encapsulation is randomized, so they are kept, not
recomputed) must keep opening with the engine and with the standalone tool."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.files.sealed import DataKey, SealedHeader, parse_header, seal_block
from engine.files.sealed_files import open_bytes
from engine.keys.keyfile import KeyPair, fingerprint_of
from tests.fixtures.sealed_v1.regenerate import PLAINTEXT, SEED

VECTORS = Path(__file__).parents[2] / "fixtures" / "sealed_v1"
TOOL = Path(__file__).parents[3] / "tools" / "sv_decrypt.py"


def load(name: str) -> dict[str, object]:
    return json.loads((VECTORS / name).read_text())


def test_block_layer_vector_from_first_principles() -> None:
    v = load("vector.json")
    key, file_id, prefix = (bytes.fromhex(v[k]) for k in ("data_key", "file_id", "nonce_prefix"))  # type: ignore[arg-type]
    blocks = v["blocks"]
    assert isinstance(blocks, list) and len(blocks) == 3
    for b in blocks:
        i, last = b["index"], b["last"]
        assert bytes.fromhex(b["nonce"]) == prefix + struct.pack(">I", i)
        assert bytes.fromhex(b["associated_data"]) == file_id + struct.pack(">Q", i) + bytes([last])
        record = AESGCM(key).encrypt(
            bytes.fromhex(b["nonce"]), bytes.fromhex(b["plaintext"]), bytes.fromhex(b["associated_data"])
        )
        assert record.hex() == b["record"]
        header = SealedHeader(0, v["block_bytes"], v["original_bytes"], bytes(16), file_id, prefix, b"")  # type: ignore[arg-type]
        assert seal_block(DataKey(key), header, i, bytes.fromhex(b["plaintext"])).hex() == b["record"]
    assert b"".join(bytes.fromhex(b["plaintext"]) for b in blocks) == PLAINTEXT


def test_fixture_key_files() -> None:
    plain, sealed = load("key.json"), load("key_passphrase.json")
    pair = KeyPair(VECTORS / "key.json", plain, None)
    assert pair.key_id.hex() == load("vector.json")["key_id"] == sealed["key_id"]
    assert fingerprint_of(pair.public_bytes).startswith(pair.key_id.hex())
    assert plain["private_key"] == {"protection": "none", "seed": __import__("base64").b64encode(SEED).decode()}
    protected = KeyPair(
        VECTORS / "key_passphrase.json", sealed, (VECTORS / "passphrase.txt").read_bytes().rstrip(b"\n")
    )
    assert protected.private_key is not None  # the real scrypt parameters (N=2**17) unlock it


def test_stored_sealed_files_keep_opening() -> None:
    pair = KeyPair(VECTORS / "key.json", load("key.json"), None)
    for name, expected, compressed in (("plain.svseal", PLAINTEXT, False), ("zstd.svseal", PLAINTEXT * 50, True)):
        blob = (VECTORS / name).read_bytes()
        header = parse_header(blob)
        assert header.compressed is compressed and header.key_id == pair.key_id
        assert header.header_bytes == 76 + 1168
        assert open_bytes(blob, pair.private_key, pair.key_id) == expected
        for key_file, extra in (
            ("key.json", []),
            ("key_passphrase.json", ["--passphrase-file", str(VECTORS / "passphrase.txt")]),
        ):
            cmd = [sys.executable, "-I", str(TOOL), "--key", str(VECTORS / key_file), *extra, str(VECTORS / name)]
            done = subprocess.run(cmd, capture_output=True, timeout=120, check=False, cwd="/")
            assert done.returncode == 0 and done.stdout == expected, done.stderr
