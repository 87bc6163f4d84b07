"""The book's references (study.yaml ``references``) as BibTeX for sphinxcontrib-bibtex.

``book/references.bib`` is generated from study.yaml and committed (the build reads it);
a test fails when the two drift apart. Regenerate with ``python -m protocol.references``.
"""

from __future__ import annotations

from pathlib import Path

from protocol.study import Study, load_study

BIB_PATH = Path(__file__).resolve().parents[1] / "book" / "references.bib"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("%", "\\%")


def to_bibtex(study: Study | None = None) -> str:
    study = study or load_study()
    entries = [
        "% Generated from protocol/study.yaml by `python -m protocol.references`; do not edit."
    ]
    for key, reference in sorted(study.references.items()):
        fields = [f"  title = {{{_escape(reference.citation)}}}"]
        if reference.url:
            fields.append(f"  url = {{{reference.url}}}")
        entries.append(f"@misc{{{key},\n" + ",\n".join(fields) + "\n}")
    return "\n\n".join(entries) + "\n"


if __name__ == "__main__":
    BIB_PATH.write_text(to_bibtex(), encoding="utf-8")
    print(f"wrote {BIB_PATH}")
