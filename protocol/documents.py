"""Reading documents people give the book: YAML or JSON files, read strictly or refused.

Every file the book reads (study.yaml, a participant record, a washout input, a stored registry
record) comes through :func:`read_text_file` and, for YAML and JSON, :func:`read_yaml`:

- only a regular file (or a symlink to one) is opened: a FIFO, a device or a directory is
  refused before it is opened, so reading never blocks;
- at most :data:`MAX_BYTES` (1 MiB); the text must be UTF-8 (a byte-order mark is allowed);
- YAML anchors and aliases are refused (a 600-byte "billion laughs" file would otherwise expand
  to gigabytes), and so are complex keys (a mapping or a list used as a key) and nesting deeper
  than :data:`MAX_DEPTH`;
- scalars are read as YAML 1.2 writes them, never guessed: ``true``/``false`` are booleans
  (not ``yes``, ``on``, ``y``); integers and decimals are plain decimal digits with at most one
  point (``1_000``, ``0x1F``, ``1:30``, ``.nan`` and ``.inf`` stay text, so the field that
  receives them refuses them by name); dates stay text and are read by the field's date type.

Errors name the file, the field (a dotted path with list indexes), its line, the value found and
what was expected.
"""

from __future__ import annotations

import datetime
import os
import re
import stat
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from protocol.errors import Problem, ProtocolDataError
from protocol.identifiers import (
    CODE_EXPECTED,
    CODE_PATTERN,
    IDENTIFYING,
    field_name_like,
    identifying_code,
    identifying_text,
    value_like,
)
from protocol.inputs import (
    MAX_EXPONENT,
    MAX_SIGNIFICANT_DIGITS,
    MOST_DIGITS_OF_A_MEASUREMENT,
    order_of_magnitude,
    significant_digits,
)

#: The largest input file read (1 MiB): a participant record is a few kilobytes.
MAX_BYTES = 1024 * 1024
#: The deepest nesting of mappings and lists accepted (a participant record nests 4 levels).
MAX_DEPTH = 24
#: How much of a value an error message shows.
MAX_SHOWN = 80

_INTEGER = re.compile(r"^[-+]?[0-9]+$")
_DECIMAL = re.compile(r"^[-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]{1,3})?$")
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False}
_BOOLEANS["FALSE"] = False


