"""Cross-check study.yaml against the stored registry record, in both directions.

The stored record (protocol/registry/NCT06375005.json) is a faithful transcription of the
ClinicalTrials.gov record in the API v2 shape. Three checks, each a list of readable mismatches:

1. **Every registry fact agrees with the record.** A fact with provenance ``registry`` names the
   field that says it (``registry_field``). Either its value equals that field, or, when the value
   is read out of a sentence, its ``quote`` is the record's own words in that field and the value
   is what those words say (``160mg per week`` -> dose 160 mg, frequency 1/week).
2. **The criteria are the record's**, bullet by bullet, count and verbatim text, with a diff.
3. **Every rule the record states is a registry fact** (so relabelling one ``assumption`` or
   ``literature`` cannot hide a change). Every number with its unit in the record's criteria, its
   intervention and arm descriptions, its summary, and the structured enrollment and age fields
   (a *mention*) must be carried by a registry fact whose value equals it; where that fact reads
   the same text, its quote must hold the mention's words. The other way round, a fact a rule
   uses (a lab threshold, a washout window, the corticosteroid limit, a criterion rule, an age
   limit, the enrollment, a dose, frequency or duration) must be a registry fact when the record
   states something of its kind where that rule lives. A few mentions are not rules (the year in
   "ACR/EULAR 2013"): they are listed in :data:`NOT_RULES`, each with its reason.

A file given as the record is read strictly (:func:`load_record`): anything that is not one API v2
study object of this study is refused with one line (exit 2 of ``trialbook registry-check``). A
field that study.yaml names and the record lacks is a mismatch (exit 1), never a crash.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import functools
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pint
import yaml
from pydantic import BaseModel

from protocol.documents import MAX_BYTES, read_text_file
from protocol.errors import InternalError, Problem, ProtocolDataError, RegistryMismatchError
from protocol.facts import Fact, Threshold, Window, parse_threshold
from protocol.inputs import EARLIEST_DATE, LATEST_DATE
from protocol.study import STUDY_PATH, Study, iter_facts, load_study
from protocol.units import UnitTextError, format_quantity, read_unit, ureg

RECORD_PATH = Path(__file__).parent / "registry" / "NCT06375005.json"
CRITERIA_FIELD = "protocolSection.eligibilityModule.eligibilityCriteria"
ARMS_MODULE = "protocolSection.armsInterventionsModule"
ENROLLMENT_FIELD = "protocolSection.designModule.enrollmentInfo.count"
MINIMUM_AGE_FIELD = "protocolSection.eligibilityModule.minimumAge"
MAXIMUM_AGE_FIELD = "protocolSection.eligibilityModule.maximumAge"
NCT_ID_FIELD = "protocolSection.identificationModule.nctId"

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
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^|~])")


# -- the record file: one ClinicalTrials.gov API v2 study object, or refused ------------------

RECORD_EXPECTED = (
    "a ClinicalTrials.gov API v2 study object (a JSON object with "
    "protocolSection.identificationModule.nctId)"
)
RECORD_FILE_EXPECTED = (
    f"a UTF-8 JSON file of at most {MAX_BYTES // (1024 * 1024)} MiB holding {RECORD_EXPECTED}"
)
_NCT_NUMBER = re.compile(r"NCT[0-9]{8}")


class InvalidRecordError(ProtocolDataError):
    """A file given as the registry record is not one: what was found and what was expected.

    Its text is one line, ``FILE: FOUND; expected EXPECTED``.
    """

    def __init__(self, source: str, found: str, expected: str = RECORD_EXPECTED):
        self.found = found
        self.expected = expected
        super().__init__(source, [f"{found}; expected {expected}"])

    def __str__(self) -> str:
        return f"{self.source}: {self.found}; expected {self.expected}"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.source, self.found, self.expected)


_MISSING = object()


class _RefusedJson(ValueError):
    """Valid JSON syntax that is not data: a repeated key."""


@dataclass(frozen=True)
class _NotAValue:
    """Where JSON has NaN, Infinity or a number too large to be a value: found after parsing,
    so that the refusal names its field."""

    what: str


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise _RefusedJson(f"the key {_shown(key)} twice in one object (which one is meant?)")
        mapping[key] = value
    return mapping


def _refuse_constant(name: str) -> Any:
    return _NotAValue(f"{name}, which is not a JSON number")


def _finite(text: str) -> Any:
    number = float(text)
    return number if math.isfinite(number) else _NotAValue(f"{_shown(text)}, too large a number")


def _integer(text: str) -> Any:
    if len(text.lstrip("-")) > 18:  # a count in a record has a few digits
        return _NotAValue(f"{_shown(text)}, too large a number")
    return int(text)


def _not_a_value(data: Any) -> tuple[str, _NotAValue] | None:
    """The first NaN, Infinity or too large number in parsed JSON, with its field path."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _NotAValue):
            return path or "(top level)", value
        if isinstance(value, dict):
            items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", v) for i, v in enumerate(value)]))
    return None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: Any, limit: int = 60) -> str:
    return _cut(repr(value), limit)


def _json_kind(value: Any) -> str:
    """What a JSON value is, as an error message says it."""
    if value is None:
        return "JSON null"
    if isinstance(value, bool):
        return f"JSON {str(value).lower()}"
    if isinstance(value, dict):
        return "an empty JSON object" if not value else "a JSON object"
    if isinstance(value, list):
        return f"a JSON array of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, str):
        return f"a JSON string {_shown(value)}"
    return f"a JSON number {_shown(value)}"


def load_record(path: Path | str = RECORD_PATH) -> dict[str, Any]:
    """The record at ``path``, read strictly: a regular UTF-8 file of at most 1 MiB (a directory,
    a FIFO or a device is refused before it is opened), holding one API v2 study object.

    Raises :class:`InvalidRecordError` (one line: the file, what was found, what was expected).
    """
    source = str(path)
    try:
        text = read_text_file(path)
    except ProtocolDataError as exc:
        found = "; ".join(p.split("; expected")[0] for p in exc.problems)
        raise InvalidRecordError(source, found, RECORD_FILE_EXPECTED) from None
    if not text.strip():
        raise InvalidRecordError(source, "an empty file", RECORD_EXPECTED)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_refuse_constant,
            parse_float=_finite,
            parse_int=_integer,
        )
    except json.JSONDecodeError as exc:
        found = f"cannot read the stored record: not valid JSON (line {exc.lineno}, column "
        found += f"{exc.colno}: {exc.msg})"
        raise InvalidRecordError(source, found) from None
    except _RefusedJson as exc:
        raise InvalidRecordError(source, f"cannot read the stored record: {exc}") from None
    except RecursionError:
        raise InvalidRecordError(source, "JSON nested too deeply to be a record") from None
    refused = _not_a_value(data)
    if refused is not None:
        path, value = refused
        shown_path = path if path.isprintable() else repr(path)  # a key may hold a newline
        found = f"cannot read the stored record: {_cut(shown_path, 120)} is {value.what}"
        raise InvalidRecordError(source, found, "a finite JSON number") from None
    return validate_record(data, source)


def validate_record(data: Any, source: str = "the registry record") -> dict[str, Any]:
    """``data`` if it is an API v2 study object; else :class:`InvalidRecordError` saying why."""
    if not isinstance(data, dict):
        raise InvalidRecordError(source, _json_kind(data))
    if "protocolSection" not in data:
        if not data:
            raise InvalidRecordError(source, "an empty JSON object")
        keys = ", ".join(_shown(k, 30) for k in list(data)[:5]) + (", …" if len(data) > 5 else "")
        hint = " (a search result: save one study, e.g. studies[0])" if "studies" in data else ""
        raise InvalidRecordError(
            source, f"a JSON object without protocolSection (keys: {keys}){hint}"
        )
    section = data["protocolSection"]
    if not isinstance(section, dict):
        raise InvalidRecordError(source, f"protocolSection is {_json_kind(section)}")
    module = section.get("identificationModule", _MISSING)
    if not isinstance(module, dict):
        found = "missing" if module is _MISSING else _json_kind(module)
        raise InvalidRecordError(source, f"protocolSection.identificationModule is {found}")
    if "nctId" not in module:
        raise InvalidRecordError(source, "protocolSection.identificationModule without nctId")
    nct_id = module["nctId"]
    if not isinstance(nct_id, str) or not _NCT_NUMBER.fullmatch(nct_id):
        raise InvalidRecordError(
            source, f"{NCT_ID_FIELD} is {_json_kind(nct_id)}", "an NCT number such as 'NCT06375005'"
        )
    _refuse_malformed_fields(section, "protocolSection", source)
    _refuse_overlong_criteria(data, source)
    # the fields beside it (hasResults), by the same rules
    _refuse_malformed_fields({k: v for k, v in data.items() if k != "protocolSection"}, "", source)
    return data


