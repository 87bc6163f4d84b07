"""The schema of protocol/study.yaml and its loader.

``load_study()`` reads the file once per process, validates it against the models below and
cross-checks every registry fact against the stored record, so nothing downstream (the CLI, a
chapter, a test) ever sees a study that is malformed or that disagrees with the registry.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from protocol.documents import (  # noqa: F401  (re-exported: the document readers live there)
    MAX_BYTES,
    format_location,
    parse_yaml_text,
    read_text_file,
    read_yaml,
    validate_document,
    validation_problems,
)
from protocol.errors import Problem, ProtocolDataError
from protocol.facts import (
    Duration,
    Fact,
    FactorText,
    Frequency,
    Limit,
    Mass,
    MolarMass,
    RangeText,
    ThresholdText,
    Volume,
    WindowText,
)
from protocol.inputs import StrictDate
from protocol.units import format_quantity, ureg

STUDY_PATH = Path(__file__).with_name("study.yaml")

CRITERION_ID = re.compile(r"^(IN|EX)([0-9]{2})$")


T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True
    )


class Reference(_Model):
    """A source the book cites. Its label in the text is ``short`` when given (a label or a
    standard, which has no authors), else the first author's family name and the year."""

    title: str
    authors: list[str] = []  # "Family, Given" or an organisation; "others" ends a cut list
    year: int | None = None
    published_in: str | None = None
    short: str | None = None
    note: str | None = None
    url: str | None = None
    doi: str | None = None

    @model_validator(mode="after")
    def _can_be_labelled(self) -> Reference:
        if not self.short and not (self.authors and self.year):
            raise ValueError("a reference needs 'short', or 'authors' and 'year', for its label")
        return self

    @property
    def label(self) -> str:
        """How the text cites it.

        >>> Reference(title="t", authors=["Inker, Lesley A.", "others"], year=2021).label
        'Inker et al. 2021'
        >>> Reference(title="t", short="CellCept US label").label
        'CellCept US label'
        """
        if self.short:
            return self.short
        family = [author.split(",")[0] for author in self.authors if author != "others"]
        if len(family) == 1 and "others" not in self.authors:
            names = family[0]
        elif len(family) == 2 and "others" not in self.authors:
            names = f"{family[0]} and {family[1]}"
        else:
            names = f"{family[0]} et al."
        return f"{names} {self.year}"


class Identification(_Model):
    nct_id: Fact[str]
    org_study_id: Fact[str]
    brief_title: Fact[str]
    official_title: Fact[str] | None = None
    #: the registry's whole synopsis, as a summary field of the exports gives it (FHIR's
    #: ResearchStudy.description, USDM's study description)
    brief_summary: Fact[str] | None = None
    acronym: Fact[str] | None = None
    sponsor: Fact[str]
    sponsor_class: Fact[str]


class Status(_Model):
    overall_status: Fact[str]
    # as strictly as a record's dates: no Unix seconds, times or time zones
    start_date: Fact[StrictDate]
    completion_date: Fact[StrictDate]
    last_update: Fact[StrictDate]


class Design(_Model):
    study_type: Fact[str]
    phase: Fact[str]
    allocation: Fact[str]
    intervention_model: Fact[str]
    masking: Fact[str]
    primary_purpose: Fact[str]
    enrollment: Fact[StrictInt]
    description: Fact[str]


class Population(_Model):
    condition: Fact[str]
    sex: Fact[str]
    minimum_age: Fact[Duration]
    maximum_age: Fact[Duration]
    healthy_volunteers: Fact[StrictBool]


class CdiscTerm(_Model):
    """A CDISC controlled-terminology term: its submission value and NCI code."""

    submission_value: str
    code: str


#: The CDISC dosing-frequency codes (NCI Thesaurus, CDISC CT FREQ) the book exports, each with
#: the frequency it means.
CDISC_FREQUENCIES = {"C67069": "1/week", "C64496": "2/day"}

#: The analytes the criteria's rules read by name (EX22, EX24): a study must define each.
RULE_ANALYTES = (
    "hemoglobin",
    "wbc",
    "neutrophils",
    "platelets",
    "alt",
    "ast",
    "total_bilirubin",
    "egfr",
    "creatinine",
    "iga",
    "igg",
)

#: The most doses one intervention's calendar lists (four a day for six years): more is a
#: frequency or duration mistyped, and would take the calendar minutes and gigabytes.
MAX_DOSES = 10_000


