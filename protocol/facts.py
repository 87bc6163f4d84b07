"""Facts with provenance, and the quantity types study.yaml is written in.

A ``Fact`` is one protocol fact: its value and where it comes from. The rules for provenance are
checked when study.yaml is loaded:

- ``registry``: the record says it; ``registry_field`` names where in the stored API v2 record,
  and ``quote`` (optional) is the record's own words when the value is read out of a sentence.
- ``label`` / ``literature``: a product label or a publication; ``source`` is a citation key
  of study.yaml's ``references``.
- ``assumption``: not in the record; ``note`` says what must be confirmed against the full
  protocol. The book marks every assumption where it shows it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, Literal, TypeVar

import pint
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

from protocol.units import ureg

T = TypeVar("T")

Provenance = Literal["registry", "label", "literature", "assumption"]

#: A criterion's, a lab value's or a washout entry's status: one type for every rule.
Status = Literal["pass", "fail", "unknown"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "unknown")

PROVENANCE_LABELS: dict[str, str] = {
    "registry": "registry record",
    "label": "product label",
    "literature": "literature",
    "assumption": "ASSUMPTION (not in the record)",
}


class Fact(BaseModel, Generic[T]):
    """One protocol fact and its provenance."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True
    )

    value: T
    provenance: Provenance
    registry_field: str | None = None
    quote: str | None = None
    source: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _provenance_is_complete(self) -> Fact[T]:
        if self.provenance == "registry" and not self.registry_field:
            raise ValueError(
                "provenance 'registry' needs 'registry_field': the path in the stored record "
                "(protocol/registry/NCT06375005.json) that says it"
            )
        if self.provenance in ("label", "literature") and not self.source:
            raise ValueError(
                f"provenance '{self.provenance}' needs 'source': a citation key from 'references'"
            )
        if self.provenance == "assumption" and not self.note:
            raise ValueError(
                "provenance 'assumption' needs 'note': what to confirm against the full protocol"
            )
        if self.provenance != "registry" and (self.registry_field or self.quote):
            raise ValueError(
                f"'registry_field' and 'quote' belong to registry facts, not to "
                f"provenance '{self.provenance}'"
            )
        return self

    @property
    def is_assumption(self) -> bool:
        return self.provenance == "assumption"


#: Where a limit's own value falls: ``within`` (exactly 18 months is "at most 18 months"; a
#: malignancy on the window's first day is within the window) or ``outside``.
Boundary = Literal["within", "outside"]

# Words in the registry's sentence that settle on which side the boundary falls. Where the
# sentence has none of them ("within 5 years prior"), the study.yaml field and its protocol
# issue decide.
_BOUNDARY_WORDS: tuple[tuple[str, Boundary], ...] = (
    ("≤", "within"),
    ("at most", "within"),
    ("no more than", "within"),
    ("greater than", "within"),
    ("more than", "within"),
    ("≥", "outside"),
    ("at least", "outside"),
    ("less than", "outside"),
)


class Limit(Fact[T], Generic[T]):
    """A fact that is a limit (a duration or a window), with the side its boundary falls on.

    One field decides both the check and its sentence, so the rule and the words "exactly 18
    months passes" cannot diverge.

    >>> limit = Limit[int](value=18, provenance="assumption", note="synthetic", boundary="within")
    >>> limit.in_order(17, 18), limit.in_order(18, 18), limit.in_order(19, 18)
    (True, True, False)
    >>> Limit[int](value=18, provenance="assumption", note="x", boundary="outside").in_order(18, 18)
    False
    """

    boundary: Boundary

    @model_validator(mode="after")
    def _boundary_follows_the_quote(self) -> Limit[T]:
        said = quote_boundary(self.quote or "")
        if said is not None and said != self.boundary:
            raise ValueError(
                f"boundary {self.boundary!r} disagrees with the registry's words "
                f"{self.quote!r}, which put the limit's own value {said}"
            )
        return self

    def in_order(self, earlier: Any, later: Any) -> bool:
        """``earlier`` is before ``later``, or equal to it when the boundary is within."""
        return bool(earlier < later or (self.boundary == "within" and earlier == later))

    @property
    def exactly(self) -> str:
        """What the limit's own value does, for a sentence: "passes" or "fails"."""
        return "passes" if self.boundary == "within" else "fails"


