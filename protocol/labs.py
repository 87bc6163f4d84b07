"""Laboratory thresholds of EX07, EX22 and EX24 as unit-safe checks, in any unit a site reports.

The thresholds, units and molar masses come from study.yaml (``lab_analytes``); conversions are
pint's (one registry; pint's chemistry context, with the analyte's molar mass, where mass <->
substance is needed).

Boundary convention: the registry writes every lab exclusion as a strict comparison ("< 8.0
g/dL", "> 1.5 x ULN"). A value is excluded only when the strict comparison holds; a value
exactly at the threshold passes. The value is compared as reported, converted exactly, never
rounded to the threshold's precision (7.96 g/dL is below 8.0 g/dL). A value within a relative
1e-14 of the threshold after conversion counts as *at* it, so floating-point noise in a unit
conversion (4.9648 mmol/L -> 7.999999999999999 g/dL) never decides a participant's
eligibility, while any difference a laboratory reports does: a value has at most twelve
significant digits (more are refused), so it is never that close to a threshold it is not at.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

import pint

from protocol.errors import LabInputError
from protocol.facts import _RANGE_TEXT, QuantityRange, Status, Threshold
from protocol.inputs import read_decimal
from protocol.study import LabAnalyte, Study, admitted_ages, admitted_sexes, derived, load_study
from protocol.units import convert, format_unit, quoted, read_unit, ureg

Sex = Literal["female", "male"]

#: Relative distance from a threshold within which a converted value counts as *at* it: about
#: 45 units in the last place of a double, far above the rounding of a unit conversion, and a
#: hundred times below the distance of any value of at most 12 significant digits (what a value
#: may have, protocol.inputs) from a threshold it is not at. (It was 1e-12 with an absolute
#: 1e-12 beside it, and 7.999999999999 g/dL counted as 8.)
BOUNDARY_TOLERANCE = 1e-14

#: Spellings that mean different things in different labs; the analyte's quantity decides.
#: "G/L" is grams per litre for haemoglobin and giga (10^9) per litre for a cell count.
AMBIGUOUS_UNITS: dict[str, tuple[str, ...]] = {"G/L": ("g/L", "10^9/L")}


@dataclass(frozen=True)
class Analyte:
    """One analyte's check, built from its study.yaml entry."""

    name: str
    label: str
    short_label: str
    criterion: str
    threshold: Threshold | None
    computes: str | None
    protocol_unit: pint.Unit
    value_unit: pint.Unit
    si_unit: pint.Unit | None
    accepted_units: tuple[str, ...]
    # pint's "chemistry" context with this analyte's molar mass, where mass <-> substance is
    # converted; empty otherwise
    molar_mass: pint.Quantity | None
    plausible: QuantityRange | None = None
    uln_plausible: QuantityRange | None = None
    # units already read for this analyte (each text once), kept with the analyte of its study
    parsed_units: dict[tuple[str, str], pint.Quantity] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    # what is computed once from the analyte's own facts (its threshold in its protocol unit,
    # whether a unit text is the protocol unit)
    computed: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def relative_to_uln(self) -> bool:
        # asked for every lab value screened; pint writes a unit out anew at each str()
        if "relative_to_uln" not in self.computed:
            self.computed["relative_to_uln"] = str(self.protocol_unit) == "times_ULN"
        return self.computed["relative_to_uln"]  # type: ignore[no-any-return]

    @property
    def threshold_magnitude(self) -> float:
        assert self.threshold is not None
        if "threshold" not in self.computed:
            self.computed["threshold"] = float(
                self.threshold.quantity.to(self.protocol_unit).magnitude
            )
        return self.computed["threshold"]  # type: ignore[no-any-return]

    def accepted(self) -> str:
        return ", ".join(self.accepted_units)

    def convert(self, quantity: pint.Quantity, unit: Any) -> pint.Quantity:
        """``quantity`` in ``unit``, through pint's chemistry context with this analyte's molar
        mass when mass and substance concentrations meet (g/dL <-> mmol/L)."""
        return convert(quantity, unit, self.molar_mass)

    @classmethod
    def from_study(cls, entry: LabAnalyte) -> Analyte:
        match = re.search(r"\(([A-Za-z]{2,6})\)$", entry.label)
        short = match.group(1) if match and re.search("[A-Z]", match.group(1)) else entry.label
        return cls(
            name=entry.name,
            label=entry.label,
            short_label=short,
            criterion=entry.criterion,
            threshold=entry.threshold.value if entry.threshold else None,
            computes=entry.computes,
            protocol_unit=ureg.Unit(entry.protocol_unit),
            value_unit=ureg.Unit(entry.report_unit or entry.protocol_unit),
            si_unit=ureg.Unit(entry.si_unit) if entry.si_unit else None,
            accepted_units=tuple(entry.accepted_units),
            molar_mass=entry.conversion_molar_mass,
            plausible=entry.plausible_range.value,
            uln_plausible=entry.uln_plausible_range.value if entry.uln_plausible_range else None,
        )


