"""The dashboard in a real headless Chromium against a real ``engined serve``.

One browser and one engine for the module (on fixed free ports, so the restart test can bring a new
engine up where the page expects it); the tests run in file order and the restart comes last.
Screenshots go to test-artifacts/dashboard/ (printed at the start).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from perf.procs import free_port
from tests.browser import ARTIFACTS, console_errors, find_browser, quit_browser, set_viewport, start_browser
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.multiprocess

FOUND = find_browser()
if isinstance(FOUND, str):
    pytest.skip(f"no browser to test the dashboard with: {FOUND}", allow_module_level=True)

# a refused connection while the engine is down is what the page expects; nothing else may fail
NETWORK_DOWN = re.compile(r"WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET")
NO_VALUE = "\u2013"  # what the page shows before a figure arrives (an en dash)
# what the tests ask the page (JavaScript run in it)
ANY_TILE_RATE = "return [...document.querySelectorAll('#agents .t-rate')].some(r => parseFloat(r.textContent) > 0)"
ANY_SPARK = (
    "return [...document.querySelectorAll('.w-spark polyline')].some(p => /,(?!27\\.0)/.test(p.getAttribute('points')))"
)
JOB_ROW = "const row = document.querySelector(`.job[data-id='${arguments[0]}']`); return row && row.textContent"
JOB_PERCENT = (
    "return document.querySelector(`.job[data-id='${arguments[0]}'] [role=progressbar]`).getAttribute('aria-valuenow')"
)
OFFLINE = (
    "return document.getElementById('conn').dataset.state !== 'live' && !document.getElementById('offline').hidden"
)
FILLED = "return document.getElementById(arguments[0]).textContent.length > 0"


@dataclass
class Engine:
    """The module's engine: fixed ports, replaced by the restart test."""

    workdir: Path
    http_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    served: Served | None = None
    token: str = ""  # generated at the first start into <data_dir>/api-token, kept by restarts

    def start(self) -> Served:
        (self.workdir / "files").mkdir(exist_ok=True)  # the job root (the data directory never is one)
        self.served = start_served(
            self.workdir,
            SIGMAVAULT_ENGINE_PORT=str(self.http_port),
            SIGMAVAULT_GRPC_PORT=str(self.grpc_port),
            SIGMAVAULT_JOB_ROOTS=str(self.workdir / "files"),
        )
        self.token = self.served.token
        return self.served

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        served, self.served = self.served, None
        if served is not None:
            assert stop_served(served) == 0, served.output()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    box = Engine(tmp_path_factory.mktemp("dashboard"))
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="module")
def browser(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[WebDriver]:
    assert not isinstance(FOUND, str)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print(f"\ndashboard screenshots: {ARTIFACTS}")
    driver = start_browser(*FOUND, tmp_path_factory.mktemp("chromium-profile"))
    try:
        driver.get(f"{engine.url}/")
        sign_in(driver, engine.token)
        yield driver
    finally:
        killed = quit_browser(driver)
        assert not killed, f"browser processes outlived the driver: {killed}"


def wait(what: str, predicate: Callable[[], Any], timeout: float = 10, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def text(browser: WebDriver, element_id: str) -> str:
    return str(browser.execute_script("return document.getElementById(arguments[0]).textContent", element_id))


def shot(browser: WebDriver, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    assert browser.save_screenshot(str(path)), f"no screenshot {path}"
    return path


def full_shot(browser: WebDriver, name: str) -> Path:
    """The whole page, not only the viewport."""
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def live(browser: WebDriver) -> bool:
    return bool(
        browser.execute_script(
            "return document.getElementById('conn').dataset.state === 'live'"
            " && document.querySelectorAll('#agents .tile[data-status]').length === 40"
        )
    )


def sign_in(browser: WebDriver, token: str) -> None:
    """What a person does the first time: the page asks for a token (every call needs one) and keeps
    a session cookie; a wrong token is refused on the form."""
    from selenium.webdriver.common.by import By

    wait("the sign-in form", lambda: browser.execute_script("return !document.getElementById('login').hidden"))
    field_ = browser.find_element(By.ID, "login-token")
    field_.send_keys("0" * 64)
    browser.find_element(By.ID, "login-submit").click()
    wait("the wrong token refused", lambda: "not valid" in text(browser, "login-error"))
    field_.clear()
    field_.send_keys(token)
    browser.find_element(By.ID, "login-submit").click()
    wait("the form gone", lambda: browser.execute_script("return document.getElementById('login').hidden"))
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert cookies["sv_session"]["httpOnly"] and cookies["sv_session"]["sameSite"] == "Strict"
    assert token not in cookies["sv_session"]["value"]
    assert token not in (browser.execute_script("return JSON.stringify(localStorage) + document.cookie") or "")
    # the console shows the two 401s that asked for a token; nothing else may have failed
    errors = console_errors(browser)
    refused = [m for m in errors if "/api/v1/session" in m and "status of 401" in m]
    assert len(refused) == 2 and len(errors) == 2, errors


def run_load(url: str, stop: threading.Event, headers: dict[str, str], count: int = 1500, seconds: float = 15) -> int:
    """Compress tasks through the public API, one after another, until told or bounded."""
    body = {
        "kind": "compress",
        "data": base64.b64encode(os.urandom(2048) + bytes(30000)).decode(),
        "params": {"codec": "zstd", "level": 3},
    }
    done, deadline = 0, time.monotonic() + seconds
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while done < count and time.monotonic() < deadline and not stop.is_set():
            assert client.post("/api/v1/tasks", json=body).status_code == 200
            done += 1
    return done


def test_page_loads_live_with_40_agents(browser: WebDriver) -> None:
    wait("the page to be live with 40 agent tiles", lambda: live(browser))
    assert browser.title == "SigmaVault engine"
    wait("the engine's identity", lambda: "workers ready" in text(browser, "identity"))
    wait("a system.metrics event", lambda: "%" in text(browser, "cpu-total"))
    tiles = browser.execute_script("return [...document.querySelectorAll('#agents .tile')].map(t => t.dataset.status)")
    assert len(tiles) == 40 and set(tiles) <= {"idle", "busy", "error", "restarting", "draining", "drained"}
    for panel in ("pools", "disks", "mesh"):  # filled from the API: a table, "No ...", or why not
        wait(f"the {panel} panel", partial(browser.execute_script, FILLED, panel))
    shot(browser, "1-loaded-1280x800")
    assert console_errors(browser) == []


def test_numbers_change_while_a_load_runs(browser: WebDriver, engine: Engine) -> None:
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_load(engine.url, stop, engine.headers)))
    thread.start()
    try:
        wait("tasks counted on the page", lambda: text(browser, "engine-tasks") not in (NO_VALUE, "0"))
        first = text(browser, "engine-tasks")
        first_png = shot(browser, "2-load-a").read_bytes()
        wait("the count to move on", lambda: text(browser, "engine-tasks") != first)
        wait("an agent tile with tasks per second", lambda: browser.execute_script(ANY_TILE_RATE))
        wait("a worker's sparkline off its baseline", lambda: browser.execute_script(ANY_SPARK))
        wait("one-block compression jobs counted", lambda: re.search(r"[1-9][\d,]* done", text(browser, "oneblock")))
        second = text(browser, "engine-tasks")
        second_png = shot(browser, "3-load-b").read_bytes()
    finally:
        stop.set()
        thread.join(20)
    assert result and result[0] > 0
    assert int(second.replace(",", "")) > int(first.replace(",", ""))
    assert first_png != second_png
    assert console_errors(browser) == []


def test_keyboard_reaches_and_moves_through_the_tiles(browser: WebDriver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.refresh()
    wait("the page to be live again", lambda: live(browser))
    active = "return document.activeElement.className + ' ' + (document.activeElement.dataset.id ?? '')"
    for _ in range(10):  # the skip link first, then the grid is one tab stop
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.execute_script(active).startswith("tile"):
            break
    assert browser.execute_script(active) == "tile 0"
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    assert browser.execute_script(active) == "tile 1"
    columns = browser.execute_script(
        "const t = [...document.querySelectorAll('.tile')]; return t.filter(x => x.offsetTop === t[0].offsetTop).length"
    )
    ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
    assert browser.execute_script(active) == f"tile {1 + columns}"
    ActionChains(browser).send_keys(Keys.END).send_keys(Keys.ENTER).perform()
    assert browser.execute_script(active) == "tile 39"
    wait("the agent's details", lambda: text(browser, "agent-detail-h").startswith("Agent 39"))
    assert browser.execute_script("return document.activeElement.getAttribute('aria-pressed')") == "true"
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()  # one tab stop
    assert not browser.execute_script(active).startswith("tile")
    shot(browser, "4-keyboard-detail")
    assert console_errors(browser) == []


def test_phone_width_has_no_horizontal_scroll(browser: WebDriver) -> None:
    set_viewport(browser, 375, 812, mobile=True)
    try:
        wait("the narrow layout", lambda: browser.execute_script("return window.innerWidth") == 375)
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
        )
        assert widths[0] <= widths[2] and widths[1] <= widths[2], widths
        shot(browser, "5-phone-375")
        full_shot(browser, "5-phone-375-full")
    finally:
        set_viewport(browser, 1280, 800)
    assert console_errors(browser) == []


def test_a_real_file_job_reaches_100_percent(browser: WebDriver, engine: Engine) -> None:
    """A compression job on a 48 MiB file through POST /api/v1/compression/jobs: its row appears
    from compression.progress events and its bar reaches 100 % when it is done."""
    assert engine.served is not None
    source, destination = engine.workdir / "files" / "dash-job.bin", engine.workdir / "files" / "dash-job.zst"
    with source.open("wb") as f:  # mixed content: half random, half text-like, distinct blocks
        for i in range(48):
            f.write(os.urandom(1 << 19) + (b"sigmavault block %d " % i) * ((1 << 19) // 24))
    try:
        with httpx.Client(base_url=engine.url, headers=engine.headers, timeout=10) as client:
            job = client.post(
                "/api/v1/compression/jobs",
                json={
                    "operation": "compress",
                    "source": str(source),
                    "destination": str(destination),
                    "codec": "zstd",
                    "level": 9,
                    "overwrite": True,
                },
            ).json()
        assert job["id"].startswith("job-"), job
        wait("the job's row", lambda: browser.execute_script(JOB_ROW, job["id"]), timeout=20)
        wait(
            "its bar at 100 %", lambda: float(browser.execute_script(JOB_PERCENT, job["id"]) or 0) == 100.0, timeout=60
        )
        assert "done" in browser.execute_script(JOB_ROW, job["id"])
        browser.execute_script("document.getElementById('jobs-h').scrollIntoView()")
        shot(browser, "7-file-job")
        browser.execute_script("window.scrollTo(0, 0)")
        assert console_errors(browser) == []
    finally:
        source.unlink(missing_ok=True)
        destination.unlink(missing_ok=True)


def test_storage_job_event_shapes_render_with_progress(browser: WebDriver) -> None:
    """The job panel with the events storage operations publish (storage.event job_progress /
    errors_found / job_done). A real scrub needs root and loop devices (tests/system/test_storage_api.py
    runs one); here the events are fed to the page's own message handler."""
    handle = "window.sigmavault.handle(arguments[0])"
    scrub = {
        "id": "job-5c1",
        "kind": "scrub",
        "state": "running",
        "pool": "tank",
        "target": "tank",
        "percent": 40.0,
        "message": "scrubbing devid 1",
    }
    browser.execute_script(handle, {"type": "storage.event", "data": {"action": "job_progress", "job": scrub}})
    record = {
        "id": "job-f00",
        "kind": "compress",
        "category": "file",
        "target": "/srv/a.zst",
        "state": "running",
        "percent": 25.0,
        "done_units": 1 << 30,
        "total_units": 4 << 30,
        "rate_per_s": 100 << 20,
        "eta_s": 30.0,
        "message": "",
        "error": "",
    }
    browser.execute_script(handle, {"type": "compression.progress", "data": record})
    assert float(browser.execute_script(JOB_PERCENT, "job-5c1")) == 40.0
    detail = text(browser, "jobs")
    assert "1.00 GiB of 4.00 GiB" in detail and "100.0 MiB/s" in detail and "ETA 30 s" in detail
    found = {"action": "errors_found", "job": {**scrub, "errors_found": 2}}
    browser.execute_script(handle, {"type": "storage.event", "data": found})
    done = {"action": "job_done", "job": {**scrub, "state": "done", "percent": 100.0, "errors_found": 2}}
    browser.execute_script(handle, {"type": "storage.event", "data": done})
    assert float(browser.execute_script(JOB_PERCENT, "job-5c1")) == 100.0
    assert "errors found: 2" in text(browser, "jobs") and "(1 running)" in text(browser, "jobs-count")
    browser.execute_script("document.getElementById('jobs-h').scrollIntoView()")
    shot(browser, "7-jobs")
    browser.execute_script("window.scrollTo(0, 0)")
    assert console_errors(browser) == []


def test_a_drained_agent_shows_as_drained(browser: WebDriver, engine: Engine) -> None:
    tile = "return document.querySelector('#agents .tile[data-id=\"5\"]').dataset.status"
    with httpx.Client(base_url=engine.url, headers=engine.headers, timeout=10) as client:
        assert client.post("/api/v1/agents/5/drain").status_code == 200
        try:
            wait("agent 5 drained on the page", lambda: browser.execute_script(tile) == "drained")
            assert "drained 1" in text(browser, "legend")
            shot(browser, "6-drained")
        finally:
            assert client.post("/api/v1/agents/5/resume").status_code == 200
    wait("agent 5 back in service", lambda: browser.execute_script(tile) == "idle")
    assert console_errors(browser) == []


def test_recovers_after_the_engine_restarts(browser: WebDriver, engine: Engine) -> None:
    wait("the page to be live", lambda: live(browser))
    with httpx.Client(
        base_url=engine.url, headers=engine.headers, timeout=10
    ) as client:  # this engine has run tasks: not 0
        for _ in range(5):
            assert client.post("/api/v1/tasks", json={"kind": "echo"}).status_code == 200
    wait("this engine's tasks on the page", lambda: text(browser, "engine-tasks") not in (NO_VALUE, "0"))
    engine.stop()
    wait("the disconnected notice", lambda: browser.execute_script(OFFLINE))
    assert "Disconnected from the engine" in text(browser, "offline")
    shot(browser, "8-disconnected")
    engine.start()
    try:
        wait("the page to be live on the new engine", lambda: live(browser), timeout=20)
        wait("the new engine's counters (it has run no task)", lambda: text(browser, "engine-tasks") == "0")
        assert browser.execute_script("return document.getElementById('offline').hidden") is True
        # the old engine's unfinished jobs are forgotten once the new engine's listing has been read
        wait(
            f"no job shown running (jobs: {text(browser, 'jobs')!r})",
            lambda: text(browser, "jobs-count") == "(0 running)",
        )
        shot(browser, "9-reconnected")
        unexpected = [m for m in console_errors(browser) if not NETWORK_DOWN.search(m)]
        assert unexpected == []
    finally:
        engine.stop()  # the module's teardown has nothing left to stop; the test leaves no process behind