def quote_boundary(quote: str) -> Boundary | None:
    """The side a registry sentence puts a limit's own value on, if its words say.

    >>> quote_boundary("Disease duration of ≤ 18 months"), quote_boundary("within 5 years")
    ('within', None)
    >>> quote_boundary("Disease duration of greater than 3 years")
    'within'
    """
    lowered = quote.lower()
    for words, side in _BOUNDARY_WORDS:
        if words in lowered:
            return side
    return None


#: A study.yaml quantity: a plain decimal (no sign, exponent, comma or underscore) and one unit
#: name, or two joined by "/" (``160 mg``, ``113.12 g/mol``, ``48 week``), or a count per unit
#: of time (``1/week``; ``1.0 1/week`` as the serializer writes it). Only the unit's name goes to
#: pint, as a lookup: a text is never evaluated (``9**9**9 mg`` would not finish, ``160 mg*2``
#: would be 320 mg, ``160,0 mg`` 1600 mg).
_QUANTITY_TEXT = re.compile(
    r"(?P<number>[0-9]+(?:\.[0-9]+)?)[ ]?"
    r"(?P<unit>1?/[A-Za-z]{1,20}|[A-Za-zµ]{1,20}(?:/[A-Za-zµ]{1,20})?)"
)


def quantity_text(raw: Any) -> pint.Quantity | None:
    """A study.yaml text read as a quantity by the grammar above, or None when it is not one
    (``4 week``, ``1/week``; not ``2024-0381`` nor ``9**9**9 hours``).

    >>> quantity_text("160mg") == quantity_text("0.16 g"), quantity_text("2024-0381")
    (True, None)
    """
    if not isinstance(raw, str):
        return None
    try:
        return _strict_quantity(raw, "a quantity", "160 mg")
    except ValueError:
        return None


def _strict_quantity(raw: str, kind: str, example: str) -> pint.Quantity:
    expected = f"expected {kind} such as '{example}' (a decimal number and a unit name)"
    match = _QUANTITY_TEXT.fullmatch(raw.strip())
    if match is None and raw.strip().startswith("-"):
        raise ValueError(f"negative; expected {kind} of zero or more, such as '{example}'")
    if match is None:
        raise ValueError(f"not a quantity; {expected}")
    text, unit = match["number"], match["unit"]
    _refuse_more_digits(text)
    number = float(text) if "." in text else int(text)  # as pint reads it: 160 stays whole
    per = unit.startswith(("1/", "/"))  # a count per unit of time
    try:
        units = ureg.parse_units(unit.split("/", 1)[1] if per else unit)
    except Exception:  # pint's many error kinds for a word that is not a unit
        raise ValueError(f"{unit!r} is not a unit; {expected}") from None
    if not _a_unit_of_amount(units):
        # a temperature scale (degC) or a logarithmic unit (dB, octave), alone or in a quotient
        # (year/dB): no quantity of a protocol, and pint cannot multiply or compare them
        raise ValueError(f"{unit!r} is a scale, not a unit of amount; {expected}")
    return number / ureg.Quantity(1, units) if per else number * units


def _a_unit_of_amount(units: Any) -> bool:
    """Whether every unit of a parsed unit multiplies as an amount does: pint names a scale
    inside a quotient ``delta_…`` (a unit it may not even define), and a scale alone is not
    multiplicative."""
    try:
        if any(str(name).startswith("delta_") for name in units._units):
            return False
        return bool(ureg.Quantity(1, units)._is_multiplicative)
    except Exception:  # pint's error kinds for a unit it cannot build a quantity of
        return False


