"""The participant record's data dictionary: every field, its type, its meaning, and which
criteria use it (the data dictionary page).

"Used by" is found by experiment, not typed: each field is removed in turn (and a yes/no answer
reversed) in every worked case, and the criteria whose status changes in any of them are the
ones that use it. A field whose absence makes a record unreadable is "required".
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from protocol.errors import ProtocolDataError
from protocol.participant import json_schema, parse_record
from protocol.screening import screen
from protocol.study import Study, load_study

#: Lists of entries, described by their own pages (the washout calculator's input).
ENTRY_LISTS = ("medications", "events")


@dataclass(frozen=True)
class DictionaryRow:
    field: str  # dotted path in the record
    type: str
    meaning: str
    used_by: str  # criterion IDs, "required", "(not in the examples)" or ""


def _words(name: str) -> str:
    """A model's name in words: ``MedicationEntry`` -> ``medication entry``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def type_text(spec: dict[str, Any]) -> str:
    """A JSON Schema type in words: a nested group is "group (the fields below)", a list of
    entries "list of medication entries", never a model's own name.

    >>> type_text({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]})
    'date'
    >>> type_text({"type": "array", "items": {"enum": ["a", "b"]}})
    'list of one of: a, b'
    >>> type_text({"type": "array", "items": {"$ref": "#/$defs/MedicationEntry"}})
    'list of medication entries'
    >>> type_text({"$ref": "#/$defs/PregnancyTest"})
    'group (the fields below)'
    """
    if "$ref" in spec:
        return "group (the fields below)"
    if "anyOf" in spec:
        kinds = [type_text(s) for s in spec["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds)
    if "enum" in spec:
        return "one of: " + ", ".join(map(str, spec["enum"]))
    if "const" in spec:
        return repr(spec["const"])
    if spec.get("type") == "array":
        items = spec.get("items", {})
        if "$ref" in items:
            name = _words(str(items["$ref"]).split("/")[-1]).removesuffix(" entry")
            return f"list of {name} entries"
        return f"list of {type_text(items)}"
    return str(spec.get("format", spec.get("type", "")))


def fields(
    model_schema: dict[str, Any], definitions: dict[str, Any], prefix: str = ""
) -> Iterator[tuple[str, str, str]]:
    """(path, type, meaning) of every field, nested records included, entry lists not."""
    for name, spec in model_schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, type_text(spec), spec.get("description", "")
        target = spec.get("$ref") or next(
            (s.get("$ref") for s in spec.get("anyOf", []) if "$ref" in s), None
        )
        if target and not path.endswith(ENTRY_LISTS):
            yield from fields(definitions[target.split("/")[-1]], definitions, path + ".")


def _statuses(record: dict[str, Any], study: Study) -> dict[str, str]:
    return {c.id: c.status for c in screen(parse_record(record, "dictionary"), study).criteria}


def _changes(
    path: str, record: dict[str, Any], study: Study, before: dict[str, str] | None = None
) -> set[str] | None:
    """The criteria whose status changes when ``path`` is removed from ``record`` (and, for a
    yes/no answer, when it is reversed); None when the record has no such field, and
    {"required"} when the record cannot be read without it."""
    keys = path.split(".")
    node: Any = record
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    if not isinstance(node, dict) or keys[-1] not in node:
        return None
    before = before or _statuses(record, study)
    value = node[keys[-1]]
    trials: list[Any] = [_REMOVED] + ([not value] if isinstance(value, bool) else [])
    # a choice's other values too: a PAH risk category left out is settled by the ACR/EULAR
    # item in every case, but "high" excludes (EX06)
    trials += [choice for choice in _choices(path) if choice != value]
    changed: set[str] = set()
    for trial in trials:
        data = copy.deepcopy(record)
        parent = data
        for key in keys[:-1]:
            parent = parent[key]
        if trial is _REMOVED:
            del parent[keys[-1]]
        else:
            parent[keys[-1]] = trial
        try:
            after = screen(parse_record(data, "dictionary"), study)
        except ProtocolDataError:
            if trial is _REMOVED:
                return {"required"}
            continue  # the reversed answer contradicts another field: it tells nothing
        changed |= {c.id for c in after.criteria if c.status != before[c.id]}
    return changed


_REMOVED = object()


@functools.cache
def _choices(path: str) -> tuple[Any, ...]:
    """The values a choice field allows (its schema's enum), or none for any other field."""
    schema = json_schema()
    definitions = schema["$defs"]
    spec: dict[str, Any] = schema
    for key in path.split("."):
        spec = _resolved(spec, definitions).get("properties", {}).get(key, {})
    spec = _resolved(spec, definitions)
    return tuple(spec.get("enum", ()))


def _resolved(spec: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its reference followed (directly, or as the non-null branch of an
    optional field)."""
    for candidate in [spec, *spec.get("anyOf", [])]:
        if "$ref" in candidate:
            return definitions[candidate["$ref"].split("/")[-1]]
        if "enum" in candidate or "properties" in candidate:
            return candidate
    return spec


def used_by(
    path: str,
    records: dict[str, Any] | list[dict[str, Any]],
    study: Study | None = None,
    baselines: list[dict[str, str]] | None = None,
) -> str:
    """The criteria whose status changes when ``path`` is removed (or a yes/no answer
    reversed) in any of ``records`` (complete synthetic records: the worked cases), in the
    study's order; "required" when a record cannot be read without it; "(not in the
    examples)" when no record has it."""
    study = study or load_study()
    records = [records] if isinstance(records, dict) else records
    baselines = baselines or [_statuses(record, study) for record in records]
    found = [
        _changes(path, record, study, before)
        for record, before in zip(records, baselines, strict=True)
    ]
    held = [f for f in found if f is not None]
    if not held:
        return "(not in the examples)"
    if any(f == {"required"} for f in held):
        return "required"
    used = set().union(*held)
    return ", ".join(c.id for c in study.criteria if c.id in used)


def dictionary(
    records: dict[str, Any] | list[dict[str, Any]], study: Study | None = None
) -> list[DictionaryRow]:
    """The data dictionary, with "used by" found from ``records`` (the worked cases). A field
    that changes no case by itself (one item of the ACR/EULAR total, when every case is far
    from the threshold) is used through its group: it takes the group's criteria, marked so."""
    schema = json_schema()
    definitions = schema["$defs"]
    study = study or load_study()
    records = [records] if isinstance(records, dict) else records
    baselines = [_statuses(record, study) for record in records]  # each case screened once
    rows: list[DictionaryRow] = []
    criteria_of: dict[str, str] = {}  # each field's criteria, for the fields inside it
    for path, kind, text in fields(schema, definitions):
        used = used_by(path, records, study, baselines)
        group = path.rpartition(".")[0]
        if group and used == "required" and criteria_of.get(group):
            used = "required when the group above is given"
        elif not used and criteria_of.get(group):
            used = f"{criteria_of[group]} (through its group)"
        criteria_of[path] = criteria_of.get(group, "") if not _CRITERIA.match(used) else used
        criteria_of[path] = criteria_of[path].removesuffix(" (through its group)")
        meaning = _no_uln(path, study) or text or _meaning(path, study)
        rows.append(DictionaryRow(path, kind, meaning, used))
    return rows


def _no_uln(path: str, study: Study) -> str:
    """A lab's ULN fields where its rule reads no ULN: the record offers them for every lab,
    and a reader told "the site's upper limit of normal" for haemoglobin would fill in one the
    rules then refuse."""
    from protocol.labs import get_analyte, uln_analytes

    parts = path.split(".")
    if parts[0] != "labs" or len(parts) != 3 or parts[2] not in ("uln", "uln_unit"):
        return ""
    try:
        analyte = get_analyte(parts[1], study)
    except KeyError:
        return ""
    if analyte.relative_to_uln:
        return ""
    return (
        f"{analyte.short_label}: none; an upper limit of normal applies only to "
        f"{uln_analytes(study)} (one given here is refused)"
    )


#: The groups and choices of the record, in words.
_GROUP_MEANINGS = {
    "dates": "The record's dates",
    "sex": "female or male",
    "pregnancy_test.result": "negative or positive",
    "pregnancy_test.sample": "serum or urine",
    "ssc": "Systemic sclerosis: classification items, skin score, first manifestation",
    "ssc.acr_eular": "The ACR/EULAR 2013 classification items (IN02)",
    "ssc.mrss": "The modified Rodnan skin score (IN05; the LeRoy subset of IN03 and EX01)",
    "history": "Past illnesses and allergies",
    "pulmonary": "Lung function and oxygen therapy (EX07)",
    "labs": "Screening laboratory values, each in any unit the site reports (EX22, EX24)",
    "infection_screening": "Infection tests and known infections (EX17 to EX20)",
    "attestations": "The investigator's attestations (IN07, EX16, EX30)",
}


def _meaning(path: str, study: Study) -> str:
    """The meaning of a field its model leaves undescribed, in words (a classification item,
    an area of the skin score, the parts of a laboratory value)."""
    from protocol.display import show_acr_item
    from protocol.labs import get_analyte

    parts = path.split(".")
    if path in _GROUP_MEANINGS:
        return _GROUP_MEANINGS[path]
    if path.startswith("ssc.acr_eular.") and len(parts) == 3:
        return f"ACR/EULAR 2013 item: {show_acr_item(parts[2])} (yes or no; IN02)"
    if path.startswith("ssc.mrss.areas.") and len(parts) == 4:
        area = parts[3].replace("_", " ")
        return f"mRSS grade of the skin of the {area}: 0 (normal) to 3 (severe)"
    if parts[0] == "labs" and len(parts) >= 2:
        try:
            analyte = get_analyte(parts[1], study)
        except KeyError:
            return ""
        if len(parts) == 2:
            return analyte.label
        return {
            "value": f"{analyte.short_label}: the value the laboratory reports",
            "unit": f"{analyte.short_label}: its unit, such as {analyte.accepted()}",
        }.get(parts[2], "")
    return ""


_CRITERIA = re.compile(r"^(IN|EX)\d\d")


#: The entry lists and the model of each entry.
ENTRY_MODELS = {
    "medications": "MedicationEntry",
    "events": "EventEntry",
    "history.malignancies": "Malignancy",
}


def entry_fields(entry_list: str, study: Study | None = None) -> list[DictionaryRow]:
    """The fields of one entry of a list (``medications``, ``events``, ``history.malignancies``),
    in words; an event's kind lists the kinds the study knows (any other is refused)."""
    study = study or load_study()
    spec = json_schema()["$defs"][ENTRY_MODELS[entry_list]]
    required = set(spec.get("required", ()))
    rows = []
    for name, value in spec["properties"].items():
        kind = type_text(value)
        meaning = value.get("description", "")
        if entry_list == "events" and name == "kind":
            kind = "one of: " + ", ".join(e.kind for e in study.exposure_events)
            meaning = "; ".join(f"{e.kind}: {e.label}" for e in study.exposure_events)
        rows.append(DictionaryRow(name, kind, meaning, "required" if name in required else ""))
    return rows
