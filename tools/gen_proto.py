"""Generate frontends/_gen from proto/ (``make proto``), or check they agree (``--check``).

protoc's Python plugin writes absolute imports (``from sigmavault.v1 import engine_pb2``); we
rewrite them to the package path so the generated modules import without touching sys.path.
The output depends on the grpcio-tools version, pinned in pyproject.toml's test extra.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT = ROOT / "frontends" / "_gen"
GEN_PACKAGE = "frontends._gen"


def generate(out: Path) -> list[Path]:
    from grpc_tools import protoc  # test/dev dependency only

    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    out.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *map(str, protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    written = sorted(p for p in out.rglob("*") if p.is_file())
    for path in written:
        text = path.read_text()
        text = re.sub(r"^from (sigmavault\.\S+) import", rf"from {GEN_PACKAGE}.\1 import", text, flags=re.M)
        path.write_text(text)
    packages = {out}
    for path in written:
        packages.update(d for d in path.parents if d.is_relative_to(out))
    for directory in packages:
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("")
    return sorted(p for p in out.rglob("*") if p.is_file())


def differences(generated: Path, committed: Path) -> list[str]:
    gen = {p.relative_to(generated) for p in generated.rglob("*") if p.is_file()}
    com = {p.relative_to(committed) for p in committed.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    out = [f"missing: {p}" for p in sorted(gen - com)] + [f"extra: {p}" for p in sorted(com - gen)]
    out += [f"differs: {p}" for p in sorted(gen & com) if not filecmp.cmp(generated / p, committed / p, shallow=False)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if frontends/_gen differs from proto/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        diffs = differences(Path(tmp), OUT)
        if args.check:
            for line in diffs:
                print(line)
            return 1 if diffs else 0
        if OUT.exists():
            shutil.rmtree(OUT)
        shutil.copytree(tmp, OUT)
        OUT.chmod(0o755)  # copytree copies the temporary directory's 0700: other users import this package too
    print(f"generated {OUT.relative_to(ROOT)} from {PROTO_ROOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
