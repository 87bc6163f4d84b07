"""Cross-check every registry fact in study.yaml against the stored registry record.

The stored record (protocol/registry/NCT06375005.json) is a faithful transcription of the
ClinicalTrials.gov record in the API v2 shape. A fact with provenance ``registry`` names the
field that says it (``registry_field``). Either its value equals that field, or, when the value
is read out of a sentence, its ``quote`` is the record's own words in that field and the value
is what those words say (``160mg per week`` -> dose 160 mg, frequency 1/week).

The criteria are compared bullet by bullet, count and verbatim text, with a readable diff.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pint
from pydantic import BaseModel

from protocol.errors import ProtocolDataError, RegistryMismatchError
from protocol.facts import Fact, Threshold, Window, parse_threshold
from protocol.units import format_quantity, ureg

RECORD_PATH = Path(__file__).parent / "registry" / "NCT06375005.json"
CRITERIA_FIELD = "protocolSection.eligibilityModule.eligibilityCriteria"

# The record's words for frequencies and routes, and what they mean.
FREQUENCY_PHRASES: dict[str, str] = {
    r"\btwice (?:a day|daily)\b": "2/day",
    r"\b(?:once (?:a day|daily)|daily)\b": "1/day",
    r"\b(?:per week|weekly|every week|once a week)\b": "1/week",
}
ROUTE_PHRASES: dict[str, str] = {
    r"\bsubcutaneous(?:ly)?\b": "SUBCUTANEOUS",
    r"\b(?:orally|oral)\b": "ORAL",
    r"\bintravenous(?:ly)?\b": "INTRAVENOUS",
}
_NUMBER_AND_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-zµμ][A-Za-zµμ/^*0-9.]*)")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^|~])")


@dataclass(frozen=True)
class Mismatch:
    """One disagreement between study.yaml and the record."""

    yaml_path: str
    registry_field: str
    study_says: str
    record_says: str
    detail: str = ""

    def __str__(self) -> str:
        text = (
            f"{self.yaml_path}: study.yaml says {self.study_says}, but the record at "
            f"{self.registry_field} says {self.record_says}"
        )
        return f"{text}\n{self.detail}" if self.detail else text


def load_record(path: Path | str = RECORD_PATH) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ProtocolDataError(str(path), [f"cannot read the stored record: {exc}"]) from None


def unescape_markdown(text: str) -> str:
    r"""The record escapes markdown characters (``\<``, ``10\^9``); readers see them plain."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text)


def resolve(record: dict[str, Any], field: str) -> Any:
    """The value at a dotted path with list indexes: ``a.b[0].c``. KeyError names the part."""
    value: Any = record
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"the record has no field {field!r} (stopped at {part!r})") from None
    return value


