"""The screening engine: every criterion (IN01-IN07, EX01-EX30) checked on one participant record.

Each check returns pass, fail or unknown with a reason that names the values it used, the
criterion's verbatim text, its kind (``computed`` from the record, or ``attested`` by the
investigator) and the date it is anchored to. The verdict is ``eligible`` only when all 37 pass,
``not_eligible`` when any fails, and ``incomplete`` otherwise, with the list of what is missing.

Checks reuse the lab checks (protocol.labs), the washout calculator (protocol.washout) and the
calculators (protocol.classification); nothing here repeats their rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pint
from dateutil.relativedelta import relativedelta

from protocol.classification import (
    acr_eular_score,
    age_in_completed_years,
    calendar_duration,
    leroy_subset,
    mrss_total,
)
from protocol.errors import ProtocolDataError
from protocol.labs import LabInputError, LabResult, check_lab, get_analyte, unknown_result
from protocol.participant import ParticipantRecord, load_record
from protocol.study import Study, load_study
from protocol.washout import (
    EntryResult,
    WashoutInput,
    check_washout,
    entry_problems,
    window_start,
)

Status = Literal["pass", "fail", "unknown"]
Verdict = Literal["eligible", "not_eligible", "incomplete"]
Kind = Literal["computed", "attested"]

MEDICATION_CRITERIA = ("EX09", "EX10", "EX11", "EX12", "EX13", "EX14", "EX15")
EVENT_CRITERIA = ("EX08", "EX20", "EX23", "EX26", "EX29")
#: An unknown medicine could belong to any open class: these criteria stay unknown until the
#: investigator clears it.
OPEN_MEDICATION_CRITERIA = ("EX09", "EX10", "EX13", "EX14", "EX15")
EX24_ANALYTES = ("hemoglobin", "wbc", "neutrophils", "platelets", "alt", "ast", "total_bilirubin")


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str
    missing: tuple[str, ...] = ()


@dataclass
class CriterionResult:
    id: str
    status: Status
    reason: str
    text: str
    kind: Kind
    anchor: str | None
    missing: list[str] = field(default_factory=list)


@dataclass
class ScreeningResult:
    participant: str
    verdict: Verdict
    criteria: list[CriterionResult]
    missing: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "verdict": self.verdict,
            "criteria": [
                {k: v for k, v in asdict(c).items() if k != "missing"} for c in self.criteria
            ],
            "missing": self.missing,
        }


def _combine(outcomes: list[Outcome], none_reason: str) -> Outcome:
    """Fail if any part fails, unknown if any is unknown, else pass."""
    if not outcomes:
        return Outcome("pass", none_reason)
    missing = tuple(m for o in outcomes for m in o.missing)
    for status in ("fail", "unknown"):
        chosen = [o for o in outcomes if o.status == status]
        if chosen:
            return Outcome(status, "; ".join(o.reason for o in chosen), missing)
    return Outcome("pass", "; ".join(o.reason for o in outcomes), missing)


def _missing(reason: str, *fields: str) -> Outcome:
    return Outcome("unknown", reason, tuple(fields))


def _flag(value: bool | None, field_name: str, if_true: str, if_false: str) -> Outcome:
    """An exclusion recorded as yes/no: yes fails, no passes, absent is unknown."""
    if value is None:
        return _missing(f"{field_name} is not recorded", field_name)
    return Outcome("fail", if_true) if value else Outcome("pass", if_false)


class _Context:
    """One record's screening: computed values shared by several criteria, each computed once."""

    def __init__(self, record: ParticipantRecord, study: Study, source: str):
        self.record = record
        self.study = study
        self.source = source
        self.screening = record.dates.screening
        self._lab_results: dict[str, Outcome] = {}
        self._washout: list[EntryResult] | None = None
        self.errors: list[str] = []

    @property
    def age(self) -> int | None:
        birth = self.record.dates.birth
        return age_in_completed_years(birth, self.screening) if birth and self.screening else None

    def lab(self, name: str) -> Outcome:
        if name not in self._lab_results:
            self._lab_results[name] = self._check_lab(name)
        return self._lab_results[name]

    def _check_lab(self, name: str) -> Outcome:
        value = getattr(self.record.labs, name)
        if value is None:
            return _missing(unknown_result(name).reason, f"labs.{name}")
        extra: dict[str, Any] = {"uln": value.uln, "uln_unit": value.uln_unit}
        missing: list[str] = []
        if get_analyte(name).relative_to_uln and value.uln is None:
            return _missing(
                f"{get_analyte(name).short_label}: the site's upper limit of normal is not "
                f"recorded",
                f"labs.{name}.uln",
            )
        if name == "creatinine":
            extra = {"age": self.age, "sex": self.record.sex}
            if self.age is None:
                missing += ["dates.birth", "dates.screening"]
            if self.record.sex is None:
                missing.append("sex")
            if missing:
                return _missing("eGFR from creatinine needs the age and the sex", *missing)
            minimum = self.study.egfr_equation.value.minimum_age
            if self.age < minimum:
                return _missing(
                    f"eGFR: CKD-EPI 2021 is for adults ({minimum}+) and the participant is "
                    f"{self.age}; a reported eGFR is needed",
                    "labs.egfr",
                )
        try:
            result: LabResult = check_lab(name, value.value, value.unit, **extra)
        except LabInputError as exc:
            self.errors.append(f"labs.{name}: {exc}")
            return _missing(str(exc), f"labs.{name}")
        return Outcome(result.status, result.reason)

    def washout(self) -> list[EntryResult] | None:
        """The washout entries, or None when the planned randomization date is not recorded."""
        if self._washout is None and self.record.dates.planned_randomization is not None:
            data = WashoutInput(
                planned_randomization=self.record.dates.planned_randomization,
                screening=self.screening,
                medications=self.record.medications or [],
                events=self.record.events or [],
            )
            problems = entry_problems(data)
            if problems:
                self.errors.extend(problems)
                return []
            self._washout = check_washout(data, self.study).entries
        return self._washout

    def washout_outcome(self, criterion: str) -> Outcome:
        is_event_criterion = criterion in EVENT_CRITERIA
        history = self.record.events if is_event_criterion else self.record.medications
        history_field = "events" if is_event_criterion else "medications"
        if history is None:
            return _missing(f"the {history_field} list is not recorded", history_field)
        entries = self.washout()
        if entries is None:
            return _missing(
                "the windows count back from the planned randomization date, which is not recorded",
                "dates.planned_randomization",
            )
        mine = [
            e
            for e in entries
            if (e.criterion and criterion in e.criterion.split("/"))
            or (
                e.criterion is None
                and e.status != "pass"
                and e.entry.startswith("medications")
                and criterion in OPEN_MEDICATION_CRITERIA
            )
        ]
        outcomes = [
            Outcome(
                e.status,
                e.reason,
                (f"{e.entry} ({e.name}): investigator to confirm",)
                if e.status == "unknown"
                else (),
            )
            for e in mine
        ]
        return _combine(outcomes, f"none recorded in {history_field}")


