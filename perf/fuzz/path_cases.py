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

The engine's data directory is among the targets (its keys, its job database: directly, and through
a symlink in the root). And while the cases run, a thread swaps a parent directory under the root
(``swap/sub``) for a symlink into the sandbox and back, again and again, as a user of a share could;
a quarter of the cases read (jobs, range reads) and write under it. Such a case may be admitted (the
directory was real when the request opened it) or refused, but it is *wrongly admitted* if anything
lands in or is read from the sandbox: a job's output must be in the real directory and hold the
inside data, a range read must answer the inside bytes.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import random
import socket
import threading
import time
from typing import TYPE_CHECKING

import zstandard

from engine.files.zstd_seekable import build_seek_table
from frontends import pb
from perf.fuzz.nas import Answer, NasClient, judge, listing, nothing_written
from perf.fuzz.report import SurfaceReport

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

REFUSALS = (
    "invalid_path",
    "path_escape",
    "outside_roots",
    "symlink_escape",
    "not_a_file",
    "no_directory",
    "not_found",
    "already_exists",
    "same_file",
    "invalid_argument",
    "invalid_request",
    "not_compressed",
    "not_sealed",
    "truncated",
    "bad_seek_table",
    "not_seekable",
    "invalid_utf8",
    "data_dir",
    "source_changed",
    "too_deep",
    "too_many",
)
SWAP_REFUSALS = ("not_found", "symlink_escape", "no_directory", "invalid_path", "source_changed")
OPERATIONS = ("compress", "decompress", "encrypt", "decrypt", "rewrap")
CONTROL = "".join(chr(c) for c in range(32)) + "\x7f"
INSIDE = b"inside the root, under the swapped directory " * 100
SWAP_SHARE = 0.25  # of the cases go under the swapped directory