def analytes(study: Study | None = None) -> dict[str, Analyte]:
    """Every analyte of the study (study.yaml by default) by canonical name, in its order; built
    once per study object, so a variant study's thresholds are its own."""
    return derived(
        study or load_study(),
        "analytes",
        lambda s: {entry.name: Analyte.from_study(entry) for entry in s.lab_analytes},
    )


def get_analyte(name: str, study: Study | None = None) -> Analyte:
    known = analytes(study)
    key = str(name).strip().lower()
    if key not in known:
        raise LabInputError(f"unknown analyte {quoted(name)}; expected one of {', '.join(known)}")
    return known[key]


# -- parsing what a person typed --------------------------------------------------------------


def parse_number(analyte: Analyte, value: Any, what: str = "value") -> float:
    """A finite, non-negative decimal (protocol.inputs.read_decimal), or a LabInputError."""
    field = {"value": "value", "ULN": "uln"}.get(what)
    try:
        number = read_decimal(value)
    except ValueError as exc:
        raise LabInputError(
            f"{analyte.label}: the {what} {exc}; in a unit such as {analyte.accepted()}", field
        ) from None
    # a number as the site wrote it (-121, not -121.0); a text as typed, quoted
    written = repr(value) if isinstance(value, str) else as_given(number)
    if number < 0:
        raise LabInputError(
            f"{analyte.label}: the {what} {written} is negative; expected zero or more (a "
            "concentration, count or percentage)",
            field,
        )
    return number


def uln_analytes(study: Study | None = None) -> str:
    """The analytes read against a site's upper limit of normal, as a sentence names them
    ("ALT, AST and total bilirubin"): from study.yaml, so an amendment's list is its own."""
    names = []
    for analyte in analytes(study).values():
        if analyte.relative_to_uln:
            plain = re.sub(r"\s*\(.*\)$", "", analyte.label)
            short = analyte.short_label
            # an abbreviation in capitals reads as itself (ALT); another as its words
            names.append(
                short if short.isupper() and short != plain else plain[:1].lower() + plain[1:]
            )
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def read_uln(analyte: Analyte, uln: Any, study: Study | None = None) -> float:
    """A ULN given with one of this analyte's results, as a number; LabInputError where no ULN
    applies, or when it is negative or zero (its unit and plausibility are read with it)."""
    if not analyte.relative_to_uln:
        raise LabInputError(
            f"{analyte.label}: no upper limit of normal (a ULN applies only to "
            f"{uln_analytes(study)})",
            "uln",
        )
    number = parse_number(analyte, uln, what="ULN")
    if number == 0:
        written = repr(uln) if isinstance(uln, str) else as_given(number)
        raise LabInputError(
            f"{analyte.label}: the ULN {written} is zero; expected a positive upper limit of "
            "normal",
            "uln",
        )
    return number


def parse_unit(
    analyte_name: str, unit_text: str, what: str = "unit", study: Study | None = None
) -> pint.Quantity:
    """The unit a person typed, as a pint Quantity of 1 unit (``×10⁹/L`` -> 1e9 1/L).

    The text is read by protocol.units.read_unit (a vocabulary, never an expression). Raises
    LabInputError for an unknown unit or one of the wrong quantity for the analyte; a
    percent-of-predicted analyte takes only percent or a fraction.
    """
    return read_analyte_unit(get_analyte(analyte_name, study), unit_text, what)


def read_analyte_unit(analyte: Analyte, unit_text: str, what: str = "unit") -> pint.Quantity:
    """:func:`parse_unit` for an analyte already looked up; each text is read once."""
    key = (str(unit_text), what)
    if key not in analyte.parsed_units:
        analyte.parsed_units[key] = _read_analyte_unit(analyte, str(unit_text), what)
    return analyte.parsed_units[key]


def _read_analyte_unit(analyte: Analyte, unit_text: str, what: str) -> pint.Quantity:
    # any white space around it, as a record's text is read (a tab or no-break space an export
    # leaves at a cell's edge); a control character within it is refused by read_unit
    text = str(unit_text).strip()
    if not text:
        raise LabInputError(
            f"{analyte.label}: no {what} given; expected a unit such as {analyte.accepted()}",
            "unit" if what == "unit" else "uln_unit",
        )
    candidates = AMBIGUOUS_UNITS.get(text, (text,))
    known = False
    why = ""  # the vocabulary's own reason, where it gives one ("10^3 g/L", "10E9/L")
    for candidate in candidates:
        try:
            unit = read_unit(candidate)
        except ValueError as exc:
            why = str(exc).removeprefix(f"{quoted(candidate)}: ") if len(candidates) == 1 else ""
            why = "" if why == str(exc) else why
            continue
        known = True
        if str(analyte.protocol_unit) == "percent_predicted" and str(unit.units) not in (
            "percent_predicted",
            "dimensionless",
        ):
            continue
        try:
            analyte.convert(unit, analyte.value_unit)
        except pint.DimensionalityError:
            continue
        return unit
    problem = (
        "is of the wrong kind for this analyte"
        if known
        else f"is not read ({why})"
        if why
        else "is not a unit the book knows"
    )
    raise LabInputError(
        f"{analyte.label}: the {what} {quoted(text)} {problem}; expected a unit such as "
        f"{analyte.accepted()}",
        "unit" if what == "unit" else "uln_unit",
    )