# -- the checks, one per criterion ---------------------------------------------------------


def in01_age(ctx: _Context) -> Outcome:
    population = ctx.study.population
    low = int(population.minimum_age.value.to("year").magnitude)
    high = int(population.maximum_age.value.to("year").magnitude)
    if ctx.age is None:
        return _missing("age needs the birth and screening dates", "dates.birth", "dates.screening")
    verdict = "pass" if low <= ctx.age <= high else "fail"
    return Outcome(verdict, f"age {ctx.age} years at screening; {low}-{high} required (PI09)")


def in02_acr_eular(ctx: _Context) -> Outcome:
    minimum = ctx.study.criterion_rules.acr_eular_minimum.value
    score = acr_eular_score(ctx.record.ssc.acr_eular, ctx.study)
    if score.applicable is False:
        return Outcome("fail", "the ACR/EULAR 2013 criteria are not applicable to this patient")
    if score.total is None or score.applicable is None:
        return _missing("the ACR/EULAR 2013 items are not all recorded", *score.missing)
    scored = ", ".join(f"{name.split(' (')[0]} {p}" for name, p in score.points if p)
    relation = ">=" if score.total >= minimum else "<"
    return Outcome(
        "pass" if score.total >= minimum else "fail",
        f"ACR/EULAR 2013 total {score.total} {relation} {minimum} ({scored or 'no item met'})",
    )


