"""Every abbreviation a reader page uses is in the glossary (issue 12 §5), with its
simplified-Chinese working translation marked lang="zh-Hans".

An abbreviation is a word with at least two capitals, two of them side by side or no more small
letters than capitals (ALT, IgG, eGFR, TBil, dcSSc, mIU, CAR-T): names such as CellCept or
LeRoy, and camel-case type names, are not. Identifiers (criterion, issue and registry IDs, the
synthetic participants' codes) are not abbreviations either; they are explained where used.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.built.test_reader_language import HTML, READER_PAGES, _prose

GLOSSARY = "book/appendix/glossary"
# The references list quotes its sources' titles (AMA, BMJ, ICSH …) as published.
SCANNED = [page for page in READER_PAGES if page != "book/appendix/references"]

_WORD = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z0-9]*(?:-[A-Z]+)*(?![\w])")
IDENTIFIER = re.compile(
    # criterion, issue and registry IDs, synthetic participants, a date's pattern
    r"(?:IN|EX)\d{2}|PI\d{2}|NCT\d{8}|C\d{5}|SYN|YYYY(?:-MM(?:-DD)?)?"
)
# Words a page shows as they are typed, each for its reason.
ALLOWED = {
    # the command's placeholders for a value and its unit, in its own message
    "book/screening/labs": {"VALUE", "UNIT"},
    # the glossary quotes CDISC submission values to explain the display labels
    GLOSSARY: {"EVERY", "WEEK", "SUBCUTANEOUS"},
}


def is_abbreviation(word: str) -> bool:
    if word in ("II", "III"):  # Roman numerals (RNA polymerase III), not abbreviations
        return False
    letters = word.replace("-", "")
    capitals = sum(c.isupper() for c in letters)
    side_by_side = re.search(r"[A-Z]{2}", letters) is not None
    return capitals >= 2 and (side_by_side or capitals >= sum(c.islower() for c in letters))


def abbreviations(text: str) -> set[str]:
    # a plural (IgGs, IDs) is its abbreviation
    words = {
        w[:-1] if w.endswith("s") and is_abbreviation(w[:-1]) else w for w in _WORD.findall(text)
    }
    return {w for w in words if is_abbreviation(w) and not IDENTIFIER.fullmatch(w)}


def glossary_terms() -> dict[str, str]:
    """Each abbreviation the glossary defines (a term such as ESC/ERS or CKD-EPI 2021 defines
    each of its parts), with the definition's HTML."""
    page = (HTML / f"{GLOSSARY}.html").read_text(encoding="utf-8")
    terms: dict[str, str] = {}
    for term, definition in re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd>(.*?)</dd>", page, re.S):
        term = re.sub(r"<a class=\"headerlink\".*?</a>", "", term)
        name = html.unescape(re.sub(r"<[^>]+>", "", term)).strip()
        terms[name] = definition
        for part in re.split(r"[/ ]", name) + re.split(r"[/ -]", name):
            terms.setdefault(part, definition)
    return terms


@pytest.fixture(scope="module")
def terms() -> dict[str, str]:
    return glossary_terms()


def test_the_rule_tells_abbreviations_from_names():
    for word in ("ALT", "IgG", "eGFR", "TBil", "mIU", "CAR-T", "SC", "dcSSc", "BLyS", "SmPC"):
        assert is_abbreviation(word), word
    for word in (
        "CellCept",
        "LeRoy",
        "RemeGen",
        "MabThera",
        "startDateStruct",
        "SscFindings",
        "III",
    ):
        assert not is_abbreviation(word), word
    assert abbreviations("ALT or AST; SC/IV/IM; IgGs; EX24, PI30, NCT06375005") == {
        "ALT",
        "AST",
        "SC",
        "IV",
        "IM",
        "IgG",
    }


@pytest.mark.parametrize("entry", SCANNED)
def test_every_abbreviation_on_a_reader_page_is_in_the_glossary(entry, terms):
    used = abbreviations(_prose(entry)) - ALLOWED.get(entry, set())
    assert sorted(used - set(terms)) == [], entry


def test_every_glossary_term_has_its_chinese_working_translation(terms):
    page = (HTML / f"{GLOSSARY}.html").read_text(encoding="utf-8")
    entries = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd>(.*?)</dd>", page, re.S)
    assert len(entries) >= 60
    for term, definition in entries:
        chinese = re.findall(r'<span lang="zh-Hans">([^<]+)</span>', definition)
        assert chinese and re.search(r"[\u4e00-\u9fff]", chinese[0]), term
    assert "working translation" in _prose(GLOSSARY)
