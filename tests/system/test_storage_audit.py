"""Destructive storage calls leave a trace (issue 16): a pool created, a snapshot rolled back and the
pool destroyed on a loop device through a real ``engined serve`` with an API token, each found in
GET /api/v1/audit with its caller, peer, target and result, the refused and unconfirmed ones with
their error code, and in the engine's log."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.served import start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.served import Served

pytestmark = [pytest.mark.system, pytest.mark.multiprocess]
TOKEN = secrets.token_hex(32)


@pytest.fixture
def engine(loop_devices: Callable[[int, int], list[str]], tmp_path: Path) -> Iterator[Served]:
    """Stops before ``loop_devices`` unmounts and detaches (it is set up first, torn down last)."""
    workdir = tmp_path / "engine"
    workdir.mkdir()
    served = start_served(workdir, SIGMAVAULT_POOL_ROOT=str(tmp_path / "pools"), SIGMAVAULT_API_TOKEN=TOKEN)
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()


def test_a_pool_destroy_and_a_rollback_leave_a_trace(engine: Served, loop_devices: Any, pool_name: str) -> None:
    (device,) = loop_devices(1, 256)
    pool = f"/api/v1/storage/pools/{pool_name}"
    with httpx.Client(base_url=engine.http, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as http:

        def call(method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
            answer = http.request(method, path, **kwargs)
            assert answer.status_code == status, (method, path, answer.text)
            return answer.json()

        call("POST", "/api/v1/storage/pools", json={"name": pool_name, "devices": [device]})
        volume = call("POST", f"{pool}/volumes", json={"volume": "docs"})
        (Path(volume["path"]) / "report.txt").write_bytes(b"version one")
        call("POST", f"{pool}/volumes/docs/snapshots", json={"snapshot": "before"})
        call("POST", f"{pool}/volumes/docs/snapshots/before/rollback", json={"confirm": "docs"})
        refused = httpx.delete(f"{engine.http}{pool}", params={"confirm": pool_name}, timeout=60)  # no token
        assert refused.status_code == 401
        call("DELETE", pool, 400, params={"confirm": "not-" + pool_name})
        call("DELETE", pool, params={"confirm": pool_name})
        entries = call("GET", "/api/v1/audit", params={"limit": 1000})["entries"]

    assert [(e["call"], e["target"], e["result"]) for e in reversed(entries)] == [
        ("storage.CreatePool", f"name={pool_name}", "ok"),
        ("storage.CreateVolume", f"pool={pool_name} volume=docs", "ok"),
        ("storage.CreateSnapshot", f"pool={pool_name} volume=docs snapshot=before", "ok"),
        ("storage.RollbackVolume", f"pool={pool_name} volume=docs snapshot=before", "ok"),
        ("storage.DestroyPool", f"pool={pool_name}", "unauthenticated"),  # refused before its handler: the same field
        ("storage.DestroyPool", f"pool={pool_name}", "confirmation_required"),
        ("storage.DestroyPool", f"pool={pool_name}", "ok"),
    ]
    for entry in entries:
        assert entry["caller"] and entry["peer"] == "127.0.0.1" and entry["transport"] == "http", entry
    log = [line for line in engine.output().splitlines() if "sigmavault.audit:" in line]
    assert any(f"storage.DestroyPool pool={pool_name} result=ok status=200" in line for line in log), log
    assert TOKEN not in engine.output()
