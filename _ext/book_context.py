"""Local Sphinx extension of the protocol book (listed in _config.yml `local_extensions`).

- Every page shows the registry ID, the record's last-update date and the book's version, read
  from study.yaml and the installed package, never typed (an announcement bar at the top).
- Every mention of a protocol issue (PI01 ... PI29) in the text links to its entry in the
  protocol issues log; code blocks, printed reports and headings are left as they are.
- References are labelled the way the text cites them ("Inker et al. 2021", "CellCept US label",
  the ``shorthand`` that protocol/references.py writes) and listed in the order of those labels,
  instead of pybtex's alpha stubs such as "[ink]".
- Exercises are numbered afresh on each page (Exercise 1, 2 …), as a reader who opens one page
  expects; sphinx-exercise numbers them across the whole book.
- sphinx-thebe, which Jupyter Book 1 always loads, is switched off: it adds a script naming a
  CDN (unpkg.com) to every page, twice, which is a console error and points off-site; the book
  has no launch buttons and must work offline.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

ISSUES_LOG = "book/appendix/issues-log"
_PROTOCOL_ISSUE = re.compile(r"\bPI\d{2}\b")
# Text inside these is not linked: existing links, code and printed reports, raw HTML, headings.
_NOT_LINKED = (nodes.reference, nodes.FixedTextElement, nodes.literal, nodes.raw, nodes.title)


def _drop_thebe(app: Sphinx) -> None:
    for event, listeners in app.events.listeners.items():
        app.events.listeners[event] = [
            listener
            for listener in listeners
            if not (
                getattr(listener.handler, "__module__", "").startswith("sphinx_thebe")
                and listener.handler.__name__ == "init_thebe_core"  # the CDN script
            )
        ]


def _book_identity() -> str:
    from protocol.study import load_study

    study = load_study()
    try:
        book_version = version("nct06375005-protocol-book")
    except PackageNotFoundError:  # pragma: no cover - the Makefile installs the package
        book_version = "unknown"
    return (
        f"{study.identification.nct_id.value} · registry record last updated "
        f"{study.status.last_update.value.isoformat()} · protocol book version {book_version} · "
        f"not the approved protocol · all participant examples are synthetic"
    )


def _on_config_inited(app: Sphinx, config: Any) -> None:
    _drop_thebe(app)
    options = dict(config.html_theme_options or {})
    options["announcement"] = _book_identity()
    config.html_theme_options = options
    # pydata-sphinx-theme logs a console error for an empty default mode on a first visit
    config.html_context = {**(config.html_context or {}), "default_mode": "light"}


def _link_protocol_issues(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html" or ISSUES_LOG not in app.env.all_docs:
        return
    page = "" if docname == ISSUES_LOG else app.builder.get_relative_uri(docname, ISSUES_LOG)
    # On the log itself an entry's own bold title is not a link to itself.
    not_linked = _NOT_LINKED + ((nodes.strong,) if docname == ISSUES_LOG else ())
    for text in list(doctree.findall(nodes.Text)):
        value = str(text)
        if not _PROTOCOL_ISSUE.search(value) or _inside(text, not_linked):
            continue
        pieces: list[nodes.Node] = []
        start = 0
        for match in _PROTOCOL_ISSUE.finditer(value):
            pieces.append(nodes.Text(value[start : match.start()]))
            pieces.append(
                nodes.reference(
                    match.group(),
                    match.group(),
                    refuri=f"{page}#{match.group().lower()}",
                    internal=True,
                    classes=["protocol-issue"],
                )
            )
            start = match.end()
        pieces.append(nodes.Text(value[start:]))
        text.parent.replace(text, pieces)


def _inside(node: nodes.Node, kinds: tuple[type, ...]) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parent
    return False


def _register_reference_styles() -> None:
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.plain import Style as PlainStyle
    from pybtex.style.labels import BaseLabelStyle
    from pybtex.style.sorting import BaseSortingStyle

    class ShorthandLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries: Any) -> Any:
            for entry in sorted_entries:
                yield entry.fields["shorthand"]

    class ShorthandOrder(BaseSortingStyle):
        def sorting_key(self, entry: Any) -> str:
            return str(entry.fields["shorthand"]).casefold()

    class BookStyle(PlainStyle):
        default_label_style = "book-shorthand"
        default_sorting_style = "book-shorthand"

    register_plugin("pybtex.style.labels", "book-shorthand", ShorthandLabels, force=True)
    register_plugin("pybtex.style.sorting", "book-shorthand", ShorthandOrder, force=True)
    register_plugin("pybtex.style.formatting", "book", BookStyle, force=True)


def _number_exercises_per_page(app: Sphinx, env: Any) -> list[str]:
    # Sphinx has numbered them across the book (env-get-updated, default priority); keep each
    # page's order and start it at 1. Solutions read their exercise's number from here too.
    for numbers in env.toc_fignumbers.values():
        for kind in ("exercise",):
            if kind in numbers:
                ordered = sorted(numbers[kind], key=lambda node_id: numbers[kind][node_id])
                numbers[kind] = {node_id: (n,) for n, node_id in enumerate(ordered, start=1)}
    return []


def setup(app: Sphinx) -> dict[str, Any]:
    _register_reference_styles()
    app.connect("env-get-updated", _number_exercises_per_page, priority=900)
    app.connect("config-inited", _on_config_inited, priority=900)
    app.connect("doctree-resolved", _link_protocol_issues)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
