"""The project's one unit registry and its clinical units."""

from __future__ import annotations

import pint
import pytest

from protocol.units import Quantity, format_quantity, ureg


def test_the_registry_is_pints_application_registry():
    assert pint.get_application_registry().get() is ureg
    assert Quantity(1, "mg")._REGISTRY is ureg


@pytest.mark.parametrize(
    ("value", "unit", "target", "expected"),
    [
        (3e9, "cells/L", "1/L", 3e9),  # a cell is a pure count
        (3e9, "1/L", "1/uL", 3000),  # 10^9/L = 10^3/µL
        (3000, "1/mm**3", "1/uL", 3000),  # /mm³ = /µL
        (60, "IU/L", "U/L", 60),  # IU of enzyme activity = U
        (60, "U/L", "ukat/L", 1),  # 1 µkat/L = 60 U/L
        (50, "percent_predicted", "percent", 50),
    ],
)
def test_clinical_units_convert(value, unit, target, expected):
    assert Quantity(value, unit).to(target).magnitude == pytest.approx(expected)


def test_egfr_unit_is_per_1_73_square_metres():
    one = Quantity(1, "mL_per_min_per_1_73_m2")
    assert one.to("mL/min/m**2").magnitude == pytest.approx(1 / 1.73)


def test_multiples_of_uln_never_meet_an_enzyme_activity():
    with pytest.raises(pint.DimensionalityError):
        Quantity(1.5, "xULN").to("U/L")
    assert Quantity(90, "U/L") / Quantity(60, "U/L") * Quantity(1, "xULN") == Quantity(1.5, "xULN")


@pytest.mark.parametrize(
    ("quantity", "text"),
    [
        (Quantity(160, "mg"), "160 mg"),
        (Quantity(0.5, "g"), "0.5 g"),
        (Quantity(48, "week"), "48 weeks"),
        (Quantity(1, "week"), "1 week"),
        (Quantity(18, "year"), "18 years"),
        (Quantity(40, "mL_per_min_per_1_73_m2"), "40 mL/min/1.73 m²"),
        (Quantity(7.68, "g"), "7.68 g"),
        (Quantity(1.5, "xULN"), "1.5 × ULN"),
    ],
)
def test_quantities_print_as_a_clinician_writes_them(quantity, text):
    assert format_quantity(quantity) == text


def test_rounding_digits_and_litres_written_as_capital_l():
    assert format_quantity(Quantity(7.8049, "g/dL"), digits=1) == "7.8 g/dL"
    assert format_quantity(Quantity(88.4, "umol/L")) == "88.4 µmol/L"
    assert format_quantity(Quantity(3, "mmol/L")) == "3 mmol/L"
