"""File jobs end to end through a real ``engined serve``: started over HTTP and gRPC, progress on the
WebSocket, outputs the stock tools (``zstd -d``, ``lz4 -d``, tools/sv_decrypt.py) turn back into the
original bytes; a worker SIGKILLed mid-job, a cancel, and an engine killed and restarted."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import psutil
import pytest

from frontends import pb, rpc
from tests.engine.files.files_helpers import cli, mixed, need
from tests.filejobs import (
    JobsClient,
    engine_processes,
    events_until_done,
    leftovers,
    progress_events,
    served_with_root,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.served import Served

pytestmark = pytest.mark.multiprocess

TOOL = Path(__file__).parent.parent.parent / "tools" / "sv_decrypt.py"
DATA = mixed(6 << 20, seed=21)
SLOW = mixed(4 << 20, seed=22)  # zstd level 19 on it runs long enough to act mid-job


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    with served_with_root(tmp_path_factory.mktemp("filejobs")) as (served, root):
        (root / "data.bin").write_bytes(DATA)
        (root / "slow.bin").write_bytes(SLOW)
        yield served, root


def test_compress_over_http_with_progress_to_100(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    served, root = engine
    need("zstd")
    need("lz4")
    with progress_events(served) as ws:
        job = jobs.start(
            operation="compress", source=str(root / "data.bin"), destination=str(root / "d.zst"), codec="zstd", level=3
        )
        events = events_until_done(ws, job["id"])
    final = events[-1]
    assert final["state"] == "done" and final["percent"] == 100.0
    assert final["bytes_done"] == final["bytes_total"] == len(DATA)
    assert final["format"] == "zstd seekable" and final["blocks"] == len(DATA) // (64 * 1024)
    assert 0 < final["bytes_out"] < len(DATA) and final["mb_per_s"] > 0
    done = [e["bytes_done"] for e in events]
    assert done == sorted(done)
    running = [e["_ts"] for e in events if e["state"] == "running"]
    assert all(b - a >= 0.2 for a, b in itertools.pairwise(running[1:]))  # at most every 250 ms
    assert cli(["zstd", "-d", "-c", str(root / "d.zst")]) == DATA
    event = {k: v for k, v in final.items() if k != "_ts"}
    assert event == jobs.get(job["id"])  # the final event is the job's answer, field for field
    lz4 = jobs.run(operation="compress", source=str(root / "data.bin"), destination=str(root / "d.lz4"), codec="lz4")
    assert lz4["state"] == "done" and lz4["format"] == "lz4 frames"
    assert cli(["lz4", "-d", "-c", str(root / "d.lz4")]) == DATA
    back = jobs.run(operation="decompress", source=str(root / "d.lz4"), destination=str(root / "d.lz4.out"))
    assert back["mode"] == "frames" and (root / "d.lz4.out").read_bytes() == DATA
    back = jobs.run(operation="decompress", source=str(root / "d.zst"), destination=str(root / "d.zst.out"))
    assert back["mode"] == "seek_table" and (root / "d.zst.out").read_bytes() == DATA
    assert leftovers(root) == []


def test_jobs_over_grpc_and_the_standalone_decryptor(engine: tuple[Served, Path], tmp_path: Path) -> None:
    served, root = engine
    with served.channel() as channel:
        stub = rpc.CompressionServiceStub(channel)
        sealed = str(root / "d.svseal")
        job = stub.StartJob(
            pb.StartFileJobRequest(
                operation=pb.FILE_OPERATION_ENCRYPT,
                source=str(root / "data.bin"),
                destination=sealed,
                compress=True,
                level=5,
            )
        )
        assert job.state in (pb.FILE_JOB_STATE_QUEUED, pb.FILE_JOB_STATE_RUNNING)
        deadline = time.monotonic() + 60
        while job.state not in (pb.FILE_JOB_STATE_DONE, pb.FILE_JOB_STATE_FAILED) and time.monotonic() < deadline:
            time.sleep(0.02)
            job = stub.GetJob(pb.GetFileJobRequest(id=job.id))
        assert job.state == pb.FILE_JOB_STATE_DONE, job.error
        assert job.format == "sealed v1, zstd blocks" and len(job.key_id) == 32 and job.bytes_out < len(DATA)
        listed = stub.ListJobs(pb.ListCompressionJobsRequest(limit=256))
        assert job.id in [j.id for j in listed.file_jobs]
        assert all(j.operation != pb.FILE_OPERATION_UNSPECIFIED for j in listed.file_jobs)
        out = tmp_path / "plain"
        done = subprocess.run(
            [sys.executable, "-I", str(TOOL), "--key", str(served.data_dir / "keys"), sealed, "-o", str(out)],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == DATA
        start = pb.StartFileJobRequest(
            operation=pb.FILE_OPERATION_DECRYPT, source=sealed, destination=str(root / "d.plain")
        )
        job = stub.StartJob(start)
        while job.state not in (pb.FILE_JOB_STATE_DONE, pb.FILE_JOB_STATE_FAILED) and time.monotonic() < deadline:
            time.sleep(0.02)
            job = stub.GetJob(pb.GetFileJobRequest(id=job.id))
        assert job.state == pb.FILE_JOB_STATE_DONE and (root / "d.plain").read_bytes() == DATA
        with pytest.raises(grpc.RpcError) as info:
            stub.StartJob(start)
        assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
        with pytest.raises(grpc.RpcError) as info:
            stub.GetJob(pb.GetFileJobRequest(id="job-000000000000"))
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as info:
            stub.StartJob(
                pb.StartFileJobRequest(
                    operation=pb.FILE_OPERATION_COMPRESS, source="/etc/passwd", destination=str(root / "x")
                )
            )
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "outside" in (info.value.details() or "")


def test_files_of_the_cli_tools_decompress(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    _, root = engine
    need("zstd")
    need("lz4")
    pieces = [DATA[: 1 << 19], DATA[1 << 19 : 1 << 20]]
    cases = {
        "one.zst": (cli(["zstd", "-3", "-c", str(root / "data.bin")]), DATA, "stream"),  # one 6 MiB frame
        "piped.zst": (cli(["zstd", "-3", "-c"], stdin=DATA), DATA, "stream"),  # no declared size
        "cat.zst": (b"".join(cli(["zstd", "-c"], stdin=p) for p in pieces), DATA[: 1 << 20], "stream"),
        "one.lz4": (cli(["lz4", "-c", str(root / "data.bin")]), DATA, "stream"),
        "cat.lz4": (
            b"".join(cli(["lz4", "--content-size", "-c", "-"], stdin=p) for p in pieces),
            DATA[: 1 << 20],
            "stream",
        ),
    }
    for i, piece in enumerate(pieces):  # a file argument makes the CLI declare the frame's size
        (root / f"piece{i}").write_bytes(piece)
    cases["sized.zst"] = (
        b"".join(cli(["zstd", "-c", str(root / f"piece{i}")]) for i in range(2)),
        DATA[: 1 << 20],
        "frames",
    )
    cases["sized.lz4"] = (
        b"".join(cli(["lz4", "--content-size", "-c", str(root / f"piece{i}")]) for i in range(2)),
        DATA[: 1 << 20],
        "frames",
    )
    for name, (blob, original, mode) in cases.items():
        (root / name).write_bytes(blob)
        job = jobs.run(operation="decompress", source=str(root / name), destination=str(root / f"{name}.out"))
        assert job["state"] == "done", (name, job["error"])
        assert (root / f"{name}.out").read_bytes() == original, name
        if name.startswith("sized") or name in ("one.zst", "one.lz4", "piped.zst"):
            assert job["mode"] == mode, (name, job["mode"], job["message"])


def test_a_worker_killed_mid_job_costs_only_time(tmp_path: Path) -> None:
    """Its own engine: the restarted worker is a new process the module's engine would not account for."""
    with served_with_root(tmp_path) as (served, root):
        (root / "slow.bin").write_bytes(SLOW)
        jobs = JobsClient(served)
        body = {"operation": "compress", "source": str(root / "slow.bin"), "codec": "zstd", "level": 19}
        job = jobs.start(**body, destination=str(root / "killed.zst"))
        jobs.until(job["id"], lambda j: 0 < j["bytes_done"] < j["bytes_total"] // 2)
        victim = engine_processes(served)["sv-worker-1"]
        # the kill must find a block of the job on the victim (a fixed moment could land between two
        # blocks under load: blocks_resent 0); it is killed the moment the client counts one there
        jobs.until(job["id"], lambda _: jobs.blocks_in_flight(1) > 0, timeout=30)
        victim.send_signal(signal.SIGKILL)
        killed = jobs.wait(job["id"])
        assert killed["state"] == "done", killed["error"]
        assert killed["blocks_resent"] >= 1
        calm = jobs.run(**body, destination=str(root / "calm.zst"))
        assert calm["state"] == "done" and calm["blocks_resent"] == 0
        assert (root / "killed.zst").read_bytes() == (root / "calm.zst").read_bytes()
        assert cli(["zstd", "-d", "-c", str(root / "killed.zst")]) == SLOW
        assert engine_processes(served)["sv-worker-1"].pid != victim.pid
        jobs.close()


def test_cancel_leaves_nothing(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    _, root = engine
    dest = root / "cancelled.zst"
    job = jobs.start(operation="compress", source=str(root / "slow.bin"), destination=str(dest), level=19)
    jobs.until(job["id"], lambda j: j["bytes_done"] > 0)
    answer = jobs.http.delete(f"/api/v1/compression/jobs/{job['id']}")
    assert answer.status_code == 200 and answer.json()["state"] == "cancelled"
    assert not dest.exists() and leftovers(root) == []
    assert jobs.get(job["id"])["state"] == "cancelled"
    again = jobs.http.delete(f"/api/v1/compression/jobs/{job['id']}")  # a finished job is answered as it is
    assert again.status_code == 200 and again.json()["state"] == "cancelled"
    listed = jobs.http.get("/api/v1/compression/jobs", params={"limit": 256}).json()
    assert job["id"] in [j["id"] for j in listed["file_jobs"]] and "jobs" in listed


def test_the_source_changing_size_fails_the_job(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    _, root = engine
    source = root / "growing.bin"
    source.write_bytes(SLOW)
    dest = root / "growing.zst"
    job = jobs.start(operation="compress", source=str(source), destination=str(dest), level=19)
    jobs.until(job["id"], lambda j: j["bytes_done"] > 0)
    with source.open("ab") as f:
        f.write(b"appended while the job ran")
    failed = jobs.wait(job["id"])
    assert failed["state"] == "failed" and failed["error_code"] == "source_changed", failed
    assert "changed size" in failed["error"]
    assert not dest.exists() and leftovers(root) == []


def test_a_source_deleted_or_replaced_mid_job_fails_it(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    """The job would read on through its open descriptor; the output of a file that is gone, or no longer
    the one at that path, is not published."""
    _, root = engine
    for case in ("deleted", "replaced"):
        source, dest = root / f"{case}.bin", root / f"{case}.zst"
        source.write_bytes(SLOW)
        job = jobs.start(operation="compress", source=str(source), destination=str(dest), level=19)
        jobs.until(job["id"], lambda j: j["bytes_done"] > 0)
        if case == "deleted":
            source.unlink()
        else:
            (root / "other.bin").write_bytes(b"another file")
            (root / "other.bin").replace(source)
        failed = jobs.wait(job["id"])
        expected = "source_vanished" if case == "deleted" else "source_changed"
        assert (failed["state"], failed["error_code"]) == ("failed", expected), failed
        assert ("was deleted" if case == "deleted" else "was replaced") in failed["error"]
        assert not dest.exists() and leftovers(root) == []
        source.unlink(missing_ok=True)


def _kill_engine(served: Served) -> None:
    """SIGKILL every process of the engine with none able to react: the supervisor is stopped first
    (else it restarts a killed frontend at once, and its death SIGTERMs the children, which would
    then shut down cleanly and cancel the job instead of leaving it interrupted)."""
    procs = engine_processes(served)
    served.proc.send_signal(signal.SIGSTOP)
    for proc in procs.values():
        proc.send_signal(signal.SIGKILL)
    served.proc.send_signal(signal.SIGKILL)
    served.proc.wait(10)
    psutil.wait_procs(list(procs.values()), timeout=10)


def test_jobs_survive_a_restart_and_an_engine_killed_mid_job_marks_them_interrupted(tmp_path: Path) -> None:
    data = mixed(4 << 20, seed=5)
    with served_with_root(tmp_path) as (served, root):
        (root / "in.bin").write_bytes(data)
        client = JobsClient(served)
        done = client.run(operation="encrypt", source=str(root / "in.bin"), destination=str(root / "in.sv"))
        slow = client.start(
            operation="compress", source=str(root / "in.bin"), destination=str(root / "in.zst"), level=19
        )
        client.until(slow["id"], lambda j: j["bytes_done"] > 0)
        client.close()
        assert leftovers(root)  # the partial output exists while the job runs
        _kill_engine(served)
        served.proc.returncode = 0  # stop_served (at the block's end) would report the kill as a failure
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple\n")
    with served_with_root(tmp_path, SIGMAVAULT_KEY_PASSPHRASE_FILE=str(passphrase)) as (served, root):
        client = JobsClient(served)
        listed = {j["id"]: j for j in client.http.get("/api/v1/compression/jobs").json()["file_jobs"]}
        assert listed[done["id"]]["state"] == "done"
        interrupted = listed[slow["id"]]
        assert interrupted["state"] == "failed" and interrupted["error_code"] == "interrupted"
        assert interrupted["error"].startswith("interrupted")
        assert leftovers(root) == [] and not (root / "in.zst").exists()
        status = client.http.get("/api/v1/encryption/status").json()
        assert status["passphrase_protected"] and status["key_id"] == done["key_id"]
        back = client.run(operation="decrypt", source=str(root / "in.sv"), destination=str(root / "in.out"))
        assert back["state"] == "done" and (root / "in.out").read_bytes() == data
        client.close()
    assert '"protection": "scrypt"' in next((tmp_path / "data" / "keys").glob("hpke-*.json")).read_text()
