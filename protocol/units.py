"""The project's one pint unit registry.

Every Quantity in the book, the packages and the tests comes from ``ureg``. It is built once per
process (module import) and set as pint's application registry, so a Quantity unpickled or made
by a library that uses ``pint.get_application_registry()`` is comparable with ours.

Clinical units added to pint's defaults are in ``_DEFINITIONS``, each with the reason it is needed.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pint

from protocol.errors import InputError


def _registry() -> pint.UnitRegistry:
    """pint's registry, its parsed definitions cached on disk (pint's own ``cache_folder``):
    parsing them takes about 0.1 s, a third of a one-record command. Where the user's cache
    folder cannot be written, the definitions are parsed as usual."""
    try:
        return pint.UnitRegistry(cache_folder=":auto:")
    except (OSError, ValueError, EOFError):  # an unwritable or damaged cache: parse instead
        return pint.UnitRegistry()


ureg = _registry()

_DEFINITIONS = """
# Counts of cells: "10^9 cells/L" and "10^9/L" are the same quantity, so a cell is a pure number.
cell = count = _ = cells
# International unit of enzyme activity (ALT, AST): 1 IU = 1 umol/min = 1 U (pint's enzyme_unit).
IU = enzyme_unit
# Per 1.73 m^2 of body surface area, the denominator of eGFR.
mL_per_min_per_1_73_m2 = milliliter / minute / (1.73 * meter ** 2)
# Percent of the predicted value (FVC, DLCO): a ratio, kept apart from plain percent for display.
percent_predicted = percent
# Cell counts per litre in units of 10^9 (= 10^3/uL), the unit of the protocol's blood counts.
e9_per_L = 1e9 / liter
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
    "e9_per_L": "×10⁹/L",
}


def format_quantity(quantity: pint.Quantity, digits: int | None = None) -> str:
    """A quantity as a clinician writes it; ``digits`` rounds the magnitude, and without it an
    integer prints without a decimal point.

    >>> [format_quantity(ureg.Quantity(q)) for q in ("160 mg", "0.5 g", "48 week", "1 day")]
    ['160 mg', '0.5 g', '48 weeks', '1 day']
    >>> format_quantity(ureg.Quantity(7.8125, "g/dL"), digits=1)
    '7.8 g/dL'
    >>> [format_quantity(ureg.Quantity(q)) for q in ("2/day", "1/week")]
    ['2 per day', '1 per week']
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
    if quantity.dimensionality == ureg.get_dimensionality("1/[time]"):
        # a frequency in words, "2 per day", "1 per week" (not pint's "2 1/d")
        period = 1 / quantity.units
        if period.dimensionality == ureg.get_dimensionality("[time]") and len(period._units) == 1:
            return f"{text} per {period.units}"
    return f"{text} {format_unit(quantity.units)}".rstrip()


@functools.lru_cache(maxsize=1024)
def format_unit(unit: pint.Unit) -> str:
    """A unit's short symbol (``mg``, ``g/dL``, ``1/wk``) with the clinical names above."""
    name = str(unit)
    if name in DISPLAY_SYMBOLS:
        return DISPLAY_SYMBOLS[name]
    if name == "dimensionless":
        return ""
    # pint writes litres as "l"; clinical labs write "L" (dL, mL, µL), which cannot be misread as 1
    return re.sub(r"(?<![A-Za-z])([mdµu]?)l(?![A-Za-z])", r"\1L", f"{unit:~P}")


# -- units read strictly ---------------------------------------------------------------------

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