def check_plausible(
    analyte: Analyte, quantity: pint.Quantity, number: float, unit: str, uln: bool = False
) -> None:
    """Refuse a value outside the analyte's plausible range (study.yaml), as an EDC hard edit
    check does: "implausible: check the value and its unit"."""
    plausible = analyte.uln_plausible if uln else analyte.plausible
    if plausible is None or plausible.contains(analyte.convert(quantity, plausible.low.units)):
        return
    what = "upper limit of normal" if uln else "value"
    given = f"{as_given(number)} {unit.strip()}"
    shown = analyte.convert(quantity, analyte.value_unit)

    def outside(text: str) -> bool:  # the shown number is implausible too, not rounded in
        again = ureg.Quantity(float(text), shown.units)
        return not plausible.contains(analyte.convert(again, plausible.low.units))

    digits = next(
        (_plain(shown.magnitude, d) for d in range(4, 16) if outside(_plain(shown.magnitude, d))),
        repr(shown.magnitude),
    )
    in_range_unit = f"{digits} {format_unit(shown.units)}"
    same = math.isclose(shown.magnitude, number, rel_tol=1e-9)
    converted = "" if same else f" (= {in_range_unit})"
    raise LabInputError(
        f"{analyte.label}: the {what} {given}{converted} is implausible: check the value and "
        f"its unit; expected {plausible}",
        "uln" if uln else "value",
    )


def check_value(name: str, value: Any, unit: str, study: Study | None = None) -> pint.Quantity:
    """Read a value and its unit strictly and refuse an implausible one, without comparing it
    with a threshold (a value whose ULN is not recorded is still checked this far)."""
    analyte = get_analyte(name, study)
    number = parse_number(analyte, value)
    quantity = to_value_unit(analyte, number, unit or "")
    check_plausible(analyte, quantity, number, str(unit))
    return quantity


def to_value_unit(
    analyte: Analyte, value: float, unit_text: str, what: str = "unit"
) -> pint.Quantity:
    """``value unit_text`` as a Quantity in the analyte's value unit (pint does the conversion)."""
    quantity = value * read_analyte_unit(analyte, unit_text, what)
    return analyte.convert(quantity, analyte.value_unit)


# -- eGFR ------------------------------------------------------------------------------------


def _ckd_epi(scr_mg_dl: Any, age_years: Any, female: Any, study: Study | None = None) -> Any:
    """CKD-EPI 2021 on plain numbers or numpy arrays: one equation for the scalar and the
    vectorized paths. Plain numbers are computed with Python's own operations, so a one-record
    command never loads numpy (about a sixth of its time)."""
    eq = (study or load_study()).egfr_equation.value
    if all(isinstance(x, int | float) for x in (scr_mg_dl, age_years, female)):
        return _ckd_epi_terms(
            float(scr_mg_dl), float(age_years), female, eq, lambda c, a, b: a if c else b, min, max
        )
    import numpy as np

    return _ckd_epi_terms(
        np.asarray(scr_mg_dl, dtype=float),
        np.asarray(age_years, dtype=float),
        female,
        eq,
        np.where,
        np.minimum,
        np.maximum,
    )


def _ckd_epi_terms(
    scr: Any,
    age: Any,
    female: Any,
    eq: Any,
    where: Callable[[Any, Any, Any], Any],
    minimum: Callable[[Any, Any], Any],
    maximum: Callable[[Any, Any], Any],
) -> Any:
    """The equation itself (Inker 2021), over numbers or arrays by the operations given."""
    ratio = scr / where(female, eq.kappa_female, eq.kappa_male)
    return (
        eq.constant
        * minimum(ratio, 1.0) ** where(female, eq.alpha_female, eq.alpha_male)
        * maximum(ratio, 1.0) ** eq.exponent_above
        * eq.age_base**age
        * where(female, eq.female_factor, 1.0)
    )


#: an age as a person or a form writes it: completed years in digits only
_WHOLE_YEARS = re.compile(r"-?[0-9]+")  # a negative one is refused by the range


