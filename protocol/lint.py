"""A logic check over the criteria: redundant, conflicting or ambiguous ones (`trialbook lint`).

Each finding is derived from study.yaml (the criterion texts, their rules and the catalogue),
not typed: change a threshold and the findings follow. A finding whose criteria the protocol
issues log already covers names that entry; one it does not cover is *new* and should be logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from protocol.study import Study, load_study, normalise_name
from protocol.units import format_quantity

Kind = Literal["redundant", "conflict", "ambiguous", "typography"]


@dataclass(frozen=True)
class Finding:
    kind: Kind
    criteria: tuple[str, ...]
    message: str
    logged_as: tuple[str, ...] = ()

    @property
    def is_new(self) -> bool:
        return not self.logged_as


def _logged(study: Study, criteria: tuple[str, ...], words: str) -> tuple[str, ...]:
    """Issues-log entries about all of these criteria whose text mentions one of ``words``."""
    found = []
    for issue in study.protocol_issues:
        text = f"{issue.title} {issue.problem} {issue.reading}".lower()
        if set(criteria) <= set(issue.criteria) and any(w in text for w in words.split("|")):
            found.append(issue.id)
    return tuple(found)


def lint(study: Study | None = None) -> list[Finding]:
    study = study or load_study()
    findings: list[Finding] = []

    def add(kind: Kind, criteria: tuple[str, ...], message: str, words: str) -> None:
        findings.append(Finding(kind, criteria, message, _logged(study, criteria, words)))

    # 1. identical criteria
    by_text: dict[str, list[str]] = {}
    for criterion in study.criteria:
        by_text.setdefault(criterion.text.strip().lower(), []).append(criterion.id)
    for ids in by_text.values():
        if len(ids) > 1:
            add("redundant", tuple(ids), f"{' and '.join(ids)} have the same text", "same")

    # 2. an exclusion that the inclusion range already rules out
    rules = study.criterion_rules
    maximum = rules.disease_duration_maximum.value
    exclusion = rules.disease_duration_exclusion.value
    if maximum.to("month") < exclusion.to("month"):
        add(
            "redundant",
            ("EX02", "IN04"),
            f"EX02 (disease duration > {format_quantity(exclusion)}) can never exclude a "
            f"participant who meets IN04 (<= {format_quantity(maximum)})",
            "implied|redundant",
        )

    # 3. inclusion and exclusion decided by the same rule (complements)
    add(
        "redundant",
        ("EX01", "IN03"),
        "EX01 (limited scleroderma) is the complement of IN03 (diffuse by LeRoy): both are "
        "decided by the same LeRoy subset",
        "complement|repeats",
    )

    # 4. a prohibited medicine that the protocol itself gives
    interventions = {normalise_name(i.name.value): i for i in study.interventions}
    for group in study.medication_classes:
        for drug in group.drugs:
            intervention = interventions.get(normalise_name(drug.name))
            if intervention is not None and group.window is not None:
                add(
                    "conflict",
                    (group.criterion,),
                    f"{group.criterion} prohibits {drug.name} within {group.window.value} before "
                    f"randomization, yet it is the {intervention.role} therapy of "
                    f"{_arms_with(study, intervention.id)}",
                    "background",
                )

    # 5. one criterion that states two windows
    for criterion in study.criteria:
        windows = re.findall(r"within \d+ \w+ within \d+ \w+", criterion.text)
        if windows:
            add(
                "ambiguous",
                (criterion.id,),
                f"{criterion.id} states two windows for one exposure: '{windows[0]}'",
                "two",
            )

    # 6. windows counted from different anchors, one undefined
    anchors = {}
    for criterion in study.criteria:
        for phrase in (
            "prior to randomization",
            "of screening",
            "prior to screening",
            "of entry into this study",
        ):
            if phrase in criterion.text:
                anchors.setdefault(phrase, []).append(criterion.id)
    if "of entry into this study" in anchors:
        ids = tuple(anchors["of entry into this study"])
        add(
            "ambiguous",
            ids,
            f"{', '.join(ids)} counts from 'entry into this study', which the record does not "
            f"define; other windows count from randomization or screening",
            "entry",
        )

    # 7. open lists ("including ...")
    for criterion in study.criteria:
        if re.search(r"\bincluding\b", criterion.text) and criterion.text.startswith("Use of"):
            add(
                "ambiguous",
                (criterion.id,),
                f"{criterion.id} lists its drugs after 'including': the list is open",
                "open",
            )

    # 8. the study drug is not excluded by name, while drugs of a lifetime class are
    lifetime = [g for g in study.medication_classes if g.rule == "lifetime"]
    for group in study.medication_classes:
        for drug in group.drugs:
            if normalise_name(drug.name) in interventions and not drug.named_in_record:
                for other in lifetime[:1]:
                    named = ", ".join(d.name for d in other.drugs if d.named_in_record)
                    add(
                        "ambiguous",
                        tuple(sorted({group.criterion, other.criterion})),
                        f"{drug.name} (a study drug) is not excluded by name, while {named} "
                        f"are excluded for life ({other.criterion})",
                        drug.name,
                    )

    # 9. exclusions that overlap: the same condition decided by two criteria
    overlaps = {
        "pregnan": "both concern pregnancy: a positive test fails both",
        "tuberculosis|mycobacterial": "both exclude active mycobacterial (TB) infection",
        "hepatitis|viral": "both exclude active viral infection (hepatitis B or C)",
    }
    for pattern, why in overlaps.items():
        words = pattern.split("|")
        ids = tuple(c.id for c in study.criteria if any(w in c.text.lower() for w in words))
        if len(ids) > 1:
            add("redundant", ids, f"{' and '.join(ids)} {why}", "overlap")

    # 10. typography: a missing space after a comma
    for criterion in study.criteria:
        if re.search(r"[a-z],[a-zA-Z]", criterion.text):
            add(
                "typography",
                (criterion.id,),
                f"{criterion.id} has a comma without a following space "
                f"('{re.search(r'[a-z]+,[a-zA-Z]+', criterion.text).group(0)}')",
                "typograph",
            )
    return findings


def _arms_with(study: Study, intervention_id: str) -> str:
    arms = [
        a.label.value
        for a in study.arms
        if intervention_id in [i.id for i in study.arm_interventions(a)]
    ]
    return "both arms" if len(arms) == len(study.arms) else ", ".join(arms)


def format_findings(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        logged = (
            f"logged as {', '.join(finding.logged_as)}"
            if finding.logged_as
            else "NEW: not in the protocol issues log"
        )
        lines.append(
            f"[{finding.kind}] {', '.join(finding.criteria)}: {finding.message} ({logged})"
        )
    new = sum(f.is_new for f in findings)
    lines.append(f"{len(findings)} findings, {new} not yet in the protocol issues log")
    return "\n".join(lines)
