"""Paths that leave the job roots, or are not what a job can use (surface ``paths``).

In a directory under the job root the fuzzer makes a file, a directory, a FIFO, a socket and
symlinks: out of the roots to a file and to a directory (a sandbox beside the root), to /etc, to
/dev/zero, a loop, a dangling one, a chain, and one inside the root. Cases combine a source and a
destination drawn from: ``..`` climbing out at any depth, relative paths, paths outside the roots,
every symlink (as the source, as the destination, as the destination's directory), the FIFO, the
socket, the directory, devices, a missing directory, control characters and NUL bytes, overlong
paths, Unicode; with every operation (compress, decompress, encrypt, decrypt, rewrap) and range
reads, over HTTP and gRPC. Each must be refused with the rule it broke (docs/FILE_JOBS.md), and
neither the sandbox outside the root nor the fuzzer's directory may change. Destinations only ever
point into the sandbox, so an engine that failed a rule still could not damage the machine.
"""

from __future__ import annotations

import os
import random
import socket
import time
from typing import TYPE_CHECKING

from frontends import pb
from perf.fuzz.nas import NasClient, judge, listing, nothing_written
from perf.fuzz.report import SurfaceReport

if TYPE_CHECKING:
    from pathlib import Path

REFUSALS = ("invalid_path", "path_escape", "outside_roots", "symlink_escape", "not_a_file", "no_directory",
            "not_found", "already_exists", "same_file", "invalid_argument", "invalid_request", "not_compressed",
            "not_sealed", "truncated", "bad_seek_table", "not_seekable", "invalid_utf8")  # fmt: skip
OPERATIONS = ("compress", "decompress", "encrypt", "decrypt", "rewrap")
CONTROL = "".join(chr(c) for c in range(32)) + "\x7f"


