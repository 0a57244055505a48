"""A running engine's control segment, mapped read-only from /dev/shm (for inspectors: never writes).

Maps the file with mmap(PROT_READ) instead of multiprocessing.shared_memory, so there is no
resource tracker that could unlink the segment on exit; checks the transport's and the tables'
magic and version before reading anything.
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.core.tables import MetricsTable
from ipc.errors import LayoutMismatch
from ipc.layout import CTL_MAGIC, HEADER_DTYPE, LAYOUT_VERSION, ControlLayout
from ipc.ring import RingState, SpscRing
from ipc.segment import SHM_DIR, engine_segments, segment_owner, stale_segments

if TYPE_CHECKING:
    from types import TracebackType


def control_segments() -> list[str]:
    """Names of every engine control segment in /dev/shm (alive or stale)."""
    return [name for name in engine_segments() if name.endswith("_ctl")]


def running_engines() -> list[str]:
    """Control segments whose owner process is alive (a running engine's), oldest owner pid first."""
    stale = set(stale_segments())
    return [name for name in control_segments() if name not in stale]


class AttachedEngine:
    """``with AttachedEngine(name) as eng``: ``eng.header``, ``eng.table``, ``eng.rings[w]`` (sub, comp)."""

    _mmap: mmap.mmap | None = None
    _buf: memoryview | None = None
    table: MetricsTable | None = None

    def __init__(self, name: str) -> None:
        self.name = name
        self.owner_pid = segment_owner(name)
        with (Path(SHM_DIR) / name).open("rb") as f:
            self._mmap = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        try:
            self._buf = buf = memoryview(self._mmap)
            head = np.ndarray((), dtype=HEADER_DTYPE, buffer=buf)
            self.header: dict[str, Any] = {
                k: int(head[k])
                for k in (
                    "magic",
                    "version",
                    "n_workers",
                    "n_slots",
                    "slot_bytes",
                    "ring_capacity",
                    "tables_offset",
                    "tables_bytes",
                    "created_ns",
                    "client_sleeping",
                )
            }
            del head
            if self.header["magic"] != CTL_MAGIC:
                raise LayoutMismatch("control segment magic", CTL_MAGIC, self.header["magic"])
            if self.header["version"] != LAYOUT_VERSION:
                raise LayoutMismatch("control segment version", LAYOUT_VERSION, self.header["version"])
            h = self.header
            self.layout = ControlLayout(h["n_workers"], h["ring_capacity"], h["tables_bytes"])
            with buf[h["tables_offset"] : h["tables_offset"] + h["tables_bytes"]] as region:
                # the table keeps its own views of the region; this one is released on the way out, so
                # a refused version leaves nothing exported that would stop close()
                self.table = MetricsTable.attach(region)
            self.rings = [
                (
                    SpscRing(buf, self.layout.submission_ring_offset(w), h["ring_capacity"], init=False),
                    SpscRing(buf, self.layout.completion_ring_offset(w), h["ring_capacity"], init=False),
                )
                for w in range(h["n_workers"])
            ]
        except BaseException:
            self.close()
            raise

    def ring_occupancy(self) -> list[tuple[int, int]]:
        return [(len(sub), len(comp)) for sub, comp in self.rings]

    def ring_states(self) -> list[tuple[RingState, RingState]]:
        """Per worker: its submission ring's and its completion ring's head, tail and flags."""
        return [(sub.state(), comp.state()) for sub, comp in self.rings]

    def close(self) -> None:
        for pair in getattr(self, "rings", []):
            for ring in pair:
                ring.release()
        self.rings = []
        if self.table is not None:
            self.table.release()
            self.table = None
        if self._buf is not None:
            self._buf.release()
            self._buf = None
        if self._mmap is not None:
            self._mmap.close()
            self._mmap = None

    def __enter__(self) -> AttachedEngine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
