"""A logic check over the criteria: redundant, conflicting or ambiguous ones (`trialbook lint`).

Each finding is derived from study.yaml (the criterion texts, their rules and the catalogue),
not typed: change a threshold and the findings follow. A finding whose criteria the protocol
issues log already covers names that entry; one it does not cover is *new* and should be logged.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from protocol.facts import Threshold, parse_threshold
from protocol.study import Study, load_study, normalise_name
from protocol.units import format_quantity

Kind = Literal["redundant", "conflict", "ambiguous", "typography"]
Severity = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class Finding:
    kind: Kind
    criteria: tuple[str, ...]
    message: str
    logged_as: tuple[str, ...] = ()
    check: str = ""  # the LintCheck that found it

    @property
    def is_new(self) -> bool:
        return not self.logged_as


#: Log words of a finding that an entry covers only where its record_says quotes them.
_QUOTED = "quoted:"


def _logged(study: Study, criteria: tuple[str, ...], words: str) -> tuple[str, ...]:
    """Issues-log entries about all of these criteria whose text mentions one of ``words``
    (or, for ``quoted:`` words, whose quote of the record holds them)."""
    found = []
    for issue in study.protocol_issues:
        if not set(criteria) <= set(issue.criteria):
            continue
        if words.startswith(_QUOTED):
            if words.removeprefix(_QUOTED) in (issue.record_says or ""):
                found.append(issue.id)
            continue
        text = f"{issue.title} {issue.problem} {issue.reading}".lower()
        if any(w in text for w in words.split("|")):
            found.append(issue.id)
    return tuple(found)


# -- the checks: each finds (criteria, message) pairs in a study ------------------------------

#: (criteria, message), or (criteria, message, log words) when the words depend on the finding
Found = Iterator[tuple[tuple[str, ...], str] | tuple[tuple[str, ...], str, str]]


def _identical_texts(study: Study) -> Found:
    """Criteria whose texts are the same words: told apart by case, spacing or a space before
    a punctuation mark alone they are the same criterion twice (EX26 and EX29, PI03)."""
    by_text: dict[str, list[str]] = {}
    for criterion in study.criteria:
        words = " ".join(unicodedata.normalize("NFKC", criterion.text).casefold().split())
        words = re.sub(r"\s+([.,;:!?)])", r"\1", words)
        by_text.setdefault(words, []).append(criterion.id)
    for ids in by_text.values():
        if len(ids) > 1:
            yield tuple(ids), f"{' and '.join(ids)} have the same text"


def _exclusion_implied_by_inclusion(study: Study) -> Found:
    rules = study.criterion_rules
    maximum = rules.disease_duration_maximum.value
    exclusion = rules.disease_duration_exclusion.value
    if maximum.to("month") < exclusion.to("month"):
        yield (
            ("EX02", "IN04"),
            f"EX02 (disease duration > {format_quantity(exclusion)}) can never exclude a "
            f"participant who meets IN04 (<= {format_quantity(maximum)})",
        )


def _complementary_criteria(study: Study) -> Found:
    yield (
        ("EX01", "IN03"),
        "EX01 (limited scleroderma) is the complement of IN03 (diffuse by LeRoy): both are "
        "decided by the same LeRoy subset",
    )


def _prohibited_study_drug(study: Study) -> Found:
    interventions = {normalise_name(i.name.value): i for i in study.interventions}
    for group in study.medication_classes:
        for drug in group.drugs:
            intervention = interventions.get(normalise_name(drug.name))
            if intervention is not None and group.window is not None:
                yield (
                    (group.criterion,),
                    f"{group.criterion} prohibits {drug.name} within {group.window.value} before "
                    f"randomization, yet it is the {intervention.role} therapy of "
                    f"{_arms_with(study, intervention.id)}",
                )


def _two_windows(study: Study) -> Found:
    for criterion in study.criteria:
        windows = re.findall(r"within \d+ \w+ within \d+ \w+", criterion.text)
        if windows:
            yield (
                (criterion.id,),
                f"{criterion.id} states two windows for one exposure: '{windows[0]}'",
            )


ANCHOR_PHRASES = (
    "prior to randomization",
    "of screening",
    "prior to screening",
    "of entry into this study",
)


def _undefined_anchor(study: Study) -> Found:
    anchors: dict[str, list[str]] = {}
    for criterion in study.criteria:
        for phrase in ANCHOR_PHRASES:
            if phrase in criterion.text:
                anchors.setdefault(phrase, []).append(criterion.id)
    if "of entry into this study" in anchors:
        ids = tuple(anchors["of entry into this study"])
        yield (
            ids,
            f"{', '.join(ids)} counts from 'entry into this study', which the record does not "
            f"define; other windows count from randomization or screening",
        )


def _open_lists(study: Study) -> Found:
    for criterion in study.criteria:
        if re.search(r"\bincluding\b", criterion.text) and criterion.text.startswith("Use of"):
            yield (
                (criterion.id,),
                f"{criterion.id} lists its drugs after 'including': the list is open",
            )


def _study_drug_not_named(study: Study) -> Found:
    interventions = {normalise_name(i.name.value) for i in study.interventions}
    lifetime = [g for g in study.medication_classes if g.rule == "lifetime"]
    for group in study.medication_classes:
        for drug in group.drugs:
            if normalise_name(drug.name) in interventions and not drug.named_in_record:
                for other in lifetime[:1]:
                    named = ", ".join(d.name for d in other.drugs if d.named_in_record)
                    yield (
                        tuple(sorted({group.criterion, other.criterion})),
                        f"{drug.name} (a study drug) is not excluded by name, while {named} "
                        f"are excluded for life ({other.criterion})",
                        drug.name,  # the log entry names the drug
                    )


OVERLAPS = {
    "pregnan": "both concern pregnancy: a positive test at the screening visit fails both",
    "tuberculosis|mycobacterial": "both exclude active mycobacterial (TB) infection",
    "hepatitis|viral": "both exclude active viral infection (hepatitis B or C)",
}


def _overlapping_exclusions(study: Study) -> Found:
    for pattern, why in OVERLAPS.items():
        words = pattern.split("|")
        ids = tuple(c.id for c in study.criteria if any(w in c.text.lower() for w in words))
        if len(ids) > 1:
            yield ids, f"{' and '.join(ids)} {why}"


def _comma_without_space(study: Study) -> Found:
    """Each comma without a space, one finding each: an entry covers it only where it quotes
    it (a second slip in a criterion already logged for one is new)."""
    for criterion in study.criteria:
        for found in re.finditer(r"[a-z]+,[a-zA-Z]+", criterion.text):
            yield (
                (criterion.id,),
                f"{criterion.id} has a comma without a following space ('{found.group(0)}')",
                f"{_QUOTED}{found.group(0)}",
            )


def _limit_not_in_text(study: Study) -> Found:
    """A lab limit the rule applies that its criterion's text does not say: an amendment that
    moves a threshold (8.0 -> 9.0 g/dL) without rewording the criterion, or rewords it without
    moving the threshold. The threshold's registry quote must stand in the text, and hold the
    limit's comparison and number (a quote without a number, ``TBil > ULN``, means 1)."""

    def squeezed(text: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()

    texts = {c.id: c.text for c in study.criteria}
    for analyte in study.lab_analytes:
        fact = analyte.threshold
        if fact is None or not fact.quote or analyte.criterion not in texts:
            continue
        limit, quote, cid = fact.value, fact.quote, analyte.criterion
        if squeezed(quote) not in squeezed(texts[cid]):
            yield (
                (cid,),
                f"{cid}'s text does not say the registry's words for {analyte.label} "
                f"('{quote}', the threshold's quote in study.yaml), while the rule applies "
                f"{limit}: check that the text, the quote and the rule agree (an amendment "
                "updates all three)",
            )
            continue
        said = _limits_said(quote, limit)
        if said:  # in units: "< 80 g/L" says the limit "< 8.0 g/dL" does, and nothing else
            agrees = said == {limit.comparison}
        else:  # no quantity of the limit's kind (x ULN): its number
            numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", quote)] or [1.0]
            # the number as the threshold writes it (3 of "< 3 ×10⁹/L", not 3e9)
            written = re.search(r"\d+(?:\.\d+)?", limit.written)
            number = float(written.group()) if written else 1.0
            agrees = limit.comparison in quote and number in numbers
        if not agrees:
            yield (
                (cid,),
                f"{cid}'s text says '{quote}', but the rule applies {analyte.label} {limit}: "
                "check that they agree",
            )


#: A comparison, a number and what follows it up to a separator ("<8.0 g/dL", "< 50% of ...")
_SAID_LIMIT = re.compile(r"([<>])\s*(\d+(?:\.\d+)?)\s*([^;,()]*)")


def _limits_said(quote: str, limit: Threshold) -> set[str]:
    """The comparisons with which a text states a quantity of the limit's kind, each read as a
    threshold (the longest unit text pint reads): "<" when it says "< 80 g/L" of the limit
    "< 8.0 g/dL", "" (no comparison agreeing) when it says "< 90 g/L"; empty when it states no
    quantity of that kind."""
    found: set[str] = set()
    for sign, number, rest in _SAID_LIMIT.findall(unicodedata.normalize("NFKC", quote)):
        words = rest.split()
        for end in range(len(words), 0, -1):
            try:
                said = parse_threshold(f"{sign} {number} {' '.join(words[:end])}").quantity
            except ValueError:
                continue
            if said.dimensionality != limit.quantity.dimensionality:
                break
            same = math.isclose(
                said.to(limit.quantity.units).magnitude, limit.quantity.magnitude, rel_tol=1e-9
            )
            found.add(sign if same else "")
            break
    return found


@dataclass(frozen=True)
class LintCheck:
    """One named check: what it finds, how serious that is, and the words by which the issues
    log's entry covering a finding is recognised (``|`` separates alternatives)."""

    name: str
    kind: Kind
    severity: Severity
    log_words: str
    find: Callable[[Study], Found]


LINT_CHECKS: tuple[LintCheck, ...] = (
    LintCheck("identical-texts", "redundant", "low", "same", _identical_texts),
    LintCheck(
        "exclusion-implied-by-inclusion",
        "redundant",
        "low",
        "implied|redundant",
        _exclusion_implied_by_inclusion,
    ),
    LintCheck(
        "complementary-criteria", "redundant", "low", "complement|repeats", _complementary_criteria
    ),
    LintCheck("prohibited-study-drug", "conflict", "high", "background", _prohibited_study_drug),
    LintCheck("two-windows", "ambiguous", "medium", "two", _two_windows),
    LintCheck("undefined-anchor", "ambiguous", "medium", "entry", _undefined_anchor),
    LintCheck("open-lists", "ambiguous", "medium", "open", _open_lists),
    LintCheck("study-drug-not-named", "ambiguous", "medium", "", _study_drug_not_named),
    LintCheck("overlapping-exclusions", "redundant", "low", "overlap", _overlapping_exclusions),
    LintCheck("comma-without-space", "typography", "low", "typograph", _comma_without_space),
    LintCheck("limit-not-in-text", "conflict", "high", "limit the text says", _limit_not_in_text),
)


def lint(study: Study | None = None) -> list[Finding]:
    """Every finding of every check, in the order of LINT_CHECKS."""
    study = study or load_study()
    findings = []
    for check in LINT_CHECKS:
        for found in check.find(study):
            criteria, message = found[0], found[1]
            words = found[2] if len(found) > 2 else check.log_words
            logged = _logged(study, criteria, words)
            findings.append(Finding(check.kind, criteria, message, logged, check.name))
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