def _refuse_more_digits(text: str) -> None:
    """A study's number has at most the significant digits a value may have (protocol.inputs):
    a threshold of 8.00000000000001 g/dL would be matched to 8 within the boundary tolerance,
    and its text would say one threshold while the rule applies another."""
    from protocol.inputs import MAX_SIGNIFICANT_DIGITS, significant_digits

    digits = significant_digits(text)
    if digits > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(
            f"{text} has {digits} significant digits; expected at most {MAX_SIGNIFICANT_DIGITS}"
        )


def _quantity_type(
    dimension: str, kind: str, example: str, most: str, why: str, least: str | None = None
) -> Any:
    """An annotated pint Quantity type that accepts text such as ``example`` of one dimension,
    zero or from ``least`` to ``most`` (beyond them a mistyped unit or number: ``70 kiloyear``,
    a dose of ``160 u``, pint's atomic mass unit)."""
    expected_dimensionality = ureg.get_dimensionality(dimension)
    ceiling = _strict_quantity(most, kind, example)
    floor = _strict_quantity(least, kind, example) if least else None

    def parse(raw: Any) -> pint.Quantity:
        if isinstance(raw, pint.Quantity):
            quantity = raw
        elif isinstance(raw, str):
            quantity = _strict_quantity(raw, kind, example)
        else:
            raise ValueError(f"{raw!r} is not text; expected {kind} written like '{example}'")
        if not isinstance(quantity, pint.Quantity) or (
            quantity.dimensionality != expected_dimensionality
        ):
            raise ValueError(
                f"{raw!r} is not {kind}: its dimension is "
                f"{getattr(quantity, 'dimensionality', 'none')}; expected {kind} such as "
                f"'{example}'"
            )
        if quantity.magnitude < 0:
            raise ValueError(f"{raw!r} is negative; expected {kind} of zero or more")
        tiny = floor is not None and quantity.magnitude > 0 and quantity < floor
        if quantity > ceiling or tiny:
            span = f"0 or {least} to {most}" if least else f"at most {most}"
            raise ValueError(f"{raw!r} is implausible; expected {kind} of {span} ({why})")
        return quantity

    return Annotated[
        pint.Quantity,
        PlainValidator(parse),
        PlainSerializer(lambda q: f"{q:~P}", return_type=str),
        WithJsonSchema({"type": "string", "description": f"{kind}, e.g. '{example}'"}),
    ]


# The ceilings are far above any value of this protocol, and below the first mistyped prefix
# or unit (kg for mg, kiloyear for year): what no dose, schedule or molecule reaches.
Mass = _quantity_type(
    "[mass]", "a mass", "160 mg", "1 kg", "no dose weighs a kilogram, or under a microgram", "1 ug"
)
Frequency = _quantity_type(
    "1/[time]", "a frequency", "1/week", "24/day", "no protocol doses more than hourly"
)
Duration = _quantity_type(
    "[time]", "a duration", "48 week", "120 year", "no age, window or schedule exceeds a life"
)
Volume = _quantity_type(
    "[length]**3", "a volume", "1 mL", "10 L", "no dose is 10 litres, or under a microlitre", "1 uL"
)
MolarMass = _quantity_type(
    "[mass]/[substance]",
    "a molar mass",
    "113.12 g/mol",
    "10000000 g/mol",
    "the largest proteins weigh a few million g/mol",
)


