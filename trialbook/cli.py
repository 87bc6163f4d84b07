"""`trialbook`: the protocol book's calculators for site staff and maintainers.

Exit codes (DESIGN.md): 0 done / passes / eligible, 1 fails (not eligible, a mismatch),
3 incomplete (unknowns), 2 bad input or usage (one line per problem, naming the file, the field,
the value and what was expected), 4 internal error (a bug: one line, never a traceback unless
``--debug``). 0, 1 and 3 are given only when the engine decided. Heavy modules are imported
inside each command so that ``trialbook --help`` and a single check start quickly.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import gc
import itertools
import os
import re
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3
EXIT_INTERNAL_ERROR = 4

EXIT_CODES_HELP = (
    "exit codes: 0 done (screen: eligible; lab: passes), 1 fails / not eligible / differences "
    "found, 3 incomplete (some criterion unknown), 2 bad input or usage (the message names the "
    "file, field, value and what was expected), 4 internal error (a bug; please report it)"
)
REPORT_TO = "the book's maintainers (README: 'Reporting a problem')"
STUDY_HELP = (
    "run against another version of study.yaml (validated; a version the stored registry record "
    "does not show yet is used, with a warning naming the facts that differ)"
)


#: The options given so far in this command line (a namespace attribute argparse never shows).
_GIVEN = "_options_given"


def _given(namespace: argparse.Namespace) -> dict[str, tuple[str, str]]:
    """``dest -> (option as typed, its value as typed)`` of the options given so far."""
    if _GIVEN not in vars(namespace):
        setattr(namespace, _GIVEN, {})
    return getattr(namespace, _GIVEN)


def _shown(values: Any) -> str:
    """An option's value as given: '40 U/L' for --uln's two."""
    if isinstance(values, list | tuple):
        return " ".join(str(v) for v in values)
    return str(values)


class _StoreOnce(argparse._StoreAction):
    """An option of one value (``--sex female``, ``--uln 40 U/L``): given twice it is refused,
    even with the same value twice. argparse would keep the last and forget the first without a
    word, and which one the user meant is a guess (``--sex male --sex female``)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        given = _given(namespace)
        if self.option_strings and self.dest in given:
            first_option, first = given[self.dest]
            raise argparse.ArgumentError(
                self,
                f"given twice ({first_option} {first!r}, then {option} {_shown(values)!r}); "
                "expected it once, with the one value meant",
            )
        given[self.dest] = (option or self.dest, _shown(values))
        super().__call__(parser, namespace, values, option)


class _FlagOnce(argparse._StoreConstAction):
    """A flag (``--force``, ``--json``): given twice it says the same thing twice, which is
    harmless; two flags that set one setting to different values are refused."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        given = _given(namespace)
        if self.dest in given and given[self.dest][1] != repr(self.const):
            raise argparse.ArgumentError(
                self, f"contradicts {given[self.dest][0]} given before it; expected one of them"
            )
        given[self.dest] = (option or self.dest, repr(self.const))
        super().__call__(parser, namespace, values, option)


class _StoreTrueOnce(_FlagOnce):
    def __init__(self, option_strings: Any, dest: str, default: Any = False, **kwargs: Any):
        super().__init__(option_strings, dest, const=True, default=default, **kwargs)


class _StoreFalseOnce(_FlagOnce):
    def __init__(self, option_strings: Any, dest: str, default: Any = True, **kwargs: Any):
        super().__init__(option_strings, dest, const=False, default=default, **kwargs)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line: 'error: trialbook lab: ...' (exit 2), and every
    option of one value refused when given twice (the actions registered here are the ones
    ``add_argument`` uses by default, so a new option is covered without a word)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)
        self.register("action", "store_const", _FlagOnce)
        self.register("action", "store_true", _StoreTrueOnce)
        self.register("action", "store_false", _StoreFalseOnce)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, rest = super().parse_known_args(args, namespace)
        with contextlib.suppress(AttributeError):  # the record of what was given is not a result
            delattr(parsed, _GIVEN)
        return parsed, rest

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


#: A value that argparse would take for an option: a minus sign before a number or a word.
_DASHED_VALUE = re.compile(r"^-(?:[0-9.]|inf|nan|infinity)", re.I)


def _dashed_values(argv: list[str]) -> str | None:
    """`trialbook lab hemoglobin -5 g/dL`: name the value instead of a confusing usage error."""
    if not argv or argv[0] != "lab":
        return None
    names = {"--uln": "the ULN value", "--age": "the age"}
    for previous, token in itertools.pairwise(argv):
        if token == "--":
            return None
        if _DASHED_VALUE.match(token) and not _is_zero(token):
            what = names.get(previous, "the value")
            expected = {
                "--age": "the age in completed years, such as 46",
                # a ULN of zero is refused too: no multiple of it can be read
                "--uln": "a positive upper limit of normal, such as 40",
            }.get(previous, "a decimal number of zero or more, such as 7.5")
            return (
                f"error: {_analyte_label(argv)}{what} {token!r} is negative or not "
                f"a number; expected {expected}"
            )
    return None


def _is_zero(token: str) -> bool:
    """`-0` is 0 (as the number reader reads it), not a negative value."""
    from protocol.inputs import read_decimal

    try:
        return read_decimal(token) == 0
    except ValueError:
        return False


def _analyte_label(argv: list[str]) -> str:
    """'Alanine aminotransferase (ALT): ' for the analyte named on the command line, if any."""
    from protocol.labs import LabInputError, get_analyte

    takes = {"--uln": 2, "--age": 1, "--sex": 1}  # how many values each option takes
    skip = 0
    for token in argv[1:]:
        if skip:
            skip -= 1
        elif token in takes:
            skip = takes[token]
        elif not token.startswith("-"):
            try:
                return f"{get_analyte(token).label}: "
            except LabInputError:
                return ""
    return ""


def _iso_date(text: str) -> date:
    """An argparse type: a YYYY-MM-DD date from 1900 to 2100, or a usage error (exit 2)."""
    from protocol.inputs import read_date

    try:
        return read_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- output that cannot be misread ------------------------------------------------------------

#: Control characters (ESC, carriage return, ...) never reach the terminal: shown escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
#: Plain-ASCII spellings of the book's symbols, for a terminal that cannot show them.
_ASCII = {
    "≥": ">=",
    "≤": "<=",
    "×": "x",
    "µ": "u",
    "μ": "u",
    "²": "^2",
    "³": "^3",
    "⁹": "^9",
    "–": "-",
    "—": "-",
    "…": "...",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "±": "+/-",
}


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)
    text = error.object[error.start : error.end]
    return "".join(_ASCII.get(ch, ch.encode("unicode_escape").decode()) for ch in text), error.end


codecs.register_error("trialbook-ascii", _ascii_fallback)


class OutputUnwritable(Exception):
    """The command's output could not be written (the disk it is redirected to is full)."""


