"""The project's one pint unit registry.

Every Quantity in the book, the packages and the tests comes from ``ureg``. It is built once per
process (module import) and set as pint's application registry, so a Quantity unpickled or made
by a library that uses ``pint.get_application_registry()`` is comparable with ours.

Clinical units added to pint's defaults are in ``_DEFINITIONS``, each with the reason it is needed.
"""

from __future__ import annotations

import re

import pint

ureg = pint.UnitRegistry()

_DEFINITIONS = """
# Counts of cells: "10^9 cells/L" and "10^9/L" are the same quantity, so a cell is a pure number.
cell = count = _ = cells
# International unit of enzyme activity (ALT, AST): 1 IU = 1 umol/min = 1 U (pint's enzyme_unit).
IU = enzyme_unit
# Per 1.73 m^2 of body surface area, the denominator of eGFR.
mL_per_min_per_1_73_m2 = milliliter / minute / (1.73 * meter ** 2)
# Percent of the predicted value (FVC, DLCO): a ratio, kept apart from plain percent for display.
percent_predicted = percent
# Multiples of the upper limit of normal: its own dimension, so "1.5 x ULN" never meets a U/L.
times_ULN = [uln_multiple] = xULN
"""

for _line in _DEFINITIONS.strip().splitlines():
    if _line and not _line.startswith("#"):
        ureg.define(_line)

pint.set_application_registry(ureg)

Quantity = ureg.Quantity
Unit = ureg.Unit

#: Display symbols for units whose pint names are not what a clinician writes.
DISPLAY_SYMBOLS: dict[str, str] = {
    "mL_per_min_per_1_73_m2": "mL/min/1.73 m²",
    "percent_predicted": "% of predicted",
    "times_ULN": "× ULN",
}


def format_quantity(quantity: pint.Quantity, digits: int | None = None) -> str:
    """A quantity as a clinician writes it: ``160 mg``, ``0.5 g``, ``40 mL/min/1.73 m²``.

    ``digits`` rounds the magnitude; without it, integers print without a decimal point.
    """
    magnitude = quantity.magnitude
    if digits is not None:
        text = f"{magnitude:.{digits}f}"
    elif float(magnitude).is_integer():
        text = str(int(magnitude))
    else:
        text = f"{magnitude:g}"
    if quantity.dimensionality == ureg.get_dimensionality("[time]"):
        # durations in words, as the protocol writes them: "48 weeks", "18 years", "1 day"
        name = str(quantity.units)
        return f"{text} {name if float(magnitude) == 1 else name + 's'}"
    return f"{text} {format_unit(quantity.units)}".rstrip()


def format_unit(unit: pint.Unit) -> str:
    """A unit's short symbol (``mg``, ``g/dL``, ``1/wk``) with the clinical names above."""
    name = str(unit)
    if name in DISPLAY_SYMBOLS:
        return DISPLAY_SYMBOLS[name]
    if name == "dimensionless":
        return ""
    # pint writes litres as "l"; clinical labs write "L" (dL, mL, µL), which cannot be misread as 1
    return re.sub(r"(?<![A-Za-z])([mdµu]?)l(?![A-Za-z])", r"\1L", f"{unit:~P}")
