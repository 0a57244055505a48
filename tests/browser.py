"""A real headless Chromium for the dashboard tests, driven through selenium and chromedriver.

Debian's ``chromium`` and ``chromium-driver`` (.ci/run installs them): never a browser or a driver
downloaded at run time (with the driver's path given, selenium does not call Selenium Manager).
The flags keep Chromium from reaching out on its own (this machine's closed network refuses it).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from tests.utils import is_browser

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"  # screenshots; .gitignore ignores test-artifacts/
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
)


def find_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths, or why there is no browser to test with."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        missing = [name for name, path in (("chromium", chromium), ("chromedriver", driver)) if path is None]
        return f"{' and '.join(missing)} not found (apt-get install chromium chromium-driver; .ci/run does)"
    return chromium, driver


def start_browser(chromium: str, driver: str, profile: Path, width: int = 1280, height: int = 800) -> WebDriver:
    """Chromium with a fresh profile, its console log readable, the viewport exactly width x height."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height + 200}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(driver))
    set_viewport(browser, width, height)
    return browser


def set_viewport(browser: WebDriver, width: int, height: int, *, mobile: bool = False) -> None:
    """The page's viewport, not the window's (headless windows have no fixed chrome to subtract)."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def quit_browser(browser: WebDriver, timeout: float = 10) -> list[str]:
    """Quit and wait for every browser process to end; returns those that had to be killed."""
    browser.quit()
    deadline = time.monotonic() + timeout
    left: list[psutil.Process] = []
    while time.monotonic() < deadline:
        left = [p for p in psutil.Process(os.getpid()).children(recursive=True) if _alive_browser(p)]
        if not left:
            return []
        time.sleep(0.1)
    for process in left:
        process.kill()
    return [f"{p.pid} {p.name()}" for p in left]


def _alive_browser(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE and is_browser(process)
    except psutil.NoSuchProcess:
        return False


def console_errors(browser: WebDriver) -> list[str]:
    """The console's errors since the last call (uncaught exceptions, failed loads, CSP refusals)."""
    entries: list[dict[str, Any]] = browser.get_log("browser")
    return [e["message"] for e in entries if e.get("level") == "SEVERE"]
