"""Another local user, as a new user of the box would try it: ``useradd`` in the test, the calls made
with ``runuser -u``. Over TCP without or with a wrong token every call but health is refused (401 /
UNAUTHENTICATED, the WebSocket closed 1008); the Unix sockets refuse the connection itself (the
kernel: EACCES) unless the user is in SIGMAVAULT_SOCKET_GROUP, and then it is an admin named by its
uid; the user cannot read the generated token. As root over the sockets, and with the admin token,
the same calls pass; a ``read`` token reads but cannot destroy a pool or run a file job.

The users and the group are removed after the test, whatever happened."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import pytest
from websockets.sync.client import unix_connect

from frontends import pb, rpc
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("runuser") is None,
        reason="needs root, useradd and runuser",
    ),
]
ROOT = Path(__file__).resolve().parents[2]

# what the other user runs: every transport, no credential, a wrong one; one JSON line out
PROBE = r"""
import json, sys
import grpc, httpx
from websockets.sync.client import connect, unix_connect
from frontends import pb, rpc

http, grpc_target, run_dir, data_dir = sys.argv[1:5]
out = {}
def status(fn):
    try:
        return fn()
    except PermissionError:
        return "EACCES"
    except grpc.RpcError as exc:
        return exc.code().name + ("" if exc.code() != grpc.StatusCode.UNAVAILABLE else ":" +
                                  ("EACCES" if "ermission denied" in (exc.details() or "") else exc.details()))
    except Exception as exc:  # httpx wraps the socket's PermissionError in ConnectError
        return "EACCES" if "[Errno 13]" in str(exc) else type(exc).__name__ + ": " + str(exc)[:200]

wrong = {"Authorization": "Bearer " + "0" * 64}
out["healthz"] = status(lambda: httpx.get(http + "/healthz", timeout=10).status_code)
for name, path in (("swarm", "/api/v1/swarm"), ("range", "/api/v1/compression/files/range?path=/etc/shadow")):
    out[name] = status(lambda: httpx.get(http + path, timeout=10).status_code)
    out[name + "_wrong"] = status(lambda: httpx.get(http + path, headers=wrong, timeout=10).status_code)
out["destroy"] = status(lambda: httpx.delete(http + "/api/v1/storage/pools/tank?confirm=tank", timeout=10).status_code)
out["file_job"] = status(lambda: httpx.post(http + "/api/v1/compression/jobs", json={"operation": "compress",
                         "source": "/etc/shadow", "destination": "/tmp/x.zst"}, timeout=10).status_code)
def unix_http(path, method="GET", **kw):
    with httpx.Client(transport=httpx.HTTPTransport(uds=run_dir + "/engined.http.sock"), base_url="http://x") as c:
        return c.request(method, path, timeout=10, **kw).status_code
out["unix_swarm"] = status(lambda: unix_http("/api/v1/swarm"))
out["unix_destroy"] = status(lambda: unix_http("/api/v1/storage/pools/sv-absent?confirm=sv-absent", "DELETE"))
def call(target, method, metadata=()):
    with grpc.insecure_channel(target) as channel:
        if method == "status":
            rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), timeout=10, metadata=metadata)
        else:
            rpc.StorageServiceStub(channel).DestroyPool(pb.DestroyPoolRequest(pool="sv-absent", confirm="sv-absent"),
                                                        timeout=10, metadata=metadata)
        return "OK"
out["grpc_status"] = status(lambda: call(grpc_target, "status"))
out["grpc_status_wrong"] = status(lambda: call(grpc_target, "status", (("authorization", wrong["Authorization"]),)))
out["grpc_destroy"] = status(lambda: call(grpc_target, "destroy"))
out["unix_grpc_status"] = status(lambda: call("unix://" + run_dir + "/engined.grpc.sock", "status"))
out["unix_grpc_destroy"] = status(lambda: call("unix://" + run_dir + "/engined.grpc.sock", "destroy"))
def ws():
    with connect(http.replace("http", "ws", 1) + "/ws", open_timeout=10) as conn:
        conn.send(json.dumps({"type": "auth", "token": "0" * 64}))
        first = json.loads(conn.recv(timeout=10))
        try:
            conn.recv(timeout=10)
        except Exception as exc:
            return first["data"]["code"] + ":" + str(getattr(getattr(exc, "rcvd", None), "code", None))
        return "open"
out["ws"] = status(ws)
def unix_ws():
    with unix_connect(run_dir + "/engined.http.sock", "ws://localhost/ws", open_timeout=10) as conn:
        return json.loads(conn.recv(timeout=10))["type"]