def _leroy(ctx: _Context, want: str) -> Outcome:
    subset = leroy_subset(ctx.record.ssc, ctx.study)
    if subset.subset is None:
        return _missing(f"LeRoy subset unknown: {subset.reason}", *subset.missing)
    text = f"LeRoy subset: {subset.subset} ({subset.reason})"
    if want == "diffuse":
        return Outcome("pass" if subset.subset == "diffuse" else "fail", text)
    return Outcome("fail" if subset.subset == "limited" else "pass", text)


def in03_diffuse(ctx: _Context) -> Outcome:
    return _leroy(ctx, "diffuse")


def _disease_duration(ctx: _Context, limit: pint.Quantity, inclusive_max: bool) -> Outcome:
    first = ctx.record.ssc.first_non_raynaud_manifestation
    if first is None or ctx.screening is None:
        return _missing(
            "disease duration needs the first non-Raynaud manifestation and the screening date",
            *(["ssc.first_non_raynaud_manifestation"] if first is None else []),
            *(["dates.screening"] if ctx.screening is None else []),
        )
    months = round(limit.to("month").magnitude)
    boundary = first + relativedelta(months=months)
    duration = calendar_duration(first, ctx.screening)
    text = f"disease duration {duration} at screening (from {first}); limit {months} months"
    if inclusive_max:  # IN04: at most the limit; exactly the limit is eligible
        return Outcome("pass" if ctx.screening <= boundary else "fail", text + " (PI10)")
    return Outcome("fail" if ctx.screening > boundary else "pass", text)  # EX02: more than


def in04_duration(ctx: _Context) -> Outcome:
    return _disease_duration(
        ctx, ctx.study.criterion_rules.disease_duration_maximum.value, inclusive_max=True
    )


def in05_mrss(ctx: _Context) -> Outcome:
    minimum = ctx.study.criterion_rules.mrss_minimum.value
    score = mrss_total(ctx.record.ssc.mrss)
    if score.total is None:
        return _missing("the mRSS is incomplete", *score.missing)
    verdict = "pass" if score.total >= minimum else "fail"
    relation = ">=" if verdict == "pass" else "<"
    return Outcome(verdict, f"mRSS {score.total} ({score.source}) {relation} {minimum}")


def _woman_of_childbearing_potential(ctx: _Context) -> bool | Outcome | None:
    record = ctx.record
    if record.sex is None:
        return _missing("sex is not recorded", "sex")
    if record.sex == "male":
        return False
    if record.childbearing_potential is None:
        return _missing("childbearing potential is not recorded", "childbearing_potential")
    return record.childbearing_potential


def in06_pregnancy_test(ctx: _Context) -> Outcome:
    wocbp = _woman_of_childbearing_potential(ctx)
    if isinstance(wocbp, Outcome):
        return wocbp
    if not wocbp:
        return Outcome("pass", "not a woman of childbearing potential: no test required")
    test = ctx.record.pregnancy_test
    if test is None:
        return _missing("no pregnancy test recorded", "pregnancy_test")
    if test.result == "positive":
        return Outcome("fail", f"pregnancy test positive ({test.sample}, {test.date})")
    if test.sample != "serum":
        return _missing(
            f"a {test.sample} test is recorded; a serum test is required", "pregnancy_test.sample"
        )
    if ctx.screening is None or test.date != ctx.screening:
        return _missing(
            f"the serum test of {test.date} is not dated at the screening visit",
            "pregnancy_test.date",
        )
    return Outcome("pass", f"serum pregnancy test negative on {test.date} (screening)")


