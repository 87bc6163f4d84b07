"""The SDTM trial design datasets (TS, TA, TE, TI, TV), as Dataset-JSON 1.1 and SAS XPORT v5.

Every value comes from study.yaml. A trial summary parameter the record cannot give is written
with an empty value and a null flavour (TSVALNF: ``UNK`` unknown, ``NAV`` not yet available),
and listed in :func:`null_flavoured`, never invented. The XPORT files hold ASCII only: ``≤`` and
``≥`` become ``<=`` and ``>=``, and any other character outside ASCII is refused, not dropped.
Criterion text longer than SDTM's 200 characters is shortened in IETEST at a word, and the full
text is kept in ``TI-full-text.json``.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from exports.common import (
    INTERVENTION_MODELS,
    MASKINGS,
    PHASES,
    PURPOSES,
    STUDY_TYPES,
    Export,
    ExportError,
    Finding,
    arm_code,
    cdisc_term,
    json_bytes,
    study_or_default,
)
from protocol.study import Study

SCHEMA_PATH = Path(__file__).parent / "schemas" / "dataset-json-1.1.schema.json"
SDTMIG_VERSION = "3.4"
MAX_TEXT = 200  # SDTM character values (and XPORT v5's)
MAX_LABEL = 40  # XPORT v5 variable labels
CDISC_CT = "CDISC CT"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    data_type: str  # Dataset-JSON: "string" or "integer"
    key: int | None = None  # position in the dataset's key, if it is part of it


STUDY_COLUMNS = (
    Column("STUDYID", "Study Identifier", "string", 1),
    Column("DOMAIN", "Domain Abbreviation", "string"),
)
DATASETS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "TA": (
        "Trial Arms",
        (
            *STUDY_COLUMNS,
            Column("ARMCD", "Planned Arm Code", "string", 2),
            Column("ARM", "Description of Planned Arm", "string"),
            Column("TAETORD", "Planned Order of Element within Arm", "integer", 3),
            Column("ETCD", "Element Code", "string"),
            Column("ELEMENT", "Description of Element", "string"),
            Column("TABRANCH", "Branch", "string"),
            Column("TATRANS", "Transition Rule", "string"),
            Column("EPOCH", "Epoch", "string"),
        ),
    ),
    "TE": (
        "Trial Elements",
        (
            *STUDY_COLUMNS,
            Column("ETCD", "Element Code", "string", 2),
            Column("ELEMENT", "Description of Element", "string"),
            Column("TESTRL", "Rule for Start of Element", "string"),
            Column("TEENRL", "Rule for End of Element", "string"),
            Column("TEDUR", "Planned Duration of Element", "string"),
        ),
    ),
    "TI": (
        "Trial Inclusion/Exclusion Criteria",
        (
            *STUDY_COLUMNS,
            Column("IETESTCD", "Incl/Excl Criterion Short Name", "string", 2),
            Column("IETEST", "Inclusion/Exclusion Criterion", "string"),
            Column("IECAT", "Inclusion/Exclusion Category", "string"),
            Column("TIVERS", "Protocol Criteria Versions", "string"),
        ),
    ),
    "TS": (
        "Trial Summary",
        (
            *STUDY_COLUMNS,
            Column("TSSEQ", "Sequence Number", "integer", 3),
            Column("TSGRPID", "Group ID", "string"),
            Column("TSPARMCD", "Trial Summary Parameter Short Name", "string", 2),
            Column("TSPARM", "Trial Summary Parameter", "string"),
            Column("TSVAL", "Parameter Value", "string"),
            Column("TSVAL1", "Parameter Value 1", "string"),
            Column("TSVALNF", "Parameter Null Flavor", "string"),
            Column("TSVALCD", "Parameter Value Code", "string"),
            Column("TSVCDREF", "Name of the Reference Terminology", "string"),
            Column("TSVCDVER", "Version of the Reference Terminology", "string"),
        ),
    ),
    "TV": (
        "Trial Visits",
        (
            *STUDY_COLUMNS,
            Column("VISITNUM", "Visit Number", "integer", 2),
            Column("VISIT", "Visit Name", "string"),
            Column("VISITDY", "Planned Study Day of Visit", "integer"),
            Column("ARMCD", "Planned Arm Code", "string"),
            Column("TVSTRL", "Visit Start Rule", "string"),
            Column("TVENRL", "Visit End Rule", "string"),
        ),
    ),
}
# XPORT v5 transliteration: the characters the protocol's text uses that ASCII lacks
_ASCII = str.maketrans(
    {
        "≤": "<=",
        "≥": ">=",
        "×": "x",
        "µ": "u",
        "μ": "u",
        "²": "2",
        "³": "3",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "\u00a0": " ",
    }
)


# -- the datasets -------------------------------------------------------------------------------


def iso_duration(quantity: Any) -> str:
    """A pint duration as ISO 8601, in the unit it is written in (``48 week`` -> ``P48W``,
    ``18 year`` -> ``P18Y``, ``28 day`` -> ``P28D``); any other unit in whole days. Never a
    rounded value: a duration that is not whole is refused.

    >>> from protocol.units import ureg
    >>> [iso_duration(ureg.Quantity(*q)) for q in ((48, "week"), (18, "year"), (28, "day"))]
    ['P48W', 'P18Y', 'P28D']
    """
    letters = {"year": "Y", "month": "M", "week": "W", "day": "D"}
    unit, magnitude = str(quantity.units), float(quantity.magnitude)
    if unit in letters and magnitude.is_integer() and magnitude > 0:
        return f"P{int(magnitude)}{letters[unit]}"
    return f"P{_days(quantity)}D"


def _days(quantity: Any) -> int:
    days = quantity.to("day").magnitude
    if not math.isclose(days, round(days), abs_tol=1e-9):
        raise ExportError(f"{quantity} is not a whole number of days")
    return round(days)


def trial_length(study: Study) -> str:
    """LENGTH: the epochs end to end (screening, treatment, follow-up), in weeks when whole."""
    days = sum(_days(e.duration) for e in _design(study).epochs.value)
    return f"P{days // 7}W" if days % 7 == 0 else f"P{days}D"


def _design(study: Study) -> Any:
    if study.trial_design is None:
        raise ExportError("study.yaml has no trial_design section; the exports need it")
    return study.trial_design


def _study_id(study: Study) -> str:
    return study.identification.org_study_id.value


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = [c.name for c in DATASETS[name][1]]
    frame = pd.DataFrame(rows, columns=columns)
    for column in DATASETS[name][1]:
        if column.data_type == "string":
            frame[column.name] = (
                frame[column.name].astype(object).where(frame[column.name].notna(), "")
            )
    return frame


def _words(quantity: Any) -> str:
    """``48 week`` -> ``48 weeks``: a duration as a rule's text says it."""
    magnitude = float(quantity.magnitude)
    unit = str(quantity.units)
    return f"{magnitude:g} {unit}{'' if magnitude == 1 else 's'}"


