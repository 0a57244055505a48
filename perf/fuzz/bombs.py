"""Decompression bombs and lying frames, as file jobs and as inline tasks (surface ``bombs``).

Each case is drawn from a family with random sizes and levels (seeded) and sent through HTTP or gRPC:

file jobs (decompress into a directory that must stay empty):
  declared over the cap     real frames of zeros declaring more than SIGMAVAULT_JOB_MAX_OUTPUT_BYTES,
                            or a forged size up to 2^64-1           -> refused 413 too_large
  many frames over the cap  frames within bounds that add up past it -> refused 413 too_large
  stream over the cap       a frame with no declared size that expands past the cap -> the job fails
                            too_large, stopping at the cap, the temporary removed
  declared too small        a real frame whose header declares less than it holds -> corrupt_frame
  cut short                 a valid file cut at a random byte       -> refused or failed: truncated,
                            corrupt_frame, not_compressed
inline (POST /api/v1/tasks, AgentService.DispatchTask, BlockService.Process, kind decompress):
  bombs (a slot's worth times up to 64, with and without a declared size) -> 413 too_large;
  forged huge sizes -> too_large; sizes that lie low -> corrupt_input or too_large; cut and garbage
  input -> corrupt_input.
"""

from __future__ import annotations

import base64
import random
from typing import TYPE_CHECKING

from frontends import pb
from perf.fuzz import frames
from perf.fuzz.nas import Answer, NasClient, judge, listing, nothing_written, run_families
from perf.fuzz.report import SurfaceReport

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CUT = ("truncated", "corrupt_frame", "not_compressed")


