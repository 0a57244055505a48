"""engine/core/pending_age.py: the oldest pending task's age from refresh marks, always a lower bound."""

from __future__ import annotations

from engine.core.pending_age import PendingAge


def test_age_counts_from_the_first_refresh_after_the_task_was_sent() -> None:
    age = PendingAge()
    assert age.observe(next_id=5, oldest_req_id=None, now_ns=100) == 0
    # tasks 5..9 sent between the refreshes at 100 and 200; 5 still pending
    assert age.observe(next_id=10, oldest_req_id=5, now_ns=200) == 200
    assert age.observe(next_id=12, oldest_req_id=5, now_ns=300) == 200  # still since 200
    # 5..9 answered; 10 (sent between 200 and 300) is now the oldest
    assert age.observe(next_id=12, oldest_req_id=10, now_ns=400) == 300
    assert age.observe(next_id=12, oldest_req_id=None, now_ns=500) == 0
    assert age.observe(next_id=14, oldest_req_id=12, now_ns=600) == 600


def test_bounded_marks_keep_a_lower_bound() -> None:
    age = PendingAge(max_marks=3)
    age.observe(next_id=2, oldest_req_id=None, now_ns=0)
    for step in range(1, 10):
        since = age.observe(next_id=2, oldest_req_id=1, now_ns=step * 100)
    assert since == 700  # the true "since" is 100 or earlier: the answer is later, never earlier
