"""registry-check aligns the record's criteria with study.yaml's text by text.

A tester inserted one bullet after EX01 in a copy of the record: `registry-check` reported 63
differences, each later criterion paired with the wrong text and its rules with another
criterion's. Now one inserted, removed or moved criterion is that one difference (with the
count), and the rules are compared once the criteria align.
"""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.registry_check import cross_check, load_record, unescape_markdown
from protocol.study import iter_facts, load_study

RECORD = load_record()
STUDY = load_study()
CRITERIA = RECORD["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
BULLETS = [line for line in CRITERIA.split("\n") if line.startswith("* ")]


def _record_with(text: str) -> dict:
    record = copy.deepcopy(RECORD)
    record["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = text
    return record


def _places(text: str) -> list[tuple[str, str]]:
    return [(m.yaml_path, m.record_says) for m in cross_check(STUDY, _record_with(text))]


def test_one_bullet_inserted_is_one_difference_and_the_count():
    text = CRITERIA.replace("* Limited scleroderma.\n", "* Limited scleroderma.\n* Smoker.\n")
    assert _places(text) == [
        ("criteria", "31 exclusion criteria"),
        ("criteria", "'Smoker.'"),
    ]


def test_one_bullet_removed_is_one_difference_the_count_and_its_quoted_fact():
    # the fact whose quote was that bullet is no longer supported by the record: said too
    text = CRITERIA.replace("* Disease duration of greater than 3 years.\n", "")
    assert _places(text)[1:] == [
        ("criteria", "29 exclusion criteria"),
        ("criteria[8].text (EX02)", "no such exclusion criterion"),
    ]
    assert _places(text)[0][0] == "criterion_rules.disease_duration_exclusion"


def test_one_bullet_reworded_is_that_criterion():
    text = CRITERIA.replace("* Limited scleroderma.", "* Limited cutaneous scleroderma.")
    found = cross_check(STUDY, _record_with(text))
    assert [m.yaml_path for m in found] == ["criteria[7].text (EX01)"]


def _quoting(bullet: str) -> int:
    """How many registry facts quote words of ``bullet`` (the record escapes < and ^)."""
    words = unescape_markdown(bullet.removeprefix("* "))
    return sum(
        1
        for _, fact in iter_facts(STUDY)
        if fact.provenance == "registry" and fact.quote and fact.quote in words
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, len(BULLETS) - 1), st.sampled_from(["insert", "remove"]))
def test_any_one_bullet_inserted_or_removed_is_reported_there_alone(index, change):
    # wherever it happens: the count, the bullet, the facts quoting a removed bullet, and
    # nothing at the later criteria
    bullet = BULLETS[index]
    if change == "insert":
        new = "\n* A criterion no version has."
        text = (
            CRITERIA.replace(bullet, bullet + new, 1)
            if not CRITERIA.endswith(bullet)
            else (CRITERIA + new)
        )
    elif bullet + "\n" in CRITERIA:
        text = CRITERIA.replace(bullet + "\n", "", 1)
    else:
        text = CRITERIA.replace("\n" + bullet, "", 1)
    assert text != CRITERIA
    found = cross_check(STUDY, _record_with(text))
    on_criteria = [
        m for m in found if m.yaml_path.startswith("criteria") and "rules" not in m.yaml_path
    ]
    assert 1 <= len(on_criteria) <= 2
    quoting = _quoting(bullet) if change == "remove" else 0
    assert len(found) - len(on_criteria) <= quoting


def test_the_rules_are_compared_when_the_criteria_align():
    # a threshold changed in place: the criterion, and the lab fact quoting it
    text = CRITERIA.replace("Hemoglobin \\<8.0 g/dL", "Hemoglobin \\<9.0 g/dL")
    assert text != CRITERIA
    paths = [m.yaml_path for m in cross_check(STUDY, _record_with(text))]
    assert "criteria[30].text (EX24)" in paths and "lab_analytes[0].threshold" in paths


@pytest.mark.parametrize("seed", [1, 2])
def test_two_bullets_swapped_are_reported_without_a_cascade(seed):
    order = list(range(len(BULLETS)))
    rng = random.Random(seed)
    first = rng.randrange(8, len(BULLETS) - 1)
    order[first], order[first + 1] = order[first + 1], order[first]
    swapped = BULLETS[order[first]], BULLETS[order[first + 1]]
    if swapped[0] == swapped[1]:
        pytest.skip("two bullets of the same words")
    text = CRITERIA.replace(f"{BULLETS[first]}\n{BULLETS[first + 1]}", "\n".join(swapped), 1)
    assert text != CRITERIA
    assert 1 <= len(cross_check(STUDY, _record_with(text))) <= 2


# -- a change of spacing alone is shown (registry-diff) ---------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    # distinct words: with repeated ones, more than one alignment is right
    st.lists(
        st.from_regex(r"[A-Za-z0-9<>.,()-]{1,8}", fullmatch=True),
        min_size=2,
        max_size=12,
        unique=True,
    ),
    st.data(),
)
def test_a_space_changed_to_another_is_named_in_the_word_diff(words, data):
    # a no-break space in IN01 had been shown as "… abuse, drug abuse, …" with no change marked
    from protocol.amendments import _word_diff

    at = data.draw(st.integers(0, len(words) - 2))
    spacing, name = data.draw(
        st.sampled_from(
            [
                ("\xa0", "(no-break space)"),
                ("\n", "(line break)"),
                ("  ", "(space)(space)"),
                ("\u2009", "(U+2009)"),
            ]
        )
    )
    old = " ".join(words)
    new = " ".join(words[: at + 1]) + spacing + " ".join(words[at + 1 :])
    shown = _word_diff(old, new, 3)
    assert f"[-(space)-] {{+{name}+}}" in shown
    assert f"{words[at]} [-" in shown and f"+}} {words[at + 1]}" in shown
    assert _word_diff(old, old, 3) == _word_diff(old, old.replace(" ", " "), 3)