class Bombs:
    def __init__(
        self, client: NasClient, root: Path, cap: int, slot: int, report: SurfaceReport, rng: random.Random
    ) -> None:
        self.client, self.cap, self.slot, self.report, self.rng = client, cap, slot, report, rng
        self.src, self.out = root / "bombs-in", root / "bombs-out"
        self.src.mkdir(exist_ok=True)
        self.out.mkdir(exist_ok=True)
        self.n = 0

    # file jobs -------------------------------------------------------------------------------
    def _job(self, what: str, blob: bytes, codec: str, expected: tuple[str, ...], job_codes: tuple[str, ...]) -> None:
        self.n += 1
        source = self.src / f"case{self.n}.{'zst' if codec == 'zstd' else 'lz4'}"
        source.write_bytes(blob)
        before = listing(self.out)
        body = {"operation": "decompress", "source": str(source), "destination": str(self.out / f"out{self.n}")}
        via = self.rng.choice(("http", "grpc"))
        judge(
            self.report, f"{what} ({via})", self.client.start_job(body, via), expected, self.client, job_codes=job_codes
        )
        nothing_written(self.report, what, before, listing(self.out))
        source.unlink()

    def declared_over_cap(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        if self.rng.random() < 0.5:  # a real frame of zeros, honest about its size
            size = self.cap + self.rng.randint(1, self.cap)
            blob = frames.zstd_frame(bytes(size)) if codec == "zstd" else frames.lz4_frame(bytes(size))
        else:  # a small frame claiming a size past the cap, up to the largest the field holds (zstd reads
            # 2^64-1 as "unknown", libzstd's ZSTD_CONTENTSIZE_UNKNOWN: the frame would be an honest stream)
            size = self.rng.choice((self.cap + 1, 1 << 40, (1 << 63) - 1, (1 << 64) - (2 if codec == "zstd" else 1)))
            data = self.rng.randbytes(self.rng.randint(1, 4096))
            blob = frames.zstd_declaring(data, size) if codec == "zstd" else frames.lz4_declaring(data, size)
        self._job(f"{codec} frame declaring {size} bytes", blob, codec, ("too_large", "insufficient_space"), ())

    def many_frames_over_cap(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        each = self.rng.randint(self.cap // 8, self.cap // 2)
        count = self.cap // each + 1 + self.rng.randint(0, 3)
        frame = frames.zstd_frame(bytes(each)) if codec == "zstd" else frames.lz4_frame(bytes(each))
        self._job(f"{count} {codec} frames of {each} bytes", frame * count, codec, ("too_large",), ())

    def stream_over_cap(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        size = self.cap + self.rng.randint(1, self.cap // 2)
        blob = (
            frames.zstd_frame(bytes(size), declare=False)
            if codec == "zstd"
            else frames.lz4_frame(bytes(size), declare=False)
        )
        self._job(f"{codec} stream of {size} bytes, no size declared", blob, codec, ("too_large",), ("too_large",))

    def declared_too_small(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        data = self.rng.randbytes(self.rng.randint(2, 64 << 10)) * self.rng.randint(1, 4)
        declared = self.rng.randint(1, len(data) - 1)
        blob = frames.zstd_declaring(data, declared) if codec == "zstd" else frames.lz4_declaring(data, declared)
        self._job(
            f"{codec} frame of {len(data)} bytes declaring {declared}",
            blob,
            codec,
            ("corrupt_frame",),
            ("corrupt_frame",),
        )

    def cut_short(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        data = self.rng.randbytes(self.rng.randint(1024, 256 << 10))
        declare = self.rng.random() < 0.5
        blob = frames.zstd_frame(data, declare=declare) if codec == "zstd" else frames.lz4_frame(data, declare=declare)
        cut = self.rng.randint(1, len(blob) - 1)
        self._job(f"{codec} frame of {len(blob)} bytes cut at {cut}", blob[:cut], codec, CUT, CUT)

    # inline tasks ----------------------------------------------------------------------------
    def _task(self, what: str, data: bytes, codec: str, expected: tuple[str, ...]) -> None:
        via = self.rng.choice(("http", "grpc", "block"))
        if via == "http":
            answer = self.client.http_call(
                "POST",
                "/api/v1/tasks",
                {"kind": "decompress", "data": base64.b64encode(data).decode(), "params": {"codec": codec}},
            )
        elif via == "grpc":
            answer = self.client.grpc_call(
                self.client.agents.DispatchTask,
                pb.DispatchTaskRequest(kind=pb.TASK_KIND_DECOMPRESS, data=data, params=pb.TaskParams(codec=codec)),
            )
        else:
            answer = self.client.grpc_call(
                self.client.blocks.Process,
                pb.BlockRequest(kind=pb.TASK_KIND_DECOMPRESS, data=data, params=pb.TaskParams(codec=codec)),
            )
            if answer.status == "OK" and answer.job.get("error_code"):  # in-band, as streams answer
                answer = Answer("in-band", answer.job["error_code"])
        judge(self.report, f"inline {what} ({via})", answer, expected, self.client)

    def inline_bomb(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        size = self.slot * self.rng.randint(2, 64) + self.rng.randint(0, 4096)
        declare = self.rng.random() < 0.5
        maker: Callable[..., bytes] = frames.zstd_frame if codec == "zstd" else frames.lz4_frame
        self._task(
            f"{codec} bomb of {size} bytes (declared: {declare})",
            maker(bytes(size), declare=declare),
            codec,
            ("too_large",),
        )

    def inline_forged(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        data = self.rng.randbytes(self.rng.randint(2, 32 << 10))
        forge = frames.zstd_declaring if codec == "zstd" else frames.lz4_declaring
        if self.rng.random() < 0.5:  # past the slot: refused on the header (zstd) or when the frame ends short (lz4)
            size = self.rng.choice((self.slot + 1, 1 << 40, (1 << 64) - (2 if codec == "zstd" else 1)))
            self._task(
                f"{codec} frame declaring {size} bytes", forge(data, size), codec, ("too_large", "corrupt_input")
            )
        else:
            size = self.rng.randint(1, len(data) - 1)
            self._task(
                f"{codec} frame of {len(data)} declaring {size}",
                forge(data, size),
                codec,
                ("corrupt_input", "too_large"),
            )

    def inline_garbage(self) -> None:
        codec = self.rng.choice(("zstd", "lz4"))
        if self.rng.random() < 0.5:
            data = self.rng.randbytes(self.rng.randint(1, 4096))
        else:
            whole = (frames.zstd_frame if codec == "zstd" else frames.lz4_frame)(self.rng.randbytes(8192))
            data = whole[: self.rng.randint(1, len(whole) - 1)]
        self._task(f"{codec} garbage or cut frame of {len(data)} bytes", data, codec, ("corrupt_input",))

    def families(self) -> list[Callable[[], None]]:
        files = [
            self.declared_over_cap,
            self.many_frames_over_cap,
            self.stream_over_cap,
            self.declared_too_small,
            self.cut_short,
        ]
        return [*files, self.inline_bomb, self.inline_bomb, self.inline_forged, self.inline_garbage]


def fuzz_bombs(
    client: NasClient, root: Path, *, cap: int, slot: int, cases: int, seconds: float, seed: int = 0
) -> SurfaceReport:
    report = SurfaceReport("bombs")
    bombs = Bombs(client, root, cap, slot, report, random.Random(seed))
    run_families(report, bombs.families(), cases=cases, seconds=seconds)
    return report