def _elements(study: Study) -> list[dict[str, Any]]:
    """Each element: code, description, start and end rules, planned duration."""
    design = _design(study)
    epochs = list(design.epochs.value)
    treatment = next(e for e in epochs if e.element is None)
    end_of_treatment = f"the end of treatment ({_words(treatment.duration)} after the first dose)"
    elements = []
    for index, epoch in enumerate(epochs):
        following = epochs[index + 1].label.lower() if index + 1 < len(epochs) else None
        if epoch.element is None:
            for arm in study.arms:
                elements.append(
                    {
                        "ETCD": arm_code(study, arm.id),
                        "ELEMENT": arm.label.value,
                        "TESTRL": f"Randomization to {arm.label.value}: the first dose (day 1)",
                        "TEENRL": end_of_treatment[0].upper() + end_of_treatment[1:],
                        "TEDUR": iso_duration(epoch.duration),
                    }
                )
            continue
        duration = iso_duration(epoch.duration)
        if epoch.cdisc.submission_value == "SCREENING":
            start, end = "Informed consent", f"Randomization (the start of the {following} epoch)"
            duration = ""  # screening lasts up to its epoch's length: no planned duration
        else:
            start = end_of_treatment[0].upper() + end_of_treatment[1:]
            end = (
                f"The start of the {following} epoch"
                if following
                else f"The last visit, {_words(epoch.duration)} after {end_of_treatment}"
            )
        elements.append(
            {
                "ETCD": epoch.element,
                "ELEMENT": epoch.label,
                "TESTRL": start,
                "TEENRL": end,
                "TEDUR": duration,
            }
        )
    return elements


