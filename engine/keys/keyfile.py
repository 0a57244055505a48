"""Key material and the key file format of the keystore (engine/keys/keystore.py holds the directory logic).

Suite: HPKE base mode (RFC 9180) with KEM ML-KEM-768+X25519 (X-Wing, IANA 0x647A), KDF HKDF-SHA256
(0x0001), AEAD AES-256-GCM (0x0002), all from ``cryptography.hazmat.primitives.hpke``. A private key
is the 32-byte X-Wing seed; the ML-KEM-768 seed and the X25519 key are SHAKE256(seed, 96) split
64 + 32 (draft-connolly-cfrg-xwing-kem's expandDecapsulationKey; checked against its test vector),
so key files interoperate with other X-Wing implementations. The public key is the X-Wing
encapsulation key: ML-KEM-768 public key (1184) || X25519 public key (32).

A key file is JSON (docs/FORMATS.md): public key, key id, creation time, and the private seed in the
clear (the file is 0600) or sealed with a passphrase (scrypt N=2**17, r=8, p=1, then AES-256-GCM).
Key material never appears in logs, reprs, errors or returned dicts.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from engine.core.codes import Status
from engine.errors import EngineError

KEM_ID, KDF_ID, AEAD_ID = 0x647A, 0x0001, 0x0002
SUITE_NAME = "HPKE-Base/X-Wing(ML-KEM-768+X25519)/HKDF-SHA256/AES-256-GCM"
SEED_BYTES, PUBLIC_KEY_BYTES, MLKEM_PUBLIC_BYTES = 32, 1216, 1184
KEY_ID_BYTES = 16
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 17, 8, 1  # 128 MiB, ~0.5 s here; unlock refuses log_n > 20
KEY_FILE_FORMAT, PUBLIC_MAGIC = "sigmavault-hpke-key", b"SVPK\x01"
PEM_BEGIN, PEM_END = "-----BEGIN SIGMAVAULT PUBLIC KEY-----", "-----END SIGMAVAULT PUBLIC KEY-----"


class KeystoreError(EngineError):
    """A key file is unreadable, inconsistent, or sealed with a passphrase we do not have."""

    status = Status.CONFLICT


def xwing_private_key(seed: bytes) -> tuple[hpke.MLKEM768X25519PrivateKey, bytes]:
    """The HPKE private key object and the 1216-byte public key for a 32-byte X-Wing seed."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"an X-Wing seed is {SEED_BYTES} bytes")
    expanded = hashlib.shake_256(seed).digest(96)
    m = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    x = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
    public = m.public_key().public_bytes_raw() + x.public_key().public_bytes_raw()
    return hpke.MLKEM768X25519PrivateKey(m, x), public


def xwing_public_key(public: bytes) -> hpke.MLKEM768X25519PublicKey:
    if len(public) != PUBLIC_KEY_BYTES:
        raise ValueError(f"an X-Wing public key is {PUBLIC_KEY_BYTES} bytes, got {len(public)}")
    return hpke.MLKEM768X25519PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(public[:MLKEM_PUBLIC_BYTES]),
        x25519.X25519PublicKey.from_public_bytes(public[MLKEM_PUBLIC_BYTES:]),
    )


def fingerprint_of(public: bytes) -> str:
    """SHA-256 of the public key, hex; the key id is its first 16 bytes (32 hex digits)."""
    return hashlib.sha256(public).hexdigest()


def key_id_of(public: bytes) -> bytes:
    return hashlib.sha256(public).digest()[:KEY_ID_BYTES]


@dataclass(frozen=True, repr=False)
class Recipient:
    """Whom a file is sealed to: a key id and its public key (no secret here)."""

    key_id: bytes
    public_bytes: bytes

    @property
    def public_key(self) -> hpke.MLKEM768X25519PublicKey:
        return xwing_public_key(self.public_bytes)

    def __repr__(self) -> str:
        return f"Recipient(key_id={self.key_id.hex()})"


class KeyPair:
    """One key pair of the keystore. The private key is unlocked on first use and kept as
    cryptography's opaque object; neither it nor the seed is ever printed."""

    def __init__(self, path: Path, doc: dict[str, Any], passphrase: bytes | None) -> None:
        try:
            self.public_bytes = base64.b64decode(doc["public_key"], validate=True)
            self.key_id = bytes.fromhex(doc["key_id"])
            self.created_unix = int(doc["created_unix"])
            self._sealed: dict[str, Any] = doc["private_key"]
            self.protected = self._sealed["protection"] == "scrypt"
        except (KeyError, ValueError, TypeError) as exc:
            raise KeystoreError(f"key file {path} is malformed ({type(exc).__name__} in a field)") from None
        if doc.get("format") != KEY_FILE_FORMAT or doc.get("version") != 1:
            raise KeystoreError(f"{path} is not a version 1 {KEY_FILE_FORMAT} file")
        if key_id_of(self.public_bytes) != self.key_id or len(self.public_bytes) != PUBLIC_KEY_BYTES:
            raise KeystoreError(f"key file {path}: key id does not match its public key")
        self.path = path
        self._passphrase = passphrase
        self._private: hpke.MLKEM768X25519PrivateKey | None = None

    def __repr__(self) -> str:
        return f"KeyPair(key_id={self.key_id.hex()}, created_unix={self.created_unix}, protected={self.protected})"

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.key_id, self.public_bytes)

    @property
    def private_key(self) -> hpke.MLKEM768X25519PrivateKey:
        if self._private is None:
            seed = unseal_seed(self._sealed, self.key_id, self._passphrase, self.path)
            private, public = xwing_private_key(seed)
            if public != self.public_bytes:
                raise KeystoreError(f"key file {self.path}: the private key does not match the public key")
            self._private = private
        return self._private

    def info(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id.hex(),
            "fingerprint": fingerprint_of(self.public_bytes),
            "created_unix": self.created_unix,
            "protected": self.protected,
            "path": str(self.path),
        }


