"""Hostile inputs: every `trialbook` command reads strictly or refuses, and never crashes.

A table of about two thousand inputs across `lab`, `washout`, `screen`, `calendar` and
`registry-check` (issue 10, section 1 and "Must show"). Each row is an argv, the files it writes
into ``tmp_path``, the exit code the rules give and a fragment the message must contain (stderr
for bad input). Every call runs in-process through ``trialbook.cli.main`` under a timeout, and
every row asserts:

- the exit code, and never 4 (internal error) unless the row says so (none does);
- the fragment (in stderr for exit 2, in stdout or stderr otherwise);
- no traceback, no raw ESC or carriage return in anything printed (control characters never
  reach the terminal), strict JSON (no NaN/Infinity) where JSON is asked for;
- for exit 2, a first stderr line that starts with ``error:`` and names the file or the field.

A sample of rows also runs as real processes (`.venv/bin/trialbook`), with an ASCII terminal
and a medicine name that carries ESC and a carriage return.

The expected exit codes are derived from the rules (issue 10; DESIGN.md principles 3 and 10 and
the exit codes of "Conventions"; the README), never copied from the program's output:
0 done / eligible / passes, 1 fails / not eligible / differences found, 3 incomplete, 2 bad
input or usage (one line: file, field, value, what was expected), 4 internal error. A row where
the program disagrees with the rule keeps the rule's expectation and is marked
``xfail(strict=True)`` with the reason, so fixing the program turns it into a failure that asks
for the mark to be removed.

All inputs are synthetic (principle 9).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import signal
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialbook.cli import main

pytestmark = pytest.mark.traces("criteria")

REPO = Path(__file__).resolve().parents[1]
TRIALBOOK = REPO / ".venv" / "bin" / "trialbook"
# A guard against a hang, not a speed test (speed is the benchmarks'): on a slow machine under
# two test workers, 300 steroid courses took past 10 s (4 s alone)
CALL_TIMEOUT = 30  # seconds for one in-process call
PROCESS_TIMEOUT = 40  # seconds for one real process

CASE01 = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
REGISTRY_TEXT = (REPO / "protocol/registry/NCT06375005.json").read_text(encoding="utf-8")
REGISTRY = json.loads(REGISTRY_TEXT)
STUDY_TEXT = (REPO / "protocol/study.yaml").read_text(encoding="utf-8")

#: A washout input that passes everything on its planned date (exit 0).
WASHOUT = {
    "planned_randomization": date(2025, 3, 17),
    "screening": date(2025, 3, 3),
    "medications": [
        {
            "name": "methotrexate",
            "last_dose": date(2025, 1, 20),
            "dose": "15 mg",
            "frequency": "weekly",
            "route": "oral",
        },
        {
            "name": "prednisone",
            "ongoing": True,
            "dose": "7.5 mg",
            "frequency": "daily",
            "route": "oral",
        },
    ],
    "events": [{"kind": "live_vaccine", "date": date(2024, 10, 2)}],
}

# -- the rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dir:
    """A directory at this name."""


@dataclass(frozen=True)
class Fifo:
    """A named pipe at this name (reading or writing it must never block)."""


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (relative to tmp_path, or absolute)."""

    target: str


@dataclass(frozen=True)
class Big:
    """A file of ``size`` bytes: ``head`` then YAML/JSON-neutral padding."""

    head: str
    size: int = 1024 * 1024 + 64


@dataclass(frozen=True)
class Row:
    """One hostile input: ``{tmp}`` in any text stands for the test's tmp_path."""

    id: str
    argv: tuple[str, ...]
    exit: int | tuple[int, ...]
    fragment: str
    where: str | None = None  # what the first stderr line of an exit 2 must name
    files: tuple[tuple[str, Any], ...] = ()
    bug: str | None = None  # the program disagrees with the rule: xfail(strict=True)
    absent: tuple[str, ...] = ()  # files that must not exist afterwards
    unchanged: tuple[tuple[str, str], ...] = ()  # (file, content) it must still have
    contains: tuple[tuple[str, str], ...] = ()  # (file, fragment) written files must hold
    env: dict[str, str] = field(default_factory=dict)  # real processes only

    @property
    def command(self) -> str:
        return self.argv[0]


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated objects out in full (never as YAML anchors and aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(data: Any, raw: dict[str, str] | None = None) -> str:
    """YAML text of ``data``; each key of ``raw`` found in it is replaced by its raw YAML."""
    text = yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=1000)
    for key, value in (raw or {}).items():
        text = text.replace(key, value)
    return text


