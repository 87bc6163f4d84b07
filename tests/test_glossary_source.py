"""The glossary's source: its terms in alphabetical order (a reader scans for one), and every
abbreviation the printed forms use defined in it (the built-book check reads the HTML pages
only, so the checklist's "IGRA" went undefined)."""

from __future__ import annotations

import re
from html import unescape

from binder.forms import checklist_html, pocket_cards_html
from protocol.study import load_study
from tests.built.test_glossary_coverage import abbreviations
from tests.conftest import REPO

SOURCE = REPO / "book" / "appendix" / "glossary.md"


def _terms() -> list[str]:
    text = SOURCE.read_text(encoding="utf-8")
    body = text.split("```{glossary}\n", 1)[1].split("\n```", 1)[0]
    return [line for line in body.splitlines() if line and not line[0].isspace()]


def _defined() -> set[str]:
    found = set()
    for term in _terms():
        found |= {term, *re.split(r"[/ ]", term), *re.split(r"[/ -]", term)}
    return found


def _visible(page: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def test_the_terms_are_in_alphabetical_order():
    terms = _terms()
    assert len(terms) >= 60
    assert terms == sorted(terms, key=str.casefold)


def test_every_abbreviation_on_the_printed_forms_is_defined():
    identity = "NCT06375005 · synthetic identity line"
    study = load_study()
    for page in (checklist_html(study, identity), pocket_cards_html(study, identity)):
        assert sorted(abbreviations(_visible(page)) - _defined()) == []
