"""Traceability: every criterion and protocol rule, from study.yaml to code, tests and page.

- *Rules* are read from study.yaml: the 37 criteria, the doses, frequencies and durations, the
  counting rule, the lab thresholds, the washout windows, the other criterion thresholds, the
  presentations and the (assumed) visit schedule. Each has its study.yaml key.
- *Implemented by* names the function that applies the rule (checked importable by a test).
- *Tests* are found by reading the test files (``ast``, nothing is run): a test is tagged
  ``@pytest.mark.traces("lab_analytes.hemoglobin", ...)``. A rule counts as tested only by a test
  tagged with its own key: a parent tag (``"lab_analytes"``, ``"criteria"``) says what a test is
  about but proves no single rule is tested.
- *Page* is the chapter that shows the rule, and ``shown`` the text that must appear on it.

``tests/test_traceability.py`` fails when a rule has no test or no page.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from protocol.study import Study, load_study
from protocol.units import format_quantity

PAGES = {
    "criteria": "book/eligibility/criteria",
    "interventions": "book/intervention/intervention",
    "dosing_rules": "book/intervention/intervention",
    "presentations": "book/intervention/intervention",
    "visit_schedule": "book/intervention/calendar",
    "lab_analytes": "book/screening/labs",
    "medication_classes": "book/screening/washout",
    "exposure_events": "book/screening/washout",
    "corticosteroid_rule": "book/screening/washout",
    "criterion_rules": "book/eligibility/criteria",
}

CRITERION_RULE_CHECKS = {
    "disease_duration_maximum": "in04_duration",
    "disease_duration_exclusion": "ex02_duration",
    "mrss_minimum": "in05_mrss",
    "malignancy_window": "ex25_malignancy",
    "pah_excluded_risk": "ex06_pah",
    "acr_eular_minimum": "in02_acr_eular",
}


@dataclass
class Rule:
    key: str
    what: str
    implemented_by: str
    shown: str
    tests: list[str] = field(default_factory=list)

    @property
    def page(self) -> str:
        return PAGES[self.key.split(".")[0]]


def _criteria(study: Study) -> Iterator[Rule]:
    from protocol.screening import CHECKS

    for criterion in study.criteria:
        yield Rule(
            f"criteria.{criterion.id}",
            f"{criterion.category} criterion",
            CHECKS[criterion.id].name if criterion.id in CHECKS else "criterion_rule",
            criterion.id,
        )


def _interventions(study: Study) -> Iterator[Rule]:
    for intervention in study.interventions:
        for attribute in ("dose", "frequency", "duration"):
            value = getattr(intervention, attribute).value
            shown = (
                intervention.frequency_label if attribute == "frequency" else format_quantity(value)
            )
            yield Rule(
                f"interventions.{intervention.id}.{attribute}",
                f"{intervention.name.value} {attribute}",
                "dosing.regimens.Regimen",
                shown,
            )


def _dosing_rules(study: Study) -> Iterator[Rule]:
    yield Rule(
        "dosing_rules.dose_at_end_of_treatment",
        "counting rule (assumption)",
        "dosing.regimens.Regimen.administration_count",
        "Counting rule",
    )


def _presentations(study: Study) -> Iterator[Rule]:
    for presentation in study.presentations:
        yield Rule(
            f"presentations.{presentation.intervention}.{presentation.dispensing_unit}",
            f"{presentation.form}",
            "dosing.dispensing.units_per_dose",
            format_quantity(presentation.strength.value),
        )


def _visit_schedule(study: Study) -> Iterator[Rule]:
    yield Rule(
        "visit_schedule",
        "visits and windows (assumption)",
        "dosing.calendar.visit_dates",
        study.visit_schedule.value[2].label,
    )


def _lab_analytes(study: Study) -> Iterator[Rule]:
    for analyte in study.lab_analytes:
        yield Rule(
            f"lab_analytes.{analyte.name}",
            f"{analyte.label} ({analyte.criterion})",
            "protocol.labs.check_lab",
            str(analyte.threshold.value) if analyte.threshold else analyte.label,
        )


def _medication_classes(study: Study) -> Iterator[Rule]:
    for group in study.medication_classes:
        function = (
            "protocol.washout._corticosteroid_check"
            if group.rule == "corticosteroid"
            else "protocol.washout.check_medication"
        )
        yield Rule(
            f"medication_classes.{group.id}",
            f"{group.label} ({group.criterion})",
            function,
            group.label,
        )


def _exposure_events(study: Study) -> Iterator[Rule]:
    for event in study.exposure_events:
        yield Rule(
            f"exposure_events.{event.kind}",
            f"{event.label} ({event.criterion})",
            "protocol.washout.check_event",
            event.label,
        )


def _corticosteroid_rule(study: Study) -> Iterator[Rule]:
    yield Rule(
        "corticosteroid_rule.daily_limit",
        "prednisone-equivalent limit (EX11)",
        "protocol.washout._corticosteroid_check",
        format_quantity(study.corticosteroid_rule.daily_limit.value),
    )


def _criterion_rules(study: Study) -> Iterator[Rule]:
    for name, check in CRITERION_RULE_CHECKS.items():
        value = getattr(study.criterion_rules, name).value
        shown = format_quantity(value) if hasattr(value, "units") else str(value)
        if isinstance(value, list):
            shown = " and ".join(value)
        yield Rule(
            f"criterion_rules.{name}", name.replace("_", " "), f"protocol.screening.{check}", shown
        )


#: One builder per section of study.yaml that holds rules, in the order the appendix lists them.
RULE_BUILDERS: tuple[Callable[[Study], Iterator[Rule]], ...] = (
    _criteria,
    _interventions,
    _dosing_rules,
    _presentations,
    _visit_schedule,
    _lab_analytes,
    _medication_classes,
    _exposure_events,
    _corticosteroid_rule,
    _criterion_rules,
)


def rules(study: Study | None = None) -> list[Rule]:
    """Every rule of study.yaml, each with the code that runs it and a value to show."""
    study = study or load_study()
    return [rule for build in RULE_BUILDERS for rule in build(study)]


def _marker_keys(decorator: ast.expr) -> list[str]:
    """The keys of a ``pytest.mark.traces(...)`` decorator (or ``pytestmark = ...``)."""
    if (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "traces"
    ):
        return [a.value for a in decorator.args if isinstance(a, ast.Constant)]
    return []


def tagged_tests(test_dir: Path) -> dict[str, list[str]]:
    """Test id -> the keys it is tagged with, read from the test files without running them."""
    tagged: dict[str, list[str]] = {}
    for path in sorted(test_dir.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_keys: list[str] = []
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
            ):
                values = node.value.elts if isinstance(node.value, ast.List) else [node.value]
                for value in values:
                    module_keys += _marker_keys(value)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                keys = module_keys + [k for d in node.decorator_list for k in _marker_keys(d)]
                if keys:
                    tagged[f"{path.relative_to(test_dir.parent)}::{node.name}"] = keys
    return tagged


def trace(test_dir: Path, study: Study | None = None) -> list[Rule]:
    """Every rule with the tests that exercise it."""
    found = rules(study)
    tags = tagged_tests(test_dir)
    for rule in found:
        rule.tests = sorted(test for test, keys in tags.items() if rule.key in keys)
    return found
