"""Encrypt and decrypt files in the sealed format (docs/FORMATS.md), every worker at once.

The runner unwraps or makes the file's data key here; the workers get it in each input slot's
80-byte header (never a private key) and seal or open one block: SEAL_BLOCK writes the record to
append, OPEN_BLOCK the plaintext. Plain records have computable places, so they are written as soon
as they are ready; compress-then-encrypt records (their length varies) are appended in block order.
A block that does not authenticate is explained (reordered, or altered/spliced) before the job fails.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.core.agents.params import encode_params, max_block_bytes, zstd_bound
from engine.core.agents.sealing import write_slot_header
from engine.core.codes import Kind, Status
from engine.errors import EngineError, InsufficientSpace, PayloadTooLarge, Unsupported, error_for_status
from engine.files.compress_job import blocks_of
from engine.files.errors import AuthenticationFailed, CorruptFile
from engine.files.jobrun import FileJobRun, SourceState, source_state
from engine.files.paths import check_free_space
from engine.files.runner import Block, write_full
from engine.files.sealed import (
    LENGTH,
    TAG_BYTES,
    DataKey,
    SealedHeader,
    explain_block_failure,
    iter_records,
    new_header,
    open_data_key,
    read_header,
)

if TYPE_CHECKING:
    from engine.files.jobrun import FileEnv, FileJobSpec
    from engine.jobs.manager import JobContext
    from engine.keys.keystore import Keystore
    from engine.keys.service import KeyService

HEADER_BYTES = 1244  # this suite's header (docs/FORMATS.md), for the free-space estimate


class _BlockWork:
    """SEAL_BLOCK or OPEN_BLOCK for one file: its header and data key go into every input slot."""

    def __init__(self, kind: Kind, param: int, header: SealedHeader, key: DataKey) -> None:
        self.kind, self.param, self.header, self.key = kind, param, header, key
        self.last = header.n_blocks - 1

    def prepare(self, block: Block, slot: memoryview) -> int:
        plain = block.expect if self.kind is Kind.OPEN_BLOCK else 0
        h = self.header
        return write_slot_header(
            slot, self.key, h.file_id, h.nonce_prefix, block.number, block.number == self.last, plain
        )

    def accept(self, block: Block, out: memoryview) -> None:
        pass

    def failure(self, block: Block, status: Status) -> EngineError:
        i = block.number
        if status is Status.AUTH_FAILED:
            return AuthenticationFailed(f"block {i} does not authenticate", code="block_auth", metadata={"position": i})
        if status in (Status.CORRUPT_INPUT, Status.TOO_LARGE) and self.kind is Kind.OPEN_BLOCK:
            return CorruptFile(
                f"block {i} at offset {block.src_offset} is malformed (its record or its zstd frame "
                f"does not hold the {block.expect} bytes the header promises)",
                code="corrupt_block",
                metadata={"position": i},
            )
        return error_for_status(status, f"{self.kind.label} of block {i}")


def plan_encrypt(env: FileEnv, spec: FileJobSpec) -> tuple[SourceState, int]:
    state = source_state(spec.source)
    n, b = max(1, -(-state.size // env.block_bytes)), env.block_bytes
    needed = HEADER_BYTES + (n * (4 + zstd_bound(b) + TAG_BYTES) if spec.compress else state.size + TAG_BYTES * n)
    check_free_space(spec.destination.dir_fd, needed, f"encrypting {state.size} bytes", spec.destination.directory)
    return state, needed


async def run_encrypt(env: FileEnv, ctx: JobContext, spec: FileJobSpec, state: SourceState) -> dict[str, Any]:
    store = await env.keys.store()
    recipient = store.current.recipient
    b = env.block_bytes
    header, key = await asyncio.to_thread(
        new_header, recipient, original_bytes=state.size, block_bytes=b, compressed=spec.compress
    )
    codec = {"codec": "zstd", "level": spec.level} if spec.compress else {"codec": "none"}
    work = _BlockWork(Kind.SEAL_BLOCK, encode_params(Kind.SEAL_BLOCK, codec), header, key)
    async with FileJobRun(env, ctx, spec, state, private=True) as job:
        head = header.to_bytes()
        await env.io.call(write_full, job.out_fd, memoryview(head), 0)
        blocks = blocks_of(state.size, b, placed=None if spec.compress else b + TAG_BYTES)
        if not spec.compress:  # a plain record is exactly its block and a tag
            blocks = (blk._replace(expect=blk.src_bytes + TAG_BYTES) for blk in blocks)
        stats = await env.runner.run(
            work,
            blocks,
            src_fd=job.src_fd,
            out_fd=job.out_fd,
            base=len(head),
            ordered=spec.compress,
            progress=job.progress,
        )
        result = await job.commit(
            bytes_out=len(head) + stats.bytes_out,
            blocks=stats.blocks,
            blocks_resent=stats.resent,
            key_id=recipient.key_id.hex(),
            format="sealed v1, zstd blocks" if spec.compress else "sealed v1",
        )
    env.keys.counters.files_sealed += 1
    env.keys.counters.bytes_sealed += state.size
    env.keys.record_sealed(spec.destination.path, recipient.key_id)  # for key retirement (engine/keys/sealed_index.py)
    return result


@dataclass(frozen=True)
class DecryptPlan:
    state: SourceState
    header: SealedHeader


def plan_decrypt(env: FileEnv, spec: FileJobSpec) -> DecryptPlan:
    state = source_state(spec.source)
    header = read_header(spec.source.fd)
    codec = "zstd" if header.compressed else "none"
    if header.block_bytes > max_block_bytes(Kind.OPEN_BLOCK, env.slot_bytes, codec):
        raise Unsupported(
            f"the file's blocks of {header.block_bytes} bytes do not fit this engine's slots "
            f"(SIGMAVAULT_SLOT_BYTES={env.slot_bytes}); tools/sv_decrypt.py opens it",
            code="blocks_too_large",
        )
    try:
        cap = env.config.job_max_output_bytes
        if cap and header.original_bytes > cap:
            raise PayloadTooLarge(
                f"the file holds {header.original_bytes} bytes, over the {cap}-byte limit "
                "(SIGMAVAULT_JOB_MAX_OUTPUT_BYTES)",
                code="too_large",
                metadata={"limit": cap},
            )
        check_free_space(
            spec.destination.dir_fd,
            header.original_bytes,
            f"decrypting {os.path.basename(spec.source.path)}",
            spec.destination.directory,
        )
    except (PayloadTooLarge, InsufficientSpace):
        # the size is the header's word, not yet authenticated: a flipped bit in it would be refused as
        # too large, hiding the damage. Open the data key first (this runs in a thread: the job's planning)
        open_header(env.keys, env.keys.opened_store(), header)
        raise
    return DecryptPlan(state, header)


def open_header(keys: KeyService, store: Keystore, header: SealedHeader) -> DataKey:
    """The file's data key (run in a thread: unlocking a passphrase-sealed key runs scrypt); raises
    unknown_key for a key this box does not hold, header_tampered (counted) if the header was altered."""
    pair = store.get(header.key_id)
    try:
        return open_data_key(header, pair.private_key, pair.key_id)
    except AuthenticationFailed:
        keys.counters.file_auth_failures += 1
        raise


async def run_decrypt(env: FileEnv, ctx: JobContext, spec: FileJobSpec, p: DecryptPlan) -> dict[str, Any]:
    header, keys = p.header, env.keys
    key = await asyncio.to_thread(open_header, keys, await keys.store(), header)
    work = _BlockWork(
        Kind.OPEN_BLOCK, encode_params(Kind.OPEN_BLOCK, {"codec": "zstd" if header.compressed else "none"}), header, key
    )
    async with FileJobRun(env, ctx, spec, p.state, private=True) as job:
        records = await env.io.call(lambda: list(iter_records(job.src_fd, header, p.state.size)))
        b = header.block_bytes
        blocks = (Block(r.index, r.offset, r.length, r.index * b, r.plain_bytes) for r in records)
        try:
            stats = await env.runner.run(
                work, blocks, src_fd=job.src_fd, out_fd=job.out_fd, ordered=False, progress=job.progress
            )
        except AuthenticationFailed as exc:
            keys.counters.file_auth_failures += 1
            if exc.code != "block_auth":
                raise
            record = records[int(exc.metadata["position"])]
            raise await env.io.call(
                _explain, job.src_fd, key, header, record.index, record.offset, record.length
            ) from None
        result = await job.commit(
            bytes_out=header.original_bytes,
            blocks=stats.blocks,
            blocks_resent=stats.resent,
            key_id=header.key_id.hex(),
            format="sealed v1, zstd blocks" if header.compressed else "sealed v1",
        )
    keys.counters.files_opened += 1
    keys.counters.bytes_opened += header.original_bytes
    keys.record_sealed(spec.source.path, header.key_id)
    return result


def _explain(
    fd: int, key: DataKey, header: SealedHeader, position: int, offset: int, length: int
) -> AuthenticationFailed:
    """Why the block at ``position`` failed: sealed for another position, or not with this file's key."""
    record = os.pread(fd, length, offset)
    return explain_block_failure(key, header, position, record[LENGTH.size :] if header.compressed else record)
