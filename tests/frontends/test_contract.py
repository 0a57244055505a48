"""The HTTP API against its own /openapi.json: every answer validates against the schema generated
from the proto, every route is described; and the routes issue 7 added (any-agent tasks, one agent,
paged history, the swarm, drain/resume), with errors that carry their numbers."""

from __future__ import annotations

import base64
import os
import re
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.contract import check

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.served import Served

pytestmark = pytest.mark.multiprocess
SLOT = (1 << 20) + 16 * 1024  # SIGMAVAULT_SLOT_BYTES by default: a 1 MiB file-job block and its output fit


@pytest.fixture(scope="module")
def document(served: Served) -> dict[str, Any]:
    return httpx.get(f"{served.http}/openapi.json", headers=served.headers, timeout=10).json()


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.http, headers=served.headers, timeout=10) as client:
        yield client


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_every_route_is_described(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for ten in (
        "/api/v1/system/status",
        "/api/v1/system/metrics",
        "/api/v1/storage/pools",
        "/api/v1/storage/disks",
        "/api/v1/agents",
        "/api/v1/agents/{id}/task",
        "/api/v1/compression/stats",
        "/api/v1/compression/jobs",
        "/api/v1/encryption/status",
        "/api/v1/network/phantommesh",
    ):
        assert ten in paths
    for path, methods in paths.items():
        for method, op in methods.items():
            ok = op["responses"]["200"]["content"]
            schema = ok.get("application/json", {}).get("schema", {})
            if "application/json" not in ok:  # Prometheus text, the dashboard's HTML, raw range bytes
                assert path in ("/metrics", "/", "/api/v1/compression/files/range"), (path, ok)
            elif path != "/openapi.json":
                assert "$ref" in schema, f"{method} {path}: answer not described"
            assert ok, f"{method} {path}: no content type for its answer"
            if (method == "post" and path.endswith("task")) or path == "/api/v1/tasks":
                assert "$ref" in op["requestBody"]["content"]["application/json"]["schema"]


def _file_job(http: httpx.Client, served: Served) -> tuple[str, str]:
    """A finished file job in the job root (tests/frontends/conftest.py): its id and its seekable output."""
    root = served.data_dir.parent / "files"
    (root / "contract.bin").write_bytes(os.urandom(5000) + bytes(5000))
    dest = root / "contract.zst"
    job = http.post(
        "/api/v1/compression/jobs",
        json={
            "operation": "compress",
            "source": str(root / "contract.bin"),
            "destination": str(dest),
            "overwrite": True,
        },
    ).json()
    for _ in range(500):
        if http.get(f"/api/v1/compression/jobs/{job['id']}").json()["state"] == "done":
            break
        time.sleep(0.01)
    return job["id"], str(dest)


def test_every_get_answer_validates(http: httpx.Client, document: dict[str, Any], served: Served) -> None:
    assert http.post("/api/v1/agents/0/task", json={"kind": "echo", "data": b64(b"hi")}).status_code == 200
    job_id, zst = _file_job(http, served)
    ids = {"/api/v1/compression/jobs/{id}": job_id}  # string ids; the other {id}s are integers
    queries: dict[str, dict[str, str | int]] = {
        "/api/v1/compression/files/range": {"path": zst, "offset": 0, "length": 100}
    }
    for path, methods in document["paths"].items():
        if "get" not in methods or path in ("/metrics", "/openapi.json", "/"):
            continue  # text: /metrics and the dashboard (tests/frontends/test_dashboard.py)
        named = path not in ids and any(
            p["schema"]["type"] == "string" for p in methods["get"].get("parameters", []) if p["in"] == "path"
        )  # a named resource this engine does not have (pool, volume, disk): a described 404
        target = re.sub(r"{\w+}", "sv-absent", path.replace("{id}", ids.get(path, "0")))
        response = http.get(target, params=queries.get(path))
        assert response.status_code == (404 if named else 200), (path, response.text)
        described = methods["get"]["responses"]["200"]["content"]
        if response.status_code == 200 and "application/json" not in described:  # raw bytes
            assert response.headers["content-type"] in described
            continue
        check(document, path, "get", response)


def test_tasks_on_any_capable_agent(http: httpx.Client, document: dict[str, Any]) -> None:
    data = os.urandom(100) + bytes(3000)
    body = check(
        document,
        "/api/v1/tasks",
        "post",
        http.post(
            "/api/v1/tasks", json={"kind": "compress", "data": b64(data), "params": {"codec": "zstd", "level": 3}}
        ),
    )
    agents = http.get("/api/v1/agents").json()["agents"]
    assert "compress" in agents[body["agent_id"]]["capabilities"]
    back = http.post("/api/v1/tasks", json={"kind": "decompress", "data": body["data"], "params": {"codec": "zstd"}})
    assert base64.b64decode(back.json()["data"]) == data
    named = http.post("/api/v1/tasks", json={"kind": "echo", "data": b64(b"x"), "agent_id": 7})
    assert named.json()["agent_id"] == 7
    crypto = next(a["id"] for a in agents if a["role"] == "crypto")
    refused = http.post("/api/v1/tasks", json={"kind": "compress", "agent_id": crypto})
    assert refused.status_code == 400
    error = check(document, "/api/v1/tasks", "post", refused)["error"]
    assert error["code"] == "not_capable"
    assert "omit the agent to use any capable one" in error["message"]


def test_one_agent_and_its_history_paged(http: httpx.Client, document: dict[str, Any]) -> None:
    for i in range(12):
        assert http.post("/api/v1/agents/9/task", json={"kind": "echo", "data": b64(bytes(i + 1))}).status_code == 200
    agent = check(document, "/api/v1/agents/{id}", "get", http.get("/api/v1/agents/9"))
    assert agent["id"] == 9 and agent["in_service"] is True
    seen: list[int] = []
    token, pages = "", 0
    while True:
        page = check(
            document,
            "/api/v1/agents/{id}/tasks",
            "get",
            http.get("/api/v1/agents/9/tasks", params={"page_size": 5, "page_token": token}),
        )
        seen += [t["req_id"] for t in page["tasks"]]
        pages += 1
        if pages == 1:  # new tasks after the first page must not shift the pages that follow
            http.post("/api/v1/agents/9/task", json={"kind": "echo", "data": b64(b"later")})
        token = page["next_page_token"]
        if not token:
            break
    assert page["total_tasks"] >= 12 and page["history_len"] == 256
    assert len(seen) == len(set(seen)) >= 12, "a task listed twice or missing"
    assert seen == sorted(seen, reverse=True)
    assert [t["bytes_in"] for t in http.get("/api/v1/agents/9/tasks", params={"page_size": 3}).json()["tasks"]] == [
        5,
        12,
        11,
    ]
    for bad, code in (
        ({"page_token": "nope"}, "invalid_page_token"),
        ({"page_size": 0}, "invalid_argument"),
        ({"page_size": 1000}, "invalid_argument"),
        ({"page_token": "99999999.0"}, "invalid_page_token"),
    ):
        answer = http.get("/api/v1/agents/9/tasks", params=bad)
        assert (
            answer.status_code == 400
            and check(document, "/api/v1/agents/{id}/tasks", "get", answer)["error"]["code"] == code
        )
    for missing in ("/api/v1/agents/40", "/api/v1/agents/40/tasks", "/api/v1/agents/x"):
        answer = http.get(missing)
        assert answer.status_code == 404, missing
        assert answer.json()["error"]["code"] == "unknown_agent"


def test_swarm_and_drain(http: httpx.Client, document: dict[str, Any]) -> None:
    swarm = check(document, "/api/v1/swarm", "get", http.get("/api/v1/swarm"))
    assert swarm["agents_total"] == 40 == swarm["agents_in_service"]
    assert sum(r["agents"] for r in swarm["roles"]) == 40
    assert [w["id"] for w in swarm["workers"]] == [0, 1]
    general = [a["id"] for a in http.get("/api/v1/agents").json()["agents"] if "parity" in a["capabilities"]]
    drained = general[0]
    try:
        agent = check(document, "/api/v1/agents/{id}/drain", "post", http.post(f"/api/v1/agents/{drained}/drain"))
        assert (agent["in_service"], agent["status"]) == (False, "drained")
        assert http.get("/api/v1/swarm").json()["agents_in_service"] == 39
        named = http.post(f"/api/v1/agents/{drained}/task", json={"kind": "echo"})
        assert named.status_code == 503 and named.json()["error"]["code"] == "agent_drained"
        for _ in range(3 * len(general)):  # unnamed parity tasks never land on it
            answer = http.post("/api/v1/tasks", json={"kind": "parity", "data": b64(bytes(4)), "params": {"k": 2}})
            assert answer.json()["agent_id"] != drained
    finally:
        resumed = http.post(f"/api/v1/agents/{drained}/resume").json()
    assert resumed["in_service"] is True and resumed["status"] != "drained"
    assert http.post(f"/api/v1/agents/{drained}/task", json={"kind": "echo"}).status_code == 200
    assert http.post("/api/v1/agents/77/drain").status_code == 404


def test_errors_carry_their_numbers_and_headers(http: httpx.Client, document: dict[str, Any]) -> None:
    too_big = http.post("/api/v1/tasks", json={"kind": "echo", "data": b64(bytes(SLOT + 1))})
    error = check(document, "/api/v1/tasks", "post", too_big)["error"]
    assert (too_big.status_code, error["code"], error["metadata"]["limit"]) == (413, "too_large", str(SLOT))
    noise = os.urandom(SLOT)  # compressed it grows past the slot: the answer says what fits
    grew = http.post("/api/v1/tasks", json={"kind": "compress", "data": b64(noise), "params": {"codec": "zstd"}})
    error = grew.json()["error"]
    assert grew.status_code == 413
    assert f"inputs up to {error['metadata']['limit']} bytes always fit" in error["message"]
    parity = http.post("/api/v1/tasks", json={"kind": "parity", "data": b64(bytes(5)), "params": {"k": 2}})
    assert parity.status_code == 400
    assert "parity input of 5 bytes does not split into k=2 equal blocks" in parity.json()["error"]["message"]
    wrong_method = http.delete("/api/v1/agents")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, HEAD"
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_405_allows_every_method_of_the_path(http: httpx.Client, document: dict[str, Any]) -> None:
    """Over the whole route table: a method a path lacks is a 405 whose Allow names every method the
    path answers (the union over every route template the path matches), HEAD wherever GET."""
    templates = {path: re.compile("^" + re.sub(r"{\w+}", "[^/]+", path) + "$") for path in document["paths"]}
    for path in document["paths"]:
        target = re.sub(r"{\w+}", "sv-absent", path.replace("{id}", "1"))
        allowed = {m.upper() for p, pattern in templates.items() if pattern.match(target) for m in document["paths"][p]}
        allowed |= {"HEAD"} if "GET" in allowed else set()
        method = next(m for m in ("PUT", "PATCH", "DELETE", "POST") if m not in allowed)
        wrong = http.request(method, target)
        assert wrong.status_code == 405, (method, target, wrong.text)
        assert wrong.headers["allow"] == ", ".join(sorted(allowed)), (method, target)
        error = wrong.json()["error"]
        assert (error["code"], error["message"]) == (
            "method_not_allowed",
            f"{method} is not allowed here; allowed: {wrong.headers['allow']}",
        )


LEAKS = (
    "invalid literal",
    "repeated field",
    "Traceback",
    "<class",
    "Failed to parse",
    "NoneType",
    "object has no",
    "expected string or bytes",
    "Couldn't parse",
    "not acceptable for",
    "int()",
    "Bool value",
)


def _wrong_values(schema: dict[str, Any], components: dict[str, Any]) -> list[Any]:
    """Values of the wrong type or range for a property's schema: never one the route would act on."""
    if "$ref" in schema:
        return ["x", 5, None, []]
    kind = schema.get("type")
    if kind == "integer":
        return ["100M", 1.5, True, None, "12", schema["minimum"] - 1, schema["maximum"] + 1]
    if kind == "number":
        return ["fast", True, None]
    if kind == "boolean":
        return ["yes", 1, None]
    if kind == "array":
        return ["/dev/sdb", None, {}, _wrong_values(schema["items"], components)[:1]]
    if kind == "object":
        return ["x", None, [1]]
    if "enum" in schema:
        return ["nope", 3, None]
    return [5, None, True, ["x"], {"a": 1}]  # a string


def _valid(schema: dict[str, Any]) -> Any:
    return {"integer": schema.get("minimum", 0), "boolean": False, "array": [], "number": 0}.get(
        schema.get("type", ""), schema.get("enum", ["sv-absent"])[0]
    )


def test_bad_body_values_are_refused_in_our_words(http: httpx.Client, document: dict[str, Any]) -> None:
    """Every field of every JSON body, given values of the wrong type or range (the other required
    fields valid, so the field is what is judged): a 4xx naming the field, never Python's or
    protobuf's text (``invalid literal for int() with base 10: '100M'``, ``repeated field devices
    must be in []``)."""
    components = document["components"]["schemas"]
    checked = 0
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is None:
                continue
            schema = components[body["$ref"].rsplit("/", 1)[1]]
            target = re.sub(r"{\w+}", "sv-absent", path.replace("{id}", "1"))
            base = {name: _valid(schema["properties"][name]) for name in schema.get("required", [])}
            for name, prop in schema["properties"].items():
                for value in _wrong_values(prop, components):
                    answer = http.request(method.upper(), target, json={**base, name: value})
                    text = answer.text
                    assert 400 <= answer.status_code < 500, (method, path, name, value, text)
                    assert not any(leak in text for leak in LEAKS), (method, path, name, value, text)
                    if answer.status_code == 400:
                        assert name in answer.json()["error"]["message"], (method, path, name, value, text)
                    checked += 1
    assert checked > 100