#: ClinicalTrials.gov's typed fields (API v2), read as the registry writes them: a date as
#: YYYY-MM-DD or YYYY-MM, an age as a whole number and a unit, a count as a whole number.
#: A field written otherwise is a damaged or hand-edited record: refused (exit 2), never
#: compared, so that it reads neither as a disagreement nor, partly read, as agreement.
_RECORD_DATE = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")
_RECORD_AGE = re.compile(r"[0-9]{1,3} (?:Years?|Months?|Weeks?|Days?|Hours?|Minutes?)")
_AGE_FIELDS = frozenset({"minimumAge", "maximumAge"})
_COUNT_FIELDS = frozenset({"count"})
#: The record's true-or-false fields (API v2): a number or a text in one is a damaged record
#: (Python reads ``0`` as ``False``, and a comparison would call them the same).
_BOOLEAN_FIELDS = frozenset(
    {
        "healthyVolunteers",
        "hasResults",
        "oversightHasDmc",
        "isFdaRegulatedDrug",
        "isFdaRegulatedDevice",
        "isUnapprovedDevice",
        "isPpsd",
        "isUsExport",
        "hasExpandedAccess",
        "fdaaa801Violation",
    }
)


#: ClinicalTrials.gov's limit for the eligibility criteria (its protocol registration data
#: element definitions: "Limit: 20,000 characters"), counted as entered, without the API's
#: Markdown escapes. A longer text is no registry record's.
CRITERIA_LIMIT = 20_000


def _refuse_overlong_criteria(data: dict[str, Any], source: str) -> None:
    module = data["protocolSection"].get("eligibilityModule")
    text = module.get("eligibilityCriteria") if isinstance(module, dict) else None
    if isinstance(text, str) and len(unescape_markdown(text)) > CRITERIA_LIMIT:
        raise InvalidRecordError(
            source,
            f"{CRITERIA_FIELD} is a text of {len(unescape_markdown(text)):,} characters",
            f"at most {CRITERIA_LIMIT:,} (ClinicalTrials.gov's limit for the eligibility criteria)",
        )


