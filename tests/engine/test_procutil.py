"""engine/procutil.py: the heap trim the frontend runs once a minute."""

from __future__ import annotations

import sys
import threading

import pytest

from engine.procutil import trim_heap


def rss_anon_mib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("RssAnon:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RssAnon and malloc_trim are Linux/glibc's")
def test_trim_gives_back_a_fragmented_thread_arena() -> None:
    """A thread's arena with a few live blocks scattered through it cannot shrink from its top, so
    glibc keeps every freed page; malloc_trim hands them back (80 MiB churned, 1/16 of it kept)."""
    kept: list[bytearray] = []

    def churn() -> None:
        blocks = [bytearray(4000) for _ in range(20000)]
        kept.extend(blocks[::16])

    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()
    before = rss_anon_mib()
    trim_heap()
    assert rss_anon_mib() < before - 40, "malloc_trim gave back less than half of the freed 75 MiB"
    assert len(kept) == 1250