_DELETE = object()
#: A placeholder that YAML writes as a plain scalar, replaced by raw YAML text.
RAW = "HOSTILE_RAW_VALUE"


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``data`` with ``path`` set to ``value`` (or deleted: _DELETE)."""
    data = copy.deepcopy(data)
    target = data
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(target, dict) else target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def _with(data: Any, *changes: tuple[tuple[Any, ...], Any]) -> Any:
    for path, value in changes:
        data = _set(data, path, value)
    return data


def _variant(base: Any, path: tuple[Any, ...], raw: str) -> str:
    """YAML text of ``base`` with the value at ``path`` written as the raw YAML ``raw``."""
    return _yaml(_set(base, path, RAW), {RAW: raw})


def _dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def file_row(
    command: str,
    id: str,
    content: Any,
    exit: int | tuple[int, ...],
    fragment: str,
    *,
    args: tuple[str, ...] = (),
    name: str = "in.yaml",
    bug: str | None = None,
    extra_files: tuple[tuple[str, Any], ...] = (),
) -> Row:
    """A row whose command reads one input file written into tmp_path (or a path as given)."""
    path = name if name.startswith("/") else f"{{tmp}}/{name}"
    files = extra_files if content is None else ((name, content), *extra_files)
    if command == "registry-check":
        argv: tuple[str, ...] = (command, *args, path)
    else:
        argv = (command, path, *args)
    return Row(f"{command}:{id}", argv, exit, fragment, where=path, files=files, bug=bug)


# -- bugs found (the program disagreed with the rule) -------------------------------------------
# Each was found by this suite, kept as a strict xfail with the rule's expectation, then fixed;
# a row that should ever disagree again gets a reason here and `bug=` on the row:
# - an argparse usage error printed the usage block first, not one 'error:' line (section 2);
# - an integer of more than 4300 digits stopped the YAML reader with exit 4 (sections 1, 2);
# - an empty ULN unit (--uln 40 '') was read as the value's unit;
# - an unreadable ULN unit was reported as 'the unit ...', not as the ULN's unit;
# - JSON on an ASCII terminal was not JSON (the ASCII fallback wrote bare quotes);
# - the dose '7.5mg' was split as '7.5m' and 'g'.
USAGE_FIRST = HUGE_INTEGER = EMPTY_ULN_UNIT = ULN_UNIT_UNNAMED = None
JSON_ON_ASCII_TERMINAL = DOSE_WITHOUT_SPACE = None


def _bug(row: Row, reason: str | None) -> Row:
    return replace(row, bug=reason) if reason else row


# -- lab -----------------------------------------------------------------------------------------

#: analyte: (what its errors must name, its unit, a passing value, the options it needs)
LAB: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "hemoglobin": ("Hemoglobin", "g/dL", "12", ()),
    "wbc": ("WBC", "10^9/L", "6.4", ()),
    "neutrophils": ("Neutrophils", "10^9/L", "4.1", ()),
    "platelets": ("Platelets", "10^9/L", "245", ()),
    "alt": ("ALT", "U/L", "22", ("--uln", "40", "U/L")),
    "ast": ("AST", "U/L", "25", ("--uln", "40", "U/L")),
    "total_bilirubin": ("bilirubin", "mg/dL", "0.8", ("--uln", "1.2", "mg/dL")),
    "egfr": ("eGFR", "mL/min/1.73 m²", "90", ()),
    "creatinine": ("creatinine", "mg/dL", "0.8", ("--age", "50", "--sex", "female")),
    "iga": ("IgA", "mg/dL", "200", ()),
    "igg": ("IgG", "mg/dL", "1200", ()),
    "fvc": ("FVC", "%", "78", ()),
    "dlco": ("DLCO", "%", "61", ()),
}

#: Numbers that are not a finite decimal with a point (issue 10 section 1, "Numbers").
BAD_NUMBERS = [
    "1,200",
    "7,5",
    "1_000",
    "true",
    "false",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "1e-400",
    "0x10",
    "0b101",
    "7.5 g/dL",
    "7.5g",
    "",
    " ",
    "1.2.3",
    "½",
    "٣",  # an Arabic-Indic digit: float() reads it, a laboratory value must not
    "１２",  # full-width digits
    "12e",
    "e5",
]

#: Unit text with numbers, arithmetic, comments or garbage ({u}: the analyte's own unit).
BAD_UNITS = [
    "2 {u}",
    "{u}*2",
    "{u}/2",
    "nan {u}",
    "inf {u}",
    "{u} # g/L",
    "9**9**9",
    "",
    " ",
    "{u}{u}",
    "{u}\x1b[2K",
    "{u}\x07",
]

#: Units of the wrong kind for an analyte (percent-of-predicted takes percent or a fraction).
WRONG_UNITS = {
    "hemoglobin": ["U/L", "10^9/L", "%", "mg", "L"],
    "wbc": ["g/L", "U/L", "%"],
    "neutrophils": ["g/L", "mmol/L"],
    "platelets": ["mg/dL", "%"],
    "alt": ["g/L", "%", "xULN"],
    "ast": ["mg/dL", "10^9/L"],
    "total_bilirubin": ["U/L", "%"],
    "egfr": ["mL/min", "mg/dL"],
    "creatinine": ["U/L", "%"],
    "iga": ["U/L", "%"],
    "igg": ["mmol/L", "10^9/L"],
    "fvc": ["cells", "count", "ppm", "g/L", "ULN"],
    "dlco": ["cells", "count", "ppm", "U/L", "L"],
}


def lab_row(
    id: str,
    analyte: str,
    value: str,
    unit: str,
    exit: int,
    fragment: str,
    *,
    options: tuple[str, ...] | None = None,
    where: str | None = None,
    bug: str | None = None,
) -> Row:
    label, _, _, needed = LAB.get(analyte, ("analyte", "", "", ()))
    options = needed if options is None else options
    # "--" so that a value starting with "-" is a value, as a careful user would type it
    argv = ("lab", *options, analyte, "--", value, unit)
    return Row(f"lab:{id}", argv, exit, fragment, where=where or label, bug=bug)


def lab_rows() -> Iterator[Row]:
    for analyte, (_, unit, good, _) in LAB.items():
        yield lab_row(f"{analyte}-passes", analyte, good, unit, 0, "passes")
        for value in BAD_NUMBERS:
            fragment = value.strip() or "value"
            yield lab_row(f"{analyte}-number-{value!r}", analyte, value, unit, 2, fragment)
        yield lab_row(f"{analyte}-negative", analyte, "-1", unit, 2, "-1")
        for template in BAD_UNITS:
            bad = template.format(u=unit)
            yield lab_row(f"{analyte}-unit-{bad!r}", analyte, good, bad, 2, "unit")
        for wrong in WRONG_UNITS[analyte]:
            yield lab_row(f"{analyte}-wrong-unit-{wrong!r}", analyte, good, wrong, 2, wrong)

    # the ULN obeys the same rules as the value (alt, ast, total bilirubin)
    uln_units = {"alt": "U/L", "ast": "U/L", "total_bilirubin": "mg/dL"}
    for analyte, unit in uln_units.items():
        label, _, good, _ = LAB[analyte]
        uln = "40" if unit == "U/L" else "1.2"
        for value in ["1,200", "7,5", "1_000", "true", "nan", "inf", "1e400", "0x10", "", "0"]:
            yield lab_row(
                f"{analyte}-uln-{value!r}",
                analyte,
                good,
                unit,
                2,
                "ULN",
                options=("--uln", value, unit),
            )
        yield lab_row(
            f"{analyte}-uln-negative", analyte, good, unit, 2, "ULN", options=("--uln", "-4", unit)
        )
        yield lab_row(
            f"{analyte}-uln-with-unit",
            analyte,
            good,
            unit,
            2,
            "ULN",
            options=("--uln", f"{uln} {unit}", unit),
        )
        for template in ["2 {u}", "{u}*2", "nan {u}", "inf {u}", "{u} # x", "9**9**9", "", " "]:
            bad = template.format(u=unit)
            yield lab_row(
                f"{analyte}-uln-unit-{bad!r}",
                analyte,
                good,
                unit,
                2,
                "ULN",
                options=("--uln", uln, bad),
                bug=EMPTY_ULN_UNIT if bad == "" else ULN_UNIT_UNNAMED,
            )
        yield lab_row(
            f"{analyte}-uln-unit-xULN",
            analyte,
            good,
            unit,
            2,
            "ULN",
            options=("--uln", uln, "xULN"),
        )
        yield lab_row(f"{analyte}-no-uln", analyte, good, unit, 2, "ULN", options=(), where=label)

    # zero and negative values: impossible for their kind, or outside the plausible range
    for analyte, value, unit in [
        ("creatinine", "0", "mg/dL"),
        ("creatinine", "0", "µmol/L"),
        ("hemoglobin", "0", "g/dL"),
        ("wbc", "0", "10^9/L"),
        ("platelets", "0", "10^9/L"),
        ("alt", "0", "U/L"),
        ("total_bilirubin", "0", "mg/dL"),
        ("egfr", "0", "mL/min/1.73 m²"),
        ("fvc", "0", "%"),
        ("dlco", "0", "%"),
        ("neutrophils", "-0.5", "10^9/L"),
        ("platelets", "-245", "10^9/L"),
        ("igg", "-1200", "mg/dL"),
    ]:
        yield lab_row(f"{analyte}-impossible-{value}-{unit}", analyte, value, unit, 2, value)

    # implausible: outside the plausible range of study.yaml ("check the value and its unit")
    implausible = "implausible: check the value and its unit"
    for analyte, value, unit in [
        ("hemoglobin", "8", "mg/dL"),
        ("hemoglobin", "30", "g/dL"),
        ("hemoglobin", "0.5", "g/dL"),
        ("hemoglobin", "121", "g/dL"),
        ("hemoglobin", "1e5", "g/dL"),
        ("platelets", "5000", "10^9/L"),
        ("platelets", "245", "/µL"),
        ("wbc", "6400", "10^9/L"),
        ("neutrophils", "400", "10^9/L"),
        ("alt", "50000", "U/L"),
        ("ast", "400", "µkat/L"),
        ("total_bilirubin", "100", "mg/dL"),
        ("creatinine", "30", "mg/dL"),
        ("egfr", "300", "mL/min/1.73 m²"),
        ("iga", "3000", "mg/dL"),
        ("igg", "20000", "mg/dL"),
        ("fvc", "250", "%"),
        ("fvc", "0.78", "%"),
        ("dlco", "2", "%"),
        ("wbc", "1e15", "/µL"),
        ("hemoglobin", "1e-15", "g/dL"),
    ]:
        yield lab_row(f"{analyte}-implausible-{value}-{unit}", analyte, value, unit, 2, implausible)
    for analyte, uln, unit in [
        ("alt", "400", "U/L"),
        ("ast", "1", "U/L"),
        ("total_bilirubin", "20", "mg/dL"),
        ("total_bilirubin", "100", "µmol/L"),
    ]:
        good, value_unit = LAB[analyte][2], LAB[analyte][1]
        yield lab_row(
            f"{analyte}-uln-implausible-{uln}-{unit}",
            analyte,
            good,
            value_unit,
            2,
            implausible,
            options=("--uln", uln, unit),
        )

    # valid but odd: a verdict, with the exit code of the rule (strict comparisons pass at the
    # threshold; the same threshold in every accepted unit, conventional factors, section 4)
    verdicts = [
        ("hemoglobin", "8.0", "g/dL", (), 0),
        ("hemoglobin", "7.99", "g/dL", (), 1),
        ("hemoglobin", "79", "g/L", (), 1),
        ("hemoglobin", "80", "g/L", (), 0),
        ("hemoglobin", "7.5e0", "g/dL", (), 1),
        ("hemoglobin", "0.75e1", "g/dL", (), 1),
        ("hemoglobin", "4.9648", "mmol/L", (), 0),
        ("hemoglobin", "4.96", "mmol/L", (), 1),
        ("hemoglobin", " 12 ", "g/dL", (), 0),
        ("wbc", "3", "10^9/L", (), 0),
        ("wbc", "2.99", "10^9/L", (), 1),
        ("wbc", "3000", "/µL", (), 0),
        ("wbc", "2999", "/mm³", (), 1),
        ("wbc", "6.4", "×10⁹/L", (), 0),
        ("wbc", "6.4", "x10^9/L", (), 0),
        ("wbc", "6.4", "10^3/µL", (), 0),
        ("wbc", "6.4e9", "cells/L", (), 0),
        ("neutrophils", "1.5", "10^9/L", (), 0),
        ("neutrophils", "1.49", "10^9/L", (), 1),
        ("neutrophils", "0", "10^9/L", (), 1),
        ("platelets", "75", "10^9/L", (), 0),
        ("platelets", "74.9", "10^9/L", (), 1),
        ("platelets", "75000", "/µL", (), 0),
        ("alt", "60", "U/L", ("--uln", "40", "U/L"), 0),
        ("alt", "60.1", "U/L", ("--uln", "40", "U/L"), 1),
        ("alt", "60", "IU/L", ("--uln", "40", "IU/L"), 0),
        ("alt", "1", "µkat/L", ("--uln", "40", "U/L"), 0),
        ("ast", "61", "U/L", ("--uln", "40", "U/L"), 1),
        ("total_bilirubin", "1.2", "mg/dL", ("--uln", "1.2", "mg/dL"), 0),
        ("total_bilirubin", "1.21", "mg/dL", ("--uln", "1.2", "mg/dL"), 1),
        ("total_bilirubin", "1.0", "mg/dL", ("--uln", "17.1", "µmol/L"), 0),
        ("total_bilirubin", "17.1", "µmol/L", ("--uln", "1.0", "mg/dL"), 0),
        ("total_bilirubin", "14", "µmol/L", ("--uln", "21", "µmol/L"), 0),
        ("egfr", "40", "mL/min/1.73 m²", (), 0),
        ("egfr", "39.9", "mL/min/1.73 m²", (), 1),
        ("egfr", "90", "mL/min/1.73m^2", (), 0),
        ("creatinine", "3.0", "mg/dL", ("--age", "70", "--sex", "male"), 1),
        ("creatinine", "62", "µmol/L", ("--age", "46", "--sex", "female"), 0),
        ("iga", "10", "mg/dL", (), 0),
        ("iga", "9.9", "mg/dL", (), 1),
        ("iga", "0.1", "g/L", (), 0),
        ("iga", "0.099", "g/L", (), 1),
        ("iga", "100", "mg/L", (), 0),
        ("iga", "0", "mg/dL", (), 1),
        ("igg", "400", "mg/dL", (), 0),
        ("igg", "4", "g/L", (), 0),
        ("igg", "3.9", "g/L", (), 1),
        ("fvc", "50", "%", (), 0),
        ("fvc", "49.9", "%", (), 1),
        ("fvc", "0.5", "fraction", (), 0),
        ("fvc", "0.49", "fraction", (), 1),
        ("fvc", "78", "% predicted", (), 0),
        ("fvc", "78", "percent", (), 0),
        ("dlco", "40", "%", (), 0),
        ("dlco", "39.5", "% of predicted", (), 1),
    ]
    for analyte, value, unit, options, code in verdicts:
        fragment = "passes" if code == 0 else "excluded"
        yield lab_row(
            f"{analyte}-verdict-{value}-{unit}",
            analyte,
            value,
            unit,
            code,
            fragment,
            options=options or LAB[analyte][3],
        )
    yield Row(
        "lab:json-strict",
        ("lab", "hemoglobin", "7.5", "g/dL", "--json"),
        1,
        '"status": "fail"',
    )
    yield Row("lab:json-passes", ("lab", "igg", "12.5", "g/L", "--json"), 0, '"status": "pass"')

    # the analyte name and the companions of creatinine
    for name in ["hba1c", "", "hеmoglobin", "hemoglobin\x1b[2K", "../etc/passwd", "hemo globin"]:
        yield lab_row(f"analyte-{name!r}", name, "12", "g/dL", 2, "analyte", where="analyte")
    creatinine = [
        ("no-age-or-sex", ()),
        ("no-sex", ("--age", "50")),
        ("age-150", ("--age", "150", "--sex", "female")),
        ("age-nan", ("--age", "nan", "--sex", "female")),
        ("age-inf", ("--age", "inf", "--sex", "female")),
        ("age-comma", ("--age", "5,0", "--sex", "female")),
        ("age-negative", ("--age", "-50", "--sex", "female")),
        ("age-text", ("--age", "fifty", "--sex", "female")),
        ("sex-other", ("--age", "50", "--sex", "other")),
        ("sex-empty", ("--age", "50", "--sex", "")),
        ("sex-esc", ("--age", "50", "--sex", "female\x1b[2K")),
    ]
    for id, options in creatinine:
        # 1.6 mg/dL: an eGFR on both sides of 40 across the ages and sexes left open, so the
        # missing age or sex is asked for (a value clear at every one is decided, as screen
        # decides it: tests/test_lab_decided_without_all_inputs.py)
        yield lab_row(
            f"creatinine-{id}", "creatinine", "1.6", "mg/dL", 2, "creatinine", options=options
        )
    # an age IN01 excludes is read at the nearest it admits, as screen reads it (EX24 agrees)
    for age, read_at in (("17", "18"), ("0", "18"), ("89", "70")):
        yield lab_row(
            f"creatinine-age-{age}",
            "creatinine",
            "0.8",
            "mg/dL",
            0,
            f"read at {read_at}",
            options=("--age", age, "--sex", "female"),
        )

    # what a user types without "--": still exit 2, still one line naming the value
    yield Row(
        "lab:minus-inf-without-separator",
        ("lab", "hemoglobin", "-inf", "g/dL"),
        2,
        "-inf",
        where="Hemoglobin",
        bug=USAGE_FIRST,
    )
    yield Row(
        "lab:uln-missing-its-unit",
        ("lab", "alt", "50", "U/L", "--uln", "40"),
        2,
        "--uln",
        where="--uln",
        bug=USAGE_FIRST,
    )


# -- input files: faults shared by every command that reads a YAML or JSON file --------------

BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    "participant: *i\n"
    "planned_randomization: *i\n"
)
DEEP_BLOCK = "".join(f"{'  ' * level}k{level}:\n" for level in range(200)) + "  " * 200 + "v\n"


def yaml_file_faults(valid: str) -> list[tuple[str, Any, str]]:
    """(id, content, fragment) of files that are not a readable YAML/JSON mapping.

    ``valid`` is a valid input of the command (used where the fault is around valid content).
    """
    return [
        ("directory", Dir(), "directory"),
        ("fifo", Fifo(), "regular file"),
        ("link-to-fifo", Link("pipe"), "regular file"),
        ("dangling-link", Link("nowhere.yaml"), "link"),
        ("missing", None, "such file"),
        ("over-1-MiB", Big("# padding\n"), "bytes"),
        ("over-1-MiB-valid-head", Big(valid + "#"), "bytes"),
        ("latin-1", "participant: SYN-01\nsex: féminine\n".encode("latin-1"), "UTF-8"),
        ("utf-16", valid.encode("utf-16"), "UTF-8"),
        ("empty", "", "mapping"),
        ("whitespace", "  \n\n  \n", "mapping"),
        ("comment-only", "# nothing here\n", "mapping"),
        ("billion-laughs", BILLION_LAUGHS, "YAML"),
        ("anchor-only", "participant: &p SYN-01\n", "anchor"),
        ("deep-flow", "x: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
        ("deep-block", DEEP_BLOCK, "nest"),
        ("complex-key", "? [a, b]\n: 1\nparticipant: SYN-01\n", "key"),
        ("mapping-key", "{a: 1}: 2\n", "key"),
        ("json-null", "null", "mapping"),
        ("json-list", "[]", "mapping"),
        ("json-string", '"a string"', "mapping"),
        ("json-number", "42", "mapping"),
        ("json-true", "true", "mapping"),
        (
            "json-list-of-record",
            "[" + json.dumps(yaml.safe_load(valid), default=str) + "]",
            "mapping",
        ),
        ("duplicate-key", valid + valid.splitlines()[-1] + "\n", "twice"),
        ("two-documents", valid + "---\n" + valid, "document"),
        ("python-tag", "!!python/object/apply:os.system ['echo hostile']\n", "python"),
        ("binary-tag", "participant: !!binary aGVsbG8=\n", "binary"),
        ("set-tag", "participant: !!set {a, b}\n", "set"),
        ("tab-indent", "participant: SYN-01\ndates:\n\tbirth: 1978-06-14\n", "YAML"),
        ("nul-byte", "participant: SYN\x00-01\n", "YAML"),
        ("unclosed-quote", 'participant: "SYN-01\n', "YAML"),
        (
            "huge-integer",
            "participant: SYN-01\nhostile_number: 1" + "0" * 5000 + "\n",
            "hostile_number",
        ),
        ("long-key", "participant: SYN-01\n" + "a" * 1000 + ": 1\n", "unknown field"),
        ("esc-in-key", 'participant: SYN-01\n"\\e[31mred": 1\n', "unknown field"),
        ("merge-key", valid + "<<: {sex: male}\n", "merge"),
        ("unknown-tag", "participant: !hostile SYN-01\n", "hostile"),
        # a tag YAML obeys over what is written: refused, never read as no value
        ("null-tag", "participant: SYN-01\npah_risk: !!null intermediate\n", "!!null"),
    ]


def file_fault_rows(command: str, valid: str, done: str) -> Iterator[Row]:
    """The file faults for ``command``; ``done`` is what its output holds for a valid input."""
    for id, content, fragment in yaml_file_faults(valid):
        if command == "washout" and id in ("huge-integer", "long-key", "esc-in-key"):
            # a participant's code and a field washout does not read: a participant record,
            # refused as such in one line
            fragment = "(the file) = a participant record: expected a washout list"
        extra: tuple[tuple[str, Any], ...] = (("pipe", Fifo()),) if id == "link-to-fifo" else ()
        bug = HUGE_INTEGER if id == "huge-integer" else None
        yield file_row(command, id, content, 2, fragment, extra_files=extra, bug=bug)
    yield file_row(command, "dev-null", None, 2, "regular file", name="/dev/null")
    yield file_row(command, "bom", "\ufeff" + valid, 0, done)
    as_json = json.dumps(yaml.safe_load(valid), default=str, ensure_ascii=False)
    yield file_row(command, "json", as_json, 0, done, name="in.json")
    yield file_row(
        command, "link-to-valid", Link("real.yaml"), 0, done, extra_files=(("real.yaml", valid),)
    )


# -- dates ---------------------------------------------------------------------------------------

#: Dates that are not ISO calendar dates from 1900 to 2100, as raw YAML (issue 10, "Dates").
BAD_DATES = [
    ("feb-30-text", '"2025-02-30"'),
    ("feb-30-plain", "2025-02-30"),
    ("feb-29-not-leap", "2025-02-29"),
    ("month-13", "2025-13-01"),
    ("day-month", '"25/03/2025"'),
    ("short-iso", "2025-3-5"),
    ("zero", "0"),
    ("unix-seconds", "1700000000"),
    ("basic-iso", "20250303"),
    ("datetime-text", '"2025-03-03T10:00:00"'),
    ("datetime-plain", "2025-03-03T10:00:00"),
    ("datetime-zone", "2025-03-03 10:00:00+02:00"),
    ("midnight", "2025-03-03T00:00:00Z"),
    ("before-1900", "1899-12-31"),
    ("after-2100", "2101-01-01"),
    ("year-zero", '"0000-01-01"'),
    ("year-9999", "9999-12-31"),
    ("boolean", "true"),
    ("empty", '""'),
    ("list", "[2025, 3, 3]"),
    ("mapping", "{year: 2025, month: 3, day: 3}"),
    ("week-date", '"2025-W10-1"'),
    ("float", "2025.03"),
]

#: The same faults as command-line text (--randomization).
BAD_DATE_ARGS = [
    "2025-02-30",
    "2025-02-29",
    "25/03/2025",
    "2025-3-5",
    "0",
    "1700000000",
    "20250317",
    "2025-03-17T10:00:00",
    "2025-03-17T00:00:00Z",
    "2025-03-17+02:00",
    "1899-12-31",
    "2101-01-01",
    "0000-01-01",
    "",
    "today",
    "2025-W12-1",
    "2025-076",
    "２０２５-03-17",
    "2025-03-17\x1b[2K",
]


# -- washout -------------------------------------------------------------------------------------


def washout_rows() -> Iterator[Row]:
    valid = _yaml(WASHOUT)
    yield file_row("washout", "passes", valid, 0, "Planned randomization")
    yield file_row("washout", "json-output", valid, 0, '"status"', args=("--json",))

    def row(id: str, data: Any, exit: int, fragment: str, **kwargs: Any) -> Row:
        text = data if isinstance(data, str) else _yaml(data)
        return file_row("washout", id, text, exit, fragment, **kwargs)

    def raw(id: str, path: tuple[Any, ...], value: str, exit: int, fragment: str) -> Row:
        return file_row("washout", id, _variant(WASHOUT, path, value), exit, fragment)

    # dates in every dated field
    dated = {  # the field: (its path, what the message must name)
        "planned_randomization": (("planned_randomization",), "planned_randomization"),
        "screening": (("screening",), "screening"),
        "last_dose": (("medications", 0, "last_dose"), "last_dose"),
        "start": (("medications", 0, "start"), "start"),
        "event-date": (("events", 0, "date"), "events[0]"),
    }
    for (field_id, (path, where)), (date_id, value) in itertools.product(dated.items(), BAD_DATES):
        yield raw(f"{field_id}-{date_id}", path, value, 2, where)
    # the washout calculator answers for a planned date: without one it is bad input
    no_date = ("planned_randomization",)
    yield row("no-planned-randomization", _set(WASHOUT, no_date, _DELETE), 2, "planned_random")
    yield raw("no-planned-randomization-null", no_date, "null", 2, "planned_randomization")
    for id, path in [
        ("no-last-dose", ("medications", 0, "last_dose")),
        ("no-event-date", ("events", 0, "date")),
    ]:
        # an unknown date is missing data (PI23): the window is unknown, exit 3
        yield row(id, _set(WASHOUT, path, _DELETE), 3, "no date recorded")
        yield raw(f"{id}-null", path, "null", 3, "no date recorded")

    # --randomization: the same strictness on the command line
    for value in BAD_DATE_ARGS:
        yield file_row(
            "washout",
            f"randomization-{value!r}",
            valid,
            2,
            "--randomization",
            args=("--randomization", value),
            bug=USAGE_FIRST,
        )
    rows = [
        ("randomization-planned", "2025-03-17", 0, "2025-03-17", None),
        ("randomization-on-screening-day", "2025-03-03", 0, "2025-03-03", None),
        ("randomization-before-screening", "2025-03-02", 2, "screening", None),
        ("randomization-before-last-dose", "2025-01-15", 2, "2025-01-15", None),
        ("randomization-methotrexate-window", "2025-02-10", 2, "screening", None),
    ]
    for id, value, exit, fragment, bug in rows:
        yield file_row(
            "washout", id, valid, exit, fragment, args=("--randomization", value), bug=bug
        )
    no_screening = _set(WASHOUT, ("screening",), _DELETE)
    yield row(
        "randomization-in-methotrexate-window",
        no_screening,
        1,
        "methotrexate",
        args=("--randomization", "2025-02-10"),
    )

    # booleans are true or false, nothing else
    for value in ['"yes"', "yes", "no", "on", "off", "y", "1", "0", '"true"', "null", "[true]"]:
        yield raw(f"ongoing-{value}", ("medications", 1, "ongoing"), value, 2, "medications[1]")
    for value in ['"yes"', "1", "yes"]:
        yield row(
            f"investigator-cleared-{value}",
            _variant(
                _with(
                    WASHOUT,
                    (
                        ("medications", 1),
                        {
                            "name": "zzzmab",
                            "ongoing": True,
                            "investigator_cleared": RAW,
                            "clearance_reason": "synthetic",
                        },
                    ),
                ),
                ("medications", 1, "investigator_cleared"),
                value,
            ),
            2,
            "investigator_cleared",
        )

    # names: text, one script, no control characters
    for value in [
        "123",
        "null",
        '""',
        '"   "',
        "[methotrexate]",
        "{a: 1}",
        "true",
        '"' + "x" * 500 + '"',
    ]:
        yield raw(f"name-{value[:12]}", ("medications", 0, "name"), value, 2, "name")

    # doses: a decimal and a mass unit, plausible, never evaluated
    for value in [
        '"7,5 mg"',
        '"1,000 mg"',
        '"7.5"',
        "7.5",
        '"nan mg"',
        '"inf mg"',
        '"1e400 mg"',
        '"-5 mg"',
        '"0 mg"',
        '"7.5 mL"',
        '"7.5 g"',
        '"7.5 mg # 75 mg"',
        '"7.5 mg*2"',
        '"9**9**9 mg"',
        '"seven mg"',
        '"0x10 mg"',
        '"1_0 mg"',
        '""',
        '"7.5 mg/kg"',
        '"2 7.5 mg"',
        '"7.5 mg\\e[2K"',
    ]:
        yield raw(f"dose-{value}", ("medications", 1, "dose"), value, 2, "dose")
    for value, exit in [
        ('"10 mg"', 0),
        ('"12.5 mg"', 1),
        ('"7.5mg"', 0),
        ('"7500 ug"', 0),
        ('"0.0075 g"', 0),
        ('"7.5e0 mg"', 0),
        ('"10.5 mg"', 1),
    ]:
        yield _bug(
            raw(f"dose-verdict-{value}", ("medications", 1, "dose"), value, exit, "EX11"),
            DOSE_WITHOUT_SPACE if value == '"7.5mg"' else None,
        )

    # frequency and route come from a list
    for value in ['"sometimes"', "5", '"dai\\rly"', '""']:
        yield raw(f"frequency-{value}", ("medications", 1, "frequency"), value, 2, "frequency")
    for value in ['"rectal"', '"by mouth"', "true", '"oral\\e[2K"']:
        yield raw(f"route-{value}", ("medications", 1, "route"), value, 2, "route")

    # unknown fields and wrong shapes
    yield row("unknown-top-field", {**WASHOUT, "notes": "x"}, 2, "notes")
    yield row(
        "misspelt-top-field",
        {
            **_set(WASHOUT, ("planned_randomization",), _DELETE),
            "planned_randomisation": date(2025, 3, 17),
        },
        2,
        "planned_randomisation",
    )
    yield row(
        "unknown-medication-field",
        _set(WASHOUT, ("medications", 0, "dosage"), "15 mg"),
        2,
        "dosage",
    )
    yield row("unknown-event-field", _set(WASHOUT, ("events", 0, "note"), "x"), 2, "note")
    yield raw("medications-mapping", ("medications",), "{name: methotrexate}", 2, "medications")
    yield raw("medications-string", ("medications",), '"methotrexate"', 2, "medications")
    yield raw("medications-entry-string", ("medications", 0), '"methotrexate"', 2, "medications")
    yield raw("events-number", ("events",), "5", 2, "events")
    yield raw("event-kind-unknown", ("events", 0, "kind"), '"bungee_jumping"', 2, "kind")
    yield raw("event-kind-number", ("events", 0, "kind"), "5", 2, "kind")

    # contradictions are bad input
    med = ("medications", 0)
    contradictions = [
        ("start-after-last-dose", (((*med, "start"), date(2025, 2, 1)),), "start"),
        (
            "last-dose-after-randomization",
            (((*med, "last_dose"), date(2025, 3, 20)),),
            "last_dose",
        ),
        ("last-dose-and-ongoing", (((*med, "ongoing"), True),), "medications[0]"),
        (
            "cleared-without-reason",
            (
                (
                    (("medications", 1)),
                    {"name": "zzzmab", "ongoing": True, "investigator_cleared": True},
                ),
            ),
            "clearance_reason",
        ),
        (
            "cleared-methotrexate",
            (((*med, "investigator_cleared"), True), ((*med, "clearance_reason"), "synthetic")),
            "investigator_cleared",
        ),
        (
            "reason-without-clearance",
            (((*med, "clearance_reason"), "synthetic"),),
            "clearance_reason",
        ),
        ("screening-after-randomization", ((("screening",), date(2025, 3, 20)),), "screening"),
        ("event-after-randomization", ((("events", 0, "date"), date(2025, 4, 1)),), "events[0]"),
        ("event-date-and-ongoing", ((("events", 0, "ongoing"), True),), "events[0]"),
        (
            "planned-surgery-ongoing",
            ((("events", 0), {"kind": "planned_major_surgery", "ongoing": True}),),
            "events[0]",
        ),
    ]
    for id, changes, fragment in contradictions:
        yield row(id, _with(WASHOUT, *changes), 2, fragment)
    neither = _set(WASHOUT, (*med, "last_dose"), _DELETE)
    yield row("neither-last-dose-nor-ongoing", neither, 3, "no date recorded")

    # medicine names: normalised before matching; look-alike scripts and controls refused
    def named(name: str, last_dose: date = date(2025, 3, 1)) -> Any:
        return _with(WASHOUT, ((*med, "name"), name), ((*med, "last_dose"), last_dose))

    for id, name in [
        ("cyrillic-e", "mеthotrexate"),
        ("greek-omicron", "methοtrexate"),
        ("cyrillic-M-MMF", "МMF"),
        ("cyrillic-a-azathioprine", "azаthioprine"),
        ("esc", "methotrexate\x1b[2K"),
        ("carriage-return", "methotrexate\rprednisone"),
        ("zero-width-space", "metho\u200btrexate"),
        ("bidi-override", "\u202emethotrexate"),
        ("bell", "methotrexate\x07"),
    ]:
        yield row(f"name-{id}", named(name), 2, "medications[0]")
    for id, name in [
        ("full-width", "ｍｅｔｈｏｔｒｅｘａｔｅ"),
        ("upper-case", "METHOTREXATE"),
        ("padded", "  methotrexate  "),
        ("brand", "Otrexup"),
        ("chinese", "甲氨蝶呤"),
    ]:
        yield row(f"name-{id}-in-window", named(name), 1, "EX09")
    yield row("name-all-cyrillic-unknown", named("метотрексат"), 3, "метотрексат")
    unknown = _with(WASHOUT, (("medications", 1), {"name": "zzzmab", "ongoing": True}))
    yield row("unknown-medicine", unknown, 3, "zzzmab")
    for id, name in [("accent", "zzzémab"), ("curly-quotes", "zzz“x”mab")]:
        yield row(
            f"unknown-medicine-{id}-json",
            _set(unknown, ("medications", 1, "name"), name),
            3,
            '"status": "unknown"',
            args=("--json",),
        )
    cleared = _with(
        unknown,
        (("medications", 1, "investigator_cleared"), True),
        (("medications", 1, "clearance_reason"), "synthetic: not prohibited"),
    )
    yield row("unknown-medicine-cleared", cleared, 0, "zzzmab")
    etanercept = _with(
        WASHOUT, (("medications", 1), {"name": "etanercept", "last_dose": date(2024, 6, 1)})
    )
    yield row("etanercept-no-window", etanercept, 3, "etanercept")
    yield row(
        "etanercept-cleared",
        _with(
            etanercept,
            (("medications", 1, "investigator_cleared"), True),
            (("medications", 1, "clearance_reason"), "synthetic: stopped long ago"),
        ),
        0,
        "etanercept",
    )

    # EX11 sums the systemic steroids of the same days (issue 10, section 4)
    def steroids(*entries: dict[str, Any]) -> Any:
        return _with(WASHOUT, (("medications",), [WASHOUT["medications"][0], *entries]))

    daily = {"ongoing": True, "frequency": "daily", "route": "oral"}
    for id, entries, exit in [
        (
            "prednisone-plus-hydrocortisone",
            (
                {"name": "prednisone", "dose": "7.5 mg", **daily},
                {"name": "hydrocortisone", "dose": "20 mg", **daily},
            ),
            1,
        ),
        (
            "methylprednisolone-split",
            (
                {"name": "methylprednisolone", "dose": "8 mg", **daily},
                {"name": "methylprednisolone", "dose": "4 mg", **daily},
            ),
            1,
        ),
        (
            "prednisone-twice-listed",
            (
                {"name": "prednisone", "dose": "7.5 mg", **daily},
                {"name": "prednisone", "dose": "7.5 mg", **daily},
            ),
            1,
        ),
        (
            "prednisone-5-twice-daily",
            ({"name": "prednisone", "dose": "5 mg", **daily, "frequency": "twice daily"},),
            0,
        ),
        (
            "prednisone-6-twice-daily",
            ({"name": "prednisone", "dose": "6 mg", **daily, "frequency": "twice daily"},),
            1,
        ),
    ]:
        yield row(f"steroids-{id}", steroids(*entries), exit, "EX11")

    # planned major surgery (EX08): in the treatment period it fails, after it it passes
    surgery = ("events", 0)
    yield row(
        "planned-surgery-in-treatment",
        _with(WASHOUT, (surgery, {"kind": "planned_major_surgery", "date": date(2025, 6, 2)})),
        1,
        "EX08",
    )
    yield row(
        "planned-surgery-after-treatment",
        _with(WASHOUT, (surgery, {"kind": "planned_major_surgery", "date": date(2026, 9, 1)})),
        0,
        "EX08",
    )
    yield row(
        "vaccine-in-window", _set(WASHOUT, ("events", 0, "date"), date(2025, 3, 1)), 1, "EX26"
    )

    # date arithmetic near the ends of the accepted range never crashes, and a window or date
    # the answer would print beyond them (1900 to 2100) is refused, naming the date it comes
    # from; boundaries of calendar months (the boundary day counts as within the window:
    # washout_convention)
    end = {
        "planned_randomization": date(2100, 12, 31),
        "screening": date(2100, 12, 31),
        "medications": [{"name": "methotrexate", "last_dose": date(2100, 12, 20)}],
        "events": [],
    }
    # methotrexate's 4 weeks from 2100-12-20 end on 2101-01-18
    yield row("range-end-2100", end, 2, "medications[0] (methotrexate).last_dose = 2100-12-20")
    yield row(
        "range-end-2100-last-day",
        _set(end, ("medications", 0, "last_dose"), date(2100, 12, 2)),  # clears 2100-12-31
        0,
        "allowed",
    )
    yield row(
        "range-end-planned-surgery",
        {
            **end,
            "medications": [],
            "events": [{"kind": "planned_major_surgery", "date": date(2100, 12, 31)}],
        },
        2,
        "the earliest randomization would be on 2101-02-26",  # 8 weeks after the surgery
    )
    start = {
        "planned_randomization": date(1900, 1, 2),
        "screening": date(1900, 1, 1),
        "medications": [{"name": "methotrexate", "last_dose": date(1900, 1, 1)}],
        "events": [{"kind": "live_vaccine", "date": date(1900, 1, 1)}],
    }
    # 4 weeks before 1900-01-02 begin on 1899-12-05
    yield row("range-start-1900", start, 2, "1899-12-05")
    month_end = {
        "planned_randomization": date(2025, 5, 31),
        "screening": date(2025, 5, 20),
        "medications": [{"name": "cyclophosphamide", "last_dose": date(2025, 2, 28)}],
    }
    yield row("cyclophosphamide-month-end-boundary-day", month_end, 1, "EX09")
    yield row(
        "cyclophosphamide-month-end-day-before",
        _set(month_end, ("medications", 0, "last_dose"), date(2025, 2, 27)),
        0,
        "EX09",
    )
    yield row(
        "randomization-only-on-command-line",
        _set(WASHOUT, ("planned_randomization",), _DELETE),
        0,
        "2025-03-17",
        args=("--randomization", "2025-03-17"),
    )
    many = {**WASHOUT, "medications": [WASHOUT["medications"][0]] * 2000}
    yield row("two-thousand-entries", many, 0, "methotrexate")
    courses = [
        {
            "name": "prednisone",
            "start": date(2025, 1, 1 + i % 28),
            "last_dose": date(2025, 3, 1 + i % 16),
            "dose": "0.05 mg",
            "frequency": "daily",
            "route": "oral",
        }
        for i in range(300)
    ]
    yield row("three-hundred-steroid-courses", {**WASHOUT, "medications": courses}, 1, "EX11")

    yield from file_fault_rows("washout", valid, "Planned randomization")


# -- screen --------------------------------------------------------------------------------------

#: The lab values of case 01 and their units.
RECORD_LABS = {name: entry["unit"] for name, entry in CASE01["labs"].items()}
BAD_RECORD_NUMBERS = [
    '"1,200"',
    '"7,5"',
    '"1_000"',
    "1_000",
    "true",
    "false",
    '"nan"',
    ".nan",
    ".inf",
    "-.inf",
    '"inf"',
    "1e400",
    '"1e400"',
    "1e-320",  # a float's subnormal: no measurement, and printed as a long run of zeros
    "1e16",  # beyond the exponents a laboratory writes (as `trialbook lab` refuses it)
    "0171",  # a leading zero: octal 121 in YAML 1.1, 171 in YAML 1.2
    "-012",
    "0178",  # not octal: text in YAML 1.1, 178 in YAML 1.2
    "08",
    '"0171"',  # quoted: the same number written with a leading zero
    "0121.5",  # a decimal so written
    "01.21e2",
    '"0x10"',
    "0x10",
    '"7.5 g/dL"',
    '""',
    "-1",
    "[1]",
    "{v: 1}",
]


def screen_rows() -> Iterator[Row]:
    valid = _yaml(CASE01)
    yield file_row("screen", "eligible", valid, 0, "ELIGIBLE")
    yield file_row(
        "screen", "format-json", valid, 0, '"verdict": "eligible"', args=("--format", "json")
    )
    yield file_row("screen", "format-markdown", valid, 0, "| EX30 |", args=("--format", "markdown"))
    yield file_row(
        "screen", "format-xml", valid, 2, "--format", args=("--format", "xml"), bug=USAGE_FIRST
    )

    def row(id: str, data: Any, exit: int, fragment: str, **kwargs: Any) -> Row:
        text = data if isinstance(data, str) else _yaml(data)
        return file_row("screen", id, text, exit, fragment, **kwargs)

    def raw(id: str, path: tuple[Any, ...], value: str, exit: int, fragment: str) -> Row:
        return file_row("screen", id, _variant(CASE01, path, value), exit, fragment)

    # lab values and units in the record
    for analyte, unit in RECORD_LABS.items():
        where = f"labs.{analyte}"
        for value in BAD_RECORD_NUMBERS:
            yield raw(f"{analyte}-value-{value}", ("labs", analyte, "value"), value, 2, where)
        for template in [
            "2 {u}",
            "{u}*2",
            "nan {u}",
            "inf {u}",
            "{u} # g/L",
            "9**9**9",
            "",
            " ",
            "{u}\x1b[2K",
        ]:
            text = json.dumps(template.format(u=unit))
            yield raw(f"{analyte}-unit-{text}", ("labs", analyte, "unit"), text, 2, where)
        for value in ["5", "null", "true"]:
            yield raw(f"{analyte}-unit-{value}", ("labs", analyte, "unit"), value, 2, where)
        yield raw(f"{analyte}-bare-number", ("labs", analyte), "121", 2, where)
    for analyte, unit in [("alt", "U/L"), ("ast", "U/L"), ("total_bilirubin", "µmol/L")]:
        where = f"labs.{analyte}"
        for value in ['"1,200"', ".nan", "true", "0", "-40", f'"40 {unit}"', "1e400", '"inf"']:
            yield raw(f"{analyte}-uln-{value}", ("labs", analyte, "uln"), value, 2, where)
        for template in ["2 {u}", "{u}*2", "inf {u}", "", "{u} # x", "9**9**9"]:
            text = json.dumps(template.format(u=unit))
            yield _bug(
                raw(
                    f"{analyte}-uln-unit-{text}",
                    ("labs", analyte, "uln_unit"),
                    text,
                    2,
                    f"{where}.uln_unit",
                ),
                None if template == "" else ULN_UNIT_UNNAMED,
            )
    yield raw("labs-list", ("labs",), "[]", 2, "labs")
    yield raw("labs-string", ("labs",), '"normal"', 2, "labs")

    implausible = "implausible: check the value and its unit"
    for analyte, value, unit in [
        ("hemoglobin", 8, "mg/dL"),
        ("hemoglobin", 30, "g/dL"),
        ("hemoglobin", 0, "g/L"),
        ("platelets", 5000, "10^9/L"),
        ("platelets", 245, "/µL"),
        ("wbc", 6400, "10^9/L"),
        ("neutrophils", 400, "10^9/L"),
        ("creatinine", 0, "µmol/L"),
        ("creatinine", 62, "mg/dL"),
        ("alt", 50000, "U/L"),
        ("iga", 3000, "mg/dL"),
        ("igg", 20000, "mg/dL"),
    ]:
        data = _with(CASE01, (("labs", analyte, "value"), value), (("labs", analyte, "unit"), unit))
        yield row(f"{analyte}-implausible-{value}-{unit}", data, 2, implausible)
    for analyte, uln in [("alt", 400), ("total_bilirubin", 100)]:
        yield row(
            f"{analyte}-uln-implausible",
            _set(CASE01, ("labs", analyte, "uln"), uln),
            2,
            implausible,
        )

    # valid but odd lab values: the verdict of the rule
    def lab(analyte: str, value: Any, unit: str, **extra: Any) -> Any:
        entry = {"value": value, "unit": unit, **extra}
        return _set(CASE01, ("labs", analyte), entry)

    for id, data, exit in [
        ("hemoglobin-8.0-g/dL", lab("hemoglobin", 8.0, "g/dL"), 0),
        ("hemoglobin-79-g/L", lab("hemoglobin", 79, "g/L"), 1),
        ("hemoglobin-80-g/L", lab("hemoglobin", 80, "g/L"), 0),
        ("hemoglobin-7.5e0-text", lab("hemoglobin", "7.5e0", "g/dL"), 1),
        ("hemoglobin-121-text", lab("hemoglobin", "121", "g/L"), 0),
        ("hemoglobin-4.9648-mmol/L", lab("hemoglobin", 4.9648, "mmol/L"), 0),
        ("neutrophils-0", lab("neutrophils", 0, "10^9/L"), 1),
        ("iga-0", lab("iga", 0, "mg/dL"), 1),
        ("platelets-75", lab("platelets", 75, "10^9/L"), 0),
        ("platelets-74.9", lab("platelets", 74.9, "10^9/L"), 1),
        # the white count at its threshold, with a neutrophil count within it
        (
            "wbc-3000-per-uL",
            _set(lab("wbc", 3000, "/µL"), ("labs", "neutrophils", "value"), 1.8),
            0,
        ),
        # neutrophils above the white count they are part of: two values that cannot both be
        # right, so EX24 holds a data query (incomplete, never eligible)
        (
            "neutrophils-above-wbc-in-another-unit",
            lab("neutrophils", 6500, "/mm³"),
            3,
        ),
        ("alt-60-uln-40", lab("alt", 60, "U/L", uln=40), 0),
        ("alt-60.5-uln-40", lab("alt", 60.5, "U/L", uln=40), 1),
        (
            "bilirubin-1.0-mg-uln-17.1-umol",
            lab("total_bilirubin", 1.0, "mg/dL", uln=17.1, uln_unit="µmol/L"),
            0,
        ),
        (
            "bilirubin-17.1-umol-uln-1-mg",
            lab("total_bilirubin", 17.1, "µmol/L", uln=1.0, uln_unit="mg/dL"),
            0,
        ),
        ("bilirubin-22-umol-uln-21", lab("total_bilirubin", 22, "µmol/L", uln=21), 1),
        ("igg-3.9-g/L", lab("igg", 3.9, "g/L"), 1),
        ("igg-4-g/L", lab("igg", 4, "g/L"), 0),
    ]:
        words = {0: "ELIGIBLE", 1: "NOT ELIGIBLE", 3: "confirm both (a data query)"}
        yield row(f"lab-verdict-{id}", data, exit, words[exit])
    egfr = _set(CASE01, ("labs", "creatinine"), _DELETE)
    for value, exit in [(40, 0), (39, 1)]:
        data = _set(egfr, ("labs", "egfr"), {"value": value, "unit": "mL/min/1.73 m²"})
        yield row(f"egfr-{value}", data, exit, "ELIGIBLE" if exit == 0 else "NOT ELIGIBLE")
    yield row(
        "egfr-and-creatinine",
        _set(CASE01, ("labs", "egfr"), {"value": 90, "unit": "mL/min/1.73 m²"}),
        2,
        "egfr",
    )

    # pulmonary function: a percent of predicted, plausible
    for attribute in ["fvc_percent_predicted", "dlco_percent_predicted"]:
        path = ("pulmonary", attribute)
        for value in [
            '"1,200"',
            '"7,5"',
            "true",
            ".nan",
            '"inf"',
            "-5",
            "0",
            "250",
            '"78%"',
            '"78 %"',
            "0.78",
            "1e400",
            '"78 % predicted"',
        ]:
            yield raw(f"{attribute}-{value}", path, value, 2, attribute)
    for attribute, value, exit in [
        ("fvc_percent_predicted", 50, 0),
        ("fvc_percent_predicted", 49.9, 1),
        ("dlco_percent_predicted", 40, 0),
        ("dlco_percent_predicted", 39.9, 1),
    ]:
        yield row(
            f"{attribute}-verdict-{value}",
            _set(CASE01, ("pulmonary", attribute), value),
            exit,
            "ELIGIBLE" if exit == 0 else "NOT ELIGIBLE",
        )

    # dates in every dated field of the record
    dated = [
        ("dates", "birth"),
        ("dates", "consent"),
        ("dates", "screening"),
        ("dates", "planned_randomization"),
        ("pregnancy_test", "date"),
        ("ssc", "first_non_raynaud_manifestation"),
        ("medications", 0, "last_dose"),
        ("events", 0, "date"),
        ("attestations", "IN07", "date"),
    ]
    for path, (date_id, value) in itertools.product(dated, BAD_DATES):
        where = _dotted(path[:2]) if isinstance(path[1], int) else _dotted(path)
        yield raw(f"{_dotted(path)}-{date_id}", path, value, 2, where)

    # booleans are true or false
    booleans = [
        ("childbearing_potential",),
        ("breastfeeding",),
        ("contraception_agreed",),
        ("ssc", "acr_eular", "puffy_fingers"),
        ("history", "renal_crisis"),
        ("pulmonary", "oxygen_therapy"),
        ("infection_screening", "active_infection"),
        ("attestations", "IN07", "applies"),
        ("medications", 1, "ongoing"),
    ]
    for path, value in itertools.product(
        booleans, ['"yes"', "yes", "no", "on", "off", "y", "1", "0", '"true"', '"false"']
    ):
        where = _dotted(path[:2]) if len(path) > 1 and isinstance(path[1], int) else _dotted(path)
        yield raw(f"{_dotted(path)}-{value}", path, value, 2, where)

    # mRSS grades 0-3, a total 0-51 that agrees with the areas
    face = ("ssc", "mrss", "areas", "face")
    for value in ["4", "-1", "true", "1.5", '"2"', ".nan", '"one"', "3.5"]:
        yield raw(f"mrss-face-{value}", face, value, 2, "ssc.mrss.areas.face")
    for value in ["52", "-1", '"many"', "true", "20", "21.5"]:
        yield raw(f"mrss-total-{value}", ("ssc", "mrss", "total"), value, 2, "ssc.mrss")
    yield raw("mrss-total-agrees", ("ssc", "mrss", "total"), "21", 0, "ELIGIBLE")
    yield raw("acr-item-maybe", ("ssc", "acr_eular", "raynaud"), '"maybe"', 2, "raynaud")

    # choices come from a list; unknown fields are refused
    for path, value in [
        (("sex",), '"Female"'),
        (("sex",), '"f"'),
        (("sex",), '"other"'),
        (("sex",), "1"),
        (("pah_risk",), '"medium"'),
        (("infection_screening", "hepatitis_b"), '"pos"'),
        (("infection_screening", "tuberculosis"), "true"),
        (("infection_screening", "hiv"), '"negative\\r"'),
        (("pregnancy_test", "result"), '"neg"'),
        (("pregnancy_test", "sample"), '"blood"'),
        (("medications", 1, "route"), '"rectal"'),
        (("medications", 1, "frequency"), '"sometimes"'),
        (("medications", 1, "dose"), '"7,5 mg"'),
        (("medications", 1, "dose"), '"7.5 mg*2"'),
        (("medications", 1, "dose"), '"nan mg"'),
        (("medications", 1, "dose"), '"-7.5 mg"'),
        (("events", 0, "kind"), '"bungee_jumping"'),
    ]:
        where = _dotted(path[:2]) if len(path) > 1 and isinstance(path[1], int) else path[-1]
        yield raw(f"choice-{_dotted(path)}-{value}", path, value, 2, where)
    for id, path, value, fragment in [
        ("top", ("weight",), 70, "weight"),
        ("labs", ("labs", "hba1c"), {"value": 5, "unit": "%"}, "hba1c"),
        ("dates", ("dates", "death"), date(2025, 1, 1), "death"),
        ("misspelt", ("childbearing_potental",), True, "childbearing_potental"),
        ("acr", ("ssc", "acr_eular", "extra"), True, "extra"),
        ("medication", ("medications", 0, "dosage"), "15 mg", "dosage"),
        (
            "attestation",
            ("attestations", "EX99"),
            {"applies": False, "date": date(2025, 3, 3)},
            "EX99",
        ),
        ("esc-key", ("\x1b[31mred",), 1, "unknown field"),
    ]:
        yield row(f"unknown-field-{id}", _set(CASE01, path, value), 2, fragment)

    # the participant code: a site code, never a name
    for value in [
        '"John Smith"',
        '""',
        "123",
        '"SYN-01\\e[2K"',
        "null",
        '"' + "A" * 41 + '"',
        '"SYN/../01"',
    ]:
        yield raw(f"participant-{value[:14]}", ("participant",), value, 2, "participant")
    yield row("participant-missing", _set(CASE01, ("participant",), _DELETE), 2, "participant")

    # contradictions are bad input (issue 10, "Contradictions")
    male = _with(
        CASE01,
        (("sex",), "male"),
        (("childbearing_potential",), False),
        (("breastfeeding",), False),
    )
    med = ("medications", 0)
    for id, data, fragment in [
        (
            "male-positive-pregnancy-test",
            _set(male, ("pregnancy_test", "result"), "positive"),
            "pregnancy_test",
        ),
        ("male-breastfeeding", _set(male, ("breastfeeding",), True), "breastfeeding"),
        (
            "male-childbearing",
            _set(male, ("childbearing_potential",), True),
            "childbearing_potential",
        ),
        (
            "positive-test-not-childbearing",
            _with(
                CASE01,
                (("childbearing_potential",), False),
                (("pregnancy_test", "result"), "positive"),
            ),
            "pregnancy_test",
        ),
        (
            "medication-start-after-last-dose",
            _set(CASE01, (*med, "start"), date(2025, 2, 1)),
            "start",
        ),
        (
            "cleared-without-reason",
            _set(
                CASE01,
                ("medications", 1),
                {"name": "zzzmab", "ongoing": True, "investigator_cleared": True},
            ),
            "clearance_reason",
        ),
        (
            "cleared-methotrexate",
            _with(
                CASE01,
                ((*med, "investigator_cleared"), True),
                ((*med, "clearance_reason"), "synthetic"),
            ),
            "investigator_cleared",
        ),
        (
            "reason-without-clearance",
            _set(CASE01, (*med, "clearance_reason"), "synthetic"),
            "clearance_reason",
        ),
        (
            "consent-before-birth",
            _set(CASE01, ("dates", "consent"), date(1970, 1, 1)),
            "dates.consent",
        ),
        (
            "screening-before-consent",
            _set(CASE01, ("dates", "consent"), date(2025, 3, 4)),
            "dates.screening",
        ),
        (
            "randomization-before-screening",
            _set(CASE01, ("dates", "planned_randomization"), date(2025, 3, 1)),
            "dates.planned_randomization",
        ),
        (
            "pregnancy-test-after-screening",
            _set(CASE01, ("pregnancy_test", "date"), date(2025, 3, 5)),
            "pregnancy_test.date",
        ),
        (
            "attestation-after-screening",
            _set(CASE01, ("attestations", "IN07", "date"), date(2025, 3, 5)),
            "attestations.IN07",
        ),
        (
            "manifestation-after-screening",
            _set(CASE01, ("ssc", "first_non_raynaud_manifestation"), date(2025, 3, 5)),
            "first_non_raynaud_manifestation",
        ),
        (
            "manifestation-before-birth",
            _set(CASE01, ("ssc", "first_non_raynaud_manifestation"), date(1970, 1, 1)),
            "first_non_raynaud_manifestation",
        ),
        (
            "sparing-fingers-with-sclerodactyly",
            _set(CASE01, ("ssc", "acr_eular", "skin_thickening_sparing_fingers"), True),
            "skin_thickening_sparing_fingers",
        ),
        (
            "last-dose-after-randomization",
            _set(CASE01, (*med, "last_dose"), date(2025, 3, 20)),
            "last_dose",
        ),
        (
            "vaccine-after-randomization",
            _set(CASE01, ("events", 0, "date"), date(2025, 4, 1)),
            "events[0]",
        ),
        (
            "birth-in-the-future",
            _with(CASE01, (("dates", "birth"), date(2090, 1, 1))),
            "dates.birth",
        ),
    ]:
        yield row(f"contradiction-{id}", data, 2, fragment)

    # medicine names in the record
    def named(name: str, last_dose: date = date(2025, 3, 1)) -> Any:
        return _with(CASE01, ((*med, "name"), name), ((*med, "last_dose"), last_dose))

    for id, name in [
        ("cyrillic-e", "mеthotrexate"),
        ("greek-omicron", "methοtrexate"),
        ("esc", "methotrexate\x1b[2K"),
        ("carriage-return", "methotrexate\rprednisone"),
        ("esc-and-cr", "\x1b[1A\rmethotrexate"),
        ("zero-width-space", "metho\u200btrexate"),
    ]:
        yield row(f"name-{id}", named(name), 2, "medications[0]")
    for id, name in [("full-width", "ｍｅｔｈｏｔｒｅｘａｔｅ"), ("upper-case", "METHOTREXATE")]:
        yield row(f"name-{id}-in-window", named(name), 1, "NOT ELIGIBLE")

    # a criterion is decided whenever the recorded data decide it (issue 10, section 3)
    no_cbp = _set(CASE01, ("childbearing_potential",), _DELETE)
    for id, data, exit, fragment in [
        (
            "breastfeeding-childbearing-unrecorded",
            _set(no_cbp, ("breastfeeding",), True),
            1,
            "NOT ELIGIBLE",
        ),
        (
            "positive-test-childbearing-unrecorded",
            _set(no_cbp, ("pregnancy_test", "result"), "positive"),
            1,
            "NOT ELIGIBLE",
        ),
        (
            "unknown-medicine",
            _with(CASE01, (("medications", 1), {"name": "zzzmab", "ongoing": True})),
            3,
            "zzzmab",
        ),
        ("igg-missing", _set(CASE01, ("labs", "igg"), _DELETE), 3, "labs › IgG"),
        (
            "feet-ungraded",
            _with(
                CASE01,
                (("ssc", "mrss", "areas", "right_foot"), _DELETE),
                (("ssc", "mrss", "areas", "left_foot"), _DELETE),
            ),
            0,
            "ELIGIBLE",
        ),
        (
            "acr-items-ungraded-sufficient-item",
            _with(
                CASE01,
                (("ssc", "acr_eular", "telangiectasia"), _DELETE),
                (("ssc", "acr_eular", "digital_tip_ulcers"), _DELETE),
                (("ssc", "acr_eular", "fingertip_pitting_scars"), _DELETE),
            ),
            0,
            "ELIGIBLE",
        ),
        ("methotrexate-in-window", named("methotrexate"), 1, "NOT ELIGIBLE"),
        (
            "unknown-medicine-accent",
            _set(CASE01, ("medications", 1), {"name": "zzzémab", "ongoing": True}),
            3,
            "zzzémab",
        ),
    ]:
        yield row(f"decided-{id}", data, exit, fragment)

    # 125 years old at screening is an implausible age, refused like an implausible lab value
    yield row("born-1900", _set(CASE01, ("dates", "birth"), date(1900, 1, 1)), 2, "implausible")
    yield row("born-1905", _set(CASE01, ("dates", "birth"), date(1905, 3, 3)), 1, "IN01")
    yield row("medications-none", _set(CASE01, ("medications",), []), 0, "ELIGIBLE")
    yield row("medications-unrecorded", _set(CASE01, ("medications",), _DELETE), 3, "medications")
    yield row("events-none", _set(CASE01, ("events",), []), 0, "ELIGIBLE")
    yield row("events-unrecorded", _set(CASE01, ("events",), _DELETE), 3, "events")
    yield row(
        "two-thousand-medications",
        _set(CASE01, ("medications",), [CASE01["medications"][0]] * 2000),
        0,
        "ELIGIBLE",
    )

    yield from file_fault_rows("screen", valid, "ELIGIBLE")


# -- calendar ------------------------------------------------------------------------------------


def calendar_rows() -> Iterator[Row]:
    base = ("calendar", "--arm", "telitacicept", "--randomization", "2025-03-17")

    def row(
        id: str, argv: tuple[str, ...], exit: int | tuple[int, ...], fragment: str, **kwargs: Any
    ) -> Row:
        return Row(f"calendar:{id}", argv, exit, fragment, **kwargs)

    for arm in ["telitacicept", "mmf", "MMF", "telitacicept_mmf", "Telitacicept"]:
        yield row(
            f"arm-{arm}",
            ("calendar", "--arm", arm, "--randomization", "2025-03-17"),
            0,
            "NCT06375005 calendar",
        )
    for arm in [
        "placebo",
        "",
        " ",
        "telitacicept\x1b[2K",
        "tеlitacicept",
        "x" * 10_000,
        "telitacicept\x1b[1A\rmmf",
    ]:
        yield row(
            f"arm-{arm[:20]!r}",
            ("calendar", "--arm", arm, "--randomization", "2025-03-17"),
            2,
            "--arm",
            where="--arm",
        )
    for value in BAD_DATE_ARGS:
        yield row(
            f"randomization-{value!r}",
            ("calendar", "--arm", "mmf", "--randomization", value),
            2,
            "--randomization",
            where="--randomization",
            bug=USAGE_FIRST,
        )
    # at the ends of the date range: a calendar or a refusal, never a crash
    for value in ["1900-01-01", "2100-12-31", "2024-02-29"]:
        yield row(
            f"randomization-edge-{value}",
            ("calendar", "--arm", "mmf", "--randomization", value),
            (0, 2) if value != "2024-02-29" else 0,
            "",
        )

    # output files: every target checked before anything is written; nothing lost
    csv, ics = "{tmp}/out.csv", "{tmp}/out.ics"
    old = "synthetic: must survive\n"
    yield row(
        "csv-and-ics",
        (*base, "--csv", csv, "--ics", ics),
        0,
        "wrote",
        contains=(("out.csv", "2025-03-17"), ("out.ics", "BEGIN:VCALENDAR")),
    )
    yield row(
        "mmf-ics-states-the-oral-course",
        ("calendar", "--arm", "mmf", "--randomization", "2025-03-17", "--ics", ics),
        0,
        "wrote",
        contains=(("out.ics", "0.5 g"),),
    )
    yield row(
        "combined-ics-states-the-oral-course",
        (*base, "--ics", ics),
        0,
        "wrote",
        contains=(("out.ics", "0.5 g"),),
    )
    yield row(
        "same-path",
        (*base, "--csv", csv, "--ics", csv),
        2,
        "same",
        where="--csv",
        absent=("out.csv",),
    )
    yield row(
        "same-path-spelt-twice",
        (*base, "--csv", csv, "--ics", "{tmp}/./out.csv"),
        2,
        "same",
        where="--csv",
        absent=("out.csv",),
    )
    yield row(
        "same-file-through-link",
        (*base, "--csv", csv, "--ics", "{tmp}/link.ics"),
        2,
        "same",
        where="--csv",
        files=(("link.ics", Link("out.csv")),),
        absent=("out.csv",),
    )
    yield row(
        "csv-directory",
        (*base, "--csv", "{tmp}/folder"),
        2,
        "folder",
        where="--csv",
        files=(("folder", Dir()),),
    )
    yield row(
        "ics-directory",
        (*base, "--ics", "{tmp}/folder"),
        2,
        "folder",
        where="--ics",
        files=(("folder", Dir()),),
    )
    yield row(
        "force-onto-directory",
        (*base, "--csv", "{tmp}/folder", "--force"),
        2,
        "folder",
        where="--csv",
        files=(("folder", Dir()),),
    )
    yield row(
        "missing-folder", (*base, "--csv", "{tmp}/nowhere/out.csv"), 2, "nowhere", where="--csv"
    )
    yield row("trailing-separator", (*base, "--csv", "{tmp}/new/"), 2, "--csv", where="--csv")
    yield row(
        "through-a-file",
        (*base, "--csv", "{tmp}/afile/out.csv"),
        2,
        "afile",
        where="--csv",
        files=(("afile", old),),
        unchanged=(("afile", old),),
    )
    yield row(
        "existing-without-force",
        (*base, "--csv", csv),
        2,
        "--force",
        where="--csv",
        files=(("out.csv", old),),
        unchanged=(("out.csv", old),),
    )
    yield row(
        "existing-with-force",
        (*base, "--csv", csv, "--force"),
        0,
        "wrote",
        files=(("out.csv", old),),
        contains=(("out.csv", "2025-03-17"),),
    )
    yield row(
        "dangling-link",
        (*base, "--ics", "{tmp}/dangling.ics"),
        2,
        "link",
        where="--ics",
        files=(("dangling.ics", Link("gone/nothing.ics")),),
    )
    yield row("empty-name", (*base, "--csv", ""), 2, "empty", where="--csv")
    yield row(
        "fifo", (*base, "--ics", "{tmp}/pipe"), 2, "pipe", where="--ics", files=(("pipe", Fifo()),)
    )
    yield row(
        "fifo-with-force",
        (*base, "--csv", "{tmp}/pipe", "--force"),
        2,
        "pipe",
        where="--csv",
        files=(("pipe", Fifo()),),
    )
    yield row("nul-in-name", (*base, "--csv", "{tmp}/a\x00b.csv"), 2, "NUL", where="--csv")
    yield row(
        "good-csv-bad-ics",
        (*base, "--csv", csv, "--ics", "{tmp}/folder"),
        2,
        "folder",
        where="--ics",
        files=(("folder", Dir()),),
        absent=("out.csv",),
    )
    yield row(
        "good-ics-existing-csv",
        (*base, "--csv", csv, "--ics", ics),
        2,
        "--force",
        where="--csv",
        files=(("out.csv", old),),
        unchanged=(("out.csv", old),),
        absent=("out.ics",),
    )
    yield row(
        "bad-arm-good-csv",
        ("calendar", "--arm", "placebo", "--randomization", "2025-03-17", "--csv", csv),
        2,
        "--arm",
        where="--arm",
        absent=("out.csv",),
    )
    yield row(
        "bad-date-good-csv",
        ("calendar", "--arm", "mmf", "--randomization", "2025-02-30", "--csv", csv),
        2,
        "--randomization",
        where="--randomization",
        absent=("out.csv",),
        bug=USAGE_FIRST,
    )
    yield row(
        "missing-arm",
        ("calendar", "--randomization", "2025-03-17"),
        2,
        "--arm",
        where="--arm",
        bug=USAGE_FIRST,
    )


# -- registry-check ------------------------------------------------------------------------------


def registry_rows() -> Iterator[Row]:
    yield Row("registry-check:default", ("registry-check",), 0, "agree")
    yield Row("registry-check:quiet", ("registry-check", "--quiet"), 0, "")

    def record(id: str, content: Any, exit: int, fragment: str, **kwargs: Any) -> Row:
        return file_row(
            "registry-check",
            f"record-{id}",
            content,
            exit,
            fragment,
            args=("--record",),
            name="record.json",
            **kwargs,
        )

    def study(id: str, content: Any, exit: int, fragment: str, **kwargs: Any) -> Row:
        return file_row(
            "registry-check",
            f"study-{id}",
            content,
            exit,
            fragment,
            args=("--study",),
            name="study.yaml",
            **kwargs,
        )

    not_a_study = [
        ("null", "null"),
        ("empty-object", "{}"),
        ("list", "[]"),
        ("list-of-record", "[" + REGISTRY_TEXT + "]"),
        ("string", '"NCT06375005"'),
        ("number", "42"),
        ("true", "true"),
        ("no-protocol-section", '{"hasResults": false}'),
        ("protocol-section-null", '{"protocolSection": null}'),
        ("protocol-section-empty", '{"protocolSection": {}}'),
        ("protocol-section-list", '{"protocolSection": []}'),
        ("protocol-section-string", '{"protocolSection": "x"}'),
        ("search-result", json.dumps({"studies": [REGISTRY]})),
        (
            "nct-id-number",
            json.dumps({"protocolSection": {"identificationModule": {"nctId": 6375005}}}),
        ),
        (
            "nct-id-garbage",
            json.dumps({"protocolSection": {"identificationModule": {"nctId": "\x1b[2KNCT"}}}),
        ),
    ]
    for id, text in not_a_study:
        yield record(id, text, 2, "record.json")
    for id, content, fragment in [
        ("directory", Dir(), "directory"),
        ("fifo", Fifo(), "regular file"),
        ("missing", None, "such file"),
        ("over-1-MiB", Big(REGISTRY_TEXT.rstrip() + "\n"), "bytes"),
        ("latin-1", REGISTRY_TEXT.encode().replace(b"Efficacy", b"Effic\xe1cy", 1), "UTF-8"),
        ("empty", "", "empty"),
        ("whitespace", " \n\t\n", "empty"),
        ("billion-laughs", BILLION_LAUGHS, "JSON"),
        (
            "yaml-not-json",
            "protocolSection:\n  identificationModule:\n    nctId: NCT06375005\n",
            "JSON",
        ),
        ("deep", "[" * 100_000 + "]" * 100_000, "nest"),
        ("nan", REGISTRY_TEXT.replace('"count": 38', '"count": NaN'), "NaN"),
        ("infinity", REGISTRY_TEXT.replace('"count": 38', '"count": Infinity'), "Infinity"),
        ("huge-integer", REGISTRY_TEXT.replace('"count": 38', '"count": 1' + "0" * 5000), "count"),
        (
            "duplicate-key",
            REGISTRY_TEXT.replace('"count": 38', '"count": 38, "count": 39'),
            "count",
        ),
        ("trailing-garbage", REGISTRY_TEXT + "\n}", "JSON"),
    ]:
        yield record(id, content, 2, fragment)
    yield file_row(
        "registry-check",
        "record-dev-null",
        None,
        2,
        "regular file",
        args=("--record",),
        name="/dev/null",
    )
    yield record("valid", REGISTRY_TEXT, 0, "agree")
    yield record("bom", "\ufeff" + REGISTRY_TEXT, 0, "agree")
    changed = copy.deepcopy(REGISTRY)
    changed["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 40
    yield record("enrollment-changed", json.dumps(changed), 1, "enrollment")
    criteria = REGISTRY["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    assert "Hemoglobin \\<8.0 g/dL" in criteria  # the record escapes "<" (markdown)
    changed = copy.deepcopy(REGISTRY)
    changed["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = criteria.replace(
        "Hemoglobin \\<8.0 g/dL", "Hemoglobin \\<9.0 g/dL"
    )
    yield record("hemoglobin-threshold-changed", json.dumps(changed), 1, "disagrees")

    # --study: the same strictness; a changed registry fact fails whatever its label (section 6)
    for id, content, fragment in [
        ("directory", Dir(), "directory"),
        ("fifo", Fifo(), "regular file"),
        ("missing", None, "such file"),
        ("latin-1", STUDY_TEXT.encode().replace(b"Hemoglobin", b"H\xe9moglobin", 1), "UTF-8"),
        ("empty", "", "mapping"),
        ("null", "null", "mapping"),
        ("list", "[]", "mapping"),
        ("empty-mapping", "{}", "missing"),
        ("billion-laughs", BILLION_LAUGHS, "YAML"),
        ("deep", "x: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
        ("unknown-top-key", STUDY_TEXT + "\nhostile_extra: 1\n", "hostile_extra"),
        ("huge-integer", STUDY_TEXT + "\nhostile: 1" + "0" * 5000 + "\n", "hostile"),
    ]:
        yield study(id, content, 2, fragment, bug=HUGE_INTEGER if id == "huge-integer" else None)
    enrollment = (
        "  enrollment:\n    value: 38\n    provenance: registry\n"
        "    registry_field: protocolSection.designModule.enrollmentInfo.count\n"
    )
    hemoglobin = (
        '      value: "< 8.0 g/dL"\n      provenance: registry\n'
        "      registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
        "      quote: Hemoglobin <8.0 g/dL\n"
    )
    steroid = (
        "    value: 10 mg\n    provenance: registry\n"
        "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
        "    quote: exceeding the equivalent of prednisone 10 mg daily\n"
    )
    for old in (enrollment, hemoglobin, steroid):
        assert STUDY_TEXT.count(old) == 1, old
    for id, old, new in [
        ("enrollment-changed", enrollment, enrollment.replace("38", "40")),
        (
            "enrollment-relabelled",
            enrollment,
            "  enrollment:\n    value: 40\n    provenance: assumption\n    note: synthetic\n",
        ),
        ("hemoglobin-changed", hemoglobin, hemoglobin.replace('"< 8.0', '"< 9.0')),
        (
            "hemoglobin-relabelled",
            hemoglobin,
            '      value: "< 9.0 g/dL"\n      provenance: assumption\n      note: synthetic\n',
        ),
        (
            "steroid-limit-relabelled",
            steroid,
            "    value: 15 mg\n    provenance: assumption\n    note: synthetic\n",
        ),
    ]:
        yield study(id, STUDY_TEXT.replace(old, new), 1, "disagrees")


# -- the table -----------------------------------------------------------------------------------


def all_rows() -> list[Row]:
    rows = [*lab_rows(), *washout_rows(), *screen_rows(), *calendar_rows(), *registry_rows()]
    ids = [r.id for r in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, duplicates
    return rows


ROWS = all_rows()


def _params(rows: Iterable[Row]) -> list[Any]:
    return [
        pytest.param(
            r,
            id=r.id.encode("unicode_escape").decode()[:120],
            marks=[pytest.mark.xfail(strict=True, reason=r.bug)] if r.bug else [],
        )
        for r in rows
    ]


# -- running a row -------------------------------------------------------------------------------


class CallTimeout(BaseException):
    """A call ran past CALL_TIMEOUT (a BaseException: the CLI's own handler cannot catch it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise CallTimeout


def _fill(text: str, tmp: Path) -> str:
    return text.replace("{tmp}", str(tmp))


def _materialise(row: Row, tmp: Path) -> None:
    for name, content in row.files:
        path = tmp / name
        if isinstance(content, Dir):
            path.mkdir()
        elif isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, Link):
            path.symlink_to(content.target)
        elif isinstance(content, Big):
            head = content.head.encode("utf-8")
            path.write_bytes(head + b" " * (content.size - len(head) - 1) + b"\n")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _check(row: Row, code: int, out: str, err: str, tmp: Path) -> None:
    expected = row.exit if isinstance(row.exit, tuple) else (row.exit,)
    shown = f"\n--- stdout ---\n{out[-2000:]}\n--- stderr ---\n{err[-2000:]}"
    assert code in expected, f"exit {code}, expected {row.exit}{shown}"
    assert code != 4, f"internal error{shown}"
    for stream in (out, err):
        assert "Traceback" not in stream, shown
        assert "\x1b" not in stream, f"a raw ESC reached the terminal{shown}"
        assert "\r" not in stream, f"a raw carriage return reached the terminal{shown}"
    fragment = _fill(row.fragment, tmp)
    # the fragment is looked for in the messages, not in the tmp path they name
    out_text, err_text = out.replace(str(tmp), "<tmp>"), err.replace(str(tmp), "<tmp>")
    if code == 2:
        assert fragment in err_text, f"{fragment!r} not in stderr{shown}"
        first = err.splitlines()[0] if err.strip() else ""
        assert first.startswith("error:"), f"first stderr line {first!r}{shown}"
        if row.where:
            where = _fill(row.where, tmp)
            # a usage error names the argument it concerns, in argparse's own words
            usage = first.startswith("error: trialbook") and "argument " in first
            assert where in first or usage, f"the first stderr line does not name {where!r}{shown}"
    else:
        assert fragment in out_text + err_text, f"{fragment!r} not in the output{shown}"
    if code in (0, 1, 3) and ("--json" in row.argv or "json" in row.argv[-1:]):

        def refuse(constant: str) -> None:
            raise AssertionError(f"JSON output holds {constant}")

        json.loads(out, parse_constant=refuse)
    for name in row.absent:
        assert not (tmp / name).exists(), f"{name} was written although the command failed"
    for name, content in row.unchanged:
        assert (tmp / name).read_text(encoding="utf-8") == content, f"{name} was changed"
    for name, text in row.contains:
        assert text in (tmp / name).read_text(encoding="utf-8"), f"{text!r} not in {name}"


