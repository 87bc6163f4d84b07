"""Strict reading of the values people type: numbers, dates, free text and medicine names.

A value is read exactly as written or refused with a sentence saying what was expected; nothing
is guessed. Each reader raises ``ValueError`` (pydantic turns it into a field error naming the
path; the command line turns it into exit 2). The same readers back the pydantic types of the
participant record and the washout input (:data:`StrictDate`, :data:`Number`, :data:`Text`,
:data:`MedicineName`) and the command-line arguments.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

#: The calendar dates accepted anywhere: no participant or dose date falls outside them, and
#: date arithmetic of any window (at most a few years) stays far from Python's limits.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)

#: A decimal as a laboratory writes it: digits, at most one decimal point, an optional sign and
#: a small exponent. No thousands separators, no decimal comma, no underscores.
_DECIMAL = re.compile(r"^[-+]?(?P<digits>[0-9]+(?:\.[0-9]+)?)(?:[eE](?P<exponent>[-+]?[0-9]+))?$")
#: The largest power of ten accepted in an exponent (1e12 cells/L is a count the labs write).
MAX_EXPONENT = 15
#: The most significant digits a value may have. No laboratory or dose reports more; and a value
#: with more could lie closer to a threshold than the engine tells apart from it (a double holds
#: about 16 digits, and a threshold compared in another unit is matched within a relative 1e-14:
#: 7.9999999999999999 g/dL was read as 8, and passed a "< 8" exclusion).
MAX_SIGNIFICANT_DIGITS = 12
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def read_decimal(raw: Any) -> float:
    """A finite decimal number, from a number or its text: ``7.5``, ``"7.5"``, ``"1.2e3"``.

    The message says what is wrong with the value; the caller names the field it came from.

    Refused: booleans, NaN and infinities, ``"1,200"``, ``"7,5"``, ``"1_000"``, ``"0x10"``,
    ``"7.5 g/dL"`` (text after the number), and exponents beyond ±15.
    """
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"{_show(raw)} is not a number; expected a decimal number such as 7.5")
    if isinstance(raw, int):
        try:
            number = float(raw)
        except OverflowError:
            raise ValueError(f"{_show(raw)} is too large a number; check the value") from None
        if abs(raw) >= 10 ** (MAX_EXPONENT + 1):  # as a text of that size is refused
            raise ValueError(
                f"{_show(raw)} is of the order of 10^{len(str(abs(raw))) - 1}; expected a "
                f"number from 10^-{MAX_EXPONENT} to 10^{MAX_EXPONENT} (check the value)"
            )
        if number != raw:  # more digits than a float holds: read as another number
            raise ValueError(
                f"{_show(raw)} has {significant_digits(str(abs(raw)))} significant digits; "
                f"expected at most {MAX_SIGNIFICANT_DIGITS} (no measurement or dose is written "
                "with more)"
            )
    elif isinstance(raw, float):
        number = raw
    elif isinstance(raw, str):
        text = raw.strip()
        match = _DECIMAL.match(text)
        if not match:
            hint = ""
            if "," in text:
                hint = " (use a point for decimals and no thousands separator)"
            elif "_" in text:
                hint = " (no underscores)"
            elif re.match(r"^[-+]?0[xXoObB]", text):
                hint = " (a decimal number, not hexadecimal, octal or binary)"
            elif re.match(r"^[-+]?\.[0-9]", text):
                hint = " (a digit before the point: 0.5, not .5)"
            elif re.fullmatch(r"[-+]?[0-9]+\.", text):
                hint = " (a digit after the point, or no point: 5 or 5.0, not 5.)"
            elif percent := re.fullmatch(r"([-+]?[0-9]+(?:\.[0-9]+)?)\s*[%％]", text):
                # a percentage (an FVC's 78%, a workbook's cell shown so): no unit column to
                # give the sign in, for a field in per cent
                hint = (
                    f" (the number alone, {percent[1]}, without the per cent sign; a lab's unit "
                    "goes in its unit column)"
                )
            elif re.fullmatch(r"[-+]?[0-9]+(?::[0-9]+)+(?:\.[0-9]+)?", text):
                # 1:30, as a clock or a ratio writes it (YAML 1.1 read it as 90, in base 60)
                hint = " (a time or a ratio, not a number)"
            elif re.match(r"^[-+]?[0-9.]*[0-9](?:[eE][-+]?[0-9]+)?\s*[^\s0-9.eE+-]", text):
                hint = " (the number alone: give the unit separately)"
            raise ValueError(
                f"{_show(raw)} is not a decimal number{hint}; expected digits with at most one "
                f"decimal point, such as 7.5"
            )
        if re.match(r"^[-+]?0[0-9]", text):
            # 0171: YAML 1.1 reads it as octal, a spreadsheet drops the zero, a reader wonders
            # whether a point was lost (0.171): never guessed
            plain = text.lstrip("+-").lstrip("0") or "0"
            plain = "0" + plain if plain.startswith(".") else plain
            raise ValueError(
                f"{_show(raw)} is written with a leading zero; expected the number as it is "
                f"written without it, such as {'-' if text.startswith('-') else ''}{plain}"
            )
        exponent = int(match.group("exponent") or 0)
        if abs(exponent) > MAX_EXPONENT:
            raise ValueError(
                f"{_show(raw)}: the exponent {exponent} is beyond ±{MAX_EXPONENT}; check the value"
            )
        # the value's size, however written: 1 and 400 zeros, or 0.000...08, is no measurement
        # or dose, and a double may not even hold it (1e400 is infinite, 1e-400 zero)
        size = order_of_magnitude(match.group("digits"))
        if size is not None and abs(size + exponent) > MAX_EXPONENT:
            raise ValueError(
                f"{_show(raw)} is of the order of 10^{size + exponent}; expected a number from "
                f"10^-{MAX_EXPONENT} to 10^{MAX_EXPONENT} (check the value)"
            )
        significant = significant_digits(match.group("digits"))
        if significant > MAX_SIGNIFICANT_DIGITS:
            raise ValueError(
                f"{_show(raw)} has {significant} significant digits; expected at most "
                f"{MAX_SIGNIFICANT_DIGITS} (no measurement or dose is written with more)"
            )
        number = float(text)
    else:
        raise ValueError(f"{_show(raw)} is not a number; expected a decimal number such as 7.5")
    if not math.isfinite(number):
        raise ValueError(f"{_show(raw)} is not a finite number; expected a decimal number")
    return number + 0.0  # -0.0 is 0: never shown as "-0" beside a value


def order_of_magnitude(digits: str) -> int | None:
    """The power of ten of a decimal's first significant digit (``"250"``: 2, ``"0.025"``: -2);
    None for zero."""
    whole, _, fraction = digits.partition(".")
    whole = whole.lstrip("0")
    if whole:
        return len(whole) - 1
    first = len(fraction) - len(fraction.lstrip("0"))
    return -(first + 1) if fraction.strip("0") else None


def float_digits(number: float) -> int:
    """How many significant digits a double's shortest decimal has (what Python writes for it:
    0.1 has 1, 79.99999999999999 has 16): a number from a spreadsheet or a Parquet file has
    no text of its own, and this is the decimal it stands for."""
    mantissa = repr(abs(number)).split("e")[0]
    return significant_digits(mantissa)


#: More significant digits than any measurement is written with (a count of 1.49 x10^9 cells/L
#: has 3): a lab's number with as many is not its value as a laboratory writes it, and is
#: checked as any text is (13812345678, an ID card's 18 digits).
MOST_DIGITS_OF_A_MEASUREMENT = 8


def significant_digits(digits: str) -> int:
    """How many significant digits a decimal's digits have (``"0.0250"``: 2, its zeros before
    the first and after the last other digit aside: they do not change the value)."""
    return len(digits.replace(".", "").strip("0"))


def read_date(raw: Any) -> date:
    """A calendar date, as a YAML/JSON date or the text ``YYYY-MM-DD``, from 1900 to 2100.

    Refused: integers (Unix seconds), datetimes, times and time zones, other layouts
    (``25/03/2025``, ``2025-3-5``), impossible dates (``2025-02-30``) and years outside the range.
    """
    if isinstance(raw, datetime):
        raise ValueError(
            f"{_show(str(raw))} has a time of day; expected a calendar date YYYY-MM-DD"
        )
    if isinstance(raw, date):
        value = raw
    elif isinstance(raw, str) and _ISO_DATE.match(raw.strip()):
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            if int(raw.strip()[:4]) < EARLIEST_DATE.year:  # year 0000: no date at all
                raise ValueError(
                    f"{_show(raw)} is outside {EARLIEST_DATE} to {LATEST_DATE}; expected a date "
                    "in that range: check the year"
                ) from None
            month = int(raw.strip()[5:7])
            missing = "no such month" if not 1 <= month <= 12 else "no such day in that month"
            raise ValueError(
                f"{_show(raw)} is not a calendar date ({missing}); expected a real day, YYYY-MM-DD"
            ) from None
    else:
        raise ValueError(f"{_show(raw)} is not a date; expected a calendar date YYYY-MM-DD")
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"{value} is outside {EARLIEST_DATE} to {LATEST_DATE}; expected a date in that "
            "range: check the year"
        )
    return value


def read_text(raw: Any, max_length: int = 200) -> str:
    """Free text: a string without control characters (no ESC, no carriage return), NFC."""
    if not isinstance(raw, str):
        raise ValueError(
            f"{_show(raw)} is not text; expected words (in quotes if they could "
            "read as a number, a date or true/false)"
        )
    # every kind of space (no-break, ideographic, ...) is a space; line breaks are refused below
    spaced = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in raw)
    text = unicodedata.normalize("NFC", spaced).strip()
    if not text:
        raise ValueError("is empty; expected some text")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in text):
        raise ValueError(
            f"{_show(raw)} contains a control or invisible character; expected plain text"
        )
    if len(text) > max_length:
        raise ValueError(f"is {len(text)} characters long; at most {max_length} are accepted")
    return text


# -- medicine names -------------------------------------------------------------------------

#: Letters that look like Latin letters, by script: a name that mixes them with Latin letters
#: imitates a Latin name ("mеthotrexate" with a Cyrillic е) and is refused.
_LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")


def _scripts(text: str) -> set[str]:
    scripts = set()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            scripts.add(name.split(" ")[0] if name else "UNKNOWN")
    return scripts


def read_medicine_name(raw: Any) -> str:
    """A medicine name: plain text, NFKC-normalised (full-width letters become ASCII), whose
    letters do not mix Latin with a look-alike script (Cyrillic, Greek, ...)."""
    text = unicodedata.normalize("NFKC", read_text(raw, max_length=120))
    if not any(character.isalpha() for character in text):  # a date, a dose, a code
        raise ValueError(f"{_show(raw)} has no letters; expected a medicine's name")
    scripts = _scripts(text)
    if "LATIN" in scripts and scripts & set(_LOOKALIKE_SCRIPTS):
        others = ", ".join(sorted(s.title() for s in scripts & set(_LOOKALIKE_SCRIPTS)))
        raise ValueError(
            f"{_show(raw)} mixes Latin letters with {others} letters that look alike; type "
            f"the name in one script"
        )
    return text


def normalise_name(name: str) -> str:
    """How medicine names are compared: Unicode-normalised (NFKC), case-folded; spaces,
    hyphens, dots, brackets and apostrophes do not matter."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"[\s\-_'’‘.()（）]+", "", folded)


def time_as_read(value: Any) -> str | None:
    """A date, time of day or duration as a site reads it (``'2025-03-03 12:00:00'``, ``a
    duration of 0 days 00:00:03``), not as Python writes it; None for any other value."""
    if isinstance(value, datetime):  # (pandas' Timestamp is one)
        return f"'{value.isoformat(sep=' ')}'"
    if isinstance(value, date | time):
        return f"'{value.isoformat()}'"
    if isinstance(value, timedelta) or type(value).__name__ == "Timedelta":
        return f"a duration of {value}"
    return None


def _show(value: Any) -> str:
    """A value as a message shows it: a file's words for empty, true and false, a mapping or a
    list by its kind, anything else as written (quoted if text), shortened."""
    if value is None or isinstance(value, bool):
        return {None: "an empty value", True: "true", False: "false"}[value]
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    # a workbook's or Parquet file's cell as a site reads it, not as Python writes it
    # (datetime.time(0, 0), Timedelta('0 days 00:00:03'), np.float64(7.5))
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if (as_read := time_as_read(value)) is not None:
        return as_read
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


# -- pydantic types -------------------------------------------------------------------------

StrictDate = Annotated[
    date,
    BeforeValidator(read_date),
    WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"}),
]
Number = Annotated[
    float,
    BeforeValidator(read_decimal),
    WithJsonSchema({"type": "number", "description": "a decimal number with a point"}),
]
Text = Annotated[str, BeforeValidator(read_text), Field(json_schema_extra={"maxLength": 200})]
MedicineName = Annotated[str, BeforeValidator(read_medicine_name)]
