"""The README's examples work as written: the embedding example runs, and every curl example answers 200."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.served import Served

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
pytestmark = pytest.mark.multiprocess


def test_the_embedding_example_runs(tmp_path: Path) -> None:
    block = re.search(r"## Embedding and the Python client\n\n```python\n(.*?)```", README, re.S)
    assert block is not None
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")},
        "SIGMAVAULT_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", block.group(1)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0].split()[0].isdigit() and lines[1].isdigit()


def test_every_curl_example_answers(served: Served) -> None:
    """Each curl line as written: over the Unix socket (this test runs as root, which the socket
    admits) or with the generated token in its header; without either the same call is refused."""
    commands = re.findall(r"^curl (.*?)(?<!\\)$", README.replace("\\\n", " "), re.M)
    assert len(commands) >= 2
    ways = set()
    for command in commands:
        args = shlex.split(command)
        body = args[args.index("-d") + 1] if "-d" in args else None
        if "--unix-socket" in args:
            assert args[args.index("--unix-socket") + 1] == "/run/sigmavault/engined.http.sock"
            url = next(a for a in args if a.startswith("http://localhost/"))
            client = httpx.Client(
                transport=httpx.HTTPTransport(uds=str(served.http_socket)), base_url="http://localhost"
            )
            target, headers = url.removeprefix("http://localhost"), {}
            ways.add("socket")
        else:
            header = args[args.index("-H") + 1]
            assert header == "Authorization: Bearer $(cat /var/lib/sigmavault/api-token)", header
            url = next(a for a in args if a.startswith("localhost:8001"))
            client, target, headers = (
                httpx.Client(base_url=served.http),
                url.removeprefix("localhost:8001"),
                served.headers,
            )
            ways.add("token")
        with client:
            answer = client.post(target, content=body, headers=headers)
            assert answer.status_code == 200, (command, answer.text)
        assert httpx.post(served.http + target, content=body).status_code == 401
    assert ways == {"socket", "token"}
