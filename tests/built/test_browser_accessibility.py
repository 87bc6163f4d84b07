"""The published book's accessibility in a real browser: axe-core finds no serious or critical
violation on any page at a desktop's and a phone's width (and does find them where they are).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.built.browsing import BOOK_BUILT, WIDTHS, load_at, skip_without_browser, viewport
from tests.built.test_built_book import HTML
from tests.test_book_sources import TOC_FILES

skip_without_browser()
pytestmark = BOOK_BUILT


AXE_JS = Path(find_spec("selenium_axe_python").origin).parent / "axe-core" / "axe.min.js"
# Rules axe 4.9 marks experimental but newer releases run by default (a visible label that is
# not part of the control's accessible name).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}


def _axe_violations(driver: object) -> list[dict[str, object]]:
    """Serious and critical accessibility violations axe-core finds on the loaded page."""
    driver.set_script_timeout(60)  # type: ignore[attr-defined]
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    result = driver.execute_async_script(  # type: ignore[attr-defined]
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0])"
        ".then(r => done(r.violations)).catch(e => done({error: String(e)}));",
        AXE_OPTIONS,
    )
    assert not isinstance(result, dict), result
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "nodes": len(v["nodes"]),
            "first": v["nodes"][0]["target"],
        }
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("entry", TOC_FILES)
def test_no_serious_or_critical_accessibility_violation(server, browser, entry, width):
    with viewport(browser, *WIDTHS[width]):
        load_at(browser, f"{server}/{entry}.html", WIDTHS[width][0])
        assert _axe_violations(browser) == [], f"{entry} at {WIDTHS[width][0]} px"


def test_axe_finds_what_it_must(server, browser, tmp_path):
    # a negative control: an image without alt text and an unlabelled field are violations
    bad = HTML / "_axe_negative_control.html"
    bad.write_text(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<img src="x.png"><input type="text"></main></body></html>',
        encoding="utf-8",
    )
    try:
        browser.get(f"{server}/_axe_negative_control.html")
        rules = {v["rule"] for v in _axe_violations(browser)}
    finally:
        bad.unlink()
    assert {"image-alt", "label"} <= rules
