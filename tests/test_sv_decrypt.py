"""tools/sv_decrypt.py, run as its own process with the engine out of reach, opens what the engine's
block functions and worker handlers sealed, and refuses damaged files with the reason and no output."""

from __future__ import annotations

import ast
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine.files.sealed import parse_header
from engine.files.sealed_files import seal_bytes
from engine.keys import keyfile
from engine.keys.keystore import Keystore
from tests.engine.files.files_helpers import mixed

TOOL = Path(__file__).parent.parent / "tools" / "sv_decrypt.py"
DATA = mixed(300_000, seed=9)
BLOCK = 32 * 1024


def tool(
    *args: str | Path, stdin: bytes | None = None, block_zstandard: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """``python -I``: no PYTHONPATH, no user site, cwd elsewhere, so the engine cannot be imported."""
    if block_zstandard:
        code = (
            f"import sys; sys.modules['zstandard'] = None; sys.argv = ['sv_decrypt', *{[str(a) for a in args]!r}]; "
            f"import runpy; runpy.run_path({str(TOOL)!r}, run_name='__main__')"
        )
        cmd = [sys.executable, "-I", "-c", code]
    else:
        cmd = [sys.executable, "-I", str(TOOL), *map(str, args)]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=120, cwd="/", check=False)


def test_the_tool_imports_nothing_of_the_engine() -> None:
    tree = ast.parse(TOOL.read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not {m for m in modules if m and m.split(".")[0] in ("engine", "ipc", "frontends", "tools", "tests")}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Keystore:
    return Keystore.open(tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize("compressed", [False, True])
def test_opens_engine_sealed_files(tmp_path: Path, store: Keystore, compressed: bool) -> None:
    sealed = tmp_path / "f.sv"
    sealed.write_bytes(seal_bytes(DATA, store.current.recipient, block_bytes=BLOCK, compressed=compressed))
    out = tmp_path / "plain"
    done = tool("--key", store.current.path, sealed, "-o", out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == DATA and b"every block authenticated" in done.stderr
    piped = tool("--key", store.directory, "-", stdin=sealed.read_bytes())  # keys directory, stdin to stdout
    assert piped.returncode == 0 and piped.stdout == DATA
    if compressed:  # no zstandard module: the zstd command decodes the authenticated frames
        fallback = tool("--key", store.directory, sealed, block_zstandard=True)
        assert fallback.returncode == 0, fallback.stderr
        assert fallback.stdout == DATA


def test_passphrase_sealed_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyfile, "SCRYPT_LOG_N", 12)
    pw = tmp_path / "pw"
    pw.write_bytes(b"open sesame\n")
    store = Keystore.open(tmp_path / "data", pw)
    sealed = tmp_path / "f.sv"
    sealed.write_bytes(seal_bytes(DATA, store.current.recipient, block_bytes=BLOCK))
    assert tool("--key", store.directory, "--passphrase-file", pw, sealed).stdout == DATA
    missing = tool("--key", store.directory, sealed)
    assert missing.returncode == 1 and b"--passphrase-file" in missing.stderr
    pw.write_bytes(b"wrong\n")
    assert b"passphrase does not open" in tool("--key", store.directory, "--passphrase-file", pw, sealed).stderr


def test_damage_is_named_and_leaves_no_output(tmp_path: Path, store: Keystore) -> None:
    blob = seal_bytes(DATA, store.current.recipient, block_bytes=BLOCK)
    h = parse_header(blob).header_bytes
    rec = BLOCK + 16
    chunks = [blob[h + i * rec : h + (i + 1) * rec] for i in range(3)]
    other = Keystore.open(tmp_path / "other")
    cases = {
        "truncated": (blob[:-1], store.directory),
        "extra bytes": (blob + b"\0", store.directory),
        "altered, or it was spliced": (blob[: h + 5] + bytes([blob[h + 5] ^ 1]) + blob[h + 6 :], store.directory),
        "block at position 1 is block 2": (
            blob[:h] + chunks[0] + chunks[2] + chunks[1] + blob[h + 3 * rec :],
            store.directory,
        ),
        "header does not authenticate": (blob[:24] + bytes([blob[24] ^ 1]) + blob[25:], store.directory),
        "which is not in": (blob, other.directory),
        "but": (blob, other.current.path),
        "not a sealed file": (b"PK\x03\x04" + blob[4:], store.directory),
    }
    for words, (damaged, key) in cases.items():
        src = tmp_path / "bad.sv"
        src.write_bytes(damaged)
        out = tmp_path / "out"
        done = tool("--key", key, src, "-o", out)
        assert done.returncode == 1, words
        assert words.encode() in done.stderr, (words, done.stderr)
        assert not out.exists() and not list(tmp_path.glob("*partial*"))


def test_an_existing_output_is_refused_unless_force(tmp_path: Path, store: Keystore) -> None:
    sealed = tmp_path / "f.sv"
    sealed.write_bytes(seal_bytes(DATA, store.current.recipient, block_bytes=BLOCK))
    out = tmp_path / "plain"
    out.write_bytes(b"precious")
    refused = tool("--key", store.directory, sealed, "-o", out)
    assert refused.returncode == 2 and b"exists; pass --force" in refused.stderr
    assert out.read_bytes() == b"precious" and not list(tmp_path.glob("*partial*"))
    forced = tool("--key", store.directory, sealed, "-o", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert out.read_bytes() == DATA and stat.S_IMODE(out.stat().st_mode) == 0o600  # plaintext: owner only
    target = tmp_path / "elsewhere"
    target.write_bytes(b"kept")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert tool("--key", store.directory, sealed, "-o", link).returncode == 2  # a dangling or live link exists
    assert tool("--key", store.directory, sealed, "-o", link, "--force").returncode == 0
    assert not link.is_symlink() and link.read_bytes() == DATA and target.read_bytes() == b"kept"
    (tmp_path / "dir").mkdir()
    assert tool("--key", store.directory, sealed, "-o", tmp_path / "dir", "--force").returncode == 2
    fresh = tool("--key", store.directory, sealed, "-o", tmp_path / "new")
    assert fresh.returncode == 0 and (tmp_path / "new").read_bytes() == DATA