class Paths:
    def __init__(
        self,
        client: NasClient,
        root: Path,
        sandbox: Path,
        report: SurfaceReport,
        rng: random.Random,
        data_dir: Path | None = None,
    ) -> None:
        self.client, self.report, self.rng = client, report, rng
        self.base, self.sandbox, self.data_dir = root / "paths", sandbox, data_dir
        self._socket: socket.socket | None = None
        self.swap = Swap(self.base / "swap", sandbox)
        self._numbers = itertools.count()

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
        links: dict[str, str | Path] = {
            "out_file": sandbox / "secret",
            "out_dir": sandbox,
            "etc": "/etc/hostname",
            "dev": "/dev/zero",
            "loop": base / "loop",
            "dangling": base / "nowhere",
            "chain": base / "out_file",
            "in": base / "data.bin",
            "in_dir": base / "dir",
        }
        if self.data_dir is not None:
            links["state"] = self.data_dir
        for name, target in links.items():
            if not (base / name).is_symlink():
                (base / name).symlink_to(target)
        self.swap.prepare()

    def close(self) -> None:
        self.swap.close()
        if self._socket is not None:
            self._socket.close()

    def _state(self) -> list[str]:
        """The engine's own files: directly (outside the roots) and through the root's symlink."""
        if self.data_dir is None:
            return []
        d, b = str(self.data_dir), str(self.base)
        return [
            f"{d}/jobs.sqlite3",
            f"{d}/keys",
            f"{d}/keys/engine.key",
            f"{b}/state/jobs.sqlite3",
            f"{b}/state/keys",
            f"{b}/state/keys/engine.key",
            f"{b}/state/storage/pools.json",
        ]

    def sources(self) -> list[str]:
        b, r = str(self.base), self.rng
        up = "/..".join([""] * r.randint(1, 6))
        return [
            f"{b}{up}/{self.sandbox.name}/secret",
            f"{b}/dir/..{up}/etc/passwd",
            f"{b}/../paths/data.bin",
            f"{b}/./dir/../data.bin",
            "/../etc/passwd",
            "..",
            "../data.bin",
            "data.bin",
            "./data.bin",
            "",
            "/etc/passwd",
            "/etc/shadow",
            "/proc/self/environ",
            "/dev/zero",
            "/dev/sda",
            "/dev/nvme0n1",
            "/",
            "/tmp",
            str(self.sandbox / "secret"),
            f"{b}/out_file",
            f"{b}/out_dir/secret",
            f"{b}/etc",
            f"{b}/dev",
            f"{b}/loop",
            f"{b}/dangling",
            f"{b}/chain",
            f"{b}/in_dir",
            f"{b}/fifo",
            f"{b}/sock",
            f"{b}/dir",
            f"{b}/dir/",
            f"{b}/missing.bin",
            f"{b}/da\x00ta.bin",
            f"{b}/data.bin\x00.zst",
            f"{b}/{r.choice(CONTROL)}name{r.choice(CONTROL)}",
            b + "/" + "x" * r.choice((255, 256, 4097)),
            b + "/a" * r.randint(600, 2100),
            f"{b}/\u202edata.bin",
            f"{b}/data.bin ",
            f"{b}//data.bin/",
            *self._state(),
        ]

    def destinations(self) -> list[str]:
        b, s = str(self.base), self.sandbox.name
        up = "/..".join([""] * self.rng.randint(1, 6))
        return [
            f"{b}{up}/{s}/out.zst",
            f"{b}/../{s}/out.zst",
            str(self.sandbox / "out.zst"),
            f"{b}/out_dir/out.zst",
            f"{b}/out_file",
            f"{b}/in",
            f"{b}/dangling",
            f"{b}/in_dir",
            f"{b}/dir",
            f"{b}/dir/",
            f"{b}/fifo",
            f"{b}/sock",
            f"{b}/missing/out.zst",
            f"{b}/data.bin",
            "out.zst",
            "",
            f"{b}/o\x00ut.zst",
            f"{b}/.",
            f"{b}/..",
            b + "/" + "y" * 300,
            *[p for p in self._state() if not p.endswith("keys")],
        ]
        # (a control character is legal in a Linux file name: a destination with one is not bad input)

    def one(self) -> None:
        r = self.rng
        via = r.choice(("http", "grpc"))
        if r.random() < SWAP_SHARE:
            self._swapped(via)
            return
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
        before = listing(self.sandbox), self._listing()
        what = f"{body['operation']} {body.get('source')!r} -> {body.get('destination', '')!r}"[:300]
        # rewrap takes a directory (it skips what is not sealed, never following links) or a sealed file:
        # one inside the root is a fair request, and a file that is not sealed fails rewrap_incomplete
        rewrap = body["operation"] == "rewrap"
        inside = rewrap and _inside(str(body["source"]), self.base)
        judge(
            self.report,
            f"{what} ({via})",
            self.client.start_job(body, via),
            REFUSALS,
            self.client,
            job_codes=(*REFUSALS, "rewrap_incomplete") if rewrap else REFUSALS,
            may_succeed=inside,
        )
        nothing_written(self.report, what, before[0], listing(self.sandbox))
        nothing_written(self.report, what, before[1], self._listing())

    def _listing(self) -> dict[str, tuple[int, int]]:
        """The fuzzer's directory but the swapped one, whose names move all the time."""
        swapped = f"{self.swap.top}/"
        return {k: v for k, v in listing(self.base).items() if not k.startswith(swapped)}

    def _swapped(self, via: str) -> None:
        """A job or a range read under the directory the swapper flips to a symlink into the sandbox."""
        sub, r = self.swap.sub, self.rng
        before = listing(self.sandbox)
        operation = r.choice(("compress", "encrypt", "range", "range"))
        if operation == "range":
            what = f"range read under the swapped directory ({via})"
            self._swapped_range(what, str(sub / "data.zst"), via)
        else:
            name = f"swap-{next(self._numbers)}.out"
            body = {"operation": operation, "source": str(sub / "data.bin"), "destination": str(sub / name)}
            what = f"{operation} under the swapped directory ({via})"
            outcome = judge(
                self.report, what, self.client.start_job(body, via), SWAP_REFUSALS, self.client, may_succeed=True
            )
            self.swap.check_output(self.report, what, name, operation, done=outcome == "job done")
        if listing(self.sandbox) != before:
            self.report.fail(f"{what}: wrongly admitted: the sandbox outside the root changed")

    def _swapped_range(self, what: str, path: str, via: str) -> None:
        if via == "http":
            answer = self.client.http.get(
                "/api/v1/compression/files/range", params={"path": path, "offset": 0, "length": len(INSIDE)}
            )
            data = answer.content if answer.status_code == 200 else None
            label = Answer(str(answer.status_code), "" if data is not None else _code(answer))
        else:
            label = self.client.grpc_call(
                self.client.compression.ReadRange, pb.ReadRangeRequest(path=path, offset=0, length=len(INSIDE))
            )
            data = label.job.get("data") if label.status == "OK" else None
            if data is not None:
                data = base64.b64decode(data)
            label = Answer(label.status, label.code)
        judge(self.report, what, label, SWAP_REFUSALS, self.client, may_succeed=True)
        if data is not None and data != INSIDE:
            self.report.fail(f"{what}: wrongly admitted: answered {data[:40]!r}, not the inside bytes")

    def _range(self, path: str, via: str) -> None:
        if via == "http" or not _utf8(path):
            answer = self.client.http_call(
                "GET", "/api/v1/compression/files/range", params={"path": path, "offset": 0, "length": 16}
            )
        else:
            request = pb.ReadRangeRequest(path=path, offset=0, length=16)
            answer = self.client.grpc_call(self.client.compression.ReadRange, request)
        judge(self.report, f"range read {path!r:.200} ({via})", answer, REFUSALS, self.client)


