"""The issues log quotes the registry record, never paraphrases it (DESIGN principle 5): every
fragment an entry's ``record_says`` gives as the record's words is in the stored record.

PI32 once "quoted" EX09 as "including but not limited to methotrexate, azathioprine,
cyclosporine, tacrolimus", words the record never wrote; a reader of the issues log took them for
the record's own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.registry_check import load_record, unescape_markdown
from protocol.study import load_study

ISSUES = load_study().protocol_issues


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _plain(text: str) -> str:
    """The record's words as a reader sees them: markdown escapes removed, spaces as one."""
    return re.sub(r"\s+", " ", unescape_markdown(text)).strip()


RECORD_WORDS = "\n".join(_plain(text) for text in _strings(load_record()))


def quoted_fragments(says: str) -> list[str]:
    """The pieces of a ``record_says`` that claim to be the record's words. The log's forms:
    phrases in double quotes (then only those are quotes); a note wholly in brackets (no quote);
    else the text itself, a closing bracketed note left out, with " / " between criteria, "…"
    for words left out, and "IN04: " naming whose words follow."""
    says = says.strip()
    pieces = re.findall(r'"([^"]+)"', says)
    if not pieces:
        if says.startswith("(") and says.endswith(")"):
            return []
        pieces = re.split(r" / ", re.sub(r"\s*\([^()]*\)$", "", says))
    found = []
    for piece in pieces:
        for part in re.split(r"\s*…\s*|\s+(?=(?:IN|EX)\d\d: )", piece):
            part = re.sub(r"^(?:IN|EX)\d\d: ", "", part.strip()).strip()
            if part:
                found.append(part)
    return found


def misquoted(says: str) -> list[str]:
    return [f for f in quoted_fragments(says) if _plain(f) not in RECORD_WORDS]


@pytest.mark.parametrize("issue", ISSUES, ids=[i.id for i in ISSUES])
def test_every_quote_of_the_issues_log_is_the_records_words(issue):
    assert misquoted(issue.record_says) == [], f"{issue.id} quotes words the record never wrote"


def test_the_entries_quote_something():
    """The splitter finds quotes in most entries (a splitter that found none would pass all)."""
    quoting = [i.id for i in ISSUES if quoted_fragments(i.record_says)]
    assert len(quoting) >= len(ISSUES) - 4


@pytest.mark.parametrize(
    ("says", "expected"),
    [
        (
            '"IN03: dcSSc … according to the LeRoy criteria. EX01: Limited scleroderma."',
            ["dcSSc", "according to the LeRoy criteria.", "Limited scleroderma."],
        ),
        (
            "planned major surgery during the trial period.",
            ["planned major surgery during the trial period."],
        ),
        ("(not in the record)", []),
        ("A … B (listed twice)", ["A", "B"]),
        ("A / B, including …", ["A", "B, including"]),
        (
            '\'"prior to randomization" (EX08); "of screening"\'',
            ["prior to randomization", "of screening"],
        ),
    ],
)
def test_the_fragments_of_each_form_of_quote(says, expected):
    assert quoted_fragments(says) == expected


# the PI32 defect: the record's EX09 with words it never wrote
_PI32_AS_IT_WAS = (
    "Use of immunosuppressive therapies, including but not limited to methotrexate, "
    "azathioprine, cyclosporine, tacrolimus, … within 4 weeks prior to randomization"
)


def test_the_old_pi32_quote_is_caught():
    assert misquoted(_PI32_AS_IT_WAS) == [
        "Use of immunosuppressive therapies, including but not limited to methotrexate, "
        "azathioprine, cyclosporine, tacrolimus,"
    ]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_word_changed_in_any_quote_is_caught(data):
    """Any quoted word replaced by one the record never uses makes its entry misquoted."""
    quoting = [i for i in ISSUES if quoted_fragments(i.record_says)]
    issue = data.draw(st.sampled_from(quoting))
    fragment = data.draw(st.sampled_from(quoted_fragments(issue.record_says)))
    words = list(re.finditer(r"[A-Za-z]{3,}", fragment))
    if not words:
        return
    word = data.draw(st.sampled_from(words))
    changed = fragment[: word.start()] + "Zyxwvq" + fragment[word.end() :]
    says = issue.record_says.replace(fragment, changed, 1)
    assert misquoted(says), (issue.id, changed)
