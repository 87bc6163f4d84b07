"""Each problem with a file is a record (issue 14 §4): path, line, value found, what was
expected, rendered to text only at the edge. Tests and programs match its fields, not sentence
fragments; several problems travel together on one error; they pickle with their fields.

The expected paths and lines are read off the synthetic files written here.
"""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from protocol.errors import Problem, ProtocolDataError, RegistryMismatchError
from protocol.participant import load_record
from protocol.screening import screen
from tests.conftest import REPO

CASE01 = REPO / "book" / "cases" / "case01-eligible.yaml"


def _write(tmp_path, replacements: list[tuple[str, str]]):
    text = CASE01.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "record.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_every_problem_of_a_record_travels_together_with_its_fields(tmp_path):
    path, text = _write(
        tmp_path,
        [("sex: female", "sex: unknown-sex"), ("birth: 1978-", "birth: 1978-02-30 #")],
    )
    with pytest.raises(ProtocolDataError) as caught:
        load_record(path)
    problems = {p.path: p for p in caught.value.problems}
    assert set(problems) >= {"sex", "dates.birth"}
    sex_line = next(n for n, line in enumerate(text.splitlines(), 1) if "unknown-sex" in line)
    assert problems["sex"].line == sex_line
    assert problems["sex"].found == "'unknown-sex'"
    assert "female" in problems["sex"].expected
    assert (
        problems["dates.birth"].found is not None and "1978-02-30" in problems["dates.birth"].found
    )
    # rendered only at the edge, one line each, naming the field and the line
    assert str(problems["sex"]).startswith(f"sex (line {sex_line}) = 'unknown-sex': ")
    assert f"  - {problems['sex']}" in str(caught.value)


def test_a_lab_problem_found_while_screening_names_its_field(tmp_path):
    path, _ = _write(
        tmp_path,
        [("hemoglobin: {value: 121, unit: g/L}", "hemoglobin: {value: 121, unit: furlong}")],
    )
    with pytest.raises(ProtocolDataError) as caught:
        screen(load_record(path))
    (problem,) = [p for p in caught.value.problems if p.path.startswith("labs.hemoglobin")]
    assert problem.path == "labs.hemoglobin.unit"
    assert "furlong" in problem.expected


def test_washout_entry_problems_are_records():
    from protocol.washout import WashoutInput, entry_problems

    data = WashoutInput(
        planned_randomization=date(2025, 3, 17),
        medications=[{"name": "methotrexate", "last_dose": date(2025, 3, 18)}],
        events=[{"kind": "no-such-kind"}],
    )
    problems = {p.path: p for p in entry_problems(data)}
    late = problems["medications[0] (methotrexate).last_dose"]
    assert late.found == "2025-03-18"
    assert late.expected.startswith("after the planned randomization 2025-03-17")
    kind = problems["events[0] (no-such-kind).kind"]
    assert kind.found == "'no-such-kind'" and "unknown event kind" in kind.expected


def test_a_registry_disagreement_is_a_record(tmp_path):
    from protocol.registry_check import load_checked_study
    from tests.conftest import REPO as repo

    text = (repo / "protocol" / "study.yaml").read_text(encoding="utf-8")
    old = "  mrss_minimum:\n    value: 10"
    assert text.count(old) == 1
    path = tmp_path / "study.yaml"
    path.write_text(text.replace(old, "  mrss_minimum:\n    value: 12"), encoding="utf-8")
    with pytest.raises(RegistryMismatchError) as caught:
        load_checked_study(path)
    (problem,) = [p for p in caught.value.problems if p.path == "criterion_rules.mrss_minimum"]
    assert problem.found == "12"
    assert "protocolSection.eligibilityModule" in problem.expected
    assert str(problem).startswith("criterion_rules.mrss_minimum: study.yaml says 12")


@pytest.mark.parametrize(
    "problem",
    [
        Problem("a date", path="dates.birth", found="'x'", line=3),
        Problem("is larger than 10 bytes"),
        Problem("appears twice", found="key 'a'", line=7),
        Problem("said whole", path="p", found="1", text="p: said whole, found 1"),
    ],
)
def test_problems_and_their_errors_pickle_with_their_fields(problem):
    copy = pickle.loads(pickle.dumps(problem))
    assert (copy.path, copy.found, copy.expected, copy.line, str(copy)) == (
        problem.path,
        problem.found,
        problem.expected,
        problem.line,
        str(problem),
    )
    error = pickle.loads(pickle.dumps(ProtocolDataError("f.yaml", [problem, "a plain line"])))
    assert error.problems[0].path == problem.path and error.problems[1].expected == "a plain line"
    assert error.to_json()["problems"][0]["line"] == problem.line


def test_the_rendering_of_a_problem():
    assert str(Problem("a date", path="dates.birth", found="'x'", line=3)) == (
        "dates.birth (line 3) = 'x': a date"
    )
    assert str(Problem("a date", path="dates.birth", found="'x'")) == "dates.birth = 'x': a date"
    assert str(Problem("missing", path="dates.birth")) == "dates.birth: missing"
    assert (
        str(Problem("appears twice", found="key 'a'", line=7)) == "line 7 = key 'a': appears twice"
    )
    assert str(Problem("not a list", line=2)) == "line 2: not a list"
    assert str(Problem("too big")) == "too big"