def _attested(criterion: str) -> Callable[[_Context], Outcome]:
    def check(ctx: _Context) -> Outcome:
        attestation = getattr(ctx.record.attestations, criterion)
        if attestation is None:
            return _missing(
                "the investigator's attestation is not recorded", f"attestations.{criterion}"
            )
        inclusion = criterion.startswith("IN")
        if attestation.applies:
            verdict: Status = "pass" if inclusion else "fail"
        else:
            verdict = "fail" if inclusion else "pass"
        said = "applies" if attestation.applies else "does not apply"
        return Outcome(verdict, f"the investigator attests on {attestation.date} that it {said}")

    return _named(check, f"attested[{criterion}]")


def in07_consent(ctx: _Context) -> Outcome:
    attested = _attested("IN07")(ctx)
    consent = ctx.record.dates.consent
    if consent is None:
        return _combine([attested, _missing("no consent date", "dates.consent")], "")
    return _combine([attested, Outcome("pass", f"consent signed on {consent}")], "")


def ex01_limited(ctx: _Context) -> Outcome:
    return _leroy(ctx, "limited")


def ex02_duration(ctx: _Context) -> Outcome:
    return _disease_duration(
        ctx, ctx.study.criterion_rules.disease_duration_exclusion.value, inclusive_max=False
    )


def ex03_rheumatic(ctx: _Context) -> Outcome:
    return _flag(
        ctx.record.history.other_rheumatic_autoimmune_disease,
        "history.other_rheumatic_autoimmune_disease",
        "another rheumatic autoimmune disease is recorded",
        "none recorded",
    )


def ex04_environmental(ctx: _Context) -> Outcome:
    return _flag(
        ctx.record.history.environmental_ssc_like_illness,
        "history.environmental_ssc_like_illness",
        "an environmental SSc-like illness is recorded",
        "none recorded",
    )


def ex05_renal_crisis(ctx: _Context) -> Outcome:
    return _flag(
        ctx.record.history.renal_crisis,
        "history.renal_crisis",
        "a prior renal crisis is recorded",
        "no prior renal crisis",
    )


def ex06_pah(ctx: _Context) -> Outcome:
    risk = ctx.record.pah_risk
    if risk is None:
        return _missing("the PAH risk category is not recorded", "pah_risk")
    excluded = ctx.study.criterion_rules.pah_excluded_risk.value
    if risk in excluded:
        return Outcome("fail", f"PAH risk: {risk}")
    return Outcome("pass", f"PAH risk: {risk}")


def ex07_pulmonary(ctx: _Context) -> Outcome:
    pulmonary = ctx.record.pulmonary
    parts = []
    for name, attribute in (("fvc", "fvc_percent_predicted"), ("dlco", "dlco_percent_predicted")):
        value = getattr(pulmonary, attribute)
        if value is None:
            parts.append(_missing(f"{name.upper()} not recorded", f"pulmonary.{attribute}"))
            continue
        try:
            result = check_lab(name, value, "%")
        except LabInputError as exc:
            ctx.errors.append(f"pulmonary.{attribute}: {exc}")
            continue
        parts.append(Outcome(result.status, result.reason))
    parts.append(
        _flag(
            pulmonary.oxygen_therapy,
            "pulmonary.oxygen_therapy",
            "requires oxygen therapy",
            "no oxygen therapy",
        )
    )
    return _combine(parts, "")


def ex20_infection(ctx: _Context) -> Outcome:
    active = _flag(
        ctx.record.infection_screening.active_infection,
        "infection_screening.active_infection",
        "a known active infection",
        "no known active infection",
    )
    return _combine([active, ctx.washout_outcome("EX20")], "")


