"""Paths a file job may touch, through a real ``engined serve``: the data directory out of reach of every
job kind and range read (direct, through a symlink, through a bind mount), outputs owned by their
source's owner, a parent directory flipped to a symlink while jobs and range reads are requested, a
sealed file flipped to a FIFO under rewrap jobs, no job roots, and range reads of crafted files that
must not slow anyone else's calls."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import statistics
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
import zstandard

from engine.access.credentials import add_named_token
from engine.files.zstd_seekable import build_seek_table
from frontends import pb, rpc
from tests.engine.files.files_helpers import mixed
from tests.filejobs import JobsClient, engine_processes, served_with_root
from tests.served import start_served, stop_served
from tests.utils import flipping

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.served import Served

pytestmark = pytest.mark.multiprocess

DATA = mixed(1 << 20, seed=47)
SECRET = b"OUTSIDE THE ROOT " * 4096
RANGE = "/api/v1/compression/files/range"
OPERATIONS = ("compress", "decompress", "encrypt", "decrypt")
GIB = 1 << 30


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    work = tmp_path_factory.mktemp("jobpaths")
    with served_with_root(work) as (served, root):
        (root / "data.bin").write_bytes(DATA)
        yield served, root


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file() and not p.is_symlink()}


def refused_everywhere(jobs: JobsClient, root: Path, private: Path, new: Path, expected: str) -> None:
    """``private`` (a file of the engine's) as every job's source and as a range read; ``new`` (a name in
    the engine's directories) as every job's destination; all refused with ``expected``."""
    for operation in OPERATIONS:
        error = jobs.refused(400, operation=operation, source=str(private), destination=str(root / "out"))
        assert error["code"] == expected, (operation, error)
        error = jobs.refused(
            400, operation=operation, source=str(root / "data.bin"), destination=str(new), overwrite=True
        )
        assert error["code"] == expected, (operation, "destination", error)
    assert jobs.refused(400, operation="rewrap", source=str(private))["code"] == expected
    assert jobs.refused(400, operation="rewrap", source=str(private.parent))["code"] == expected
    answer = jobs.http.get(RANGE, params={"path": str(private), "offset": 0, "length": 64})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == expected, answer.text


def test_the_data_directory_is_out_of_reach_of_every_job_and_range_read(
    engine: tuple[Served, Path], jobs: JobsClient
) -> None:
    served, root = engine
    assert jobs.http.get("/api/v1/encryption/status").status_code == 200  # the keystore exists
    keys = served.data_dir / "keys"
    key_file = next(keys.glob("hpke-*.json"))
    before = snapshot(keys)
    (root / "state").symlink_to(served.data_dir)
    refused_everywhere(jobs, root, key_file, keys / "new", "outside_roots")
    refused_everywhere(
        jobs, root, root / "state" / "keys" / key_file.name, root / "state" / "jobs.sqlite3", "symlink_escape"
    )
    with served.channel() as channel:
        with pytest.raises(grpc.RpcError) as info:
            rpc.CompressionServiceStub(channel).ReadRange(pb.ReadRangeRequest(path=str(key_file), offset=0, length=9))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    if os.geteuid() == 0:  # a bind mount reaches it all the same: its device and inode stop the walk
        bound = root / "bound"
        bound.mkdir()
        if subprocess.run(["mount", "--bind", str(served.data_dir), str(bound)], capture_output=True).returncode:
            pytest.skip("cannot bind-mount here")
        try:
            refused_everywhere(jobs, root, bound / "keys" / key_file.name, bound / "keys" / "new", "data_dir")
        finally:
            subprocess.run(["umount", str(bound)], check=True)
    assert snapshot(keys) == before


DATA_DIR_FILES = ("keys/hpke-*.json", "keys/engine.key", "session-key", "api-tokens", "jobs.sqlite3", "api-token")


def test_hard_links_to_the_data_directorys_files_are_refused_by_every_job_and_range_read(
    engine: tuple[Served, Path], jobs: JobsClient
) -> None:
    """A hard link into a root is the data directory's file itself (same device and inode): each of them
    (private keys, the session key, the tokens, the job database) is refused ``data_dir`` as every job's
    source, as a destination to overwrite, as a rewrap path (the file, its directory) and as a range
    read; none is read, queued or changed."""
    served, root = engine
    assert jobs.http.get("/api/v1/encryption/status").status_code == 200  # the keystore exists
    tokens = served.data_dir / "api-tokens"
    if not tokens.exists():
        add_named_token(str(tokens), "linked", "read")
    originals = [next(served.data_dir.glob(pattern)) for pattern in DATA_DIR_FILES]
    before = {str(p): (p.stat().st_ino, p.read_bytes()) for p in originals if p.name != "jobs.sqlite3"}
    jobs_before = jobs.http.get("/api/v1/compression/jobs").json()
    for original in originals:
        links = root / f"links-{original.name}"
        links.mkdir()
        try:
            os.link(original, links / original.name)
            refused_everywhere(jobs, root, links / original.name, links / original.name, "data_dir")
        finally:
            shutil.rmtree(links)
    assert {str(p): (p.stat().st_ino, p.read_bytes()) for p in originals if p.name != "jobs.sqlite3"} == before
    assert jobs.http.get("/api/v1/compression/jobs").json() == jobs_before  # nothing was queued


@pytest.mark.skipif(os.geteuid() != 0, reason="files of another user need root")
def test_outputs_belong_to_the_owner_of_their_source(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    _, root = engine
    share = root / "alice"
    share.mkdir()
    shutil.copy(root / "data.bin", share / "data.bin")
    os.chown(share / "data.bin", 4242, 4343)
    steps = (
        ("compress", "data.bin", "data.zst"),
        ("decompress", "data.zst", "data.out"),
        ("encrypt", "data.bin", "data.sv"),
        ("decrypt", "data.sv", "data.plain"),
    )
    for operation, source, destination in steps:
        job = jobs.run(operation=operation, source=str(share / source), destination=str(share / destination))
        assert job["state"] == "done", job
        st = (share / destination).stat()
        assert (st.st_uid, st.st_gid) == (4242, 4343), (operation, st.st_uid, st.st_gid)
    assert (share / "data.plain").read_bytes() == DATA
    jobs.http.post("/api/v1/encryption/rotate", json={})
    job = jobs.run(operation="rewrap", source=str(share / "data.sv"))
    assert job["state"] == "done" and job["files_rewrapped"] == 1, job
    st = (share / "data.sv").stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4242, 4343, 0o600)


def open_fds(pid: int) -> dict[str, str]:
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            out[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
    return out


def test_no_descriptor_outlives_its_job(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    """Done, refused at the plan, refused at submit (busy target), cancelled queued and running, rewrap,
    range reads: afterwards the frontend holds exactly the descriptors it held before."""
    served, root = engine
    pid = engine_processes(served)["sv-frontend"].pid
    work = root / "fds"
    work.mkdir()
    with (work / "big.bin").open("wb") as f:
        for i in range(64):
            f.write(os.urandom(1 << 18) + bytes(3 << 18) + i.to_bytes(4, "little"))
    done = jobs.run(operation="compress", source=str(root / "data.bin"), destination=str(work / "warm.zst"))
    assert done["state"] == "done"
    assert jobs.http.get(RANGE, params={"path": str(work / "warm.zst"), "offset": 0, "length": 9}).status_code == 200
    time.sleep(0.3)
    before = open_fds(pid)
    ids = [
        jobs.start(operation="compress", source=str(root / "data.bin"), destination=str(work / f"d{i}"))["id"]
        for i in range(3)
    ]
    for _ in range(3):
        assert (
            jobs.refused(400, operation="decompress", source=str(root / "data.bin"), destination=str(work / "x"))[
                "code"
            ]
            == "not_compressed"
        )
        answer = jobs.http.get(RANGE, params={"path": str(root / "data.bin"), "offset": 0, "length": 9})
        assert answer.json()["error"]["code"] == "not_seekable"
    big = [
        jobs.start(operation="compress", source=str(work / "big.bin"), destination=str(work / f"big{i}.zst"), level=19)[
            "id"
        ]
        for i in range(4)
    ]
    busy = jobs.http.post(
        "/api/v1/compression/jobs",
        json={"operation": "compress", "source": str(work / "big.bin"), "destination": str(work / "big0.zst")},
    )
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "busy_target", busy.text
    jobs.until(big[0], lambda job: job["state"] == "running")  # two run at a time: big2 and big3 wait
    cancelled = [jobs.http.delete(f"/api/v1/compression/jobs/{job_id}").json() for job_id in reversed(big)]
    assert {job["state"] for job in cancelled} == {"cancelled"}, cancelled
    assert any(job["started_unix_ns"] == 0 for job in cancelled)  # one never ran
    assert any(job["started_unix_ns"] > 0 for job in cancelled)  # one was cancelled running
    assert jobs.run(operation="rewrap", source=str(work))["state"] == "done"
    for job_id in ids:
        assert jobs.wait(job_id)["state"] == "done"
    deadline = time.monotonic() + 5
    while open_fds(pid) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    after = open_fds(pid)
    assert after == before, {"new": {k: v for k, v in after.items() if k not in before}}


@contextlib.contextmanager
def client_of(served: Served) -> Iterator[httpx.Client]:
    """An HTTP client of tests/filejobs.py's JobsClient (whatever credentials it presents, these present)."""
    jobs = JobsClient(served)
    try:
        yield jobs.http
    finally:
        jobs.close()


def test_a_parent_directory_flipped_to_a_symlink_never_leads_a_job_or_a_range_read_out(
    engine: tuple[Served, Path], jobs: JobsClient
) -> None:
    _, root = engine
    sub, parked, outside = root / "share" / "sub", root / "share" / ".parked", root.parent / "outside-race"
    sub.mkdir(parents=True)
    outside.mkdir()
    (sub / "data.bin").write_bytes(DATA)
    assert (
        jobs.run(operation="compress", source=str(sub / "data.bin"), destination=str(sub / "x.zst"))["state"] == "done"
    )
    (outside / "data.bin").write_bytes(SECRET)
    (outside / "x.zst").write_bytes((sub / "x.zst").read_bytes().replace(DATA[:64], SECRET[:64]))
    before = snapshot(outside)

    def flip() -> None:
        os.rename(sub, parked)
        os.symlink(outside, sub)
        time.sleep(0.002)
        os.unlink(sub)
        os.rename(parked, sub)
        time.sleep(0.002)

    started, reads = [], {"ok": 0, "refused": 0}
    with flipping(flip) as flips:
        for n in range(60):
            request = {"operation": "compress", "source": str(sub / "data.bin"), "destination": str(sub / f"out-{n}")}
            answer = jobs.http.post("/api/v1/compression/jobs", json=request)
            if answer.status_code == 200:
                started.append((n, answer.json()["id"]))
            else:
                assert answer.json()["error"]["code"] in ("not_found", "symlink_escape", "no_directory"), answer.text
            got = jobs.http.get(RANGE, params={"path": str(sub / "x.zst"), "offset": 0, "length": 4096})
            if got.status_code == 200:
                assert got.content == DATA[:4096]
                reads["ok"] += 1
            else:
                assert got.json()["error"]["code"] in ("not_found", "symlink_escape"), got.text
                reads["refused"] += 1
        finished = [(n, jobs.wait(job_id)) for n, job_id in started]
    assert flips[0] > 10 and started and reads["ok"], (flips, len(started), reads)
    assert snapshot(outside) == before, "a job or a range read wrote outside the root"
    for n, job in finished:
        assert job["state"] == "done", job  # the job works on the directory its request opened
        assert unzstd(sub / f"out-{n}") == DATA


def unzstd(path: Path) -> bytes:
    with path.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True) as reader:
        return reader.read()


def test_rewrap_jobs_over_a_file_flipping_to_a_fifo_end_and_never_block(
    engine: tuple[Served, Path], jobs: JobsClient
) -> None:
    _, root = engine
    folder = root / "sealed"
    folder.mkdir()
    for name in ("a.sv", "b.sv"):
        assert (
            jobs.run(operation="encrypt", source=str(root / "data.bin"), destination=str(folder / name))["state"]
            == "done"
        )
    os.link(folder / "b.sv", root / "b.keep")
    os.mkfifo(root / "fifo")

    def put(source: Path) -> None:  # a hard link of ``source`` renamed over b.sv: the name flips at once
        (folder / ".next").unlink(missing_ok=True)
        os.link(source, folder / ".next")
        os.rename(folder / ".next", folder / "b.sv")

    def flip() -> None:  # b.sv becomes a FIFO, then its sealed file again
        put(root / "fifo")
        time.sleep(0.001)
        put(root / "b.keep")
        time.sleep(0.001)

    outcomes: dict[str, int] = {}
    with flipping(flip):
        for _ in range(12):
            assert jobs.http.post("/api/v1/encryption/rotate", json={}).status_code == 200
            for source in (folder, folder / "b.sv"):
                answer = jobs.http.post("/api/v1/compression/jobs", json={"operation": "rewrap", "source": str(source)})
                if answer.status_code != 200:
                    assert answer.json()["error"]["code"] in ("not_a_file", "not_found"), answer.text
                    outcomes["refused"] = outcomes.get("refused", 0) + 1
                    continue
                job = jobs.wait(answer.json()["id"], timeout=20)
                key = job["state"] if job["state"] == "done" else job["error_code"]
                outcomes[key] = outcomes.get(key, 0) + 1
                assert key in ("done", "rewrap_incomplete"), job
            assert jobs.http.get("/api/v1/system/status").status_code == 200
    assert outcomes.get("done", 0) + outcomes.get("rewrap_incomplete", 0) > 0, outcomes


def crafted_files(root: Path) -> dict[str, Path]:
    """Files whose range reads would cost seconds unbounded: a seek table of 2 Mi entries, one frame of
    1 GiB of zeros (32 KiB on disk), 20,000 one-byte frames."""
    out = {"table": root / "huge-table.zst", "frame": root / "big-frame.zst", "tiny": root / "tiny-frames.zst"}
    n = 2 << 20
    with out["table"].open("wb") as f:  # the entries are never read: the footer's count is refused
        f.write((0x184D2A5E).to_bytes(4, "little") + (n * 8 + 9).to_bytes(4, "little"))
        f.truncate(8 + n * 8)
        f.seek(0, 2)
        f.write(n.to_bytes(4, "little") + b"\x00" + (0x8F92EAB1).to_bytes(4, "little"))
    with out["frame"].open("wb") as f:
        with zstandard.ZstdCompressor().stream_writer(f, size=GIB, closefd=False) as writer:
            zeros = bytes(16 << 20)
            for _ in range(GIB // len(zeros)):
                writer.write(zeros)
        frame_bytes = f.tell()
        f.write(build_seek_table([frame_bytes], [GIB]))
    one = zstandard.ZstdCompressor().compress(b"x")
    out["tiny"].write_bytes(one * 20_000 + build_seek_table([len(one)] * 20_000, [1] * 20_000))
    return out


def test_crafted_range_reads_are_bounded_and_never_slow_anyone_else(engine: tuple[Served, Path]) -> None:
    served, root = engine
    files = crafted_files(root)
    table, frame, tiny = str(files["table"]), str(files["frame"]), str(files["tiny"])
    refusals: list[tuple[dict[str, str | int], str]] = [
        ({"path": table, "offset": 0, "length": 16}, "seek_table_too_large"),
        ({"path": frame, "offset": GIB - 4096, "length": 4096}, "range_prefix_too_large"),
        ({"path": tiny, "offset": 0, "length": 8 << 20}, "range_too_fragmented"),
    ]
    heavy: dict[str, str | int] = {"path": frame, "offset": (16 << 20) - 4096, "length": 4096}  # under the limit
    with client_of(served) as http:
        for params, code in refusals:
            answer = http.get(RANGE, params=params)
            assert answer.status_code == 413 and answer.json()["error"]["code"] == code, answer.text
        answer = http.get(RANGE, params=heavy)
        assert answer.status_code == 200 and answer.content == bytes(4096)
        baseline = status_latencies(http, 40)

    stop = threading.Event()

    def attacker() -> None:
        with client_of(served) as own:
            while not stop.is_set():
                for params, _ in refusals:
                    own.get(RANGE, params=params)
                own.get(RANGE, params=heavy)

    threads = [threading.Thread(target=attacker, name=f"attacker-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        with client_of(served) as http:
            loaded = status_latencies(http, 80)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    base_p50, p50 = statistics.median(baseline), statistics.median(loaded)
    p90 = statistics.quantiles(loaded, n=10)[-1]
    print(
        f"status latency: baseline p50 {base_p50 * 1e3:.1f} ms; under crafted range reads p50 {p50 * 1e3:.1f} ms, "
        f"p90 {p90 * 1e3:.1f} ms, max {max(loaded) * 1e3:.1f} ms"
    )
    assert p50 < base_p50 + 0.05 and p90 < 0.2, (baseline, loaded)


def status_latencies(http: httpx.Client, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        assert http.get("/api/v1/system/status").status_code == 200
        out.append(time.perf_counter() - started)
        time.sleep(0.01)
    return out


def test_without_job_roots_the_file_job_api_says_so(tmp_path: Path) -> None:
    served = start_served(tmp_path, 30)
    try:
        with client_of(served) as http:
            answer = http.post(
                "/api/v1/compression/jobs",
                json={"operation": "compress", "source": str(tmp_path / "x"), "destination": str(tmp_path / "y")},
            )
            assert answer.status_code == 409 and answer.json()["error"]["code"] == "no_job_roots", answer.text
            assert "SIGMAVAULT_JOB_ROOTS" in answer.json()["error"]["message"]
            answer = http.get(RANGE, params={"path": str(tmp_path / "x"), "offset": 0, "length": 1})
            assert answer.status_code == 409 and answer.json()["error"]["code"] == "no_job_roots"
            assert http.get("/api/v1/compression/jobs").status_code == 200
        with served.channel() as channel, pytest.raises(grpc.RpcError) as info:
            rpc.CompressionServiceStub(channel).ReadRange(pb.ReadRangeRequest(path="/x", offset=0, length=1))
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        assert stop_served(served) == 0
    assert "file jobs are off" in served.output()


@pytest.mark.parametrize("root", ["{work}", "{work}/data", "{work}/data/keys"])
def test_a_job_root_that_reaches_the_data_directory_stops_the_start(tmp_path: Path, root: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")}
    env.update(
        SIGMAVAULT_DATA_DIR=str(tmp_path / "data"),
        SIGMAVAULT_JOB_ROOTS=root.format(work=tmp_path),
        SIGMAVAULT_ENGINE_PORT="0",
        SIGMAVAULT_GRPC_PORT="0",
    )
    done = subprocess.run(
        [sys.executable, "-m", "engine", "serve"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("engined: configuration error: SIGMAVAULT_JOB_ROOTS="), lines
    assert "data directory" in lines[0]