class Threshold(BaseModel):
    """A protocol threshold as the registry writes it: a strict comparison and a quantity.

    Written in study.yaml as text, e.g. ``< 8.0 g/dL``, ``> 1.5 x ULN``, ``< 3 x 10^9/L``.
    A value *meets* the threshold (is excluded) when ``value <comparison> quantity`` holds.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)

    comparison: Literal["<", ">"]
    quantity: pint.Quantity
    written: str

    def __str__(self) -> str:
        return self.written


_THRESHOLD_TEXT = r"^\s*([<>])\s*([0-9]+(?:\.[0-9]+)?)?\s*(.*?)\s*$"


def parse_threshold(raw: Any) -> Threshold:
    """``'< 8.0 g/dL'`` -> Threshold('<', 8.0 g/dL); ``'> ULN'`` means ``> 1 x ULN``."""
    import re

    from protocol.units import read_unit

    if isinstance(raw, Threshold):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not text; expected a threshold such as '< 8.0 g/dL'")
    if any(ch.isdecimal() and not "0" <= ch <= "9" for ch in raw):
        # a full-width or another script's digit (８, ٨) is read nowhere else (lab, ages, days)
        raise ValueError(f"{raw!r}: write its number in the digits 0-9, such as '< 8.0 g/dL'")
    match = re.match(_THRESHOLD_TEXT, raw)
    if not match:
        raise ValueError(f"{raw!r} is not a threshold; expected '<' or '>' then a quantity")
    comparison, number, unit_text = match.groups()
    if re.match(r"[-+=eE.,]", unit_text):  # what stands after the sign is not a plain number
        raise ValueError(
            f"{raw!r} is not a threshold; expected '<' or '>', then a plain decimal (such as 8.0 "
            "or 75) and a unit; no '<=', signs or exponents"
        )
    try:
        _refuse_more_digits(number or "1")
    except ValueError as exc:
        raise ValueError(f"{raw!r}: {exc}") from None
    try:
        quantity = float(number or 1) * read_unit(unit_text)
    except Exception as exc:
        raise ValueError(
            f"{raw!r}: the unit {unit_text!r} is not one pint can read ({exc})"
        ) from None
    return Threshold(comparison=comparison, quantity=quantity, written=raw.strip())


ThresholdText = Annotated[
    Threshold,
    PlainValidator(parse_threshold),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "a threshold, e.g. '< 8.0 g/dL'"}),
]


class Window(BaseModel):
    """A washout window: a duration (weeks, calendar months or years) or a lifetime ("ever")."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)

    duration: pint.Quantity | None
    lifetime: bool = False

    def __str__(self) -> str:
        from protocol.units import format_quantity

        return "ever (lifetime)" if self.lifetime else format_quantity(self.duration)


_WINDOW_UNITS = ("day", "week", "month", "year")


#: The longest window a date can be counted back by (a lifetime is written ``ever``).
MAX_WINDOW_YEARS = 100


def parse_window(raw: Any) -> Window:
    if isinstance(raw, Window):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("ever", "lifetime"):
        return Window(duration=None, lifetime=True)
    duration = TypeAdapter(Duration).validate_python(raw)
    if duration.to("year").magnitude > MAX_WINDOW_YEARS:  # calendar dates end in 9999
        raise ValueError(
            f"{raw!r} is longer than {MAX_WINDOW_YEARS} years; expected a window such as "
            "'4 week', or 'ever' for a lifetime"
        )
    if str(duration.units) not in _WINDOW_UNITS or not float(duration.magnitude).is_integer():
        raise ValueError(
            f"{raw!r} is not a whole number of days, weeks, months or years; calendar arithmetic "
            f"needs one, e.g. '4 week', '3 month', or 'ever'"
        )
    return Window(duration=duration)


WindowText = Annotated[
    Window,
    PlainValidator(parse_window),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "a window, e.g. '4 week', '3 month', 'ever'"}),
]