def _infection_result(field_name: str, excluded: set[str]) -> Callable[[_Context], Outcome]:
    def check(ctx: _Context) -> Outcome:
        parts = []
        for name in field_name.split(","):
            value = getattr(ctx.record.infection_screening, name)
            path = f"infection_screening.{name}"
            if value is None:
                parts.append(_missing(f"{name.replace('_', ' ')} not recorded", path))
            else:
                status: Status = "fail" if value in excluded else "pass"
                parts.append(Outcome(status, f"{name.replace('_', ' ')}: {value}"))
        return _combine(parts, "")

    return _named(check, f"infection_result[{field_name}]")


def ex21_immunodeficiency(ctx: _Context) -> Outcome:
    return _flag(
        ctx.record.history.immunodeficiency,
        "history.immunodeficiency",
        "an immunodeficiency is recorded",
        "no immunodeficiency",
    )


def ex22_immunoglobulins(ctx: _Context) -> Outcome:
    return _combine([ctx.lab("iga"), ctx.lab("igg")], "")


def ex24_labs(ctx: _Context) -> Outcome:
    parts = [ctx.lab(name) for name in EX24_ANALYTES]
    if ctx.record.labs.egfr is not None:
        parts.append(ctx.lab("egfr"))
    elif ctx.record.labs.creatinine is not None:
        parts.append(ctx.lab("creatinine"))
    else:
        parts.append(_missing("eGFR: no eGFR or creatinine recorded", "labs.egfr"))
    return _combine(parts, "")


def ex25_malignancy(ctx: _Context) -> Outcome:
    malignancies = ctx.record.history.malignancies
    if malignancies is None:
        return _missing("the malignancy history is not recorded", "history.malignancies")
    if ctx.screening is None:
        return _missing("the 5-year window counts back from screening", "dates.screening")
    window = ctx.study.criterion_rules.malignancy_window.value
    start = window_start(ctx.screening, window)
    parts = []
    for index, malignancy in enumerate(malignancies):
        name = f"{malignancy.type}"
        if malignancy.excepted_type:
            parts.append(Outcome("pass", f"{name}: an excepted local skin or cervical cancer"))
        elif malignancy.date is None:
            parts.append(_missing(f"{name}: no date", f"history.malignancies[{index}].date"))
        elif malignancy.date >= start:
            parts.append(
                Outcome(
                    "fail",
                    f"{name} on {malignancy.date}, within {window} before screening (from {start})",
                )
            )
        else:
            parts.append(Outcome("pass", f"{name} on {malignancy.date}, before {start}"))
    return _combine(parts, "no malignancy recorded")


def ex27_pregnancy(ctx: _Context) -> Outcome:
    record = ctx.record
    if record.sex == "male":
        return Outcome("pass", "not applicable to men")
    wocbp = _woman_of_childbearing_potential(ctx)
    if isinstance(wocbp, Outcome):
        return wocbp
    parts = [_flag(record.breastfeeding, "breastfeeding", "breastfeeding", "not breastfeeding")]
    if wocbp:
        test = record.pregnancy_test
        if test is None:
            parts.append(_missing("pregnancy status unknown: no test", "pregnancy_test"))
        else:
            parts.append(
                Outcome(
                    "fail" if test.result == "positive" else "pass", f"pregnancy test {test.result}"
                )
            )
        parts.append(
            _flag(
                None if record.contraception_agreed is None else not record.contraception_agreed,
                "contraception_agreed",
                "not willing to use adequate contraception",
                "willing to use adequate contraception",
            )
        )
    return _combine(parts, "")


def ex28_allergy(ctx: _Context) -> Outcome:
    return _flag(
        ctx.record.history.antibody_allergy,
        "history.antibody_allergy",
        "an allergic reaction to monoclonal antibodies is recorded",
        "none recorded",
    )


def _named(check: Callable[[_Context], Outcome], name: str) -> Callable[[_Context], Outcome]:
    """Give a check made by a factory a name the traceability appendix can show."""
    check.__name__ = check.__qualname__ = name
    return check