# -- a long criteria text: its clauses found once, and a text beyond the registry's limit ----


def _clause_as_written_before(text: str, start: int, end: int, limit: int = 110) -> str:
    # the clause rule as it was, walking the whole text on each call (the oracle)
    depth, boundaries = 0, [0]
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        following = text[index + 1 : index + 2]
        if depth <= 0 and (char in ";:" or (char in ",." and following in (" ", ""))):
            boundaries.append(index + 1)
    left = max(b for b in boundaries if b <= start)
    right = min([b - 1 for b in boundaries if b - 1 >= end] + [len(text)])
    clause = text[left:right].strip()
    if len(clause) > limit:
        clause = text[max(left, start - limit // 2) : min(right, end + limit // 2)].strip()
        clause = f"…{clause}…"
    return clause


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab 1;:,.()", min_size=1, max_size=200), st.data())
def test_the_clause_of_a_mention_is_the_same_found_once(text, data):
    from protocol.registry_check import _clause

    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start, len(text)))
    limit = data.draw(st.sampled_from([5, 20, 110]))
    assert _clause(text, start, end, limit) == _clause_as_written_before(text, start, end, limit)


def test_criteria_longer_than_the_registry_takes_are_refused(tmp_path, capsys):
    # a tester's 716 KB criteria text had run for minutes; ClinicalTrials.gov takes 20,000
    # characters of eligibility criteria
    import json

    from protocol.registry_check import CRITERIA_LIMIT
    from trialbook.cli import main

    room = CRITERIA_LIMIT - len(unescape_markdown(CRITERIA))  # as entered, without escapes
    for extra, refused in ((room - 1, False), (room, False), (room + 1, True)):
        text = CRITERIA.replace(
            "* Limited scleroderma.", "* Limited scleroderma" + " " * extra + "."
        )
        path = tmp_path / "record.json"
        path.write_text(json.dumps(_record_with(text)), encoding="utf-8")
        code = main(["registry-check", "--record", str(path)])
        assert (code == 2) == refused
        err = capsys.readouterr().err
        assert ("ClinicalTrials.gov's limit" in err) == refused
