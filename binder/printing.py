"""Printing HTML to PDF with Debian's headless Chromium, and reading the PDFs back.

Chromium is driven through its DevTools protocol (Page.printToPDF) by the pinned Selenium with an
explicit ChromeDriver path, so nothing is downloaded: A4 from the pages' ``@page`` rules,
backgrounds printed (the tick boxes), a tagged PDF with an outline of the headings. Fonts are
embedded (subset) by Chromium; ``fonts_not_embedded`` proves it for each PDF.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
POINTS_PER_MM = 72 / 25.4
#: Headless and offline: no sandbox (CI containers), no GPU, nothing fetched in the background.
OFFLINE_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class PrintError(RuntimeError):
    """Chromium could not print: it is missing, or a page would not load."""


@contextmanager
def chromium() -> Iterator[object]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        raise PrintError(
            f"{', '.join(missing)} not found: install Debian's chromium and chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*OFFLINE_FLAGS, "--allow-file-access-from-files"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def print_pdf(driver: object, page: Path) -> bytes:
    """The page printed as the reader's browser would print it, on A4."""
    driver.get(page.resolve().as_uri())  # type: ignore[attr-defined]
    result = driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Page.printToPDF",
        {
            "printBackground": True,
            "preferCSSPageSize": True,
            "displayHeaderFooter": False,
            "generateTaggedPDF": True,
            "generateDocumentOutline": True,
        },
    )
    return base64.b64decode(result["data"])


@dataclass(frozen=True)
class PdfSummary:
    pages: int
    size_mm: tuple[int, int]  # of the first page, rounded
    fonts: tuple[str, ...]
    fonts_not_embedded: tuple[str, ...]


def page_texts(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def outline_pages(pdf: bytes, top_level: bool = False) -> list[tuple[str, int]]:
    """The PDF's outline (Chromium makes it from the headings) as (title, 1-based page), in
    document order; ``top_level`` keeps only the outermost headings (the chapters' titles)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    found: list[tuple[str, int]] = []

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, list):
                if not top_level:
                    walk(item)
            else:
                found.append((str(item.title), reader.get_destination_page_number(item) + 1))

    walk(reader.outline)
    return found


def summarize(pdf: bytes) -> PdfSummary:
    """Page count, page size and every font with whether its program is embedded."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    fonts: set[str] = set()
    bare: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        for font in (resources.get_object().get("/Font") or {}).values():
            font = font.get_object()
            name = str(font.get("/BaseFont", "?"))
            fonts.add(name)
            descriptors = [font.get("/FontDescriptor")]
            for descendant in font.get("/DescendantFonts") or []:
                descriptors.append(descendant.get_object().get("/FontDescriptor"))
            descriptors = [d.get_object() for d in descriptors if d is not None]
            embedded = any(
                key in d for d in descriptors for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            if font.get("/Subtype") != "/Type3" and not embedded:
                bare.add(name)
    box = reader.pages[0].mediabox
    size = (round(float(box.width) / POINTS_PER_MM), round(float(box.height) / POINTS_PER_MM))
    return PdfSummary(len(reader.pages), size, tuple(sorted(fonts)), tuple(sorted(bare)))