def registry_criteria(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The record's criteria as ``(category, text)`` in order, markdown escapes removed."""
    block = resolve(record, CRITERIA_FIELD)
    criteria = []
    category = None
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.lower().startswith("inclusion criteria"):
            category = "inclusion"
        elif stripped.lower().startswith("exclusion criteria"):
            category = "exclusion"
        elif stripped.startswith("* ") and category:
            criteria.append((category, unescape_markdown(stripped[2:])))
    return criteria


def quantity_in_words(words: str, dimensionality: Any) -> pint.Quantity:
    """The one quantity of a dimension that a phrase of the record states."""
    if dimensionality == ureg.get_dimensionality("1/[time]"):
        for pattern, frequency in FREQUENCY_PHRASES.items():
            if re.search(pattern, words, re.IGNORECASE):
                return ureg.Quantity(frequency)
        raise ValueError(f"no frequency in {words!r}")
    found = []
    for number, unit in _NUMBER_AND_UNIT.findall(words):
        try:
            quantity = ureg.Quantity(float(number), unit.rstrip(".;,").replace("^", "**"))
        except (pint.errors.PintError, ValueError, TypeError, AttributeError, SyntaxError):
            continue
        if quantity.dimensionality == dimensionality:
            found.append(quantity)
    if len(found) != 1:
        raise ValueError(f"{len(found)} quantities of dimension {dimensionality} in {words!r}")
    return found[0]


def threshold_in_words(words: str) -> Threshold:
    """The comparison and quantity a phrase of the record states: ``Hemoglobin <8.0 g/dL``."""
    match = re.search(r"([<>])\s*(\d+(?:\.\d+)?)?\s*([^;()]*)", words)
    if not match:
        raise ValueError(f"no '<' or '>' threshold in {words!r}")
    comparison, number, unit = match.groups()
    return parse_threshold(f"{comparison} {number or 1} {unit.strip().rstrip('.')}")


def route_in_words(words: str) -> str:
    for pattern, route in ROUTE_PHRASES.items():
        if re.search(pattern, words, re.IGNORECASE):
            return route
    raise ValueError(f"no route of administration in {words!r}")


def _show(value: Any) -> str:
    if isinstance(value, pint.Quantity):
        return format_quantity(value)
    if isinstance(value, Threshold | Window):
        return str(value)
    if isinstance(value, BaseModel):
        return repr(value.model_dump(by_alias=True))
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return f"{len(value)} entries"
    return repr(value)


def _comparable(value: Any) -> Any:
    """A study.yaml value in the record's JSON form."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, mode="json")
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _same_quantity(a: pint.Quantity, b: pint.Quantity) -> bool:
    return a.dimensionality == b.dimensionality and math.isclose(
        a.to_base_units().magnitude, b.to_base_units().magnitude, rel_tol=1e-9
    )


def check_fact(path: str, fact: Fact[Any], record: dict[str, Any]) -> Mismatch | None:
    field = fact.registry_field or ""
    try:
        in_record = resolve(record, field)
    except KeyError as exc:
        return Mismatch(path, field, _show(fact.value), "nothing", str(exc.args[0]))
    value = fact.value
    if fact.quote is not None:
        text = unescape_markdown(in_record) if isinstance(in_record, str) else None
        if text is None or fact.quote not in text:
            return Mismatch(
                path, field, f"the quote {fact.quote!r}", repr(in_record), "the quote is not there"
            )
        try:
            if isinstance(value, pint.Quantity):
                meant: Any = quantity_in_words(fact.quote, value.dimensionality)
                same = _same_quantity(value, meant)
            elif isinstance(value, Window):
                if value.lifetime:
                    meant = "ever" if re.search(r"\b(ever|prior use)\b", fact.quote, re.I) else None
                    same = meant == "ever"
                else:
                    meant = quantity_in_words(fact.quote, value.duration.dimensionality)
                    same = _same_quantity(value.duration, meant) and str(
                        value.duration.units
                    ) == str(meant.units)
            elif isinstance(value, Threshold):
                meant = threshold_in_words(fact.quote)
                same = meant.comparison == value.comparison and _same_quantity(
                    value.quantity, meant.quantity
                )
            elif isinstance(value, bool):
                meant = fact.quote
                same = False
            elif isinstance(value, int | float):
                numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", fact.quote)]
                meant = numbers
                same = numbers == [float(value)]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                meant = fact.quote
                same = all(v.lower() in fact.quote.lower() for v in value)
            elif isinstance(value, str) and path.endswith("route"):
                meant = route_in_words(fact.quote)
                same = meant == value
            else:
                meant = fact.quote
                same = value == fact.quote
        except ValueError as exc:
            return Mismatch(path, field, _show(value), f"the quote {fact.quote!r}", str(exc))
        if not same:
            return Mismatch(path, field, _show(value), f"{_show(meant)} ({fact.quote!r})")
        return None
    if isinstance(value, pint.Quantity):
        try:
            meant = ureg.Quantity(str(in_record).lower())
        except (pint.errors.PintError, ValueError):
            return Mismatch(path, field, _show(value), repr(in_record), "not a quantity")
        if not _same_quantity(value, meant):
            return Mismatch(path, field, _show(value), repr(in_record))
        return None
    if isinstance(value, str) and isinstance(in_record, str):
        in_record = unescape_markdown(in_record)
    if _comparable(value) != in_record:
        detail = ""
        if isinstance(value, list) and isinstance(in_record, list):
            mine = json.dumps(_comparable(value), indent=1, ensure_ascii=False).splitlines()
            theirs = json.dumps(in_record, indent=1, ensure_ascii=False).splitlines()
            detail = "\n".join(
                difflib.unified_diff(theirs, mine, "record", "study.yaml", lineterm="")
            )
        return Mismatch(path, field, _show(value), _show(in_record), detail)
    return None


def check_criteria(study: Any, record: dict[str, Any]) -> list[Mismatch]:
    """Count and verbatim text of every criterion, bullet by bullet, in registry order."""
    theirs = registry_criteria(record)
    mine = [(c.category, c.text) for c in study.criteria]
    mismatches = []
    for category in ("inclusion", "exclusion"):
        their_texts = [t for c, t in theirs if c == category]
        my_criteria = [c for c in study.criteria if c.category == category]
        if len(their_texts) != len(my_criteria):
            mismatches.append(
                Mismatch(
                    "criteria",
                    CRITERIA_FIELD,
                    f"{len(my_criteria)} {category} criteria",
                    f"{len(their_texts)} {category} criteria",
                )
            )
        for criterion, their_text in zip(my_criteria, their_texts, strict=False):
            if criterion.text != their_text:
                index = study.criteria.index(criterion)
                diff = "\n".join(
                    difflib.unified_diff(
                        [their_text], [criterion.text], "record", "study.yaml", lineterm=""
                    )
                )
                mismatches.append(
                    Mismatch(
                        f"criteria[{index}].text ({criterion.id})",
                        CRITERIA_FIELD,
                        repr(criterion.text),
                        repr(their_text),
                        diff,
                    )
                )
    if not mismatches and mine != theirs:  # pragma: no cover - counts and texts already agree
        mismatches.append(Mismatch("criteria", CRITERIA_FIELD, "another order", "this order"))
    return mismatches


def cross_check(study: Any, record: dict[str, Any] | None = None) -> list[Mismatch]:
    """Every disagreement between the registry facts of ``study`` and the record."""
    from protocol.study import iter_facts

    record = load_record() if record is None else record
    mismatches = []
    for path, fact in iter_facts(study):
        if fact.provenance == "registry":
            mismatch = check_fact(path, fact, record)
            if mismatch:
                mismatches.append(mismatch)
    mismatches += check_criteria(study, record)
    return mismatches


def registry_fact_count(study: Any) -> int:
    from protocol.study import iter_facts

    return sum(1 for _, fact in iter_facts(study) if fact.provenance == "registry")


def assert_matches_registry(study: Any, source: str, record: dict[str, Any] | None = None) -> None:
    mismatches = cross_check(study, record)
    if mismatches:
        raise RegistryMismatchError(
            f"{source} disagrees with the registry record {RECORD_PATH.name}",
            [str(m) for m in mismatches],
        )
