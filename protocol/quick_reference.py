"""The criteria at a glance: one row per criterion, its short name and its threshold.

For the quick-reference table at the top of the criteria page (and the paper checklist). Every
number comes from study.yaml; a laboratory threshold is shown in the protocol's unit and, where
Chinese site laboratories report another, in that SI unit too ("< 8.0 g/dL (< 80 g/L)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol.screening import CHECKS, _by_washout, _lower_first
from protocol.study import ExposureEvent, Study, load_study
from protocol.units import format_quantity, format_unit

# What decides each criterion, in a few words; {names} are filled from study.yaml.
_THRESHOLDS = {
    "IN01": "{min_age} to {max_age} on the screening date",
    "IN02": "total of at least {acr_min}",
    "IN03": "diffuse cutaneous subset",
    "IN04": "at most {duration_max}",
    "IN05": "at least {mrss_min}",
    "IN06": "negative serum test dated on the screening visit (women of childbearing potential)",
    "IN07": "investigator's attestation and a consent date",
    "EX01": "limited cutaneous subset",
    "EX02": "more than {duration_excl}",
    "EX03": "recorded: yes",
    "EX04": "recorded: yes",
    "EX05": "recorded: yes",
    "EX06": "{pah_excluded} risk",
    "EX07": "FVC {fvc}; DLCO {dlco}; or oxygen therapy",
    "EX11": (
        "more than {steroid_limit} a day (prednisone equivalent), or an IV or IM injection, "
        "{windows}"
    ),
    "EX16": "investigator's judgement",
    "EX17": "active or chronic infection",
    "EX18": "active or latent",
    "EX19": "positive, or a known history",
    "EX20": "a known active infection, or {windows}",
    "EX21": "recorded: yes",
    "EX22": "IgA {iga}; IgG {igg}",
    "EX24": (
        "haemoglobin {hemoglobin}; WBC {wbc}; neutrophils {neutrophils}; platelets {platelets}; "
        "ALT or AST {alt}; total bilirubin {total_bilirubin}; eGFR {egfr}"
    ),
    "EX12": "{windows} (the longer of the record's two windows, PI02)",
    "EX25": (
        "within {malignancy_window} before screening (except an excised or cured local basal or "
        "squamous cell carcinoma of the skin, or a carcinoma in situ of the uterine cervix)"
    ),
    "EX27": (
        "pregnant or breastfeeding, or a woman of childbearing potential not willing to use "
        "adequate contraception"
    ),
    "EX28": "recorded: yes",
    "EX30": "investigator's judgement",
}


@dataclass(frozen=True)
class QuickReferenceRow:
    id: str
    short_name: str
    threshold: str
    kind: str  # computed or attested


def lab_threshold(study: Study, name: str) -> str:
    """``< 8.0 g/dL (< 80 g/L)``: the registry's threshold, and in the SI unit when it differs."""
    entry = next(a for a in study.lab_analytes if a.name == name)
    assert entry.threshold is not None
    threshold = entry.threshold.value
    # A threshold relative to the ULN, or already in the unit the laboratories use, is written once.
    if not entry.si_unit or entry.si_unit == entry.protocol_unit:
        return threshold.written
    if not threshold.quantity.is_compatible_with(entry.si_unit):
        return threshold.written
    si = threshold.quantity.to(entry.si_unit)
    return f"{threshold.written} ({threshold.comparison} {si.magnitude:g} {format_unit(si.units)})"


def _windows(study: Study, criterion: str) -> str:
    """Each window of the criterion, named by its class when there are several."""
    windows = [
        (
            g.label,
            "ever" if g.rule == "lifetime" else f"within {g.window.value} {g.anchor_as_written}",
        )
        for g in study.medication_classes
        if g.criterion == criterion and g.window is not None
    ]
    windows += [
        (e.label, _event_window(e))
        for e in study.exposure_events
        if criterion in (e.criterion, *e.also_criteria)
    ]
    if len({text for _, text in windows}) <= 1:
        return windows[0][1] if windows else "ever"
    return "; ".join(f"{_lower_first(label)}: {text}" for label, text in windows)


