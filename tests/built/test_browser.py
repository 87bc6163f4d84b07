"""The published book in a real browser: headless Chromium from Debian, offline, on localhost.

Every page of the table of contents must load with no console error and no request to any host
but localhost; the search must find terms, criterion IDs and words of a criterion; the
eligibility table and a figure must render. Screenshots go to _build/screenshots/.

Outside CI the test skips, saying why, when Chromium or ChromeDriver is absent; in CI (CI=true)
a missing browser fails, because .ci/run installs it.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.built.browsing import (
    BOOK_BUILT,
    LOCAL_HOSTS,
    SCREENSHOTS,
    WIDTHS,
    console_errors,
    load_at,
    requests_logged,
    skip_without_browser,
    viewport,
)
from tests.conftest import REPO
from tests.test_book_sources import TOC_FILES

skip_without_browser()
pytestmark = BOOK_BUILT


@pytest.mark.parametrize("entry", TOC_FILES)
def test_every_page_loads_offline_without_console_errors(server, browser, entry):
    requests_logged(browser)  # drop what earlier pages logged
    console_errors(browser)
    browser.get(f"{server}/{entry}.html")
    assert browser.find_element("css selector", "article.bd-article h1").text.strip()
    foreign = [
        url
        for url in requests_logged(browser)
        if urlparse(url).scheme in ("http", "https", "ws", "wss")
        and urlparse(url).hostname not in LOCAL_HOSTS
    ]
    assert foreign == [], f"{entry} requested other hosts"
    assert console_errors(browser) == [], f"{entry} logged console errors"


def _search(driver: object, server: str, query: str) -> list[str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{server}/search.html?q={query}")  # type: ignore[attr-defined]
    WebDriverWait(driver, 20).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#search-results p"))
    )
    # results are shown one by one; the status line is written when all are (or none match)
    WebDriverWait(driver, 30).until(
        lambda d: any(
            done in d.find_element(By.ID, "search-results").text
            for done in ("Search finished", "did not match any")
        )
    )
    return [
        link.get_attribute("href")
        for link in driver.find_elements(By.CSS_SELECTOR, "ul.search li a")  # type: ignore
    ]


@pytest.mark.parametrize(
    ("query", "page"),
    [
        ("mRSS", "eligibility/classification"),
        ("telitacicept", "intervention/intervention"),
        ("EX24", "eligibility/criteria"),  # a criterion by its ID
        ("bleomycin", "eligibility/criteria"),  # ... and by a word of its text (EX04)
    ],
)
def test_the_search_finds_terms_and_criteria(server, browser, query, page):
    results = _search(browser, server, query)
    assert any(page in (href or "") for href in results), f"{query!r}: {results}"


@pytest.mark.parametrize(
    ("query", "criterion"),
    [
        ("EX24", "ex24"),
        ("haemoglobin", "ex24"),  # the British spelling
        ("hemoglobin", "ex24"),  # the registry's
        ("血红蛋白", "ex24"),  # the name on a Chinese laboratory report
        ("IgG", "ex22"),
        ("DLCO", "ex07"),
        ("IN05", "in05"),
    ],
)
def test_the_search_lands_on_the_criterion_not_the_top_of_its_page(
    server, browser, query, criterion
):
    from urllib.parse import quote

    from selenium.webdriver.common.by import By

    results = [href for href in _search(browser, server, quote(query)) if href]
    # the first result, not one somewhere down the list
    deep = results[:1]
    assert deep and "eligibility/criteria.html#" in deep[0], f"{query!r}: first of {results}"
    browser.get(deep[0])
    anchor = deep[0].split("#", 1)[1]
    section = browser.find_element(By.ID, anchor).find_element(By.XPATH, "ancestor::section[1]")
    heading = section.find_element(By.CSS_SELECTOR, "h3").text
    assert heading.startswith(criterion.upper() + " "), (query, heading)
    assert browser.execute_script("return window.scrollY") > 0  # scrolled to it, not the top


def test_the_eligibility_table_and_a_figure_render(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/book/protocol/population.html")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.dataframe tbody tr")
    ids = [row.find_element(By.TAG_NAME, "th").text for row in rows]
    assert "IN01" in ids and "EX30" in ids
    browser.get(f"{server}/book/protocol/summary.html")
    figures = browser.find_elements(By.CSS_SELECTOR, "main img[src$='.svg']")
    assert figures, "no SVG figure on the summary page"
    width = browser.execute_script("return arguments[0].naturalWidth", figures[0])
    assert width > 100, "the trial schema did not render"


@pytest.mark.parametrize(
    "entry",
    ["book/index", "book/protocol/summary", "book/eligibility/criteria", "book/screening/labs"],
)
def test_screenshots(server, browser, entry):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(f"{server}/{entry}.html")
    path = SCREENSHOTS / f"{entry.replace('/', '-')}.png"
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize("criterion", ["IN01", "EX24", "EX30"])
def test_any_criterion_is_two_clicks_from_the_landing_page(server, browser, criterion):
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/book/index.html")
    article = browser.find_element(By.CSS_SELECTOR, "article.bd-article")
    article.find_element(By.PARTIAL_LINK_TEXT, "Eligibility: every criterion").click()
    browser.find_element(By.CSS_SELECTOR, f"a[href='#{criterion.lower()}']").click()
    assert browser.current_url.endswith(f"criteria.html#{criterion.lower()}")
    target = browser.find_element(By.ID, criterion.lower())
    assert target.is_displayed() or target.location["y"] >= 0


@pytest.mark.parametrize("width", ["tablet", "phone"])
def test_the_menu_and_page_contents_open_on_phones_and_tablets(server, browser, width):
    """At narrow widths the sidebars are dialogs opened by the ☰ and contents buttons."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def visible(selector: str) -> object:
        return next(b for b in browser.find_elements(By.CSS_SELECTOR, selector) if b.is_displayed())

    with viewport(browser, *WIDTHS[width]):
        load_at(browser, f"{server}/book/index.html", WIDTHS[width][0])
        visible(".primary-toggle").click()
        menu = browser.find_element(By.ID, "pst-primary-sidebar-modal")
        WebDriverWait(browser, 5).until(lambda d: menu.get_attribute("open") is not None)
        menu.find_element(By.PARTIAL_LINK_TEXT, "Eligibility: every criterion").click()
        WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("criteria.html"))
        visible(".secondary-toggle").click()
        contents = browser.find_element(By.ID, "pst-secondary-sidebar-modal")
        WebDriverWait(browser, 5).until(lambda d: contents.get_attribute("open") is not None)
        assert contents.find_elements(By.CSS_SELECTOR, "nav a"), "the page contents are empty"
        _screenshot(browser, f"criteria-contents-{WIDTHS[width][0]}px")


