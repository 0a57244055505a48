"""The shared resources of one engine instance: two segments, the doorbells, the inline-task keys
and the key pipe (the frontend tells the supervisor of a rotated inline key through it, so that
workers it forks later start with the new key; engine/keys/engine_key_rotation.py).

Created once by the owner process (``engined serve``'s supervisor, or the embedding process),
inherited over fork by workers and the frontend, unlinked by the owner alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from typing import TYPE_CHECKING

import numpy as np

from engine.core.tables import KEY_GENERATION_WORD, MetricsTable, TableLayout
from engine.keys.engine_key import load_inline_keys
from ipc.doorbell import Doorbell
from ipc.errors import LayoutMismatch
from ipc.layout import CTL_MAGIC, HEADER_DTYPE, LAYOUT_VERSION, ControlLayout
from ipc.ring import SpscRing
from ipc.segment import create_segment, instance_prefix, reclaim_stale_segments

if TYPE_CHECKING:
    from multiprocessing import shared_memory

    from engine.config import EngineConfig

logger = logging.getLogger(__name__)


class EngineResources:
    ctl: shared_memory.SharedMemory | None = None
    arena: shared_memory.SharedMemory | None = None
    owner_pid: int = -1
    prefix: str = ""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.tables = TableLayout(config.workers, config.agents, config.history_len)
        self.layout = ControlLayout(config.workers, config.ring_capacity, self.tables.total_bytes)
        self.worker_bells: list[Doorbell] = []
        self.client_bell: Doorbell | None = None
        self.data_key = b""  # the inline ENCRYPT/DECRYPT key, and the one before the last rotation
        self.previous_key = b""
        self.key_pipe_r = self.key_pipe_w = -1

    @classmethod
    def create(cls, config: EngineConfig) -> EngineResources:
        reclaim_stale_segments()
        self = cls(config)
        inline = load_inline_keys(config.data_dir, config.key_passphrase_file or None)  # before fork: inherited
        self.data_key, self.previous_key = inline.current, inline.previous
        try:
            self.prefix = instance_prefix()
            self.ctl = create_segment(f"{self.prefix}_ctl", self.layout.total_bytes)
            self.owner_pid = os.getpid()
            self.arena = create_segment(f"{self.prefix}_arena", config.slots * config.slot_bytes)
            self._init_control()
            self.worker_bells = [Doorbell() for _ in range(config.workers)]
            self.client_bell = Doorbell()
            self.key_pipe_r, self.key_pipe_w = os.pipe2(os.O_CLOEXEC)
            os.set_blocking(self.key_pipe_r, False)
        except BaseException:
            self.close()
            self.unlink()
            raise
        return self

    @property
    def ctl_buf(self) -> memoryview:
        """The control segment's bytes (tables and rings)."""
        assert self.ctl is not None and self.ctl.buf is not None, "control segment is closed"
        return self.ctl.buf

    @property
    def arena_buf(self) -> memoryview:
        """The arena segment's bytes (data slots)."""
        assert self.arena is not None and self.arena.buf is not None, "arena segment is closed"
        return self.arena.buf

    @property
    def tables_region(self) -> memoryview:
        """The engine's part of the control segment (engine/core/tables.py), a fresh view each call."""
        start = self.layout.tables_offset
        return self.ctl_buf[start : start + self.layout.tables_bytes]

    def metrics_table(self) -> MetricsTable:
        """This process's views of the metric tables (release() them before close())."""
        return MetricsTable(self.tables_region, self.tables)

    def _init_control(self) -> None:
        cfg = self.config
        table = MetricsTable.create(self.tables_region, self.tables)
        assert table.words is not None
        table.words[KEY_GENERATION_WORD] = 1
        table.release()
        header = np.ndarray((), dtype=HEADER_DTYPE, buffer=self.ctl_buf)
        for name, value in (
            ("version", LAYOUT_VERSION),
            ("n_workers", cfg.workers),
            ("n_slots", cfg.slots),
            ("slot_bytes", cfg.slot_bytes),
            ("ring_capacity", cfg.ring_capacity),
            ("tables_offset", self.layout.tables_offset),
            ("tables_bytes", self.layout.tables_bytes),
            ("created_ns", time.time_ns()),
            ("magic", CTL_MAGIC),  # last: a reader that sees the magic sees a complete header
        ):
            header[name] = value
        del header
        self.reset_rings()

    def reset_rings(self) -> None:
        """Empty every ring. Only while no process uses them: at creation, or after the supervisor
        has reaped every worker and the frontend."""
        layout, capacity = self.layout, self.config.ring_capacity
        for w in range(self.config.workers):
            for offset in (layout.submission_ring_offset(w), layout.completion_ring_offset(w)):
                SpscRing(self.ctl_buf, offset, capacity, init=True).release()

    def check_layout(self) -> None:
        """Refuse a control segment written by another layout version (every process checks once)."""
        header = np.ndarray((), dtype=HEADER_DTYPE, buffer=self.ctl_buf)
        magic, version = int(header["magic"]), int(header["version"])
        del header
        if magic != CTL_MAGIC:
            raise LayoutMismatch("control segment magic", CTL_MAGIC, magic)
        if version != LAYOUT_VERSION:
            raise LayoutMismatch("control segment version", LAYOUT_VERSION, version)

    @property
    def segment_names(self) -> list[str]:
        return [s.name for s in (self.ctl, self.arena) if s is not None]

    def drop_for_worker(self, index: int) -> None:
        """In a forked worker: close what it never uses, the other workers' doorbells and both ends
        of the key pipe (its keys came with the fork; a rotation reaches it from the frontend)."""
        for i, bell in enumerate(self.worker_bells):
            if i != index:
                bell.close()
        self._close_key_pipe(read=True, write=True)

    def drop_for_frontend(self) -> None:
        """In the forked frontend: close the key pipe's read end (the supervisor's; the frontend writes)."""
        self._close_key_pipe(read=True, write=False)

    def _close_key_pipe(self, *, read: bool, write: bool) -> None:
        if read and self.key_pipe_r >= 0:
            os.close(self.key_pipe_r)
            self.key_pipe_r = -1
        if write and self.key_pipe_w >= 0:
            os.close(self.key_pipe_w)
            self.key_pipe_w = -1

    def close_fds(self) -> None:
        for bell in self.worker_bells:
            bell.close()
        if self.client_bell is not None:
            self.client_bell.close()
        self._close_key_pipe(read=True, write=True)

    def close(self) -> None:
        """Close this process's handles. Every view (rings, tables, arena) must be released first."""
        self.close_fds()
        for segment in (self.ctl, self.arena):
            if segment is not None:
                try:
                    segment.close()
                except BufferError:  # a view is still alive somewhere; unlink() still removes the name
                    logger.warning("segment %s still has live views; leaving its mapping to process exit", segment.name)

    def unlink(self) -> None:
        """Remove the segments' names (owner only; a forked child never unlinks)."""
        if os.getpid() != self.owner_pid:
            return
        for segment in (self.ctl, self.arena):
            if segment is not None:
                with contextlib.suppress(FileNotFoundError):
                    segment.unlink()
        self.owner_pid = -1
