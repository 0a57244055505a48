"""A full memory fence for the sleep/wake handshake.

The doorbell protocol is Dekker-shaped: the consumer stores ``sleeping=1`` then loads ``tail``;
the producer stores ``tail`` then loads ``sleeping``. Both need a store->load fence, which even x86
does not give for plain stores. Acquiring an uncontended lock is an atomic read-modify-write
(``lock cmpxchg`` on x86, acquire/release pairs on arm64), i.e. a full barrier, and costs ~60 ns
from Python - cheaper than any ctypes call.
"""

from __future__ import annotations

import threading

_fence_lock = threading.Lock()


def full_fence() -> None:
    _fence_lock.acquire()
    _fence_lock.release()
