"""The book as one printable document: cover, contents and every chapter in table-of-contents
order, from the built HTML (so the PDF is the book readers see, not a second rendering).

Each chapter's article is taken from its built page; its ids are prefixed with the chapter's
slug so that ids repeated across chapters stay unique, and links between chapters become links
inside the PDF. Images and the book's stylesheets are referenced where the build put them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

from binder.identity import page_margin_css

LONG_TOKEN = re.compile(r"\S{25,}")
LANDSCAPE_COLUMNS = 8
BINDER_CSS = """
/* the theme hides a page's first h1 in print, since it prints the title in a header of its own;
   here every chapter's title opens its chapter */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
.binder-chapter { break-before: page; }
.binder-cover { break-after: page; padding-top: 60mm; }
.binder-cover .cover-title { font-size: 26pt; margin-bottom: 6mm; }
.binder-cover p { font-size: 12pt; margin: 2mm 0; }
.binder-cover .warning { margin-top: 14mm; font-weight: bold; font-size: 13pt; }
.binder-contents { break-after: page; }
.binder-contents ol { list-style: none; padding-left: 0; }
.binder-contents li { display: flex; font-size: 10.5pt; margin: 1.2mm 0; }
.binder-contents li .title { flex: 1; }
.binder-contents li .dots { flex: 1; border-bottom: 0.6pt dotted #777; margin: 0 2mm 1.2mm; }
.binder-contents .part { font-weight: bold; margin-top: 4mm; }
body { margin: 0; }
"""


@dataclass(frozen=True)
class Chapter:
    part: str
    entry: str  # e.g. book/eligibility/criteria
    title: str
    slug: str


def toc_entries(repo: Path) -> list[tuple[str, str]]:
    """(part caption, entry) in the order of _toc.yml, the landing page first."""
    toc = yaml.safe_load((repo / "_toc.yml").read_text(encoding="utf-8"))
    entries = [("", toc["root"])]
    for part in toc["parts"]:
        entries += [(part["caption"], chapter["file"]) for chapter in part["chapters"]]
    return entries


def _slug(entry: str) -> str:
    return entry.replace("/", "-")


def _target(page: str, href: str) -> tuple[str | None, str]:
    """The book entry a relative link points to (or None) and its fragment."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None, ""
    if not parts.path:
        return page, parts.fragment
    resolved = PurePosixPath(page).parent.joinpath(parts.path)
    normal: list[str] = []
    for piece in resolved.parts:
        if piece == "..":
            if normal:
                normal.pop()
        elif piece != ".":
            normal.append(piece)
    path = "/".join(normal)
    return (path.removesuffix(".html") if path.endswith(".html") else path), parts.fragment


def _chapter_html(html_dir: Path, chapter: Chapter, entries: set[str]) -> str:
    from bs4 import BeautifulSoup

    page = html_dir / f"{chapter.entry}.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article")
    if article is None:
        raise ValueError(f"{page}: no article: is the book built?")
    for unwanted in article.select("script, a.headerlink, .cell_input, .prev-next-area"):
        unwanted.decompose()
    for details in article.select("details"):
        details["open"] = ""  # on paper every solution is shown
    for tag in article.find_all(id=True):
        tag["id"] = f"{chapter.slug}--{tag['id']}"
    for link in article.find_all("a", href=True):
        target, fragment = _target(chapter.entry, link["href"])
        if target is None:
            continue  # a web address stays as it is
        if target in entries:
            link["href"] = f"#{_slug(target)}" + (f"--{fragment}" if fragment else "")
        else:  # a download or another file of the site: the text stays, the link goes
            del link["href"]
    for table in article.find_all("table"):  # as wide-tables.js marks them on the website
        columns = max((len(row.find_all(["td", "th"])) for row in table.find_all("tr")), default=0)
        if columns >= LANDSCAPE_COLUMNS and table.parent is not None:
            table.parent["class"] = [*table.parent.get("class", []), "print-landscape"]
    for cell in article.find_all(["td", "th"]):
        if LONG_TOKEN.search(cell.get_text()):  # as wide-tables.js marks it on the website
            cell["class"] = [*cell.get("class", []), "long-token"]
    for image in article.find_all("img", src=True):
        if not urlsplit(image["src"]).scheme:
            image["src"] = (page.parent / image["src"]).resolve().as_uri()
    return (
        f'<section class="binder-chapter" id="{chapter.slug}">{article.decode_contents()}</section>'
    )


def chapters(html_dir: Path, repo: Path) -> list[Chapter]:
    from bs4 import BeautifulSoup

    found = []
    for part, entry in toc_entries(repo):
        soup = BeautifulSoup(
            (html_dir / f"{entry}.html").read_text(encoding="utf-8"), "html.parser"
        )
        heading = soup.select_one("article.bd-article h1")
        title = heading.get_text(" ", strip=True).removesuffix("#").strip() if heading else entry
        found.append(Chapter(part, entry, title, _slug(entry)))
    return found


def _stylesheets(html_dir: Path, first: str) -> str:
    from bs4 import BeautifulSoup

    page = html_dir / f"{first}.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    links = []
    for link in soup.select('link[rel="stylesheet"]'):
        href = link.get("href", "")
        if urlsplit(href).scheme:
            continue
        uri = (page.parent / href.split("?")[0]).resolve().as_uri()
        media = f' media="{escape(link["media"])}"' if link.get("media") else ""
        links.append(f'<link rel="stylesheet" href="{uri}"{media}>')
    return "\n".join(links)


def chapter_bodies(html_dir: Path, book: list[Chapter]) -> str:
    """Every chapter's article, rewritten for the one document (parsed once; both printing
    passes reuse it)."""
    entries = {c.entry for c in book}
    return "".join(_chapter_html(html_dir, chapter, entries) for chapter in book)


def combined_html(
    html_dir: Path,
    book: list[Chapter],
    bodies: str,
    identity: str,
    cover_lines: list[str],
    title: str,
    pages: dict[str, int] | None = None,
) -> str:
    """The whole book as one HTML document around ``bodies`` (:func:`chapter_bodies`).
    ``pages`` (chapter slug -> page) numbers the contents; without it the contents show a
    placeholder of the same width, for the first pass."""
    contents = []
    part = None
    for chapter in book:
        if chapter.part and chapter.part != part:
            contents.append(f'<li class="part">{escape(chapter.part)}</li>')
            part = chapter.part
        number = str(pages[chapter.slug]) if pages else "000"
        contents.append(
            f'<li><a class="title" href="#{chapter.slug}">{escape(chapter.title)}</a>'
            f'<span class="dots"></span><span class="page">{number}</span></li>'
        )
    cover = "".join(f"<p>{escape(line)}</p>" for line in cover_lines)
    body = (
        f'<section class="binder-cover"><p class="cover-title">{escape(title)}</p>{cover}'
        '<p class="warning">This is not the approved protocol. Confirm anything you act on '
        "against the approved protocol version your site holds.</p></section>"
        f'<section class="binder-contents"><h2>Contents</h2><ol>{"".join(contents)}</ol></section>'
        + bodies
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{_stylesheets(html_dir, book[0].entry)}"
        f"<style>{page_margin_css(identity)}{BINDER_CSS}</style></head>"
        '<body><main class="bd-main"><div class="bd-content"><div class="bd-article-container">'
        f'<article class="bd-article">{body}</article></div></div></main></body></html>\n'
    )