def _washout_check(criterion: str) -> Callable[[_Context], Outcome]:
    return _named(lambda ctx: ctx.washout_outcome(criterion), f"washout_outcome[{criterion}]")


@dataclass(frozen=True)
class Check:
    """One criterion's executable rule and its description for people, in one object."""

    run: Callable[[_Context], Outcome]
    kind: Kind
    anchor: str | None  # the record date the criterion is anchored to
    how: str  # how it is checked and where its boundary lies; {names} come from study.yaml


_WASHOUT_HOW = (
    "by the washout calculator from the medications and events lists ({windows}); a last dose "
    "on the boundary day is within the window; a medicine the catalogue does not know is "
    "unknown until the investigator clears it"
)

CHECKS: dict[str, Check] = {
    "IN01": Check(
        in01_age,
        "computed",
        "screening",
        "age in completed years on the screening date; {min_age} to {max_age} "
        "inclusive (the day before the {max_age_plus_one} birthday is the last)",
    ),
    "IN02": Check(
        in02_acr_eular,
        "computed",
        None,
        "ACR/EULAR 2013 total (the highest weight per category) of at least "
        "{acr_min}; not applicable (fails) if skin thickening spares the fingers or "
        "another disorder explains it; every item must be recorded",
    ),
    "IN03": Check(
        in03_diffuse,
        "computed",
        "screening",
        "LeRoy subset from the 17 graded mRSS areas (and the back): diffuse when a "
        "proximal area and a distal area are involved (grade 1 or more)",
    ),
    "IN04": Check(
        in04_duration,
        "computed",
        "screening",
        "calendar months from the first non-Raynaud manifestation to screening; at "
        "most {duration_max} (exactly {duration_max} passes, one day more fails)",
    ),
    "IN05": Check(
        in05_mrss, "computed", "screening", "mRSS (17 areas, 0-51) of at least {mrss_min}"
    ),
    "IN06": Check(
        in06_pregnancy_test,
        "computed",
        "screening",
        "for a woman of childbearing potential: a negative serum test dated on the "
        "screening visit (a urine test, or another date, is unknown); others pass",
    ),
    "IN07": Check(
        in07_consent,
        "attested",
        "consent",
        "the investigator's attestation, and a consent date on or before screening",
    ),
    "EX01": Check(
        ex01_limited, "computed", "screening", "LeRoy subset (as IN03): limited cutaneous SSc fails"
    ),
    "EX02": Check(
        ex02_duration,
        "computed",
        "screening",
        "disease duration (as IN04) of more than {duration_excl} fails; exactly "
        "{duration_excl} passes",
    ),
    "EX03": Check(ex03_rheumatic, "computed", None, "recorded history: yes fails"),
    "EX04": Check(ex04_environmental, "computed", None, "recorded history: yes fails"),
    "EX05": Check(ex05_renal_crisis, "computed", None, "recorded history: yes fails"),
    "EX06": Check(ex06_pah, "computed", "screening", "the PAH risk category; {pah_excluded} fail"),
    "EX07": Check(
        ex07_pulmonary,
        "computed",
        "screening",
        "FVC {fvc}, DLCO {dlco} (strict: exactly at the threshold passes), or oxygen therapy",
    ),
    "EX08": Check(_washout_check("EX08"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX09": Check(_washout_check("EX09"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX10": Check(_washout_check("EX10"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX11": Check(
        _washout_check("EX11"),
        "computed",
        "planned_randomization",
        "prednisone-equivalent daily dose (BNF table) above {steroid_limit}/day, or "
        "an IV/IM injection, in the window; exactly {steroid_limit}/day passes",
    ),
    "EX12": Check(_washout_check("EX12"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX13": Check(
        _washout_check("EX13"),
        "computed",
        None,
        "any use ever of a catalogued B-cell depleting therapy or belimumab fails",
    ),
    "EX14": Check(_washout_check("EX14"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX15": Check(
        _washout_check("EX15"),
        "computed",
        None,
        "any use ever of a catalogued cell depletion therapy fails",
    ),
    "EX16": Check(_attested("EX16"), "attested", "screening", "the investigator's attestation"),
    "EX17": Check(
        _infection_result("hepatitis_b,hepatitis_c", {"active", "chronic"}),
        "computed",
        "screening",
        "hepatitis B and C results: active or chronic fails",
    ),
    "EX18": Check(
        _infection_result("tuberculosis", {"active", "latent"}),
        "computed",
        "screening",
        "TB status: active or latent fails",
    ),
    "EX19": Check(
        _infection_result("hiv", {"positive"}),
        "computed",
        "screening",
        "HIV: positive (or known history) fails",
    ),
    "EX20": Check(
        ex20_infection,
        "computed",
        "screening",
        "a known active infection, or an infection event in its window ({windows}); an "
        "event after screening is for the investigator (PI15)",
    ),
    "EX21": Check(ex21_immunodeficiency, "computed", None, "recorded history: yes fails"),
    "EX22": Check(
        ex22_immunoglobulins, "computed", "screening", "IgA {iga}, IgG {igg}, in any unit (strict)"
    ),
    "EX23": Check(_washout_check("EX23"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX24": Check(
        ex24_labs,
        "computed",
        "screening",
        "haemoglobin {hemoglobin}, WBC {wbc}, neutrophils {neutrophils}, platelets "
        "{platelets}, ALT and AST {alt}, bilirubin {total_bilirubin}, eGFR {egfr} "
        "(reported, or CKD-EPI 2021 from creatinine); strict comparisons",
    ),
    "EX25": Check(
        ex25_malignancy,
        "computed",
        "screening",
        "a malignancy dated within {malignancy_window} before screening fails (the "
        "boundary day is within), unless of an excepted type",
    ),
    "EX26": Check(_washout_check("EX26"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX27": Check(
        ex27_pregnancy,
        "computed",
        "screening",
        "pregnant, breastfeeding, or (childbearing potential) unwilling to use contraception fails",
    ),
    "EX28": Check(ex28_allergy, "computed", None, "recorded history: yes fails"),
    "EX29": Check(
        _washout_check("EX29"),
        "computed",
        "planned_randomization",
        "the same rule as EX26 (the record repeats it, PI03)",
    ),
    "EX30": Check(_attested("EX30"), "attested", "screening", "the investigator's attestation"),
}


def describe(criterion_id: str, study: Study | None = None) -> str:
    """How a criterion is checked, with its thresholds taken from study.yaml."""
    study = study or load_study()
    rules = study.criterion_rules
    from protocol.units import format_quantity

    values = {
        "min_age": format_quantity(study.population.minimum_age.value),
        "max_age": format_quantity(study.population.maximum_age.value),
        "max_age_plus_one": _ordinal(
            int(study.population.maximum_age.value.to("year").magnitude) + 1
        ),
        "acr_min": rules.acr_eular_minimum.value,
        "duration_max": format_quantity(rules.disease_duration_maximum.value),
        "duration_excl": format_quantity(rules.disease_duration_exclusion.value),
        "mrss_min": rules.mrss_minimum.value,
        "pah_excluded": " and ".join(rules.pah_excluded_risk.value),
        "malignancy_window": str(rules.malignancy_window.value),
        "steroid_limit": format_quantity(study.corticosteroid_rule.daily_limit.value),
    }
    values |= {a.name: str(a.threshold.value) for a in study.lab_analytes if a.threshold}
    windows = [
        f"{g.label.lower()}: {g.window.value if g.window else 'no window given'} "
        f"{'' if g.rule == 'lifetime' else g.anchor_as_written}".strip()
        for g in study.medication_classes
        if g.criterion == criterion_id
    ]
    windows += [
        f"{e.label.lower()}: {e.window.value if e.window else 'any'} {e.anchor_as_written}"
        for e in study.exposure_events
        if criterion_id in (e.criterion, *e.also_criteria)
    ]
    values["windows"] = "; ".join(windows)
    return CHECKS[criterion_id].how.format(**values)


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _anchor_text(record: ParticipantRecord, anchor: str | None) -> str | None:
    if anchor is None:
        return None
    value: date | None = getattr(record.dates, anchor)
    label = anchor.replace("_", " ")
    return f"{label} {value}" if value else f"{label} (not recorded)"


def screen(
    record: ParticipantRecord, study: Study | None = None, source: str = "participant record"
) -> ScreeningResult:
    """Check every criterion on one record. Raises ProtocolDataError for unusable lab input."""
    study = study or load_study()
    ctx = _Context(record, study, source)
    results = []
    for criterion in study.criteria:
        check = CHECKS[criterion.id]
        outcome = check.run(ctx)
        results.append(
            CriterionResult(
                id=criterion.id,
                status=outcome.status,
                reason=outcome.reason,
                text=criterion.text,
                kind=check.kind,
                anchor=_anchor_text(record, check.anchor),
                missing=list(dict.fromkeys(outcome.missing)),
            )
        )
    if ctx.errors:
        raise ProtocolDataError(source, list(dict.fromkeys(ctx.errors)))
    statuses = {r.status for r in results}
    verdict: Verdict = (
        "not_eligible"
        if "fail" in statuses
        else "incomplete"
        if "unknown" in statuses
        else "eligible"
    )
    missing: dict[str, list[str]] = {}
    for result in results:
        if result.status == "unknown":
            for item in result.missing or [f"({result.id}) {result.reason}"]:
                missing.setdefault(item, []).append(result.id)
    return ScreeningResult(
        participant=record.participant,
        verdict=verdict,
        criteria=results,
        missing=[f"{item} ({', '.join(ids)})" for item, ids in missing.items()],
    )


def screen_file(path: Path | str) -> ScreeningResult:
    return screen(load_record(path), source=str(path))


# -- reports ---------------------------------------------------------------------------------

VERDICT_TEXT = {
    "eligible": "ELIGIBLE: all 37 criteria pass",
    "not_eligible": "NOT ELIGIBLE: at least one criterion fails",
    "incomplete": "INCOMPLETE: no criterion fails, but some cannot be decided yet",
}


def format_text(result: ScreeningResult, record: ParticipantRecord | None = None) -> str:
    """The report a coordinator prints for the screening file."""
    lines = [
        f"NCT06375005 screening: participant {result.participant}",
        f"Verdict: {VERDICT_TEXT[result.verdict]}",
    ]
    if record is not None:
        d = record.dates
        lines.append(
            f"Screening {d.screening or '-'}, planned randomization "
            f"{d.planned_randomization or '-'}"
        )
    lines.append("")
    for c in result.criteria:
        mark = {"pass": "pass   ", "fail": "FAIL   ", "unknown": "UNKNOWN"}[c.status]
        kind = " [attested]" if c.kind == "attested" else ""
        lines.append(f"{c.id}  {mark}  {c.reason}{kind}")
    if result.missing:
        lines += ["", "Missing (to complete before a verdict):"]
        lines += [f"  - {item}" for item in result.missing]
    failed = [c.id for c in result.criteria if c.status == "fail"]
    if failed:
        lines += ["", f"Failed: {', '.join(failed)}"]
    return "\n".join(lines)


def format_markdown(result: ScreeningResult) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        f"**Participant {result.participant}: {VERDICT_TEXT[result.verdict]}**",
        "",
        "| ID | Status | Reason | Kind |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c.id} | {c.status} | {cell(c.reason)} | {c.kind} |" for c in result.criteria]
    if result.missing:
        lines += ["", "Missing:", ""] + [f"- {cell(item)}" for item in result.missing]
    return "\n".join(lines)