def _unwritable(exc: OutputUnwritable) -> int:
    with contextlib.suppress(Exception):
        print(
            f"error: the output cannot be written ({exc}); expected a terminal, file or pipe "
            "that takes it",
            file=sys.__stderr__,
        )
    return EXIT_BAD_INPUT


class _SafeStream:
    """A text stream that escapes control characters, never fails on encoding, and keeps going
    quietly when its reader has gone (``trialbook screen x | head``), so the exit code is still
    the verdict's."""

    def __init__(self, stream: TextIO | None, redact: bool = False):
        self._stream = stream
        self.closed_by_reader = False
        # errors and warnings repeat bad input: a value in them that identifies a person is
        # taken out, whichever check let it through (the last guard; the checks refuse first)
        self._redact = redact

    def write(self, text: str) -> int:
        if self._stream is None:
            # started with the stream closed (`2>&-`, `>&-`): a message has nowhere to go and
            # is dropped, the exit code still says what happened; an answer that cannot be
            # written is an output lost (exit 2), never a crash that exits 1
            if self._redact:
                return len(text)
            raise OutputUnwritable("the standard output is closed")
        if self._redact:
            from protocol.identifiers import redacted

            text = redacted(text)
        text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)
        encoding = getattr(self._stream, "encoding", None) or "utf-8"
        try:
            text.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            text = text.encode(encoding, "trialbook-ascii").decode(encoding, "replace")
        if self.closed_by_reader:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
            return len(text)
        except OSError as exc:  # a full disk, /dev/full: the output is lost, not a bug
            raise OutputUnwritable(exc.strerror or str(exc)) from None

    def flush(self) -> None:
        if self._stream is not None and not self.closed_by_reader:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_gone()
            except OSError as exc:
                raise OutputUnwritable(exc.strerror or str(exc)) from None

    def _reader_gone(self) -> None:
        import os

        self.closed_by_reader = True
        # later writes (and Python's flush at exit) go nowhere instead of failing
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


#: Lines of bad input shown before the rest are counted in one line.
MAX_ERROR_LINES = 50


