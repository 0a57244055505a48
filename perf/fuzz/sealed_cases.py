"""Truncated and tampered ciphertext: sealed files damaged every way, decrypted and re-wrapped (surface ``sealed``).

The engine seals two sources of a few blocks each (plain, and compress-then-seal) through its own
encrypt jobs, then every case damages a copy (docs/FORMATS.md, "Sealed files"): a byte flipped in
the header or in a record, the file cut at a random byte, two records swapped, one record repeated
over another, a record spliced in from the other file, a record dropped, bytes appended, only the
header left. Each copy is decrypted (HTTP or gRPC, into a directory that must stay empty) and, for
header damage, also re-wrapped in place after a key rotation, so the old key must open the header (the
file must come back unchanged). No damaged file may decrypt: the job is refused or fails with a code
naming the damage, and nothing is written.
"""

from __future__ import annotations

import random
import struct
from typing import TYPE_CHECKING

from perf.fuzz.nas import NasClient, judge, listing, nothing_written, run_families
from perf.fuzz.report import SurfaceReport
from perf.load import payloads

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

HEADER_CODES = (
    "header_tampered",
    "not_sealed",
    "unsupported_version",
    "unsupported_suite",
    "wrong_key",
    "unknown_key",
    "truncated",
    "blocks_too_large",
    "trailing_data",
    "corrupt_block",
    "invalid_argument",
)
BLOCK_CODES = ("block_tampered", "blocks_reordered", "truncated", "trailing_data", "corrupt_block", "block_auth")


