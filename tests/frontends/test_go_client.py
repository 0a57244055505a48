"""The README's "Calling from Go" works as written, so the Go API's way in cannot rot.

Its two protoc commands run verbatim (the module path of the proto's go_package, and another module
path mapped with M options); tests/go/main.go is built against the generated package with Debian's
grpc-go and protobuf-go (GOPATH mode: Debian ships Go sources, not a module cache, and the Go module
proxy is out of reach); then it calls a served engine over TCP with the token and over the Unix socket,
and prints one JSON line per call, the google.rpc.ErrorInfo of the failing one included. The generated
Go code lives in a temporary directory, never in the repository; the build cache in build/go-cache.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
GOCODE = Path("/usr/share/gocode/src")
GOCACHE = ROOT / "build" / "go-cache"
TOKEN = secrets.token_hex(16)
# what the build needs, with the Debian package that brings it (.ci/run installs them)
TOOLS = {
    "go": "golang-go",
    "protoc": "protobuf-compiler",
    "protoc-gen-go": "protoc-gen-go",
    "protoc-gen-go-grpc": "protoc-gen-go-grpc",
}
SOURCES = {
    "google.golang.org/grpc/status/status.go": "golang-google-grpc-dev",
    "google.golang.org/protobuf/proto/proto.go": "golang-google-protobuf-dev",
    # grpc-go's status details need the v1.4+ shim over protobuf-go; the 1.3 package has no registry.go
    "github.com/golang/protobuf/proto/registry.go": "golang-github-golang-protobuf-1-5-dev",
    "google.golang.org/genproto/googleapis/rpc/errdetails/error_details.pb.go": "golang-google-genproto-dev",
}
pytestmark = [pytest.mark.multiprocess, pytest.mark.timeout(600)]  # a cold build of grpc-go takes a minute


def missing_packages() -> list[str]:
    tools = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    return tools + [package for path, package in SOURCES.items() if not (GOCODE / path).is_file()]


def protoc_blocks() -> dict[str, str]:
    """The README's shell blocks under "Calling from Go" that run protoc, by the module they generate for."""
    section = README.split("\n## Calling from Go\n", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", section, re.S) if re.search(r"^protoc ", b, re.M)]
    by_module = {}
    for block in blocks:
        mapped = re.search(r"^pkg='([^;']+)/gen/sigmavault/v1;sigmavaultv1'$", block, re.M)
        by_module[mapped.group(1) if mapped else "sigmavault/api"] = block
    assert len(by_module) == 2 and "sigmavault/api" in by_module, blocks
    return by_module


def go_env(gopath: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(gopath),
        "GO111MODULE": "off",
        "GOPATH": f"{gopath}:{GOCODE.parent}",
        "GOCACHE": str(GOCACHE),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
    }


def generate(gopath: Path, module: str, block: str) -> Path:
    """Run one README block from the root of `module` in the GOPATH, the engine's checkout beside it."""
    root = gopath / "src" / module
    root.mkdir(parents=True)
    (root.parent / "engined").symlink_to(ROOT)  # the README's ../engined
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=root,
        env=go_env(gopath),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{block}\n{result.stderr}"
    generated = root / "gen" / "sigmavault" / "v1"
    assert sorted(p.name for p in generated.glob("*_grpc.pb.go")) == [
        f"{p.stem}_grpc.pb.go"
        for p in sorted((ROOT / "proto" / "sigmavault" / "v1").glob("*.proto"))
        if "service " in p.read_text()
    ]
    return root


def go_build(gopath: Path, *args: str) -> None:
    GOCACHE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["go", "build", *args], cwd=gopath, env=go_env(gopath), capture_output=True, text=True, timeout=480
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/go/main.go built against the package the README's first protoc command generates."""
    missing = missing_packages()
    if missing:
        pytest.skip(f"the Go client test needs Debian's {' '.join(missing)} (.ci/run installs them)")
    gopath = tmp_path_factory.mktemp("gopath")
    root = generate(gopath, "sigmavault/api", protoc_blocks()["sigmavault/api"])
    (root / "cmd" / "engineprobe").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "go" / "main.go", root / "cmd" / "engineprobe" / "main.go")
    binary = gopath / "engineprobe"
    go_build(gopath, "-o", str(binary), "sigmavault/api/cmd/engineprobe")
    return binary


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """An engine that requires TOKEN on TCP, with a run directory of its own for the Unix socket."""
    workdir = tmp_path_factory.mktemp("goengine")
    served = start_served(workdir, SIGMAVAULT_API_TOKEN=TOKEN, SIGMAVAULT_RUN_DIR=str(workdir / "run"))
    yield served
    assert stop_served(served) == 0, served.output()


def run_probe(probe: Path, *args: str) -> dict[str, dict[str, Any]]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # no SIGMAVAULT_API_TOKEN: only what args say
    result = subprocess.run([str(probe), *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return {line["call"]: line for line in lines}


def assert_served(calls: dict[str, dict[str, Any]]) -> None:
    status = calls["SystemService.GetStatus"]
    assert status["ok"] and status["result"]["agents_total"] > 0, status
    task = calls["AgentService.DispatchTask"]
    assert task["ok"] and task["result"]["data"] == "hello from go", task
    assert task["result"]["kind"] == "TASK_KIND_ECHO" and task["result"]["agent"], task
    error = calls["AgentService.GetAgent"]
    assert (error["ok"], error["code"], error["reason"], error["domain"]) == (
        False,
        "NotFound",
        "UNKNOWN_AGENT",
        "sigmavault.engine",
    ), error
    assert error["metadata"] == {"agents": str(status["result"]["agents_total"])}, error


def test_go_client_over_tcp_with_the_token(probe: Path, engine: Served, tmp_path: Path) -> None:
    token_file = tmp_path / "api-token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    assert_served(run_probe(probe, "-addr", engine.grpc, "-token-file", str(token_file)))


def test_go_client_without_the_token_reads_why_it_was_refused(probe: Path, engine: Served) -> None:
    calls = run_probe(probe, "-addr", engine.grpc)
    refused = calls["AgentService.DispatchTask"]
    assert (refused["ok"], refused["code"], refused["reason"]) == (False, "Unauthenticated", "UNAUTHENTICATED")
    assert "Bearer" in refused["message"] and TOKEN not in json.dumps(calls)


def test_go_client_over_the_unix_socket(probe: Path, engine: Served) -> None:
    path = engine.data_dir.parent / "run" / "engined.grpc.sock"
    if not path.exists():
        pytest.skip(f"this engine serves no gRPC Unix socket ({path} absent): the socket comes with the auth work")
    assert_served(run_probe(probe, "-unix", str(path)))


def test_readme_protoc_command_for_another_module_path(probe: Path, tmp_path: Path) -> None:
    """The M-option form generates the same package under the module path the Go API chooses."""
    module, block = next((m, b) for m, b in protoc_blocks().items() if m != "sigmavault/api")
    root = generate(tmp_path, module, block)
    assert {p.read_text().split("\npackage ", 1)[1].split()[0] for p in (root / "gen").rglob("*.go")} == {
        "sigmavaultv1"
    }
    go_build(tmp_path, f"{module}/gen/sigmavault/v1")