class QuantityRange(BaseModel):
    """A plausible range, inclusive at both ends: ``1 to 25 g/dL``.

    A value outside it is refused as implausible (check the value and its unit), the way an
    electronic data capture system's hard edit check refuses it.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)

    low: pint.Quantity
    high: pint.Quantity
    written: str

    def __str__(self) -> str:
        return self.written

    def contains(self, quantity: pint.Quantity, *contexts: str) -> bool:
        """Inclusive at both ends, within a relative 1e-13: the rounding noise of unit
        conversions, here or before (a value written exactly at an end in any unit is in), and
        far below what 12 significant digits can show (5000.000001 mg is out of 0.01 to 5000 mg;
        a relative 1e-9 had let it in)."""
        if not contexts and quantity.units == self.low.units:
            value = quantity.magnitude  # already in the range's unit: no conversion to make
        else:
            value = quantity.to(self.low.units, *contexts).magnitude
        low, high = self.low.magnitude, self.high.magnitude
        return bool(low * (1 - 1e-13) <= value <= high * (1 + 1e-13))


_RANGE_TEXT = r"^\s*([0-9]+(?:\.[0-9]+)?)\s+to\s+([0-9]+(?:\.[0-9]+)?)\s*(.*?)\s*$"


def parse_range(raw: Any) -> QuantityRange:
    """``'1 to 25 g/dL'`` -> QuantityRange(1 g/dL, 25 g/dL); the unit is read by units.read_unit."""
    import re

    from protocol.units import read_unit

    if isinstance(raw, QuantityRange):
        return raw
    match = re.match(_RANGE_TEXT, raw) if isinstance(raw, str) else None
    if not match:
        raise ValueError(f"{raw!r} is not a range; expected 'LOW to HIGH UNIT' ('1 to 25 g/dL')")
    low, high, unit_text = match.groups()
    try:
        _refuse_more_digits(low)
        _refuse_more_digits(high)
        unit = read_unit(unit_text) if unit_text else ureg.Quantity(1)
    except ValueError as exc:
        raise ValueError(f"{raw!r}: {exc}") from None
    if float(low) > float(high):
        raise ValueError(f"{raw!r}: the low end is above the high end")
    return QuantityRange(low=float(low) * unit, high=float(high) * unit, written=raw.strip())


RangeText = Annotated[
    QuantityRange,
    PlainValidator(parse_range),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "a range, e.g. '1 to 25 g/dL'"}),
]


class ConversionFactor(BaseModel):
    """A published conversion factor between a conventional and an SI unit: ``17.1 µmol/L per
    mg/dL`` means 1 mg/dL = 17.1 µmol/L."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)

    si: pint.Quantity  # the SI amount equal to one conventional unit
    conventional: pint.Quantity  # one conventional unit
    written: str

    def __str__(self) -> str:
        return self.written

    @property
    def molar_mass(self) -> pint.Quantity:
        """The molar mass the factor implies (what a pint context needs): conventional / SI."""
        return (self.conventional / self.si).to("g/mol")


def parse_factor(raw: Any) -> ConversionFactor:
    import re

    from protocol.units import read_unit

    if isinstance(raw, ConversionFactor):
        return raw
    match = (
        re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(\S+)\s+per\s+(\S+)\s*$", raw)
        if isinstance(raw, str)
        else None
    )
    if not match:
        raise ValueError(f"{raw!r} is not a factor; expected e.g. '17.1 umol/L per mg/dL'")
    number, si_unit, conventional_unit = match.groups()
    if float(number) <= 0:  # every conversion would divide by it, or give zero
        raise ValueError(f"{raw!r}: a factor of zero; expected a positive one")
    try:
        si = float(number) * read_unit(si_unit)
        conventional = read_unit(conventional_unit)
    except ValueError as exc:
        raise ValueError(f"{raw!r}: {exc}") from None
    try:  # a substance concentration per mass concentration: the two imply a molar mass
        (conventional / si).to("g/mol")
    except pint.DimensionalityError:
        raise ValueError(
            f"{raw!r}: expected an amount of substance per volume for each mass per volume "
            "(e.g. '17.1 umol/L per mg/dL')"
        ) from None
    return ConversionFactor(si=si, conventional=conventional, written=raw.strip())


FactorText = Annotated[
    ConversionFactor,
    PlainValidator(parse_factor),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "e.g. '17.1 umol/L per mg/dL'"}),
]