class Sealed:
    """One sealed file's bytes and where its records are."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.header_bytes = struct.unpack_from(">I", blob, 8)[0]
        self.compressed = bool(blob[7] & 1)
        block_bytes, original = struct.unpack_from(">IQ", blob, 20)
        self.records: list[tuple[int, int]] = []  # (offset, length) of each record
        pos = self.header_bytes
        for i in range(max(1, -(-original // block_bytes))):
            if self.compressed:
                length = 4 + struct.unpack_from(">I", blob, pos)[0]
            else:
                length = min(block_bytes, original - i * block_bytes) + 16
            self.records.append((pos, length))
            pos += length

    def record(self, i: int) -> bytes:
        offset, length = self.records[i]
        return self.blob[offset : offset + length]

    def with_records(self, records: list[bytes]) -> bytes:
        return self.blob[: self.header_bytes] + b"".join(records)


class Damage:
    def __init__(self, client: NasClient, root: Path, report: SurfaceReport, rng: random.Random) -> None:
        self.client, self.report, self.rng = client, report, rng
        self.work, self.out = root / "sealed-in", root / "sealed-out"
        self.work.mkdir(exist_ok=True)
        self.out.mkdir(exist_ok=True)
        self.files: list[Sealed] = []
        self.n = 0

    def prepare(self, block_bytes: int) -> None:
        """Two sources sealed by the engine, each way (plain and compressed): four files to damage."""
        for compress in (False, True):
            for seed in (1, 2):
                plain = self.work / f"plain-{seed}.bin"
                plain.write_bytes(payloads.mixed(block_bytes * 4 + 1234 * seed, seed))
                sealed = self.work / f"good-{seed}-{int(compress)}.sv"
                answer = self.client.start_job(
                    {
                        "operation": "encrypt",
                        "source": str(plain),
                        "destination": str(sealed),
                        "compress": compress,
                        "overwrite": True,
                    }
                )
                job = self.client.wait_job(str(answer.job.get("id", "")))
                if job.get("state") != "done":
                    raise RuntimeError(f"sealing the fuzzer's sources failed: {answer.label} {job}")
                self.files.append(Sealed(sealed.read_bytes()))
        # a new current key: re-wrapping the damaged copies must open their headers with the old one
        rotated = self.client.http_call("POST", "/api/v1/encryption/rotate", {})
        if rotated.status != "200":
            raise RuntimeError(f"rotating the key failed: {rotated.label} {rotated.message}")

    def _pick(self) -> tuple[int, Sealed]:
        index = self.rng.randrange(len(self.files))
        return index, self.files[index]

    def _case(self, what: str, blob: bytes, codes: tuple[str, ...], *, rewrap: bool = False) -> None:
        self.n += 1
        path = self.work / f"case{self.n}.sv"
        path.write_bytes(blob)
        before = listing(self.out)
        via = self.rng.choice(("http", "grpc"))
        body = {"operation": "decrypt", "source": str(path), "destination": str(self.out / f"case{self.n}")}
        judge(
            self.report,
            f"decrypt {what} ({via})",
            self.client.start_job(body, via),
            codes,
            self.client,
            job_codes=codes,
        )
        nothing_written(self.report, f"decrypt {what}", before, listing(self.out))
        if rewrap:
            answer = self.client.start_job({"operation": "rewrap", "source": str(path)}, via)
            judge(
                self.report,
                f"rewrap {what} ({via})",
                answer,
                codes,
                self.client,
                job_codes=(*codes, "rewrap_incomplete"),
            )
            if path.read_bytes() != blob:
                self.report.fail(f"rewrap {what}: the damaged file was changed")
        path.unlink()

    def flip_header(self) -> None:
        _, f = self._pick()
        at = self.rng.randrange(f.header_bytes)
        blob = bytearray(f.blob)
        blob[at] ^= 1 << self.rng.randrange(8)
        self._case(f"header byte {at} flipped", bytes(blob), HEADER_CODES, rewrap=self.rng.random() < 0.3)

    def flip_record(self) -> None:
        _, f = self._pick()
        at = self.rng.randrange(f.header_bytes, len(f.blob))
        blob = bytearray(f.blob)
        blob[at] ^= 1 << self.rng.randrange(8)
        self._case(f"record byte {at} of {len(f.blob)} flipped", bytes(blob), BLOCK_CODES)

    def cut(self) -> None:
        _, f = self._pick()
        at = self.rng.randrange(0, len(f.blob))
        self._case(f"cut at {at} of {len(f.blob)}", f.blob[:at], (*HEADER_CODES, *BLOCK_CODES))

    def swap(self) -> None:
        _, f = self._pick()
        records = [f.record(i) for i in range(len(f.records))]
        i, j = self.rng.sample(range(len(records) - 1), 2)  # the last record is shorter: keep it in place
        records[i], records[j] = records[j], records[i]
        self._case(f"records {i} and {j} swapped", f.with_records(records), BLOCK_CODES)

    def repeat(self) -> None:
        _, f = self._pick()
        records = [f.record(i) for i in range(len(f.records))]
        i, j = self.rng.sample(range(len(records) - 1), 2)
        records[j] = records[i]
        self._case(f"record {i} repeated at {j}", f.with_records(records), BLOCK_CODES)

    def splice(self) -> None:
        index, f = self._pick()
        other = self.files[index ^ 1]  # the same way sealed, another file (its own key and file id)
        i = self.rng.randrange(min(len(f.records), len(other.records)) - 1)
        records = [f.record(k) for k in range(len(f.records))]
        records[i] = other.record(i)
        self._case(f"record {i} spliced from another file", f.with_records(records), BLOCK_CODES)

    def drop(self) -> None:
        _, f = self._pick()
        records = [f.record(i) for i in range(len(f.records))]
        i = self.rng.randrange(len(records))
        del records[i]
        self._case(f"record {i} dropped", f.with_records(records), BLOCK_CODES)

    def append(self) -> None:
        _, f = self._pick()
        extra = self.rng.randbytes(self.rng.choice((1, 16, 100, 5000)))
        self._case(f"{len(extra)} bytes appended", f.blob + extra, ("trailing_data", *BLOCK_CODES))

    def families(self) -> list[Callable[[], None]]:
        return [
            self.flip_header,
            self.flip_record,
            self.flip_record,
            self.cut,
            self.swap,
            self.repeat,
            self.splice,
            self.drop,
            self.append,
        ]


def fuzz_sealed(
    client: NasClient, root: Path, *, block_bytes: int, cases: int, seconds: float, seed: int = 0
) -> SurfaceReport:
    report = SurfaceReport("sealed")
    damage = Damage(client, root, report, random.Random(seed))
    damage.prepare(block_bytes)
    run_families(report, damage.families(), cases=cases, seconds=seconds)
    return report