def test_the_menu_and_page_contents_are_in_view_on_a_desktop(server, browser):
    from selenium.webdriver.common.by import By

    with viewport(browser, *WIDTHS["desktop"]):
        load_at(browser, f"{server}/book/index.html", 1366)
        sidebar = browser.find_element(By.CSS_SELECTOR, ".bd-sidebar-primary")
        assert sidebar.is_displayed()
        sidebar.find_element(By.PARTIAL_LINK_TEXT, "Eligibility: every criterion").click()
        assert browser.current_url.endswith("criteria.html")
        toc = browser.find_element(By.CSS_SELECTOR, ".bd-sidebar-secondary")
        assert toc.is_displayed() and toc.find_elements(By.CSS_SELECTOR, "nav a")


def _screenshot(driver: object, name: str) -> None:
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize("width", list(WIDTHS))
def test_at_each_width_search_lands_on_a_criterion_and_a_case_downloads(server, browser, width):
    from selenium.webdriver.common.by import By

    with viewport(browser, *WIDTHS[width]):
        results = [h for h in _search(browser, server, "haemoglobin") if h]
        deep = results[:1]
        assert deep and "eligibility/criteria.html#" in deep[0], results
        load_at(browser, deep[0], WIDTHS[width][0])
        anchor = browser.find_element(By.ID, deep[0].split("#", 1)[1])
        section = anchor.find_element(By.XPATH, "ancestor::section[1]")
        assert section.find_element(By.CSS_SELECTOR, "h3").text.startswith("EX24 ")
        assert browser.execute_script("return window.scrollY") > 0
        load_at(browser, f"{server}/book/eligibility/cases.html", WIDTHS[width][0])
        link = browser.find_element(By.CSS_SELECTOR, "a[href$='case10-hemoglobin-79-g-per-l.yaml']")
        text = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(r => r.text()).then(done);",
            link.get_attribute("href"),
        )
        case = REPO / "book" / "cases" / "case10-hemoglobin-79-g-per-l.yaml"
        assert text == case.read_text(encoding="utf-8")


SCREENSHOT_PAGES = [
    "book/index",
    "book/training/roles",
    "book/protocol/summary",
    "book/intervention/intervention",
    "book/intervention/calendar",
    "book/eligibility/criteria",
    "book/eligibility/cases",
    "book/screening/labs",
    "book/screening/washout",
    "book/appendix/glossary",
]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_screenshots_at_each_width(server, browser, width):
    with viewport(browser, *WIDTHS[width]):
        for entry in SCREENSHOT_PAGES:
            load_at(browser, f"{server}/{entry}.html", WIDTHS[width][0])
            _screenshot(browser, f"{WIDTHS[width][0]}px/{entry.replace('/', '-')}")


