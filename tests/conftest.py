"""Shared helpers: variants of the real study.yaml with one thing changed; no silent skip in CI."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from protocol.study import STUDY_PATH

REPO = Path(__file__).resolve().parents[1]
SHARED_REGISTRY_TEXT = REPO.parent / "shared" / "registry" / "NCT06375005.txt"

# `make mutation` runs the suite once per mutant from a copy of the tree in mutants/. There the
# property tests try a tenth of their examples (at least 10): a mutant that survives them is
# still listed and triaged, so the score is a lower bound, and the run fits in an hour.
UNDER_MUTATION = REPO.name == "mutants"
if UNDER_MUTATION:
    settings.register_profile("mutation", max_examples=10, deadline=None)
    settings.load_profile("mutation")


def examples(count: int) -> int:
    """``count`` Hypothesis examples, or a tenth of them (at least 10) under mutation testing."""
    return max(10, count // 10) if UNDER_MUTATION else count


def study_data() -> dict:
    """study.yaml as plain data, a fresh copy for a test to edit. Parsed once per process by
    libyaml (PyYAML's pure-Python loader took half a second a time; the tests that edit the
    study as data spent a twentieth of the suite's time on it). The project's own loader, which
    keeps line numbers and refuses what it must, is tested on its own."""
    return copy.deepcopy(_study_data())


@functools.cache
def _study_data() -> dict:
    import yaml

    return yaml.load(STUDY_PATH.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


@pytest.fixture(scope="session")
def study_text() -> str:
    return STUDY_PATH.read_text(encoding="utf-8")


@pytest.fixture
def study_variant(tmp_path: Path, study_text: str) -> Callable[[str, str], Path]:
    """Write study.yaml with exactly one occurrence of ``old`` replaced by ``new``."""

    def make(old: str, new: str, count: int = 1) -> Path:
        assert study_text.count(old) >= 1, f"{old!r} is not in study.yaml"
        if count == 1:
            assert study_text.count(old) == 1, f"{old!r} is ambiguous in study.yaml"
        path = tmp_path / f"study-{abs(hash((old, new)))}.yaml"
        path.write_text(study_text.replace(old, new, count), encoding="utf-8")
        return path

    return make


@pytest.fixture
def varied_study(tmp_path: Path, study_text: str) -> Callable[..., object]:
    """The study with each ``(old, new)`` replacement made (``old`` found exactly once), loaded
    without the registry cross-check: a protocol version the record does not describe."""
    from protocol.study import load_study

    def make(*replacements: tuple[str, str]) -> object:
        text = study_text
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} is not in study.yaml exactly once"
            text = text.replace(old, new)
        path = tmp_path / f"study-{abs(hash(replacements))}.yaml"
        path.write_text(text, encoding="utf-8")
        return load_study(path)

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """In CI (CI=true) a skipped test fails: what CI does not run, it has not checked (the
    registry text beside the project, Chromium, a built book must all be there)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {reason}"
