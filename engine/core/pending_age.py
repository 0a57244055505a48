"""How long the oldest task in flight has waited, known at no cost on the task path.

Request ids grow by one per task, so the client needs no timestamp per task: at every refresh of
its table row (every 100 ms) it notes ``(next request id, now)``. The oldest pending task R was
sent before the first noted refresh whose next id is above R, so it has been in flight at least
since that refresh. The answer is a lower bound, exact to one refresh interval; marks from before
R was sent are dropped, and at most ``MAX_MARKS`` are kept (dropping more only makes the bound
lower, never wrong).
"""

from __future__ import annotations

from collections import deque

MAX_MARKS = 3000  # 5 minutes of 100 ms refreshes; a task stuck longer is reported as stuck that long


class PendingAge:
    def __init__(self, max_marks: int = MAX_MARKS) -> None:
        self._marks: deque[tuple[int, int]] = deque(maxlen=max_marks)

    def observe(self, next_id: int, oldest_req_id: int | None, now_ns: int) -> int:
        """Note a refresh; the time the oldest pending task has been in flight since at least
        (0 when nothing is pending). ``next_id``: the id the next task will get."""
        marks = self._marks
        marks.append((next_id, now_ns))
        if oldest_req_id is None:
            while len(marks) > 1:
                marks.popleft()
            return 0
        while len(marks) > 1 and marks[0][0] <= oldest_req_id:
            marks.popleft()
        return marks[0][1]