def _event_window(event: ExposureEvent) -> str:
    if event.rule == "planned":  # both spans (PI24), as the washout chapter's table says them
        return (
            f"within {event.window.value} before randomization, or planned in the "
            f"{format_quantity(event.period.value)} after it (the trial period, PI24)"
        )
    return f"within {event.window.value} {event.anchor_as_written}"


def _new_kind(study: Study, criterion_id: str) -> str:
    """A criterion an amendment adds: computed by the washout calculator where a medication
    class or an exposure event names it, else attested."""
    return "computed" if _by_washout(study, criterion_id) else "attested"


#: population.sex restricted by an amendment, as IN01's checklist line says it.
_ONE_SEX = {"FEMALE": "women", "MALE": "men"}


def quick_reference(study: Study | None = None) -> list[QuickReferenceRow]:
    """One row per criterion in study.yaml order."""
    study = study or load_study()
    rules = study.criterion_rules
    population = study.population
    values = {
        "min_age": format_quantity(population.minimum_age.value),
        "max_age": format_quantity(population.maximum_age.value),
        "acr_min": rules.acr_eular_minimum.value,
        "duration_max": format_quantity(rules.disease_duration_maximum.value),
        "duration_excl": format_quantity(rules.disease_duration_exclusion.value),
        "mrss_min": rules.mrss_minimum.value,
        "pah_excluded": " or ".join(rules.pah_excluded_risk.value),
        "malignancy_window": str(rules.malignancy_window.value),
        "steroid_limit": format_quantity(study.corticosteroid_rule.daily_limit.value),
    }
    values |= {a.name: lab_threshold(study, a.name) for a in study.lab_analytes if a.threshold}
    rows = []
    for criterion in study.criteria:
        template = _THRESHOLDS.get(criterion.id, "{windows}")
        threshold = template.format(**values, windows=_windows(study, criterion.id))
        if criterion.id not in CHECKS and _new_kind(study, criterion.id) == "attested":
            threshold = "the investigator's attestation"  # an amendment's, before its rule
        if criterion.id == "IN01" and population.sex.value in _ONE_SEX:  # an amendment's
            threshold += f"; {_ONE_SEX[population.sex.value]} only"
        rows.append(
            QuickReferenceRow(
                criterion.id,
                criterion.short_name,
                threshold,
                CHECKS[criterion.id].kind
                if criterion.id in CHECKS
                else _new_kind(study, criterion.id),
            )
        )
    return rows


def search_terms(study: Study, criterion_id: str) -> list[str]:
    """What a reader may type to find a criterion: its ID, short names in English and Chinese,
    and for a laboratory criterion each analyte's name, Chinese name and other spellings."""
    criterion = study.criterion(criterion_id)
    terms = [criterion.id, criterion.short_name, criterion.short_name_zh]
    for analyte in study.lab_analytes:
        if analyte.criterion == criterion_id:
            terms += [analyte.label, *_abbreviations(analyte.label), analyte.chinese_name]
            terms += analyte.search_terms
    return list(dict.fromkeys(terms))


def _abbreviations(label: str) -> list[str]:
    """``Immunoglobulin G (IgG)`` -> ``IgG``; ``DLCO (hemoglobin-corrected)`` -> ``DLCO``: the
    search matches an entry only when the query is at least half its length."""
    bracketed = re.findall(r"\(([A-Za-z]{2,6})\)", label)
    first = label.split()[0]
    leading = [first] if re.fullmatch(r"[a-z]?[A-Z]{2,}", first) and first != label else []
    return leading + bracketed


def criterion_heading(study: Study, criterion_id: str) -> str:
    """The criteria page's markdown cell for one criterion: its index entries (the search
    deep-links to them), its permalink target (``#ex24``) and its heading (a page section)."""
    criterion = study.criterion(criterion_id)
    # one directive per term: a directive's argument is one line, and a term may hold a comma
    entries = "".join(
        # "!" makes each a main entry: the search lists it first, not after every page match
        f":::{{index}} !single: {term}\n:::\n"
        for term in search_terms(study, criterion_id)
    )
    return f"{entries}\n({criterion.id.lower()})=\n### {criterion.id} {criterion.short_name}"
