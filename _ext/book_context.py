"""Local Sphinx extension of the protocol book (listed in _config.yml `local_extensions`).

- Every page shows the registry ID, the record's last-update date and the book's version, read
  from study.yaml and the installed package, never typed (an announcement bar at the top).
- sphinx-thebe, which Jupyter Book 1 always loads, is switched off: it adds a script naming a
  CDN (unpkg.com) to every page, twice, which is a console error and points off-site; the book
  has no launch buttons and must work offline.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sphinx.application import Sphinx


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
        f"all participant examples are synthetic"
    )


def _on_config_inited(app: Sphinx, config: Any) -> None:
    _drop_thebe(app)
    options = dict(config.html_theme_options or {})
    options["announcement"] = _book_identity()
    config.html_theme_options = options
    # pydata-sphinx-theme logs a console error for an empty default mode on a first visit
    config.html_context = {**(config.html_context or {}), "default_mode": "light"}


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _on_config_inited, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