class Intervention(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Fact[str]
    type: Fact[str]
    role: Literal["investigational", "background"]
    description: Fact[str]
    other_names: Fact[list[str]] | None = None
    brand_names: Fact[list[str]] | None = None
    dose: Fact[Mass]
    route: Fact[str]
    route_cdisc: Fact[CdiscTerm]
    frequency: Fact[Frequency]
    frequency_cdisc: Fact[CdiscTerm]
    frequency_label: str
    duration: Fact[Duration]

    @model_validator(mode="after")
    def _doses_can_be_counted(self) -> Intervention:
        """The calendar counts the doses as duration x frequency: a frequency that gives no
        whole number of them (``52/year`` over 48 weeks) is refused here, not met later as an
        internal error."""
        doses = (self.duration.value * self.frequency.value).to("dimensionless").magnitude
        if not 1 <= round(doses) <= MAX_DOSES or abs(doses - round(doses)) > 1e-9:
            per = self.frequency.value.units**-1
            raise ValueError(
                f"{self.id}: {self.frequency.value.magnitude:g} a {per} for "
                f"{self.duration.value:P} is {doses:.6g} doses; expected a frequency and "
                f"duration giving a whole number of doses, 1 to {MAX_DOSES:,} (such as 1/week "
                "over 48 week)"
            )
        return self

    @model_validator(mode="after")
    def _frequency_code_says_the_frequency(self) -> Intervention:
        """The CDISC code the exports write must say the frequency the calendar counts: a
        frequency changed to 2/day with the code left at EVERY WEEK exported a weekly dose."""
        code = self.frequency_cdisc.value.code
        meant = CDISC_FREQUENCIES.get(code)
        if meant is None:
            raise ValueError(
                f"{self.id}: frequency_cdisc code {code!r} is not one the book knows; expected "
                f"one of {sorted(CDISC_FREQUENCIES)} (add a new code with its frequency to "
                "CDISC_FREQUENCIES)"
            )
        if abs((self.frequency.value - ureg.Quantity(meant)).to("1/day").magnitude) > 1e-9:
            raise ValueError(
                f"{self.id}: frequency {self.frequency.value:P} but frequency_cdisc "
                f"{self.frequency_cdisc.value.submission_value} ({code}) means {meant}; "
                "expected the two to agree"
            )
        return self


LAB_ANALYTE_NAME = r"^[a-z][a-z0-9_]*$"


class LabAnalyte(_Model):
    """One laboratory analyte of the screening criteria (study.yaml ``lab_analytes``)."""

    name: str = Field(pattern=LAB_ANALYTE_NAME)
    label: str
    # the name on a Chinese laboratory report (a working translation, to be checked by sites)
    chinese_name: str = Field(min_length=2)
    # other spellings readers search for (British spelling, common abbreviations)
    search_terms: list[str] = []
    criterion: str
    threshold: Fact[ThresholdText] | None = None
    computes: str | None = None
    protocol_unit: str
    report_unit: str | None = None
    si_unit: str | None = None
    accepted_units: list[str] = Field(min_length=1)
    plausible_range: Fact[RangeText]
    uln_plausible_range: Fact[RangeText] | None = None
    conversion_factor: Fact[FactorText] | None = None
    molar_mass: Fact[MolarMass] | None = None

    @property
    def conversion_molar_mass(self) -> Any:
        """The molar mass the mass <-> substance conversion uses: the one the published
        conventional factor implies (so 1 mg/dL bilirubin is exactly 17.1 µmol/L)."""
        if self.conversion_factor is not None:
            return self.conversion_factor.value.molar_mass
        return self.molar_mass.value if self.molar_mass else None

    @model_validator(mode="after")
    def _units_fit(self) -> LabAnalyte:
        from protocol.units import convert, read_unit, ureg

        if (self.threshold is None) == (self.computes is None):
            raise ValueError("give either 'threshold' or 'computes' (the analyte it is used for)")
        chemistry: dict[str, Any] = {}
        if self.conversion_factor and self.molar_mass:
            implied = self.conversion_factor.value.molar_mass.to("g/mol").magnitude
            stated = self.molar_mass.value.to("g/mol").magnitude
            if abs(implied - stated) > 0.001 * stated:
                raise ValueError(
                    f"conversion_factor {self.conversion_factor.value} implies a molar mass of "
                    f"{implied:.1f} g/mol, but molar_mass is {stated:g} g/mol"
                )
        if self.conversion_molar_mass is not None:  # pint's chemistry context, this molar mass
            chemistry = {"mw": self.conversion_molar_mass}
        value_unit = self.report_unit or self.protocol_unit
        problems = []
        for field, unit in [
            ("protocol_unit", self.protocol_unit),
            ("report_unit", value_unit),
            ("si_unit", self.si_unit),
        ]:
            if unit is None:
                continue
            try:
                ureg.Unit(unit)
            except Exception:
                problems.append(f"{field}: {unit!r} is not a pint unit")
        for index, unit in enumerate(self.accepted_units):
            try:
                convert(read_unit(unit), value_unit, chemistry.get("mw"))
            except Exception as exc:
                problems.append(
                    f"accepted_units[{index}]: {unit!r} does not convert to {value_unit!r} ({exc})"
                )
        if self.threshold and not problems:
            try:
                self.threshold.value.quantity.to(self.protocol_unit)
            except Exception:
                # (pint's own words name dimensions, [substance] / [length] ** 3: not said)
                problems.append(
                    f"threshold.value: {self.threshold.value} is not in the units of "
                    f"protocol_unit {self.protocol_unit!r}: expected a unit of the same kind "
                    f"that converts to it, such as {self.protocol_unit}"
                )
        ranges = [("plausible_range", self.plausible_range)]
        if self.uln_plausible_range is not None:
            ranges.append(("uln_plausible_range", self.uln_plausible_range))
        for field, fact in ranges:
            try:
                convert(fact.value.low, value_unit, chemistry.get("mw"))
            except Exception:
                problems.append(f"{field}: {fact.value} is not in the units of {value_unit!r}")
        if self.threshold and not problems and str(self.protocol_unit) != "xULN":
            # a threshold no plausible value reaches (< 80 g/dL haemoglobin: everyone excluded)
            try:
                at = convert(self.threshold.value.quantity, value_unit, chemistry.get("mw"))
                low, high = (
                    convert(end, value_unit, chemistry.get("mw"))
                    for end in (self.plausible_range.value.low, self.plausible_range.value.high)
                )
            except Exception:
                pass  # the units were refused above
            else:
                if not low.magnitude < at.magnitude < high.magnitude:
                    problems.append(
                        f"threshold.value: {self.threshold.value} is outside plausible_range "
                        f"{self.plausible_range.value}; expected a threshold within it (else "
                        "every value, or none, would meet it)"
                    )
        if (str(self.protocol_unit) == "xULN") != (self.uln_plausible_range is not None):
            problems.append("uln_plausible_range is needed exactly when the threshold is × ULN")
        elif self.threshold and not problems and self.uln_plausible_range is not None:
            # a multiple of the ULN no plausible value and ULN reach (> 0 × ULN: everyone
            # with a result excluded): the multiples run from the lowest value over the
            # highest ULN to the highest value over the lowest ULN
            try:
                values, ulns = (
                    [convert(end, value_unit, chemistry.get("mw")).magnitude for end in ends]
                    for ends in (
                        (self.plausible_range.value.low, self.plausible_range.value.high),
                        (self.uln_plausible_range.value.low, self.uln_plausible_range.value.high),
                    )
                )
            except Exception:
                pass  # the units were refused above
            else:
                multiple = self.threshold.value.quantity.magnitude
                lowest, highest = values[0] / ulns[1], values[1] / ulns[0]
                if not lowest < multiple < highest:
                    problems.append(
                        f"threshold.value: {self.threshold.value} is outside the multiples of "
                        f"the ULN that plausible_range and uln_plausible_range allow "
                        f"({lowest:.4g} to {highest:.4g} × ULN); expected a threshold within "
                        "them (else every value, or none, would meet it)"
                    )
        if self.computes and not self.plausible_range.value.low.magnitude > 0:
            # the equation divides by the value and raises it to a negative power: a value of
            # 0 has no result, and would read as an infinite eGFR that passes
            problems.append(
                f"plausible_range: {self.plausible_range.value} starts at "
                f"{format_quantity(self.plausible_range.value.low)}; expected a lowest plausible "
                f"value above 0 (computes: {self.computes}: the equation divides by the value)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class EgfrEquation(_Model):
    name: str
    constant: StrictFloat
    kappa_female: StrictFloat
    kappa_male: StrictFloat
    alpha_female: StrictFloat
    alpha_male: StrictFloat
    exponent_above: StrictFloat
    age_base: StrictFloat
    female_factor: StrictFloat
    minimum_age: StrictInt

    @model_validator(mode="after")
    def _shape_of_the_equation(self) -> EgfrEquation:
        """The CKD-EPI form the code computes: positive constants and kappas, negative
        exponents, an age base below 1 (eGFR falls with age); any other value would give a
        negative, zero or growing eGFR and read as a verdict."""
        problems = [
            f"{name} {value!r}: expected {expected}"
            for name, value, ok, expected in [
                # within the ranges of the published equations (CKD-EPI 2009 and 2021, MDRD):
                # beyond them the eGFR of a plausible creatinine overflows or vanishes
                ("constant", self.constant, 0 < self.constant <= 1000, "a number in (0, 1000]"),
                (
                    "kappa_female",
                    self.kappa_female,
                    0 < self.kappa_female <= 5,
                    "a number in (0, 5]",
                ),
                ("kappa_male", self.kappa_male, 0 < self.kappa_male <= 5, "a number in (0, 5]"),
                (
                    "alpha_female",
                    self.alpha_female,
                    -3 <= self.alpha_female < 0,
                    "a number in [-3, 0)",
                ),
                ("alpha_male", self.alpha_male, -3 <= self.alpha_male < 0, "a number in [-3, 0)"),
                (
                    "exponent_above",
                    self.exponent_above,
                    -3 <= self.exponent_above < 0,
                    "a number in [-3, 0)",
                ),
                (
                    "age_base",
                    self.age_base,
                    0.9 <= self.age_base < 1,
                    "a number in [0.9, 1)",
                ),
                (
                    "female_factor",
                    self.female_factor,
                    0 < self.female_factor <= 2,
                    "a number in (0, 2]",
                ),
                ("minimum_age", self.minimum_age, 0 <= self.minimum_age <= 120, "0 to 120"),
            ]
            if not ok
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _positive(fact: Any, expected: str) -> Any:
    """A quantity nothing can be of zero (a half-life, a vial's strength or volume)."""
    if fact is not None and fact.value.magnitude <= 0:
        raise ValueError(f"{fact.value:P} is zero; expected {expected}")
    return fact


class Drug(_Model):
    """A medicine of the prohibited-medicines catalogue."""

    name: str
    aliases: list[str] = []
    brand_names: list[str] = []
    chinese_name: str | None = None
    named_in_record: StrictBool
    half_life: Fact[Duration] | None = None
    prednisone_5mg_equivalent: Fact[Mass] | None = None

    @field_validator("half_life")
    @classmethod
    def _a_half_life_is_positive(cls, fact: Any) -> Any:
        return _positive(fact, "a half-life such as '12 hour'")


WindowRule = Literal["window", "lifetime", "corticosteroid", "no_window"]
Anchor = Literal["randomization", "screening"]


class MedicationClass(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    criterion: str
    rule: WindowRule
    open: StrictBool
    aliases: list[str] = []
    #: Other classes whose medicines the aliases also name (an "immunosuppressant" may be
    #: cyclophosphamide): a medicine named by an alias alone then passes no window, since its
    #: name could still change the criterion.
    aliases_also_name: list[str] = []
    window: Fact[WindowText] | None = None
    anchor: Anchor
    anchor_as_written: str
    drugs: list[Drug]

    @model_validator(mode="after")
    def _window_fits_rule(self) -> MedicationClass:
        lifetime = bool(self.window and self.window.value.lifetime)
        if self.rule == "no_window" and self.window is not None:
            raise ValueError("rule 'no_window' takes no 'window'")
        if self.rule != "no_window" and self.window is None:
            raise ValueError(f"rule {self.rule!r} needs a 'window'")
        if (self.rule == "lifetime") != lifetime:
            raise ValueError("rule 'lifetime' and the window 'ever' go together")
        return self


class CorticosteroidRule(_Model):
    daily_limit: Fact[Mass]
    injection_routes: list[str]
    non_systemic_routes: list[str]
    non_daily_reading: Fact[Literal["dose_day_amount"]]


class ExposureEvent(_Model):
    """An event kind of the washout input. ``window``: a dated event within the window before
    the anchor excludes. ``planned``: an event planned for a date; it excludes when that date
    falls in the trial period (``period`` after randomization, PI24) or within the ``window``
    before randomization."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    criterion: str
    also_criteria: list[str] = []
    rule: Literal["window", "planned"]
    window: Fact[WindowText] | None = None
    period: Fact[Duration] | None = None
    anchor: Anchor
    anchor_as_written: str
    #: An event dated after a screening anchor: "investigator" decides (EX20, PI15), or it is
    #: "within" the window (EX23: any investigational drug after entry excludes, PI07).
    after_anchor: Literal["investigator", "within"] = "investigator"
    #: A course (antibiotics, an infection, another trial's drug) can be ongoing; a vaccination
    #: or an operation happens on a day.
    can_be_ongoing: StrictBool = True

    @model_validator(mode="after")
    def _window_fits_rule(self) -> ExposureEvent:
        if self.window is None:
            raise ValueError(f"rule {self.rule!r} needs a 'window'")
        if (self.rule == "planned") != (self.period is not None):
            raise ValueError("rule 'planned' needs a 'period' (the trial period); 'window' none")
        if self.rule == "planned" and self.anchor != "randomization":
            raise ValueError("a planned event counts from randomization")
        return self


RiskCategory = Literal["low", "intermediate", "high"]


class CriterionRules(_Model):
    # upper limits on elapsed time; ``boundary`` says whether the limit's own value is within
    disease_duration_maximum: Limit[Duration]
    disease_duration_exclusion: Limit[Duration]
    mrss_minimum: Fact[StrictInt]
    malignancy_window: Limit[WindowText]
    pah_excluded_risk: Fact[list[RiskCategory]]
    acr_eular_minimum: Fact[StrictInt]

    @model_validator(mode="after")
    def _durations_in_whole_months(self) -> CriterionRules:
        """The disease duration is counted in calendar months (PI10): a limit must be a whole
        number of them (``18 month``, ``3 year``); ``535 day`` would be rounded to 18 months
        and decide records against a limit nobody wrote."""
        for name in ("disease_duration_maximum", "disease_duration_exclusion"):
            limit = getattr(self, name).value
            months = limit.to("month").magnitude
            # in calendar units only: days or weeks are no count of calendar months, even where
            # they equal pint's average month (547.875 day is 18 of them)
            calendar = str(limit.units) in ("month", "year")
            if not calendar or abs(months - round(months)) > 1e-9 or round(months) < 1:
                written = f"is {months:.6g} months" if calendar else f"is in {limit.units:P}s"
                raise ValueError(
                    f"{name} {limit:P} {written}; expected a whole number of months or years "
                    "(the duration is counted in calendar months, PI10)"
                )
        return self


class AcrEularCategory(_Model):
    name: str
    items: dict[str, int]


class AcrEular(_Model):
    categories: list[AcrEularCategory]
    not_applicable_when: dict[str, str]

    @property
    def item_names(self) -> list[str]:
        return [item for category in self.categories for item in category.items]


class SkinArea(_Model):
    """An mRSS area and its LeRoy region: proximal to the elbows or knees (or the trunk), distal
    to them, or neither (the face, thickened in either subset)."""

    name: str = Field(pattern=r"^[a-z][a-z_]*$")
    proximal: StrictBool
    distal: StrictBool

    @model_validator(mode="before")
    @classmethod
    def _distal_of_an_earlier_version(cls, data: Any) -> Any:
        # versions of study.yaml before the face was read as neither region give no `distal`:
        # they are read as they were meant then (an area not proximal is distal, the face
        # too), so that `trialbook diff` shows the records the change of reading moves
        if (
            isinstance(data, dict)
            and "distal" not in data
            and isinstance(data.get("proximal"), bool)
        ):
            return {**data, "distal": not data["proximal"]}
        return data

    @model_validator(mode="after")
    def _one_region(self) -> SkinArea:
        if self.proximal and self.distal:
            raise ValueError(f"the area {self.name} is proximal or distal, not both")
        return self


class SkinScore(_Model):
    grades: dict[int, str]
    areas: list[SkinArea]

    @model_validator(mode="after")
    def _seventeen_areas(self) -> SkinScore:
        names = [a.name for a in self.areas]
        if len(names) != 17 or len(set(names)) != 17:
            raise ValueError(f"the mRSS has 17 distinct areas; found {len(set(names))}")
        return self


class Presentation(_Model):
    intervention: str
    form: str
    strength: Fact[Mass]
    reconstitution: Fact[Volume] | None = None
    storage: Fact[str] | None = None

    @field_validator("strength", "reconstitution")
    @classmethod
    def _an_amount_is_positive(cls, fact: Any) -> Any:
        return _positive(fact, "a strength or volume above zero, such as '80 mg' or '1 mL'")

    # how many of these the trial gives per dose, when that is a reading rather than a fact (PI30)
    trial_supply: Fact[str] | None = None
    dispensing_unit: str


class SourceDocument(_Model):
    en: str
    zh: str  # working translation


class LabelRequirement(_Model):
    """A product label's requirement of participants beyond the record (contraception, tests)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    intervention: str
    topic: str
    topic_zh: str  # working translation
    applies_to: str
    requirement: Fact[str]
    until_after_last_dose: Duration | None = None

    @model_validator(mode="after")
    def _whole_days(self) -> LabelRequirement:
        period = self.until_after_last_dose
        if period is not None:
            days = period.to("day").magnitude
            if days <= 0 or abs(days - round(days)) > 1e-9:
                raise ValueError(
                    f"until_after_last_dose: {period} is not a positive whole number of days; "
                    f"expected a period such as '6 week' or '90 day'"
                )
        return self


def _iso_duration(text: str) -> timedelta:
    import isodate

    try:
        duration = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, TypeError):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as 'P3D' or 'P1W'") from None
    if not isinstance(duration, timedelta):
        raise ValueError(f"{text!r}: a visit window is in days or weeks, not months or years")
    if duration % timedelta(days=1):
        # PT7H, P0.5D, P1.5W were read as whole days (0, 0, 10): a window ends on a day
        raise ValueError(
            f"{text!r} is not a whole number of days; expected a window in whole days or weeks "
            "such as 'P3D' or 'P1W'"
        )
    if not timedelta(0) <= duration <= timedelta(days=MAX_VISIT_DAY):
        # a negative window would not hold its own target day (-P3D: from day +3 to day 0)
        raise ValueError(f"{text!r}: expected a window of 0 to {MAX_VISIT_DAY} days")
    return duration


#: The furthest study day a visit (or its window) may fall on, either side of randomization:
#: ten years, far past any visit of a 48-week trial; a day beyond it is a typing mistake.
MAX_VISIT_DAY = 3653


class Visit(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    day: StrictInt = Field(description="Study day of the target date; randomization is day 1")
    window_before: str
    window_after: str
    activities: list[str]

    @model_validator(mode="after")
    def _windows_are_iso_durations(self) -> Visit:
        _iso_duration(self.window_before)
        _iso_duration(self.window_after)
        if self.day == 0:
            raise ValueError("there is no day 0: randomization is day 1, the day before is -1")
        if abs(self.day) > MAX_VISIT_DAY:
            raise ValueError(f"day {self.day}: expected a study day within {MAX_VISIT_DAY} days")
        return self

    @property
    def before(self) -> timedelta:
        return _iso_duration(self.window_before)

    @property
    def after(self) -> timedelta:
        return _iso_duration(self.window_after)

    @property
    def window_text(self) -> str:
        """``± 3 days``, ``on the day``, ``day −28 to day −1``: the window as site staff write
        it; a window that is not symmetric is given by its first and last study days."""
        before, after = self.before.days, self.after.days
        if before == after == 0:
            return "on the day"
        if before == after:
            return f"± {before} {'day' if before == 1 else 'days'}"
        first, last = (study_day_shift(self.day, offset) for offset in (-before, after))
        return f"day {first} to day {last}".replace("-", "−")


def study_day_shift(day: int, days: int) -> int:
    """The study day ``days`` calendar days from study day ``day``; there is no day 0 (day −1 is
    the day before randomization, day 1 the day of it).

    >>> study_day_shift(-28, 27), study_day_shift(-1, 1), study_day_shift(1, -1)
    (-1, 1, -1)
    """
    shifted = day + days
    if day < 0 <= shifted:
        shifted += 1
    elif shifted <= 0 < day:
        shifted -= 1
    return shifted


class DosingRules(_Model):
    dose_at_end_of_treatment: Fact[StrictBool]


class Arm(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Fact[str]
    type: Fact[str]
    description: Fact[str]
    intervention_names: Fact[list[str]]


class Site(_Model):
    # serialization aliases are the record's own keys, so a site compares with the record as is
    name: str = Field(serialization_alias="facility")
    city: str
    region: str = Field(serialization_alias="state")
    country: str
    status: str


class Outcome(_Model):
    measure: str
    time_frame: str


class Criterion(_Model):
    id: str
    # The book's label for quick reference and the paper checklist (not the registry's words).
    short_name: str = Field(min_length=2, max_length=60)
    # A working translation into simplified Chinese, for the bilingual checklist and the search.
    short_name_zh: str = Field(min_length=2, max_length=30)
    # one line of printable text: it is printed, exported (ODM, SDTM, FHIR, USDM) and matched
    text: str = Field(min_length=1, pattern=r"^[^\x00-\x1f\x7f]+$")

    @property
    def category(self) -> Literal["inclusion", "exclusion"]:
        return "inclusion" if self.id.startswith("IN") else "exclusion"


class ProtocolIssue(_Model):
    id: str = Field(pattern=r"^PI[0-9]{2}$")
    title: str
    # open: no reading yet; reading adopted: the book applies its reading until the full protocol
    # is seen; confirmed: the full protocol says so.
    status: Literal["open", "reading adopted", "confirmed against the full protocol"]
    criteria: list[str]
    record_says: str
    problem: str
    reading: str
    rule: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")  # the reading the engine applies


class VersionEntry(_Model):
    label: str = Field(min_length=1, max_length=80)
    date: StrictDate
    summary: str = Field(min_length=1)


class ProtocolVersion(_Model):
    """The protocol version a study.yaml describes, and the history of versions before it."""

    label: str = Field(min_length=1, max_length=80)
    date: StrictDate
    history: list[VersionEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _current_first(self) -> ProtocolVersion:
        if (self.history[0].label, self.history[0].date) != (self.label, self.date):
            raise ValueError(
                f"history[0] is {self.history[0].label!r} of {self.history[0].date}; expected "
                f"the current version first ({self.label!r} of {self.date})"
            )
        dates = [entry.date for entry in self.history]
        if dates != sorted(dates, reverse=True):
            raise ValueError("history: expected the newest version first, then older ones")
        return self


class Epoch(_Model):
    """A period of the trial every participant passes through (the SDTM and USDM epoch)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    cdisc: CdiscTerm  # the epoch type (CDISC codelist C99079)
    duration: Duration
    first_visit: str  # a visit_schedule id: where the epoch starts
    # the element participants are in during the epoch: one for every arm, or one per arm
    element: str | None = Field(None, description="The element of every arm (else per arm)")

    @field_validator("duration")
    @classmethod
    def _whole_days(cls, duration: Any) -> Any:
        # the standards give an epoch's length as an ISO 8601 duration: whole days, weeks,
        # months or years, never a rounded one
        days = duration.to("day").magnitude
        if abs(days - round(days)) > 1e-9 or days <= 0:
            raise ValueError(
                f"{duration.magnitude} {duration.units} is not a whole number of days; "
                "expected an epoch's length such as '48 week' or '28 day'"
            )
        return duration


class TrialDesign(_Model):
    """What the standards' trial design (SDTM TS/TA/TE, USDM, FHIR) needs beyond the rest of
    the file: the epochs and the summary parameters the registry states or the book assumes."""

    epochs: Fact[list[Epoch]]
    primary_objective: Fact[str]
    trial_types: Fact[list[CdiscTerm]]  # efficacy, safety (CDISC codelist C66739)
    control_type: Fact[CdiscTerm]  # CDISC codelist C66785
    add_on: Fact[StrictBool]  # the investigational product added to a background treatment
    # the condition a rare disease (USDM's indication says which; the record does not)
    rare_disease: Fact[StrictBool] | None = None
    countries: Fact[list[str]] = Field(description="ISO 3166-1 alpha-3 codes of the site countries")
    # not in the registry record: absent here, so an export says "no information" (a null
    # flavour), never a value the record does not give
    adaptive: Fact[StrictBool] | None = None
    stopping_rules: Fact[str] | None = None
    # each arm's short code (SDTM ARMCD, and its treatment element's ETCD): arm id -> code
    arm_codes: dict[str, str]
    sponsor_type: Fact[CdiscTerm]  # the sponsor as an organization (CDISC codelist C188724)

    @model_validator(mode="after")
    def _epochs_in_order(self) -> TrialDesign:
        ids = [e.id for e in self.epochs.value]
        if len(set(ids)) != len(ids):
            raise ValueError(f"epochs: each id once; found {ids}")
        treatment = [e.id for e in self.epochs.value if e.element is None]
        if len(treatment) != 1:
            raise ValueError(
                f"epochs: exactly one epoch whose element is each arm's own (no 'element': the "
                f"treatment); found {treatment or 'none'}"
            )
        if len(set(self.countries.value)) != len(self.countries.value):
            raise ValueError(f"countries: each country once; found {self.countries.value}")
        for code in self.countries.value:
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"countries: {code!r} is not an ISO 3166-1 alpha-3 code")
        for arm, code in self.arm_codes.items():
            if not re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", code):
                raise ValueError(
                    f"arm_codes.{arm}: {code!r}; expected up to 8 capital letters and digits "
                    f"(an SDTM element code)"
                )
        return self


@functools.cache
def iso3166_table() -> list[dict[str, str]]:
    """usdm4's ISO 3166 table (the codes its validators know), read as a file: importing usdm4
    takes 0.4 s, more than a whole `trialbook screen`."""
    import importlib.util
    import json

    spec = importlib.util.find_spec("usdm4")  # found without running the package
    assert spec is not None and spec.submodule_search_locations
    folder = Path(spec.submodule_search_locations[0]) / "ct" / "iso" / "iso3166"
    return json.loads((folder / "iso3166.json").read_text(encoding="utf-8"))


def iso3166_alpha3(country: str) -> str | None:
    """A country's ISO 3166 alpha-3 code, from its name (China) or its alpha-2 or alpha-3 code."""
    for entry in iso3166_table():
        if country in (entry["name"], entry["alpha-2"], entry["alpha-3"]):
            return entry["alpha-3"]
    return None


def _countries_problems(study: Study) -> list[str]:
    """The trial's countries (SDTM's FCNTRY, FHIR's regions) are its sites' countries, in ISO
    3166 alpha-3 codes (usdm4's table): an amendment that names another country, or adds a
    site abroad and not its country, would export a trial run elsewhere."""
    assert study.trial_design is not None
    sites = study.sites.value if study.sites else []
    if not sites:
        return []
    problems, expected = [], set()
    for index, site in enumerate(sites):
        code = iso3166_alpha3(site.country)
        if code is None:
            problems.append(
                f"sites.value[{index}].country: {site.country!r}; expected a country as ISO "
                "3166 names it"
            )
        else:
            expected.add(code)
    given = study.trial_design.countries.value
    if not problems and set(given) != expected:
        problems.append(
            f"trial_design.countries: {sorted(given)}; expected the sites' countries "
            f"{sorted(expected)} (ISO 3166 alpha-3)"
        )
    return problems


def _treatment_epoch_problems(study: Study) -> list[str]:
    """The treatment epoch lasts as long as the longest intervention is given: an amendment to
    24 weeks of treatment had exported a treatment epoch of 48 weeks beside administrations of
    24 (and an epoch of 52 weeks beside 48 weeks of doses passed too)."""
    assert study.trial_design is not None
    lengths = [i.duration.value for i in study.interventions]
    if not lengths:
        return []
    longest = max(lengths, key=lambda length: length.to("day").magnitude)
    problems = []
    for index, epoch in enumerate(study.trial_design.epochs.value):
        if epoch.cdisc.submission_value != "TREATMENT":
            continue
        days, expected = epoch.duration.to("day").magnitude, longest.to("day").magnitude
        if abs(days - expected) > 1e-9 * expected:
            problems.append(
                f"trial_design.epochs.value[{index}].duration: {format_quantity(epoch.duration)}; "
                f"expected the treatment's length, {format_quantity(longest)} (the longest "
                "intervention's duration)"
            )
    return problems


def _trial_design_problems(study: Study) -> list[str]:
    design = study.trial_design
    if design is None:
        return []
    problems = _countries_problems(study)
    visits = {v.id for v in study.visit_schedule.value}
    for index, epoch in enumerate(design.epochs.value):
        if epoch.first_visit not in visits:
            problems.append(
                f"trial_design.epochs.value[{index}].first_visit: {epoch.first_visit!r} is not a "
                f"visit of visit_schedule"
            )
    problems += _treatment_epoch_problems(study)
    # the screening epoch is the screening visit's reach: randomization comes at most so many
    # days after it (what `screen` and `washout` hold a date to, and what the exports say)
    by_id = {v.id: v for v in study.visit_schedule.value}
    for index, epoch in enumerate(design.epochs.value):
        visit = by_id.get(epoch.first_visit)
        if epoch.cdisc.submission_value != "SCREENING" or visit is None:
            continue
        reach = -(visit.day - visit.before.days)
        days = round(epoch.duration.to("day").magnitude)
        if days != reach:
            problems.append(
                f"trial_design.epochs.value[{index}].duration: {epoch.duration.magnitude:g} "
                f"{epoch.duration.units}; expected {reach} day, the screening visit's reach "
                f"before day 1 (visit_schedule: day {visit.day}, window_before "
                f"{visit.window_before})"
            )
    arms = {a.id for a in study.arms}
    unknown = sorted(set(design.arm_codes) - arms)
    if unknown:  # an arm without a code is refused by the exports that need one
        problems.append(
            f"trial_design.arm_codes: {unknown} are not arms; expected some of {sorted(arms)}"
        )
    codes = list(design.arm_codes.values()) + [e.element for e in design.epochs.value if e.element]
    problems += _duplicates("trial_design (element codes)", codes)
    return problems


class Study(_Model):
    schema_version: Literal[1]
    # optional so that an earlier version of the file, from before it was recorded, still reads
    protocol_version: ProtocolVersion | None = None
    references: dict[str, Reference]
    identification: Identification
    status: Status
    design: Design
    population: Population
    interventions: list[Intervention]
    dosing_rules: DosingRules
    presentations: list[Presentation]
    label_requirements: list[LabelRequirement]
    source_documents: Fact[dict[str, SourceDocument]]  # by criterion ID, for the checklist
    visit_schedule: Fact[list[Visit]]
    activity_labels: dict[str, str]  # each visit activity's name for readers
    # the activities only an arm that injects one of its medicines takes (the first injection
    # at the site): an arm of tablets alone does not
    injection_activities: list[str] = []
    lab_analytes: list[LabAnalyte]
    washout_convention: Fact[Literal["boundary_day_excluded"]]
    dose_plausible_range: Fact[RangeText]
    medication_classes: list[MedicationClass]
    corticosteroid_rule: CorticosteroidRule
    exposure_events: list[ExposureEvent]
    criterion_rules: CriterionRules
    acr_eular_2013: Fact[AcrEular]
    skin_score: Fact[SkinScore]
    egfr_equation: Fact[EgfrEquation]
    arms: list[Arm]
    # optional so that an earlier version of the file, from before it was recorded, still reads
    trial_design: TrialDesign | None = None
    sites: Fact[list[Site]]
    primary_outcome: Fact[Outcome]
    other_outcomes: list[Fact[Outcome]]
    criteria: list[Criterion]
    protocol_issues: list[ProtocolIssue]

    @model_validator(mode="after")
    def _consistent(self) -> Study:
        problems: list[str] = []
        problems += _criteria_problems(self.criteria)
        known_criteria = {c.id for c in self.criteria}
        for index, issue in enumerate(self.protocol_issues):
            for criterion in issue.criteria:
                if criterion not in known_criteria:
                    problems.append(
                        f"protocol_issues[{index}].criteria: {criterion!r} is not a criterion ID "
                        f"of 'criteria'"
                    )
        problems += _duplicates("protocol_issues", [i.id for i in self.protocol_issues])
        problems += _duplicates(
            "protocol_issues (rule)", [i.rule for i in self.protocol_issues if i.rule]
        )
        problems += _duplicates("interventions", [i.id for i in self.interventions])
        problems += _duplicates("arms", [a.id for a in self.arms])
        problems += _catalogue_problems(self, known_criteria)
        class_ids = {g.id for g in self.medication_classes}
        for index, group in enumerate(self.medication_classes):
            for other in group.aliases_also_name:
                if other not in class_ids or other == group.id:
                    problems.append(
                        f"medication_classes[{index}].aliases_also_name: {other!r} is not "
                        f"another class id; expected one of {sorted(class_ids - {group.id})}"
                    )
        intervention_ids = {i.id for i in self.interventions}
        for index, presentation in enumerate(self.presentations):
            if presentation.intervention not in intervention_ids:
                problems.append(
                    f"presentations[{index}].intervention: {presentation.intervention!r} is not "
                    f"an intervention id; expected one of {sorted(intervention_ids)}"
                )
        analytes = {a.name for a in self.lab_analytes}
        needed = [name for name in RULE_ANALYTES if name not in analytes]
        if needed:  # the rules read these by name: without one, screen could not run
            problems.append(
                f"lab_analytes: {', '.join(needed)} missing; expected every analyte the "
                f"criteria's rules read ({', '.join(RULE_ANALYTES)})"
            )
        documented = set(self.source_documents.value)
        if documented != known_criteria:
            missing = ", ".join(sorted(known_criteria - documented))
            unknown = ", ".join(sorted(documented - known_criteria))
            said = [f"none for {missing}"] if missing else []
            said += [f"one for {unknown}, which is no criterion of the study"] if unknown else []
            problems.append(
                "source_documents.value: every criterion needs one source document, and each "
                f"document a criterion; {'; '.join(said)}"
            )
        problems += _duplicates("label_requirements", [r.id for r in self.label_requirements])
        for index, requirement in enumerate(self.label_requirements):
            if requirement.intervention not in intervention_ids:
                problems.append(
                    f"label_requirements[{index}].intervention: {requirement.intervention!r} is "
                    f"not an intervention id; expected one of {sorted(intervention_ids)}"
                )
        visits = self.visit_schedule.value
        problems += _duplicates("visit_schedule.value", [v.id for v in visits])
        days = [v.day for v in visits]
        if days != sorted(days):
            problems.append("visit_schedule.value: visits are not in order of their day")
        for index, visit in enumerate(visits):
            for activity in visit.activities:
                if activity not in self.activity_labels:
                    problems.append(
                        f"visit_schedule.value[{index}].activities: {activity!r} has no entry "
                        f"in activity_labels"
                    )
        for activity in self.injection_activities:
            if activity not in self.activity_labels:
                problems.append(
                    f"injection_activities: {activity!r} has no entry in activity_labels"
                )
        problems += _trial_design_problems(self)
        problems += _registry_vocabulary_problems(self)
        population = self.population
        if population.sex.value not in ("ALL", "FEMALE", "MALE"):
            # the registry's vocabulary; IN01 applies FEMALE or MALE (screening.SEX_ADMITTED)
            problems.append(
                f"population.sex: {population.sex.value!r}; expected ALL, FEMALE or MALE (the "
                "registry's terms)"
            )
        if population.minimum_age.value > population.maximum_age.value:
            problems.append(
                f"population.minimum_age {population.minimum_age.value} is above "
                f"population.maximum_age {population.maximum_age.value}: no one could be eligible"
            )
        problems += _score_limit_problems(self)
        problems += _schedule_and_arm_problems(self)
        if self.design.enrollment.value <= 0:
            problems.append(
                f"design.enrollment: {self.design.enrollment.value}; expected a positive count"
            )
        for index, intervention in enumerate(self.interventions):
            if intervention.dose.value.magnitude <= 0:
                problems.append(
                    f"interventions[{index}].dose: {intervention.dose.value}; expected a "
                    "positive dose"
                )
        if self.status.start_date.value > self.status.completion_date.value:
            problems.append(
                f"status.start_date {self.status.start_date.value} is after "
                f"status.completion_date {self.status.completion_date.value}"
            )
        analyte_names = [a.name for a in self.lab_analytes]
        problems += _duplicates("lab_analytes", analyte_names)
        for index, analyte in enumerate(self.lab_analytes):
            if analyte.criterion not in known_criteria:
                problems.append(
                    f"lab_analytes[{index}].criterion: {analyte.criterion!r} is not a criterion ID"
                )
            if analyte.computes and analyte.computes != "egfr":
                # the one computation the rules make: eGFR by the study's equation
                problems.append(
                    f"lab_analytes[{index}].computes: {analyte.computes!r}; expected 'egfr' (the "
                    "only value the rules compute from another, by egfr_equation)"
                )
            elif analyte.computes and analyte.computes not in analyte_names:
                problems.append(
                    f"lab_analytes[{index}].computes: {analyte.computes!r} is not an analyte; "
                    f"expected one of {analyte_names}"
                )
        names = {f"{i.type.value.title()}: {i.name.value}" for i in self.interventions}
        for index, arm in enumerate(self.arms):
            for name in arm.intervention_names.value:
                if name not in names:
                    problems.append(
                        f"arms[{index}].intervention_names.value: {name!r} names no "
                        f"intervention; expected one of {sorted(names)}"
                    )
        for path, fact in iter_facts(self):
            if fact.source and fact.source not in self.references:
                problems.append(
                    f"{path}.source: {fact.source!r} is not a key of 'references'; "
                    f"expected one of {sorted(self.references)}"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -- lookups the chapters and the CLI use ------------------------------------------------
    def intervention(self, intervention_id: str) -> Intervention:
        for intervention in self.interventions:
            if intervention.id == intervention_id:
                return intervention
        raise KeyError(
            f"no intervention {intervention_id!r}; expected one of "
            f"{[i.id for i in self.interventions]}"
        )

    def arm_interventions(self, arm: Arm) -> list[Intervention]:
        by_name = {f"{i.type.value.title()}: {i.name.value}": i for i in self.interventions}
        return [by_name[name] for name in arm.intervention_names.value]

    def lab_analyte(self, name: str) -> LabAnalyte:
        for analyte in self.lab_analytes:
            if analyte.name == name:
                return analyte
        raise KeyError(name)

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(f"no criterion {criterion_id!r}")

    def issue_for(self, rule: str) -> str:
        """The issues log's entry for a reading the engine applies (``boundary_day`` -> ``PI20``):
        the sentences cite it by its current number, never a typed one."""
        for issue in self.protocol_issues:
            if issue.rule == rule:
                return issue.id
        raise KeyError(f"no protocol issue has rule {rule!r}")


def normalise_name(name: str) -> str:
    """How medicine names are compared (protocol.inputs.normalise_name: NFKC, case-folded,
    spaces, hyphens and apostrophes do not matter)."""
    from protocol.inputs import normalise_name as normalise

    return normalise(name)


def _catalogue_problems(study: Study, known_criteria: set[str]) -> list[str]:
    problems = _duplicates("medication_classes", [c.id for c in study.medication_classes])
    problems += _duplicates("exposure_events", [e.kind for e in study.exposure_events])
    seen: dict[str, str] = {}
    for index, group in enumerate(study.medication_classes):
        where = f"medication_classes[{index}]"
        if group.criterion not in known_criteria:
            problems.append(f"{where}.criterion: {group.criterion!r} is not a criterion ID")
        names = [(f"{where}.aliases", a) for a in group.aliases]
        for d_index, drug in enumerate(group.drugs):
            at = f"{where}.drugs[{d_index}]"
            names += [(f"{at}.name", drug.name), (f"{at}.chinese_name", drug.chinese_name or "")]
            names += [(f"{at}.aliases", a) for a in drug.aliases]
            names += [(f"{at}.brand_names", b) for b in drug.brand_names]
            if group.rule == "corticosteroid" and drug.prednisone_5mg_equivalent is None:
                problems.append(f"{at}: a corticosteroid needs 'prednisone_5mg_equivalent'")
            equivalent = drug.prednisone_5mg_equivalent
            if equivalent is not None and not equivalent.value.magnitude > 0:
                problems.append(  # every dose is divided by it
                    f"{at}.prednisone_5mg_equivalent: {equivalent.value:P}; expected a positive "
                    "mass"
                )
        for path, name in names:
            key = normalise_name(name)
            if not key:
                continue
            if key in seen and seen[key] != group.id:
                problems.append(f"{path}: {name!r} also names a medicine of {seen[key]!r}")
            seen[key] = group.id
    for index, event in enumerate(study.exposure_events):
        for criterion in [event.criterion, *event.also_criteria]:
            if criterion not in known_criteria:
                problems.append(
                    f"exposure_events[{index}].criterion: {criterion!r} is not a criterion ID"
                )
    return problems


def _duplicates(field: str, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for index, identifier in enumerate(ids):
        if identifier in seen:
            problems.append(f"{field}[{index}].id: {identifier!r} is a duplicate; IDs are unique")
        seen.add(identifier)
    return problems


def _criteria_problems(criteria: list[Criterion]) -> list[str]:
    """IDs must be IN01.. then EX01.., consecutive, in registry order, each once."""
    problems = _duplicates("criteria", [c.id for c in criteria])
    # each prefix's n-th ID must be its number n: the first that is not is named, with the ID
    # its place needs, and no later one of that prefix (after a gap or a move every later place
    # is off because of it; measured from the found number instead, two swapped IDs named a
    # third, correct one as out of order, expecting the wrong ID)
    expected_next = {"IN": 1, "EX": 1}
    misplaced: set[str] = set()
    seen_exclusion = False
    for index, criterion in enumerate(criteria):
        match = CRITERION_ID.match(criterion.id)
        if not match:
            problems.append(
                f"criteria[{index}].id: {criterion.id!r} is not a criterion ID; expected IN or EX "
                f"and two digits, e.g. 'IN01', 'EX24'"
            )
            continue
        prefix, number = match.group(1), int(match.group(2))
        if prefix == "EX":
            seen_exclusion = True
        elif seen_exclusion:
            problems.append(
                f"criteria[{index}].id: {criterion.id!r} follows an exclusion; inclusion "
                f"criteria come first, in registry order"
            )
        if number != expected_next[prefix] and prefix not in misplaced:
            misplaced.add(prefix)  # one per prefix: the rest follow from this one
            problems.append(
                f"criteria[{index}].id: {criterion.id!r} is out of order; expected "
                f"'{prefix}{expected_next[prefix]:02d}' (registry order, no gaps)"
            )
        expected_next[prefix] += 1
    return problems


def iter_facts(model: Any, path: str = "") -> Any:
    """Yield ``(yaml_path, fact)`` for every Fact in a model, depth first, in field order."""
    if isinstance(model, Fact):
        yield path, model
        return
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            yield from iter_facts(getattr(model, name), f"{path}.{name}" if path else name)
    elif isinstance(model, list):
        for index, item in enumerate(model):
            yield from iter_facts(item, f"{path}[{index}]")
    elif isinstance(model, dict):
        for key, item in model.items():
            yield from iter_facts(item, f"{path}.{key}")


# -- loading --------------------------------------------------------------------------------


#: ClinicalTrials.gov's terms for a study's phase and overall status (its data element
#: definitions): an amendment writes one of them, or the exports and checks cannot read it.
REGISTRY_PHASES = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA")
REGISTRY_STATUSES = (
    "NOT_YET_RECRUITING", "RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING",
    "SUSPENDED", "TERMINATED", "COMPLETED", "WITHDRAWN", "UNKNOWN",
)  # fmt: skip
#: The most participants an interventional trial's enrollment is read as (a typing slip of
#: extra digits beyond it is refused, not exported).
MAXIMUM_ENROLLMENT = 1_000_000


def _registry_vocabulary_problems(study: Study) -> list[str]:
    """The design and status facts in the registry's own terms, and within plausible bounds."""
    from protocol.inputs import EARLIEST_DATE, LATEST_DATE

    problems = []
    phase = study.design.phase.value
    if phase not in REGISTRY_PHASES:
        problems.append(
            f"design.phase: {phase!r}; expected one of {', '.join(REGISTRY_PHASES)} (the "
            "registry's terms)"
        )
    status = study.status.overall_status.value
    if status not in REGISTRY_STATUSES:
        problems.append(
            f"status.overall_status: {status!r}; expected one of {', '.join(REGISTRY_STATUSES)} "
            "(the registry's terms)"
        )
    enrollment = study.design.enrollment.value
    if not 1 <= enrollment <= MAXIMUM_ENROLLMENT:
        problems.append(
            f"design.enrollment: {enrollment}; expected a count of participants from 1 to "
            f"{MAXIMUM_ENROLLMENT:,}"
        )
    for name in ("start_date", "completion_date", "last_update"):
        day = getattr(study.status, name).value
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            problems.append(
                f"status.{name}: {day.isoformat()}; expected a date from "
                f"{EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}"
            )
    if study.status.start_date.value > study.status.completion_date.value:
        problems.append(
            f"status.completion_date {study.status.completion_date.value.isoformat()} is before "
            f"status.start_date {study.status.start_date.value.isoformat()}"
        )
    return problems


#: The NCI codes of the CDISC route terms (CT codelist ROUTE, C66729) an amendment may use.
_ROUTE_CODES = {
    "ORAL": "C38288",
    "SUBCUTANEOUS": "C38299",
    "INTRAVENOUS": "C38276",
    "INTRAVENOUS BOLUS": "C38274",
    "INTRAVENOUS DRIP": "C38279",
    "INTRAMUSCULAR": "C28161",
    "TOPICAL": "C38304",
    "INTRADERMAL": "C38238",
}


def _schedule_and_arm_problems(study: Study) -> list[str]:
    """An amended study the rules would read wrongly: an age limit that is not whole years (the
    age is counted in completed years, so 18.5 would be read as 18), a screening visit missing
    or not wholly before day 1 (the washout reads randomization's latest date from it), an arm
    with no intervention or one twice (its doses would be given twice), a route whose CDISC
    term is another route's."""
    problems = []
    for name in ("minimum_age", "maximum_age"):
        age = getattr(study.population, name).value
        # in years as written (pint's year is 365.25 days: '25567.5 day' would be read as 70
        # years, and '840 month' exported as P840M)
        if str(age.units) != "year" or not float(age.magnitude).is_integer():
            problems.append(
                f"population.{name}: {age.magnitude} {age.units}; expected whole years such "
                "as '70 year' (the age is counted in completed years)"
            )
    visits = {v.id: v for v in study.visit_schedule.value}
    screening = visits.get("screening")
    if screening is None:
        problems.append(
            "visit_schedule.value: no visit with id 'screening'; expected the screening visit "
            "(the washout and the calendar count from it)"
        )
    elif screening.day >= 1 or screening.day + screening.after.days >= 1:
        problems.append(
            f"visit_schedule.value[id=screening]: day {screening.day} with window_after "
            f"{screening.window_after}; expected a screening window wholly before day 1 "
            "(randomization)"
        )
    randomization = visits.get("randomization")
    if randomization is not None and (
        randomization.day != 1 or randomization.before.days or randomization.after.days
    ):
        # the calendar counts every dose from day 1, the randomization day: a visit named so on
        # another day (or over several) would show "Randomization" off the first dose's day
        problems.append(
            f"visit_schedule.value[id=randomization]: day {randomization.day} with windows "
            f"{randomization.window_before} and {randomization.window_after}; expected day 1 "
            "with no window (P0D): randomization is day 1, the first dose's day"
        )
    labels = [arm.label.value.strip().casefold() for arm in study.arms]
    for index, arm in enumerate(study.arms):
        if labels.index(labels[index]) != index:
            problems.append(
                f"arms[{index}].label: {arm.label.value!r}; expected a label of its own (another "
                "arm has it, and an arm is named by its label)"
            )
        names = arm.intervention_names.value
        if not names and arm.type.value != "NO_INTERVENTION":
            problems.append(
                f"arms[{index}].intervention_names.value: empty; expected one at least (only an "
                "arm of type NO_INTERVENTION has none)"
            )
        elif len(set(names)) < len(names):
            problems.append(
                f"arms[{index}].intervention_names.value: {names}; expected each intervention "
                "once (its doses would be given twice)"
            )
    for index, intervention in enumerate(study.interventions):
        route = intervention.route.value.strip().upper()
        cdisc = intervention.route_cdisc.value
        term = cdisc.submission_value.strip().upper()
        if not term.startswith(route):  # INTRAVENOUS DRIP is an intravenous route
            problems.append(
                f"interventions[{index}].route_cdisc: {term}; expected the CDISC term of the "
                f"route {route}"
            )
        elif _ROUTE_CODES.get(term, cdisc.code) != cdisc.code:
            problems.append(
                f"interventions[{index}].route_cdisc.code: {cdisc.code}; expected "
                f"{_ROUTE_CODES[term]}, the NCI code of {term} (CDISC CT ROUTE)"
            )
    return problems


def _score_limit_problems(study: Study) -> list[str]:
    """The ACR/EULAR weights and minimum and the mRSS minimum must be scores a patient can
    have: a negative weight lowers a total, a minimum above the highest total (28 points; 51
    for the mRSS, 17 areas graded 0-3) classifies nobody, and IN02 and IN05 would then exclude
    everyone without a word that the amendment is at fault."""
    problems = []
    acr = study.acr_eular_2013.value
    for index, category in enumerate(acr.categories):
        for item, weight in category.items.items():
            if weight <= 0:
                problems.append(
                    f"acr_eular_2013.value.categories[{index}].items.{item}: {weight}; expected "
                    "a positive weight (points a met item adds)"
                )
    highest = sum(max(c.items.values(), default=0) for c in acr.categories)
    minimum = study.criterion_rules.acr_eular_minimum.value
    if not 1 <= minimum <= highest:
        problems.append(
            f"criterion_rules.acr_eular_minimum: {minimum}; expected 1 to {highest} (the "
            "highest total the categories' weights give)"
        )
    skin = study.skin_score.value
    most = len(skin.areas) * max(skin.grades, default=0)
    mrss = study.criterion_rules.mrss_minimum.value
    if not 0 <= mrss <= most:
        problems.append(
            f"criterion_rules.mrss_minimum: {mrss}; expected 0 to {most} (the skin score's "
            f"range: {len(skin.areas)} areas graded 0 to {max(skin.grades, default=0)})"
        )
    return problems


def parse_study(data: Any, source: str, node: yaml.Node | None = None) -> Study:
    """A study validated, every text first: one with a control character (a bell, an escape, a
    line break in a label) is refused by its path, since each text is printed, exported (XPT,
    ODM, FHIR, a calendar's CSV and iCalendar) and matched as one line of printable text. A file
    with none of a study's sections (a registry record, a participant record) is refused as
    such, not field by field."""
    if isinstance(data, dict) and data and not set(Study.model_fields) & set(map(str, data)):
        keys = ", ".join(map(str, data))
        raise ProtocolDataError(
            source,
            [
                Problem(
                    "expected a study.yaml, whose top level holds identification, population, "
                    "criteria and the rest of the protocol",
                    path="(top level)",
                    found=keys,
                )
            ],
        )
    problems = [
        Problem(
            "printable text on one line, without control characters or surrogates (a YAML block "
            "scalar, '|' or '>', ends its text with a line break: write it in quotes; write an "
            "emoji or other character as itself, not as a \\u escape)",
            path=path,
            found=repr(text),
        )
        for path, text in _texts_with_controls(data, "")
    ]
    if problems:
        raise ProtocolDataError(source, problems)
    return validate_document(Study, data, source, node, check_personal_data=False)


#: Control characters (C0, DEL, C1), line and paragraph separators (U+2028, U+2029) and the
#: invisible characters that reorder or hide text (bidirectional embeddings, overrides and
#: isolates, U+202A-U+202E and U+2066-U+2069; the zero-width space U+200B; U+FEFF). The joiners
#: and directional marks some scripts need (U+200C-U+200F) are kept. And a surrogate (a YAML
#: escape "\\udcff", or a pair "\\ud83d\\ude00" PyYAML reads as two): no file, CSV or iCalendar
#: can hold one, so a calendar's file could not be written.
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def _texts_with_controls(data: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(data, str):
        if _CONTROL.search(data):
            yield path or "(top level)", data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _texts_with_controls(key, f"{path}.{key}".lstrip(".") + " (its name)")
            yield from _texts_with_controls(value, f"{path}.{key}".lstrip("."))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts_with_controls(value, f"{path}[{index}]")


def load_study(path: Path | str = STUDY_PATH) -> Study:
    """Load and validate study.yaml (the schema and its internal consistency).

    Read once per process and file version (the key includes the file's modification and change
    times, size and inode, so an edited file is read again), and validated once per version of
    the file and the code (kept in the user's cache folder, below). Raises ``ProtocolDataError``
    naming each problem. The cross-check against the stored registry record is a step of its own
    (``protocol.registry_check.load_checked_study``, ``trialbook registry-check``): an amended
    version may differ from the record until the record is updated.
    """
    # an absolute path without resolving links: every rule asks for the study, and resolving
    # costs a system call per path component each time; the stat is what detects an edit
    path = Path(os.path.abspath(path))
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise ProtocolDataError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    # the change time too: an edit that restores the modification time (cp -p, rsync -t)
    # cannot restore it
    return _load_study(path, (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino))


#: What is computed once from a study object (a lab's analytes, the medicine catalogue's index),
#: kept per object, so a variant study gets its own and never the default's. The study is kept
#: with its entries so that its id is not reused while they exist.
_DERIVED: dict[int, tuple[Study, dict[str, Any]]] = {}


def derived(study: Study, name: str, build: Callable[[Study], T]) -> T:
    """``build(study)``, computed once per study object and per ``name``."""
    entry = _DERIVED.get(id(study))
    if entry is None or entry[0] is not study:
        if len(_DERIVED) > 32:
            _DERIVED.clear()
        entry = _DERIVED[id(study)] = (study, {})
    values = entry[1]
    if name not in values:
        values[name] = build(study)
    return values[name]  # type: ignore[no-any-return]


def admitted_ages(study: Study) -> tuple[int, int]:
    """The ages IN01 admits, in completed years (18 and 70): worked out once per study (each
    creatinine's eGFR asks for them, in `screen`, `prescreen` and `lab`)."""

    def years(study: Study) -> tuple[int, int]:
        population = study.population
        return (
            int(population.minimum_age.value.to("year").magnitude),
            int(population.maximum_age.value.to("year").magnitude),
        )

    return derived(study, "admitted_ages", years)


def admitted_sexes(study: Study) -> list[str]:
    """The sexes IN01 admits, as a record writes them: both in this trial ("Men or women"),
    one where an amendment enrols one sex (``population.sex: FEMALE``). A creatinine's eGFR
    without a recorded sex is read at each of them, as at the ages IN01 admits."""
    one = {"FEMALE": "female", "MALE": "male"}.get(study.population.sex.value)
    return [one] if one else ["female", "male"]


@functools.cache
def _load_study(path: Path, _version: tuple[int, ...]) -> Study:
    # read as any document is read (a regular file, of bounded size, UTF-8) before anything else
    text = read_text_file(path, MAX_BYTES)
    cache = _study_cache_file(text)
    study = _cached_study(cache)
    if study is None:
        data, node = parse_yaml_text(text, str(path), fast=True)
        study = parse_study(data, str(path), node)
        _keep_study(cache, study)
    return study


# -- the validated study, kept between processes -------------------------------------------------
#
# Parsing study.yaml (PyYAML's strict Python loader, which keeps every line number) and
# validating it take about a fifth of a one-record `trialbook screen`. The validated study is
# kept in the user's cache folder, keyed by the SHA-256 of the file's bytes, of the code that
# validates it (every module of protocol/: the models, their validators and what they call) and
# of the library versions and data it reads, so an edited file, rule or library validates again.
# A study that fails validation is never kept. Anything wrong with the cache (unwritable,
# damaged, from another version, not a study) only means the file is read and validated as
# usual. TRIALBOOK_NO_STUDY_CACHE=1 turns it off (0 or empty leaves it on).


def _study_cache_file(text: str, code: Path = Path(__file__).parent) -> Path | None:
    import hashlib
    import importlib.util
    import sys

    import isodate
    import pint
    import pydantic
    import yaml as yaml_module

    if os.environ.get("TRIALBOOK_NO_STUDY_CACHE", "0") not in ("", "0"):
        return None
    try:
        digest = hashlib.sha256(text.encode("utf-8"))
        for module in sorted(code.glob("*.py")):
            digest.update(module.name.encode() + b"\0" + module.read_bytes())
        # the country table the sites are validated against (usdm4's, read as a file)
        spec = importlib.util.find_spec("usdm4")
        if spec is not None and spec.submodule_search_locations:
            table = Path(spec.submodule_search_locations[0]) / "ct" / "iso" / "iso3166"
            digest.update((table / "iso3166.json").read_bytes())
        libraries = (
            pydantic.VERSION,
            pint.__version__,
            yaml_module.__version__,
            isodate.__version__,
        )
        digest.update("|".join((sys.version, *libraries)).encode())
        from platformdirs import user_cache_path

        return user_cache_path("trialbook") / f"study-{digest.hexdigest()}.pickle"
    except (OSError, ImportError, ValueError):
        return None


def _cached_study(cache: Path | None) -> Study | None:
    import hashlib
    import pickle

    if cache is None:
        return None
    try:  # an unreadable folder or file, a damaged or foreign cache: read past, never trusted
        if not _own_private_file(cache):
            return None
        content = cache.read_bytes()
        checksum, pickled = content[:_CHECKSUM_BYTES], content[_CHECKSUM_BYTES:]
        if hashlib.sha256(pickled).digest() != checksum:  # damaged since it was written
            return None
        study = pickle.loads(pickled)  # the user's own file, whole as written
    except Exception:
        return None
    if type(study) is not Study:
        return None
    with contextlib.suppress(OSError):
        os.utime(cache)  # recently used: kept when older versions are removed
    return study


#: The SHA-256 of the pickled study, written before it: a file damaged after it was written
#: (a flipped bit in a threshold unpickles as another threshold) is read past.
_CHECKSUM_BYTES = 32


def _own_private_file(path: Path) -> bool:
    """A regular file of this user's that no one else may write, in a folder of this user's
    that no one else may write: only such a file is unpickled (unpickling runs what the file
    says, so a file another user could have put there is never read)."""
    import stat

    file, folder = path.lstat(), path.parent.stat()  # the file itself, not a link's target
    if not (stat.S_ISREG(file.st_mode) and stat.S_ISDIR(folder.st_mode)):
        return False
    return all(
        found.st_uid == os.getuid() and not found.st_mode & 0o022 for found in (file, folder)
    )


def _keep_study(cache: Path | None, study: Study) -> None:
    import hashlib
    import tempfile

    if cache is None:
        return
    try:
        pickled = _pickled(study)
    except Exception:  # a value pickle cannot keep: the next process validates again
        return
    temporary = None
    try:
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache.parent, prefix=".study-")
        with os.fdopen(handle, "wb") as out:
            out.write(hashlib.sha256(pickled).digest() + pickled)
        os.replace(temporary, cache)  # whole or not at all: a reader never sees half a file
        temporary = None
    except Exception:  # an unwritable cache folder: the next process validates again
        return
    finally:  # stopped while writing (Ctrl-C, a termination): no temporary file is left
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    _prune_studies(cache.parent, keep=cache)


def _pickled(study: Study) -> bytes:
    """The study pickled, each model class made from a generic one (``Fact[str]``,
    ``Limit[Duration]``) written by its name: pickle finds a class by the attribute its name
    gives, which these have not."""
    import io
    import pickle

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, type) and _generic_origin(obj) is not None:
                return parametrized_model, (obj.__module__, _parametrized_name(obj))
            return NotImplemented

    buffer = io.BytesIO()
    Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(study)
    return buffer.getvalue()


def _generic_origin(model: type) -> type | None:
    metadata = getattr(model, "__pydantic_generic_metadata__", None)
    return metadata.get("origin") if isinstance(metadata, dict) else None


def _parametrized_name(model: type) -> str:
    """A generic model's parameters in words that are the same in every process: their repr,
    without the memory addresses of the validators' functions (a quantity type is told apart by
    its description: "a mass", "a duration")."""
    metadata = model.__pydantic_generic_metadata__  # type: ignore[attr-defined]
    args = re.sub(r" at 0x[0-9a-fA-F]+", "", repr(metadata["args"]))
    return f"{metadata['origin'].__qualname__}{args}"


def parametrized_model(module: str, name: str) -> type:
    """The model class ``name`` of ``module`` made from a generic model (``Fact[str]``): the
    one made when the module was imported. Raises LookupError unless exactly one has the name."""
    import sys

    from pydantic import BaseModel

    def every_subclass(model: type) -> Iterator[type]:
        for subclass in model.__subclasses__():
            yield subclass
            yield from every_subclass(subclass)

    if module not in sys.modules:
        raise LookupError(f"{module} is not imported")
    found = {
        model
        for model in every_subclass(BaseModel)
        if model.__module__ == module
        and _generic_origin(model) is not None
        and _parametrized_name(model) == name
    }
    if len(found) != 1:
        raise LookupError(f"{len(found)} models of {module} are named {name}")
    return found.pop()


#: Studies kept in the cache folder: one per version of study.yaml read (an amendment, a test's
#: variant), the most recently used first; older ones are removed as a new one is kept, so the
#: folder stays at a few megabytes however many versions are read.
MAX_KEPT_STUDIES = 16


def _prune_studies(folder: Path, keep: Path) -> None:
    with contextlib.suppress(OSError):
        kept = sorted(
            folder.glob("study-*.pickle"),
            key=lambda path: path.stat().st_mtime_ns,
            reverse=True,
        )
        for old in kept[MAX_KEPT_STUDIES:]:
            if old != keep:
                with contextlib.suppress(OSError):
                    old.unlink()