class Paths:
    def __init__(self, client: NasClient, root: Path, sandbox: Path, report: SurfaceReport, rng: random.Random) -> None:
        self.client, self.report, self.rng = client, report, rng
        self.base, self.sandbox = root / "paths", sandbox
        self._socket: socket.socket | None = None

    def prepare(self) -> None:
        base, sandbox = self.base, self.sandbox
        base.mkdir(exist_ok=True)
        (base / "dir").mkdir(exist_ok=True)
        sandbox.mkdir(exist_ok=True)
        (sandbox / "secret").write_bytes(b"outside the roots")
        (base / "data.bin").write_bytes(os.urandom(4096))
        if not (base / "fifo").exists():
            os.mkfifo(base / "fifo")
        self._socket = socket.socket(socket.AF_UNIX)
        (base / "sock").unlink(missing_ok=True)
        self._socket.bind(str(base / "sock"))
        links: dict[str, str | Path] = {"out_file": sandbox / "secret", "out_dir": sandbox, "etc": "/etc/hostname",
                 "dev": "/dev/zero",
                 "loop": base / "loop", "dangling": base / "nowhere", "chain": base / "out_file",
                 "in": base / "data.bin", "in_dir": base / "dir"}  # fmt: skip
        for name, target in links.items():
            if not (base / name).is_symlink():
                (base / name).symlink_to(target)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()

    def sources(self) -> list[str]:
        b, r = str(self.base), self.rng
        up = "/..".join([""] * r.randint(1, 6))
        return [
            f"{b}{up}/{self.sandbox.name}/secret", f"{b}/dir/..{up}/etc/passwd", f"{b}/../paths/data.bin",
            f"{b}/./dir/../data.bin", "/../etc/passwd", "..", "../data.bin", "data.bin", "./data.bin", "",
            "/etc/passwd", "/etc/shadow", "/proc/self/environ", "/dev/zero", "/dev/sda", "/dev/nvme0n1", "/", "/tmp",
            str(self.sandbox / "secret"), f"{b}/out_file", f"{b}/out_dir/secret", f"{b}/etc", f"{b}/dev",
            f"{b}/loop", f"{b}/dangling", f"{b}/chain", f"{b}/in_dir", f"{b}/fifo", f"{b}/sock", f"{b}/dir",
            f"{b}/dir/", f"{b}/missing.bin", f"{b}/da\x00ta.bin", f"{b}/data.bin\x00.zst",
            f"{b}/{r.choice(CONTROL)}name{r.choice(CONTROL)}", b + "/" + "x" * r.choice((255, 256, 4097)),
            b + "/a" * r.randint(600, 2100), f"{b}/\u202edata.bin", f"{b}/data.bin ", f"{b}//data.bin/",
        ]  # fmt: skip

    def destinations(self) -> list[str]:
        b, s = str(self.base), self.sandbox.name
        up = "/..".join([""] * self.rng.randint(1, 6))
        return [
            f"{b}{up}/{s}/out.zst", f"{b}/../{s}/out.zst", str(self.sandbox / "out.zst"), f"{b}/out_dir/out.zst",
            f"{b}/out_file", f"{b}/in", f"{b}/dangling", f"{b}/in_dir", f"{b}/dir", f"{b}/dir/", f"{b}/fifo",
            f"{b}/sock", f"{b}/missing/out.zst", f"{b}/data.bin", "out.zst", "", f"{b}/o\x00ut.zst",
            f"{b}/.", f"{b}/..", b + "/" + "y" * 300,
        ]  # fmt: skip
        # (a control character is legal in a Linux file name: a destination with one is not bad input)

    def one(self) -> None:
        r = self.rng
        via = r.choice(("http", "grpc"))
        if r.random() < 0.15:
            self._range(r.choice(self.sources()), via)
            return
        operation = r.choice(OPERATIONS)
        source = r.choice(self.sources())
        body: dict[str, object] = {"operation": operation, "source": source}
        if operation != "rewrap":
            # a good source now and then, so the destination's own rules are reached
            if r.random() < 0.4:
                body["source"] = str(self.base / "data.bin")
            body["destination"] = r.choice(self.destinations())
            body["overwrite"] = r.random() < 0.5
        self._job(body, via)

    def _job(self, body: dict[str, object], via: str) -> None:
        if via == "grpc" and not all(isinstance(v, str) and _utf8(v) for k, v in body.items() if k != "overwrite"):
            via = "http"
        before = listing(self.sandbox), listing(self.base)
        what = f"{body['operation']} {body.get('source')!r} -> {body.get('destination', '')!r}"[:300]
        # rewrap takes a directory (it skips what is not sealed, never following links) or a sealed file:
        # one inside the root is a fair request, and a file that is not sealed fails rewrap_incomplete
        rewrap = body["operation"] == "rewrap"
        inside = rewrap and _inside(str(body["source"]), self.base)
        judge(self.report, f"{what} ({via})", self.client.start_job(body, via), REFUSALS, self.client,
              job_codes=(*REFUSALS, "rewrap_incomplete") if rewrap else REFUSALS, may_succeed=inside)  # fmt: skip
        nothing_written(self.report, what, before[0], listing(self.sandbox))
        nothing_written(self.report, what, before[1], listing(self.base))

    def _range(self, path: str, via: str) -> None:
        if via == "http" or not _utf8(path):
            answer = self.client.http_call("GET", "/api/v1/compression/files/range",
                                           params={"path": path, "offset": 0, "length": 16})  # fmt: skip
        else:
            request = pb.ReadRangeRequest(path=path, offset=0, length=16)
            answer = self.client.grpc_call(self.client.compression.ReadRange, request)
        judge(self.report, f"range read {path!r:.200} ({via})", answer, REFUSALS, self.client)


def _inside(raw: str, base: Path) -> bool:
    try:
        real = os.path.realpath(raw)
        return os.path.isabs(raw) and ".." not in raw.split("/") and (real + "/").startswith(f"{base}/")
    except (ValueError, OSError):
        return False


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def fuzz_paths(client: NasClient, root: Path, sandbox: Path, *, cases: int, seconds: float,
               seed: int = 0) -> SurfaceReport:  # fmt: skip
    report = SurfaceReport("paths")
    paths = Paths(client, root, sandbox, report, random.Random(seed))
    paths.prepare()
    report.operations = len(OPERATIONS) + 1
    deadline = time.monotonic() + seconds
    try:
        while report.cases < cases and time.monotonic() < deadline:
            paths.one()
    finally:
        paths.close()
    return report