def _refuse_malformed_fields(value: Any, path: str, source: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_malformed_fields(item, f"{path}[{index}]", source)
        return
    if not isinstance(value, dict):
        return
    for name, item in value.items():
        key = str(name)  # a JSON key is text; a record built in code may hold another
        where = f"{path}.{key}" if path else key
        expected = None
        if (key == "date" and path.endswith("DateStruct")) or (
            key.endswith("Date") and not isinstance(item, dict | list)
        ):
            expected = (
                None
                if _record_date(item)
                else f"a date as YYYY-MM-DD or YYYY-MM, from {EARLIEST_DATE.year} to "
                f"{LATEST_DATE.year}"
            )
        elif key in _AGE_FIELDS:
            fits = isinstance(item, str) and _RECORD_AGE.fullmatch(item)
            expected = None if fits else "an age as a whole number and a unit, such as '18 Years'"
        elif key in _COUNT_FIELDS:
            whole = isinstance(item, int) and not isinstance(item, bool) and item >= 0
            expected = None if whole else "a whole number of participants (0 or more)"
        elif key in _BOOLEAN_FIELDS:
            expected = None if isinstance(item, bool) else "true or false"
        if expected is not None:
            shown_where = where if where.isprintable() else repr(where)
            raise InvalidRecordError(
                source, f"{_cut(shown_where, 120)} is {_as_json(item)}", expected
            )
        _refuse_malformed_fields(item, where, source)


def _as_json(value: Any) -> str:
    """A value as the record writes it (true, null), a text quoted."""
    return json.dumps(value) if isinstance(value, bool) or value is None else _shown(value)


def _record_date(value: Any) -> bool:
    """Whether a registry date is a calendar date (2025-01-06) or month (2025-01)."""
    found = _RECORD_DATE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return False
    year, month, day = int(found[1]), int(found[2]), int(found[3] or 1)
    try:
        date(year, month, day)
    except ValueError:
        return False
    # within the dates the book reads (a record's 0001-01-01 or 9999-12-31 is damage, not a
    # date the study could be told to agree with)
    return EARLIEST_DATE.year <= year <= LATEST_DATE.year


def refuse_another_study(study: Any, record: dict[str, Any], source: str) -> None:
    """A record of another trial is refused, not compared (its every field would differ)."""
    theirs = record["protocolSection"]["identificationModule"]["nctId"]
    mine = study.identification.nct_id.value
    if theirs != mine:
        raise InvalidRecordError(
            source,
            f"the record of {theirs}",
            f"the record of {mine}, the study of study.yaml (identification.nct_id)",
        )


# -- reading the record's words ----------------------------------------------------------------


def unescape_markdown(text: str) -> str:
    r"""The record escapes markdown characters (``\<``, ``10\^9``); readers see them plain."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text)


class MistypedPath(KeyError):
    """A path through the record that meets a value of another JSON type than the path needs
    (an array where it names a field, a text where it indexes): a damaged record."""

    def __init__(self, where: str, value: Any, wanted: str):
        super().__init__(f"{where} is {_json_kind(value)}; expected {wanted}")
        self.where, self.value, self.wanted = where, value, wanted


def resolve(record: dict[str, Any], field: str) -> Any:
    """The value at a dotted path with list indexes: ``a.b[0].c``. KeyError names the part
    (MistypedPath where a value on the way is of another JSON type, null included: the
    registry leaves an absent object out, never writes it as null)."""
    value: Any = record
    where = ""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        # an index into a list only, a name into an object only: a text indexed would give
        # its first letter ('PHASE2'[0] is 'P')
        wanted = list if part.startswith("[") else dict
        if not isinstance(value, wanted):
            raise MistypedPath(
                where or "(the record)",
                value,
                "a JSON array" if wanted is list else "a JSON object",
            )
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError):
            raise KeyError(f"the record has no field {field!r} (stopped at {part!r})") from None
        where = f"{where}{part}" if part.startswith("[") else f"{where}.{part}".lstrip(".")
    return value


def refuse_mistyped_record(study: Any, record: dict[str, Any], source: str) -> None:
    """Every field study.yaml reads from the record, held to its JSON type (as `registry-check`
    holds it): `registry-diff` refuses a damaged record as `registry-check` does."""
    for _, fact in iter_facts(study):
        if fact.provenance == "registry" and fact.registry_field:
            with contextlib.suppress(KeyError):  # a field left out is a change, not damage
                _typed_value(fact, record, source)
    refuse_mistyped_outcomes(record, source)


#: The outcome lists of API v2's outcomesModule, and the texts of each outcome.
_OUTCOME_LISTS = ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes")
_OUTCOME_TEXTS = ("measure", "description", "timeFrame")


def refuse_mistyped_outcomes(record: dict[str, Any], source: str) -> None:
    """The outcome measures, where the record gives them, held to API v2's types: the module an
    object, each list an array of objects, each text a string. A damaged module is refused
    (exit 2), never read as no outcome (which would agree) or as another outcome."""
    module = _at(record, OUTCOMES_MODULE)
    if module is None:
        return
    if not isinstance(module, dict):
        raise InvalidRecordError(
            source, f"{OUTCOMES_MODULE} is {_json_kind(module)}", "a JSON object"
        )
    for name in _OUTCOME_LISTS:
        if name not in module:
            continue
        where = f"{OUTCOMES_MODULE}.{name}"
        outcomes = module[name]
        if not isinstance(outcomes, list):
            raise InvalidRecordError(source, f"{where} is {_json_kind(outcomes)}", "a JSON array")
        for index, outcome in enumerate(outcomes):
            if not isinstance(outcome, dict):
                raise InvalidRecordError(
                    source, f"{where}[{index}] is {_json_kind(outcome)}", "a JSON object"
                )
            for text in _OUTCOME_TEXTS:
                if text in outcome and not isinstance(outcome[text], str):
                    raise InvalidRecordError(
                        source,
                        f"{where}[{index}].{text} is {_json_kind(outcome[text])}",
                        "a JSON string",
                    )


def _typed_value(fact: Fact[Any], record: dict[str, Any], source: str) -> Any:
    """The record's value of a fact's field, its JSON type checked (InvalidRecordError for a
    damaged record); KeyError where the record does not have it."""
    field = fact.registry_field or ""
    try:  # resolve meets a text where the path indexes (phases[0] of 'PHASE2'): MistypedPath
        in_record = resolve(record, field)
    except MistypedPath as exc:
        raise InvalidRecordError(source, f"{_cut(exc.where, 120)} is {_json_kind(exc.value)}",
                                 exc.wanted) from None  # fmt: skip
    _refuse_mistyped(field, fact, in_record, source)
    return in_record


def _at(record: dict[str, Any], field: str) -> Any:
    try:
        return resolve(record, field)
    except KeyError:
        return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def registry_criteria(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The record's criteria as ``(category, text)`` in order, markdown escapes removed.

    KeyError when the record has no criteria text, ValueError when it is not text.
    """
    block = resolve(record, CRITERIA_FIELD)
    if not isinstance(block, str):
        raise ValueError(f"{CRITERIA_FIELD} is {_json_kind(block)}, not text")
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


def criteria_with_ids(record: dict[str, Any]) -> list[tuple[str, str]]:
    """``(ID, text)`` of the record's criteria: IDs follow registry order, IN01.. and EX01.."""
    counts = {"inclusion": 0, "exclusion": 0}
    found = []
    for category, text in registry_criteria(record):
        counts[category] += 1
        found.append((f"{'IN' if category == 'inclusion' else 'EX'}{counts[category]:02d}", text))
    return found


# A mention is a number with its unit, as the record writes it. Units are read from a closed
# vocabulary (units.read_unit for laboratory units; durations, doses and mRSS units by name),
# never evaluated as expressions. Numbers inside a unit are part of that unit and are never a
# mention of their own: the "1.73" and "2" of "mL/min/1.73m^2", the "10^9" of "x 10^9/L".
_NUMBER = r"\d+(?:\.\d+)?"
_MENTION = re.compile(
    rf"""
    (?<![\w.^/\-])                               # not inside a name (CD20) or a unit (10^9)
    (?P<op>[<>≤≥]\s*)?
    (?P<number>{_NUMBER})(?:\s*-\s*(?P<high>{_NUMBER}))?   # "18-70 years" is two mentions
    (?:\s*(?:
        (?P<lab>m[lL]\s*/\s*min\s*/\s*1\.73\s*m\s*(?:\^2|²|2)
           |[x×]\s*10\s*\^\s*\d{{1,2}}\s*/\s*[A-Za-zµμ]+
           |[A-Za-zµμ]+\s*/\s*[A-Za-zµμ]+
           |%(?:\s*of\s+predicted)?
           |[x×]\s*ULN)
       |(?P<time>(?i:day|week|month|year)s?)\b
       |(?P<mass>mg|g|µg|μg|ug|mcg)\b
       |(?P<score>mRSS(?:\s+units?)?)\b
    ))?
    """,
    re.X,
)
# A comparison with the upper limit of normal and no number: "TBil > ULN" is "> 1 x ULN".
_BARE_ULN = re.compile(r"(?<![\w<>])(?P<op>[<>])\s*(?P<lab>(?:[x×]\s*)?ULN)\b")
# A lifetime window: "ever", "prior use" (EX13, EX15).
_LIFETIME = re.compile(r"\b(?:ever|prior use)\b", re.I)
_FREQUENCY = re.compile(
    "|".join(f"(?P<f{i}>{pattern})" for i, pattern in enumerate(FREQUENCY_PHRASES)), re.I
)
_FREQUENCIES = list(FREQUENCY_PHRASES.values())
EVER = Window(duration=None, lifetime=True)

# What each kind of record text is read for.
CRITERIA_READS = frozenset({"number", "lifetime"})
REGIMEN_READS = frozenset({"number", "frequency"})
PROSE_READS = frozenset({"number"})


@dataclass(frozen=True, eq=False)
class Mention:
    """A number and its unit (or a frequency, or "ever") that the record states."""

    field: str  # the record field, e.g. protocolSection.eligibilityModule.eligibilityCriteria
    criterion: str | None  # the bullet (IN01 .. EX30) when the field is the criteria
    text: str  # the text of the field (or of the bullet), markdown escapes removed
    start: int
    end: int
    value: Any  # Threshold | pint.Quantity | Window (ever) | float (a count)

    @property
    def place(self) -> tuple[str, str | None]:
        return (self.field, self.criterion)

    @property
    def where(self) -> str:
        return f"{self.field} ({self.criterion})" if self.criterion else self.field

    @property
    def words(self) -> str:
        return self.text[self.start : self.end]

    @property
    def clause(self) -> str:
        """The mention in its clause: 'and cyclophosphamide within 3 months prior to ...'."""
        return _clause(self.text, self.start, self.end)


@functools.lru_cache(maxsize=64)
def _clause_boundaries(text: str) -> tuple[int, ...]:
    """Where a text's clauses begin (after ; : and a , or . before a space), outside brackets:
    found once per text (each of a long criterion's mentions had walked the whole of it)."""
    depth, boundaries = 0, [0]
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        following = text[index + 1 : index + 2]
        if depth <= 0 and (char in ";:" or (char in ",." and following in (" ", ""))):
            boundaries.append(index + 1)
    return tuple(boundaries)


def _clause(text: str, start: int, end: int, limit: int = 110) -> str:
    boundaries = _clause_boundaries(text)
    left = boundaries[bisect.bisect_right(boundaries, start) - 1]
    after = bisect.bisect_left(boundaries, end + 1)  # the first boundary b with b - 1 >= end
    right = boundaries[after] - 1 if after < len(boundaries) else len(text)
    clause = text[left:right].strip()
    if len(clause) > limit:
        clause = text[max(left, start - limit // 2) : min(right, end + limit // 2)].strip()
        clause = f"…{clause}…"
    return clause


def _number(text: str) -> float:
    try:
        return float(text)
    except (ValueError, OverflowError):  # pragma: no cover - the pattern only matches digits
        return math.inf


def _mention_value(match: re.Match[str], number: float) -> Any:
    """The value a number with its unit states; a number without a unit is a count."""
    op = (match.group("op") or "").strip()
    quantity: Any = None
    if match.group("lab"):
        try:
            quantity = number * read_unit(match.group("lab"))
        except (UnitTextError, ValueError):
            quantity = None
    elif match.group("time"):
        quantity = ureg.Quantity(number, match.group("time").lower().removesuffix("s"))
    elif match.group("mass"):
        unit = match.group("mass").replace("µ", "u").replace("μ", "u").replace("mcg", "ug")
        quantity = ureg.Quantity(number, unit)
    if quantity is None:
        return number  # a count: "≥ 10 mRSS units", "38", or a unit the book cannot read
    if op in ("<", ">"):
        return Threshold(comparison=op, quantity=quantity, written=match.group(0).strip())
    return quantity


def mentions_in(
    text: str, reads: frozenset[str], field: str, criterion: str | None = None
) -> list[Mention]:
    """Every mention of ``text``, in order."""
    found: list[Mention] = []
    if "number" in reads:
        for match in _MENTION.finditer(text):
            low = _number(match.group("number"))
            if match.group("high"):  # a range: the unit belongs to both ends
                low_value = _mention_value(match, low)
                high_value = _mention_value(match, _number(match.group("high")))
                low_span = (match.start("number"), match.end("number"))
                found.append(Mention(field, criterion, text, *low_span, low_value))
                high_span = (match.start("high"), match.end())
                found.append(Mention(field, criterion, text, *high_span, high_value))
            else:
                value = _mention_value(match, low)
                found.append(Mention(field, criterion, text, match.start(), match.end(), value))
        for match in _BARE_ULN.finditer(text):
            value = Threshold(
                comparison=match.group("op"),
                quantity=read_unit(match.group("lab")),
                written=match.group(0),
            )
            found.append(Mention(field, criterion, text, match.start(), match.end(), value))
    if "lifetime" in reads:
        for match in _LIFETIME.finditer(text):
            found.append(Mention(field, criterion, text, match.start(), match.end(), EVER))
    if "frequency" in reads:
        for match in _FREQUENCY.finditer(text):
            index = int(match.lastgroup[1:]) if match.lastgroup else 0
            value = ureg.Quantity(_FREQUENCIES[index])
            found.append(Mention(field, criterion, text, match.start(), match.end(), value))
    return sorted(found, key=lambda m: m.start)


def record_texts(record: dict[str, Any]) -> Iterator[tuple[str, str | None, str, frozenset[str]]]:
    """``(field, criterion, text, what to read)`` of every record text whose numbers are rules:
    each criterion, each intervention's and arm's description, the summaries."""
    try:
        bullets = criteria_with_ids(record)
    except (KeyError, ValueError):
        bullets = []
    for criterion, text in bullets:
        yield CRITERIA_FIELD, criterion, text, CRITERIA_READS
    module = _at(record, ARMS_MODULE)
    module = module if isinstance(module, dict) else {}
    for kind in ("interventions", "armGroups"):
        for index, entry in enumerate(_list(module.get(kind))):
            description = entry.get("description") if isinstance(entry, dict) else None
            if isinstance(description, str):
                field = f"{ARMS_MODULE}.{kind}[{index}].description"
                yield field, None, unescape_markdown(description), REGIMEN_READS
    for field in (
        "protocolSection.descriptionModule.briefSummary",
        "protocolSection.descriptionModule.detailedDescription",
    ):
        text = _at(record, field)
        if isinstance(text, str):
            yield field, None, unescape_markdown(text), PROSE_READS


STRUCTURED_FIELDS = (ENROLLMENT_FIELD, MINIMUM_AGE_FIELD, MAXIMUM_AGE_FIELD)


def record_mentions(record: dict[str, Any], keep_not_rules: bool = False) -> list[Mention]:
    """Every mention of the record that is a rule: its texts and its structured numbers
    (with ``keep_not_rules``, also those :data:`NOT_RULES` excuses)."""
    found = []
    for field, criterion, text, reads in record_texts(record):
        found += mentions_in(text, reads, field, criterion)
    for field in STRUCTURED_FIELDS:
        value = _at(record, field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            found.append(Mention(field, None, text, 0, len(text), float(value)))
        elif isinstance(value, str):
            found += mentions_in(value, PROSE_READS, field)
    return [m for m in found if keep_not_rules or not_a_rule(m) is None]


@dataclass(frozen=True)
class NotARule:
    """A mention of the record that states no rule, and why."""

    criterion: str
    pattern: str  # matches the bullet; the group 'm' spans the mention
    reason: str


# Numbers of the record that are not rules. Each is matched in its own bullet only, and a test
# proves that each still matches the stored record (a stale entry is removed, not kept).
NOT_RULES = (
    NotARule(
        "IN02",
        r"League Against Rheumatism\) (?P<m>2013) criteria",
        "the year in the name of the 2013 ACR/EULAR classification criteria; their rule is the "
        "score, criterion_rules.acr_eular_minimum, which the record does not state (literature)",
    ),
    NotARule(
        "EX12",
        r"within 12 weeks (?P<m>within 4 weeks) prior to randomization",
        "the second of the two IVIG windows of EX12; the book applies the longer, 12 weeks "
        "(medication_classes ivig), as protocol issue PI02 records",
    ),
)


def not_a_rule(mention: Mention) -> NotARule | None:
    for entry in NOT_RULES:
        if mention.criterion != entry.criterion:
            continue
        for match in re.finditer(entry.pattern, mention.text):
            if match.start("m") <= mention.start and mention.end <= match.end("m"):
                return entry
    return None


def quantity_in_words(words: str, dimensionality: Any) -> pint.Quantity:
    """The one quantity of a dimension that a phrase of the record states."""
    if dimensionality == ureg.get_dimensionality("1/[time]"):
        for pattern, frequency in FREQUENCY_PHRASES.items():
            if re.search(pattern, words, re.IGNORECASE):
                return ureg.Quantity(frequency)
        raise ValueError(f"no frequency in {words!r}")
    found = []
    for mention in mentions_in(words, PROSE_READS, "words"):
        value = mention.value
        quantity = value.quantity if isinstance(value, Threshold) else value
        if isinstance(quantity, pint.Quantity) and quantity.dimensionality == dimensionality:
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


def _quantity_in_field(value: Any) -> pint.Quantity | None:
    """A structured field such as minimumAge ``18 Years``: a number and one unit name, read
    strictly (a name is looked up, never evaluated: ``9**9**9 years`` is not a quantity)."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{1,20})\s*", value)
    if not match:
        return None
    try:
        return ureg.Quantity(float(match[1]), ureg.Unit(match[2].lower()))
    except (pint.errors.PintError, ValueError, TypeError, AttributeError):
        return None


# -- 1. every registry fact agrees with the record ---------------------------------------------


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

    def problem(self) -> Problem:
        """The disagreement as a problem record: study.yaml's value found, the record's expected."""
        expected = f"the record at {self.registry_field} says {self.record_says}"
        return Problem(expected, self.yaml_path, self.study_says, text=str(self))


class _Words(str):
    """Text shown as it is, not quoted: what a quote's words say (its numbers as written)."""


def _show(value: Any) -> str:
    if isinstance(value, _Words):
        return str(value)
    if isinstance(value, pint.Quantity):
        return format_quantity(value)
    if isinstance(value, Threshold | Window):
        return str(value)
    if isinstance(value, BaseModel):
        return repr(value.model_dump(by_alias=True))
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return f"{len(value)} entries"
    if isinstance(value, list):  # each item as it is shown alone, not a Python list
        return ", ".join(_show(item) for item in value) if value else "no entries"
    if isinstance(value, date):  # as both files write it, not Python's datetime.date(...)
        return repr(value.isoformat())
    if value is None:
        return "nothing"
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
    """The same quantity, whatever its unit: equal but for the rounding of a unit conversion
    (the labs' boundary tolerance). A relative 1e-9 said 8.000000001 g/dL was the registry's
    8.0, a threshold that decides 8 g/dL the other way."""
    from protocol.labs import BOUNDARY_TOLERANCE

    return a.dimensionality == b.dimensionality and math.isclose(
        a.to_base_units().magnitude, b.to_base_units().magnitude, rel_tol=BOUNDARY_TOLERANCE
    )


#: Closed lists of terms a quote names some of (the PAH risk categories, EX06): a list fact
#: drawn from one must name exactly the terms its quote names, not merely some of them.
_TERM_LISTS = (("low", "intermediate", "high"),)


def _refuse_mistyped(field: str, fact: Fact[Any], in_record: Any, source: str) -> None:
    """A record field of the wrong JSON type is a damaged record (exit 2), never a disagreement:
    text where study.yaml reads text or a quote, true or false where it reads a flag, an array
    where it reads a list."""
    value = fact.value
    if fact.quote is not None or isinstance(value, str):
        wanted, words = str, "text, as the registry writes it"
    elif isinstance(value, bool):
        wanted, words = bool, "true or false"
    elif isinstance(value, list):
        wanted, words = list, "a JSON array"
    else:
        return  # numbers, ages and dates: read by the record's own field rules
    if not isinstance(in_record, wanted) or (wanted is not bool and isinstance(in_record, bool)):
        raise InvalidRecordError(source, f"{_cut(field, 120)} is {_json_kind(in_record)}", words)
    texts = wanted is list and all(isinstance(item, str) for item in value)
    if texts and not all(isinstance(item, str) for item in in_record):
        raise InvalidRecordError(
            source, f"{_cut(field, 120)} is {_json_kind(in_record)}", "an array of texts"
        )
    # a list of entries (the sites): each an object, each text study.yaml reads from it text
    # (a facility of 5 or null is damage, never a site added or removed)
    entries = [item for item in value if isinstance(item, BaseModel)] if wanted is list else []
    if entries:
        keys = {
            key
            for entry in entries
            for key, text in entry.model_dump(by_alias=True).items()
            if isinstance(text, str)
        }
        for index, item in enumerate(in_record):
            where = f"{_cut(field, 120)}[{index}]"
            if not isinstance(item, dict):
                raise InvalidRecordError(source, f"{where} is {_json_kind(item)}", "a JSON object")
            for key in sorted(keys & set(item)):
                if not isinstance(item[key], str):
                    raise InvalidRecordError(
                        source, f"{where}.{key} is {_json_kind(item[key])}", "a JSON string"
                    )


def _same_words(value: list[str], quote: str) -> bool:
    """Whether a list of terms is what its quote says: not empty, each term in the quote, and,
    for terms of a closed list, every term of that list the quote names ("Intermediate- or
    high-risk" is [intermediate, high]; [intermediate] alone leaves high-risk PAH eligible)."""
    said = quote.lower()
    if not value or not all(v.lower() in said for v in value):
        return False
    for terms in _TERM_LISTS:
        if {v.lower() for v in value} <= set(terms):
            named = {t for t in terms if re.search(rf"\b{t}\b", said)}
            return named == {v.lower() for v in value}
    return True


def check_fact(
    path: str, fact: Fact[Any], record: dict[str, Any], source: str = "the registry record"
) -> Mismatch | None:
    field = fact.registry_field or ""
    try:
        in_record = _typed_value(fact, record, source)
    except KeyError as exc:
        return Mismatch(path, field, _show(fact.value), "nothing", str(exc.args[0]))
    value = fact.value
    one_of = re.fullmatch(r"(.+)\[0\]", field)
    items = _at(record, one_of.group(1)) if one_of else None
    if one_of and items is not None and len(items) != 1:
        # study.yaml reads the list's one item: a list of more says more than that
        return Mismatch(
            path,
            one_of.group(1),
            f"one: {_show(value)}",
            _cut(json.dumps(items, ensure_ascii=False), 200),
            f"the record lists {len(items)}",
        )
    if fact.quote is not None:
        text = unescape_markdown(in_record) if isinstance(in_record, str) else None
        if text is None or fact.quote not in text:
            return Mismatch(
                path,
                field,
                f"the quote {fact.quote!r}",
                _shown(in_record, 200),
                "the quote is not there",
            )
        try:
            if isinstance(value, pint.Quantity):
                meant: Any = quantity_in_words(fact.quote, value.dimensionality)
                same = _same_quantity(value, meant)
            elif isinstance(value, Window):
                if value.lifetime:
                    meant = "ever" if _LIFETIME.search(fact.quote) else None
                    same = meant == "ever"
                else:
                    meant = quantity_in_words(fact.quote, value.duration.dimensionality)
                    same = _same_quantity(value.duration, meant) and _calendar_kind(
                        value.duration
                    ) == _calendar_kind(meant)
            elif isinstance(value, Threshold):
                meant = threshold_in_words(fact.quote)
                same = meant.comparison == value.comparison and _same_quantity(
                    value.quantity, meant.quantity
                )
            elif isinstance(value, bool):
                meant = fact.quote
                same = False
            elif isinstance(value, int | float):
                written = re.findall(r"\d+(?:\.\d+)?", fact.quote)
                # shown as the quote writes them ("10"), never as a Python list ("[10.0]")
                meant = _Words(" and ".join(written) or "no number")
                same = [float(n) for n in written] == [float(value)]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                meant = fact.quote
                same = _same_words(value, fact.quote)
            elif isinstance(value, str) and path.endswith("route"):
                meant = route_in_words(fact.quote)
                same = meant == value
            else:
                meant = fact.quote
                same = value == fact.quote
        except ValueError as exc:
            return Mismatch(path, field, _show(value), f"the quote {fact.quote!r}", str(exc))
        if not same:
            # the words read from the quote, then the quote (once, where they are the quote)
            said = _show(meant)
            quoted = "" if meant == fact.quote else f" ({fact.quote!r})"
            return Mismatch(path, field, _show(value), said + quoted)
        return None
    if isinstance(value, pint.Quantity):
        meant = _quantity_in_field(in_record)
        if meant is None:
            return Mismatch(path, field, _show(value), _shown(in_record), "not a quantity")
        if not _same_quantity(value, meant):
            return Mismatch(path, field, _show(value), repr(in_record))
        return None
    if isinstance(value, str) and isinstance(in_record, str):
        in_record = unescape_markdown(in_record)
    if value and isinstance(value, list) and isinstance(value[0], BaseModel):
        return _entries_mismatch(path, field, _comparable(value), in_record)
    if _comparable(value) != in_record:
        detail = ""
        if isinstance(value, list) and isinstance(in_record, list):
            mine = json.dumps(_comparable(value), indent=1, ensure_ascii=False).splitlines()
            theirs = json.dumps(in_record, indent=1, ensure_ascii=False).splitlines()
            detail = "\n".join(
                difflib.unified_diff(theirs, mine, "record", "study.yaml", lineterm="")
            )
        shown = _json_kind(in_record) if isinstance(in_record, dict) else _show(in_record)
        return Mismatch(path, field, _show(value), _cut(shown, 200), detail)
    return None


def _entries_mismatch(path: str, field: str, mine: list[Any], in_record: Any) -> Mismatch | None:
    """A list of entries (the sites) against the record's, in any order (the registry's order of
    locations is no fact), each differing entry named on its side."""

    def key(entry: Any) -> str:
        return json.dumps(entry, sort_keys=True, ensure_ascii=False)

    if not isinstance(in_record, list):
        return Mismatch(path, field, f"{len(mine)} entries", _cut(_json_kind(in_record), 200))
    # each entry by the fields study.yaml holds: a record from the registry's API gives more
    # of a site (geoPoint, zip, its contacts' names and phones), which no fact of the study is
    held = {name for entry in mine if isinstance(entry, dict) for name in entry}
    in_record = [
        {name: value for name, value in entry.items() if name in held}
        if isinstance(entry, dict)
        else entry
        for entry in in_record
    ]
    if sorted(map(key, mine)) == sorted(map(key, in_record)):
        return None
    theirs = list(map(key, in_record))
    ours = list(map(key, mine))
    only_ours = [k for k in ours if k not in theirs] or ["(the same entries, one twice)"]
    only_theirs = [k for k in theirs if k not in ours]
    says = f"{len(in_record)} entries; not in the record: {_cut('; '.join(only_ours), 300)}"
    if only_theirs:
        says += f"; only in the record: {_cut('; '.join(only_theirs), 300)}"
    return Mismatch(path, field, f"{len(mine)} entries", says)


# -- 2. the criteria are the record's ----------------------------------------------------------


def check_criteria(study: Any, record: dict[str, Any]) -> list[Mismatch]:
    """Count and verbatim text of every criterion, bullet by bullet, in registry order."""
    try:
        theirs = registry_criteria(record)
    except (KeyError, ValueError) as exc:
        detail = str(exc.args[0]) if exc.args else str(exc)
        return [
            Mismatch("criteria", CRITERIA_FIELD, f"{len(study.criteria)} criteria", "none", detail)
        ]
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
        # aligned text by text, so one criterion inserted or removed is one difference, not a
        # difference at every later place
        matcher = difflib.SequenceMatcher(
            None, [c.text for c in my_criteria], their_texts, autojunk=False
        )
        for tag, mine_from, mine_to, theirs_from, theirs_to in matcher.get_opcodes():
            if tag == "equal":
                continue
            ours_here = my_criteria[mine_from:mine_to]
            theirs_here = their_texts[theirs_from:theirs_to]
            for criterion, their_text in zip(ours_here, theirs_here, strict=False):
                mismatches.append(_reworded(study, criterion, their_text))
            for criterion in ours_here[len(theirs_here) :]:
                index = study.criteria.index(criterion)
                mismatches.append(
                    Mismatch(
                        f"criteria[{index}].text ({criterion.id})",
                        CRITERIA_FIELD,
                        repr(criterion.text),
                        f"no such {category} criterion",
                    )
                )
            for their_text in theirs_here[len(ours_here) :]:
                before = my_criteria[mine_from - 1].id if mine_from else None
                mismatches.append(
                    Mismatch(
                        "criteria",
                        CRITERIA_FIELD,
                        f"no such {category} criterion"
                        + (f" after {before}" if before else " first"),
                        repr(their_text),
                    )
                )
    if not mismatches and mine != theirs:  # pragma: no cover - counts and texts already agree
        mismatches.append(Mismatch("criteria", CRITERIA_FIELD, "another order", "this order"))
    return mismatches


def _reworded(study: Any, criterion: Any, their_text: str) -> Mismatch:
    index = study.criteria.index(criterion)
    diff = "\n".join(
        difflib.unified_diff([their_text], [criterion.text], "record", "study.yaml", lineterm="")
    )
    return Mismatch(
        f"criteria[{index}].text ({criterion.id})",
        CRITERIA_FIELD,
        repr(criterion.text),
        repr(their_text),
        diff,
    )


# -- 3. every rule the record states is a registry fact ----------------------------------------

Place = tuple[str, str | None]

# Where the record states the rules that study.yaml keeps outside the criterion-tagged lists
# (lab_analytes, medication_classes and exposure_events name their criterion; interventions are
# found in the record by name). A criterion ID means that bullet of the criteria.
RULE_FACT_PLACES: dict[str, tuple[str, ...]] = {
    "design.enrollment": (ENROLLMENT_FIELD,),
    "population.minimum_age": (MINIMUM_AGE_FIELD, "IN01"),
    "population.maximum_age": (MAXIMUM_AGE_FIELD, "IN01"),
    "corticosteroid_rule.daily_limit": ("EX11",),
    "criterion_rules.disease_duration_maximum": ("IN04",),
    "criterion_rules.disease_duration_exclusion": ("EX02",),
    "criterion_rules.mrss_minimum": ("IN05",),
    "criterion_rules.malignancy_window": ("EX25",),
    "criterion_rules.pah_excluded_risk": ("EX06",),
    "criterion_rules.acr_eular_minimum": ("IN02",),
}
_CRITERION_ID = re.compile(r"^(?:IN|EX)\d{2}$")


@dataclass(frozen=True)
class RuleFact:
    """A fact a rule of the book uses, and the places of the record that state that rule."""

    path: str
    fact: Fact[Any]
    places: frozenset[Place]


def _place(where: str) -> Place:
    return (CRITERIA_FIELD, where) if _CRITERION_ID.match(where) else (where, None)


def _attribute(model: Any, path: str) -> Any:
    for part in path.split("."):
        model = getattr(model, part, None)
    return model


def _same_name(a: Any, b: Any) -> bool:
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    return isinstance(a, str) and isinstance(b, str) and norm(a) == norm(b)


def _regimen_places(record: dict[str, Any], name: str) -> list[Place]:
    """The record's description of the intervention called ``name`` and of the arms giving it."""
    module = _at(record, ARMS_MODULE)
    if not isinstance(module, dict):
        return []
    places: list[Place] = []
    labels: list[Any] = []
    for index, entry in enumerate(_list(module.get("interventions"))):
        if isinstance(entry, dict) and _same_name(entry.get("name"), name):
            places.append((f"{ARMS_MODULE}.interventions[{index}].description", None))
            labels += _list(entry.get("armGroupLabels"))
    for index, arm in enumerate(_list(module.get("armGroups"))):
        if not isinstance(arm, dict):
            continue
        given = [
            n.split(":", 1)[-1] for n in _list(arm.get("interventionNames")) if isinstance(n, str)
        ]
        if any(_same_name(arm.get("label"), label) for label in labels) or any(
            _same_name(n, name) for n in given
        ):
            places.append((f"{ARMS_MODULE}.armGroups[{index}].description", None))
    return places


def rule_facts(study: Any, record: dict[str, Any]) -> list[RuleFact]:
    """Every fact a rule uses, with the places of the record that state its rule."""
    found: list[RuleFact] = []

    def add(path: str, fact: Any, places: list[Place]) -> None:
        if isinstance(fact, Fact):
            found.append(RuleFact(path, fact, frozenset(places)))

    for path, where in RULE_FACT_PLACES.items():
        add(path, _attribute(study, path), [_place(w) for w in where])
    for index, analyte in enumerate(study.lab_analytes):
        add(f"lab_analytes[{index}].threshold", analyte.threshold, [_place(analyte.criterion)])
    for index, group in enumerate(study.medication_classes):
        add(f"medication_classes[{index}].window", group.window, [_place(group.criterion)])
    for index, event in enumerate(study.exposure_events):
        criteria = [event.criterion, *getattr(event, "also_criteria", [])]
        add(f"exposure_events[{index}].window", event.window, [_place(c) for c in criteria])
    for index, intervention in enumerate(study.interventions):
        places = _regimen_places(record, intervention.name.value)
        for attribute in ("dose", "frequency", "duration"):
            add(f"interventions[{index}].{attribute}", getattr(intervention, attribute), places)
    return found


def _kind(value: Any) -> tuple[str, str] | None:
    """What a value is, for matching a fact with a mention: a threshold, a quantity of one
    dimension (a window is a duration; "ever" too), a count, or words."""
    if isinstance(value, Threshold):
        return ("threshold", str(value.quantity.dimensionality))
    if isinstance(value, Window):
        return ("quantity", "[time]")
    if isinstance(value, pint.Quantity):
        return ("quantity", str(value.dimensionality))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return ("count", "")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ("words", "")
    return None


def _duration(value: Any) -> Window | None:
    if isinstance(value, Window):
        return value
    if isinstance(value, pint.Quantity) and value.dimensionality == ureg.get_dimensionality(
        "[time]"
    ):
        return Window(duration=value)
    return None


def _calendar_kind(duration: pint.Quantity) -> str:
    """How calendar arithmetic counts a window: days and weeks by the day (4 weeks is 28 days
    on any date), months and years by the calendar month (5 years is 60 months on any date);
    the two kinds differ (3 months is not 13 weeks)."""
    return "days" if str(duration.units) in ("day", "week") else "months"


def _same_value(fact_value: Any, said: Any) -> bool:
    """Whether a fact's value is what a mention says (a window in the unit the record writes)."""
    if isinstance(fact_value, Threshold) and isinstance(said, Threshold):
        return fact_value.comparison == said.comparison and _same_quantity(
            fact_value.quantity, said.quantity
        )
    mine, theirs = _duration(fact_value), _duration(said)
    if mine is not None and theirs is not None:
        if mine.lifetime or theirs.lifetime:
            return mine.lifetime and theirs.lifetime
        same = _same_quantity(mine.duration, theirs.duration)
        if isinstance(fact_value, Window):  # calendar arithmetic: 3 months is not 13 weeks
            same = same and _calendar_kind(mine.duration) == _calendar_kind(theirs.duration)
        return same
    if isinstance(fact_value, pint.Quantity) and isinstance(said, pint.Quantity):
        return _same_quantity(fact_value, said)
    if isinstance(fact_value, int | float) and isinstance(said, int | float):
        return not isinstance(fact_value, bool) and float(fact_value) == float(said)
    return False


def _covers(quote: str, mention: Mention) -> bool:
    """Whether an occurrence of ``quote`` in the mention's text holds the mention's words."""
    start = mention.text.find(quote)
    while start != -1:
        if start <= mention.start and mention.end <= start + len(quote):
            return True
        start = mention.text.find(quote, start + 1)
    return False


def _carries(rule: RuleFact, mention: Mention) -> bool:
    """A registry fact of the mention's place carries it when its value is what the mention
    says and, if the fact reads this very text, its quote holds the mention's words."""
    fact = rule.fact
    if fact.provenance != "registry" or mention.place not in rule.places:
        return False
    if _kind(fact.value) != _kind(mention.value) or not _same_value(fact.value, mention.value):
        return False
    if fact.quote is not None and fact.registry_field == mention.field:
        return _covers(fact.quote, mention)
    return True


def _provenance(fact: Fact[Any]) -> str:
    return f"provenance {fact.provenance}" + (f" [{fact.source}]" if fact.source else "")


def _record_words(mentions: list[Mention], limit: int = 3) -> str:
    clauses = list(dict.fromkeys(repr(m.clause) for m in mentions))
    more = f" and {len(clauses) - limit} more" if len(clauses) > limit else ""
    return " and ".join(clauses[:limit]) + more


def check_rules_are_registry_facts(
    study: Any,
    record: dict[str, Any],
    already_reported: frozenset[str] | set[str] = frozenset(),
) -> list[Mismatch]:
    """Every rule the record states is carried by a registry fact (both directions)."""
    rules = rule_facts(study, record)
    mentions = record_mentions(record)
    try:
        bullets = dict(criteria_with_ids(record))
    except (KeyError, ValueError):
        bullets = {}
    carried = {m for m in mentions if any(_carries(rule, m) for rule in rules)}
    mismatches: list[Mismatch] = []
    claimed: set[Mention] = set()

    # A fact a rule uses is a registry fact wherever the record states its rule.
    for rule in rules:
        if rule.fact.provenance == "registry":
            continue
        kind = _kind(rule.fact.value)
        stated = [m for m in mentions if m.place in rule.places and _kind(m.value) == kind]
        if kind == ("words", ""):  # words (PAH risk classes): the bullet itself states them
            stated = [
                Mention(CRITERIA_FIELD, c, bullets[c], 0, len(bullets[c]), None)
                for _, c in sorted(rule.places, key=str)
                if c in bullets
            ]
        if not stated:
            continue
        uncarried = [m for m in stated if m not in carried]
        claimed.update(uncarried)
        shown = uncarried or stated
        others = len({m.where for m in shown}) - 1
        mismatches.append(
            Mismatch(
                rule.path,
                shown[0].where + (f" and {others} other place(s)" if others > 0 else ""),
                f"{_show(rule.fact.value)} ({_provenance(rule.fact)})",
                _record_words(shown),
                "    the record states this rule, so study.yaml must carry it as a registry fact: "
                "provenance registry, its registry_field, and the record's words as its quote "
                "when the value is read out of a sentence",
            )
        )

    # Every number the record states is carried by a registry fact whose value equals it.
    for mention in mentions:
        if mention in carried or mention in claimed:
            continue
        candidates = [
            r
            for r in rules
            if mention.place in r.places and _kind(r.fact.value) == _kind(mention.value)
        ]
        if any(r.path in already_reported for r in candidates):
            continue  # that fact's own mismatch already names the difference
        if candidates:
            path = ", ".join(r.path for r in candidates)
            says = "; ".join(
                f"{_show(r.fact.value)}"
                + (f" (quoting {r.fact.quote!r})" if r.fact.quote is not None else "")
                for r in candidates
            )
        else:
            path, says = "(no study.yaml fact)", "nothing"
        mismatches.append(
            Mismatch(
                path,
                mention.where,
                says,
                f"{mention.words!r} ({mention.clause!r})",
                f"    no registry fact carries {mention.words!r}: expected a registry fact whose "
                f"value is what these words say and whose quote holds them; if they state no "
                f"rule, an entry of NOT_RULES in protocol/registry_check.py with the reason",
            )
        )
    return mismatches


# -- all of it ---------------------------------------------------------------------------------


def cross_check(
    study: Any, record: dict[str, Any] | None = None, source: str | None = None
) -> list[Mismatch]:
    """Every disagreement between ``study`` and the record.

    Raises :class:`InvalidRecordError` when the record is not an API v2 study object, or is the
    record of another study (``source`` names the record in the message).
    """

    if record is None:
        source = source or str(RECORD_PATH)
        record = load_record(RECORD_PATH)
    source = source or "the registry record"
    record = validate_record(record, source)
    refuse_another_study(study, record, source)
    refuse_mistyped_outcomes(record, source)
    mismatches = []
    for path, fact in iter_facts(study):
        if fact.provenance == "registry":
            mismatch = check_fact(path, fact, record, source)
            if mismatch:
                mismatches.append(mismatch)
    reported = {m.yaml_path for m in mismatches}
    criteria = check_criteria(study, record)
    mismatches += criteria
    mismatches += check_arm_groups(study, record)
    if not any(m.yaml_path == "criteria" for m in criteria):
        # the record's bullets are numbered by place: with one inserted or removed, every later
        # bullet's rules would be compared with another criterion's (63 differences for one)
        mismatches += check_rules_are_registry_facts(study, record, reported)
    mismatches += check_outcomes(study, record)
    mismatches += check_published(study)
    return mismatches


OUTCOMES_MODULE = "protocolSection.outcomesModule"


def _words(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def _begins(text: str, start: str) -> bool:
    """Whether ``text`` begins with the words ``start``, ending where a word ends ("adverse
    events (TRAEs)" begins with "adverse events"; "adverse eventsfoo" does not)."""
    return text.startswith(start) and (len(text) == len(start) or not text[len(start)].isalnum())


def check_outcomes(study: Any, record: dict[str, Any]) -> list[Mismatch]:
    """The study's outcome measures against the record's, where the record gives them (the
    stored record shows none, PI11: study.yaml reads them on a mirror). A refreshed record whose
    primary outcome is another measure or time frame, or adds a second primary outcome,
    disagrees; a secondary outcome the study knows only by the start of its title must start
    one of the record's."""
    module = _at(record, OUTCOMES_MODULE)
    if not isinstance(module, dict):
        return []
    mismatches: list[Mismatch] = []
    primary = [o for o in _list(module.get("primaryOutcomes")) if isinstance(o, dict)]
    ours = study.primary_outcome.value
    field = f"{OUTCOMES_MODULE}.primaryOutcomes"
    if len(primary) != 1:
        shown = "; ".join(repr(o.get("measure")) for o in primary) or "none"
        return [Mismatch("primary_outcome", field, "1 primary outcome", f"{len(primary)}: {shown}")]
    theirs = primary[0]
    for name, key in (("measure", "measure"), ("time_frame", "timeFrame")):
        if _words(getattr(ours, name)) != _words(theirs.get(key, "")):
            mismatches.append(
                Mismatch(
                    f"primary_outcome.{name}",
                    f"{field}[0].{key}",
                    repr(getattr(ours, name)),
                    repr(theirs.get(key)),
                )
            )
    secondary = [
        _words(o.get("measure", ""))
        for key in ("secondaryOutcomes", "otherOutcomes")
        for o in _list(module.get(key))
        if isinstance(o, dict)
    ]
    for index, outcome in enumerate(study.other_outcomes):
        start = _words(outcome.value.measure.removesuffix("(…)").rstrip(" .…"))
        if not any(_begins(measure, start) for measure in secondary):
            mismatches.append(
                Mismatch(
                    f"other_outcomes[{index}].measure",
                    f"{OUTCOMES_MODULE}.secondaryOutcomes",
                    repr(outcome.value.measure),
                    "no outcome that begins so" if secondary else "no secondary outcome",
                )
            )
    return mismatches


# -- 4. the literature facts against their publications ----------------------------------------

#: The published values, transcribed from each publication (see the file's own header).
PUBLISHED_PATH = Path(__file__).parent / "registry" / "published.yaml"


@dataclass(frozen=True)
class PublishedMismatch(Mismatch):
    """A literature fact of study.yaml that is not its publication's value."""

    def __str__(self) -> str:
        return (
            f"{self.yaml_path}: study.yaml says {self.study_says}, but the publication "
            f"{self.registry_field} gives {self.record_says}"
        )

    def problem(self) -> Problem:
        expected = f"the publication {self.registry_field} gives {self.record_says}"
        return Problem(expected, self.yaml_path, self.study_says, text=str(self))


def _analyte(study: Any, name: str) -> Any:
    return next((a for a in study.lab_analytes if a.name == name), None)


def _published_reading(study: Any, place: str) -> tuple[Any, Any] | None:
    """The fact at ``place`` (as published.yaml names it) and its value in published.yaml's
    form; None where the study has no such fact."""
    areas = study.skin_score.value.areas
    readings: dict[str, tuple[Any, Callable[[Any], Any]]] = {
        "egfr_equation": (study.egfr_equation, lambda v: v.model_dump()),
        "acr_eular_2013.categories": (
            study.acr_eular_2013,
            lambda v: [dict(c.items) for c in v.categories],
        ),
        "criterion_rules.acr_eular_minimum": (study.criterion_rules.acr_eular_minimum, None),
        "skin_score.grades": (study.skin_score, lambda v: sorted(v.grades)),
        "skin_score.areas": (study.skin_score, lambda v: sorted(a.name for a in areas)),
        "skin_score.proximal_areas": (
            study.skin_score,
            lambda v: sorted(a.name for a in areas if a.proximal),
        ),
        "skin_score.distal_areas": (
            study.skin_score,
            lambda v: sorted(a.name for a in areas if a.distal),
        ),
    }
    if place in readings:
        fact, read = readings[place]
        return fact, (read or (lambda v: v))(fact.value)
    found = re.fullmatch(r"lab_analytes\[([a-z_]+)\]\.(conversion_factor|molar_mass)", place)
    if found is None:
        raise InternalError(f"{PUBLISHED_PATH.name}: {place!r} is no place the check reads")
    analyte = _analyte(study, found.group(1))
    fact = getattr(analyte, found.group(2), None) if analyte is not None else None
    if fact is None:
        return None
    if found.group(2) == "conversion_factor":
        return fact, fact.value.si / fact.value.conventional
    return fact, fact.value


def _published_value(place: str, value: Any) -> Any:
    """published.yaml's value in the form ``_published_reading`` gives the study's."""
    if place.endswith(".conversion_factor"):
        from pydantic import TypeAdapter

        from protocol.facts import FactorText

        factor = TypeAdapter(FactorText).validate_python(value)
        return factor.si / factor.conventional
    if place.endswith(".molar_mass"):
        return ureg.Quantity(value)
    if place.startswith("skin_score."):
        return sorted(value)
    return value


def _agrees(ours: Any, published: Any) -> bool:
    """The same value: a quantity in any unit, a number whatever its type (142 is 142.0), never
    a yes-or-no for a number; texts, lists and mappings item by item."""
    if isinstance(published, pint.Quantity):
        return isinstance(ours, pint.Quantity) and _same_quantity(ours, published)
    if isinstance(published, bool) or isinstance(ours, bool):
        return type(ours) is type(published) and ours == published
    if isinstance(published, int | float):
        return isinstance(ours, int | float) and float(ours) == float(published)
    if isinstance(published, dict):
        return (
            isinstance(ours, dict)
            and ours.keys() == published.keys()
            and all(_agrees(ours[k], published[k]) for k in published)
        )
    if isinstance(published, list):
        return (
            isinstance(ours, list)
            and len(ours) == len(published)
            and all(_agrees(a, b) for a, b in zip(ours, published, strict=True))
        )
    if isinstance(published, str) and isinstance(ours, str):  # spacing is no difference
        return _words(ours) == _words(published)
    if isinstance(published, str) and isinstance(ours, str):  # spacing is no difference
        return _words(ours) == _words(published)
    return type(ours) is type(published) and ours == published


@functools.cache
def published_values() -> dict[str, dict[str, Any]]:
    """published.yaml, read once per process."""
    return yaml.safe_load(PUBLISHED_PATH.read_text(encoding="utf-8"))


def check_published(study: Any) -> list[Mismatch]:
    """Every literature fact of ``study`` whose value is not its publication's (a CKD-EPI
    kappa of 0.9 for women, an ACR/EULAR total of 8, a creatinine factor of 88): the
    publication is no amendment's to change, and the verdicts follow these numbers. The facts
    are compared whatever provenance or source study.yaml gives them (relabelling one as an
    assumption is no escape); only an equation of another name is another publication's."""
    mismatches: list[Mismatch] = []
    for place, entry, fact, ours in published_compared(study):
        published = _published_value(place, entry["value"])
        name = _source_name(study, entry["source"])
        mismatches += [
            PublishedMismatch(where, name, *_shown_pair(where, fact, mine, theirs, entry))
            for where, mine, theirs in _differences(place, ours, published)
        ]
    return mismatches


def published_compared(study: Any) -> list[tuple[str, dict[str, Any], Any, Any]]:
    """The entries of published.yaml that ``study`` is held to, each with the study's fact and
    its value in published.yaml's form: every one whose fact the study has, except an equation
    named otherwise (CKD-EPI 2009 is not CKD-EPI 2021)."""
    compared = []
    for place, entry in published_values().items():
        found = _published_reading(study, place)
        if found is None:
            continue
        fact, ours = found
        named = entry["value"].get("name") if isinstance(entry["value"], dict) else None
        if named is not None and _words(getattr(fact.value, "name", None)) != _words(named):
            continue
        compared.append((place, entry, fact, ours))
    return compared


def _shown_pair(
    where: str, fact: Any, mine: Any, theirs: Any, entry: dict[str, Any]
) -> tuple[str, str]:
    """Both values as study.yaml writes them (a factor as "88 umol/L per mg/dL", not as the
    quotient pint reduces it to)."""
    if where.endswith(".conversion_factor"):
        return repr(fact.value.written), repr(entry["value"])
    return _show(mine), _show(theirs)


def _differences(place: str, ours: Any, published: Any) -> list[tuple[str, Any, Any]]:
    """Where two values differ, part by part (an equation's one constant, a category's one
    weight), each place named as study.yaml's reader finds it."""
    if _agrees(ours, published):
        return []
    if isinstance(ours, dict) and isinstance(published, dict):
        return [
            found
            for key in dict.fromkeys([*published, *ours])
            for found in _differences(f"{place}.{key}", ours.get(key), published.get(key))
        ]
    if (
        isinstance(ours, list)
        and isinstance(published, list)
        and len(ours) == len(published)
        and all(isinstance(v, dict) for v in ours)
    ):
        return [
            found
            for index, (mine, theirs) in enumerate(zip(ours, published, strict=True))
            for found in _differences(f"{place}[{index}]", mine, theirs)
        ]
    return [(place, ours, published)]


def published_count(study: Any) -> int:
    """How many published values ``study`` is held to (each entry of published.yaml compared)."""
    return len(published_compared(study))


def _source_name(study: Any, key: str) -> str:
    """A publication as a reader cites it: its short name, or its first author and year."""
    reference = study.references.get(key)
    if reference is None:
        return key
    if getattr(reference, "short", None):
        return reference.short
    authors = getattr(reference, "authors", None) or []
    year = getattr(reference, "year", None)
    if authors and year:
        return f"{authors[0].split(',')[0]} {year}"
    return key


def check_arm_groups(study: Any, record: dict[str, Any]) -> list[Mismatch]:
    """The study's arms are the record's arm groups, one for one, by label: an amendment that
    drops an arm (or adds one) disagrees though each remaining arm's facts agree (a one-arm
    study had passed, and its exports said a randomized, controlled trial of one arm)."""
    field = f"{ARMS_MODULE}.armGroups"
    labels = [
        g.get("label") for g in _list(_at(record, field)) if isinstance(g, dict) and g.get("label")
    ]
    ours = [arm.label.value for arm in study.arms]
    # a label the study takes from the record is checked as a registry fact of its own (and
    # reported by its path); one it does not is held to the record's labels here
    unchecked = [arm.label.value for arm in study.arms if arm.label.provenance != "registry"]
    if len(ours) == len(labels) and all(
        any(_same_name(mine, theirs) for theirs in labels) for mine in unchecked
    ):
        return []
    return [
        Mismatch(
            "arms",
            field,
            f"{len(ours)} arm(s): {', '.join(repr(a) for a in ours) or '(none)'}",
            f"{len(labels)} arm group(s): {', '.join(repr(a) for a in labels) or '(none)'}",
        )
    ]


def registry_fact_count(study: Any) -> int:

    return sum(1 for _, fact in iter_facts(study) if fact.provenance == "registry")


def load_checked_study(path: Path | str = STUDY_PATH) -> Study:
    """study.yaml loaded and validated, then cross-checked against the stored registry record:
    raises RegistryMismatchError naming every disagreement."""
    study = load_study(path)
    assert_matches_registry(study, source=str(Path(path).resolve()))
    return study


def assert_matches_registry(study: Any, source: str, record: dict[str, Any] | None = None) -> None:
    mismatches = cross_check(study, record)
    if mismatches:
        raise RegistryMismatchError(
            f"{source} disagrees with the registry record {RECORD_PATH.name}",
            [m.problem() for m in mismatches],
        )
