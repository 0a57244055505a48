"""Snapshot schedules: validation, boundaries, persistence across a restart (no root needed)."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest

from engine.errors import InvalidArgument, NotFound
from engine.storage.schedules import Schedule, ScheduleStore

T0 = calendar.timegm((2026, 11, 29, 13, 20, 0, 0, 0, 0))  # 13:20 UTC


def test_boundaries_and_catch_up() -> None:
    hourly = Schedule(1, "tank", "docs", 3600, 24, created_unix=T0)
    assert hourly.next_run() == T0 + 40 * 60  # the next full hour
    hourly.last_run_unix = T0 + 40 * 60
    assert hourly.next_run() == T0 + 100 * 60
    hourly.last_run_unix = T0 - 5 * 86400  # the engine was down for days: one run is due now, not 120
    assert hourly.next_run() < T0
    daily = Schedule(2, "tank", "docs", 86400, 7, created_unix=T0)
    assert daily.next_run() == calendar.timegm((2026, 11, 30, 0, 0, 0, 0, 0, 0))


def test_store_persists_and_survives_a_restart(tmp_path: Path) -> None:
    store = ScheduleStore(tmp_path)
    hourly = store.add("tank", "docs", period="hourly", keep=24, now=T0)
    daily = store.add("tank", "media", period="daily", keep=7, now=T0)
    custom = store.add("tank", "docs", interval_s=900, keep=4, now=T0)
    assert [s.id for s in (hourly, daily, custom)] == [1, 2, 3]
    assert hourly.next_run_unix == T0 + 40 * 60 and custom.next_run_unix == T0 + 10 * 60
    store.update(1, last_run_unix=T0 + 2400, last_result="ok", last_snapshot="auto-1-20261129-140000")
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"

    restarted = ScheduleStore(tmp_path)  # a new engine process reads the same file
    listed = {s.id: s for s in restarted.list_schedules()}
    assert listed[1].last_snapshot == "auto-1-20261129-140000" and listed[1].next_run_unix == T0 + 6000
    restarted.update(2, enabled=False)
    assert ScheduleStore(tmp_path).list_schedules()[1].next_run_unix == 0.0
    restarted.remove(3)
    assert [s.id for s in ScheduleStore(tmp_path).list_schedules()] == [1, 2]
    with pytest.raises(NotFound):
        restarted.remove(3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "fortnightly", "keep": 3}, "period"),
        ({"interval_s": 10, "keep": 3}, "at least 60"),
        ({"period": "hourly", "keep": 0}, "keep"),
        ({"period": "hourly", "keep": 5000}, "keep"),
    ],
)
def test_store_refuses_bad_schedules(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ScheduleStore(tmp_path).add("tank", "docs", **kwargs)
    with pytest.raises(InvalidArgument):
        ScheduleStore(tmp_path).add("tank", "../etc", period="hourly", keep=1)
