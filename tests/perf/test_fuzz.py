"""Short runs of the fuzzers of ``python -m perf fuzz`` against a real ``engined serve`` with an API
token, as the perf command runs them (perf/fuzz/cli.py), and the command itself at its smallest.

Each surface must come back with no failure, no hang and a healthy engine; at the end the engine
must stop cleanly with no traceback in its log. The long runs (1,000+ cases a surface) are the
perf command's; these stay around 40 s together.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest

pytest.importorskip("schemathesis", reason="the test extra (schemathesis) is not installed")

from perf.fuzz import auth_cases, cli
from perf.fuzz.grpc_cases import rpc_methods
from perf.fuzz.report import SurfaceReport
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.multiprocess
ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(32)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("fuzz")
    served = start_served(workdir, 30, **cli.engine_env(workdir, TOKEN))
    try:
        yield served
    finally:
        code = stop_served(served)
        log = served.output()
        assert code == 0, log
        assert "Traceback" not in log, log


def check(report: SurfaceReport, at_least: int) -> None:
    print(report.summary())
    assert report.failures == [], "\n".join(report.failures)
    assert report.ok
    assert report.cases >= at_least


def test_http_cases_from_openapi(served: Served) -> None:
    report = cli.run_surface("http", served, TOKEN, cases=250, seconds=20, seed=11)
    check(report, at_least=200)
    assert report.operations >= 20
    assert report.outcomes["400"] > 0 and report.outcomes["200"] > 0  # both invalid and valid input went in


def test_grpc_cases_from_descriptors(served: Served) -> None:
    report = cli.run_surface("grpc", served, TOKEN, cases=500, seconds=15, seed=11)
    check(report, at_least=400)
    assert report.operations == len(rpc_methods())
    assert report.outcomes["INVALID_ARGUMENT"] > 0 and report.outcomes["OK"] > 0


def test_websocket_garbage_floods_and_churn(served: Served) -> None:
    report = cli.run_surface("ws", served, TOKEN, cases=250, seconds=10, seed=11)
    check(report, at_least=250)
    assert report.outcomes["closed 1009"] > 0  # oversized frames were refused, not read
    assert report.outcomes["closed 1007"] == 1 and report.outcomes["churned"] == 1


@pytest.mark.parametrize(("surface", "cases"), [("bombs", 60), ("sealed", 60), ("paths", 200), ("storage", 50)])
def test_nas_surfaces(served: Served, surface: str, cases: int) -> None:
    """Bad input of the NAS domains, each case refused (or its job failed) with the code of its damage and
    nothing written; the long runs are ``python -m perf fuzz --surface bombs,sealed,paths,storage,wsflood``."""
    report = cli.run_surface(surface, served, TOKEN, cases=cases, seconds=20, seed=11)
    check(report, at_least=cases)
    if surface in ("bombs", "sealed"):  # (a path case may name a file a job can use: it runs)
        assert "job done" not in report.outcomes  # no bomb expanded, no damaged file decrypted


def test_subscribers_that_never_read(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from perf.fuzz import ws_flood

    original = ws_flood.fuzz_ws_flood

    def smaller(url: str, **kwargs: object) -> object:
        return original(url, **{**kwargs, "connections": 16, "messages": 50, "hold_s": 3.0})  # type: ignore[arg-type]

    monkeypatch.setattr(ws_flood, "fuzz_ws_flood", smaller)
    report = cli.run_surface("wsflood", served, TOKEN, cases=0, seconds=3, seed=11)
    check(report, at_least=16 * 51)
    assert report.outcomes["served after"] == 1


def test_auth_surface_admits_no_call_it_should_not(served: Served) -> None:
    """Every route and RPC without a credential, with wrong ones and with a read-only token: 0 wrongly
    admitted (the long run is ``python -m perf fuzz --surface auth``)."""
    report = cli.run_surface("auth", served, TOKEN, cases=400, seconds=30, seed=11)
    check(report, at_least=400)
    assert report.outcomes["401 none"] and report.outcomes["PERMISSION_DENIED read"], report.outcomes


def test_auth_verdicts_catch_a_wrong_admission() -> None:
    """The oracle itself: an answer that lets a wrong credential in, or a read token change state, fails."""
    none, read = auth_cases.Credential(auth_cases.NONE, None), auth_cases.Credential(auth_cases.READ, "Bearer x")
    verdict = auth_cases._http_verdict
    assert verdict("GET /api/v1/agents", "GET", "/api/v1/agents", none, 200)
    assert verdict("DELETE /api/v1/storage/pools/{name}", "DELETE", "/api/v1/storage/pools/{name}", read, 404)
    assert verdict("GET /api/v1/audit", "GET", "/api/v1/audit", read, 200)
    assert verdict("GET /api/v1/agents", "GET", "/api/v1/agents", read, 200) is None
    assert verdict("GET /healthz", "GET", "/healthz", none, 200) is None
    grpc_verdict = auth_cases._grpc_verdict
    assert grpc_verdict("/sigmavault.v1.StorageService/DestroyPool", read, grpc.StatusCode.NOT_FOUND)
    assert grpc_verdict("/sigmavault.v1.StorageService/ListPools", none, grpc.StatusCode.OK)
    assert grpc_verdict("/sigmavault.v1.StorageService/ListPools", read, grpc.StatusCode.OK) is None


def test_rpc_methods_cover_every_service_the_server_registers() -> None:
    from frontends.grpc_api.server import SERVICE_NAMES

    services = {m.path.split("/")[1] for m in rpc_methods()}
    assert set(SERVICE_NAMES) <= services
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= services


def test_perf_fuzz_command_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "perf",
            "fuzz",
            "--cases",
            "30",
            "--seconds",
            "5",
            "--surface",
            "grpc,ws",
            "--json",
            str(out),
            "--exclude",
            "/sigmavault.v1.AgentService/Drain",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "grpc" in done.stdout and "websocket" in done.stdout and "0 tracebacks" in done.stdout
    grpc_report = json.loads(out.read_text())["reports"][0]
    assert grpc_report["surface"] == "grpc" and grpc_report["operations"] == len(rpc_methods()) - 1
    bad = subprocess.run(
        [sys.executable, "-m", "perf", "fuzz", "--surface", "smtp"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown surface" in bad.stderr
