"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

import psutil
import uvloop

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Iterator

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run a coroutine on a fresh uvloop loop, bounded in time so a hang fails instead of stalling CI."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return uvloop.run(bounded())


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


async def async_wait_until(predicate: Callable[[], bool | Awaitable[bool]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.005)
    return False


def is_browser(process: psutil.Process) -> bool:
    """Chromium and its driver (tests/browser.py): the browser starts and ends renderer and utility
    processes as it likes while one driver session lasts; the session's fixture checks they are all
    gone when it quits."""
    return process.name().startswith(("chromium", "chromedriver", "chrome_crashpad"))


def live_children() -> list[psutil.Process]:
    """Our descendants, minus multiprocessing's resource tracker (one per test session by design)
    and the browser of the dashboard tests (see is_browser)."""
    out = []
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            if any("resource_tracker" in part for part in child.cmdline()) or is_browser(child):
                continue
        except psutil.NoSuchProcess:
            continue
        out.append(child)
    return out


@contextlib.contextmanager
def flipping(flip: Callable[[], None]) -> Iterator[list[int]]:
    """Run ``flip`` in a loop on a thread until the block ends (the races against path resolution);
    yields the flip count, and raises what the thread raised."""
    stop, count, errors = threading.Event(), [0], []

    def loop() -> None:
        try:
            while not stop.is_set():
                flip()
                count[0] += 1
        except BaseException as exc:  # reported by the test, never a silent dead thread
            errors.append(exc)

    thread = threading.Thread(target=loop, name="flipper")
    thread.start()
    try:
        yield count
    finally:
        stop.set()
        thread.join(10)
    assert not errors, errors
