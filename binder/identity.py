"""The book's identity, as every page and every printed sheet shows it."""

from __future__ import annotations

from datetime import date
from importlib.metadata import PackageNotFoundError, version

from protocol.study import Study


def book_version() -> str:
    try:
        return version("nct06375005-protocol-book")
    except PackageNotFoundError:  # pragma: no cover - the Makefile installs the package
        return "unknown"


def identity_line(study: Study, built: date) -> str:
    """``NCT06375005 · registry record 2025-02-11 · protocol book 0.1.0 · built 2026-11-26 · not
    the approved protocol``: what a printed sheet must carry to be traced to its source."""
    return (
        f"{study.identification.nct_id.value} · registry record "
        f"{study.status.last_update.value.isoformat()} · protocol book {book_version()} · "
        f"built {built.isoformat()} · not the approved protocol"
    )


def css_string(text: str) -> str:
    """Text as a CSS string literal (for ``content:``)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ") + '"'


def page_margin_css(identity: str) -> str:
    """The identity at the top of every printed page and its number at the foot."""
    return (
        "@page {\n"
        f"  @top-center {{ content: {css_string(identity)}; font: 8pt sans-serif; color: #333; }}\n"
        '  @bottom-right { content: "page " counter(page) " of " counter(pages); '
        "font: 8pt sans-serif; color: #333; }\n"
        "}\n"
    )
