"""Every criterion and protocol rule has an implementation, a test and a page."""

from __future__ import annotations

import importlib

import pytest

from protocol.study import load_study
from protocol.traceability import rules, tagged_tests, trace
from tests.conftest import REPO
from tests.test_book_sources import TOC_FILES

TRACE = trace(REPO / "tests")


def test_every_criterion_is_a_rule():
    keys = {r.key for r in TRACE}
    assert {f"criteria.{c.id}" for c in load_study().criteria} <= keys


@pytest.mark.parametrize("rule", TRACE, ids=lambda r: r.key)
def test_every_rule_has_a_test_an_implementation_and_a_page(rule):
    assert rule.tests, f"{rule.key} has no test tagged @pytest.mark.traces"
    assert rule.page in TOC_FILES, f"{rule.key}: {rule.page} is not in _toc.yml"
    module, _, name = rule.implemented_by.partition(".")
    target = importlib.import_module(module + "." + name.split(".")[0])
    for part in name.split(".")[1:]:
        if "[" in part:  # a named check made by a factory, e.g. washout_outcome[EX09]
            break
        target = getattr(target, part)


def test_tags_name_only_keys_that_exist():
    keys = {r.key for r in rules()}
    prefixes = {k.rsplit(".", i)[0] for k in keys for i in range(k.count(".") + 1)}
    for test, tags in tagged_tests(REPO / "tests").items():
        for tag in tags:
            assert tag in prefixes, f"{test} is tagged {tag!r}, which is no study.yaml rule"


def test_a_parent_tag_does_not_count_as_a_test_of_a_rule(tmp_path):
    """The traceability check itself can fail: with only a parent tag, a rule has no test."""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_parent.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.traces('lab_analytes', 'criteria')\n"
        "def test_something():\n    pass\n"
    )
    traced = {rule.key: rule.tests for rule in trace(tests)}
    assert traced["lab_analytes.hemoglobin"] == [] and traced["criteria.EX01"] == []
    (tests / "test_own.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.traces('lab_analytes.hemoglobin')\n"
        "def test_haemoglobin():\n    pass\n"
    )
    traced = {rule.key: rule.tests for rule in trace(tests)}
    assert traced["lab_analytes.hemoglobin"] == ["tests/test_own.py::test_haemoglobin"]
    assert traced["lab_analytes.wbc"] == []