def parse_age_and_sex(
    age_years: Any, sex: Any, study: Study | None = None, any_age: bool = False
) -> tuple[float, Sex]:
    """The age (whole years, an adult's unless ``any_age``: 0 to 120) and the sex CKD-EPI 2021
    reads."""
    if age_years is None or sex is None:
        needed = [
            words
            for words, absent in (
                ("the age in completed years", age_years is None),
                ("the sex (female or male)", sex is None),
            )
            if absent
        ]
        raise LabInputError(f"Serum creatinine: eGFR by CKD-EPI 2021 needs {' and '.join(needed)}")
    try:
        age = read_decimal(age_years)
    except ValueError:
        raise LabInputError(
            f"Serum creatinine: the age {quoted(age_years)} is not a number; expected the age in "
            "completed years, such as 46"
        ) from None
    study = study or load_study()
    if not float(age).is_integer():
        raise LabInputError(
            f"Serum creatinine: the age {age_years!r} is not in whole years; expected the age in "
            f"completed years, as screening counts it ({study.issue_for('age_on_screening_date')})"
        )
    # completed years are written in digits: "1e1", "+46", "46.0" or "٤٦" are not read as one
    if isinstance(age_years, str) and not _WHOLE_YEARS.fullmatch(age_years.strip()):
        raise LabInputError(
            f"Serum creatinine: the age {quoted(age_years)} is not written as whole years; "
            "expected the age in completed years, in digits, such as 46"
        )
    minimum = 0 if any_age else study.egfr_equation.value.minimum_age
    if age < minimum or age > 120:
        raise LabInputError(
            f"Serum creatinine: the age {age_years!r} is outside {minimum}-120 years; "
            + ("expected an age in completed years" if any_age else "CKD-EPI 2021 is for adults")
        )
    # the words the record takes, in any case: an abbreviation (F, M) is refused, as prescreen
    # and the record refuse it, never guessed
    sex_text = str(sex).strip().lower()
    if sex_text in ("female", "male"):
        return age, sex_text  # type: ignore[return-value]
    raise LabInputError(f"Serum creatinine: the sex {quoted(sex)} is not one of: female, male")


def egfr_ckd_epi_2021(
    creatinine: pint.Quantity, age_years: float, sex: Sex, study: Study | None = None
) -> pint.Quantity:
    """eGFR in mL/min/1.73 m² from serum creatinine (any mass or molar unit), age and sex."""
    scr = get_analyte("creatinine", study).convert(creatinine, "mg/dL").magnitude
    value = float(_ckd_epi(scr, age_years, sex == "female", study))
    return ureg.Quantity(value, "mL_per_min_per_1_73_m2")


# -- the check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabResult:
    """One lab value checked against its protocol threshold."""

    analyte: str
    label: str
    value: float | None
    unit: str | None
    value_in_protocol_unit: float | None
    protocol_unit: str
    threshold: str
    status: Status
    criterion: str
    reason: str
    on_boundary: bool = False
    uln: float | None = None
    uln_unit: str | None = None
    egfr: float | None = None
    egfr_age: int | None = None  # the age the eGFR was read at

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: float, threshold: float | None = None) -> str:
    """A number with enough significant digits to show on which side of the threshold it is
    (four at least, so a converted value is never rounded out of recognition)."""
    for digits in range(4, 16):
        text = _plain(value, digits)
        if threshold is None or _is_at(value, threshold):
            return text
        shown = float(text)
        if shown != threshold and (shown < threshold) == (value < threshold):
            return text
    return repr(value)


#: Beyond these a number is written with its exponent (1e+308, not 309 digits): no value of a
#: record is so large or so small (text with an exponent beyond ±15 is refused), but a typed
#: cell of a workbook or a Parquet file can hold one
_PLAIN_LARGEST, _PLAIN_SMALLEST = 1e21, 1e-20