#: The unit names a clinical laboratory writes, as pint names them. Nothing else is read: a unit
#: is text from this vocabulary, never an expression (no numbers, no arithmetic, no comments).
NUMERATOR_UNITS: dict[str, str] = {
    **{name: name for name in ("g", "mg", "ug", "ng", "kg", "mol", "mmol", "umol", "nmol")},
    **{name: name for name in ("U", "IU", "kat", "ukat", "nkat", "cells", "cell")},
    "mcg": "ug",
}
DENOMINATOR_UNITS: dict[str, str] = {
    **{name: name for name in ("L", "dL", "mL", "uL", "l", "dl", "ml", "ul")},
    "mm3": "mm**3",
}
#: The volumes a laboratory counts cells in.
_COUNT_VOLUMES = frozenset({"L", "l", "uL", "ul", "mm**3"})
#: Percent of predicted: "%", "% predicted", "% of predicted", "percent"; a fraction is "fraction".
_PERCENT = re.compile(r"^(?:%|percent)(?:\s*(?:of\s+)?pred(?:icted)?)?$", re.I)
_ULN = re.compile(r"^(?:[x×*]\s*)?ULN$", re.I)
_EGFR_UNIT = re.compile(r"^m[lL]\s*/\s*min\s*/\s*1\.73\s*m\s*(?:\^2|\*\*2|2)$")
_FLOW = re.compile(r"^m[lL]\s*/\s*min$")
_SCALED = re.compile(
    r"""^(?:(?:[xX×*]\s*)?10\s*(?P<power_sign>\^|\*\*|\*|[eE])\s*(?P<exponent>[0-9]{1,2})\s*)?
        (?P<numerator>[A-Za-z]+)?
        \s*(?:/\s*(?P<denominator>[A-Za-z]+)\s*(?P<power>(?:\^|\*\*)?\s*3)?)?$""",
    re.X,
)


class UnitTextError(InputError):
    """Unit text that is not a unit of the book's vocabulary."""


def quoted(text: Any) -> str:
    """Typed text as a message quotes it, shortened: a pasted paragraph is not echoed whole."""
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:59] + "…"


def read_unit(text: str) -> pint.Quantity:
    """A unit a person typed, read from the vocabulary above, as a Quantity of one unit.

    ``g/dL``, ``µmol/L``, ``×10⁹/L``, ``10^3/µL``, ``/mm³``, ``cells/L``, ``U/L``, ``µkat/L``,
    ``mL/min/1.73 m²``, ``%``, ``% predicted``, ``x ULN``, ``fraction``. Raises UnitTextError for
    anything else: a number (``2 g/L``), arithmetic (``g/L*2``), a comment, an unknown name.
    """
    if not isinstance(text, str):
        raise UnitTextError(f"{quoted(text)} is not unit text")
    return _read_unit_text(text)


@functools.lru_cache(maxsize=1024)
def _read_unit_text(text: str) -> pint.Quantity:
    # a screening reads the same few unit texts over and over (each lab, each dose): each is
    # parsed once; a text refused raises each time, as exceptions are not kept
    original = text
    text = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", lambda m: "10^" + m[1].translate(_SUPERSCRIPTS), text)
    text = text.translate(_SUPERSCRIPTS).replace("µ", "u").replace("μ", "u").strip()
    if not text.isprintable():  # (white space at its edges aside) no unit a person typed
        # (str.isprintable: a control character, and every space but the plain one)
        raise UnitTextError(
            f"{quoted(original)}: a control character, tab, line break or a space other than "
            "the plain one (a non-breaking space, pasted from a report) in it"
        )
    if len(text) > 40:
        raise UnitTextError(f"{quoted(original)} is not a unit")
    if _PERCENT.match(text):
        return ureg.Quantity(1, "percent_predicted")
    if text.lower() == "fraction":
        return ureg.Quantity(1, "dimensionless")
    if _ULN.match(text):
        return ureg.Quantity(1, "xULN")
    if _EGFR_UNIT.match(text):
        return ureg.Quantity(1, "mL_per_min_per_1_73_m2")
    if _FLOW.match(text):
        # a clearance as a flow (a 24-hour urine collection's, or the eGFR without its
        # body-surface part): not the eGFR the protocol's threshold is written in
        raise UnitTextError(
            f"{quoted(original)}: a clearance without its body-surface part, /1.73 m²"
        )
    match = _SCALED.match(text)
    if not match or not (match.group("numerator") or match.group("denominator")):
        raise UnitTextError(f"{quoted(original)} is not a unit")
    exponent, numerator = match.group("exponent"), match.group("numerator")
    if match.group("power_sign") in ("e", "E"):
        # "10E9" is the number 10^10 written in E notation, though a report may mean 10^9:
        # either reading would be a guess
        raise UnitTextError(
            f"{quoted(original)}: 10{match.group('power_sign')}{exponent} is the number 10^"
            f"{int(exponent) + 1} in E notation, though a report may mean 10^{exponent}; write "
            f"the power with ^ (10^{exponent})"
        )
    denominator, power = match.group("denominator"), match.group("power")
    if numerator is not None and numerator not in NUMERATOR_UNITS:
        if numerator in DENOMINATOR_UNITS:  # a volume where an amount is read
            raise UnitTextError(
                f"{quoted(original)}: {quoted(numerator)} is a volume, which a result is "
                "given per (g/dL, µmol/L, 10^9/L), not an amount measured"
            )
        raise UnitTextError(
            f"{quoted(original)}: {quoted(numerator)} is not a unit name the book knows"
        )
    if denominator is not None:
        if power is not None:
            denominator += "3"
        if denominator not in DENOMINATOR_UNITS:
            raise UnitTextError(
                f"{quoted(original)}: {quoted(denominator)} is not a volume the book knows"
            )
    if exponent is not None and int(exponent) not in (3, 6, 9, 12):
        raise UnitTextError(f"{quoted(original)}: 10^{exponent} is not a scale laboratories use")
    counted = numerator is None or NUMERATOR_UNITS[numerator] in ("cells", "cell")
    if exponent is not None and not counted:
        # a scale is how a count is reported (10^9/L); "10^3 g/L" is arithmetic on a unit
        raise UnitTextError(
            f"{quoted(original)}: a power of ten scales a cell count, not {numerator}"
        )
    if counted and denominator is not None and DENOMINATOR_UNITS[denominator] not in _COUNT_VOLUMES:
        # "10^9/dL" is ten times "10^9/L": a slip no laboratory reports, never read as a count
        raise UnitTextError(
            f"{quoted(original)}: cells are counted per litre (L), per microlitre (µL) or per "
            "cubic millimetre (mm³), not per " + quoted(denominator).strip("'")
        )
    quantity = ureg.Quantity(10 ** int(exponent) if exponent else 1)
    if numerator is not None:
        quantity = quantity * ureg.Unit(NUMERATOR_UNITS[numerator])
    if denominator is not None:
        quantity = quantity / ureg.Quantity(1, DENOMINATOR_UNITS[denominator])
    return quantity


