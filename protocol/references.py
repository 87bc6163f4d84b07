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


def _person(author: str) -> str:
    # an organisation is braced, so BibTeX keeps it whole instead of splitting first and last names
    return author if "," in author or author == "others" else "{" + _escape(author) + "}"


def to_bibtex(study: Study | None = None) -> str:
    """Each reference as a BibTeX entry. Titles are double-braced, so names and acronyms keep the
    capitals they are written with; ``shorthand`` carries the label the text cites it by (the
    book's label style, in ``_ext``, prints it)."""
    study = study or load_study()
    entries = [
        "% Generated from protocol/study.yaml by `python -m protocol.references`; do not edit."
    ]
    for key, reference in sorted(study.references.items()):
        fields = [f"  shorthand = {{{_escape(reference.label)}}}"]
        if reference.authors:
            people = " and ".join(_person(a) for a in reference.authors)
            fields.append(f"  author = {{{people}}}")
        fields.append(f"  title = {{{{{_escape(reference.title)}}}}}")
        if reference.published_in:
            fields.append(f"  howpublished = {{{_escape(reference.published_in)}}}")
        if reference.year:
            fields.append(f"  year = {{{reference.year}}}")
        if reference.note:
            fields.append(f"  note = {{{_escape(reference.note)}}}")
        if reference.doi:
            fields.append(f"  doi = {{{reference.doi}}}")
        if reference.url:
            fields.append(f"  url = {{{reference.url}}}")
        entries.append(f"@misc{{{key},\n" + ",\n".join(fields) + "\n}")
    return "\n\n".join(entries) + "\n"


if __name__ == "__main__":
    BIB_PATH.write_text(to_bibtex(), encoding="utf-8")
    print(f"wrote {BIB_PATH}")
