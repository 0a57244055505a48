#!/usr/bin/env python3
"""sv_decrypt: open a SigmaVault sealed file (SVSEAL v1) with nothing but its key file.

    python3 sv_decrypt.py --key KEYFILE|KEYS_DIR [--passphrase-file FILE] INPUT|- [-o OUTPUT|-] [--force]

Needs only Python 3.11+ and ``cryptography`` >= 50 (HPKE with ML-KEM-768+X25519); it imports nothing
from the engine, so it works on a box where the engine is dead. Files sealed with compression also
need the ``zstandard`` module or, failing that, the ``zstd`` command. The format is docs/FORMATS.md;
this is a second, independent reading of it (the engine's tests check both agree).

Streaming with memory bounded by one block: every block is authenticated before any of its bytes are
written. Writing to a path goes to a temporary file beside it (``.OUTPUT.<pid>.partial``, mode 0600)
and is renamed only when every block has been checked, so a damaged file leaves no OUTPUT. An
existing OUTPUT is refused (exit 2) unless ``--force``, which replaces it (a symbolic link is
replaced, not followed). Exit status: 0 done, 1 the file or key is bad (the message says what:
truncated, tampered, reordered, wrong key, ...), 2 bad usage (an existing OUTPUT without --force).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FIXED = struct.Struct(">6sBBIHHHHIQ16s16s8sI")
SUITE_IDS = (0x647A, 0x0001, 0x0002)
INFO_LABEL = b"sigmavault sealed file v1\x00"
TAG, MAX_BLOCK = 16, 64 << 20
SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class Failure(Exception):
    """The file or the key is not what it must be; the message says how."""


class Refused(Exception):
    """The command line asks for something the tool will not do (exit status 2)."""


def load_key(path: Path, key_id: bytes, passphrase_file: Path | None) -> hpke.MLKEM768X25519PrivateKey:
    if path.is_dir():
        path = path / f"hpke-{key_id.hex()}.json"
        if not path.exists():
            raise Failure(f"the file is sealed to key {key_id.hex()}, which is not in {path.parent}")
    doc = json.loads(path.read_text())
    if doc.get("format") != "sigmavault-hpke-key" or doc.get("version") != 1:
        raise Failure(f"{path} is not a version 1 sigmavault-hpke-key file")
    if bytes.fromhex(doc["key_id"]) != key_id:
        raise Failure(f"the file is sealed to key {key_id.hex()}, but {path} holds key {doc['key_id']}")
    sealed = doc["private_key"]
    if sealed["protection"] == "none":
        seed = base64.b64decode(sealed["seed"])
    else:
        if passphrase_file is None:
            raise Failure(f"{path} is sealed with a passphrase: give --passphrase-file")
        pw = passphrase_file.read_bytes()
        pw = pw[:-2] if pw.endswith(b"\r\n") else pw[:-1] if pw.endswith(b"\n") else pw
        if not (10 <= sealed["log_n"] <= 20 and 1 <= sealed["r"] <= 32 and 1 <= sealed["p"] <= 16):
            raise Failure(f"{path}: scrypt parameters out of range")
        kek = Scrypt(base64.b64decode(sealed["salt"]), 32, 1 << sealed["log_n"], sealed["r"], sealed["p"]).derive(pw)
        try:
            seed = AESGCM(kek).decrypt(
                base64.b64decode(sealed["nonce"]),
                base64.b64decode(sealed["sealed_seed"]),
                b"sigmavault-key-v1" + key_id,
            )
        except InvalidTag:
            raise Failure(f"the passphrase does not open {path}") from None
    expanded = hashlib.shake_256(seed).digest(96)  # X-Wing: ML-KEM-768 seed (64) || X25519 key (32)
    m = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    x = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
    public = m.public_key().public_bytes_raw() + x.public_key().public_bytes_raw()
    if hashlib.sha256(public).digest()[:16] != key_id:
        raise Failure(f"{path}: the private key does not match its key id")
    return hpke.MLKEM768X25519PrivateKey(m, x)


def read_exact(f: IO[bytes], n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise Failure(f"the file is truncated: {what} needs {n} bytes, {len(data)} are left")
    return data


def read_header(f: IO[bytes]) -> dict[str, Any]:
    fixed = f.read(FIXED.size)
    if len(fixed) < 12 or fixed[:6] != b"SVSEAL":
        raise Failure("not a sealed file (no SVSEAL magic)")
    if fixed[6] != 1:
        raise Failure(f"sealed format version {fixed[6]} is not supported (this tool reads version 1)")
    if len(fixed) < FIXED.size:
        raise Failure("the file is truncated inside its header")
    (_, _, flags, total, kem, kdf, aead, reserved, block, original, key_id, file_id, prefix, wrapped_len) = (
        FIXED.unpack(fixed)
    )
    if (kem, kdf, aead) != SUITE_IDS or flags & ~1 or reserved:
        raise Failure("unsupported suite or flags in the header")
    if total != FIXED.size + wrapped_len or not 1 <= block <= MAX_BLOCK or wrapped_len > 4096:
        raise Failure("the header's lengths are inconsistent: the header was altered")
    wrapped = read_exact(f, wrapped_len, "the header")
    n = max(1, -(-original // block))
    return {
        "fixed": fixed,
        "compressed": bool(flags & 1),
        "block": block,
        "original": original,
        "n": n,
        "key_id": key_id,
        "file_id": file_id,
        "prefix": prefix,
        "wrapped": wrapped,
    }


def explain(aead: AESGCM, h: dict[str, Any], position: int, body: bytes) -> str:
    n = h["n"]
    for j in range(max(0, position - 2048), min(n, position + 2048)):
        if j != position:
            try:
                aead.decrypt(
                    struct.pack(">8sI", h["prefix"], j), body, struct.pack(">16sQB", h["file_id"], j, j == n - 1)
                )
            except InvalidTag:
                continue
            return f"block at position {position} is block {j} of this file: blocks were reordered or duplicated"
    return f"block {position} does not authenticate: its bytes were altered, or it was spliced in from another file"


class Sink:
    """Where plaintext goes: straight out, or through zstd for compressed files."""

    def __init__(self, out: IO[bytes], compressed: bool) -> None:
        self.out, self.proc, self.dctx = out, None, None
        if compressed:
            try:
                import zstandard  # optional: only compressed files need it

                self.dctx = zstandard.ZstdDecompressor()
            except ImportError:
                if shutil.which("zstd") is None:
                    raise Failure("the file is compressed: install the zstandard module or the zstd command") from None
                self.proc = subprocess.Popen(["zstd", "-d", "-q", "-c"], stdin=subprocess.PIPE, stdout=out)

    def write(self, plain: bytes, expected: int, index: int) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.write(plain)  # a zstd frame: zstd -d checks it
            return
        if self.dctx is not None:
            import zstandard

            if zstandard.frame_content_size(plain) != expected:
                raise Failure(f"block {index}'s frame does not declare the {expected} bytes the header says")
            plain = self.dctx.decompress(plain, max_output_size=expected)
        if len(plain) != expected:
            raise Failure(f"block {index} holds {len(plain)} bytes, the header says {expected}")
        self.out.write(plain)

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
            if self.proc.wait() != 0:
                raise Failure("zstd -d refused a block's frame")


def decrypt(f: IO[bytes], out: IO[bytes], key_path: Path, passphrase_file: Path | None) -> int:
    h = read_header(f)
    private = load_key(key_path, h["key_id"], passphrase_file)
    try:
        aead = AESGCM(SUITE.decrypt(h["wrapped"], private, info=INFO_LABEL + h["fixed"]))
    except InvalidTag:
        raise Failure("the header does not authenticate: a header field or the wrapped key was altered") from None
    sink, n, written = Sink(out, h["compressed"]), h["n"], 0
    for i in range(n):
        plain_len = min(h["block"], h["original"] - i * h["block"])
        if h["compressed"]:
            length = struct.unpack(">I", read_exact(f, 4, f"block {i}'s length"))[0]
            if not TAG <= length <= h["block"] + (h["block"] >> 7) + 1024 + TAG:
                raise Failure(f"block {i}'s length prefix {length} is impossible")
        else:
            length = plain_len + TAG
        body = read_exact(f, length, f"block {i}")
        ad = struct.pack(">16sQB", h["file_id"], i, i == n - 1)
        try:
            plain = aead.decrypt(struct.pack(">8sI", h["prefix"], i), body, ad)
        except InvalidTag:
            raise Failure(explain(aead, h, i, body)) from None
        sink.write(plain, plain_len, i)
        written += plain_len
    if f.read(1):
        raise Failure("the file has extra bytes after its last block")
    sink.close()
    return written


def run(args: argparse.Namespace) -> int:
    src = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115
    with src:
        if args.output == "-":
            n = decrypt(src, sys.stdout.buffer, args.key, args.passphrase_file)
            sys.stdout.buffer.flush()
            return n
        output = Path(args.output)
        _check_output(output, args.force)
        partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                n = decrypt(src, out, args.key, args.passphrase_file)
                out.flush()
                os.fsync(out.fileno())
            _publish(partial, output, args.force)
        finally:
            partial.unlink(missing_ok=True)
        return n


def _check_output(output: Path, force: bool) -> None:
    if os.path.lexists(output) and not force:
        raise Refused(f"{output} exists; pass --force to replace it")
    if output.is_dir() and not output.is_symlink():
        raise Refused(f"{output} is a directory")


def _publish(partial: Path, output: Path, force: bool) -> None:
    """Rename the checked plaintext to ``output``: without force, never over a file that appeared
    meanwhile (link() fails if the name exists; a filesystem without hard links falls back to a check)."""
    if force:
        os.replace(partial, output)
    else:
        try:
            os.link(partial, output, follow_symlinks=False)
        except FileExistsError:
            raise Refused(f"{output} appeared while decrypting; pass --force to replace it") from None
        except OSError:
            _check_output(output, force)
            os.replace(partial, output)
    dfd = os.open(output.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Open a SigmaVault sealed file (SVSEAL v1) with only its key file.")
    parser.add_argument("--key", required=True, type=Path, help="key file (hpke-<id>.json) or the keys directory")
    parser.add_argument("--passphrase-file", type=Path, help="file holding the key's passphrase, if it is sealed")
    parser.add_argument("input", help="sealed file, or - for standard input")
    parser.add_argument("-o", "--output", default="-", help="plaintext destination (default: standard output)")
    parser.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    args = parser.parse_args(argv)
    try:
        n = run(args)
    except Refused as exc:
        print(f"sv_decrypt: {exc}", file=sys.stderr)
        return 2
    except Failure as exc:
        print(f"sv_decrypt: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(f"sv_decrypt: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"sv_decrypt: {n} bytes, every block authenticated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
