"""The screening engine: every criterion (IN01-IN07, EX01-EX30) checked on one participant record.

Each check returns pass, fail or unknown with a reason that names the values it used, the
criterion's verbatim text, its kind (``computed`` from the record, or ``attested`` by the
investigator) and the date it is anchored to. The verdict is ``eligible`` only when all 37 pass,
``not_eligible`` when any fails, and ``incomplete`` otherwise, with the list of what is missing.

Checks reuse the lab checks (protocol.labs), the washout calculator (protocol.washout) and the
calculators (protocol.classification); nothing here repeats their rules.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pint
from dateutil.relativedelta import relativedelta

from protocol.classification import (
    LeroySubset,
    Subset,
    acr_eular_range,
    age_in_completed_years,
    calendar_duration,
    finger_points_at_least,
    leroy_deciding_fields,
    leroy_possible_subsets,
    leroy_subset,
    mrss_range,
    mrss_total,
)
from protocol.documents import identifies, refused_as_said, shown, withheld_from
from protocol.errors import Problem, ProtocolDataError
from protocol.facts import _RANGE_TEXT, STATUSES, Limit, Status
from protocol.inputs import EARLIEST_DATE, LATEST_DATE
from protocol.labs import (
    LabInputError,
    LabResult,
    as_given,
    check_lab,
    check_value,
    get_analyte,
    read_analyte_unit,
    read_uln,
    unknown_result,
)
from protocol.participant import (
    MAXIMUM_PLAUSIBLE_AGE,
    PAH_RISKS,
    Dates,
    ParticipantRecord,
    load_record,
)
from protocol.study import Study, admitted_ages, admitted_sexes, derived, load_study
from protocol.units import format_quantity
from protocol.washout import (
    EntryResult,
    WashoutInput,
    WashoutInputError,
    anchor_breakpoints,
    check_washout,
    entry_problems,
    latest_randomization_after_screening,
    window_start,
)

Verdict = Literal["eligible", "not_eligible", "incomplete"]
Kind = Literal["computed", "attested"]

# an unknown washout names the first few reasons the possible dates give, not every date's
SHOWN_REASONS = 3
EX24_ANALYTES = ("hemoglobin", "wbc", "neutrophils", "platelets", "alt", "ast", "total_bilirubin")


@dataclass(frozen=True)
class CheckResult:
    status: Status
    reason: str
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Anything but these three would read as a pass where statuses are combined.
        if self.status not in STATUSES:
            raise ValueError(f"a criterion's status is one of {STATUSES}, not {self.status!r}")


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
    # why the planned randomization needs a new screening visit (None: it does not)
    rescreening: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "verdict": self.verdict,
            "criteria": [
                {k: v for k, v in asdict(c).items() if k != "missing"} for c in self.criteria
            ],
            "missing": self.missing,
            "requires_rescreening": self.rescreening is not None,
            "rescreening": self.rescreening,
        }


def _combine(outcomes: list[CheckResult], none_reason: str = "") -> CheckResult:
    """Fail if any part fails, unknown if any is unknown, else pass."""
    if not outcomes:
        return CheckResult("pass", none_reason)
    missing = tuple(m for o in outcomes for m in o.missing)
    for status in ("fail", "unknown"):
        chosen = [o for o in outcomes if o.status == status]
        if chosen:
            return CheckResult(status, "; ".join(o.reason for o in chosen), missing)
    return CheckResult("pass", "; ".join(o.reason for o in outcomes), missing)


def _missing(reason: str, *fields: str) -> CheckResult:
    return CheckResult("unknown", reason, tuple(fields))


def _flag(value: bool | None, field_name: str, if_true: str, if_false: str) -> CheckResult:
    """An exclusion recorded as yes/no: yes fails, no passes, absent is unknown."""
    if value is None:
        return _missing(f"{field_name} is not recorded", field_name)
    return CheckResult("fail", if_true) if value else CheckResult("pass", if_false)


def _decided(outcomes: list[CheckResult], unknown_reason: str, *missing: str) -> CheckResult:
    """One status when every possible completion of the missing data gives it; else unknown.

    ``outcomes`` are the results of the rule under each completion worth trying (the ends of a
    date range, either sex, ...); the reason of a decided status is the first completion's.
    """
    statuses = {o.status for o in outcomes}
    if len(statuses) == 1 and "unknown" not in statuses:
        return outcomes[0]
    inner = tuple(m for o in outcomes for m in o.missing)
    return CheckResult("unknown", unknown_reason, (*missing, *inner))


def _planned_event_kinds(study: Study) -> frozenset[str]:
    """The events that are plans (a surgery to come), which may fall after randomization."""
    return frozenset(e.kind for e in study.exposure_events if e.rule == "planned")


class _Context:
    """One record's screening: computed values shared by several criteria, each computed once.

    Where a date is not recorded, the range it could take in a valid record is known: the
    screening visit comes after consent, the first manifestation, the tests and attestations,
    and on or before randomization; randomization comes after screening and every recorded dose.
    Rules that depend on a date are evaluated at the ends of its range (and, for the washout
    windows, at every date where some status can change), so a criterion is decided whenever
    every possible date gives the same status.
    """

    def __init__(self, record: ParticipantRecord, study: Study):
        self.record = record
        self.study = study
        self._lab_results: dict[str, CheckResult] = {}
        self._washouts: dict[tuple[date, date], list[EntryResult]] = {}
        self.errors: list[Problem] = []
        self.screening_range, self.randomization_range = self._date_ranges()
        low_s, high_s = self.screening_range
        # recorded (its range is that day), or the one day the record's other dates leave
        self.screening: date | None = low_s if low_s == high_s else None
        self._anchor_pairs: list[tuple[date, date]] | None = None
        self._leroy: tuple[LeroySubset, set[Subset]] | None = None

    def leroy(self) -> tuple[LeroySubset, set[Subset]]:
        """The LeRoy subset the graded areas show, and every subset the record allows: read by
        IN03 and EX01, worked out once."""
        if self._leroy is None:
            ssc = self.record.ssc_as_implied()
            self._leroy = leroy_subset(ssc, self.study), leroy_possible_subsets(ssc, self.study)
        return self._leroy

    # -- what the dates can be --------------------------------------------------------------
    def _date_ranges(self) -> tuple[tuple[date, date], tuple[date, date]]:
        record, d = self.record, self.record.dates
        before_screening = [d.birth, record.latest_before_screening()]
        earliest_screening = max(filter(None, before_screening), default=EARLIEST_DATE)
        latest_screening = d.planned_randomization or LATEST_DATE
        if d.screening:
            earliest_screening = latest_screening = d.screening
        before_randomization = [earliest_screening]
        for med in record.medications or []:
            before_randomization += [med.start, med.last_dose]
        planned = derived(self.study, "planned_event_kinds", _planned_event_kinds)
        before_randomization += [e.date for e in record.events or [] if e.kind not in planned]
        earliest_randomization = max(filter(None, before_randomization))
        latest_randomization = d.planned_randomization or LATEST_DATE
        if d.planned_randomization:
            earliest_randomization = d.planned_randomization
        elif latest_screening < LATEST_DATE:
            # not planned yet: the visit schedule randomizes at most so many days after the
            # screening visit (a later date needs a new screening, _rescreening says so)
            # (never past the last date the book reads: a screening in the last days of 2100
            # would reach into 2101, which no record can hold)
            reach = min(
                latest_screening + latest_randomization_after_screening(self.study), LATEST_DATE
            )
            if earliest_randomization <= reach:
                latest_randomization = reach
        if earliest_screening > latest_screening or earliest_randomization > latest_randomization:
            self.errors.append(
                Problem(
                    "the recorded dates cannot all be in order; expected tests, attestations and "
                    "history on or before screening, doses on or before the planned randomization",
                    path="dates",
                )
            )
            earliest_screening = latest_screening
            earliest_randomization = latest_randomization
        return (earliest_screening, latest_screening), (
            earliest_randomization,
            latest_randomization,
        )

    @property
    def age(self) -> int | None:
        birth = self.record.dates.birth
        return age_in_completed_years(birth, self.screening) if birth and self.screening else None

    def age_range(self) -> tuple[int, int]:
        """The youngest and oldest the participant can be at screening, given what is recorded."""
        d = self.record.dates
        low_s, high_s = self.screening_range
        if d.birth:
            youngest = age_in_completed_years(d.birth, low_s)
            oldest = age_in_completed_years(d.birth, high_s)
        else:
            # born on or before every date the record holds (a date before birth is refused)
            latest_birth = min([*self.record.dates_after_birth(), low_s])
            youngest = age_in_completed_years(latest_birth, low_s)
            oldest = age_in_completed_years(EARLIEST_DATE, high_s)
        # older than plausible at screening is refused, so no age beyond it is possible
        return youngest, max(youngest, min(oldest, MAXIMUM_PLAUSIBLE_AGE))

    # -- laboratory values ------------------------------------------------------------------
    def lab(self, name: str) -> CheckResult:
        if name not in self._lab_results:
            self._lab_results[name] = self._check_lab(name)
        return self._lab_results[name]

    def _check_lab(self, name: str) -> CheckResult:
        value = getattr(self.record.labs, name)
        if value is None:
            return _missing(unknown_result(name, study=self.study).reason, f"labs.{name}")
        analyte = get_analyte(name, self.study)
        if value.uln is None and value.uln_unit is not None:
            # a ULN's unit alone is no ULN (a site may fill that column ahead), but it is read
            # as prescreen reads the cell: a unit the book does not read, or of another kind
            # than the analyte's, is refused
            try:
                read_analyte_unit(analyte, value.uln_unit, "ULN's unit")
            except LabInputError as exc:
                self._lab_refused(name, value, exc)
        if not analyte.relative_to_uln and value.uln is not None:
            # refused, as `trialbook lab` refuses it: a ULN here means the row was misread (a
            # ULN unit alone is no ULN, as a unit without its value is no result)
            try:
                read_uln(analyte, value.uln, self.study)
            except LabInputError as refused:
                self.errors.append(
                    Problem(str(refused), path=f"labs.{name}.uln", found=as_given(float(value.uln)))
                )
            return _missing(f"{analyte.label}: a ULN where none applies", f"labs.{name}")
        if analyte.relative_to_uln and value.uln is None:
            self._lab_checked(name, value, {"uln": None})  # still refuse an implausible value
            decided = self._for_every_uln(name, value, analyte)
            if decided is not None:
                return decided
            return _missing(
                f"{analyte.short_label}: the site's upper limit of normal is not recorded",
                f"labs.{name}.uln",
            )
        if analyte.relative_to_uln:
            return self._lab_checked(name, value, {"uln": value.uln, "uln_unit": value.uln_unit})
        if name != "creatinine":
            return self._lab_checked(name, value, {})
        # eGFR from creatinine: every sex and age the record allows, decided if all agree
        # a sex not recorded but implied (childbearing potential, breastfeeding, a positive
        # pregnancy test are a woman's; the record refuses them beside "male"), as IN01 reads it
        sex = self.record.sex or _implied_sex(self.record)
        # not recorded: each sex IN01 admits (an amendment enrolling women reads a woman's)
        sexes = [sex] if sex else admitted_sexes(self.study)
        youngest, oldest = self.age_range()
        # an age IN01 excludes needs no eGFR (the participant is not eligible at that age
        # whatever the kidneys): each age the record allows is read as the nearest age IN01
        # admits, so a creatinine that fails, or passes, at every admitted age decides EX24's
        # part, and every completion of the record's dates keeps the status it gives
        young, old = admitted_ages_within(youngest, oldest, self.study)
        minimum = self.study.egfr_equation.value.minimum_age
        # eGFR falls with age: the ends of the possible ages bound it (CKD-EPI takes 18-120)
        ages = sorted({min(max(young, minimum), 120), min(max(old, minimum), 120)})
        outcomes = [
            self._lab_checked(name, value, {"age": age, "sex": sex})
            for sex in sexes
            for age in ages
        ]
        missing = [] if sex or len(sexes) == 1 else ["sex"]
        if youngest != oldest:
            missing += ["dates.birth"] if self.record.dates.birth is None else []
            missing += ["dates.screening"] if self.screening is None else []
        ages_text = (
            f"the age could be {youngest} to {oldest} years"
            if youngest != oldest
            else f"aged {youngest}"
        )
        unknown_reason = (
            f"eGFR from creatinine depends on {' and '.join(missing)}, not recorded ({ages_text})"
        )
        if young < minimum:
            if old < minimum:  # a child at every age the record allows
                age = f"{old}" if young == old else f"at most {old}"
                return _missing(
                    f"eGFR: CKD-EPI 2021 is for adults ({minimum}+) and the participant is "
                    f"{age}; a reported eGFR is needed",
                    "labs.egfr",
                )
            # a child's eGFR is not computed at all: whatever the adult ages give, it is open
            return _missing(unknown_reason, *missing)
        clamped = (young, old) != (youngest, oldest)
        if clamped and young != old:  # the ages IN01 admits were read (see above)
            unknown_reason = unknown_reason.removesuffix(")") + (
                f"; at {young} to {old}, the ages IN01 admits, it is on both sides of the "
                "threshold)"
            )
        elif clamped:
            unknown_reason = unknown_reason.removesuffix(")") + (
                f"; read at {young}, the nearest age IN01 admits)"
            )
        decided = _decided(outcomes, unknown_reason, *missing)
        if decided.status == "unknown":
            return decided
        if sex and not self.record.sex:
            implied = f"; the sex not recorded, {sex} as {_implied_by(self.record)} implies"
            decided = CheckResult(decided.status, f"{decided.reason}{implied}")
        elif not sex and len(sexes) == 1:
            read_as = f"; the sex not recorded, read as {sexes[0]}, the only sex IN01 admits"
            decided = CheckResult(decided.status, f"{decided.reason}{read_as}")
        if clamped and young == old:  # one age read, IN01 excluding every other the record allows
            allowed = f"{youngest}" if youngest == oldest else f"{youngest} to {oldest}"
            every = " and every sex the record allows" if "sex" in missing else ""
            return CheckResult(
                decided.status,
                f"{decided.reason} (aged {allowed}: read at {young}, the nearest age IN01 "
                f"admits{every}; IN01 excludes the rest)",
            )
        if missing:
            sexes_too = " and sex" if "sex" in missing else ""
            every = (
                f"every age{sexes_too} the record allows"
                if not clamped
                else f"every age from {young} to {old}{sexes_too} the record allows; IN01 "
                f"excludes any other age"
            )
            return CheckResult(decided.status, f"{decided.reason} (the same for {every})")
        return decided

    def _for_every_uln(self, name: str, value: Any, analyte: Any) -> CheckResult | None:
        """A value decided whatever the missing ULN, within the ULNs a laboratory may report
        (the analyte's plausible ULN range): ALT 1000 U/L is over 1.5 × any ULN up to 200 U/L,
        so a missing ULN could not change the criterion. None when it could."""
        plausible = analyte.uln_plausible
        if plausible is None or self.errors:
            return None
        low, high, unit = re.match(_RANGE_TEXT, plausible.written).groups()  # as written
        outcomes = [
            self._lab_checked(name, value, {"uln": float(end), "uln_unit": unit})
            for end in (low, high)
        ]
        if {o.status for o in outcomes} != {outcomes[0].status} or self.errors:
            return None
        return CheckResult(
            outcomes[0].status,
            f"{analyte.short_label} {value.value:g} {value.unit}, the upper limit of normal not "
            f"recorded: {'passes' if outcomes[0].status == 'pass' else 'excluded'} for every "
            f"ULN from {plausible} "
            f"({outcomes[0 if outcomes[0].status == 'pass' else 1].reason})",
        )

    def _lab_checked(self, name: str, value: Any, extra: dict[str, Any]) -> CheckResult:
        try:
            if "uln" in extra and extra["uln"] is None:  # the value can still be refused
                check_value(name, value.value, value.unit, self.study)
                return CheckResult("unknown", "")
            result: LabResult = check_lab(name, value.value, value.unit, **extra, study=self.study)
        except LabInputError as exc:
            return self._lab_refused(name, value, exc)
        return CheckResult(result.status, result.reason)

    def _lab_refused(self, name: str, value: Any, exc: LabInputError) -> CheckResult:
        """A lab's part the rules refuse, as every refusal names it (FIELD = VALUE: expected);
        the lab is then no result."""
        field = f"labs.{name}.{exc.field}" if exc.field else f"labs.{name}"
        given = getattr(value, exc.field, None) if exc.field else None
        if exc.field == "value" or given is None:  # the message names the value itself
            given = value.value if given is None else given
        words = str(exc)
        if identifies(given, field):  # a phone number's value is never repeated
            found, words = "(withheld)", withheld_from(words, given)
            if isinstance(given, float) and math.isfinite(given):
                words = withheld_from(words, as_given(given))
        elif given is None:
            found = None
        elif isinstance(given, float) and math.isfinite(given):
            found = as_given(given)
        else:  # a text (a unit) that may name a person is not repeated
            words, found = refused_as_said(words, given, unit=True)
        self.errors.append(Problem(words, path=field, found=found))
        return _missing(str(exc), f"labs.{name}")

    # -- the washout windows ----------------------------------------------------------------
    def washout_at(self, screening: date, randomization: date) -> list[EntryResult]:
        """The washout entries for one screening and randomization date."""
        key = (screening, randomization)
        if key not in self._washouts:
            data = WashoutInput(
                planned_randomization=randomization,
                screening=screening,
                medications=self.record.medications or [],
                events=self.record.events or [],
            )
            problems = entry_problems(data, self.study)
            if problems:
                self.errors.extend(problems)
                self._washouts[key] = []
            else:
                self._washouts[key] = check_washout(data, self.study, earliest_date=False).entries
        return self._washouts[key]

    def _anchor_candidates(self) -> list[tuple[date, date]]:
        """Every (screening, randomization) pair worth evaluating: the recorded dates, or the
        ends of their ranges and the days around each date where some window's status flips.
        Computed once per record; every washout criterion uses the same pairs."""
        if self._anchor_pairs is None:
            self._anchor_pairs = self._find_anchor_candidates()
        return self._anchor_pairs

    def _find_anchor_candidates(self) -> list[tuple[date, date]]:
        screening_breaks, randomization_breaks = anchor_breakpoints(
            self.record.medications or [], self.record.events or [], self.study
        )

        def candidates(bounds: tuple[date, date], breaks: set[date]) -> list[date]:
            low, high = bounds
            if low == high:
                return [low]
            # A status holds from one breakpoint to the day before the next, so the range's
            # ends and every breakpoint inside it see every status (a breakpoint outside the
            # range is its nearer end, already counted).
            return sorted({low, high} | {min(max(day, low), high) for day in breaks})

        pairs = []
        for s in candidates(self.screening_range, screening_breaks):
            low_r = max(self.randomization_range[0], s)
            for r in candidates((low_r, self.randomization_range[1]), randomization_breaks):
                pairs.append((s, r))
        return pairs

    def washout_outcome(self, criterion: str) -> CheckResult:
        # which list decides the criterion is study.yaml's: its exposure events name theirs
        is_event_criterion = any(
            criterion in (event.criterion, *event.also_criteria)
            for event in self.study.exposure_events
        )
        history = self.record.events if is_event_criterion else self.record.medications
        history_field = "events" if is_event_criterion else "medications"
        if history is None:
            return _missing(f"the {history_field} list is not recorded", history_field)
        pairs = self._anchor_candidates()
        outcomes = [self._washout_outcome_at(criterion, s, r, history_field) for s, r in pairs]
        if len(outcomes) == 1:
            return outcomes[0]
        missing = [
            field
            for field, value in (
                ("dates.screening", self.screening),
                ("dates.planned_randomization", self.record.dates.planned_randomization),
            )
            if value is None
        ]
        reasons = list(dict.fromkeys(o.reason for o in outcomes if o.status != "pass"))
        shown = "; ".join(reasons[:SHOWN_REASONS]) + (
            f"; and {len(reasons) - SHOWN_REASONS} more at other possible dates"
            if len(reasons) > SHOWN_REASONS
            else ""
        )
        # the reasons shown are those of some dates the record allows, not a finding: said so,
        # and that other dates pass where they do
        passes = "; at others it passes" if any(o.status == "pass" for o in outcomes) else ""
        decided = _decided(
            outcomes,
            "depends on the "
            + " and ".join(m.removeprefix("dates.").replace("_", " ") + " date" for m in missing)
            + f", not recorded; at some dates the record allows: {shown}{passes}",
            *missing,
        )
        if missing and decided.status != "unknown":
            dates = " and ".join(m.removeprefix("dates.").replace("_", " ") for m in missing)
            # a randomization not yet planned is read within the days the visit schedule
            # allows after screening: a later one needs a new screening, decided anew
            allowed = (
                " the visit schedule allows" if "dates.planned_randomization" in missing else ""
            )
            return CheckResult(decided.status, f"{decided.reason} (for any {dates} date{allowed})")
        return decided

    def _washout_outcome_at(
        self, criterion: str, screening: date, randomization: date, history_field: str
    ) -> CheckResult:
        mine = [
            e
            for e in self.washout_at(screening, randomization)
            # a medicine the catalogue does not know is each open criterion's (washout lists
            # them): its reason is shown there whatever it is, an investigator's clearance
            # included (the report would otherwise say "none recorded" of a recorded medicine)
            if criterion in e.criteria
        ]
        outcomes = [
            CheckResult(
                e.status,
                e.reason,
                (f"{e.entry} ({e.name}): investigator to confirm",)
                if e.status == "unknown"
                else (),
            )
            for e in mine
        ]
        # other entries may be recorded ("none recorded" read as if the list were empty)
        return _combine(outcomes, f"nothing {criterion} excludes is recorded in {history_field}")


# -- the checks, one per criterion ---------------------------------------------------------


#: The registry's sex eligibility (population.sex) as the record's sex it admits; ALL admits both.
SEX_ADMITTED = {"FEMALE": "female", "MALE": "male"}
_SEX_WORDS = {"female": "women", "male": "men"}


def in01_age(ctx: _Context) -> CheckResult:
    """IN01: the age range, and the sex the study enrols where an amendment restricts it (this
    trial enrols both: "Men or women"): a restriction fails the other sex, and a sex not
    recorded leaves IN01 unknown unless the age fails it anyway."""
    age = _in01_age_only(ctx)
    admitted = SEX_ADMITTED.get(ctx.study.population.sex.value)
    if admitted is None or age.status == "fail":
        return age
    sex = ctx.record.sex
    if sex is None and _implied_sex(ctx.record):
        sex = f"{_implied_sex(ctx.record)}"
        implied = " (not recorded; implied by " + _implied_by(ctx.record) + ")"
    else:
        implied = ""
    only = f"the study enrols {_SEX_WORDS[admitted]} only"
    if sex is None:
        return _missing(f"{age.reason}; sex not recorded ({only})", *age.missing, "sex")
    if sex != admitted:
        return CheckResult("fail", f"sex {sex}{implied}: {only}")
    return CheckResult(age.status, f"{age.reason}; sex {sex}{implied} ({only})", age.missing)


def _implied_sex(record: ParticipantRecord) -> str | None:
    """The sex a record without one implies: childbearing potential, breastfeeding or a
    positive pregnancy test are a woman's (the record refuses them beside sex: male)."""
    test = record.pregnancy_test
    if (
        record.childbearing_potential
        or record.breastfeeding
        or (test and test.result == "positive")
    ):
        return "female"
    return None


def _implied_by(record: ParticipantRecord) -> str:
    test = record.pregnancy_test
    said = [
        ("childbearing potential", record.childbearing_potential),
        ("breastfeeding", record.breastfeeding),
        ("a positive pregnancy test", test is not None and test.result == "positive"),
    ]
    return " and ".join(words for words, given in said if given)


def admitted_ages_within(youngest: int, oldest: int, study: Study) -> tuple[int, int]:
    """An age range (or a known age) with each end moved to the nearest age IN01 admits: the
    ages an eGFR is read at (at an age IN01 excludes, the participant is not eligible whatever
    the kidneys)."""
    low, high = admitted_ages(study)
    return min(max(youngest, low), high), min(max(oldest, low), high)


def _in01_age_only(ctx: _Context) -> CheckResult:
    low, high = admitted_ages(ctx.study)
    youngest, oldest = ctx.age_range()
    reading = ctx.study.issue_for("age_on_screening_date")
    if youngest == oldest:
        verdict = "pass" if low <= youngest <= high else "fail"
        return CheckResult(
            verdict, f"age {youngest} years at screening; {low}-{high} required ({reading})"
        )
    missing = [
        f
        for f, v in (("dates.birth", ctx.record.dates.birth), ("dates.screening", ctx.screening))
        if v is None
    ]
    span = f"age {youngest} to {oldest} years at screening (not all dates recorded)"
    if oldest < low or youngest > high:
        return CheckResult("fail", f"{span}: outside {low}-{high} whatever the dates ({reading})")
    if low <= youngest and oldest <= high:
        return CheckResult("pass", f"{span}: within {low}-{high} whatever the dates ({reading})")
    return _missing(f"{span}; {low}-{high} required", *missing)


#: How IN02's reason says what the record settles of an item or flag it does not record.
_IMPLIED_WORDS = {
    ("pah", True): "the PAH item counts as met: a PAH risk category is recorded",
    ("pah", False): "the PAH item counts as not met: the PAH risk category is none",
    ("skin_thickening_sparing_fingers", False): (
        "the skin thickening does not spare the fingers: they are graded thickened in the mRSS"
    ),
    ("skin_thickening_sparing_fingers", True): (
        "the skin thickening spares the fingers: they are graded 0 in the mRSS, other areas "
        "thickened, and sclerodactyly and thickening proximal to the MCPs are recorded as absent"
    ),
    **{
        (item, True): (
            f"{words} counts as met: the skin thickening is recorded as not sparing the "
            f"fingers, they are graded 0 in the mRSS, other areas thickened, and {other} is "
            "recorded as absent"
        )
        for item, words, other in (
            ("sclerodactyly", "sclerodactyly", "thickening proximal to the MCPs"),
            (
                "skin_thickening_proximal_to_mcp",
                "skin thickening proximal to the MCPs",
                "sclerodactyly",
            ),
        )
    },
}

#: IN02's words where the record settles that one of the two finger items is met.
_ONE_OF_THE_FINGER_ITEMS = (
    "sclerodactyly or skin thickening proximal to the MCPs counts as met, the lower of their "
    "points in the total: the skin thickening is recorded as not sparing the fingers, they are "
    "graded 0 in the mRSS and other areas thickened"
)


def in02_acr_eular(ctx: _Context) -> CheckResult:
    implied = ctx.record.implied_acr_eular()
    one_of = ctx.record.fingers_once_thickened()
    one_of = one_of if len(one_of) == 2 else ()
    result = _in02(ctx, implied, one_of)
    said = [_IMPLIED_WORDS[item] for item in implied.items()]
    said += [_ONE_OF_THE_FINGER_ITEMS] if one_of else []
    if not said:
        return result
    return CheckResult(result.status, f"{result.reason} ({'; '.join(said)})", result.missing)


def _in02(ctx: _Context, implied: dict[str, bool], one_of: tuple[str, ...] = ()) -> CheckResult:
    minimum = ctx.study.criterion_rules.acr_eular_minimum.value
    score = acr_eular_range(ctx.record.ssc.acr_eular, ctx.study, implied)
    if one_of:  # one of these is met (the record settles it): the lowest total counts one
        lowest = min(
            acr_eular_range(ctx.record.ssc.acr_eular, ctx.study, {**implied, item: True}).lowest
            for item in one_of
        )
        score = replace(score, lowest=lowest)
    scored = ", ".join(f"{name.split(' (')[0]} {p}" for name, p in score.points if p)
    if score.applicable is False:
        return CheckResult("fail", "the ACR/EULAR 2013 criteria are not applicable to this patient")
    if score.highest < minimum:
        return CheckResult(
            "fail",
            f"ACR/EULAR 2013 total {score.lowest} < {minimum} ({scored or 'no item met'})"
            if score.lowest == score.highest
            else f"ACR/EULAR 2013 total at most {score.highest} < {minimum} even if every "
            f"unrecorded item were met ({scored or 'no item met'})",
        )
    if score.lowest >= minimum and score.applicable:
        return CheckResult(
            "pass",
            f"ACR/EULAR 2013 total {'' if score.lowest == score.highest else 'at least '}"
            f"{score.lowest} >= {minimum} ({scored})",
        )
    if score.lowest >= minimum:
        return _missing(
            f"ACR/EULAR 2013 total {score.lowest} >= {minimum}, but whether the criteria apply "
            f"(skin thickening sparing the fingers, a better explanation) is not recorded",
            *score.missing_flags,
            # a finger item met would settle "sparing the fingers" (thickened fingers are not
            # spared): asked beside the flag while it is open (helper 124)
            *(
                item
                for item in score.missing_items
                if item.endswith((".sclerodactyly", ".skin_thickening_proximal_to_mcp"))
                and "ssc.acr_eular.skin_thickening_sparing_fingers" in score.missing_flags
            ),
        )
    return _missing(
        f"ACR/EULAR 2013 total {score.lowest} to {score.highest}: the unrecorded items decide",
        *score.missing_items,
        *score.missing_flags,
    )


def _leroy(ctx: _Context, want: str) -> CheckResult:
    subset, possible = ctx.leroy()
    only = next(iter(possible)) if len(possible) == 1 else None
    if subset.subset is not None and only == subset.subset:
        text = f"LeRoy subset: {subset.subset} ({subset.reason}{_fingers_spared(ctx)})"
    elif only is not None:
        unrecorded = (
            "the back"
            if subset.missing == ["ssc.back_skin_thickening"]
            else ("the areas not graded")
        )
        text = f"LeRoy subset: {only}, whatever {unrecorded} would show"
    else:
        text = f"LeRoy subset not fully recorded; it could be: {', '.join(sorted(possible))}"
    # IN03 wants the diffuse subset (pass when it is certain); EX01 excludes the limited one.
    certain, ruled_out = ("pass", "fail") if want == "diffuse" else ("fail", "pass")
    if possible == {want}:
        return CheckResult(certain, text)
    if want not in possible:
        return CheckResult(ruled_out, text)
    # the fields whose values could change the subset, not every ungraded area (the face
    # beside recorded distal involvement decides nothing; the back does), and the finger
    # items not recorded where one met would be the distal involvement (helper 124)
    fields = leroy_deciding_fields(ctx.record.ssc_as_implied(), ctx.study)
    if subset.missing == ["ssc.mrss.areas"]:  # no area graded: the areas asked as one
        deciding = ["ssc.mrss.areas", *(f for f in fields if not f.startswith("ssc.mrss."))]
    else:
        deciding = fields or subset.missing
    reason = subset.reason
    if subset.subset is not None:  # every area graded: a finger item not recorded decides
        reason = (
            f"{subset.subset} from the areas ({subset.reason}), unless a finger item not "
            "recorded is met (thickened fingers are distal involvement)"
        )
    elif deciding == ["ssc.back_skin_thickening"] and subset.missing != deciding:
        reason = "no proximal mRSS area is involved; whether the back is involved is not recorded"
    return _missing(f"LeRoy subset unknown: {reason}", *deciding)


def in03_diffuse(ctx: _Context) -> CheckResult:
    return _leroy(ctx, "diffuse")


def _disease_duration(ctx: _Context, limit: Limit[pint.Quantity], reading: str = "") -> CheckResult:
    """Eligible up to the limit (IN04: at most 18 months; EX02 excludes more than 3 years); the
    limit's ``boundary`` says whether exactly the limit is within. ``reading`` names the protocol
    issue behind a boundary the record leaves open."""
    first = ctx.record.ssc.first_non_raynaud_manifestation
    months = round(limit.value.to("month").magnitude)
    low_s, high_s = ctx.screening_range
    if first is not None and ctx.screening is not None:
        boundary = first + relativedelta(months=months)
        text = duration_words(first, ctx.screening, limit, reading)
        return CheckResult("pass" if limit.in_order(ctx.screening, boundary) else "fail", text)
    missing = [
        f
        for f, v in (
            ("ssc.first_non_raynaud_manifestation", first),
            ("dates.screening", ctx.screening),
        )
        if v is None
    ]
    # the longest possible duration: the earliest first manifestation to the latest screening;
    # the shortest: the latest first manifestation (at most the screening date) to the earliest
    earliest_first = first or ctx.record.dates.birth or EARLIEST_DATE
    longest_within = limit.in_order(high_s, earliest_first + relativedelta(months=months))
    shortest_over = first is not None and not limit.in_order(
        low_s, first + relativedelta(months=months)
    )
    what = f"limit {months} months; not all dates recorded"
    if longest_within:
        return CheckResult(
            "pass",
            f"disease duration at most {calendar_duration(earliest_first, high_s)} whatever "
            f"the dates; {what}",
        )
    if shortest_over:
        return CheckResult(
            "fail",
            f"disease duration at least {calendar_duration(first, low_s)} whatever the dates; "
            f"{what}",
        )
    words = {
        "ssc.first_non_raynaud_manifestation": "the first non-Raynaud manifestation's date",
        "dates.screening": "the screening date",
    }
    return _missing(
        f"disease duration depends on {' and '.join(words[m] for m in missing)}, not recorded",
        *missing,
    )


def duration_words(first: date, screening: date, limit: Limit[pint.Quantity], reading: str) -> str:
    """IN04's or EX02's reason where both dates are recorded (prescreen words each distinct
    pair of dates with it, without a record)."""
    months = round(limit.value.to("month").magnitude)
    text = (
        f"disease duration {calendar_duration(first, screening)} at screening (from {first}); "
        f"limit {months} months"
    )
    if limit.boundary == "outside":
        text += ", exactly the limit fails"
    if reading:
        text += f" ({reading})"
    return text


def duration_limit(criterion: str, study: Study) -> tuple[Limit[pint.Quantity], str]:
    """IN04's or EX02's limit on the disease duration, and the protocol issue behind a
    boundary the record leaves open (IN04's only)."""
    rules = study.criterion_rules
    if criterion == "IN04":
        return rules.disease_duration_maximum, study.issue_for("duration_to_screening")
    return rules.disease_duration_exclusion, ""


def in04_duration(ctx: _Context) -> CheckResult:
    return _disease_duration(ctx, *duration_limit("IN04", ctx.study))


_MRSS_SOURCE_WORDS = {"areas": "sum of the areas", "recorded total": "recorded total"}


def in05_mrss(ctx: _Context) -> CheckResult:
    minimum = ctx.study.criterion_rules.mrss_minimum.value
    mrss = ctx.record.ssc_as_implied().mrss
    score = mrss_total(mrss)
    if score.total is not None:
        verdict = "pass" if score.total >= minimum else "fail"
        relation = ">=" if verdict == "pass" else "<"
        return CheckResult(
            verdict,
            # "sum of the areas": a bare "(areas)" read as the score's unit
            f"mRSS {score.total} ({_MRSS_SOURCE_WORDS[score.source]}{_fingers_spared(ctx)}) "
            f"{relation} {minimum}",
        )
    if mrss is not None and mrss.total is not None:  # some areas ungraded: the recorded total
        verdict = "pass" if mrss.total >= minimum else "fail"
        relation = ">=" if verdict == "pass" else "<"
        return CheckResult(
            verdict,
            f"mRSS {mrss.total} (recorded total; not every area graded) {relation} {minimum}",
        )
    lowest, highest = mrss_range(mrss)
    # a finger ungraded where the record ties the fingers to the other areas thickened is at
    # 1 or more (a 0 is refused): the lowest total counts it (helper 123's class)
    finger = finger_points_at_least(ctx.record.ssc_as_implied())
    lowest += finger
    if lowest >= minimum:
        graded = (
            "the graded areas, and an ungraded finger at 1 or more: thickening that does not "
            "spare the fingers, beside another area thickened"
            if finger
            else "the graded areas"
        )
        return CheckResult("pass", f"mRSS at least {lowest} ({graded}) >= {minimum}")
    if highest < minimum:
        return CheckResult("fail", f"mRSS at most {highest} (every ungraded area at 3) < {minimum}")
    return _missing(f"the mRSS is incomplete ({lowest} to {highest})", *score.missing)


def _fingers_spared(ctx: _Context) -> str:
    """Words for the fingers' grades the record implies, where it does."""
    implied = ctx.record.implied_finger_grades()
    if not implied:
        return ""
    fingers = " and ".join(area.replace("_", " ") for area in implied)
    return f"; {fingers} at 0: skin thickening recorded as sparing the fingers"


def _childbearing_potential(ctx: _Context) -> bool | None:
    """True, False, or None when the record leaves it open (a man is not; a woman as recorded;
    childbearing_potential = true implies a woman, since a man recorded so is refused)."""
    record = ctx.record
    if record.sex == "male" or record.childbearing_potential is False:
        return False
    return True if record.childbearing_potential else None


def _missing_wocbp_fields(ctx: _Context) -> list[str]:
    record = ctx.record
    fields = []
    if record.sex is None:
        fields.append("sex")
    if record.sex != "male" and record.childbearing_potential is None:
        fields.append("childbearing_potential")
    return fields


def in06_pregnancy_test(ctx: _Context) -> CheckResult:
    wocbp = _childbearing_potential(ctx)
    if wocbp is False:
        return CheckResult("pass", "not a woman of childbearing potential: no test required")
    test = ctx.record.pregnancy_test
    # the test decides for a woman of childbearing potential; if the record leaves open whether
    # she is one, a decided test result holds either way (not one: the test is not needed)
    if test is not None and test.result == "positive":
        if test.date == ctx.screening:
            return CheckResult("fail", f"pregnancy test positive ({test.sample}, {test.date})")
        # a positive test before the visit says nothing of pregnancy at screening: the test at
        # the visit decides (it is never read as a pass, nor as a fail)
        return _missing(
            f"a positive test of {test.date} is recorded, not one of the screening visit; the "
            "serum test at the visit decides",
            "pregnancy_test.date",
        )
    if test is not None and test.sample == "serum" and test.date == ctx.screening:
        return CheckResult("pass", f"serum pregnancy test negative on {test.date} (screening)")
    unknown_wocbp = _missing_wocbp_fields(ctx) if wocbp is None else []
    if test is None:
        return _missing("no pregnancy test recorded", "pregnancy_test", *unknown_wocbp)
    if test.sample != "serum":
        return _missing(
            f"a {test.sample} test is recorded; a serum test is required",
            # a new test, serum, is what completes it (its sample alone is no missing item)
            "pregnancy_test",
            *unknown_wocbp,
        )
    # the test precedes screening, so it can be at the visit only on the earliest possible day
    if ctx.screening is None and test.date == ctx.screening_range[0]:
        return _missing(
            f"the serum test of {test.date} is negative; whether it is dated at the screening "
            f"visit needs the screening date",
            "dates.screening",
            *unknown_wocbp,
        )
    return _missing(
        f"the serum test of {test.date} is not dated at the screening visit",
        "pregnancy_test.date",
        *unknown_wocbp,
    )


def _attested_check(ctx: _Context, criterion: str) -> CheckResult:
    attestation = ctx.record.attestations.of(criterion)
    if attestation is None:
        return _missing(
            "the investigator's attestation is not recorded", f"attestations.{criterion}"
        )
    # IN07, the ability to render consent, is judged before the consent is taken; every other
    # attested criterion is assessed for the trial, so after it
    if criterion != "IN07":
        open_ = _before_consent(ctx, attestation.date, f"attestations.{criterion}.date")
        if open_ is not None:
            return open_
    else:  # but not long before: one made years before this consent is not about it
        stale = _long_before_consent(ctx, attestation.date)
        if stale is not None:
            return stale
    inclusion = criterion.startswith("IN")
    if attestation.applies:
        verdict: Status = "pass" if inclusion else "fail"
    else:
        verdict = "fail" if inclusion else "pass"
    said = "applies" if attestation.applies else "does not apply"
    return CheckResult(verdict, f"the investigator attests on {attestation.date} that it {said}")


def _before_consent(ctx: _Context, when: date, dated: str) -> CheckResult | None:
    """Unknown when an attestation of ``when`` is, or may be, before the consent (nothing is
    assessed for the trial before it: an EX16 attestation of 2019 for a screening of 2025 had
    decided the criterion); None when it is on or after the consent."""
    consent = ctx.record.dates.consent
    if consent is not None and when < consent:
        return _missing(
            f"the investigator's attestation is dated {when}, before the consent of {consent}: "
            "it does not speak for this screening; record one made on or after the consent",
            dated,
        )
    if consent is None and when < ctx.screening_range[1]:
        # the consent may be any day up to the screening: this one may be before it
        return _missing(
            f"the investigator attests on {when}; an attestation counts when made on or after "
            "the consent, whose date is not recorded",
            "dates.consent",
        )
    return None


def _long_before_consent(ctx: _Context, when: date) -> CheckResult | None:
    """Unknown when IN07's attestation (the ability to consent, judged as the consent is
    taken) is dated more than the visit schedule's days from screening to randomization
    before the consent (the longest a screening period runs):
    one of 2020 for a consent of 2025 is not about this one. Without a consent date, unknown
    where a consent the record allows (on or before the screening) may be that far after it:
    an attestation that IN07 does not apply decided it, though the consent could make it
    stale. None otherwise."""
    consent = ctx.record.dates.consent
    gap = latest_randomization_after_screening(ctx.study)
    if consent is None:
        if when >= ctx.screening_range[1] - gap:
            return None
        return _missing(
            f"the investigator attests on {when}; whether that is within {gap.days} days of "
            "the consent (the visit schedule's longest from screening to randomization) needs "
            "the consent date",
            "dates.consent",
        )
    if when >= consent - gap:
        return None
    return _missing(
        f"the investigator's attestation is dated {when}, more than {gap.days} days before the "
        f"consent of {consent} (the visit schedule's longest from screening to "
        "randomization): it does not speak for this consent; record one made when the consent "
        "is taken",
        "attestations.IN07.date",
    )


def _attested(criterion: str) -> Callable[[_Context], CheckResult]:
    return _bound(_attested_check, criterion, "attested")  # pragma: no mutate (import time)


def in07_consent(ctx: _Context) -> CheckResult:
    attested = _attested("IN07")(ctx)
    consent = ctx.record.dates.consent
    if consent is None:
        return _combine([attested, _missing("no consent date", "dates.consent")])
    return _combine([attested, CheckResult("pass", f"consent signed on {consent}")])


def ex01_limited(ctx: _Context) -> CheckResult:
    return _leroy(ctx, "limited")


def ex02_duration(ctx: _Context) -> CheckResult:
    return _disease_duration(ctx, *duration_limit("EX02", ctx.study))


def ex03_rheumatic(ctx: _Context) -> CheckResult:
    return _flag(
        ctx.record.history.other_rheumatic_autoimmune_disease,
        "history.other_rheumatic_autoimmune_disease",
        "another rheumatic autoimmune disease is recorded",
        "none recorded",
    )


def ex04_environmental(ctx: _Context) -> CheckResult:
    return _flag(
        ctx.record.history.environmental_ssc_like_illness,
        "history.environmental_ssc_like_illness",
        "an environmental SSc-like illness is recorded",
        "none recorded",
    )


def ex05_renal_crisis(ctx: _Context) -> CheckResult:
    return _flag(
        ctx.record.history.renal_crisis,
        "history.renal_crisis",
        "a prior renal crisis is recorded",
        "no prior renal crisis",
    )


def ex06_pah(ctx: _Context) -> CheckResult:
    risk = ctx.record.pah_risk
    excluded = ctx.study.criterion_rules.pah_excluded_risk.value
    if risk is None:
        # the classification item settles what the category can be: without PAH it is none
        # (a PAH's category beside the item false is refused), with PAH one of a PAH's
        findings = ctx.record.ssc.acr_eular
        has_pah = findings.pah if findings is not None else None
        possible = None if has_pah is None else set(PAH_RISKS) if has_pah else {"none"}
        if possible is not None and possible.isdisjoint(excluded):
            said = "no PAH" if has_pah is False else "a PAH"
            return CheckResult(
                "pass",
                f"PAH risk category not recorded; the ACR/EULAR item records {said}, so it is "
                f"{' or '.join(sorted(possible))}",
            )
        if possible is not None and possible <= set(excluded):
            return CheckResult(
                "fail",
                "PAH risk category not recorded; the ACR/EULAR item records a PAH, and every "
                "PAH's category is excluded",
            )
        return _missing("the PAH risk category is not recorded", "pah_risk")
    # the category "none" is the record's word for no PAH at all (PI25), said so to a reader
    shown = f"{risk} (no pulmonary arterial hypertension)" if risk == "none" else risk
    if risk in excluded:
        return CheckResult("fail", f"PAH risk: {shown}")
    return CheckResult("pass", f"PAH risk: {shown}")


def ex07_pulmonary(ctx: _Context) -> CheckResult:
    parts = [lung_function(ctx, name) for name in ("fvc", "dlco")]
    return _combine([*(p for p in parts if p is not None), oxygen_therapy(ctx)])


def lung_function(ctx: _Context, name: str) -> CheckResult | None:
    """EX07's FVC or DLCO part (``None`` for a value the rule refuses; the error is recorded)."""
    attribute = f"{name}_percent_predicted"
    value = getattr(ctx.record.pulmonary, attribute)
    if value is None:
        return _missing(f"{name.upper()} not recorded", f"pulmonary.{attribute}")
    try:
        result = check_lab(name, value, "%", study=ctx.study)
    except LabInputError as exc:
        found = as_given(float(value)) if isinstance(value, int | float) else shown(value)
        ctx.errors.append(Problem(str(exc), path=f"pulmonary.{attribute}", found=found))
        return None
    return CheckResult(result.status, result.reason)


def oxygen_therapy(ctx: _Context) -> CheckResult:
    """EX07's oxygen part."""
    return _flag(
        ctx.record.pulmonary.oxygen_therapy,
        "pulmonary.oxygen_therapy",
        "requires oxygen therapy",
        "no oxygen therapy",
    )


def ex20_infection(ctx: _Context) -> CheckResult:
    active = _flag(
        ctx.record.infection_screening.active_infection,
        "infection_screening.active_infection",
        "a known active infection",
        "no known active infection",
    )
    return _combine([active, ctx.washout_outcome("EX20")])


def _infection_check(ctx: _Context, field_name: str) -> CheckResult:
    parts = []
    for name in field_name.split(","):
        excluded = _INFECTION_EXCLUDED[name]
        value = getattr(ctx.record.infection_screening, name)
        path = f"infection_screening.{name}"
        words = _INFECTION_WORDS.get(name, name.replace("_", " "))
        if value is None:
            parts.append(_missing(f"{words} not recorded", path))
        else:
            status: Status = "fail" if value in excluded else "pass"
            parts.append(CheckResult(status, f"{words}: {value}"))
    return _combine(parts)


#: The infections as a report names them (the fields' own names lose the capitals).
_INFECTION_WORDS = {"hepatitis_b": "hepatitis B", "hepatitis_c": "hepatitis C", "hiv": "HIV"}


# The results that exclude, per infection-screening field (EX17 to EX19).
_INFECTION_EXCLUDED = {
    "hepatitis_b": {"active", "chronic"},
    "hepatitis_c": {"active", "chronic"},
    "tuberculosis": {"active", "latent"},
    "hiv": {"positive"},
}


def _infection_result(field_name: str) -> Callable[[_Context], CheckResult]:
    return _bound(_infection_check, field_name, "infection_result")  # pragma: no mutate


def ex21_immunodeficiency(ctx: _Context) -> CheckResult:
    return _flag(
        ctx.record.history.immunodeficiency,
        "history.immunodeficiency",
        "an immunodeficiency is recorded",
        "no immunodeficiency",
    )


def ex22_immunoglobulins(ctx: _Context) -> CheckResult:
    return _combine([ctx.lab("iga"), ctx.lab("igg")])


def ex24_labs(ctx: _Context) -> CheckResult:
    parts = [ctx.lab(name) for name in EX24_ANALYTES]
    if ctx.record.labs.egfr is not None:
        parts.append(ctx.lab("egfr"))
    elif ctx.record.labs.creatinine is not None:
        parts.append(ctx.lab("creatinine"))
    else:
        parts.append(_missing("eGFR: no eGFR or creatinine recorded", "labs.egfr"))
    return _combine(parts + _counts_to_confirm(ctx.record, ctx.study))


#: EX25's exceptions as the registry words them ("excised/cured local basal or squamous cell
#: carcinoma of the skin or carcinoma in situ of the uterine cervix"), in the usual ways of
#: writing them in English and Chinese, each phrase whole (its words side by side: "carcinoma
#: in situ ... cervical lymph nodes" is not one).
_AFTER = r"(?![0-9a-z])"  # a word's end, before Chinese too (\b fails between 3 and 级)
_EXCEPTED_SKIN = re.compile(
    "|".join(
        (
            rf"(?<![0-9a-z])basal cell (carcinomas?|cancers?|epitheliomas?|skin cancers?){_AFTER}",
            rf"(?<![0-9a-z])(bccs?|basaliomas?|rodent ulcers?){_AFTER}",
            rf"(?<![0-9a-z])(skin|cutaneous) (squamous cell (carcinomas?|cancers?)|scc){_AFTER}",
            rf"(?<![0-9a-z])(squamous cell (carcinomas?|cancers?)|scc)( in situ)?(,| of)?( the)? "
            rf"skin{_AFTER}",
            r"(?<![0-9a-z])(squamous cell (carcinomas?|cancers?)|scc) \(skin\)",
            # Bowen's disease: squamous cell carcinoma in situ of the skin. (Not "cSCC": as
            # often cervical squamous cell carcinoma, an invasive one, as cutaneous.)
            rf"(?<![0-9a-z])bowen(['’]?s)? disease{_AFTER}",
            r"基底细胞癌",
            r"皮肤鳞(状细胞)?癌",
            r"鳞状细胞癌[（(]皮肤[）)]",
        )
    )
)
_EXCEPTED_CERVIX = re.compile(
    "|".join(
        (
            rf"(?<![0-9a-z])((squamous cell )?carcinoma in situ|cis)(,| of)? (the )?(uterine )?"
            rf"cervix( uteri)?{_AFTER}",
            rf"(?<![0-9a-z])cervix (carcinoma in situ|cis){_AFTER}",
            r"(?<![0-9a-z])cin ?(grade )?(3|iii|ⅲ) \((of the )?cervix\)",
            rf"(?<![0-9a-z])(cervical|uterine cervical) (carcinoma in situ|cis){_AFTER}",
            rf"(?<![0-9a-z])cis cervix{_AFTER}",
            rf"(?<![0-9a-z])cin ?(grade )?(3|iii|ⅲ){_AFTER}",
            rf"(?<![0-9a-z])cervical intraepithelial neoplasia,? (grade )?(3|iii|ⅲ){_AFTER}",
            r"(子)?宫颈(鳞状上皮|鳞状细胞)?原位(鳞状细胞)?癌",
            r"宫颈上皮内瘤变 ?(3|iii|ⅲ) ?级",
        )
    )
)
#: What an exception's name may say besides it: that it was excised or cured, where on the
#: skin, when. Nothing else: a name that says more (untreated, residual, awaiting excision, of
#: the lung, 未治愈, 待手术, 残留, 肺, a second cancer, spread, "CIN3+", a question mark) is
#: left to the investigator. A closed list, so a wording it does not know is unknown, never
#: a pass: "basal cell carcinoma of the skin, untreated" marked excepted had passed EX25.
# fmt: off
_QUALIFIER_WORDS = frozenset((
    "a", "the", "of", "on", "and", "with", "by", "excised", "excision", "completely", "fully",
    "totally", "cured", "resected", "removed", "surgically", "surgical", "surgery", "mohs",
    "wide", "curettage", "conization", "conisation", "leep", "lletz", "history",
    "previous", "prior", "local", "localised", "localized",
    "superficial", "nodular", "pigmented", "skin", "cutaneous", "face", "facial", "nose",
    "nasal", "cheek", "forehead", "scalp", "ear", "eyelid", "temple", "chin", "neck", "back",
    "trunk", "chest", "shoulder", "arm", "forearm", "hand", "leg", "thigh", "shin", "calf",
    "foot", "left", "right", "upper", "lower",
))
# fmt: on
_QUALIFIER_PHRASES = re.compile(
    r"(?<![0-9a-z])(cone biopsy|excisional biopsy|status post|s p|(with )?(clear|negative) "
    r"margins?|margins? (clear|negative))(?![0-9a-z])"
    # (no date: "Mohs surgery 2025-04" may be one planned after the screening, which the name
    # cannot be held to; a name with a date is the investigator's to confirm)
    # Chinese, longest first: excised, completely, surgery, after surgery, cured, treated, local,
    # skin, the sites, left and right, history, grade, conization
    # (not 治疗, treated: the registry excepts the excised or cured)
    r"|宫颈锥切术后|宫颈锥切术|宫颈锥切|完整|完全|手术|术后|切除|治愈|局部|皮肤|面部|鼻部|头皮|耳部|颈部|背部"
    r"|躯干|胸部|上肢|下肢|手部|足部|左侧|右侧|病史|锥切|已|鼻|耳|手|足|左|右|的|史|级"
)
_BETWEEN_WORDS = re.compile(r"[\s,;:.()\[\]'’、，；：。]+")


def _folded(name: str) -> str:
    """A name in its compatibility form, case folded, hyphens and spacing aside."""
    return " ".join(re.sub(r"[-_/]", " ", unicodedata.normalize("NFKC", name).casefold()).split())


#: A prefix that negates the word after it, written apart by a hyphen
_NEGATING_PREFIX = re.compile(
    r"(?<![0-9a-z])(in|un|non|im|ir|il|dis|partially|partly)[-‐‑](?!situ)(?=[a-z])"
)


def names_an_excepted_malignancy(name: str, sex: str | None = None) -> bool:
    """Whether a malignancy's name is one of EX25's exceptions and says nothing more than that
    it was excised or cured and where on the skin (its compatibility form, case, hyphens and spacing
    aside). A carcinoma in situ of the cervix is not one for a participant recorded as male."""
    text = _folded(name)
    cervix = _EXCEPTED_CERVIX.search(text)
    if not (cervix or _EXCEPTED_SKIN.search(text)) or (cervix and sex == "male"):
        return False
    # the words around it, a negating prefix joined to its word: "in-completely excised" is
    # not the qualifier "completely"
    joined = _folded(_NEGATING_PREFIX.sub(r"\1", name.casefold()))
    rest = _QUALIFIER_PHRASES.sub(" ", _EXCEPTED_SKIN.sub(" ", _EXCEPTED_CERVIX.sub(" ", joined)))
    return all(word in _QUALIFIER_WORDS for word in _BETWEEN_WORDS.split(rest) if word)


def ex25_malignancy(ctx: _Context) -> CheckResult:
    malignancies = ctx.record.history.malignancies
    if malignancies is None:
        return _missing("the malignancy history is not recorded", "history.malignancies")
    parts = []
    for index, malignancy in enumerate(malignancies):
        name = f"{malignancy.type}"
        if not malignancy.excepted_type:
            parts.append(_malignancy_by_date(ctx, malignancy, index))
        elif names_an_excepted_malignancy(name, ctx.record.sex):
            parts.append(CheckResult("pass", f"{name}: an excepted local skin or cervical cancer"))
        else:
            by_date = _malignancy_by_date(ctx, malignancy, index)
            if by_date.status == "pass":  # outside the window: whatever its type, it passes
                parts.append(by_date)
                continue
            why = (
                "a cervical cancer for a participant recorded as male"
                if ctx.record.sex == "male" and _EXCEPTED_CERVIX.search(_folded(name))
                else "its name is not only one of EX25's exceptions (excised/cured local basal "
                "or squamous cell carcinoma of the skin, carcinoma in situ of the uterine "
                "cervix) and where on the skin"
            )
            parts.append(
                _missing(
                    f"{name}: recorded as an excepted type, but {why}: the investigator "
                    f"confirms its type; as any other malignancy: {by_date.reason}",
                    f"history.malignancies[{index}].type",
                    *by_date.missing,
                )
            )
    return _combine(parts, "no malignancy recorded")


def _malignancy_by_date(ctx: _Context, malignancy: Any, index: int) -> CheckResult:
    """A malignancy that is not excepted: excluded within the window before screening."""
    rule = ctx.study.criterion_rules.malignancy_window
    window = rule.value
    low_s, high_s = ctx.screening_range
    # a later screening starts the window later: the earliest screening gives the widest window
    widest, narrowest = window_start(low_s, window), window_start(high_s, window)
    exact = low_s == high_s
    name = f"{malignancy.type}"
    if malignancy.date is None:
        return _missing(f"{name}: no date", f"history.malignancies[{index}].date")
    if rule.in_order(narrowest, malignancy.date):
        within = f"from {narrowest}" if exact else f"from {narrowest} whatever the screening date"
        boundary = exact and malignancy.date == narrowest
        reading = ctx.study.issue_for("boundary_day")
        on_boundary = f" (exactly on its first day, which is within, {reading})" if boundary else ""
        return CheckResult(
            "fail",
            f"{name} on {malignancy.date}, within {window} before screening ({within})"
            f"{on_boundary}: excluded (EX25)",
        )
    if not rule.in_order(widest, malignancy.date):
        where = (
            f"before {widest}"
            if malignancy.date < widest
            else f"on {widest}, the window's first day, which is outside"
        )
        return CheckResult("pass", f"{name} on {malignancy.date}, {where}")
    return _missing(
        f"{name} on {malignancy.date}: within {window} of screening or not, "
        f"depending on the screening date",
        "dates.screening",
    )


def ex27_pregnancy(ctx: _Context) -> CheckResult:
    """Pregnant, or breastfeeding, or of childbearing potential and unwilling to use
    contraception: any one known fails, whatever else is unrecorded (Kleene's "or")."""
    record = ctx.record
    if record.sex == "male":
        return CheckResult("pass", "not applicable to men")
    test = record.pregnancy_test
    if test is not None and test.result == "positive" and test.date == ctx.screening:
        return CheckResult("fail", f"pregnant (pregnancy test positive, {test.date})")
    if record.breastfeeding:
        return CheckResult("fail", "breastfeeding")
    wocbp = _childbearing_potential(ctx)
    if wocbp and record.contraception_agreed is False:
        return CheckResult("fail", "not willing to use adequate contraception")
    # Breastfeeding has failed above; here it is false, or not recorded.
    if record.breastfeeding is False:
        parts = [CheckResult("pass", "not breastfeeding")]
    elif record.sex == "female":
        parts = [_missing("breastfeeding is not recorded", "breastfeeding")]
    else:
        parts = [_missing("sex and breastfeeding are not recorded", "sex", "breastfeeding")]
    if wocbp is False:
        parts.append(CheckResult("pass", "not of childbearing potential"))
    else:
        if test is None:
            parts.append(
                _missing(
                    "pregnancy status unknown: no test",
                    "pregnancy_test",
                    *_missing_wocbp_fields(ctx),
                )
            )
        elif test.result == "positive":  # before the visit: pregnancy now is not known
            parts.append(
                _missing(
                    f"pregnancy status unknown: the positive test of {test.date} is not from "
                    "the screening visit",
                    "pregnancy_test.date",
                )
            )
        elif test.date == ctx.screening:
            parts.append(CheckResult("pass", f"pregnancy test {test.result} on {test.date}"))
        elif ctx.screening is None and test.date == ctx.screening_range[0]:
            parts.append(
                _missing(
                    f"the negative test of {test.date} speaks of pregnancy at screening only if "
                    "it is dated at the visit: that needs the screening date",
                    "dates.screening",
                )
            )
        else:  # a negative test speaks of its own day (PI21), not of the screening visit
            parts.append(
                _missing(
                    f"pregnancy status unknown: the negative test of {test.date} is not from "
                    "the screening visit",
                    "pregnancy_test.date",
                )
            )
        if record.contraception_agreed is None:
            parts.append(
                _missing(
                    "contraception_agreed is not recorded",
                    "contraception_agreed",
                    *_missing_wocbp_fields(ctx),
                )
            )
        elif record.contraception_agreed is False:  # whether she could conceive is not recorded
            parts.append(
                _missing(
                    "not willing to use contraception; whether she is of childbearing potential "
                    "is not recorded",
                    *_missing_wocbp_fields(ctx),
                )
            )
        else:
            parts.append(CheckResult("pass", "willing to use adequate contraception"))
    return _combine(parts)


def ex28_allergy(ctx: _Context) -> CheckResult:
    return _flag(
        ctx.record.history.antibody_allergy,
        "history.antibody_allergy",
        "an allergic reaction to monoclonal antibodies is recorded",
        "none recorded",
    )


def _bound(
    check: Callable[..., CheckResult], argument: str, name: str
) -> Callable[[_Context], CheckResult]:
    """``check`` with its argument bound (its ``Check`` names it ``name[argument]``).

    A partial, not a closure: the check stays a module-level function, so mutation testing
    (which swaps a function's body when it is called) reaches it. This runs when the module is
    imported, before a mutant can be switched on, so it is not mutated.
    """
    return functools.partial(check, **{_FIRST_ARGUMENT[name]: argument})  # pragma: no mutate


_FIRST_ARGUMENT = {
    "attested": "criterion",
    "infection_result": "field_name",
    "washout_outcome": "criterion",
}


def _washout_check(criterion: str) -> Callable[[_Context], CheckResult]:
    return _bound(_Context.washout_outcome, criterion, "washout_outcome")  # pragma: no mutate


@dataclass(frozen=True)
class Check:
    """One criterion's executable rule and its description for people, in one object."""

    run: Callable[[_Context], CheckResult]
    kind: Kind
    # the record date the criterion is anchored to (a washout criterion says its entries'
    # anchors in study.yaml: criterion_anchors)
    anchor: str | None
    how: str  # how it is checked and where its boundary lies; {names} come from study.yaml

    @property
    def name(self) -> str:
        """The rule's name for the traceability appendix: its function, and for a shared rule
        the argument it is bound to (``protocol.screening.washout_outcome[EX09]``)."""
        if isinstance(self.run, functools.partial):
            label = _BOUND_LABELS[self.run.func]
            (argument,) = self.run.keywords.values()
            return f"{__name__}.{label}[{argument}]"
        return f"{self.run.__module__}.{self.run.__qualname__}"


#: The shared rules, by the name their bound checks carry.
_BOUND_LABELS: dict[Callable[..., CheckResult], str] = {
    _attested_check: "attested",
    _infection_check: "infection_result",
    _Context.washout_outcome: "washout_outcome",
}

_WASHOUT_HOW = (
    "by the washout calculator from the medications and events lists ({windows}); a last dose "
    "on the boundary day is within the window; a medicine the catalogue does not know is "
    "unknown until the investigator clears it"
)
#: The same for the criteria of events alone (surgery, another trial's drug, vaccines): they
#: have dates, not doses, and no catalogue of medicines.
_EVENTS_HOW = (
    "by the washout calculator from the events list ({windows}); an event on the boundary day "
    "is within the window"
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
        "calendar months from the first non-Raynaud manifestation to screening; "
        "{duration_max_limit}",
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
        "the investigator's attestation, dated on the day of the consent or before it (but "
        "no longer before it than the visit schedule's days from screening to randomization), "
        "and a consent date on or before screening",
    ),
    "EX01": Check(
        ex01_limited, "computed", "screening", "LeRoy subset (as IN03): limited cutaneous SSc fails"
    ),
    "EX02": Check(
        ex02_duration,
        "computed",
        "screening",
        "disease duration (as IN04) of {duration_excl_limit}",
    ),
    "EX03": Check(ex03_rheumatic, "computed", None, "recorded history: yes fails"),
    "EX04": Check(ex04_environmental, "computed", None, "recorded history: yes fails"),
    "EX05": Check(ex05_renal_crisis, "computed", None, "recorded history: yes fails"),
    "EX06": Check(
        ex06_pah,
        "computed",
        "screening",
        "the PAH risk category: {pah_excluded} fail; {pah_passing} pass. Where no category "
        "is recorded, the ACR/EULAR item on PAH decides where it can (no PAH passes)",
    ),
    "EX07": Check(
        ex07_pulmonary,
        "computed",
        "screening",
        "FVC {fvc}, DLCO {dlco} (strict: exactly at the threshold passes), or oxygen therapy",
    ),
    "EX08": Check(_washout_check("EX08"), "computed", "planned_randomization", _EVENTS_HOW),
    "EX09": Check(_washout_check("EX09"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX10": Check(_washout_check("EX10"), "computed", "planned_randomization", _WASHOUT_HOW),
    "EX11": Check(
        _washout_check("EX11"),
        "computed",
        "planned_randomization",
        "prednisone-equivalent dose (BNF table) of all systemic courses taken on the same day "
        "above {steroid_limit}/day, or an IV/IM injection, in the window; exactly "
        "{steroid_limit}/day passes; a non-daily dose counts on its dosing day "
        "({pi_non_daily_steroids})",
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
        _infection_result("hepatitis_b,hepatitis_c"),
        "computed",
        "screening",
        "hepatitis B and C results: active or chronic fails",
    ),
    "EX18": Check(
        _infection_result("tuberculosis"),
        "computed",
        "screening",
        "TB status: active or latent fails",
    ),
    "EX19": Check(
        _infection_result("hiv"),
        "computed",
        "screening",
        "HIV: positive (or known history) fails",
    ),
    "EX20": Check(
        ex20_infection,
        "computed",
        "screening",
        "a known active infection, or an infection event in its window ({windows}); an "
        "event after screening is for the investigator ({pi_infection_anchor})",
    ),
    "EX21": Check(ex21_immunodeficiency, "computed", None, "recorded history: yes fails"),
    "EX22": Check(
        ex22_immunoglobulins, "computed", "screening", "IgA {iga}, IgG {igg}, in any unit (strict)"
    ),
    "EX23": Check(_washout_check("EX23"), "computed", "screening", _EVENTS_HOW),
    "EX24": Check(
        ex24_labs,
        "computed",
        "screening",
        "haemoglobin {hemoglobin}, WBC {wbc}, neutrophils {neutrophils}, platelets "
        "{platelets}, ALT or AST {alt}, total bilirubin {total_bilirubin}, eGFR {egfr} "
        "(reported, or CKD-EPI 2021 from creatinine); strict comparisons",
    ),
    "EX25": Check(
        ex25_malignancy,
        "computed",
        "screening",
        "a malignancy dated within {malignancy_window} before screening fails (one dated "
        "exactly {malignancy_window} before is {malignancy_boundary} them). The exceptions "
        "pass: excised or cured local basal or squamous cell carcinoma of the skin, and "
        "carcinoma in situ of the uterine cervix, when the recorded name says only which "
        "exception it is (and, for the skin, at most where). Any other name is judged by its "
        "date, and the investigator confirms its type",
    ),
    "EX26": Check(_washout_check("EX26"), "computed", "planned_randomization", _EVENTS_HOW),
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
        "the same rule as EX26 (the record repeats it, {pi_repeated_criterion})",
    ),
    "EX30": Check(_attested("EX30"), "attested", "screening", "the investigator's attestation"),
}


def _lower_first(label: str) -> str:
    """``Major surgery`` -> ``major surgery``; an acronym (``TNF inhibitors``) keeps its
    capitals."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def describe(criterion_id: str, study: Study | None = None) -> str:
    """How a criterion is checked, with its thresholds taken from study.yaml."""
    study = study or load_study()
    rules = study.criterion_rules

    values = {
        "min_age": format_quantity(study.population.minimum_age.value),
        "max_age": format_quantity(study.population.maximum_age.value),
        "max_age_plus_one": _ordinal(
            int(study.population.maximum_age.value.to("year").magnitude) + 1
        ),
        "acr_min": rules.acr_eular_minimum.value,
        "duration_max_limit": _maximum_words(rules.disease_duration_maximum),
        "duration_excl_limit": _exclusion_words(rules.disease_duration_exclusion),
        "malignancy_boundary": rules.malignancy_window.boundary,
        "mrss_min": rules.mrss_minimum.value,
        "pah_excluded": " and ".join(rules.pah_excluded_risk.value),
        # what the category can be and pass: the risks not excluded, and no PAH at all
        "pah_passing": " and ".join(
            [f"{risk} risk" for risk in PAH_RISKS if risk not in rules.pah_excluded_risk.value]
            + ["no PAH"]
        ),
        "malignancy_window": str(rules.malignancy_window.value),
        "steroid_limit": format_quantity(study.corticosteroid_rule.daily_limit.value),
    }
    values |= {a.name: str(a.threshold.value) for a in study.lab_analytes if a.threshold}
    windows = [
        f"{_lower_first(g.label)}: {g.window.value if g.window else 'no window given'} "
        f"{'' if g.rule == 'lifetime' else g.anchor_as_written}".strip()
        for g in study.medication_classes
        if g.criterion == criterion_id
    ]
    windows += [
        f"{_lower_first(e.label)}: {e.window.value} {e.anchor_as_written}"
        if e.rule != "planned"
        else f"{_lower_first(e.label)}: {e.anchor_as_written}, read as the "
        f"{format_quantity(e.period.value)} after randomization, or within {e.window.value} "
        f"before it ({study.issue_for('trial_period')})"
        for e in study.exposure_events
        if criterion_id in (e.criterion, *e.also_criteria)
    ]
    values["windows"] = "; ".join(windows)
    values |= {f"pi_{issue.rule}": issue.id for issue in study.protocol_issues if issue.rule}
    if criterion_id not in CHECKS and _by_washout(study, criterion_id):
        return "by the washout calculator: the medication classes or exposure events that name it"
    if criterion_id not in CHECKS:  # a criterion an amendment added (criterion_rule)
        return (
            "the investigator's attestation: the book has no executable rule for this criterion yet"
        )
    how = CHECKS[criterion_id].how.format(**values)
    if criterion_id == "IN01" and study.population.sex.value in SEX_ADMITTED:
        # an amendment enrolling one sex says so
        how += f"; {_SEX_WORDS[SEX_ADMITTED[study.population.sex.value]]} only"
    return how


def _maximum_words(limit: Limit[Any]) -> str:
    """An inclusion's upper limit in words, from the same ``boundary`` the check reads."""
    written = format_quantity(limit.value)
    if limit.boundary == "within":
        return f"at most {written} (exactly {written} passes, one day more fails)"
    return f"less than {written} (exactly {written} fails)"


def _exclusion_words(limit: Limit[Any]) -> str:
    """An exclusion's limit in words, from the same ``boundary`` the check reads."""
    written = format_quantity(limit.value)
    if limit.boundary == "within":
        return f"more than {written} fails; exactly {written} passes"
    return f"{written} or more fails"


def _ordinal(number: int) -> str:
    """An ordinal as English writes it.

    >>> [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 111)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '111th']
    """
    suffix = (
        "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


#: A catalogue entry's anchor (study.yaml) as the record date it counts from.
_ANCHOR_DATES = {"screening": "screening", "randomization": "planned_randomization"}


def criterion_anchors(criterion: str, study: Study) -> tuple[str, ...]:
    """The record dates a criterion counts from (``dates`` fields, in the record's order): a
    washout criterion's from its entries in study.yaml, so an entry's anchor is said as the rule
    applies it (EX23's investigational drug counts from the screening visit, PI07; a rule
    for any use ever counts from no date); any other criterion's from its check."""
    entries = _washout_entries(study, criterion)
    if entries:
        found = {_ANCHOR_DATES[e.anchor] for e in entries if e.rule != "lifetime"}
        return tuple(field for field in Dates.model_fields if field in found)
    check = CHECKS.get(criterion)
    return (check.anchor,) if check is not None and check.anchor else ()


def _anchor_text(record: ParticipantRecord, anchors: tuple[str, ...]) -> str | None:
    if not anchors:
        return None
    texts = []
    for anchor in anchors:
        value: date | None = getattr(record.dates, anchor)
        label = anchor.replace("_", " ")
        texts.append(f"{label} {value}" if value else f"{label} (not recorded)")
    return "; ".join(texts)


#: Counts recorded as a part of another count (neutrophils are white blood cells): a part
#: above its whole is two values that cannot both be right, whatever each threshold says.
COUNT_PARTS = (("neutrophils", "wbc"),)
#: The same count written in two units may convert a unit in the last place apart.
PART_TOLERANCE = 1e-9


def counts_to_confirm(labs: dict[str, tuple[Any, str]], study: Study) -> list[CheckResult]:
    """A part count above its whole (neutrophils above the white cells), from each lab's value
    and unit (``labs``: name -> (value, unit)), each read as the lab rules read it (a value
    they refuse is reported by them, not here): one of the two values or units is wrong, so
    EX24 cannot pass on them. Each is an open part of EX24, a data query naming both values:
    EX24 still fails where a value fails on its own, and is unknown, never passed, otherwise
    (as an EDC's consistency check raises a query rather than refusing the record).
    Pre-screening finds the same rows and asks screen's rule for them."""
    found = []
    for part, whole in COUNT_PARTS:
        if part not in labs or whole not in labs:
            continue
        try:
            part_quantity, whole_quantity = (
                check_value(name, *labs[name], study) for name in (part, whole)
            )
        except LabInputError:
            continue
        part_amount = float(part_quantity.to(whole_quantity.units).magnitude)
        whole_amount = float(whole_quantity.magnitude)
        if part_amount > whole_amount * (1 + PART_TOLERANCE):
            unit = whole_quantity.units
            part_label, whole_label = (get_analyte(n, study).short_label for n in (part, whole))
            given = f"{as_given(float(labs[part][0]))} {labs[part][1]}"
            # as many digits as show the two apart (6.4000001 is not shown as 6.4 beside 6.4)
            digits = next(
                (d for d in range(6, 17) if f"{part_amount:.{d}g}" != f"{whole_amount:.{d}g}"), 17
            )
            part_shown, whole_shown = (
                f"{float(f'{amount:.{digits}g}'):g}" if digits <= 6 else f"{amount:.{digits}g}"
                for amount in (part_amount, whole_amount)
            )
            symbol = format_quantity(1 * unit).removeprefix("1 ")
            found.append(
                CheckResult(
                    "unknown",
                    f"{part_label} {given} ({part_shown} {symbol}) above "
                    f"{whole_label} {whole_shown} {symbol}, the count they are "
                    "part of: one of the two values or units is wrong; confirm both (a data "
                    "query): unknown (EX24)",
                    (f"labs.{part}.value", f"labs.{whole}.value"),
                )
            )
    return found


def _counts_to_confirm(record: ParticipantRecord, study: Study) -> list[CheckResult]:
    labs = {
        name: (lab.value, lab.unit)
        for name in {name for pair in COUNT_PARTS for name in pair}
        if (lab := getattr(record.labs, name)) is not None
    }
    return counts_to_confirm(labs, study)


def criterion_rule(criterion_id: str) -> Callable[[_Context], CheckResult]:
    """A criterion's rule: its check, or for a criterion an amendment added before the book has
    its rule, the investigator's attestation (``attestations.EX31``)."""
    check = CHECKS.get(criterion_id)
    return check.run if check else functools.partial(_without_rule, criterion=criterion_id)


def _washout_entries(study: Study, criterion: str) -> list[Any]:
    """The study's medication classes and exposure events that name a criterion."""
    return [
        *(g for g in study.medication_classes if g.criterion == criterion),
        *(e for e in study.exposure_events if criterion in (e.criterion, *e.also_criteria)),
    ]


def _by_washout(study: Study, criterion: str) -> bool:
    """Whether a criterion is decided by the washout calculator: a medication class or an
    exposure event of the study names it (an amendment's new criterion may be)."""
    return bool(_washout_entries(study, criterion))


def _without_rule(ctx: _Context, criterion: str) -> CheckResult:
    if _by_washout(ctx.study, criterion):  # "use of sarilumab within 12 weeks": its class
        return ctx.washout_outcome(criterion)
    outcome = _attested_check(ctx, criterion)
    return CheckResult(
        outcome.status,
        f"{outcome.reason} (the book has no executable rule for this criterion yet: the "
        "investigator decides)",
        outcome.missing,
    )


def attested_criteria(study: Study) -> frozenset[str]:
    """The criteria the investigator decides by attestation in ``study`` (IN07, EX16, EX30,
    and any an amendment adds before the book has its rule), found once per study."""
    return derived(study, "attested criteria", _attested_criteria)  # type: ignore[no-any-return]


def _attested_criteria(study: Study) -> frozenset[str]:
    """The criteria the investigator decides: the attested ones, and those an amendment adds
    that no medication class or exposure event names (found once per study, not per record)."""
    return frozenset(
        c.id
        for c in study.criteria
        if (c.id not in CHECKS and not _by_washout(study, c.id))
        or (c.id in CHECKS and CHECKS[c.id].kind == "attested")
    )


def _attestations_not_asked(record: ParticipantRecord, study: Study) -> list[Problem]:
    """An attestation for a criterion the study does not decide by attestation (EX24, decided
    from the labs, or EX31 in a study without it) would be ignored: refused, by its path."""
    asked = attested_criteria(study)
    return [
        Problem(
            "an attestation where none is asked; expected attestations only for a criterion "
            f"the investigator decides (here {', '.join(sorted(asked))})",
            path=f"attestations.{name}",
            found="an attestation",
        )
        # an empty one too ("EX31: null"): a criterion the study does not ask to attest
        for name in dict.fromkeys(
            [*record.attestations.recorded(), *(record.attestations.model_extra or {})]
        )
        if name not in asked
    ]


def screen(
    record: ParticipantRecord, study: Study | None = None, source: str = "participant record"
) -> ScreeningResult:
    """Check every criterion on one record. Raises ProtocolDataError for unusable lab input."""
    study = study or load_study()
    refuse_rules_cannot_apply(study)
    ctx = _Context(record, study)
    results = []
    for criterion in study.criteria:
        check = CHECKS.get(criterion.id)
        if check is None:  # a criterion an amendment added, before the book has its rule
            outcome = criterion_rule(criterion.id)(ctx)
            results.append(
                CriterionResult(
                    id=criterion.id,
                    status=outcome.status,
                    reason=outcome.reason,
                    text=criterion.text,
                    kind="computed" if _by_washout(study, criterion.id) else "attested",
                    anchor=None,
                    missing=list(outcome.missing),
                )
            )
            continue
        outcome = check.run(ctx)
        results.append(
            CriterionResult(
                id=criterion.id,
                status=outcome.status,
                reason=outcome.reason,
                text=criterion.text,
                kind=check.kind,
                anchor=_anchor_text(record, criterion_anchors(criterion.id, study)),
                missing=list(dict.fromkeys(outcome.missing)),
            )
        )
    ctx.errors += _attestations_not_asked(record, study)
    if ctx.errors:
        raise ProtocolDataError(source, list(dict.fromkeys(ctx.errors)))
    statuses = {r.status for r in results}
    rescreening, could_need_it = _rescreening(ctx)
    failed_windows = any(r.status == "fail" and _by_washout(study, r.id) for r in results)
    if rescreening is None and failed_windows:
        rescreening = _no_date_on_this_screening(ctx)
    verdict: Verdict = (
        "not_eligible"
        if "fail" in statuses or rescreening
        else "incomplete"
        if "unknown" in statuses or could_need_it
        else "eligible"
    )
    missing: dict[str, list[str]] = {}
    for result in results:
        if result.status == "unknown":
            for item in result.missing or [f"({result.id}) {result.reason}"]:
                missing.setdefault(item, []).append(result.id)
    if could_need_it:  # beside the criteria that need the same date
        missing.setdefault("dates.screening", []).append(could_need_it)
    return ScreeningResult(
        participant=record.participant,
        verdict=verdict,
        criteria=results,
        missing=[f"{item} ({', '.join(ids)})" for item, ids in missing.items()],
        rescreening=rescreening,
    )


def _no_date_on_this_screening(ctx: _Context) -> str | None:
    """Where a window fails on the planned date and no date this screening reaches clears it
    (a course that clears 31 days after screening), `trialbook washout`'s own words for the new
    screening needed, so the two commands say the same of the same record."""
    d = ctx.record.dates
    if d.screening is None:
        return None
    # with no randomization planned, a window that fails fails at every date this screening
    # reaches (its status says so), so a new screening is needed all the same: washout is asked
    # at the last of those dates (the book's last date at most) for the new screening's date
    # (the flags were left unset, helper 137)
    reach = min(d.screening + latest_randomization_after_screening(ctx.study), LATEST_DATE)
    try:
        found = check_washout(
            WashoutInput(
                planned_randomization=d.planned_randomization or reach,
                screening=d.screening,
                medications=ctx.record.medications or [],
                events=ctx.record.events or [],
            ),
            ctx.study,
        )
    except WashoutInputError:  # a date of the record beyond that reach: said already
        return None
    if not found.requires_rescreening:
        return None
    if d.planned_randomization is not None:
        return found.summary
    text = (
        f"no randomization this screening reaches ({d.screening} to {reach}) is clear of every "
        "window: rescreening is needed"
    )
    if found.rescreening_from is not None:
        text += f", on or after {found.rescreening_from}"
        # (a randomization beyond the stand-in date only: that date was no one's plan)
        if found.rescreening_for is not None and found.rescreening_for > reach:
            text += f", for a randomization on or after {found.rescreening_for}"
    return text


def _rescreening(ctx: _Context) -> tuple[str | None, str | None]:
    """Whether randomization is beyond the visit schedule's reach from the screening visit (its
    findings, the labs and tests among them, then no longer stand for that day): the reason
    when it surely is, else what could make it so when an unrecorded screening date could (the
    same rule as `trialbook washout`; a randomization not yet planned is put within reach,
    unless the record's doses and events already come later)."""
    planned = ctx.record.dates.planned_randomization
    gap = latest_randomization_after_screening(ctx.study)
    earliest, latest = ctx.screening_range
    first_randomization = ctx.randomization_range[0]
    if first_randomization - latest > gap:  # (no screening date: latest is LATEST_DATE)
        days = (first_randomization - latest).days
        when = (
            f"the planned randomization on {planned}"
            if planned
            else f"randomization, on or after {first_randomization} (the last recorded dose or "
            "event),"
        )
        return (
            f"{when} is {days} days after the screening visit of {latest}, and the visit "
            f"schedule randomizes at most {gap.days} days after it: rescreening is needed",
            None,
        )
    if planned is not None and planned - earliest > gap:
        return None, f"the visit schedule: randomization at most {gap.days} days after it"
    return None, None


def dates_beyond_the_calendar(result: ScreeningResult, record: ParticipantRecord) -> list[Problem]:
    """A date the report would print outside the dates the book handles (1900 to 2100), as
    `washout` refuses one: a methotrexate dose on 2100-12-31 "clears on 2101-01-29". Named by
    the record's date the answer counts from (the planned randomization, else the screening)."""
    from protocol.washout import printed_beyond

    texts = [(c.id, c.reason) for c in result.criteria]
    texts.append(("the rescreening", result.rescreening or ""))
    d = record.dates
    path, anchor = (
        ("dates.planned_randomization", d.planned_randomization)
        if d.planned_randomization
        else ("dates.screening", d.screening)
    )
    for where, text in texts:
        beyond = printed_beyond(text)
        if beyond:
            return [
                Problem(
                    f"the answer ({where}) would be said with the date {beyond[0]}; expected "
                    f"dates whose windows lie within {EARLIEST_DATE} to {LATEST_DATE}",
                    path=path,
                    found=str(anchor) if anchor else None,
                )
            ]
    return []


def screen_file(path: Path | str) -> ScreeningResult:
    return screen(load_record(path), source=str(path))


def refuse_rules_cannot_apply(study: Study, source: str = "the study in use") -> None:
    """Raise ProtocolDataError (exit 2) when the rules cannot carry out ``study`` as written
    (``rule_problems``): every entry point that screens checks it, found once per study."""
    problems = derived(study, "rule problems", rule_problems)
    if problems:
        raise ProtocolDataError(source, problems)


def rule_problems(study: Study) -> list[Problem]:
    """Criteria of ``study`` that the rules, keyed by criterion ID, would check wrongly: one
    whose text is not the criterion its ID's rule was written for (the book's own study.yaml).
    (A new criterion, with no rule, is screened as unknown.) An amendment that renumbers
    criteria (EX30 becomes EX29) would otherwise have the vaccine rule check the
    non-compliance criterion; a reworded criterion keeps most of its words and passes."""
    import difflib

    own = {c.id: c.text.split() for c in load_study().criteria}
    problems = _unreadable_by_the_rules(study)
    for index, criterion in enumerate(study.criteria):
        path = f"criteria[{index}]"
        if criterion.id not in CHECKS:  # a new criterion: screened as unknown, never passed
            continue
        words = criterion.text.split()

        def likeness(other: list[str], words: list[str] = words) -> float:
            return difflib.SequenceMatcher(a=words, b=other, autojunk=False).ratio()

        if likeness(own[criterion.id]) >= RULE_TEXT_LIKENESS:
            continue
        closest = max(own, key=lambda cid: likeness(own[cid]))
        problems.append(
            Problem(
                f"the text of the criterion {criterion.id}'s rule checks (at least "
                f"{RULE_TEXT_LIKENESS:.0%} of its words in order); it reads like {closest}, so "
                "a renumbered criterion needs its rule moved in protocol/screening.py first",
                path=f"{path}.text",
                found=repr(" ".join(words[:12]) + (" …" if len(words) > 12 else "")),
            )
        )
    return problems


#: The criteria whose rules read the washout calculator (medication classes, exposure events),
#: and of those, the ones that read the events list.
WASHOUT_CRITERIA = frozenset(
    {"EX08", "EX09", "EX10", "EX11", "EX12", "EX13", "EX14", "EX15", "EX20", "EX23", "EX26", "EX29"}
)
EVENT_CRITERIA = frozenset({"EX08", "EX20", "EX23", "EX26", "EX29"})


def _unreadable_by_the_rules(study: Study) -> list[Problem]:
    """What an amended study asks of the rules or the record that they cannot do, each by its
    path: a medication class or exposure event for a criterion whose rule reads no washout (a
    criterion the amendment adds may have them: the washout rule decides it); a lab analyte,
    an ACR/EULAR item, a skin area, a grade or a route the participant record has no field or
    value for (it could never be recorded, so the criterion would be decided without it); an
    analyte moved to another criterion than the one whose rule reads it; an ACR/EULAR item in
    two categories (counted twice); a window of "ever" where a rule counts back from a date."""
    from typing import get_args

    from protocol.participant import AcrEularFindings, Grade, RouteCode, SkinAreas

    def problem(path: str, found: Any, expected: str) -> Problem:
        return Problem(expected, path=path, found=repr(found))

    # a criterion reads one list: the medications (EX09 to EX15) or the events (EX08, EX20,
    # EX23, EX26, EX29), and one an amendment adds reads the list its entries name, never
    # both (its status would follow one list alone); an inclusion criterion reads neither
    added = {c.id for c in study.criteria if c.id not in CHECKS and c.id.startswith("EX")}
    by_classes = {g.criterion for g in study.medication_classes} & added
    by_events = {c for e in study.exposure_events for c in (e.criterion, *e.also_criteria)} & added
    medication_criteria = (WASHOUT_CRITERIA - EVENT_CRITERIA) | (added - by_events)
    event_criteria = EVENT_CRITERIA | (added - by_classes)
    found: list[Problem] = []
    for index, group in enumerate(study.medication_classes):
        if group.criterion not in medication_criteria:
            found.append(
                problem(
                    f"medication_classes[{index}].criterion",
                    group.criterion,
                    "a criterion whose rule reads the medications list (EX09 to EX15), or an "
                    "exclusion criterion the amendment adds that no exposure event names",
                )
            )
    for index, event in enumerate(study.exposure_events):
        for key, criterion in [("criterion", event.criterion)] + [
            (f"also_criteria[{k}]", c) for k, c in enumerate(event.also_criteria)
        ]:
            if criterion not in event_criteria:
                found.append(
                    problem(
                        f"exposure_events[{index}].{key}",
                        criterion,
                        "a criterion whose rule reads the events list (EX08, EX20, EX23, EX26, "
                        "EX29), or an exclusion criterion the amendment adds that no medication "
                        "class names",
                    )
                )
        if event.window is not None and event.window.value.duration is None:
            found.append(
                problem(
                    f"exposure_events[{index}].window",
                    str(event.window.value),
                    "a window counted back from its anchor (such as '4 week'); 'ever' has no start",
                )
            )
    if study.criterion_rules.malignancy_window.value.duration is None:
        found.append(
            problem(
                "criterion_rules.malignancy_window",
                str(study.criterion_rules.malignancy_window.value),
                "a window counted back from screening (such as '5 year'); 'ever' has no start",
            )
        )
    # the values the record holds (its labs, and FVC and DLCO under pulmonary)
    own_analytes = {a.name: a.criterion for a in load_study().lab_analytes}
    for index, analyte in enumerate(study.lab_analytes):
        if analyte.name not in own_analytes:
            found.append(
                problem(
                    f"lab_analytes[{index}].name",
                    analyte.name,
                    "a laboratory value the participant record holds "
                    f"({', '.join(sorted(own_analytes))})",
                )
            )
        elif analyte.criterion != own_analytes.get(analyte.name, analyte.criterion):
            found.append(
                problem(
                    f"lab_analytes[{index}].criterion",
                    analyte.criterion,
                    f"{own_analytes[analyte.name]}, the criterion whose rule reads {analyte.name}",
                )
            )
    items = set(AcrEularFindings.model_fields)
    seen: dict[str, int] = {}
    acr = study.acr_eular_2013.value
    for index, category in enumerate(acr.categories):
        for item in category.items:
            path = f"acr_eular_2013.value.categories[{index}].items.{item}"
            if item not in items:
                found.append(problem(path, item, "an item the participant record holds"))
            elif item in seen:
                found.append(
                    problem(
                        path,
                        item,
                        "each item in one category (it is in "
                        f"'{acr.categories[seen[item]].name}' too: it would count twice)",
                    )
                )
            seen.setdefault(item, index)
    for flag in acr.not_applicable_when:
        if flag not in items:
            found.append(
                problem(
                    f"acr_eular_2013.value.not_applicable_when.{flag}",
                    flag,
                    "an item the participant record holds",
                )
            )
    areas = set(SkinAreas.model_fields)
    skin = study.skin_score.value
    for index, area in enumerate(skin.areas):
        if area.name not in areas:
            found.append(
                problem(
                    f"skin_score.value.areas[{index}].name",
                    area.name,
                    "a skin area the participant record holds (the 17 of the mRSS)",
                )
            )
    # the grades the record's own field takes (participant.Grade: 0 to 3)
    limits = Grade.__metadata__[0].metadata
    low = next(m.ge for m in limits if hasattr(m, "ge"))
    high = next(m.le for m in limits if hasattr(m, "le"))
    for grade in skin.grades:
        if not low <= grade <= high:
            found.append(
                problem(
                    f"skin_score.value.grades.{grade}",
                    grade,
                    "a grade from 0 to 3 (the grades a record holds)",
                )
            )
    routes = set(get_args(RouteCode))
    rule = study.corticosteroid_rule
    for index, route in enumerate(rule.non_systemic_routes):
        if route in rule.injection_routes:
            found.append(
                problem(
                    f"corticosteroid_rule.non_systemic_routes[{index}]",
                    route,
                    "a route that is not also an injection route (an IV or IM dose excludes)",
                )
            )
    for key in ("injection_routes", "non_systemic_routes"):
        for index, route in enumerate(getattr(rule, key)):
            if route not in routes:
                found.append(
                    problem(
                        f"corticosteroid_rule.{key}[{index}]",
                        route,
                        f"a route the medications list records ({', '.join(sorted(routes))})",
                    )
                )
    return found


#: How alike (difflib's ratio over words) a criterion's text must be to the text its rule was
#: written for: rewording keeps most words (a changed limit, a typo), renumbering few.
RULE_TEXT_LIKENESS = 0.6
