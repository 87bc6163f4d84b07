"""``python -m binder``: print the site binder into _build/binder/ and publish it with the book.

Run after ``make book`` (``make binder`` does both). Prints each PDF's pages, size and fonts and
the time taken. Exit 0 when all were written; 2 when the book is not built or Chromium is absent.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import unicodedata
from datetime import date
from pathlib import Path

from binder.book import chapter_bodies, chapters, combined_html
from binder.forms import checklist_html, pocket_cards_html
from binder.identity import book_version, identity_line
from binder.printing import PrintError, chromium, outline_pages, print_pdf, summarize
from dosing.calendar import new_file_mode
from protocol.study import load_study

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
OUT = REPO / "_build" / "binder"
FILES = {
    "book": "nct06375005-protocol-book.pdf",
    "checklist": "eligibility-checklist.pdf",
    "cards": "pocket-cards.pdf",
}


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            # readable as any new file is (mkstemp's owner-only mode would make the published
            # PDFs "403 Forbidden" on a web server)
            os.fchmod(file.fileno(), new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _chapter_pages(pdf: bytes, slugs_titles: list[tuple[str, str]]) -> dict[str, int]:
    """Where each chapter starts: its title is a top-level heading of the PDF's outline, in book
    order. Titles are compared without spaces, since the outline drops the space at a line break
    of a wrapped heading ("every criterion and itscheck")."""

    def bare(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())

    outline = [(bare(title), page) for title, page in outline_pages(pdf, top_level=True)]
    pages: dict[str, int] = {}
    position = 0
    for slug, title in slugs_titles:
        for index in range(position, len(outline)):
            if outline[index][0] == bare(title):
                pages[slug] = outline[index][1]
                position = index + 1
                break
        else:
            raise PrintError(f"the chapter {title!r} is not a heading of the printed book")
    return pages


def build(html_dir: Path = HTML, out: Path = OUT, today: date | None = None) -> dict[str, bytes]:
    study = load_study()
    today = today or date.today()
    identity = identity_line(study, today)
    title = f"{study.identification.nct_id.value}: the protocol book"
    cover = [
        study.identification.brief_title.value,
        f"Registry record {study.identification.nct_id.value}, last updated "
        f"{study.status.last_update.value.isoformat()}",
        f"Protocol book version {book_version()}, built {today.isoformat()}",
    ]
    book = chapters(html_dir, REPO)
    pdfs: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="binder-") as work_dir, chromium() as driver:
        work = Path(work_dir)

        def printed(name: str, html: str) -> bytes:
            page = work / f"{name}.html"
            page.write_text(html, encoding="utf-8")
            return print_pdf(driver, page)

        pdfs["checklist"] = printed("checklist", checklist_html(study, identity))
        pdfs["cards"] = printed("cards", pocket_cards_html(study, identity))
        bodies = chapter_bodies(html_dir, book)
        draft = printed("book", combined_html(html_dir, book, bodies, identity, cover, title))
        titles = [(c.slug, c.title) for c in book]
        pages = _chapter_pages(draft, titles)
        pdfs["book"] = printed(
            "book", combined_html(html_dir, book, bodies, identity, cover, title, pages)
        )
        if _chapter_pages(pdfs["book"], titles) != pages:
            raise PrintError("the contents moved the chapters: the page numbers would be wrong")
    return pdfs


def _has_cjk_font() -> bool:
    """Whether fontconfig (which Chromium asks) knows a Noto Sans CJK font: without one the
    Chinese working translations print as empty boxes, and the PDF still embeds its fonts."""
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(
        ["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False
    )
    return "Noto Sans CJK" in listed.stdout


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    if not (HTML / "book" / "index.html").exists():
        print(f"binder: the book is not built ({HTML}): run `make book` first", file=sys.stderr)
        return 2
    if not _has_cjk_font():
        print(
            "binder: no Noto Sans CJK font is installed, and the forms' Chinese would print as "
            "empty boxes; install Debian's fonts-noto-cjk (.ci/run does) and run again",
            file=sys.stderr,
        )
        return 2
    try:
        pdfs = build()
    except PrintError as error:
        print(f"binder: {error}", file=sys.stderr)
        return 2
    published = HTML / "binder"
    for name, data in pdfs.items():
        summary = summarize(data)
        if summary.fonts_not_embedded:
            print(f"binder: {FILES[name]}: fonts not embedded: {summary.fonts_not_embedded}")
            return 4
        _write_atomically(OUT / FILES[name], data)
        _write_atomically(published / FILES[name], data)
        width, height = summary.size_mm
        print(
            f"{FILES[name]}: {summary.pages} pages, {width} × {height} mm, "
            f"{len(summary.fonts)} fonts, all embedded"
        )
    print(f"binder: written to {OUT} and {published} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
