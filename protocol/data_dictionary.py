"""The participant record's data dictionary: every field, its type, its meaning, and which
criteria use it (the data dictionary page).

"Used by" is found by experiment, not typed: each field is removed in turn from a complete,
eligible synthetic record, and the criteria that are no longer passed are the ones that use it.
A field whose absence makes the record unreadable is "required".
"""

from __future__ import annotations

import copy
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
    used_by: str  # criterion IDs, "required", "(not in SYN-01)" or ""


def type_text(spec: dict[str, Any]) -> str:
    """A JSON Schema type in words.

    >>> type_text({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]})
    'date'
    >>> type_text({"type": "array", "items": {"enum": ["a", "b"]}})
    'list of one of: a, b'
    """
    if "$ref" in spec:
        return str(spec["$ref"]).split("/")[-1]
    if "anyOf" in spec:
        kinds = [type_text(s) for s in spec["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds)
    if "enum" in spec:
        return "one of: " + ", ".join(map(str, spec["enum"]))
    if "const" in spec:
        return repr(spec["const"])
    if spec.get("type") == "array":
        return f"list of {type_text(spec.get('items', {}))}"
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


def used_by(path: str, complete: dict[str, Any], study: Study | None = None) -> str:
    """The criteria no longer passed when ``path`` is removed from a complete record."""
    data = copy.deepcopy(complete)
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            return ""
        node = node[key]
    if not isinstance(node, dict) or keys[-1] not in node:
        return f"(not in {complete.get('participant', 'the example')})"
    del node[keys[-1]]
    try:
        result = screen(parse_record(data, "dictionary"), study or load_study())
    except ProtocolDataError:
        return "required"
    return ", ".join(c.id for c in result.criteria if c.status != "pass")


def dictionary(complete: dict[str, Any], study: Study | None = None) -> list[DictionaryRow]:
    """The data dictionary, with "used by" found from the complete record ``complete``."""
    schema = json_schema()
    definitions = schema["$defs"]
    return [
        DictionaryRow(path, kind, text, used_by(path, complete, study))
        for path, kind, text in fields(schema, definitions)
    ]
