"""The fast YAML loader of the study (libyaml's parser under the book's strict composer) reads
every document as the pure-Python StrictLoader reads it: the same data, the same lines, the same
refusal in the same words. What libyaml cannot parse is read again by StrictLoader, and a text
holding a character where the two are known to differ is read by it alone, so only a document
libyaml accepts and PyYAML refuses (or reads otherwise) could differ: these tests look for one
(they found the characters the fast path leaves to StrictLoader, and that libyaml reads
some text PyYAML refuses)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protocol import documents
from protocol.errors import ProtocolDataError
from protocol.study import STUDY_PATH
from tests.conftest import examples

REPO = Path(__file__).resolve().parents[1]
CASES = sorted((REPO / "book" / "cases").glob("*.yaml"))
DOCUMENTS = [p.read_text(encoding="utf-8") for p in CASES] + [
    (REPO / "examples" / "washout-synthetic.yaml").read_text(encoding="utf-8")
]

pytestmark = pytest.mark.skipif(documents.CParser is None, reason="PyYAML without libyaml")


def _read(text: str, pure: bool) -> tuple[str, object]:
    """What parse_yaml_text gives: the data and each node's line, or the refusal's words."""
    try:
        data, node = documents.parse_yaml_text(text, "study.yaml", fast=not pure)
    except ProtocolDataError as exc:
        return "refused", str(exc)
    return "read", (repr(data), _lines(node))


def _lines(node: object) -> list[int]:
    """Every node's first line, in document order (the lines error messages name); an empty
    value's is left out: in a flow mapping broken over lines (`{a: <newline>, b: 1}`) libyaml
    puts it on the next token's line, PyYAML on the colon's (a study's error names its field by
    its path, the line is a help)."""
    if node is None:
        return []
    empty = node.value == ""  # type: ignore[attr-defined]
    found = [-1 if empty else node.start_mark.line]  # type: ignore[attr-defined]
    value = node.value  # type: ignore[attr-defined]
    if isinstance(value, list):
        for child in value:
            for part in child if isinstance(child, tuple) else (child,):
                found.extend(_lines(part))
    return found


def _agree(text: str) -> None:
    """What PyYAML reads, libyaml reads the same (data and lines); what PyYAML refuses is refused
    in its words, or read by libyaml, which is more lenient on some malformed text (`a: >#`:
    a comment glued to a block scalar's indicator). Only a study is read the fast way: its
    author is the study team, and such a study is read as the YAML library in C reads it."""
    fast, pure = _read(text, pure=False), _read(text, pure=True)
    if pure[0] == "read" or fast[0] == "refused":
        assert fast == pure


def test_a_readable_document_is_read_by_the_fast_loader_alone(monkeypatch):
    """The pure loader is only the fallback for a document libyaml refuses (its words)."""

    def no_pure_loader(*args: object) -> None:
        raise AssertionError("the pure-Python loader was used on a readable document")

    monkeypatch.setattr(documents, "StrictLoader", no_pure_loader)
    text = STUDY_PATH.read_text(encoding="utf-8")
    data, _ = documents.parse_yaml_text(text, "study.yaml", fast=True)
    assert data["criteria"][0]["id"] == "IN01"


@pytest.mark.parametrize("text", [STUDY_PATH.read_text(encoding="utf-8"), *DOCUMENTS])
def test_the_project_s_documents_read_the_same(text):
    _agree(text)


#: The characters that make YAML's structure, and some it refuses or reads specially.
_YAML_CHARACTERS = ":- \n\t#{}[],'\"&*!|>%@`?0123456789abyno.eE+_~\\\x00\x07\x85\ufeff\u2028é中"


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example("a: &x 1\nb: *x\n")
@example("a: !!str 1\n")
@example("a: 0171\n")
@example("- [1, {a: b}]\n- x: 0121.5\n")
@example("a:\n  b:\n\tc: 1\n")
@example("a: 1\na: 2\n")
@example("? [a]\n: b\n")
@example("%YAML 1.1\n---\na: 1\n")
@example("a: '\x85'\n")
@example("a: 1\n?")  # an empty explicit key: libyaml puts it on the next line
@example("\x85\ufeff")  # libyaml reads nothing, PyYAML a byte-order mark
@example("!+!")  # both refuse: libyaml reads a tag the composer refuses, PyYAML a syntax error
@given(st.text(alphabet=_YAML_CHARACTERS, max_size=40))
def test_any_short_text_reads_the_same(text):
    _agree(text)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(DOCUMENTS),
    st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(_YAML_CHARACTERS)),
        min_size=1,
        max_size=4,
    ),
)
def test_a_worked_case_edited_anywhere_reads_the_same(text, edits):
    """A record with characters inserted, deleted or replaced at random places: mostly
    documents near a real one, with the slips a person makes."""
    for where, how, character in edits:
        at = int(where * len(text))
        if how == 0:
            text = text[:at] + character + text[at:]
        elif how == 1:
            text = text[:at] + text[at + 1 :]
        elif how == 2:
            text = text[:at] + character + text[at + 1 :]
        else:  # a line repeated, or indented one more space
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end < 0 else end + 1
            text = (
                text[:end] + text[start:end] + text[end:]
                if character < "m"
                else (text[:start] + " " + text[start:])
            )
    _agree(text)
