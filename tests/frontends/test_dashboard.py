"""The dashboard's HTTP side (the page itself runs in tests/integration/test_dashboard_browser.py):
GET / and its files, their headers, /openapi.json's account of them, JSON errors everywhere else,
and the system.metrics event's live view the page draws."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jsonschema
import orjson
import pytest
from websockets.sync.client import connect

from frontends.http_api.dashboard import STATIC_DIR

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.served import Served

pytestmark = pytest.mark.multiprocess

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.http, headers=served.headers, timeout=10) as client:
        yield client


def test_page_and_its_files(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert http.head("/").status_code == 200
    linked = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert sorted(linked) == ["/static/app.css", "/static/app.js", "/static/icon.svg"]
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
    for path in sorted(f"/static/{p.name}" for p in STATIC_DIR.iterdir()):  # the page's modules import the rest
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith(types[Path(path).suffix]), answer.headers
        assert answer.headers["cache-control"] == "no-cache"  # revalidated: an upgrade is seen at once
        again = http.get(path, headers={"if-none-match": answer.headers["etag"]})
        assert again.status_code == 304


def test_everything_else_keeps_json_errors(http: httpx.Client) -> None:
    for path in ("/static/nope.js", "/static/../pyproject.toml", "/static/", "/api/v1/nope", "/nope"):
        answer = http.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found", path
    answer = http.post("/")
    assert answer.status_code == 405 and answer.json()["error"]["code"] == "method_not_allowed"


def test_openapi_describes_the_page_and_says_the_files_are_not_routes(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    page = document["paths"]["/"]
    assert list(page) == ["get"]
    assert page["get"]["operationId"] == "getIndex"
    assert page["get"]["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert not [p for p in document["paths"] if p.startswith("/static")]
    assert "/static/" in document["info"]["description"]


def test_the_package_ships_the_files() -> None:
    """pyproject's package data covers every file the page needs (a wheel without them serves 404s)."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["frontends"]
    files = sorted(p.relative_to(STATIC_DIR.parent).as_posix() for p in STATIC_DIR.iterdir())
    assert files and all(any(fnmatch.fnmatch(f, pattern) for pattern in patterns) for f in files)


def test_metrics_event_carries_the_live_view(served: Served, http: httpx.Client) -> None:
    """system.metrics keeps every SystemMetrics field and adds the swarm, per-agent counters, ring
    depths and slots (docs/DASHBOARD.md)."""
    document = http.get("/openapi.json").json()
    components = document["components"]
    with connect(f"ws://127.0.0.1:{served.http_port}/ws", additional_headers=served.headers, open_timeout=5) as ws:
        ws.recv(timeout=5)  # server.hello
        ws.send(orjson.dumps({"type": "client.subscribe", "data": {"types": ["system.metrics"]}}).decode())
        event: dict[str, Any] = {}
        for _ in range(10):
            message = orjson.loads(ws.recv(timeout=5))
            if message["type"] == "system.metrics":
                event = message["data"]
                break
    metrics_schema = components["schemas"]["SystemMetrics"]
    base = {k: v for k, v in event.items() if k in metrics_schema["properties"]}
    jsonschema.validate(base, {**metrics_schema, "components": components})
    assert set(event) - set(base) == {"swarm", "agents", "rings", "slots"}
    jsonschema.validate(event["swarm"], {**components["schemas"]["Swarm"], "components": components})
    status = http.get("/api/v1/system/status").json()
    assert [a["id"] for a in event["agents"]] == list(range(status["agents_total"]))
    assert set(event["agents"][0]) == {
        "id",
        "status",
        "tasks",
        "errors",
        "latency_ns_sum",
        "last_latency_ns",
        "inflight",
    }
    assert [r["worker"] for r in event["rings"]] == list(range(status["workers_total"]))
    assert all(r["capacity"] > 0 and 0 <= r["submission"] <= r["capacity"] for r in event["rings"])
    assert 0 <= event["slots"]["free"] <= event["slots"]["total"]