@pytest.mark.parametrize("entry", TOC_FILES)
def test_no_page_is_wider_than_a_phone(server, browser, entry):
    # a wide table scrolls inside its own box; the page itself never scrolls sideways
    with viewport(browser, *WIDTHS["phone"]):
        load_at(browser, f"{server}/{entry}.html", 390)
        page, client = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    assert page <= client, f"{entry}: {page} px wide in a {client} px viewport"


def test_a_table_wider_than_a_phone_says_so_and_keeps_its_first_column_in_view(server, browser):
    from selenium.webdriver.common.by import By

    with viewport(browser, *WIDTHS["phone"]):
        load_at(browser, f"{server}/book/protocol/summary.html", 390)
        boxes = browser.find_elements(By.CSS_SELECTOR, "article .scrolls-sideways")
        assert boxes, "no wide table on the summary page at 390 px"
        for box in boxes:
            cue = box.find_element(By.XPATH, "preceding-sibling::*[1]")
            assert "scroll it sideways" in cue.text
            first = box.find_element(By.CSS_SELECTOR, "tbody tr > :first-child")
            left = first.location["x"]
            browser.execute_script("arguments[0].scrollLeft = 300", box)
            assert first.location["x"] == left, "the first column scrolled away"
    with viewport(browser, *WIDTHS["desktop"]):
        load_at(browser, f"{server}/book/protocol/population.html", 1366)
        assert browser.find_elements(By.CSS_SELECTOR, "article .scroll-cue") == []


def test_a_figure_is_kept_readable_on_a_phone_in_a_box_that_scrolls_sideways(server, browser):
    # the trial schema was drawn 10 inches wide: fitted to a phone, its 9-point words were under
    # 5 px high; it is kept at 75 % of its drawn size or more, the page itself never wider
    from selenium.webdriver.common.by import By

    measure = (
        "const i = document.querySelector('#fig-trial-schema img');"
        "return [i.getBoundingClientRect().width, i.naturalWidth, i.parentElement.clientWidth,"
        " i.parentElement.scrollWidth, document.documentElement.scrollWidth]"
    )
    with viewport(browser, *WIDTHS["phone"]):
        load_at(browser, f"{server}/book/protocol/summary.html", 390)
        shown, natural, box, content, page = browser.execute_script(measure)
        assert shown >= 0.75 * natural - 1, (shown, natural)
        assert content > box and page <= 390, (box, content, page)
        figure = browser.find_element(By.CSS_SELECTOR, "#fig-trial-schema")
        assert "scroll it sideways" in figure.find_element(By.CSS_SELECTOR, ".scroll-cue").text
        caption = figure.find_element(By.CSS_SELECTOR, "figcaption")
        assert caption.size["width"] <= 390, "the caption scrolls with the figure"
    with viewport(browser, *WIDTHS["desktop"]):
        load_at(browser, f"{server}/book/protocol/summary.html", 1366)
        shown, natural, box, content, _ = browser.execute_script(measure)
        assert content <= box + 1, "a figure scrolls on a desktop"
        assert browser.find_elements(By.CSS_SELECTOR, "#fig-trial-schema .scroll-cue") == []
    # a desktop window narrower than the reviewer's (1280 px: a 660 px column) keeps every
    # figure in its column: the calendar's and the washout chart, drawn 900 px wide, had scrolled
    with viewport(browser, 1280, 900):
        for page in ("book/intervention/calendar", "book/screening/washout"):
            load_at(browser, f"{server}/{page}.html", 1280)
            assert browser.find_elements(By.CSS_SELECTOR, "article .figure-scrolls") == [], page


def test_every_dropdown_is_open_on_paper_and_as_the_reader_left_it_after(server, browser):
    """A worked case's record and report sit in dropdowns: printed closed, each would be a
    one-line summary. Printing opens them all (the browser's beforeprint), and afterprint
    closes those the reader had not opened."""
    from selenium.webdriver.support.ui import WebDriverWait

    # as the screen shows it (no print emulation left from another test), the page's
    # dropdowns in place before they are counted (a loaded machine once counted none)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    browser.get(f"{server}/book/eligibility/cases.html")
    count_closed = "return document.querySelectorAll('details:not([open])').length"
    WebDriverWait(browser, 20).until(lambda driver: driver.execute_script(count_closed) >= 20)
    closed = browser.execute_script(count_closed)
    assert closed >= 20  # one per worked case, at least
    browser.execute_script(
        "document.querySelector('details:not([open])').open = true"  # one the reader opened
    )
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert browser.execute_script(count_closed) == 0
    browser.execute_script("window.dispatchEvent(new Event('afterprint'))")
    assert browser.execute_script(count_closed) == closed - 1