def seal_seed(seed: bytes, key_id: bytes, passphrase: bytes | None) -> dict[str, Any]:
    """The ``private_key`` object of a key file: the seed in the clear (0600 file) or scrypt-sealed."""
    if passphrase is None:
        return {"protection": "none", "seed": base64.b64encode(seed).decode()}
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = Scrypt(salt=salt, length=32, n=1 << SCRYPT_LOG_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase)
    sealed = AESGCM(kek).encrypt(nonce, seed, b"sigmavault-key-v1" + key_id)
    return {
        "protection": "scrypt",
        "log_n": SCRYPT_LOG_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": base64.b64encode(salt).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "sealed_seed": base64.b64encode(sealed).decode(),
    }


def unseal_seed(sealed: dict[str, Any], key_id: bytes, passphrase: bytes | None, path: Path) -> bytes:
    try:
        if sealed["protection"] == "none":
            seed = base64.b64decode(sealed["seed"], validate=True)
        elif sealed["protection"] == "scrypt":
            if passphrase is None:
                raise KeystoreError(
                    f"key file {path} is sealed with a passphrase and no passphrase file is set",
                    code="passphrase_required",
                )
            log_n, r, p = int(sealed["log_n"]), int(sealed["r"]), int(sealed["p"])
            if not (10 <= log_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16):
                raise KeystoreError(f"key file {path}: scrypt parameters out of the accepted range")
            kdf = Scrypt(salt=base64.b64decode(sealed["salt"]), length=32, n=1 << log_n, r=r, p=p)
            seed = AESGCM(kdf.derive(passphrase)).decrypt(
                base64.b64decode(sealed["nonce"]),
                base64.b64decode(sealed["sealed_seed"]),
                b"sigmavault-key-v1" + key_id,
            )
        else:
            raise KeystoreError(f"key file {path}: unknown protection {sealed['protection']!r}")
    except InvalidTag:
        raise KeystoreError(f"the passphrase does not open key file {path}", code="wrong_passphrase") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise KeystoreError(f"key file {path}: private key field is malformed ({type(exc).__name__})") from None
    if len(seed) != SEED_BYTES:
        raise KeystoreError(f"key file {path}: private key is not {SEED_BYTES} bytes")
    return seed


def read_passphrase(path: str | Path) -> bytes:
    """The passphrase file's bytes without one trailing newline; empty is refused."""
    data = Path(path).read_bytes()
    data = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
    if not data:
        raise KeystoreError(f"passphrase file {path} is empty")
    return data


def export_public_key(public: bytes) -> str:
    """The armored text another box imports to seal files to this one (docs/FORMATS.md)."""
    blob = PUBLIC_MAGIC + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + AEAD_ID.to_bytes(2, "big") + public
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([PEM_BEGIN, *lines, PEM_END]) + "\n"


def parse_public_key(text: str) -> Recipient:
    """A Recipient from ``export_public_key`` text; suite and length are checked."""
    body = text.strip()
    if not (body.startswith(PEM_BEGIN) and body.endswith(PEM_END)):
        raise ValueError("not a SIGMAVAULT PUBLIC KEY block")
    try:
        blob = base64.b64decode("".join(body[len(PEM_BEGIN) : -len(PEM_END)].split()), validate=True)
    except ValueError:
        raise ValueError("the public key block is not valid base64") from None
    suite = (KEM_ID, KDF_ID, AEAD_ID)
    if blob[:5] != PUBLIC_MAGIC or tuple(int.from_bytes(blob[i : i + 2], "big") for i in (5, 7, 9)) != suite:
        raise ValueError("the public key is not for this suite (X-Wing / HKDF-SHA256 / AES-256-GCM)")
    public = blob[11:]
    xwing_public_key(public)  # length and encoding checked
    return Recipient(key_id_of(public), public)


def new_key_document(seed: bytes, passphrase: bytes | None, created_unix: int) -> dict[str, Any]:
    """The JSON object of a new key file for this seed."""
    _, public = xwing_private_key(seed)
    key_id = key_id_of(public)
    return {
        "format": KEY_FILE_FORMAT,
        "version": 1,
        "suite": {"name": SUITE_NAME, "kem_id": KEM_ID, "kdf_id": KDF_ID, "aead_id": AEAD_ID},
        "key_id": key_id.hex(),
        "created_unix": created_unix,
        "public_key": base64.b64encode(public).decode(),
        "private_key": seal_seed(seed, key_id, passphrase),
    }