# -- analyte contexts: mass <-> amount of substance needs a molar mass ------------------------


_MASS_CONCENTRATION = ureg.get_dimensionality("[mass] / [length] ** 3")
_SUBSTANCE_CONCENTRATION = ureg.get_dimensionality("[substance] / [length] ** 3")


def convert(
    quantity: pint.Quantity, unit: Any, molar_mass: pint.Quantity | None = None
) -> pint.Quantity:
    """``quantity`` in ``unit``; a mass concentration and a substance concentration convert
    through pint's chemistry context with ``molar_mass`` (g/dL <-> mmol/L), and nothing else
    does: the context's other transformations (to a mass fraction, with no volume) are never
    reached, so a wrong kind of unit stays a DimensionalityError.

    >>> convert(ureg.Quantity(8, "g/dL"), "g/L")
    <Quantity(80.0, 'gram / liter')>
    >>> round(convert(ureg.Quantity(1, "mg/dL"), "umol/L", ureg.Quantity(584.66, "g/mol")).m, 3)
    17.104
    """
    mass = None if molar_mass is None else (molar_mass.magnitude, molar_mass.units)
    factor, target = _conversion_factor(quantity.units, unit, mass)
    return ureg.Quantity(quantity.magnitude * factor, target)


@functools.lru_cache(maxsize=4096)
def _conversion_factor(
    source: pint.Unit, unit: Any, molar_mass: tuple[float, pint.Unit] | None
) -> tuple[float, pint.Unit]:
    """The factor from ``source`` to ``unit`` (every unit here is multiplicative: no offsets),
    computed by pint once per pair: a screening log converts the same few units many times."""
    target = ureg.Quantity(1, unit)
    one = ureg.Quantity(1.0, source)
    kinds = {one.dimensionality, target.dimensionality}
    if molar_mass is not None and kinds == {_MASS_CONCENTRATION, _SUBSTANCE_CONCENTRATION}:
        mw = ureg.Quantity(*molar_mass)
        return float(one.to(target.units, "chemistry", mw=mw).magnitude), target.units
    return float(one.to(target.units).magnitude), target.units
