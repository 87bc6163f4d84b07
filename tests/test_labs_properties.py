"""Properties of the lab checks, each over at least 1,000 generated examples."""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protocol.labs import LabInputError, analytes, check_lab, check_lab_column, parse_unit
from protocol.units import Quantity
from tests.conftest import examples

pytestmark = pytest.mark.traces("lab_analytes")

PROPERTY = settings(
    max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
DIRECT = sorted(n for n, a in analytes().items() if a.threshold and not a.relative_to_uln)
ALL_UNITS = sorted({(n, u) for n, a in analytes().items() for u in a.accepted_units})
# Values spread around the thresholds, from zero to far above.
magnitudes = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


def _plausible(name: str) -> tuple[float, float]:
    """The analyte's plausible range (study.yaml), in its protocol unit."""
    analyte = analytes()[name]
    return tuple(
        float(analyte.convert(end, analyte.protocol_unit).magnitude)
        for end in (analyte.plausible.low, analyte.plausible.high)
    )


def _plausible_values(name: str, up_to: float | None = None) -> st.SearchStrategy[float]:
    low, high = _plausible(name)
    # just inside the ends, so a round trip through another unit never leaves the range
    return st.floats(
        min_value=low * (1 + 1e-6), max_value=(min(high, up_to) if up_to else high) * (1 - 1e-6)
    )


def _in_unit(name: str, protocol_value: float, unit: str) -> float:
    analyte = analytes()[name]
    quantity = Quantity(protocol_value, analyte.value_unit)
    target = parse_unit(name, unit)
    return float(analyte.convert(quantity, target.units).magnitude / target.magnitude)


@PROPERTY
@given(pair=st.sampled_from(ALL_UNITS), value=magnitudes)
def test_conversion_round_trips(pair, value):
    name, unit = pair
    analyte = analytes()[name]
    there = analyte.convert(value * parse_unit(name, unit), analyte.value_unit)
    back = (
        analyte.convert(there, parse_unit(name, unit).units).magnitude
        / parse_unit(name, unit).magnitude
    )
    assert back == pytest.approx(value, rel=1e-9, abs=1e-12)


@PROPERTY
@given(name=st.sampled_from(DIRECT), data=st.data())
def test_a_worse_value_never_passes_where_a_better_one_fails(name, data):
    analyte = analytes()[name]
    threshold = analyte.threshold_magnitude
    a = data.draw(_plausible_values(name, threshold * 3), label="a")
    b = data.draw(_plausible_values(name, threshold * 3), label="b")
    unit = data.draw(st.sampled_from(analyte.accepted_units), label="unit")
    low, high = sorted((a, b))
    # "worse" is further into the excluded side: lower for "<", higher for ">"
    worse, better = (low, high) if analyte.threshold.comparison == "<" else (high, low)
    worse_status = check_lab(name, _in_unit(name, worse, unit), unit).status
    better_status = check_lab(name, _in_unit(name, better, unit), unit).status
    assert not (better_status == "fail" and worse_status == "pass")


@PROPERTY
@given(name=st.sampled_from(DIRECT), data=st.data())
def test_the_same_quantity_gets_the_same_decision_in_every_accepted_unit(name, data):
    analyte = analytes()[name]
    threshold = analyte.threshold_magnitude
    value = data.draw(
        st.one_of(
            _plausible_values(name, threshold * 3),
            st.sampled_from([threshold, threshold * (1 - 1e-6), threshold * (1 + 1e-6)]),
        )
    )
    statuses = {
        unit: check_lab(name, _in_unit(name, value, unit), unit).status
        for unit in analyte.accepted_units
    }
    assert len(set(statuses.values())) == 1, statuses


@PROPERTY
@given(unit=st.text(max_size=20), value=st.one_of(st.text(max_size=10), magnitudes))
def test_any_unit_text_gives_a_result_or_a_clear_error(unit, value):
    for name in ("hemoglobin", "wbc", "alt", "creatinine"):
        try:
            result = check_lab(name, value, unit, uln=40, uln_unit="U/L", age=50, sex="female")
        except LabInputError as exc:
            assert str(exc).startswith(analytes()[name].label)
        else:
            assert result.status in ("pass", "fail", "unknown")


@settings(max_examples=examples(200), deadline=None)
@given(name=st.sampled_from(DIRECT), data=st.data())
def test_the_vectorized_path_agrees_with_the_scalar_one(name, data):
    analyte = analytes()[name]
    rows = data.draw(
        st.lists(
            st.tuples(st.one_of(st.none(), _plausible_values(name)), st.integers(0, 5)),
            min_size=1,
            max_size=30,
        )
    )
    units = [analyte.accepted_units[i % len(analyte.accepted_units)] for _, i in rows]
    values = [
        None if v is None else _in_unit(name, v, unit)
        for (v, _), unit in zip(rows, units, strict=True)
    ]
    table = check_lab_column(name, pd.Series(values, dtype=float), pd.Series(units))
    for index, (value, unit) in enumerate(zip(values, units, strict=True)):
        assert table["status"].iloc[index] == check_lab(name, value, unit).status


def test_the_vectorized_path_handles_uln_and_creatinine():
    alt = check_lab_column("alt", [59, 60, 61, None], "U/L", uln=[40, 40, 40, 40])
    assert list(alt["status"]) == ["pass", "pass", "fail", "unknown"]
    assert list(alt["on_boundary"]) == [False, True, False, False]
    creatinine = check_lab_column(
        "creatinine",
        [0.9, 3.0, 0.9],
        ["mg/dL", "mg/dL", "mg/dL"],
        age=[55, 55, 55],
        sex=["female", "male", None],
    )
    assert list(creatinine["status"]) == ["pass", "fail", "unknown"]
    assert creatinine["egfr"].iloc[0] == pytest.approx(75.5, abs=0.01)


def test_the_vectorized_path_refuses_bad_rows_by_name():
    with pytest.raises(LabInputError, match=r"rows 1, 3"):
        check_lab_column("hemoglobin", ["8", "x", 9, -1], "g/dL")
    with pytest.raises(LabInputError, match="'U/L'"):
        check_lab_column("hemoglobin", [8], "U/L")


IMPLAUSIBLE_MESSAGE = re.compile(r"\(= ([0-9.]+) ([^)]+)\) is implausible")


@PROPERTY
@given(
    pair=st.sampled_from([(n, u) for n, u in ALL_UNITS if analytes()[n].plausible]),
    end=st.sampled_from(["low", "high"]),
    relative=st.floats(min_value=1e-12, max_value=1e-3),
)
def test_an_implausible_value_is_never_shown_converted_into_the_range(pair, end, relative):
    """Just outside the plausible range in another unit: the converted value the message shows
    is outside the range too (2210.1 µmol/L was shown as '= 25 mg/dL', accepted 0.1 to 25)."""
    name, unit = pair
    analyte = analytes()[name]
    low, high = (
        float(analyte.convert(e, analyte.value_unit).magnitude)
        for e in (analyte.plausible.low, analyte.plausible.high)
    )
    outside = low * (1 - relative) if end == "low" else high * (1 + relative)
    target = parse_unit(name, unit)
    there = analyte.convert(Quantity(outside, analyte.value_unit), target.units)
    written = float(there.magnitude / target.magnitude)
    quantity = written * parse_unit(name, unit)
    if analyte.plausible.contains(analyte.convert(quantity, analyte.plausible.low.units)):
        return  # rounded back inside by the unit's own conversion: a plausible value
    uln = {"alt": (40, "U/L"), "ast": (40, "U/L"), "total_bilirubin": (1, "mg/dL")}
    uln = dict(zip(("uln", "uln_unit"), uln[name], strict=True)) if name in uln else {}
    try:
        check_lab(name, written, unit, age=40, sex="female", **uln)
    except LabInputError as exc:
        shown = IMPLAUSIBLE_MESSAGE.search(str(exc))
        if shown is None:  # given in the range's own unit: shown as written, not converted
            assert parse_unit(name, unit) == Quantity(1, analyte.value_unit), str(exc)
            assert "is implausible" in str(exc)
            return
        again = Quantity(float(shown.group(1)), analyte.value_unit)
        assert not analyte.plausible.contains(
            analyte.convert(again, analyte.plausible.low.units)
        ), str(exc)
    else:
        pytest.fail(f"{written} {unit} outside the plausible range was accepted")


# -- values a hair from a threshold: decided as exact decimals decide them ---------------------

#: Each direct analyte's threshold in each unit a power of ten from the protocol's, as an exact
#: decimal (written here from the units' definitions, not from pint): g/dL = 10 g/L; mg/dL =
#: 0.01 g/L = 10 mg/L; 10^9/L = 10^3/µL = 1000/µL = 1000/mm³ = 10^9 cells/L.
_EXACT_THRESHOLDS = {
    ("hemoglobin", "g/dL"): Decimal("8"),
    ("hemoglobin", "g/L"): Decimal("80"),
    ("wbc", "10^9/L"): Decimal("3"),
    ("wbc", "10^3/µL"): Decimal("3"),
    ("wbc", "/µL"): Decimal("3000"),
    ("wbc", "/mm³"): Decimal("3000"),
    ("neutrophils", "10^9/L"): Decimal("1.5"),
    ("neutrophils", "/µL"): Decimal("1500"),
    ("platelets", "10^9/L"): Decimal("75"),
    ("platelets", "/mm³"): Decimal("75000"),
    ("iga", "mg/dL"): Decimal("10"),
    ("iga", "g/L"): Decimal("0.1"),
    ("iga", "mg/L"): Decimal("100"),
    ("igg", "mg/dL"): Decimal("400"),
    ("igg", "g/L"): Decimal("4"),
    ("igg", "mg/L"): Decimal("4000"),
    ("fvc", "%"): Decimal("50"),
    ("dlco", "%"): Decimal("40"),
}


def test_the_exact_thresholds_are_the_studys():
    # the table above is the study's thresholds, so the property below tests them
    for (name, unit), exact in _EXACT_THRESHOLDS.items():
        analyte = analytes()[name]
        assert _in_unit(name, analyte.threshold_magnitude, unit) == pytest.approx(float(exact))


@PROPERTY
@given(
    pair=st.sampled_from(sorted(_EXACT_THRESHOLDS)),
    places=st.integers(1, 16),
    steps=st.integers(-9, 9),
    written_as_text=st.booleans(),
)
def test_a_value_a_hair_from_the_threshold_is_decided_exactly_or_refused(
    pair, places, steps, written_as_text
):
    # 7.999999999999 g/dL counted as "at" 8 and passed; 7.9999999999999999 was read as 8.0.
    # A value of at most 12 significant digits is decided as its exact decimal is; one with
    # more is refused (bad input, exit 2), never decided
    from protocol.inputs import MAX_SIGNIFICANT_DIGITS

    name, unit = pair
    threshold = _EXACT_THRESHOLDS[pair]
    value = threshold + Decimal(steps).scaleb(-places)
    assume(value > 0)
    text = format(value, "f")
    significant = len(text.replace(".", "").replace("-", "").strip("0"))
    comparison = analytes()[name].threshold.comparison
    given_value = text if written_as_text else float(text)
    if significant > MAX_SIGNIFICANT_DIGITS:
        if written_as_text:
            with pytest.raises(LabInputError, match="significant digits"):
                check_lab(name, given_value, unit)
        return
    try:
        status = check_lab(name, given_value, unit).status
    except LabInputError as exc:  # outside the plausible range: refused, not decided
        assert "plausible" in str(exc) or "implausible" in str(exc), exc
        return
    excluded = value < threshold if comparison == "<" else value > threshold
    assert status == ("fail" if excluded else "pass"), (text, unit, status)