def _plain(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, without an exponent (1250, not 1.25e+03)."""
    if not _PLAIN_SMALLEST <= abs(value) < _PLAIN_LARGEST and value:
        return f"{value:.{digits}g}"
    return format(Decimal(f"{value:.{digits}g}"), "f")  # "g" leaves no trailing zeros


def as_given(number: float) -> str:
    """A number as the site reported it: its shortest decimal, every digit kept (a value just
    under a threshold is never shown rounded onto it), without an exponent or trailing zeros
    (a number too large or too small to write so keeps its exponent)."""
    if not _PLAIN_SMALLEST <= abs(number) < _PLAIN_LARGEST and number and math.isfinite(number):
        return repr(number)
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return format(Decimal(repr(number)), "f")


def _is_at(value: float, threshold: float) -> bool:
    return math.isclose(value, threshold, rel_tol=BOUNDARY_TOLERANCE)


def decide(value: float, threshold: Threshold, threshold_magnitude: float) -> tuple[Status, bool]:
    """(status, on_boundary): "fail" when the strict comparison of the registry holds."""
    if _is_at(value, threshold_magnitude):
        return "pass", True
    below = value < threshold_magnitude
    meets = below if threshold.comparison == "<" else not below
    return ("fail" if meets else "pass"), False


def _verdict(analyte: Analyte, status: Status, on_boundary: bool) -> str:
    assert analyte.threshold is not None
    if status == "fail":
        return f"excluded ({analyte.criterion})"
    if on_boundary:
        return (
            f"passes ({analyte.criterion}); exactly at the threshold, which the registry's "
            f"strict '{analyte.threshold.comparison}' does not exclude"
        )
    return f"passes ({analyte.criterion})"


def _relation(analyte: Analyte, status: Status) -> str:
    """`` < 8.0 g/dL`` when the value meets the threshold, ``, not < 8.0 g/dL`` when not."""
    assert analyte.threshold is not None
    written = analyte.threshold.written
    return f" {written}" if status == "fail" else f", not {written}"


def _conversion(
    analyte: Analyte,
    unit: str,
    magnitude: float,
    threshold: float | None,
    tells: Callable[[str], bool] | None = None,
) -> str:
    """`` = 7.8 g/dL`` when the value was given in another unit than the protocol's; with
    ``tells``, as many digits as it needs to accept the text shown (four at least)."""
    key = ("is the protocol unit", unit)
    if key not in analyte.computed:
        one = ureg.Quantity(1, analyte.protocol_unit)
        analyte.computed[key] = bool(read_analyte_unit(analyte, unit) == one)
    if analyte.computed[key]:
        return ""
    text = _number(magnitude, threshold)
    if tells is not None:
        text = next(
            (_plain(magnitude, d) for d in range(4, 16) if tells(_plain(magnitude, d))),
            repr(magnitude),
        )
    return f" = {text} {format_unit(analyte.protocol_unit)}"


def unknown_result(
    name: str, why: str = "no value recorded", study: Study | None = None
) -> LabResult:
    """The result for a missing value: unknown, never pass."""
    analyte = get_analyte(name, study)
    target = get_analyte(analyte.computes, study) if analyte.computes else analyte
    return LabResult(
        analyte=analyte.name,
        label=analyte.label,
        value=None,
        unit=None,
        value_in_protocol_unit=None,
        protocol_unit=format_unit(analyte.protocol_unit),
        threshold=str(target.threshold),
        status="unknown",
        criterion=analyte.criterion,
        reason=f"{analyte.short_label}: {why}: unknown ({analyte.criterion})",
    )


def check_lab(
    name: str,
    value: Any,
    unit: str | None,
    *,
    uln: Any = None,
    uln_unit: str | None = None,
    age: Any = None,
    sex: Any = None,
    study: Study | None = None,
    at_admitted_age: bool = False,
) -> LabResult:
    """Check one lab value against its protocol threshold.

    ``value=None`` gives an *unknown* result. Bad input (not a number, negative, an unknown unit
    or one of the wrong kind, a missing ULN, age or sex where needed) raises LabInputError.
    ``at_admitted_age``: creatinine's eGFR is read at the age moved to the nearest age IN01
    admits, as screening reads it (at any other age IN01 excludes whatever the kidneys), and
    the age may be any of 0-120 years.
    """
    analyte = get_analyte(name, study)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return unknown_result(analyte.name, study=study)
    number = parse_number(analyte, value)
    given = f"{as_given(number)} {str(unit).strip()}"
    quantity = to_value_unit(analyte, number, unit or "")
    check_plausible(analyte, quantity, number, str(unit))
    if uln is not None and not analyte.relative_to_uln:
        read_uln(analyte, uln, study)  # refused: no ULN applies
    if (age is not None or sex is not None) and not analyte.computes:
        raise LabInputError(
            f"{analyte.label}: an age or sex was given; they are used only to compute eGFR "
            f"from creatinine"
        )
    target = get_analyte(analyte.computes, study) if analyte.computes else analyte
    assert target.threshold is not None
    extra: dict[str, Any] = {}
    if analyte.computes:  # creatinine -> eGFR, compared with the eGFR threshold
        given_age, sex_name = parse_age_and_sex(age, sex, study, any_age=at_admitted_age)
        age_years = given_age
        if at_admitted_age:
            chosen = study or load_study()
            low, high = admitted_ages(chosen)
            age_years = float(min(max(given_age, low), high))
            adult = chosen.egfr_equation.value.minimum_age
            if age_years < adult:  # an amendment admitting children: as screen, no eGFR here
                read_at = "" if age_years == given_age else f", read at {as_given(age_years)}"
                raise LabInputError(
                    f"Serum creatinine: aged {as_given(given_age)}{read_at}; CKD-EPI 2021 is for "
                    f"adults ({adult}+), so a reported eGFR is needed"
                )
        age_text = (
            f"{as_given(given_age)} years"
            if age_years == given_age
            else f"aged {as_given(given_age)}, an age IN01 excludes: read at "
            f"{as_given(age_years)}, the nearest age it admits"
        )
        compared = egfr_ckd_epi_2021(quantity, age_years, sex_name, study).magnitude
        shown = float(convert(quantity, analyte.protocol_unit).magnitude)
        limit = target.threshold_magnitude

        def same_side(text: str) -> bool:
            # the creatinine shown gives an eGFR on the same side of the threshold: typed back
            # in, it gives the same verdict (135.09 µmol/L is not shown as 1.528 mg/dL, which
            # gives an eGFR above 40 where 135.09 gives one below)
            egfr = float(_ckd_epi(float(text), age_years, sex_name == "female", study))
            return _is_at(compared, limit) or (
                not _is_at(egfr, limit) and (egfr < limit) == (compared < limit)
            )

        described = (
            f"{given}{_conversion(analyte, unit or '', shown, None, same_side)} ({sex_name}, "
            f"{age_text}): eGFR (CKD-EPI 2021) = "
            f"{_number(compared, target.threshold_magnitude)} {format_unit(target.protocol_unit)}"
        )
        extra |= {"egfr": compared, "egfr_age": int(age_years)}
    elif analyte.relative_to_uln:
        if uln is None:
            raise LabInputError(
                f"{analyte.label}: the threshold is {analyte.threshold}, so the site's upper "
                f"limit of normal is needed (--uln VALUE UNIT), in a unit such as "
                f"{analyte.accepted()}"
            )
        uln_number = read_uln(analyte, uln, study)
        uln_given = str(unit if uln_unit is None else uln_unit).strip()
        uln_quantity = to_value_unit(analyte, uln_number, uln_given, what="ULN's unit")
        check_plausible(analyte, uln_quantity, uln_number, uln_given, uln=True)
        compared = shown = float((quantity / uln_quantity).to("dimensionless").magnitude)
        described = (
            f"{given} with ULN {as_given(uln_number)} {uln_given} = "
            f"{_number(compared, analyte.threshold_magnitude)} × ULN"
        )
        extra |= {"uln": uln_number, "uln_unit": uln_given}
    else:
        compared = shown = float(convert(quantity, analyte.protocol_unit).magnitude)
        described = given + _conversion(analyte, unit or "", shown, analyte.threshold_magnitude)
    status, at = decide(compared, target.threshold, target.threshold_magnitude)
    if at:
        # at the threshold within the conversion's rounding, and the number says so too: a
        # program reading 7.999999999999999 g/dL beside "pass" would compare it again and fail it
        if analyte.computes:
            extra["egfr"] = target.threshold_magnitude
        else:
            shown = target.threshold_magnitude
    return LabResult(
        analyte=analyte.name,
        label=analyte.label,
        value=number,
        unit=str(unit).strip(),
        value_in_protocol_unit=shown,
        protocol_unit=format_unit(analyte.protocol_unit),
        threshold=str(target.threshold),
        status=status,
        criterion=target.criterion,
        reason=f"{analyte.short_label} {described}{_relation(target, status)}: "
        f"{_verdict(target, status, at)}",
        on_boundary=at,
        **extra,
    )


# -- the same checks over table columns ------------------------------------------------------


def _column_factors(analyte: Analyte, units: Any, index: Any, target: pint.Unit) -> Any:
    """Each row's factor to ``target``: every distinct unit is parsed and converted once."""
    import numpy as np
    import pandas as pd

    def factor(text: Any) -> float:
        return float(analyte.convert(read_analyte_unit(analyte, str(text)), target).magnitude)

    if isinstance(units, str):
        return np.full(len(index), factor(units))
    codes, distinct = pd.factorize(pd.Series(units, index=index))
    by_code = np.array([factor(text) for text in distinct] + [np.nan])
    return by_code[codes]  # code -1 (a missing unit) picks the trailing NaN: unknown


def _first_rows(index: Any, bad: Any) -> str:
    """The labels of the first five flagged rows, and "..." when there are more."""
    shown = ", ".join(map(str, index[bad][:5]))
    return shown + (", ..." if bad.sum() > 5 else "")


def _column_numbers(analyte: Analyte, values: Any, what: str, expected: str = "") -> Any:
    import numpy as np
    import pandas as pd

    series = pd.Series(values)

    def strict(value: Any) -> float:
        try:
            return read_decimal(value)
        except ValueError:
            return math.nan  # refused below unless the cell is missing (unknown)

    # A numeric column needs no reading; infinities and negatives are refused either way.
    numbers = series.astype(float) if series.dtype.kind in "fi" else series.map(strict)
    bad = (series.notna() & numbers.isna()) | np.isinf(numbers) | (numbers < 0)
    if bad.any():
        raise LabInputError(
            f"{analyte.label}: {int(bad.sum())} {what}(s) are not finite non-negative numbers "
            f"(rows {_first_rows(series.index, bad)}); expected "
            f"{expected or 'numbers in a unit such as ' + analyte.accepted()}"
        )
    return numbers.to_numpy()


def _check_column_plausible(
    analyte: Analyte, values: Any, index: Any, plausible: QuantityRange | None, what: str
) -> None:

    if plausible is None:
        return
    low = analyte.convert(plausible.low, analyte.value_unit).magnitude
    high = analyte.convert(plausible.high, analyte.value_unit).magnitude
    bad = (values < low) | (values > high)
    if bad.any():
        raise LabInputError(
            f"{analyte.label}: {int(bad.sum())} {what}(s) are implausible (rows "
            f"{_first_rows(index, bad)}): check the value and its unit; expected {plausible}"
        )


def check_lab_where_decided(
    name: str,
    value: Any,
    unit: str | None,
    *,
    uln: Any = None,
    uln_unit: str | None = None,
    age: Any = None,
    sex: Any = None,
    study: Study | None = None,
) -> LabResult:
    """:func:`check_lab` as ``trialbook lab`` runs it (creatinine's eGFR at the nearest age IN01
    admits), and where the ULN, the age or the sex is not given, the value decided if it gives
    the same status at every completion the protocol allows, as ``screen`` decides a record
    without them: ALT 400 U/L exceeds 1.5 x any ULN a laboratory reports (5 to 200 U/L);
    creatinine 250 µmol/L in a man gives an eGFR under 40 at every age IN01 admits. The bounds
    of each completion suffice: the comparison with 1.5 x ULN moves one way with the ULN, and
    eGFR falls with age. Otherwise the refusal asking for what is missing is raised (and any
    other refusal as it is)."""
    given = {"uln": uln, "uln_unit": uln_unit, "age": age, "sex": sex}
    try:
        return check_lab(name, value, unit, **given, study=study, at_admitted_age=True)
    except LabInputError:
        if value is None:
            raise
        chosen = study or load_study()
        analyte = get_analyte(name, chosen)
        completions, said = _completions(analyte, given, chosen)
        if not said:
            raise
        _refuse_a_missing_age_below_the_equation(name, value, unit, given, chosen)
        # (a value refused for itself is refused at every completion too: raised as it is)
        results = [
            check_lab(name, value, unit, **c, study=study, at_admitted_age=True)
            for c in completions
        ]
        if len({r.status for r in results}) != 1:
            raise
    # the completion nearest the threshold is shown: the one that decides it least clearly
    # (ALT 400 U/L against the highest ULN, 2 x ULN; creatinine at the age and sex that give
    # the eGFR nearest 40)
    target = get_analyte(analyte.computes, chosen) if analyte.computes else analyte
    limit = target.threshold_magnitude

    def margin(result: LabResult) -> float:
        measured = result.egfr if analyte.computes else result.value_in_protocol_unit
        return abs(float(measured) - limit) if measured is not None else math.inf

    shown = min(results, key=margin)
    # a ULN, age or sex filled in is not the participant's: what it alone gives is left out of
    # the result's fields (the ULN, the multiple of it, the eGFR, being on the threshold), and
    # the reason names the reading it shows
    filled_uln = uln is None and analyte.relative_to_uln
    filled_age = analyte.computes and (age is None or sex is None)
    return dataclasses.replace(
        shown,
        reason=f"{shown.reason}; the same for {' and '.join(said)} (not given)",
        value_in_protocol_unit=None if filled_uln else shown.value_in_protocol_unit,
        uln=None if filled_uln else shown.uln,
        uln_unit=None if filled_uln else shown.uln_unit,
        egfr=None if filled_age else shown.egfr,
        egfr_age=None if filled_age else shown.egfr_age,
        on_boundary=False if filled_uln or filled_age else shown.on_boundary,
    )


def _refuse_a_missing_age_below_the_equation(
    name: str, value: Any, unit: str | None, given: dict[str, Any], study: Study
) -> None:
    """Under an amendment admitting ages below CKD-EPI 2021's, a creatinine without an age
    cannot be decided at every admitted age: the age is asked for (a value refused for itself,
    read at an adult age, is refused as it is first), not a refusal for an age no one gave."""
    analyte = get_analyte(name, study)
    young, _ = admitted_ages(study)
    adult = study.egfr_equation.value.minimum_age
    if not analyte.computes or given["age"] is not None or young >= adult:
        return
    sex = given["sex"] if given["sex"] is not None else admitted_sexes(study)[0]
    check_lab(name, value, unit, **(given | {"age": adult, "sex": sex}), study=study)
    raise LabInputError(
        f"Serum creatinine: no age was given, and IN01 admits ages from {young}, under the "
        f"{adult} CKD-EPI 2021 is for: expected the age in completed years (under {adult}, a "
        "reported eGFR is needed)"
    )


def _completions(
    analyte: Analyte, given: dict[str, Any], study: Study
) -> tuple[list[dict[str, Any]], list[str]]:
    """The missing ULN, age and sex filled in at the ends of what the protocol allows, and
    those ends in words."""
    completions = [dict(given)]
    said: list[str] = []
    if analyte.relative_to_uln and given["uln"] is None and given["uln_unit"] is None:
        plausible = analyte.uln_plausible
        if plausible is None:
            return completions, []
        low, high, unit_text = re.match(_RANGE_TEXT, plausible.written).groups()  # as written
        completions = [
            c | {"uln": float(end), "uln_unit": unit_text}
            for c in completions
            for end in (low, high)
        ]
        said.append(f"every ULN from {plausible.written}")
    if analyte.computes and (given["age"] is None or given["sex"] is None):
        young, old = admitted_ages(study)
        ages = [given["age"]] if given["age"] is not None else [young, old]
        sexes = [given["sex"]] if given["sex"] is not None else admitted_sexes(study)
        completions = [c | {"age": a, "sex": x} for c in completions for a in ages for x in sexes]
        if given["age"] is None:
            said.append(f"every age from {young} to {old} (the ages IN01 admits)")
        if given["sex"] is None:
            said.append("either sex" if len(sexes) > 1 else f"{sexes[0]}, the only sex IN01 admits")
    return completions, said


def check_lab_column(
    name: str,
    values: Any,
    units: Any,
    *,
    uln: Any = None,
    uln_units: Any = None,
    age: Any = None,
    sex: Any = None,
    study: Study | None = None,
) -> Any:
    """The checks of :func:`check_lab` over columns (a screening log), vectorized.

    ``units`` (and ``uln_units``) is one unit for every row or a column of units; each distinct
    unit is parsed and converted by pint once, then magnitudes are multiplied by its factor.
    Returns a DataFrame with ``value_in_protocol_unit``, ``status`` (pass / fail / unknown, a
    missing value or ULN is unknown) and ``on_boundary``, indexed like ``values``.
    """
    import numpy as np
    import pandas as pd

    analyte = get_analyte(name, study)
    index = values.index if isinstance(values, pd.Series) else pd.RangeIndex(len(values))
    numbers = _column_numbers(analyte, values, "value")
    in_value_unit = numbers * _column_factors(analyte, units, index, analyte.value_unit)
    _check_column_plausible(analyte, in_value_unit, index, analyte.plausible, "value")
    target = analyte
    if analyte.computes:
        target = get_analyte(analyte.computes, study)
        if age is None or sex is None:
            raise LabInputError(
                "Serum creatinine: eGFR by CKD-EPI 2021 needs an age and a sex column"
            )
        sexes = pd.Series(sex, index=index).astype("string").str.strip().str.lower()
        female = sexes.isin(["female"]).to_numpy()
        known_sex = (female | sexes.isin(["male"])).to_numpy()
        bad_sex = (sexes.fillna("") != "").to_numpy() & ~known_sex  # a blank cell is unknown
        if bad_sex.any():
            raise LabInputError(
                f"Serum creatinine: {int(bad_sex.sum())} sex(es) are not female or male (rows "
                f"{_first_rows(index, bad_sex)})"
            )
        ages = _column_numbers(
            analyte, pd.Series(age, index=index), "age", "the age in completed years"
        )
        minimum = (study or load_study()).egfr_equation.value.minimum_age
        bad_age = ~np.isnan(ages) & ((ages < minimum) | (ages > 120) | (ages % 1 != 0))
        if bad_age.any():
            raise LabInputError(
                f"Serum creatinine: {int(bad_age.sum())} age(s) are not whole years from "
                f"{minimum} to 120 (rows {_first_rows(index, bad_age)}); CKD-EPI 2021 is for adults"
            )
        scr = ureg.Quantity(in_value_unit, analyte.value_unit).to("mg/dL").magnitude
        compared = np.where(known_sex, _ckd_epi(scr, ages, female, study), np.nan)
    elif analyte.relative_to_uln:
        if uln is None:
            raise LabInputError(f"{analyte.label}: the ULN column is needed")
        uln_numbers = _column_numbers(analyte, uln, "ULN")
        uln_value = uln_numbers * _column_factors(
            analyte, units if uln_units is None else uln_units, index, analyte.value_unit
        )
        _check_column_plausible(analyte, uln_value, index, analyte.uln_plausible, "ULN")
        compared = in_value_unit / uln_value  # the ULN's plausible range excludes zero
    else:
        compared = ureg.Quantity(in_value_unit, analyte.value_unit).to(analyte.protocol_unit)
        compared = compared.magnitude
    assert target.threshold is not None
    limit = target.threshold_magnitude
    at = np.isclose(compared, limit, rtol=BOUNDARY_TOLERANCE, atol=0)
    meets = (compared < limit) if target.threshold.comparison == "<" else (compared > limit)
    status = np.select([np.isnan(compared), meets & ~at], ["unknown", "fail"], default="pass")
    # at the threshold within the conversion's rounding: the threshold itself (as check_lab)
    compared = np.where(at, limit, compared)
    frame = pd.DataFrame(
        {
            "value_in_protocol_unit": in_value_unit if analyte.computes else compared,
            "status": pd.Categorical(status, categories=["pass", "fail", "unknown"]),
            "on_boundary": at & ~np.isnan(compared),
        },
        index=index,
    )
    if analyte.computes:
        frame.insert(1, "egfr", compared)
    return frame