def _bad_input(exc: Exception) -> int:
    """Report bad input: one line per problem, each naming the file and the field."""
    from protocol.errors import ProtocolDataError

    if isinstance(exc, ProtocolDataError):
        for problem in exc.problems[:MAX_ERROR_LINES]:
            print(f"error: {exc.source}: {problem}", file=sys.stderr)
        # a table of 10,000 unknown columns: 50 lines and a count, not 10,000 lines
        if len(exc.problems) > MAX_ERROR_LINES:
            print(
                f"error: {exc.source}: {len(exc.problems) - MAX_ERROR_LINES} more problems of "
                "the same input not shown; correct these first",
                file=sys.stderr,
            )
    else:
        print(f"error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _withheld(data: Any) -> Any:
    """``data`` with every text in it redacted (protocol.identifiers.redacted): a registry
    record's contact phone, e-mail or ID number that a version added or changed is shown as
    "(withheld)", as registry-check shows it; the JSON stays valid."""
    from protocol.identifiers import redacted

    if isinstance(data, str):
        return redacted(data)
    if isinstance(data, dict):
        return {_withheld(key): _withheld(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_withheld(item) for item in data]
    return data


def _json(data: Any) -> str:
    """Strict JSON (no NaN or Infinity); escaped as \\uXXXX where the terminal cannot show a
    character, so the output stays valid JSON whatever the encoding."""
    import json

    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(data, ensure_ascii=True, indent=2, allow_nan=False)
    return text


def _chosen_study(args: argparse.Namespace) -> Any:
    """The study named by ``--study FILE`` (schema-validated), or None for the project's.

    A version that disagrees with the stored registry record (an amendment the record does not
    show yet) is still used: one warning line on stderr names the facts that differ.
    Raises ProtocolDataError (exit 2) when the file is not a valid study.
    """
    path = getattr(args, "study", None)
    if path is None:
        return None
    from protocol.errors import ProtocolDataError
    from protocol.registry_check import cross_check
    from protocol.screening import rule_problems
    from protocol.study import load_study

    study = load_study(path)
    unbound = rule_problems(study)
    if unbound:
        raise ProtocolDataError(str(path), unbound)
    mismatches = cross_check(study)
    if mismatches:
        differing = ", ".join(m.yaml_path for m in mismatches)
        print(
            f"warning: {path} differs from the stored registry record or the published values "
            f"(protocol/registry/published.yaml) in {len(mismatches)} "
            f"fact(s): {differing}; running with it",
            file=sys.stderr,
        )
    return study


def _registry_check(args: argparse.Namespace) -> int:
    from protocol.errors import ProtocolDataError
    from protocol.registry_check import (
        PUBLISHED_PATH,
        RECORD_PATH,
        PublishedMismatch,
        cross_check,
        load_record,
        published_count,
        registry_fact_count,
    )
    from protocol.study import STUDY_PATH, load_study

    study_path = args.study or STUDY_PATH
    record_path = args.record or RECORD_PATH
    from protocol.screening import refuse_rules_cannot_apply

    try:
        study = load_study(study_path)
        # a study the rules cannot carry out is no valid study, whatever the record says
        refuse_rules_cannot_apply(study, str(study_path))
        record = load_record(record_path)
        # a record of another study is refused here too (exit 2), never compared field by field
        mismatches = cross_check(study, record, source=str(record_path))
    except ProtocolDataError as exc:
        return _bad_input(exc)
    if mismatches:
        published = any(isinstance(m, PublishedMismatch) for m in mismatches)
        print(
            f"{study_path} disagrees with {record_path}"
            + (f" or the published values ({PUBLISHED_PATH.name})" if published else "")
            + f" in {len(mismatches)} place(s):",
            file=sys.stderr,
        )
        for mismatch in mismatches:
            print(f"  - {mismatch}", file=sys.stderr)
        return EXIT_FAIL
    if not args.quiet:
        print(
            f"{study_path}: schema valid; {registry_fact_count(study)} registry facts and "
            f"{len(study.criteria)} criteria agree with {record_path}, and "
            f"{published_count(study)} published values with {PUBLISHED_PATH.name}"
        )
    return EXIT_OK


def _lab(args: argparse.Namespace) -> int:

    from protocol.errors import ProtocolDataError
    from protocol.labs import LabInputError, check_lab_where_decided

    if (args.uln is None) != (args.uln_unit is None):
        print("error: --uln takes a value and a unit, e.g. --uln 40 U/L", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        study = _chosen_study(args)
    except ProtocolDataError as exc:
        return _bad_input(exc)
    try:
        # as screen reads it (creatinine at the nearest age IN01 admits, a value decided
        # without the ULN, age or sex where every completion agrees): the two never disagree
        result = check_lab_where_decided(
            args.analyte,
            args.value,
            args.unit,
            uln=args.uln,
            uln_unit=args.uln_unit,
            age=args.age,
            sex=args.sex,
            study=study,
        )
    except LabInputError as exc:
        return _bad_input(exc)
    if args.json:
        print(_json(result.to_json()))
    else:
        print(result.reason)
    return lab_exit_code(result)


def lab_exit_code(result: Any) -> int:
    """`trialbook lab`'s exit code for a result: 1 when the value meets the exclusion, else 0
    (the book's lab chapter shows it from here, never a second copy of the rule)."""
    return EXIT_FAIL if result.status == "fail" else EXIT_OK


#: The lists of a washout file, in a reader's words.
_LEFT_OUT_WORDS = {
    "medications": "medicines",
    "events": "vaccines, infections, surgery and investigational drugs",
}


def _washout(args: argparse.Namespace) -> int:

    from protocol.errors import ProtocolDataError
    from protocol.washout import check_washout, dates_beyond_the_calendar, load_washout_input

    try:
        study = _chosen_study(args)
        data = load_washout_input(args.file, args.randomization, study)
        result = check_washout(data, study)
        beyond = dates_beyond_the_calendar(result)
        if beyond:
            raise ProtocolDataError(args.file, beyond)
    except ProtocolDataError as exc:
        return _bad_input(exc)
    # a list the file leaves out is read as empty (the answer is of the entries given), and the
    # answer says so: what it did not check is not cleared
    left_out = [key for key in ("medications", "events") if key not in data.model_fields_set]
    if args.json:
        print(_json(result.to_json() | {"lists_left_out": left_out}))
    else:
        print(f"Planned randomization: {result.planned_randomization}")
        if result.screening:
            print(f"Screening: {result.screening}")
        for entry in result.entries:
            print(f"[{entry.status.upper():7}] {entry.reason}")
            for note in entry.notes:
                print(f"          note: {note}")
        print(result.summary)
        for key in left_out:
            print(
                f"Not checked: {_LEFT_OUT_WORDS[key]}, as the file has no {key} list (write "
                f"{key}: [] to say there are none)."
            )
    return {"pass": EXIT_OK, "fail": EXIT_FAIL, "unknown": EXIT_INCOMPLETE}[result.status]


def _screen(args: argparse.Namespace) -> int:

    from protocol.errors import ProtocolDataError
    from protocol.participant import load_record
    from protocol.reports import format_markdown, format_text
    from protocol.screening import dates_beyond_the_calendar, screen

    try:
        study = _chosen_study(args)
        record = load_record(args.file)
        result = screen(record, study, source=args.file)
        # a date the report would print beyond 2100 (or before 1900) is refused, as washout
        # refuses it
        beyond = dates_beyond_the_calendar(result, record)
        if beyond:
            raise ProtocolDataError(args.file, beyond)
    except ProtocolDataError as exc:
        return _bad_input(exc)
    if args.format == "json":
        print(_json(result.to_json()))
    elif args.format == "markdown":
        print(format_markdown(result))
    else:
        print(format_text(result, record))
    return {"eligible": EXIT_OK, "not_eligible": EXIT_FAIL, "incomplete": EXIT_INCOMPLETE}[
        result.verdict
    ]


def _schema(args: argparse.Namespace) -> int:
    import json

    from protocol.participant import json_schema

    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _lint(args: argparse.Namespace) -> int:
    from protocol.errors import ProtocolDataError
    from protocol.lint import format_findings, lint

    try:
        study = _chosen_study(args)
    except ProtocolDataError as exc:
        return _bad_input(exc)
    findings = lint(study)
    print(format_findings(findings))
    return EXIT_FAIL if any(f.is_new for f in findings) else EXIT_OK


def _calendar(args: argparse.Namespace) -> int:
    from dosing.calendar import (
        ASSUMPTION_NOTE,
        CalendarFileError,
        build_calendar,
        write_calendar_files,
    )
    from protocol.errors import ProtocolDataError

    randomization = args.randomization
    try:
        study = _chosen_study(args)
        calendar = build_calendar(args.arm, randomization, study)
        participant = _participant_code(args.participant)
        # every target is checked before anything is written; each file is replaced atomically
        written = write_calendar_files(
            calendar,
            args.csv,
            args.ics,
            force=args.force,
            inputs=(args.study,),
            participant=participant,
        )
    except CalendarFileError as exc:  # one line per refused or unwritten file
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ProtocolDataError as exc:
        return _bad_input(exc)
    print(f"NCT06375005 calendar: {calendar.arm.label.value}, randomization {randomization}")
    print(ASSUMPTION_NOTE)
    for regimen in calendar.regimens:
        count = regimen.administration_count
        first = min(d.date for d in calendar.doses if d.intervention == regimen.name)
        last = max(d.date for d in calendar.doses if d.intervention == regimen.name)
        print(f"{regimen.name} {regimen.dose:~P} x {count} ({first} to {last})")
    print()
    print(f"{'date':10}  {'kind':5}  {'what':45}  window")
    for row in calendar.rows(daily_detail=args.all_doses):
        print(f"{row['date']:10}  {row['kind']:5}  {row['what']:45}  {row['window']}")
    if not args.all_doses:
        print("(twice-daily oral doses are listed with --all-doses, and in the CSV)")
    for path in written:
        print(f"wrote {path}")
    if args.ics and participant is None:
        print(
            "note: without --participant, this file's events are named by the arm and date "
            "alone: a calendar holding another participant randomized that day to this arm "
            "would keep one participant's events; give --participant CODE",
            file=sys.stderr,
        )
    return EXIT_OK


def _participant_code(code: str | None) -> str | None:
    """A participant's pseudonymous code, read as a record's is (never a name, a date, a phone
    or ID card number); bad input otherwise."""
    if code is None:
        return None
    from pydantic import ValidationError

    from protocol.errors import Problem, ProtocolDataError
    from protocol.participant import ParticipantRecord

    try:
        ParticipantRecord.model_validate({"participant": code})
    except ValidationError as exc:
        from protocol.identifiers import CODE_EXPECTED, IDENTIFYING

        said = {e["msg"].removeprefix("Value error, ") for e in exc.errors()}
        placeholder = next((m for m in said if "stands for none" in m), None)
        # the record's own reason where it is one of these two; else what a code is
        why = (
            IDENTIFYING
            if IDENTIFYING in said
            else f"expected {placeholder}"
            if placeholder
            else f"expected {CODE_EXPECTED}"
        )
        raise ProtocolDataError(
            "trialbook calendar",
            [
                Problem(
                    why,
                    path="argument --participant",
                    found="(withheld)",
                )
            ],
        ) from None
    return code


def _prescreen(args: argparse.Namespace) -> int:
    from dosing.calendar import CalendarFileError
    from prescreen.outputs import write_outputs
    from prescreen.run import prescreen, template_csv
    from protocol.errors import ProtocolDataError

    if args.template:
        # the empty table is printed on its own: an option beside it would be silently unused
        # (a table not read, a folder with nothing written in it)
        beside = [
            name
            for name, value in (
                ("TABLE", args.table),
                ("--map", args.map),
                ("--as-of", args.as_of),
                ("--out", args.out),
                ("--force", args.force or None),
                ("--study", args.study),
            )
            if value is not None
        ]
        if beside:
            print(
                f"error: trialbook prescreen: --template with {', '.join(beside)}: the empty "
                "table is printed on its own; expected --template alone (redirect it to a "
                "file: trialbook prescreen --template > candidates.csv)",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        # through the guarded stream: a full disk is exit 2, a reader gone is quiet
        sys.stdout.write(template_csv().decode("utf-8"))
        return EXIT_OK
    if args.map == "":  # an empty name, not "no mapping"
        print("error: trialbook prescreen: --map = '': expected a mapping file", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.table:  # none, or an empty name (which would read the current folder)
        print(
            "error: trialbook prescreen: TABLE = "
            + ("''" if args.table == "" else "none")
            + ": a .csv, .xlsx or .parquet file is needed (or --template)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if args.out in ("", "-"):  # an empty name, not the default folder; '-' is no folder
        why = " (the files are not written to the screen)" if args.out == "-" else ""
        print(
            f"error: trialbook prescreen: --out = {args.out!r}: expected a folder name{why}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path(f"{Path(args.table).stem}-prescreen")
    try:
        study = _chosen_study(args)
        refused = _unwritable_folder(out, (args.table, args.map, args.study))
        if refused:  # before the table is read: a long run would end in nothing written
            print(f"error: --out {str(out)!r}: {refused}", file=sys.stderr)
            return EXIT_BAD_INPUT
        progress = _progress_bar(len((study or _default_study()).criteria))
        run = prescreen(args.table, args.map, args.as_of, study, progress)
        progress.close()  # type: ignore[attr-defined]
        try:
            out.mkdir(exist_ok=True)
        except OSError as exc:
            print(
                f"error: --out {str(out)!r}: the folder cannot be made ({exc.strerror or exc}); "
                "expected a folder that can be written; nothing was written",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        written = write_outputs(
            run.files, out, force=args.force, inputs=(args.table, args.map, args.study)
        )
    except CalendarFileError as exc:  # an output refused or not written
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ProtocolDataError as exc:
        return _bad_input(exc)
    candidates = run.evaluation.candidates
    for problem in candidates.problems[:50]:
        print(f"warning: {args.table}: {problem}", file=sys.stderr)
    if len(candidates.problems) > 50:
        more = len(candidates.problems) - 50
        print(
            f"warning: {args.table}: {more} more problem{'' if more == 1 else 's'} in problems.csv",
            file=sys.stderr,
        )
    count = len(candidates)
    print(
        f"NCT06375005 pre-screening of {count} candidate{'' if count == 1 else 's'}, as of "
        f"{run.evaluation.as_of}"
    )
    for outcome, count in sorted(run.counts.items()):
        print(f"  {outcome}: {count}")
    print("Pre-screening only: a likely eligible candidate is confirmed at the screening visit.")
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from dosing.calendar import CalendarFileError
    from exports.common import ExportError
    from exports.run import FORMATS, exports, write_exports
    from protocol.errors import ProtocolDataError

    unknown = [f for f in args.formats if f != "all" and f not in FORMATS]
    if unknown:
        print(
            f"error: trialbook export: unknown format {unknown[0]!r}; expected one of "
            f"{', '.join(FORMATS)} or all",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    out = Path(args.out)
    try:  # '-' names no folder, even where one is called so (the files are not written out)
        is_folder = bool(args.out) and args.out != "-" and out.is_dir()
    except OSError:  # a name too long, or one the system cannot examine
        is_folder = False
    if not is_folder:
        print(f"error: --out {args.out!r} is not an existing folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        study = _chosen_study(args)
        _refuse_personal_data(study, args.study or "protocol/study.yaml")
        found = exports(args.formats, study)
    except ProtocolDataError as exc:
        return _bad_input(exc)
    except ExportError as exc:  # a fact the format cannot carry
        source = args.study or "protocol/study.yaml"
        print(f"error: {source}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    invalid = [e for e in found if not e.valid]
    for export in found:
        verdict = "valid" if export.valid else f"{len(export.findings)} problem(s)"
        print(f"{export.format}: {verdict} ({'; '.join(export.validators)})")
        for finding in export.findings[:20]:
            print(f"  {finding}")
    if invalid:
        print("nothing written: an export a validator refuses is not published", file=sys.stderr)
        return EXIT_FAIL
    try:
        from protocol.study import STUDY_PATH

        written = write_exports(found, out, force=args.force, inputs=[args.study or STUDY_PATH])
    except CalendarFileError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _refuse_personal_data(study: Any | None, source: str) -> None:
    """A phone number, ID card number or e-mail address in any text of the study (a site's
    name with its investigator's mobile) is refused before an export publishes it: the
    exports go into the book's appendix and to registries, where `diff` and `registry-check`
    print such a value withheld. Named by its field, never its value."""
    from protocol.documents import personal_data_problems
    from protocol.errors import ProtocolDataError
    from protocol.study import load_study

    problems = personal_data_problems((study or load_study()).model_dump(mode="json"))
    if problems:
        raise ProtocolDataError(source, problems)


def _diff(args: argparse.Namespace) -> int:
    from protocol.amendments import diff, format_markdown, format_text, to_json
    from protocol.errors import ProtocolDataError

    records = None
    if args.records is not None:
        folder = Path(args.records)
        try:
            is_folder = folder.is_dir()
        except OSError:  # a name too long for the system: no folder of that name
            is_folder = False
        if not args.records.strip() or not is_folder:
            print(f"error: --records {args.records!r} is not a folder", file=sys.stderr)
            return EXIT_BAD_INPUT
        records = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json")
        )
        if not records:
            print(
                f"error: --records {args.records!r}: no .yaml or .json record in it",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
    from dosing.calendar import calendar_moves
    from protocol.amendments import DateMove

    try:
        result = diff(args.old, args.new, records)
    except ProtocolDataError as exc:
        return _bad_input(exc)
    # the dosing calendar of a participant randomized on a synthetic date, under both versions
    randomization = date(2025, 3, 17)
    result.dates += [
        DateMove(f"calendar of arm {arm} (randomized {randomization})", "visit or dose", a, b)
        for arm, a, b in calendar_moves(result.old.study, result.new.study, randomization)
    ]
    # a study's texts (a site's name and telephone, a summary) are shown as registry-check
    # shows them: what identifies a person withheld
    if args.format == "json":
        print(_json(_withheld(to_json(result))))
    elif args.format == "markdown":
        # read without Markdown's escapes (an e-mail before "\]" is not read as one), which
        # stand back where they were
        shown = _withheld(format_markdown(result).replace("\\", "\x00"))
        print(shown.replace("\x00", "\\"))
    else:
        print(_withheld(format_text(result)))
    return EXIT_FAIL if result.changed else EXIT_OK


def _registry_diff(args: argparse.Namespace) -> int:
    from protocol.amendments import format_registry_changes, registry_changes
    from protocol.errors import ProtocolDataError
    from protocol.registry_check import load_record, refuse_mistyped_record

    try:
        old, new = load_record(args.old), load_record(args.new)
        # the fields the study reads, held to their JSON types as registry-check holds them
        study = _default_study()
        refuse_mistyped_record(study, old, args.old)
        refuse_mistyped_record(study, new, args.new)
    except ProtocolDataError as exc:
        return _bad_input(exc)
    old_id = old.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
    new_id = new.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
    if old_id != new_id:
        print(
            f"error: {args.new}: nctId = {new_id!r}: the same study as {args.old} "
            f"({old_id!r}) was expected",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    changes = registry_changes(old, new)
    # what a record holds of a person (a site contact's phone, an e-mail) is never printed
    if args.json:
        found = [{"path": c.path, "old": c.old, "new": c.new, "kind": c.kind} for c in changes]
        print(_json(_withheld(found)))
    else:
        print(_withheld(format_registry_changes(args.old, args.new, changes)))
    return EXIT_FAIL if changes else EXIT_OK


def _default_study() -> Any:
    from protocol.study import load_study

    return load_study()


def _unwritable_folder(out: Path, inputs: Sequence[str | None]) -> str:
    """Why the output folder cannot take the files (the empty text when it can): checked before
    a table is read, so a long run never ends in an error about where to write. An output that
    would replace an input (the table saved as worklist.csv in the folder) is refused here too,
    whatever --force says (and again as the files are written)."""
    try:
        return _unwritable_folder_checked(out, inputs)
    except OSError as exc:  # a name too long for the system, a folder that cannot be read
        return (
            f"cannot be examined ({exc.strerror or exc}); expected a folder name the system "
            "accepts, in a folder this user can read"
        )


def _unwritable_folder_checked(out: Path, inputs: Sequence[str | None]) -> str:
    from dosing.calendar import _same_file, protected_files, writable_folder
    from prescreen.outputs import OUTPUT_FILES

    if out.is_dir():
        if not writable_folder(out):
            return "the folder cannot be written; expected a folder this user can write in"
        kept = [("the input", g, "of this run") for g in inputs if g]
        kept += [("the project's", str(p), "source of truth") for p in protected_files()]
        for name in OUTPUT_FILES:
            for what, given, whose in kept:
                if _same_file(str(out / name), given):
                    return (
                        f"its {name} is {what} {whose} {given!r}; expected another "
                        "folder (it is never overwritten, even with --force)"
                    )
        linked = [name for name in OUTPUT_FILES if (out / name).is_symlink()]
        if linked:  # written through, it would replace a file elsewhere
            return (
                f"its {linked[0]} is a symbolic link (to {os.readlink(out / linked[0])!r}); "
                "expected the folder's own files (a link is never written through, even with "
                "--force)"
            )
        return ""
    if os.path.lexists(out):  # a file, or a link to nothing
        return "is not a folder; expected a folder (it is made if it does not exist)"
    parent = out.parent
    if not parent.is_dir():
        what = "is not a folder" if os.path.lexists(parent) else "does not exist"
        return f"its folder {str(parent)!r} {what}; expected an existing folder to make it in"
    if not writable_folder(parent):
        return (
            f"its folder {str(parent)!r} cannot be written; expected a folder this user can "
            "make it in"
        )
    return ""


def _progress_bar(total: int) -> Any:
    """A bar on a terminal (stderr) over the criteria; nothing when stderr is not a terminal."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        desc="criteria",
        unit="criterion",
        # the terminal itself: the bar redraws with carriage returns, which the command's own
        # stream shows escaped (its text is the bar's, never a cell's)
        file=getattr(sys.stderr, "_stream", sys.stderr),
        disable=not sys.stderr.isatty(),
        leave=False,
    )

    def step(_criterion: str) -> None:
        bar.update(1)

    step.close = bar.close  # type: ignore[attr-defined]
    return step


def _analyte_names() -> str:
    """The analytes of study.yaml, as `lab` accepts them (never a second, typed list)."""
    from protocol.errors import ProtocolDataError
    from protocol.study import load_study

    try:
        entries = load_study().lab_analytes
    except ProtocolDataError:  # the command that runs will report it (exit 2)
        return "those of study.yaml"
    return ", ".join(
        entry.name + (" (needs --age and --sex)" if entry.computes else "") for entry in entries
    )


def _arm_names() -> str:
    """The arms of study.yaml as `calendar --arm` takes them: id or label."""
    from protocol.errors import ProtocolDataError
    from protocol.study import load_study

    try:
        arms = load_study().arms
    except ProtocolDataError:  # the command that runs will report it (exit 2)
        return "its id or label in study.yaml"
    # argparse formats help with %: a label holding one is shown as written
    return " or ".join(f"{arm.id} ({arm.label.value!r})" for arm in arms).replace("%", "%%")


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[..., int]]]:
    parser = _Parser(
        prog="trialbook",
        description="Calculators of the NCT06375005 protocol book (synthetic examples only).",
        epilog=EXIT_CODES_HELP + ". --debug (anywhere) shows the traceback of an internal error.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers: dict[str, Callable[..., int]] = {}

    check = commands.add_parser(
        "registry-check",
        help="validate study.yaml and cross-check its registry facts against the stored record",
        description="Exit 0 when study.yaml is valid and agrees with the record, 1 when it "
        "disagrees (each difference is listed), 2 when a file is malformed.",
    )
    check.add_argument("--study", help="a study.yaml to check (default: the project's)")
    check.add_argument("--record", help="a stored API v2 record (default: the project's)")
    check.add_argument("--quiet", action="store_true", help="print nothing when all agree")
    handlers["registry-check"] = _registry_check

    lab = commands.add_parser(
        "lab",
        help="check one lab value against its protocol threshold, in any unit",
        description="Exit 0 when the value passes, 1 when it meets the exclusion, 2 on bad "
        f"input. Analytes: {_analyte_names()}.",
        epilog="examples: trialbook lab hemoglobin 78 g/L | trialbook lab alt 95 U/L --uln 40 "
        "U/L | trialbook lab creatinine 88 umol/L --age 55 --sex female --json",
    )
    lab.add_argument("analyte", help="canonical analyte name, e.g. hemoglobin")
    lab.add_argument("value", help="the value as reported, e.g. 78")
    lab.add_argument("unit", help="its unit as reported, e.g. g/L, umol/L, x10^9/L, IU/L")
    lab.add_argument(
        "--uln", nargs=2, metavar=("VALUE", "UNIT"), help="the site's upper limit of normal"
    )
    lab.add_argument("--age", help="age in years (creatinine -> eGFR)")
    lab.add_argument("--sex", help="female or male (creatinine -> eGFR)")
    lab.add_argument("--json", action="store_true", help="print one JSON object")
    lab.add_argument("--study", help=STUDY_HELP)
    lab.set_defaults(uln_unit=None)
    handlers["lab"] = _lab

    washout = commands.add_parser(
        "washout",
        help="prohibited medicines and events: the earliest date randomization is allowed",
        description="Exit 0 when everything passes on the planned date, 1 when something fails, "
        "3 when something is unknown and nothing fails, 2 on bad input.",
        epilog="example: trialbook washout examples/washout-synthetic.yaml --json",
    )
    washout.add_argument(
        "file", help="YAML or JSON: planned_randomization, screening, medications, events"
    )
    washout.add_argument(
        "--randomization",
        type=_iso_date,
        help="planned randomization date (YYYY-MM-DD), overriding the file's",
    )
    washout.add_argument("--json", action="store_true", help="print one JSON object")
    washout.add_argument("--study", help=STUDY_HELP)
    handlers["washout"] = _washout

    screen = commands.add_parser(
        "screen",
        help="check all 37 criteria on one participant record",
        description="Exit 0 eligible, 1 not eligible, 3 incomplete (unknowns), 2 bad input.",
        epilog="example: trialbook screen book/cases/case01-eligible.yaml --format json",
    )
    screen.add_argument("file", help="the participant record (YAML or JSON)")
    screen.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    screen.add_argument("--study", help=STUDY_HELP)
    handlers["screen"] = _screen

    calendar = commands.add_parser(
        "calendar",
        help="every dose and visit of one participant, as a table, CSV or iCalendar file",
        description="Exit 0 when done, 2 on bad input (an unknown arm, a date that is not a "
        "date, an output path that is a folder, missing, a pipe or a device, the same path for "
        "--csv and --ics, an existing file without --force). Every output is checked before "
        "anything is written, and each file is replaced atomically.",
        epilog="example: trialbook calendar --arm telitacicept --randomization 2025-03-17 "
        "--ics syn-01.ics",
    )
    calendar.add_argument(
        "--arm",
        required=True,
        help=f"the arm: {_arm_names()}, or the medicines it gives (telitacicept; MMF + "
        "telitacicept), each name whole, any case",
    )
    calendar.add_argument(
        "--randomization", required=True, type=_iso_date, help="randomization date, day 1"
    )
    calendar.add_argument("--csv", help="write every dose and visit to this CSV file")
    calendar.add_argument(
        "--ics", help="write visits, injections and the oral MMF course to this iCalendar file"
    )
    calendar.add_argument(
        "--participant",
        help="the participant's pseudonymous code, in each iCalendar event's ID and title "
        "(events of participants randomized the same day stay apart in one calendar)",
    )
    calendar.add_argument("--force", action="store_true", help="overwrite existing files")
    calendar.add_argument("--study", help=STUDY_HELP)
    calendar.add_argument(
        "--all-doses", action="store_true", help="list every oral dose on screen too"
    )
    handlers["calendar"] = _calendar

    commands.add_parser("schema", help="print the participant record's JSON Schema")
    handlers["schema"] = _schema

    lint = commands.add_parser(
        "lint",
        help="logic check over the criteria: redundant, conflicting or ambiguous ones",
        description="Exit 0 when every finding is in the protocol issues log, 1 when a finding "
        "is new.",
    )
    lint.add_argument("--study", help=STUDY_HELP)
    handlers["lint"] = _lint

    registry_diff = commands.add_parser(
        "registry-diff",
        help="what a registry record changed between two stored versions, field by field",
        description="Two ClinicalTrials.gov API v2 records of the same study (JSON), compared "
        "field by field: how amendments reach the public. Exit 0 no change, 1 changes, 2 bad "
        "input.",
    )
    registry_diff.add_argument("old", help="the earlier record (JSON)")
    registry_diff.add_argument("new", help="the later record (JSON)")
    registry_diff.add_argument("--json", action="store_true", help="print a JSON list")
    handlers["registry-diff"] = _registry_diff

    compare = commands.add_parser(
        "diff",
        help="what changed between two versions of study.yaml, and which records it affects",
        description="Facts (unit-aware: 4 week = 28 day), criteria (added, removed, renumbered, "
        "word changes) and the worked records whose screening changes. OLD and NEW are files "
        "or git revisions of protocol/study.yaml (e.g. HEAD~3). Exit 0 no change, 1 changes "
        "found, 2 bad input.",
        epilog="example: trialbook diff HEAD~1 protocol/study.yaml --format markdown",
    )
    compare.add_argument("old", help="the earlier version: a file or a git revision")
    compare.add_argument("new", help="the later version: a file or a git revision")
    compare.add_argument("--records", help="a folder of participant records (default: the cases)")
    compare.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    handlers["diff"] = _diff

    pre = commands.add_parser(
        "prescreen",
        help="pre-screen a site's candidate list (CSV, Excel or Parquet): worklist, log, flow",
        description="Every criterion a table's columns can decide, for every candidate, with the "
        "rules of 'screen'. Writes worklist.csv/.xlsx, screening-log.csv, flow.svg and "
        "problems.csv in --out (none replaced without --force). Bad cells are reported by row "
        "and column and the rest is processed. Exit 0 when written, 2 when nothing can be "
        "processed.",
        epilog="example: trialbook prescreen candidates.csv --map mapping.yaml --as-of "
        "2026-12-01 --out prescreen/ | trialbook prescreen --template > empty.csv",
    )
    pre.add_argument("table", nargs="?", help="the candidate table (.csv, .xlsx or .parquet)")
    pre.add_argument("--map", help="a mapping file: which column holds which field, its unit")
    pre.add_argument("--as-of", type=_iso_date, help="the screening date assumed (default: today)")
    pre.add_argument("--out", help="the output folder (default: TABLE-prescreen)")
    pre.add_argument("--force", action="store_true", help="replace existing output files")
    pre.add_argument(
        "--template", action="store_true", help="print an empty table with every column"
    )
    pre.add_argument("--study", help=STUDY_HELP)
    handlers["prescreen"] = _prescreen

    export = commands.add_parser(
        "export",
        help="the protocol in the standards' formats (USDM, FHIR, ODM, SDTM), each validated",
        description="Builds each format from study.yaml and runs the standard's own validators "
        "offline. Writes only when every validator passes: exit 0 when written, 1 when a "
        "validator finds a problem (nothing written), 2 for bad input (none replaced without "
        "--force).",
        epilog="example: trialbook export all --out exports/ | trialbook export sdtm --out sdtm/",
    )
    export.add_argument(
        "formats", nargs="+", metavar="FORMAT", help="usdm, fhir, odm, sdtm, or all"
    )
    export.add_argument("--out", required=True, help="the output folder (it must exist)")
    export.add_argument("--force", action="store_true", help="replace existing files")
    export.add_argument("--study", help=STUDY_HELP)
    handlers["export"] = _export

    return parser, handlers


def command() -> int:
    """The ``trialbook`` console command: one command, then the process ends.

    Python's cycle collector is paused while the modules are imported and the study is read
    (objects that live for the whole run; scanning them again and again cost about 30 ms of a
    0.35 s ``screen``), and those objects are then frozen out of its reach. At the end, what is
    left is frozen too, so the interpreter's exit does not scan it once more (about 50 ms):
    the process ends and the system takes its memory back. ``main`` (what tests and other
    programs call, many times in one process) leaves the collector as it is.
    """
    global _ONE_COMMAND
    _ONE_COMMAND = True
    gc.disable()
    # the command's name: the first argument but --debug (which may come anywhere)
    if next((a for a in sys.argv[1:] if a != "--debug"), None) in ONE_RECORD_COMMANDS:
        _pint_without_numpy()
    try:
        return main()
    finally:
        gc.freeze()


#: The commands that read one record or one value: nothing in them is an array, and they never
#: load numpy (a test holds each to it), so pint is imported without it (see below).
ONE_RECORD_COMMANDS = frozenset({"screen", "lab", "washout", "calendar", "schema", "lint"})


def _pint_without_numpy() -> None:
    """Import pint as if numpy were not installed: pint imports numpy whenever it can (about 70
    ms, a sixth of a one-record command) for arrays a one-record command never has. numpy is
    hidden only while pint is imported, so a command that did need it would still load it (a
    scalar Quantity is the same either way)."""
    if "pint" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # Python's "not installed" mark
    try:
        import pint  # noqa: F401
    except ImportError:  # pint's own import failing: the command reports it as usual
        pass
    finally:
        del sys.modules["numpy"]


#: Set by ``command``: this process runs one command and ends (see there).
_ONE_COMMAND = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every outcome is one of the documented exit codes."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _SafeStream(sys.stdout), _SafeStream(sys.stderr, redact=True)
    terminated = _on_termination_clean_up()
    try:
        code = _run(argv)
        sys.stdout.flush()
        return code
    except OutputUnwritable as exc:
        return _unwritable(exc)
    finally:
        sys.stdout, sys.stderr = streams
        if terminated is not None:
            signal.signal(signal.SIGTERM, terminated)


def _on_termination_clean_up() -> Any:
    """A termination request (``kill``, a job scheduler's stop) unwinds the command as Ctrl-C
    does, so a half-staged output file is removed, never left beside the outputs; the exit
    status is 143 (128 + SIGTERM), as the shell reports a terminated command. The previous
    handler is returned (None where one cannot be set: not the main thread)."""

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:
        return None


def _run(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    dashed = _dashed_values(argv)
    if dashed:
        print(dashed, file=sys.stderr)
        return EXIT_BAD_INPUT
    if argv and argv[0] == "lab":  # -0 is 0: without its sign, argparse reads it as a value
        argv = [a[1:] if _DASHED_VALUE.match(a) and _is_zero(a) else a for a in argv]
    # everything from here, the parser included (it reads the study for the analytes' names),
    # ends in a documented exit code: never a traceback
    try:
        with warnings.catch_warnings():
            # a library's warning (numpy on a value the rules then refuse, a pandas notice) is
            # not for site staff: stderr holds the command's own lines; --debug shows them
            if not debug:
                warnings.simplefilter("ignore")
            parser, handlers = _build_parser()
            if _ONE_COMMAND:  # set-up done: its objects live until the process ends
                gc.freeze()
                gc.enable()
            try:
                args = parser.parse_args(argv)
            except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help
                return EXIT_OK if exc.code in (0, None) else EXIT_BAD_INPUT
            if not args.command:
                parser.print_help(sys.stderr)
                return EXIT_BAD_INPUT
            if getattr(args, "uln", None) is not None:
                args.uln, args.uln_unit = args.uln
            return handlers[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OutputUnwritable as exc:
        return _unwritable(exc)
    except Exception as exc:  # a bug: never a traceback, never an exit code that reads as a verdict
        if debug:
            import traceback

            traceback.print_exc()
        where = ""
        tb = exc.__traceback__
        while tb is not None:
            where = f" at {tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
            tb = tb.tb_next
        message = str(exc).splitlines()[0][:200] if str(exc) else ""
        print(
            f"internal error (a bug, not a verdict): {type(exc).__name__}: {message}{where}; "
            f"please report it with the command and its input to {REPORT_TO}"
            + ("" if debug else "; rerun with --debug for the details"),
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(command())
