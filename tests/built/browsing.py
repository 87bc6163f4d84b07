"""What the browser tests share (tests/built/test_browser*.py): the published book read in
headless Chromium from Debian, offline, on localhost. Each of those files starts its own server
and browser (the fixtures in conftest.py, one per file), so `make built` runs them side by side:
in one file they took three minutes on one core while the other waited.

Outside CI a browser test file skips, saying why, when Chromium or ChromeDriver is absent; in
CI (CI=true) a missing browser fails, because .ci/run installs it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import pytest

from binder.printing import CHROMEDRIVER, CHROMIUM
from tests.built.test_built_book import HTML
from tests.conftest import REPO

SCREENSHOTS = REPO / "_build" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

#: Every browser test needs the built book.
BOOK_BUILT = pytest.mark.skipif(
    not (HTML / "index.html").exists(), reason="the book is not built: run `make book` first"
)


def browser_missing() -> str | None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    return ", ".join(missing) if missing else None


def skip_without_browser() -> None:
    """Called by each browser test file as it is read: outside CI, skip it whole (saying why)
    where there is no browser to drive."""
    if browser_missing() and os.environ.get("CI") != "true":
        pytest.skip(
            f"headless browser test skipped: {browser_missing()} not installed "
            f"(apt-get install chromium chromium-driver; .ci/run does this)",
            allow_module_level=True,
        )


def requests_logged(driver: object) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver: object) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")  # type: ignore[attr-defined]
        if entry["level"] == "SEVERE"
    ]


WIDTHS = {"desktop": (1366, 900), "tablet": (820, 1180), "phone": (390, 844)}


@contextlib.contextmanager
def viewport(driver: object, width: int, height: int, mobile: bool | None = None) -> Iterator[None]:
    """The page laid out at exactly this width. Headless Chromium will not make a window narrower
    than 500 px, so the width is set through the DevTools protocol, as a phone's would be."""
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": width < 768 if mobile is None else mobile,
        },
    )
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore


def load_at(driver: object, url: str, width: int) -> None:
    driver.get(url)  # type: ignore[attr-defined]
    inner = driver.execute_script("return window.innerWidth")  # type: ignore[attr-defined]
    assert inner == width, f"the page was laid out {inner} px wide, not {width} px"