def trial_arms(study: Study) -> pd.DataFrame:
    design = _design(study)
    elements = {e["ETCD"]: e["ELEMENT"] for e in _elements(study)}
    rows = []
    for arm in study.arms:
        code = arm_code(study, arm.id)
        for order, epoch in enumerate(design.epochs.value, start=1):
            element = epoch.element or code
            first = order == 1
            rows.append(
                {
                    "STUDYID": _study_id(study),
                    "DOMAIN": "TA",
                    "ARMCD": code,
                    "ARM": arm.label.value,
                    "TAETORD": order,
                    "ETCD": element,
                    "ELEMENT": elements[element],
                    "TABRANCH": f"Randomized to {arm.label.value}" if first else "",
                    "TATRANS": "",
                    "EPOCH": epoch.cdisc.submission_value,
                }
            )
    return _frame("TA", rows)


def trial_elements(study: Study) -> pd.DataFrame:
    rows = [{"STUDYID": _study_id(study), "DOMAIN": "TE", **e} for e in _elements(study)]
    return _frame("TE", rows)


def short_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` within ``limit`` characters: whole if it fits, else cut at a word with "...".

    >>> short_text("Men or women aged 18-70 years old.")
    'Men or women aged 18-70 years old.'
    >>> short_text("one two three four", limit=12)
    'one two...'
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "..."


def trial_criteria(study: Study) -> tuple[pd.DataFrame, dict[str, str]]:
    """TI, and the full text of each criterion IETEST had to shorten (IETESTCD -> text)."""
    version = study.protocol_version.label if study.protocol_version else ""
    rows, full = [], {}
    for criterion in study.criteria:
        text = _ascii(criterion.text)
        shown = short_text(text)
        if shown != text:
            full[criterion.id] = criterion.text
        rows.append(
            {
                "STUDYID": _study_id(study),
                "DOMAIN": "TI",
                "IETESTCD": criterion.id,
                "IETEST": shown,
                "IECAT": criterion.category.upper(),
                "TIVERS": version,
            }
        )
    return _frame("TI", rows), full


def trial_visits(study: Study) -> pd.DataFrame:
    rows = []
    for number, visit in enumerate(study.visit_schedule.value, start=1):
        rows.append(
            {
                "STUDYID": _study_id(study),
                "DOMAIN": "TV",
                "VISITNUM": number,
                "VISIT": visit.label,
                "VISITDY": visit.day,
                "ARMCD": "",
                "TVSTRL": f"Study day {visit.day}, randomization being day 1 (window "
                f"{_window_words(visit.window_before)} before, "
                f"{_window_words(visit.window_after)} after)",
                "TVENRL": "",
            }
        )
    return _frame("TV", rows)


def _window_words(iso: str) -> str:
    """``P3D`` -> ``3 days``, ``P0D`` -> ``0 days``."""
    match = re.fullmatch(r"P(\d+)D", iso)
    if match is None:
        raise ExportError(f"a visit window {iso!r}; expected whole days (PnD)")
    days = int(match.group(1))
    return f"{days} day{'' if days == 1 else 's'}"


@dataclass(frozen=True)
class Parameter:
    code: str
    name: str
    value: str | None  # None: null-flavoured
    null_flavour: str = ""
    value_code: str = ""
    reference: str = ""
    why_null: str = ""


def _plain_number(number: float) -> str:
    """A number as written, without an exponent: 160 -> "160", 1e-07 -> "0.0000001"."""
    from decimal import Decimal

    text = format(Decimal(repr(float(number))).normalize(), "f")
    return text


def _yes_no(flag: bool) -> tuple[str, str]:
    return ("Y", "C49488") if flag else ("N", "C49487")


def trial_summary_parameters(study: Study) -> list[Parameter]:
    """The trial summary parameters, each from study.yaml (or null-flavoured, with why)."""
    design, population = _design(study), study.population
    investigational = [i for i in study.interventions if i.role == "investigational"]
    p: list[Parameter] = []
    add_on = _yes_no(design.add_on.value)
    p.append(
        Parameter("ADDON", "Added on to Existing Treatments", add_on[0], "", add_on[1], CDISC_CT)
    )
    if design.adaptive is None:
        p.append(
            Parameter(
                "ADAPT",
                "Adaptive Design",
                None,
                "UNK",
                why_null="the registry record does not say whether the design is adaptive",
            )
        )
    else:
        flag = _yes_no(design.adaptive.value)
        p.append(Parameter("ADAPT", "Adaptive Design", flag[0], "", flag[1], CDISC_CT))
    p.append(
        Parameter(
            "AGEMIN",
            "Planned Minimum Age of Subjects",
            iso_duration(population.minimum_age.value),
            reference="ISO 8601",
        )
    )
    p.append(
        Parameter(
            "AGEMAX",
            "Planned Maximum Age of Subjects",
            iso_duration(population.maximum_age.value),
            reference="ISO 8601",
        )
    )
    p.append(Parameter("LENGTH", "Trial Length", trial_length(study), reference="ISO 8601"))
    p.append(Parameter("PLANSUB", "Planned Number of Subjects", str(study.design.enrollment.value)))
    p.append(
        Parameter(
            "ACTSUB",
            "Actual Number of Subjects",
            None,
            "NAV",
            why_null="study.yaml holds the planned number only: the number enrolled is to be "
            "taken from the trial's data when recruitment ends",
        )
    )
    randomized = study.design.allocation.value == "RANDOMIZED"
    flag = _yes_no(randomized)
    p.append(Parameter("RANDOM", "Trial is Randomized", flag[0], "", flag[1], CDISC_CT))
    sex = {"ALL": ("BOTH", "C49636"), "FEMALE": ("F", "C16576"), "MALE": ("M", "C20197")}
    if population.sex.value not in sex:
        raise ExportError(f"population.sex {population.sex.value!r} has no SEXPOP term here")
    sexes = sex[population.sex.value]
    p.append(Parameter("SEXPOP", "Sex of Participants", sexes[0], "", sexes[1], CDISC_CT))
    if design.stopping_rules is None:
        p.append(
            Parameter(
                "STOPRULE",
                "Study Stop Rules",
                None,
                "UNK",
                why_null="the registry record states no stopping rules",
            )
        )
    else:
        p.append(Parameter("STOPRULE", "Study Stop Rules", design.stopping_rules.value))
    masking = cdisc_term(MASKINGS, study.design.masking.value, "design.masking")
    p.append(Parameter("TBLIND", "Trial Blinding Schema", masking[0], "", masking[1], CDISC_CT))
    control = design.control_type.value
    p.append(
        Parameter("TCNTRL", "Control Type", control.submission_value, "", control.code, CDISC_CT)
    )
    p.append(Parameter("TITLE", "Trial Title", study.identification.brief_title.value))
    phase = cdisc_term(PHASES, study.design.phase.value, "design.phase")
    p.append(Parameter("TPHASE", "Trial Phase Classification", phase[0], "", phase[1], CDISC_CT))
    for trial_type in design.trial_types.value:
        p.append(
            Parameter(
                "TTYPE", "Trial Type", trial_type.submission_value, "", trial_type.code, CDISC_CT
            )
        )
    p.append(Parameter("OBJPRIM", "Trial Primary Objective", design.primary_objective.value))
    p.append(Parameter("SPONSOR", "Clinical Study Sponsor", study.identification.sponsor.value))
    nct = study.identification.nct_id.value
    p.append(Parameter("REGID", "Registry Identifier", nct, "", nct, "ClinicalTrials.gov"))
    p.append(Parameter("OUTMSPRI", "Primary Outcome Measure", study.primary_outcome.value.measure))
    for country in design.countries.value:
        p.append(
            Parameter(
                "FCNTRY",
                "Planned Country of Investigational Sites",
                country,
                reference="ISO 3166-1 Alpha-3",
            )
        )
    p.append(Parameter("NARMS", "Planned Number of Arms", str(len(study.arms))))
    kind = cdisc_term(STUDY_TYPES, study.design.study_type.value, "design.study_type")
    p.append(Parameter("STYPE", "Study Type", kind[0], "", kind[1], CDISC_CT))
    p.append(
        Parameter(
            "SSTDTC",
            "Study Start Date",
            study.status.start_date.value.isoformat(),
            reference="ISO 8601",
        )
    )
    healthy = _yes_no(population.healthy_volunteers.value)
    p.append(
        Parameter("HLTSUBJI", "Healthy Subject Indicator", healthy[0], "", healthy[1], CDISC_CT)
    )
    for intervention in investigational:
        p.append(
            Parameter(
                "TRT", "Investigational Therapy or Treatment", intervention.name.value.upper()
            )
        )
    # the background therapy that ADDON = Y says the investigational one is added on to (both
    # arms take it; SDTMIG: CURTRT names it where ADDON is Y), and the comparator arm's
    # treatment (TCNTRL): the interventions of the ACTIVE_COMPARATOR arms, by the record's names
    if add_on[0] == "Y":
        for intervention in study.interventions:
            if intervention.role != "investigational":
                p.append(
                    Parameter(
                        "CURTRT", "Current Therapy or Treatment", intervention.name.value.upper()
                    )
                )
    compared = {
        name.split(": ", 1)[-1]
        for arm in study.arms
        if arm.type.value == "ACTIVE_COMPARATOR"
        for name in arm.intervention_names.value
    }
    for intervention in study.interventions:
        if intervention.name.value in compared:
            p.append(
                Parameter("COMPTRT", "Comparative Treatment Name", intervention.name.value.upper())
            )
    model = cdisc_term(
        INTERVENTION_MODELS, study.design.intervention_model.value, "design.intervention_model"
    )
    p.append(Parameter("INTMODEL", "Intervention Model", model[0], "", model[1], CDISC_CT))
    types = sorted({i.type.value for i in study.interventions})
    for kind in types:
        term = cdisc_term({"DRUG": ("DRUG", "C1909")}, kind, "interventions[].type")
        p.append(Parameter("INTTYPE", "Intervention Type", term[0], "", term[1], CDISC_CT))
    purpose = cdisc_term(PURPOSES, study.design.primary_purpose.value, "design.primary_purpose")
    p.append(Parameter("TINDTP", "Trial Intent Type", purpose[0], "", purpose[1], CDISC_CT))
    p.append(
        Parameter("INDIC", "Trial Disease/Condition Indication", study.population.condition.value)
    )
    for intervention in investigational:
        dose = intervention.dose.value
        p.append(Parameter("DOSE", "Dose per Administration", _plain_number(dose.magnitude)))
        p.append(Parameter("DOSU", "Dose Units", f"{dose.units:~}"))
        if intervention.frequency_cdisc is not None:
            f = intervention.frequency_cdisc.value
            p.append(
                Parameter("DOSFRQ", "Dosing Frequency", f.submission_value, "", f.code, CDISC_CT)
            )
        if intervention.route_cdisc is not None:
            r = intervention.route_cdisc.value
            p.append(
                Parameter(
                    "ROUTE", "Route of Administration", r.submission_value, "", r.code, CDISC_CT
                )
            )
    p.append(Parameter("SDTIGVER", "SDTM IG Version", SDTMIG_VERSION))
    return p


def verified_code(parameter: Parameter) -> str:
    """A parameter's CDISC code, checked against CDISC's terminology as shipped in usdm4
    (2026-03-27, offline): a code that term does not carry is refused (it would contradict the
    value); one the shipped terminology does not hold is left out, never written unchecked."""
    if parameter.reference != CDISC_CT or not parameter.value_code:
        return parameter.value_code
    names = cdisc_terms().get(parameter.value_code)
    if names is None:
        return ""
    if parameter.value not in names:
        raise ExportError(
            f"{parameter.code}: the code {parameter.value_code} is CDISC's term "
            f"{sorted(names)[0]!r}, not {parameter.value!r}; expected the code of the value"
        )
    return parameter.value_code


def unverified_codes(study: Study) -> dict[str, str]:
    """The parameters whose CDISC code the shipped terminology cannot confirm (left out)."""
    return {
        p.code: p.value_code
        for p in trial_summary_parameters(study)
        if p.reference == CDISC_CT and p.value_code and p.value_code not in cdisc_terms()
    }


def cdisc_terms() -> dict[str, frozenset[str]]:
    """CDISC's terminology as usdm4 ships it: each code's submission values."""
    return _cdisc_library()[0]


def cdisc_term_version(code: str) -> str:
    """The version (the package's effective date) of the terminology that holds ``code``, as
    TSVCDVER gives it beside TSVCDREF "CDISC CT"; the latest where two codelists hold it."""
    return _cdisc_library()[1][code]


@functools.cache
def _cdisc_library() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    import usdm4
    import yaml

    path = Path(usdm4.__file__).parent / "ct/cdisc/library_cache/library_cache_usdm.yaml"
    library = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    versions: dict[str, str] = {}
    for codelist in library.values():
        version = str(codelist["source"]["effective_date"])
        for term in codelist.get("terms", []):
            found.setdefault(term["conceptId"], set()).add(term["submissionValue"])
            versions[term["conceptId"]] = max(version, versions.get(term["conceptId"], ""))
    return {code: frozenset(values) for code, values in found.items()}, versions


def assumptions(study: Study) -> dict[str, Any]:
    """What the datasets carry that rests on the book's assumptions, not the record, and the
    CDISC codes left out because the shipped terminology cannot confirm them."""
    design = _design(study)
    found = {
        "about": "Values in these datasets that the registry record does not give: each rests "
        "on a fact of study.yaml whose provenance is an assumption (to be confirmed against the "
        "full protocol), or is a code the offline terminology cannot confirm.",
        "assumed": {},
        "codes_left_out": unverified_codes(study),
    }
    if design.epochs.provenance == "assumption":
        found["assumed"]["TA, TE, TS LENGTH"] = design.epochs.note
    if study.visit_schedule.provenance == "assumption":
        found["assumed"]["TV"] = study.visit_schedule.note
    if design.add_on.provenance == "assumption":
        found["assumed"]["TS ADDON"] = design.add_on.note
    return found


def null_flavoured(study: Study) -> list[Parameter]:
    """The parameters written with a null flavour, each with why: what the record cannot give."""
    return [p for p in trial_summary_parameters(study) if p.value is None]


def trial_summary(study: Study) -> pd.DataFrame:
    rows = []
    sequence: dict[str, int] = {}
    for parameter in trial_summary_parameters(study):
        sequence[parameter.code] = sequence.get(parameter.code, 0) + 1
        if parameter.value is not None and not parameter.value.strip():
            raise ExportError(
                f"the trial summary parameter {parameter.code} ({parameter.name}) is empty in "
                f"study.yaml; expected a value (or no fact, for a null flavour)"
            )
        value = _ascii(parameter.value or "")
        first, rest = _split(value)
        code = verified_code(parameter)
        # CDISC's terminology is named only beside a code of it (a code left out names none),
        # with the version that holds the code; ISO 8601 names the form of TSVAL, unversioned
        reference = "" if parameter.reference == CDISC_CT and not code else parameter.reference
        version = cdisc_term_version(code) if code and reference == CDISC_CT else ""
        rows.append(
            {
                "STUDYID": _study_id(study),
                "DOMAIN": "TS",
                "TSSEQ": sequence[parameter.code],
                "TSGRPID": "",
                "TSPARMCD": parameter.code,
                "TSPARM": parameter.name,
                "TSVAL": first,
                "TSVAL1": rest,
                "TSVALNF": parameter.null_flavour,
                "TSVALCD": code,
                "TSVCDREF": reference,
                "TSVCDVER": version,
            }
        )
    return _frame("TS", rows)


def _split(text: str) -> tuple[str, str]:
    """TSVAL and TSVAL1: a value over 200 characters continues in TSVAL1, split at a word."""
    if len(text) <= MAX_TEXT:
        return text, ""
    space = text[:MAX_TEXT].rfind(" ")
    cut = space if space > 0 else MAX_TEXT  # no space in the first 200: cut at 200
    rest = text[cut:]
    if len(rest) > MAX_TEXT:
        raise ExportError(
            f"a trial summary value of {len(text)} characters ({text[:40]!r}...); expected at "
            f"most {2 * MAX_TEXT} (TSVAL and TSVAL1)"
        )
    return text[:cut], rest


def _ascii(text: str) -> str:
    return text.translate(_ASCII)


def datasets(study: Study | None = None) -> dict[str, pd.DataFrame]:
    study = study_or_default(study)
    ti, _ = trial_criteria(study)
    return {
        "TA": trial_arms(study),
        "TE": trial_elements(study),
        "TI": ti,
        "TS": trial_summary(study),
        "TV": trial_visits(study),
    }


# -- Dataset-JSON 1.1 ---------------------------------------------------------------------------


def dataset_json(name: str, frame: pd.DataFrame, study: Study) -> dict[str, Any]:
    label, columns = DATASETS[name]
    source_date = (
        study.protocol_version.date if study.protocol_version else study.status.last_update.value
    )
    stamp = f"{source_date.isoformat()}T00:00:00"
    return {
        # pinned to the protocol version's date, not the moment of writing, so that two runs
        # give one file (the appendix says so); the source's own date is dbLastModifiedDateTime
        "datasetJSONCreationDateTime": stamp,
        "dbLastModifiedDateTime": stamp,
        "datasetJSONVersion": "1.1.0",
        "fileOID": f"{study.identification.nct_id.value}.SDTM.{name}",
        "originator": "trialbook (the NCT06375005 protocol book)",
        "sourceSystem": {"name": "trialbook export", "version": "1"},
        "studyOID": study.identification.nct_id.value,
        "metaDataVersionOID": "MDV.SDTMIG." + SDTMIG_VERSION,
        "itemGroupOID": f"IG.{name}",
        "records": len(frame),
        "name": name,
        "label": label,
        "columns": [
            {
                "itemOID": f"IT.{name}.{c.name}",
                "name": c.name,
                "label": c.label,
                "dataType": c.data_type,
                **(
                    {"length": max(1, int(frame[c.name].astype(str).str.len().max() or 1))}
                    if c.data_type == "string"
                    else {}
                ),
                **({"keySequence": c.key} if c.key else {}),
            }
            for c in columns
        ],
        "rows": [
            [_json_cell(value, c) for value, c in zip(row, columns, strict=True)]
            for row in frame.itertuples(index=False)
        ],
    }


def _json_cell(value: Any, column: Column) -> Any:
    if column.data_type == "integer":
        return int(value)
    return None if value == "" else str(value)


def validate_dataset_json(document: Any) -> list[Finding]:
    """The Dataset-JSON 1.1 schema (CDISC's own, vendored with its licence), and what the
    schema cannot say: the record count and every row's width."""
    from jsonschema.validators import validator_for

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = validator_for(schema)(schema)
    findings = [
        Finding(
            "Dataset-JSON 1.1 schema",
            "/".join(map(str, error.absolute_path)) or "(the file)",
            error.message,
        )
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    ]
    if isinstance(document, dict) and isinstance(document.get("rows"), list):
        if document.get("records") != len(document["rows"]):
            findings.append(
                Finding(
                    "Dataset-JSON 1.1",
                    "records",
                    f"{document.get('records')} records declared, {len(document['rows'])} rows",
                )
            )
        width = len(document.get("columns") or [])
        for index, row in enumerate(document["rows"]):
            if not isinstance(row, list) or len(row) != width:
                findings.append(
                    Finding("Dataset-JSON 1.1", f"rows/{index}", f"expected {width} values")
                )
    return findings


# -- SAS XPORT v5 -------------------------------------------------------------------------------

# the four "created" and "modified" stamps of a one-member XPORT v5 file (SAS TS-140): the
# library header's records 2 and 3, and the member descriptor's
_XPT_STAMPS = (144, 160, 464, 480)
_FIXED_STAMP = b"01JAN00:00:00:00"
_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")


def xpt_problems(name: str, frame: pd.DataFrame) -> list[str]:
    """What XPORT v5 cannot hold (pyreadstat truncates labels and writes long or non-ASCII
    values without a word): checked before anything is written."""
    problems = []
    _, columns = DATASETS[name]
    for column in columns:
        if len(column.name) > 8 or len(column.label) > MAX_LABEL:
            problems.append(f"{name}.{column.name}: name over 8 or label over 40 characters")
        if column.data_type == "string":
            for row, value in enumerate(frame[column.name]):
                text = str(value)
                if len(text.encode("ascii", "replace")) > MAX_TEXT:
                    problems.append(f"{name}.{column.name} row {row + 1}: over 200 characters")
                if not text.isascii():
                    bad = ", ".join(sorted({repr(c) for c in text if not c.isascii()}))
                    problems.append(
                        f"{name}.{column.name} row {row + 1}: {_cut(text)!r} holds characters "
                        f"that are not ASCII ({bad}); expected ASCII text (SAS transport files)"
                    )
    return problems


def _cut(text: str, length: int = 60) -> str:
    """A text as a message quotes it: its first ``length`` characters."""
    return text if len(text) <= length else text[: length - 1] + "…"


def xpt_bytes(name: str, frame: pd.DataFrame) -> bytes:
    """The dataset as a SAS XPORT version 5 file, its time stamps fixed (two runs, one file)."""
    import pyreadstat

    problems = xpt_problems(name, frame)
    if problems:
        raise ExportError("; ".join(problems))
    label, columns = DATASETS[name]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name.lower()}.xpt"
        pyreadstat.write_xport(
            frame,
            str(path),
            file_label=label,
            column_labels={c.name: c.label for c in columns},
            table_name=name,
            file_format_version=5,
        )
        data = bytearray(path.read_bytes())
    if data[:48] != b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!":
        raise ExportError(f"{name}: pyreadstat wrote no XPORT v5 library header")
    for offset in _XPT_STAMPS:
        if not _STAMP.fullmatch(bytes(data[offset : offset + 16])):
            raise ExportError(f"{name}: no XPORT time stamp at byte {offset}")
        data[offset : offset + 16] = _FIXED_STAMP
    return bytes(data)


def validate_xpt(name: str, data: bytes, expected: pd.DataFrame) -> list[Finding]:
    """Read the XPORT file back (pyreadstat) and compare it with the dataset, cell by cell."""
    import pyreadstat

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name.lower()}.xpt"
        path.write_bytes(data)
        try:
            back, meta = pyreadstat.read_xport(str(path))
        except Exception as exc:  # an unreadable file is the finding
            return [Finding("XPORT read-back", name, f"unreadable: {exc}")]
    findings = []
    if meta.table_name != name:
        findings.append(Finding("XPORT read-back", name, f"table name {meta.table_name!r}"))
    if list(back.columns) != list(expected.columns):
        findings.append(Finding("XPORT read-back", name, "the columns differ"))
        return findings
    _, columns = DATASETS[name]
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    for column in columns:
        if labels.get(column.name) != column.label:
            findings.append(Finding("XPORT read-back", f"{name}.{column.name}", "label differs"))
        for row, (a, b) in enumerate(zip(back[column.name], expected[column.name], strict=True)):
            same = int(a) == int(b) if column.data_type == "integer" else str(a) == str(b)
            if not same:
                findings.append(
                    Finding(
                        "XPORT read-back",
                        f"{name}.{column.name} row {row + 1}",
                        f"{a!r} read back, {b!r} written",
                    )
                )
    return findings


# -- the export ----------------------------------------------------------------------------------


def export(study: Study | None = None) -> Export:
    study = study_or_default(study)
    frames = datasets(study)
    _, full_text = trial_criteria(study)
    files: dict[str, bytes] = {}
    findings: list[Finding] = []
    for name, frame in frames.items():
        document = dataset_json(name, frame, study)
        findings += validate_dataset_json(document)
        files[f"sdtm/{name.lower()}.json"] = json_bytes(document)
        xpt = xpt_bytes(name, frame)
        findings += validate_xpt(name, xpt, frame)
        files[f"sdtm/{name.lower()}.xpt"] = xpt
    files["sdtm/ti-full-text.json"] = json_bytes(
        {
            "about": "The registry's full text of each criterion that TI's IETEST (at most 200 "
            "characters) shows shortened.",
            "criteria": full_text,
        }
    )
    files["sdtm/assumptions.json"] = json_bytes(assumptions(study))
    files["sdtm/ts-null-flavours.json"] = json_bytes(
        {
            "about": "Trial summary parameters the registry record cannot give: written with an "
            "empty TSVAL and this null flavour (TSVALNF), never a guessed value.",
            "parameters": {
                p.code: {"TSVALNF": p.null_flavour, "why": p.why_null}
                for p in null_flavoured(study)
            },
        }
    )
    return Export(
        "SDTM trial design",
        files,
        [
            "Dataset-JSON 1.1 schema (CDISC)",
            "each transport file read back and compared (pyreadstat)",
        ],
        findings,
        contents=(
            "The five trial design datasets (trial summary, arms, elements, inclusion and "
            "exclusion criteria, visits) in two file formats; the full text of the criteria the "
            "datasets shorten; the summary parameters the record cannot give."
        ),
    )