def read_text_file(path: Path | str, max_bytes: int = MAX_BYTES) -> str:
    """The text of a regular UTF-8 file of at most ``max_bytes``, or a ProtocolDataError."""
    path = Path(path)
    source = str(path)
    try:
        info = os.stat(path)  # follows symlinks: a link to a regular file is that file
    except FileNotFoundError:
        kind = "a dangling symbolic link" if os.path.islink(path) else "no such file"
        raise ProtocolDataError(source, [f"cannot read the file: {kind}"]) from None
    except OSError as exc:
        raise ProtocolDataError(source, [f"cannot read the file: {exc.strerror}"]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ProtocolDataError(source, ["is a directory; expected a YAML or JSON file"])
    if not stat.S_ISREG(info.st_mode):
        raise ProtocolDataError(
            source, ["is not a regular file (a pipe, socket or device); expected a file"]
        )
    if info.st_size > max_bytes:
        raise ProtocolDataError(
            source, [f"is {info.st_size} bytes; at most {max_bytes} bytes are read"]
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ProtocolDataError(source, [f"cannot read the file: {exc.strerror}"]) from None
    if len(data) > max_bytes:
        raise ProtocolDataError(source, [f"is larger than {max_bytes} bytes"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProtocolDataError(
            source, [f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"]
        ) from None


def shown(value: Any) -> str:
    """A value as an error message shows it: ``repr`` (control characters escaped), shortened."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None or isinstance(value, bool):  # as a YAML or JSON file writes them
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, datetime.date):  # a YAML date: as written, not Python's repr
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


# -- the YAML loader -------------------------------------------------------------------------


class _StrictComposer(yaml.composer.Composer):
    """Nodes composed strictly: no aliases, anchors or tags, no nesting deeper than MAX_DEPTH."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _refusal(
                self, event, "YAML aliases (*name) are not accepted; write the value out"
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _refusal(self, event, "YAML anchors (&name) are not accepted")
        if getattr(event, "tag", None) is not None:
            # a tag overrides what is written (pah_risk: !!null intermediate was read as no
            # category, then settled as none): the value alone is read, by its field
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")
            raise _refusal(
                self, event, f"the YAML tag {tag} is not accepted; expected the value alone"
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise _refusal(self, event, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class StrictLoader(_StrictComposer, yaml.SafeLoader):
    """PyYAML's safe loader, made strict: no aliases, no complex or duplicate keys, no guessing.
    Pure Python: it reads every document, and gives PyYAML's own words for one it cannot."""


def _refusal(loader: StrictLoader, event: Any, message: str) -> ProtocolDataError:
    line = event.start_mark.line + 1 if event.start_mark else None
    return ProtocolDataError(loader.name, [Problem(message, line=line)])


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise ProtocolDataError(
                loader.name,
                [Problem("a key must be a plain name, not a list or mapping", line=line)],
            )
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            # a key that may name a person is not repeated (every field's name is shown)
            named = (
                TEXT_WITHHELD if isinstance(key, str) and not field_name_like(key) else shown(key)
            )
            raise ProtocolDataError(
                loader.name,
                [
                    Problem(
                        "appears twice in one mapping",
                        found=f"key {named}",
                        line=line,
                        text=f"line {line}: key {named} appears twice in one mapping",
                    )
                ],
            )
        try:
            mapping[key] = loader.construct_object(value_node, deep=True)
        except _LeadingZero as exc:
            exc.path.insert(0, key)
            raise
    return mapping


#: More digits than any value of a record has: such a number stays text, and the field refuses it.
MAX_DIGITS = 30


def _construct_int(loader: StrictLoader, node: yaml.ScalarNode) -> Any:
    text = node.value
    if _LEADING_ZERO.match(text):
        # YAML 1.1 (PyYAML's default, and many tools) reads 0171 as octal 121, YAML 1.2 as 171:
        # the same file would hold two values; refused, by its field (the mappings and lists
        # it is in add their keys as the refusal passes through them)
        raise _LeadingZero(text, node.start_mark.line + 1)
    return int(text) if _INTEGER.match(text) and len(text) <= MAX_DIGITS else text


class _LeadingZero(Exception):
    """An integer written with a leading zero, on its way out to the field that holds it."""

    def __init__(self, text: str, line: int) -> None:
        super().__init__(text)
        self.text, self.line = text, line
        self.path: list[Any] = []  # the keys and indexes down to it, filled on the way out

    def problem(self) -> Problem:
        digits = self.text.lstrip("+-").lstrip("0")
        digits = "0" + digits if digits.startswith(".") else digits
        number = ("-" if self.text.startswith("-") and digits else "") + (digits or "0")
        why = (
            "which YAML 1.1 reads as an octal number and YAML 1.2 as a decimal one"
            if _LEADING_ZERO.match(self.text)
            else "which a reader may take for a lost point or digit"
        )
        return Problem(
            f'written with a leading zero, {why}; expected {number} (the number) or "{self.text}" '
            "in quotes (a code)",
            path=format_location(tuple(self.path)),
            found=self.text,
            line=self.line,
        )


def _construct_sequence(loader: StrictLoader, node: yaml.SequenceNode) -> list[Any]:
    items = []
    for index, child in enumerate(node.value):
        try:
            items.append(loader.construct_object(child, deep=True))
        except _LeadingZero as exc:
            exc.path.insert(0, index)
            raise
    return items


#: An integer written with a leading zero (0171, -012; 0 itself is plain), and a decimal
#: (0121.5, 01.21e2; 0.5 is plain).
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")
_LEADING_ZERO_DECIMAL = re.compile(r"^[-+]?0[0-9]")


def _construct_float(loader: StrictLoader, node: yaml.ScalarNode) -> Any:
    """A decimal as a float where a float holds what is written; a decimal with more significant
    digits than a value may have stays text, which the field refuses with the reason (as a
    float, 79.9999999999999999 would be read as 80)."""
    text = node.value
    if _LEADING_ZERO_DECIMAL.match(text):  # 0121.5: as 0171 is, written with a leading zero
        raise _LeadingZero(text, node.start_mark.line + 1)
    if not (_DECIMAL.match(text) and len(text) <= MAX_DIGITS):
        return text
    exponent = re.split("[eE]", text)[1:]
    if exponent and abs(int(exponent[0])) > MAX_EXPONENT:
        # 1e400 is infinity as a float, 1e-320 a number no measurement has: the text goes to
        # the field, which refuses it with the value as written
        return text
    mantissa = re.split("[eE]", text.lstrip("+-"))[0]
    # a value's size held as a text's is (0.00000000000000012 is of the order of 10^-16): the
    # text goes to the field, which refuses it in the same words
    size = order_of_magnitude(mantissa)
    if size is not None and abs(size + int(exponent[0] if exponent else 0)) > MAX_EXPONENT:
        return text
    return text if significant_digits(mantissa) > MAX_SIGNIFICANT_DIGITS else float(text)


def _construct_bool(loader: StrictLoader, node: yaml.ScalarNode) -> Any:
    return _BOOLEANS.get(node.value, node.value)


def _construct_text(loader: StrictLoader, node: yaml.ScalarNode) -> Any:
    return loader.construct_scalar(node)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
# dates stay text: the field's date type reads them (YYYY-MM-DD only, never a time or a zone)
StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
# a YAML 1.1 "1e5" (no point) or "1.2e3" (no sign in the exponent) resolves to text; JSON and
# YAML 1.2 write them, so read them as numbers too
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]{1,3}$"),
    list("-+0123456789"),
)
# binary, sets, ordered maps and pairs are not data a record holds


def _construct_refused(loader: StrictLoader, node: yaml.Node) -> Any:
    raise _refusal(loader, node, f"the YAML type {node.tag} is not accepted")


for _tag in ("binary", "set", "omap", "pairs"):
    StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_refused)


try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: the pure loader reads everything
    CParser = None


if CParser is not None:

    class _FastStrictLoader(
        _StrictComposer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):  # type: ignore[misc,valid-type]
        """The same loader over libyaml's parser, ten times faster on study.yaml (0.05 s against
        0.5 s): the events come from C, and the nodes, the strict checks and the values are
        made by the same Python code as StrictLoader's. A document it cannot parse is read
        again by StrictLoader, so an error is always said in the same words."""

        yaml_constructors = StrictLoader.yaml_constructors
        yaml_implicit_resolvers = StrictLoader.yaml_implicit_resolvers

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


#: Where libyaml and PyYAML's Python parser are known to read a text differently (found by
#: tests/test_yaml_loaders_agree.py): a tab after a value (PyYAML refuses `a: 1<tab>`), a `?`
#: (an explicit key's line; `[a?]`, which PyYAML refuses), a carriage return, a byte-order
#: mark or a Unicode line break.
_PARSERS_DIFFER = re.compile("[\t\r\x85\u2028\u2029\ufeff?]")


def _load(loader_class: type, text: str, source: str) -> tuple[Any, yaml.Node | None]:
    loader = loader_class(text)
    loader.name = source
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def read_yaml(path: Path | str, max_bytes: int = MAX_BYTES) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML (or JSON) file into data and its node tree (for line numbers in errors)."""
    path = Path(path)
    text = read_text_file(path, max_bytes)
    return parse_yaml_text(text, str(path))


def parse_yaml_text(text: str, source: str, fast: bool = False) -> tuple[Any, yaml.Node | None]:
    """``text`` as data and its node tree, or a ProtocolDataError. ``fast``: parsed by libyaml
    (study.yaml: 0.05 s against 0.5 s) where it reads the text as PyYAML does."""
    # the study's fast way (records, which anyone writes, are read by PyYAML's own Python
    # parser, as every test of a hostile record was written against); a text holding a
    # character on which the two parsers are known to differ is read the pure way
    if fast and CParser is not None and not _PARSERS_DIFFER.search(text):
        try:
            return _load(_FastStrictLoader, text, source)
        except (yaml.YAMLError, RecursionError, ProtocolDataError, _LeadingZero):
            pass  # refused: read again below, so a refusal is always said in the same words
    try:
        data, node = _load(StrictLoader, text, source)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "unreadable"
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        detail = getattr(exc, "problem", None) or problem
        raise ProtocolDataError(source, [f"{where}not valid YAML or JSON: {detail}"]) from None
    except RecursionError:
        raise ProtocolDataError(source, [f"nested deeper than {MAX_DEPTH} levels"]) from None
    except _LeadingZero as exc:
        raise ProtocolDataError(source, [exc.problem()]) from None
    return data, node


# -- validation errors for people ------------------------------------------------------------


def format_location(loc: tuple[Any, ...]) -> str:
    """('arms', 0, 'label', 'value') -> 'arms[0].label.value' (control characters escaped)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = str(part)
            if not name.isprintable():
                name = repr(name)
            text += f".{name}" if text else name
    return text or "(top level)"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at a validation location, if it can be found."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            # a key written as a number, true or null (`1: x`) is named by pydantic as the
            # value it reads as
            matches = [v for k, v in node.value if k.value in _written_forms(part)]
            if not matches:
                break
            node = matches[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _written_forms(part: Any) -> tuple[Any, ...]:
    """The ways a YAML file writes a key that reads as ``part``."""
    if part is None:
        return (None, "null", "Null", "NULL", "~", "")
    if isinstance(part, bool):
        word = str(part).lower()
        return (part, word, word.capitalize(), word.upper())
    return (part, str(part))


def validation_problems(
    error: ValidationError,
    node: yaml.Node | None = None,
    strip: int = 0,
    model: type[BaseModel] | None = None,
    withheld: Iterable[str] = (),
    personal: bool = False,
) -> list[Problem]:
    """One problem record per pydantic error: field path, line, value found, what was expected.
    With the ``model``, an unknown field spelt like a missing one is said once ("did you mean
    name?"), unless its line is ``withheld`` (said as personal data, by its path). ``personal``:
    a document about a person (a record, a washout list, a table's mapping): a refused text is
    shown back only where it reads as the field's value mistyped, and an unknown field's name
    only where it reads as a field's name (``sex: Zhang Wei``, ``Zhang Wei: 1978-06-14`` are
    refused without the name), as ``prescreen`` shows a refused cell."""
    problems = []
    items = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"][strip:])
        # pydantic adds a type tag such as 'function-after[...]' to some locations: drop it
        items.append((item, tuple(p for p in loc if not (isinstance(p, str) and "[" in p))))
    misspelt = _misspelt_fields(items, model, set(withheld)) if model is not None else {}
    for item, loc in items:
        message = item["msg"].removeprefix("Value error, ")
        where = format_location(loc)
        line = _line_of(node, loc)
        if personal and any(isinstance(k, str) and not field_name_like(k) for k in loc):
            where = _keys_withheld(loc)
        if loc in misspelt:  # an unknown field close to a missing one: one line, of both
            if misspelt[loc] is not None:
                problems.append(
                    Problem(
                        f"unknown field; did you mean {misspelt[loc]}? (expected it: it is "
                        "required)",
                        path=where,
                        line=line,
                    )
                )
        elif item["type"] == "missing":
            problems.append(
                Problem("missing; expected this field (it is required)", path=where, line=line)
            )
        elif item["type"] == "invalid_key":  # `1: x`, `true: x`: a key that is no name
            key = item.get("input")
            # found by the key itself: pydantic names a `true:` key by the number 1
            line = _line_of(node, (*loc[:-1], key))
            # a key that reads as a phone number is refused as personal data, by its own path
            withheld = identifies(key, where)
            problems.append(
                Problem(
                    "a key that is no field name; expected field names in words (such as sex)",
                    path=where if withheld else format_location(loc[:-1]),
                    found="(withheld)" if withheld else shown(key),
                    line=line,
                )
            )
        elif item["type"] == "extra_forbidden":
            fields = _fields_at(model, loc[:-1]) if model is not None else []
            shown_fields = ", ".join(fields[:12]) + (", …" if len(fields) > 12 else "")
            expected = f"; expected one of: {shown_fields}" if fields else ""
            problems.append(
                Problem(f"unknown field (is it misspelt?){expected}", path=where, line=line)
            )
        elif item["type"] == "value_error" and not loc:
            problems.extend(Problem(text) for text in message.splitlines())
        elif item["type"] == "string_pattern_mismatch" and item["ctx"]["pattern"] == CODE_PATTERN:
            # a code that is no code may be a name: said in words, never shown back
            problems.append(
                Problem(f"expected {CODE_EXPECTED}", path=where, found="(withheld)", line=line)
            )
        elif (
            message == IDENTIFYING
            or identifies(item.get("input"), where)
            or (item["type"] == "string_type" and _number_as_code_identifies(item.get("input")))
        ):
            # the value identifies a person (a code, or any value refused for another reason
            # that reads as a phone or ID card number): not shown again, in the words either
            text = withheld_from(in_plain_words(item) or message, item.get("input"))
            problems.append(Problem(text, path=where, found="(withheld)", line=line))
        elif personal and not _may_show(item):
            text = withheld_from(in_plain_words(item) or message, item.get("input"))
            problems.append(Problem(text, path=where, found=TEXT_WITHHELD, line=line))
        else:
            found = shown(item.get("input"))
            words = in_plain_words(item) or message
            problems.append(Problem(words, path=where, found=found, line=line))
    return list(dict.fromkeys(problems))


#: How a refused text that may name a person is given in a message.
TEXT_WITHHELD = "(withheld: it may name a person)"


def shown_back(value: Any, unit: bool = False) -> str:
    """A refused value of a person's document as a message shows it: as written where it may
    be shown (:func:`may_be_shown`; ``unit``: a unit's text, shown as ``prescreen`` shows a unit
    cell, ``G/DL`` or ``10^9/L`` too), else withheld."""
    if not isinstance(value, str) or may_be_shown(value) or (unit and value_like(value, True)):
        return shown(value)
    return TEXT_WITHHELD


#: ASCII letters, digits and signs: how the book's own words and units are typed (``twice a
#: week``, ``rectal``, ``15 mL``); a name is written in its own script, with a capital and small
#: letters (``Wang``), or in capitals as a passport writes it (``ZHANG WEI``).
_AS_THE_BOOKS_WORDS = re.compile(r"[A-Za-z0-9 _'./,:;()+%\-]{1,60}")
#: A word as a name may be written: a capital and small letters (Wang, Li, Wu), or two capitals
#: or more (ZHANG, WU); a unit's capitals come alone or after small letters (mL, dL, U/L).
_A_NAMES_WORD = re.compile(r"(?<![A-Za-z])[A-Z](?:[a-z]+|[A-Z]+)")


def refused_as_said(message: str, value: Any, unit: bool = False) -> tuple[str, str]:
    """A refusal's words and the value it found, as a person's document shows them: the value
    as :func:`shown_back` gives it, and taken out of the words where it is withheld."""
    found = shown_back(value, unit)
    return (withheld_from(message, value) if found == TEXT_WITHHELD else message), found


def may_be_shown(text: str, expected: str = "") -> bool:
    """Whether a refused text of a person's document is shown back: one that reads as a
    value mistyped (``value_like``: ``Female``, ``12,5``, ``2024-02-30``), one of the values
    ``expected`` in other letters, or one written in small ASCII letters as the book's words are
    (``rectal``, ``soon``, ``15 mL``); any other (``Zhang Wei``, ``张伟``, ``Müller``,
    ``ZHANG WEI``) may name a person.
    A number that reads as a phone or card number is withheld before this (``identifies``)."""
    if value_like(text) or f"'{text.strip().lower()}'" in expected.lower():
        return True
    written = text.strip()
    return bool(_AS_THE_BOOKS_WORDS.fullmatch(written)) and not _A_NAMES_WORD.search(written)


def _may_show(item: Any) -> bool:
    """Whether a pydantic error's refused value may be shown back (anything but a text, or a
    text :func:`may_be_shown` shows)."""
    value = item.get("input")
    if not isinstance(value, str):
        return True
    return may_be_shown(value, str((item.get("ctx") or {}).get("expected", "")))


def _keys_withheld(loc: tuple[Any, ...]) -> str:
    """A place in a person's document with each key that may name a person withheld (an
    unknown field ``Zhang Wei:``, an attestation under such a key): every field's own name is
    written in small letters, and is kept."""
    withheld = "(a key, withheld: it may name a person)"
    return format_location(
        tuple(k if not isinstance(k, str) or field_name_like(k) else withheld for k in loc)
    )


def _misspelt_fields(
    items: list[tuple[Any, tuple[Any, ...]]], model: type[BaseModel], withheld: set[str]
) -> dict[tuple, str | None]:
    """A required field missing beside an unknown one spelt like it (``nmae:`` for ``name:``)
    is one mistake: the unknown field's location -> the name meant, and the missing field's
    location -> None (said with it). Only where the unknown field is one typo from the missing
    one and from no other field of the object (``uln_units`` is a typo of the optional
    ``uln_unit``, not of a missing ``unit``), and its own line is not withheld as personal
    data."""
    missing: dict[tuple, list[str]] = {}
    for item, loc in items:
        if item["type"] == "missing" and loc and isinstance(loc[-1], str):
            missing.setdefault(loc[:-1], []).append(loc[-1])
    found: dict[tuple, str | None] = {}
    for item, loc in items:
        if item["type"] != "extra_forbidden" or not loc or not isinstance(loc[-1], str):
            continue
        if loc[:-1] not in missing or format_location(loc) in withheld:
            continue
        # a typo of one missing field, and of no other field of the object
        near = [f for f in _fields_at(model, loc[:-1]) if _one_typo_apart(loc[-1], f)]
        meant = near[0] if len(near) == 1 else None
        if meant in missing[loc[:-1]] and (*loc[:-1], meant) not in found:
            found[loc] = meant
            found[(*loc[:-1], meant)] = None
    return found


def _one_typo_apart(typed: str, name: str) -> bool:
    """One letter left out, added, changed, or two neighbours swapped (``nmae`` for ``name``;
    ``unit_uln`` is no typo of ``unit``).

    >>> [_one_typo_apart(t, "name") for t in ("nmae", "nam", "names", "nane", "name", "mean")]
    [True, True, True, True, False, False]
    """
    if typed == name or abs(len(typed) - len(name)) > 1:
        return False
    if len(typed) == len(name):
        differ = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
        swapped = (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and typed[differ[0]] == name[differ[1]]
            and typed[differ[1]] == name[differ[0]]
        )
        return len(differ) == 1 or swapped
    shorter, longer = sorted((typed, name), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the object at ``loc`` in ``model`` (through lists, mappings and
    optional values); empty where none is found."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            continue  # an entry of a list or a mapping: the same kind of object
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds: itself, or inside Optional, list or dict."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in typing.get_args(annotation):
        found = _model_in(inner)
        if found is not None:
            return found
    return None


def in_plain_words(item: Any) -> str | None:
    """What a pydantic error expected, in a reader's words ("expected true or false", not
    "Input should be a valid boolean"); None where the message is the project's own."""
    kind, ctx = item["type"], item.get("ctx") or {}
    if kind in ("bool_parsing", "bool_type"):
        return "expected true or false"
    if kind in ("literal_error", "enum"):
        return f"expected {ctx['expected']}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "expected a whole number"
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return "expected a number"
    bounds = {
        "less_than_equal": ("le", "at most"),
        "greater_than_equal": ("ge", "at least"),
        "less_than": ("lt", "less than"),
        "greater_than": ("gt", "more than"),
    }
    if kind in bounds:
        key, words = bounds[kind]
        return f"expected {words} {ctx[key]}"
    if kind == "string_too_short":
        length = ctx.get("min_length", 1)
        return "is empty; expected some text" if length == 1 else f"expected {length}+ characters"
    if kind == "string_too_long":
        return f"is too long; expected at most {ctx['max_length']} characters"
    if kind == "string_type":
        return "expected text"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        fields = _FIELDS_OF[ctx.get("class_name", "")]
        return f"expected a mapping of fields ({fields})" if fields else "expected a mapping"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "expected a list (each entry on a line of its own beginning with '- ')"
    if kind in ("too_long", "too_short"):
        limit = ctx.get("max_length" if kind == "too_long" else "min_length")
        return f"expected {'at most' if kind == 'too_long' else 'at least'} {limit} entries"
    return None


class _ModelFields(dict[str, str]):
    """Each model's fields by its class name, as an error lists them ("value, unit, uln,
    uln_unit" for LabValue); found on first use among every pydantic model."""

    def __missing__(self, name: str) -> str:
        pending = list(BaseModel.__subclasses__())
        while pending:
            model = pending.pop()
            pending += model.__subclasses__()
            if model.__name__ == name:
                self[name] = getattr(model, "fields_in_words", None) or ", ".join(
                    model.model_fields
                )
                return self[name]
        return ""


_FIELDS_OF = _ModelFields()


def withheld_from(message: str, value: Any) -> str:
    """A message with a withheld value taken out of its words (a reader's "'138-1234-5678' is not
    a decimal number" repeats it)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e20:
        value = int(value)
    return taken_out(message, {str(value), repr(value)})


#: A number, a date or a card number as a message repeats one: digits, with points, dashes,
#: slashes, colons, spaces or a plus between them, after at most four letters (13800138000,
#: 138-1234-5678, 1980-01-01 00:00:00+00:00, A123456789); a text with another sign or a letter
#: among its digits (10^9/L, 1.5e9) is a message's own words, never taken for a value.
_A_NUMBER_AS_WRITTEN = re.compile(r"(?:[A-Za-z]{1,4}-?)?[+-]?[0-9]+(?:[.\-/: +]+[0-9]+)*")


def taken_out(message: str, forms: set[str]) -> str:
    """``message`` with each of a value's written ``forms`` replaced by "(withheld)" where the
    message quotes it, or gives it as a number or date of its own (6 characters or more: "the
    value 13800138000 is implausible", _A_NUMBER_AS_WRITTEN); never from inside
    the message's own words (a withheld "." is not taken out of "such as 7.5", nor "a" out of
    "a unit", nor "10^9/L" out of "in a unit such as 10^9/L")."""
    for written in sorted(forms, key=len, reverse=True):  # '…' before the text inside it
        if not written:
            continue
        quoted = (f"'{written}'", f'"{written}"')
        for form in quoted if written[0] not in "'\"" else (written,):
            message = message.replace(form, "(withheld)")
        if len(written) >= 6 and _A_NUMBER_AS_WRITTEN.fullmatch(written):
            alone = r"(?<![\w.\-])" + re.escape(written) + r"(?![\w\-]|\.\w)"
            message = re.sub(alone, "(withheld)", message)
    return message


#: Lists whose entries an error names by one of their fields: medications[1] (methotrexate).
ENTRY_NAMES = {"medications": "name", "events": "kind"}


def _with_entry_name(problem: Problem, data: dict[str, Any]) -> Problem:
    """'medications[1].last_dose' -> 'medications[1] (methotrexate).last_dose'."""
    for key, name_field in ENTRY_NAMES.items():
        entries = data.get(key)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            prefix = f"{key}[{index}]"
            name = entry.get(name_field) if isinstance(entry, dict) else None
            # medications[1] is not the start of medications[10]
            names_entry = problem.path == prefix or problem.path.startswith(
                (f"{prefix}.", f"{prefix}[")
            )
            if (
                names_entry
                and isinstance(name, str)
                and name.strip()  # an empty name names no entry
                and name.isprintable()
                and not identifies(name, "")
            ):
                path = f"{prefix} ({name[:MAX_SHOWN]}){problem.path[len(prefix) :]}"
                return Problem(problem.expected, path, problem.found, problem.line)
    return problem


ModelT = TypeVar("ModelT", bound=BaseModel)


def _kind_of(data: Any) -> str:
    """What a file holds instead of fields, said by its kind: a line of text given by mistake
    (a table's row: a name, a birth date, an address) is never shown back."""
    if isinstance(data, str):
        return "a line of text (not shown: it may name a person)"
    if isinstance(data, bool):
        return shown(data)
    if isinstance(data, int | float):
        return "a number"
    if isinstance(data, datetime.date):
        return "a date"
    return shown(data)


def validate_document(
    model: type[ModelT],
    data: Any,
    source: str,
    node: yaml.Node | None = None,
    error: type[ProtocolDataError] = ProtocolDataError,
    check_personal_data: bool = True,
    own_checks: frozenset[str] = frozenset(),
) -> ModelT:
    """Validate a parsed YAML/JSON document; every problem names its field (and entry). A text
    that identifies a person is refused first (:func:`personal_data_problems`); the project's
    own files (study.yaml) are not searched."""
    if not isinstance(data, dict):
        raise error(
            source,
            [
                Problem(
                    "a mapping at the top level",
                    path="(top level)",
                    found=_kind_of(data),
                    text=(
                        "the file is empty (or holds comments only)"
                        if node is None
                        else "the file holds a null value alone (null or ~), no field"
                    )
                    + "; expected a mapping at the top level (lines of field: value)"
                    if data is None
                    else f"expected a mapping at the top level, found {_kind_of(data)}",
                )
            ],
        )
    personal, flagged = _personal_data(data, node, own_checks) if check_personal_data else ([], [])
    other = _another_kind(model, data)
    if other is not None and not personal:
        # a file of another kind (a participant record given to washout): said in one line,
        # not as a refusal of each of its fields
        raise error(
            source,
            [
                Problem(
                    f"expected {_KIND_WORDS.get(model.__name__, 'another file')}",
                    path="(the file)",
                    found=f"{other}",
                )
            ],
        )
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        # a field refused here is not refused again in the model's words (which repeat it)
        problems = [
            p
            for p in validation_problems(
                exc, node, model=model, withheld=flagged, personal=check_personal_data
            )
            if not any(p.path == f or p.path.startswith((f"{f}.", f"{f}[")) for f in flagged)
        ]
        every = personal + problems
        raise error(source, [_with_entry_name(p, data) for p in every]) from None
    if personal:
        raise error(source, [_with_entry_name(p, data) for p in personal])
    return validated


#: Each kind of file the commands read, by a top-level field only it has, in words.
_KIND_SIGNATURES = (
    ("participant", "ParticipantRecord", "a participant record"),
    ("schema_version", "Study", "a study.yaml"),
    ("protocolSection", None, "a registry record"),
    ("id_column", "Mapping", "a prescreen mapping"),
    ("planned_randomization", "WashoutInput", "a washout list"),
)
_KIND_WORDS = {
    "ParticipantRecord": "a participant record (participant, dates, sex, ssc, labs, ...)",
    "Study": "a study.yaml (schema_version, protocol_version, criteria, ...)",
    "Mapping": "a prescreen mapping (id_column, columns)",
    "WashoutInput": "a washout list (planned_randomization, screening, medications, events)",
}


def _another_kind(model: type[BaseModel], data: dict[str, Any]) -> str | None:
    """The kind of file ``data`` is, when it is plainly another kind than ``model`` reads: a
    top-level field only that other kind has, and none only ``model``'s kind has (a participant
    record with a few misspelt fields is still a participant record, each field named)."""
    known = {name for name in model.model_fields} | {
        f.alias for f in model.model_fields.values() if f.alias
    }
    own = [key for key, kind, _ in _KIND_SIGNATURES if kind == model.__name__]
    if any(key in data for key in own):
        return None
    for key, kind, words in _KIND_SIGNATURES:
        if key in data and kind != model.__name__ and key not in known:
            return words
    return None


#: A number with a fraction, written as a measurement is (79.9999999999999999): read, or refused
#: for its digits, by its field; the field's refusal withholds it if it reads as a phone number.
_A_DECIMAL = re.compile(r"\s*[+-]?[0-9]+\.[0-9]+\s*")

#: A lab's value or ULN, written with no more significant digits than a measurement has: a
#: count in cells/L (15000000000, 2 digits) is a value, as prescreen reads a lab column.
_LAB_NUMBER = re.compile(r"labs\.[a-z_]+\.(?:value|uln)")


def _number_as_code_identifies(value: Any) -> bool:
    """Whether a number written where a text is expected (an unquoted code, ``participant:
    19780614``) would be refused as a code that identifies a person: a birth date or a phone
    number, written as digits. Refused for its type, it is not shown back either."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    written = _as_written(value)
    return written is not None and identifying_code(written)


def _as_written(value: int | float | str) -> str | None:
    """A text, or a number as its digits (a whole float without its point); None for a
    measurement with a fraction, or a number too large for any phone's digits."""
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 1e20:
            return None
        value = int(value)
    return str(value).strip()


def identifies(value: Any, where: str) -> bool:
    """Whether a document's text, number or field name at the field ``where`` reads as a phone
    number, an ID card number or an e-mail address (a text as free text is read; a lab's
    number with a measurement's digits is a value)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    written = _as_written(value)
    if written is None:
        return False  # a measurement with a fraction, or no number a phone has
    if _A_DECIMAL.fullmatch(written) and not re.fullmatch(r"\s*[+-]?[0-9]+\.0+\s*", written):
        return False  # a fraction: its field reads or refuses it (13812345678.0 is checked)
    if (
        _LAB_NUMBER.fullmatch(where)
        and re.fullmatch(r"[0-9]+", written)
        and significant_digits(written) <= MOST_DIGITS_OF_A_MEASUREMENT
    ):
        return False
    return identifying_text(written, free_text=True)


#: What a document is told of a text in it that identifies a person.
PERSONAL_DATA = (
    "a phone number, ID card number or e-mail address identifies a person; expected "
    "pseudonymous, synthetic data only (the value is not shown)"
)


def personal_data_problems(
    data: Any, node: yaml.Node | None = None, own_checks: frozenset[str] = frozenset()
) -> list[Problem]:
    """Each text, whole number or field name in a document that reads as a phone number, an ID
    card number or an e-mail address (identifying_text): a site's record or list must hold
    none, and every answer that repeats a name or a reason would copy it to the screen and the
    reports. Refused with its path, never its value; a field named so is shown as
    "(withheld)". ``own_checks``: paths a model refuses in words of its own (the participant
    code)."""
    return _personal_data(data, node, own_checks)[0]


def _personal_data(
    data: Any, node: yaml.Node | None, own_checks: frozenset[str]
) -> tuple[list[Problem], list[str]]:
    """The problems, and the path of each field refused (a field name as it is written)."""
    problems: list[Problem] = []
    flagged: list[str] = []

    def walk(value: Any, loc: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if identifies(key, format_location((*loc, ""))):
                    where = format_location((*loc, "(withheld)"))
                    line = _line_of(node, (*loc, key))
                    problems.append(
                        Problem(PERSONAL_DATA, path=where, found="(withheld)", line=line)
                    )
                    flagged.append(format_location((*loc, key)))
                else:
                    walk(item, (*loc, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*loc, index))
        elif identifies(value, format_location(loc)):
            where = format_location(loc)
            if where not in own_checks:
                line = _line_of(node, loc)
                problems.append(Problem(PERSONAL_DATA, path=where, found="(withheld)", line=line))
                flagged.append(where)

    walk(data, ())
    return problems, flagged
