"""Bad input to file jobs through a real ``engined serve``: every path rule, an existing destination,
too little space, a full queue, corrupt, truncated and tampered files, decompression bombs, unknown
job ids, and range reads at the edges of frames (HTTP and gRPC)."""

from __future__ import annotations

import os
import stat
import struct
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from engine.files.sealed import read_header
from engine.files.sealed_files import seal_bytes
from engine.keys.keyfile import parse_public_key
from frontends import pb, rpc
from tests.engine.files.files_helpers import cli, mixed, need
from tests.filejobs import BLOCK, JobsClient, leftovers, served_with_root

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.served import Served

pytestmark = pytest.mark.multiprocess

DATA = mixed(2 << 20, seed=31)
CAP = 16 << 20  # SIGMAVAULT_JOB_MAX_OUTPUT_BYTES of this module's engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    work = tmp_path_factory.mktemp("badinput")
    (work / "outside").mkdir()
    (work / "outside" / "secret").write_bytes(b"not for jobs")
    with served_with_root(work, SIGMAVAULT_JOB_MAX_OUTPUT_BYTES=str(CAP), SIGMAVAULT_JOB_QUEUE_LIMIT="1") as (s, root):
        (root / "data.bin").write_bytes(DATA)
        yield s, root


@pytest.fixture(scope="module")
def ours(engine: tuple[Served, Path]) -> dict[str, Path]:
    """Files this engine wrote: a seekable .zst and a plain sealed file of DATA."""
    served, root = engine
    client = JobsClient(served)
    out = {"zst": root / "ours.zst", "sealed": root / "ours.sv"}
    for operation, dest in (("compress", out["zst"]), ("encrypt", out["sealed"])):
        job = client.run(operation=operation, source=str(root / "data.bin"), destination=str(dest))
        assert job["state"] == "done", job
    client.close()
    return out


def body(root: Path, **over: Any) -> dict[str, Any]:
    return {"operation": "compress", "source": str(root / "data.bin"), "destination": str(root / "out.zst"), **over}