def _code(answer: Any) -> str:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


class Swap:
    """``top/sub``: a real directory (``data.bin``, a seekable ``data.zst``) that a thread swaps, again and
    again, for a symlink into the sandbox (which holds other files of the same names) and back."""

    def __init__(self, top: Path, sandbox: Path) -> None:
        self.top, self.sandbox = top, sandbox
        self.sub, self.parked = top / "sub", top / ".parked"
        self.real_fd = -1
        self.flips = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error = ""

    def prepare(self) -> None:
        self.sub.mkdir(parents=True, exist_ok=True)
        frame = zstandard.ZstdCompressor(write_checksum=True).compress(INSIDE)
        for directory, data in ((self.sub, INSIDE), (self.sandbox, b"SANDBOX " * (len(INSIDE) // 8))):
            (directory / "data.bin").write_bytes(data)
            bad = zstandard.ZstdCompressor().compress(data) if directory != self.sub else frame
            (directory / "data.zst").write_bytes(bad + build_seek_table([len(bad)], [len(data)]))
        self.real_fd = os.open(self.sub, os.O_RDONLY | os.O_DIRECTORY)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fuzz-swapper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                os.rename(self.sub, self.parked)
                os.symlink(self.sandbox, self.sub)
                time.sleep(0.001)
                os.unlink(self.sub)
                os.rename(self.parked, self.sub)
                self.flips += 1
                time.sleep(0.001)
        except OSError as exc:  # reported in the surface's failures, never a silent dead thread
            self.error = f"the swapper stopped: {exc}"

    def check_output(self, report: SurfaceReport, what: str, name: str, operation: str, *, done: bool) -> None:
        """A job that ran wrote its output in the real directory, from the inside data; it is removed."""
        try:
            fd = os.open(name, os.O_RDONLY, dir_fd=self.real_fd)
        except FileNotFoundError:
            if done:
                report.fail(f"{what}: wrongly admitted: done, but its output is not in the real directory")
            return
        try:
            data = os.pread(fd, 1 << 20, 0)
        finally:
            os.close(fd)
            os.unlink(name, dir_fd=self.real_fd)
        if operation == "compress":
            with contextlib.suppress(zstandard.ZstdError):
                data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
            if data != INSIDE:
                report.fail(f"{what}: wrongly admitted: its output does not hold the inside data")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.real_fd >= 0:
            os.close(self.real_fd)
            self.real_fd = -1


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


def fuzz_paths(
    client: NasClient,
    root: Path,
    sandbox: Path,
    *,
    cases: int,
    seconds: float,
    seed: int = 0,
    data_dir: Path | None = None,
) -> SurfaceReport:
    report = SurfaceReport("paths")
    paths = Paths(client, root, sandbox, report, random.Random(seed), data_dir)
    paths.prepare()
    report.operations = len(OPERATIONS) + 1
    deadline = time.monotonic() + seconds
    paths.swap.start()
    try:
        while report.cases < cases and time.monotonic() < deadline:
            paths.one()
    finally:
        paths.close()
    if paths.swap.error or not paths.swap.flips:
        report.fail(paths.swap.error or "the parent directory was never swapped while the cases ran")
    return report