@pytest.mark.parametrize("row", _params(ROWS))
def test_hostile_input(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _materialise(row, tmp_path)
    argv = [_fill(arg, tmp_path) for arg in row.argv]
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(CALL_TIMEOUT)
    try:
        code = main(argv)
    except CallTimeout:
        pytest.fail(f"no answer within {CALL_TIMEOUT} s: {argv!r}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    captured = capsys.readouterr()
    _check(row, code, captured.out, captured.err, tmp_path)


def test_the_table_is_large_and_covers_every_command() -> None:
    counts = {
        c: sum(r.command == c for r in ROWS)
        for c in ("lab", "washout", "screen", "calendar", "registry-check")
    }
    assert sum(counts.values()) >= 550, counts
    assert min(counts.values()) >= 25, counts


# -- the same rows as real processes -------------------------------------------------------------

ASCII_ENV = {"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"}


def _sample() -> list[Row]:
    """About 25 rows: evenly spread over each command, plus the terminal cases."""
    sample: list[Row] = []
    for command in ("lab", "washout", "screen", "calendar", "registry-check"):
        rows = [r for r in ROWS if r.command == command and not any("\0" in a for a in r.argv)]
        step = max(1, len(rows) // 4)
        sample += rows[::step][:4]
    by_id = {r.id: r for r in ROWS}
    sample += [
        by_id[i]
        for i in (
            "screen:fifo",
            "washout:fifo",
            "calendar:fifo",
            "screen:billion-laughs",
            "registry-check:record-deep",
        )
    ]
    eligible = by_id["screen:eligible"]
    sample.append(replace(eligible, id="screen:eligible-ascii-terminal", env=ASCII_ENV))
    sample.append(
        replace(by_id["screen:format-json"], id="screen:json-ascii-terminal", env=ASCII_ENV)
    )
    sample.append(by_id["screen:name-esc-and-cr"])
    for id in (
        "washout:unknown-medicine-accent-json",
        "washout:unknown-medicine-curly-quotes-json",
    ):
        sample.append(
            replace(by_id[id], id=f"{id}-ascii-terminal", env=ASCII_ENV, bug=JSON_ON_ASCII_TERMINAL)
        )
    sample.append(
        replace(
            by_id["screen:decided-unknown-medicine-accent"],
            id="screen:unknown-medicine-accent-json-ascii-terminal",
            argv=(*by_id["screen:decided-unknown-medicine-accent"].argv, "--format", "json"),
            fragment='"verdict": "incomplete"',
            env=ASCII_ENV,
            bug=JSON_ON_ASCII_TERMINAL,
        )
    )
    sample.append(
        replace(by_id["washout:name-esc"], id="washout:name-esc-ascii-terminal", env=ASCII_ENV)
    )
    return list({r.id: r for r in sample}.values())


@pytest.mark.skipif(not TRIALBOOK.exists(), reason=f"{TRIALBOOK} is not installed")
@pytest.mark.parametrize("row", _params(_sample()))
def test_hostile_input_as_a_process(row: Row, tmp_path: Path) -> None:
    _materialise(row, tmp_path)
    argv = [_fill(arg, tmp_path) for arg in row.argv]
    env = {**os.environ, **row.env}
    try:
        done = subprocess.run(
            [str(TRIALBOOK), *argv],
            capture_output=True,
            timeout=PROCESS_TIMEOUT,
            env=env,
            cwd=tmp_path,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {PROCESS_TIMEOUT} s: {argv!r}")
    assert b"\x1b" not in done.stdout + done.stderr, "a raw ESC byte reached the terminal"
    if row.env.get("PYTHONIOENCODING") == "ascii":
        assert done.stdout.isascii() and done.stderr.isascii()
    out = done.stdout.decode("utf-8")
    err = done.stderr.decode("utf-8")
    _check(row, done.returncode, out, err, tmp_path)