out["unix_ws"] = status(unix_ws)
out["token_file"] = status(lambda: open(data_dir + "/api-token").read() and "read")
print(json.dumps(out))
"""


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def local_users() -> Iterator[dict[str, Any]]:
    """A group for the sockets, a user outside it and a user inside it; all removed afterwards."""
    tag = secrets.token_hex(3)
    group, outsider, insider = f"svsock{tag}", f"svout{tag}", f"svin{tag}"
    made: list[tuple[str, str]] = []
    try:
        _run("groupadd", group)
        made.append(("groupdel", group))
        for user, extra in ((outsider, ()), (insider, ("-G", group))):
            _run("useradd", "-M", "-r", "-s", "/usr/sbin/nologin", *extra, user)
            made.insert(0, ("userdel", user))
        yield {
            "group": group,
            "outsider": outsider,
            "insider": insider,
            "insider_uid": int(
                subprocess.run(["id", "-u", insider], capture_output=True, text=True, check=True).stdout
            ),
        }
    finally:
        for command, name in made:
            subprocess.run([command, name], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def shared(local_users: dict[str, Any]) -> Iterator[Served]:
    """An engine whose run directory other users can reach (/tmp/sv-XXXX/sock, the parent 0755): the
    socket directory's own mode and group are what keep them out, not a private parent."""
    workdir = Path(tempfile.mkdtemp(prefix="sv-"))
    workdir.chmod(0o755)
    tokens = workdir / "tokens"
    served = start_served(
        workdir,
        SIGMAVAULT_SOCKET_GROUP=local_users["group"],
        SIGMAVAULT_ACCESS_LOG="1",
        SIGMAVAULT_API_TOKENS_FILE=str(tokens),
    )
    try:
        yield served
    finally:
        try:
            assert stop_served(served) == 0, served.output()
            assert not served.http_socket.exists() and not served.grpc_socket.exists()  # removed at stop
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _interpreter() -> tuple[str, str]:
    """A Python the other user may run, with this checkout's packages: the test's own interpreter
    may live where only root can enter (pyenv under /root); the system's of the same version can
    load the same site-packages."""
    site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    python = (
        sys.executable
        if os.access(Path(sys.executable).resolve().parent, os.X_OK, effective_ids=False)
        and not str(Path(sys.executable).resolve()).startswith("/root/")
        else system
    )
    if not Path(python).exists():
        pytest.skip(f"no Python {sys.version_info.major}.{sys.version_info.minor} another user may run")
    return python, f"{ROOT}:{site}"


def probe(served: Served, user: str) -> dict[str, Any]:
    python, path = _interpreter()
    done = subprocess.run(
        [
            "runuser",
            "-u",
            user,
            "--",
            python,
            "-c",
            PROBE,
            served.http,
            served.grpc,
            str(served.run_dir),
            str(served.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_another_local_user_gets_nothing_but_health(shared: Served, local_users: dict[str, Any]) -> None:
    got = probe(shared, local_users["outsider"])
    assert got == {
        "healthz": 200,
        "swarm": 401,
        "swarm_wrong": 401,
        "range": 401,
        "range_wrong": 401,
        "destroy": 401,
        "file_job": 401,
        "unix_swarm": "EACCES",
        "unix_destroy": "EACCES",  # the kernel refuses the connection
        "grpc_status": "UNAUTHENTICATED",
        "grpc_status_wrong": "UNAUTHENTICATED",
        "grpc_destroy": "UNAUTHENTICATED",
        "unix_grpc_status": "UNAVAILABLE:EACCES",
        "unix_grpc_destroy": "UNAVAILABLE:EACCES",
        "ws": "unauthenticated:1008",
        "unix_ws": "EACCES",
        "token_file": "EACCES",  # the generated token is root's alone
    }, got
    assert "refuse 127.0.0.1" in shared.output()  # the access log names who was refused


def test_a_member_of_the_socket_group_is_admitted_by_the_kernel(shared: Served, local_users: dict[str, Any]) -> None:
    got = probe(shared, local_users["insider"])
    assert got["swarm"] == 401 and got["grpc_status"] == "UNAUTHENTICATED"  # TCP still wants a token
    assert got["unix_swarm"] == 200 and got["unix_grpc_status"] == "OK" and got["unix_ws"] == "server.hello"
    # admitted: the engine itself answers (the pool is absent, or this box's zpool cannot say)
    assert got["unix_destroy"] in (404, 422) and got["unix_grpc_destroy"] in ("NOT_FOUND", "FAILED_PRECONDITION")
    assert f"uid {local_users['insider_uid']} over unix" in shared.output()  # SO_PEERCRED in the access log


def test_root_over_the_sockets_and_the_tokens_by_role(shared: Served) -> None:
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(shared.http_socket)), base_url="http://x") as unix:
        assert unix.get("/api/v1/session").json() == {"name": "uid:0", "role": "admin", "transport": "http"}
        assert unix.delete("/api/v1/storage/pools/sv-absent", params={"confirm": "sv-absent"}).status_code in (404, 422)
    with grpc.insecure_channel(f"unix://{shared.grpc_socket}") as channel:
        assert rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), timeout=10).workers_ready == 2
    with unix_connect(str(shared.http_socket), "ws://localhost/ws", open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "server.hello"
    added = subprocess.run(
        [sys.executable, "-m", "engine", "token", "add", "grafana", "--role", "read"],
        env={
            **os.environ,
            "SIGMAVAULT_DATA_DIR": str(shared.data_dir),
            "SIGMAVAULT_API_TOKENS_FILE": str(shared.data_dir.parent / "tokens"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    reader = {"Authorization": f"Bearer {added.stdout.strip()}"}
    with httpx.Client(base_url=shared.http, timeout=10) as http:
        assert http.get("/api/v1/swarm", headers=shared.headers).status_code == 200
        assert http.get("/api/v1/swarm", headers=reader).status_code == 200  # the engine saw the new line
        for method, path, body in (
            ("DELETE", "/api/v1/storage/pools/tank?confirm=tank", None),
            ("POST", "/api/v1/compression/jobs", {"operation": "compress", "source": "/x", "destination": "/y"}),
        ):
            refused = http.request(method, path, json=body, headers=reader)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["metadata"]["required_role"] == "admin"
    meta = (("authorization", reader["Authorization"]),)
    with shared.channel() as channel, pytest.raises(grpc.RpcError) as info:
        rpc.CompressionServiceStub(channel).StartJob(pb.StartFileJobRequest(), timeout=10, metadata=meta)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "grafana" in shared.output()  # the name, never the token, in the access log
    assert added.stdout.strip() not in shared.output()