def test_paths_outside_the_rules_are_refused(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    _, root = engine
    outside = root.parent / "outside"
    (root / "escape").symlink_to(outside / "secret")
    (root / "outdir").symlink_to(outside)
    (root / "dir").mkdir()
    os.mkfifo(root / "fifo")
    cases = [
        (body(root, source=str(outside / "secret")), "outside_roots"),
        (body(root, source="/etc/passwd"), "outside_roots"),
        (body(root, source=f"{root}/../outside/secret"), "path_escape"),
        (body(root, source=str(root / "escape")), "symlink_escape"),
        (body(root, destination=str(root / "outdir" / "x.zst")), "symlink_escape"),
        (body(root, source="data.bin"), "invalid_path"),
        (body(root, source=str(root / "dir")), "not_a_file"),
        (body(root, source=str(root / "fifo")), "not_a_file"),
        (body(root, destination=str(root / "fifo"), overwrite=True), "not_a_file"),
        (body(root, destination=str(root / "nodir" / "x")), "no_directory"),
        (body(root, operation="shred"), "invalid_argument"),
        (body(root, level=23), "invalid_argument"),
        (body(root, operation="decrypt", codec="zstd"), "invalid_argument"),
        (body(root, operation="decompress", compress=True), "invalid_argument"),
        (body(root, operation="rewrap", destination=str(root / "x")), "invalid_argument"),
        ({"operation": "compress", "source": str(root / "data.bin"), "bogus": 1}, "invalid_request"),
    ]
    if os.geteuid() == 0:
        os.mknod(root / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        cases.append((body(root, source=str(root / "null")), "not_a_file"))
    for request, code in cases:
        error = jobs.refused(400, **request)
        assert error["code"] == code, (request, error)
        assert error["message"]
    assert jobs.refused(404, **body(root, source=str(root / "missing")))["code"] == "not_found"
    assert "a FIFO" in jobs.refused(400, **body(root, source=str(root / "fifo")))["message"]
    assert "outside" in jobs.refused(400, **body(root, source="/etc/passwd"))["message"]
    assert leftovers(root) == []


def test_existing_destination_space_and_unknown_ids(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    served, root = engine
    (root / "exists.zst").write_bytes(b"keep me")
    error = jobs.refused(409, **body(root, destination=str(root / "exists.zst")))
    assert error["code"] == "already_exists" and "overwrite" in error["message"]
    assert (root / "exists.zst").read_bytes() == b"keep me"
    with (root / "huge").open("wb") as f:  # sparse: 8 TiB to compress cannot fit any test machine's disk
        f.truncate(8 << 40)
    error = jobs.refused(507, **body(root, source=str(root / "huge")))
    assert error["code"] == "insufficient_space" and int(error["metadata"]["needed"]) > int(error["metadata"]["free"])
    (root / "huge").unlink()
    for job_id in ("job-000000000000", "nonsense", "..", "job-ab%2F..%2F"):
        answer = jobs.http.get(f"/api/v1/compression/jobs/{job_id}")
        assert answer.status_code == 404, (job_id, answer.text)
        assert jobs.http.delete(f"/api/v1/compression/jobs/{job_id}").status_code == 404
    with served.channel() as channel:
        stub = rpc.CompressionServiceStub(channel)
        for call, request in (
            (stub.GetJob, pb.GetFileJobRequest(id="job-000000000000")),
            (stub.CancelJob, pb.CancelFileJobRequest(id="x")),
        ):
            with pytest.raises(grpc.RpcError) as info:
                call(request)
            assert info.value.code() == grpc.StatusCode.NOT_FOUND
        huge = root / "huge2"
        with huge.open("wb") as f:
            f.truncate(8 << 40)
        with pytest.raises(grpc.RpcError) as info:
            stub.StartJob(
                pb.StartFileJobRequest(
                    operation=pb.FILE_OPERATION_COMPRESS, source=str(huge), destination=str(root / "h.zst")
                )
            )
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        huge.unlink()


def test_a_full_queue_answers_busy(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    _, root = engine
    slow = root / "slow.bin"
    slow.write_bytes(mixed(4 << 20, seed=32))
    # two run (file jobs run two at a time), one waits: the queue (SIGMAVAULT_JOB_QUEUE_LIMIT=1) is full
    started = [
        jobs.start(operation="compress", source=str(slow), destination=str(root / f"busy{i}.zst"), level=19)
        for i in range(3)
    ]
    try:
        fourth = body(root, source=str(slow), level=19, destination=str(root / "busy3.zst"))
        answer = jobs.http.post("/api/v1/compression/jobs", json=fourth)
        assert answer.status_code == 429, answer.text
        assert answer.json()["error"]["code"] == "busy" and answer.headers["Retry-After"]
        assert jobs.get(started[2]["id"])["state"] == "queued"
    finally:
        for job in started:
            assert jobs.http.delete(f"/api/v1/compression/jobs/{job['id']}").json()["state"] == "cancelled"
    assert not list(root.glob("busy*")) and leftovers(root) == []


def test_corrupt_and_truncated_compressed_files(
    engine: tuple[Served, Path], jobs: JobsClient, ours: dict[str, Path]
) -> None:
    _, root = engine
    blob = ours["zst"].read_bytes()
    (root / "cut.zst").write_bytes(blob[: len(blob) // 2])  # no seek table, a frame cut in the middle
    error = jobs.refused(400, operation="decompress", source=str(root / "cut.zst"), destination=str(root / "o1"))
    assert error["code"] == "truncated" and "truncated" in error["message"]
    table_at = len(blob) - (8 + 12 * (len(DATA) // BLOCK) + 9)
    damaged = bytearray(blob)
    damaged[table_at // 2 : table_at // 2 + 64] = bytes(64)  # inside some frame's compressed data
    (root / "damaged.zst").write_bytes(damaged)
    job = jobs.run(operation="decompress", source=str(root / "damaged.zst"), destination=str(root / "o2"))
    assert job["state"] == "failed" and job["error_code"] == "corrupt_frame", job
    assert "frame" in job["error"] and not (root / "o2").exists()
    (root / "plain.txt").write_bytes(b"just text, no frames" * 10)
    error = jobs.refused(400, operation="decompress", source=str(root / "plain.txt"), destination=str(root / "o3"))
    assert error["code"] == "not_compressed"
    error = jobs.refused(
        400, operation="decompress", source=str(ours["zst"]), destination=str(root / "o4"), codec="lz4"
    )
    assert error["code"] == "wrong_codec"
    assert leftovers(root) == []


def test_decompression_bombs_are_refused_not_expanded(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    _, root = engine
    need("zstd")
    zeros = bytes(CAP + (8 << 20))
    (root / "bomb.zst").write_bytes(cli(["zstd", "-19", "-c"], stdin=zeros))  # piped: no size declared
    assert (root / "bomb.zst").stat().st_size < 4096
    job = jobs.run(operation="decompress", source=str(root / "bomb.zst"), destination=str(root / "bomb.out"))
    assert job["state"] == "failed" and job["error_code"] == "too_large", job
    assert "decompression bomb" in job["error"] and job["mode"] == "stream" and job["format"] == "zstd stream"
    assert not (root / "bomb.out").exists() and leftovers(root) == []
    (root / "zeros").write_bytes(zeros)
    job = jobs.run(operation="compress", source=str(root / "zeros"), destination=str(root / "z.zst"))
    assert job["state"] == "done"
    error = jobs.refused(413, operation="decompress", source=str(root / "z.zst"), destination=str(root / "z.out"))
    assert error["code"] == "too_large" and error["metadata"]["limit"] == str(CAP)  # refused before it starts
    (root / "zeros").unlink()


def test_sizes_streams_declare_are_refused_before_the_job(engine: tuple[Served, Path], jobs: JobsClient) -> None:
    """Frames too big for a task are decoded as one stream, but what they declare is still known at the
    request: over the cap is refused there (it used to be found out while writing)."""
    from perf.fuzz import frames

    _, root = engine
    cases = {
        "one.zst": frames.zstd_frame(bytes(CAP + 1)),
        "three.zst": frames.zstd_frame(bytes(CAP // 3 + 1)) * 3,
        "forged.lz4": frames.lz4_declaring(b"tiny", 1 << 40),
        "forged.zst": frames.zstd_declaring(b"x", 1 << 40),
    }
    for name, blob in cases.items():
        (root / name).write_bytes(blob)
        error = jobs.refused(413, operation="decompress", source=str(root / name), destination=str(root / "x.out"))
        assert error["code"] == "too_large" and int(error["metadata"]["declared"]) > CAP, (name, error)
        (root / name).unlink()
    assert not (root / "x.out").exists() and leftovers(root) == []


def _flip(path: Path, offset: int) -> Path:
    blob = bytearray(path.read_bytes())
    blob[offset] ^= 0x40
    out = path.with_name(f"{path.name}.flip{offset}")
    out.write_bytes(blob)
    return out


def test_tampered_sealed_files(engine: tuple[Served, Path], jobs: JobsClient, ours: dict[str, Path]) -> None:
    _, root = engine
    sealed = ours["sealed"]
    with sealed.open("rb") as f:
        header = read_header(f.fileno())
    record, first = BLOCK + 16, header.header_bytes
    blob = sealed.read_bytes()
    swapped = bytearray(blob)
    swapped[first : first + record], swapped[first + record : first + 2 * record] = (
        blob[first + record : first + 2 * record],
        blob[first : first + record],
    )
    (root / "swapped.sv").write_bytes(swapped)
    (root / "cut.sv").write_bytes(blob[:-100])
    cases = {
        _flip(sealed, first + 3 * record + 100): "block_tampered",
        root / "swapped.sv": "blocks_reordered",
        _flip(sealed, 30): "header_tampered",  # original_bytes: the wrapped key no longer opens
        root / "cut.sv": "truncated",
    }
    for path, code in cases.items():
        out = root / f"{path.name}.out"
        job = jobs.run(operation="decrypt", source=str(path), destination=str(out))
        assert job["state"] == "failed" and job["error_code"] == code, (path.name, job)
        assert not out.exists()
    (root / "other.sv").write_bytes(blob[:32] + bytes(16) + blob[48:])  # names a key this box does not hold
    job = jobs.run(operation="decrypt", source=str(root / "other.sv"), destination=str(root / "o.out"))
    assert job["state"] == "failed" and job["error_code"] == "unknown_key"
    assert "not in this keystore" in job["error"]
    error = jobs.refused(400, operation="decrypt", source=str(root / "data.bin"), destination=str(root / "o.out"))
    assert error["code"] == "not_sealed"
    recipient = parse_public_key(jobs.http.get("/api/v1/encryption/public-key").json()["pem"])
    (root / "big.sv").write_bytes(seal_bytes(DATA + DATA, recipient, block_bytes=4 << 20))  # another box's blocks
    error = jobs.refused(501, operation="decrypt", source=str(root / "big.sv"), destination=str(root / "o.out"))
    assert error["code"] == "blocks_too_large" and "sv_decrypt" in error["message"]
    assert leftovers(root) == []


def test_a_sealed_size_is_believed_only_once_the_header_opens(
    engine: tuple[Served, Path], jobs: JobsClient, ours: dict[str, Path]
) -> None:
    """The declared size is refused at the request when over the cap, but it is the header's word: a flipped
    bit in it (found by the sealed fuzzer) must be named as the damage it is, not as a file too large."""
    _, root = engine
    huge = _flip(ours["sealed"], 24)  # the top byte of original_bytes: ~2^62 bytes declared
    error = jobs.refused(400, operation="decrypt", source=str(huge), destination=str(root / "h.out"))
    assert error["code"] == "header_tampered", error
    recipient = parse_public_key(jobs.http.get("/api/v1/encryption/public-key").json()["pem"])
    (root / "large.sv").write_bytes(seal_bytes(bytes(CAP + 1), recipient, block_bytes=BLOCK))  # honest, too large
    error = jobs.refused(413, operation="decrypt", source=str(root / "large.sv"), destination=str(root / "l.out"))
    assert error["code"] == "too_large" and error["metadata"]["limit"] == str(CAP)
    assert not (root / "h.out").exists() and not (root / "l.out").exists() and leftovers(root) == []


def test_range_reads_at_frame_edges(engine: tuple[Served, Path], jobs: JobsClient, ours: dict[str, Path]) -> None:
    served, root = engine
    path, n = str(ours["zst"]), len(DATA)
    http = jobs.http  # the fixture's: closed after the test, failed or not (not left to the garbage collector)
    for offset, length in (
        (0, 10),
        (BLOCK - 5, 10),
        (BLOCK, BLOCK),
        (3 * BLOCK - 1, 2 * BLOCK + 2),
        (n - 7, 100),
        (n // 2, 4096),
        (0, n),
    ):
        answer = http.get("/api/v1/compression/files/range", params={"path": path, "offset": offset, "length": length})
        assert answer.status_code == 200, answer.text
        assert answer.content == DATA[offset : offset + length], (offset, length)
        assert answer.headers["content-type"] == "application/octet-stream"
        end = min(offset + length, n) - 1
        assert answer.headers["content-range"] == f"bytes {offset}-{end}/{n}"
    past = http.get("/api/v1/compression/files/range", params={"path": path, "offset": n + 5, "length": 10})
    assert past.status_code == 200 and past.content == b"" and past.headers["content-range"] == f"bytes */{n}"
    need("zstd")
    (root / "cli.zst").write_bytes(cli(["zstd", "-c", str(root / "data.bin")]))
    cases: tuple[tuple[dict[str, Any], int, str], ...] = (
        ({"path": path, "offset": 0, "length": 0}, 400, "invalid_argument"),
        ({"path": path, "offset": 0, "length": (8 << 20) + 1}, 400, "invalid_argument"),
        ({"path": path, "offset": -1, "length": 1}, 400, "invalid_argument"),
        ({"path": str(root / "cli.zst"), "offset": 0, "length": 1}, 400, "not_seekable"),
        ({"path": "/etc/passwd", "offset": 0, "length": 1}, 400, "outside_roots"),
        ({"path": str(root / "missing"), "offset": 0, "length": 1}, 404, "not_found"),
        ({"offset": 0, "length": 1}, 400, "invalid_path"),
    )
    for params, status, code in cases:
        answer = http.get("/api/v1/compression/files/range", params=params)
        assert answer.status_code == status and answer.json()["error"]["code"] == code, (params, answer.text)
    with served.channel() as channel:
        stub = rpc.CompressionServiceStub(channel)
        got = stub.ReadRange(pb.ReadRangeRequest(path=path, offset=BLOCK - 3, length=6))
        assert got.data == DATA[BLOCK - 3 : BLOCK + 3] and got.offset == BLOCK - 3 and got.file_bytes == n
        with pytest.raises(grpc.RpcError) as info:
            stub.ReadRange(pb.ReadRangeRequest(path=str(root / "cli.zst"), offset=0, length=1))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_lying_seek_table(engine: tuple[Served, Path], jobs: JobsClient, ours: dict[str, Path]) -> None:
    """Frame 0's entry claims 1 GiB: decompression does not trust it for parallel work (it streams, and
    the frames' own sizes decide), and a range read that relies on it fails instead of answering wrong bytes."""
    served, root = engine
    blob = bytearray(ours["zst"].read_bytes())
    first_entry = len(blob) - 9 - 12 * (len(DATA) // BLOCK)
    struct.pack_into("<I", blob, first_entry + 4, 1 << 30)
    (root / "liar.zst").write_bytes(blob)
    job = jobs.run(operation="decompress", source=str(root / "liar.zst"), destination=str(root / "l.out"))
    assert job["state"] == "done" and job["mode"] == "stream" and "more than a task" in job["message"], job
    assert (root / "l.out").read_bytes() == DATA
    answer = jobs.http.get(
        "/api/v1/compression/files/range", params={"path": str(root / "liar.zst"), "offset": BLOCK + 10, "length": 10}
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_seek_table", answer.text
    assert served.proc.poll() is None
