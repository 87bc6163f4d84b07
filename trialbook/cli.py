"""`trialbook`: the protocol book's calculators for site staff and maintainers.

Exit codes (DESIGN.md): 0 done / passes, 1 fails (not eligible, a mismatch), 3 incomplete
(unknowns), 2 bad input or usage. Heavy modules are imported inside each command so that
``trialbook --help`` and a single check start quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3


def _iso_date(text: str) -> date:
    """An argparse type: a YYYY-MM-DD date, or a usage error (exit 2) saying so."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _registry_check(args: argparse.Namespace) -> int:
    from protocol.errors import ProtocolDataError
    from protocol.registry_check import RECORD_PATH, cross_check, load_record, registry_fact_count
    from protocol.study import STUDY_PATH, load_study

    study_path = args.study or STUDY_PATH
    record_path = args.record or RECORD_PATH
    try:
        study = load_study(study_path, check_registry=False)
        record = load_record(record_path)
    except ProtocolDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    mismatches = cross_check(study, record)
    if mismatches:
        print(
            f"{study_path} disagrees with {record_path} in {len(mismatches)} place(s):",
            file=sys.stderr,
        )
        for mismatch in mismatches:
            print(f"  - {mismatch}", file=sys.stderr)
        return EXIT_FAIL
    if not args.quiet:
        print(
            f"{study_path}: schema valid; {registry_fact_count(study)} registry facts and "
            f"{len(study.criteria)} criteria agree with {record_path}"
        )
    return EXIT_OK


def _lab(args: argparse.Namespace) -> int:
    import json

    from protocol.labs import LabInputError, check_lab

    if (args.uln is None) != (args.uln_unit is None):
        print("error: --uln takes a value and a unit, e.g. --uln 40 U/L", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = check_lab(
            args.analyte,
            args.value,
            args.unit,
            uln=args.uln,
            uln_unit=args.uln_unit,
            age=args.age,
            sex=args.sex,
        )
    except LabInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(result.reason)
    return EXIT_FAIL if result.status == "fail" else EXIT_OK


def _washout(args: argparse.Namespace) -> int:
    import json

    from protocol.errors import ProtocolDataError
    from protocol.washout import check_washout, load_washout_input

    try:
        result = check_washout(load_washout_input(args.file, args.randomization))
    except ProtocolDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(f"Planned randomization: {result.planned_randomization}")
        if result.screening:
            print(f"Screening: {result.screening}")
        for entry in result.entries:
            print(f"[{entry.status.upper():7}] {entry.reason}")
            for note in entry.notes:
                print(f"          note: {note}")
        print(result.summary)
    return {"pass": EXIT_OK, "fail": EXIT_FAIL, "unknown": EXIT_INCOMPLETE}[result.status]


def _screen(args: argparse.Namespace) -> int:
    import json

    from protocol.errors import ProtocolDataError
    from protocol.participant import load_record
    from protocol.screening import format_markdown, format_text, screen

    try:
        record = load_record(args.file)
        result = screen(record, source=args.file)
    except ProtocolDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
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
    from protocol.lint import format_findings, lint

    findings = lint()
    print(format_findings(findings))
    return EXIT_FAIL if any(f.is_new for f in findings) else EXIT_OK


def _calendar(args: argparse.Namespace) -> int:
    from dosing.calendar import (
        ASSUMPTION_NOTE,
        build_calendar,
        calendar_csv,
        calendar_ics,
        check_writable,
        write_file,
    )
    from protocol.errors import ProtocolDataError

    randomization = args.randomization
    try:
        calendar = build_calendar(args.arm, randomization)
        for target in filter(None, (args.csv, args.ics)):  # refuse before writing anything
            check_writable(target, force=args.force)
        written = []
        if args.csv:
            written.append(write_file(args.csv, calendar_csv(calendar), force=args.force))
        if args.ics:
            written.append(write_file(args.ics, calendar_ics(calendar), force=args.force))
    except ProtocolDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
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
    return EXIT_OK


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[..., int]]]:
    parser = argparse.ArgumentParser(
        prog="trialbook",
        description="Calculators of the NCT06375005 protocol book (synthetic examples only).",
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
        "input. Analytes: hemoglobin, wbc, neutrophils, platelets, alt, ast, total_bilirubin, "
        "egfr, creatinine (needs --age and --sex), iga, igg, fvc, dlco.",
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
    handlers["washout"] = _washout

    screen = commands.add_parser(
        "screen",
        help="check all 37 criteria on one participant record",
        description="Exit 0 eligible, 1 not eligible, 3 incomplete (unknowns), 2 bad input.",
        epilog="example: trialbook screen book/cases/case01-eligible.yaml --format json",
    )
    screen.add_argument("file", help="the participant record (YAML or JSON)")
    screen.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    handlers["screen"] = _screen

    calendar = commands.add_parser(
        "calendar",
        help="every dose and visit of one participant, as a table, CSV or iCalendar file",
        description="Exit 0 when done, 2 on bad input (an unknown arm, a date that is not a "
        "date, an existing file without --force).",
        epilog="example: trialbook calendar --arm telitacicept --randomization 2025-03-17 "
        "--ics syn-01.ics",
    )
    calendar.add_argument("--arm", required=True, help="arm id or label (forgiving match)")
    calendar.add_argument(
        "--randomization", required=True, type=_iso_date, help="randomization date, day 1"
    )
    calendar.add_argument("--csv", help="write every dose and visit to this CSV file")
    calendar.add_argument("--ics", help="write visits and injections to this iCalendar file")
    calendar.add_argument("--force", action="store_true", help="overwrite existing files")
    calendar.add_argument(
        "--all-doses", action="store_true", help="list every oral dose on screen too"
    )
    handlers["calendar"] = _calendar

    commands.add_parser("schema", help="print the participant record's JSON Schema")
    handlers["schema"] = _schema

    commands.add_parser(
        "lint",
        help="logic check over the criteria: redundant, conflicting or ambiguous ones",
        description="Exit 0 when every finding is in the protocol issues log, 1 when a finding "
        "is new.",
    )
    handlers["lint"] = _lint

    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help
        return int(exc.code or 0)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    if getattr(args, "uln", None) is not None:
        args.uln, args.uln_unit = args.uln
    try:
        return handlers[args.command](args)
    except BrokenPipeError:  # output piped to `head`: stop quietly, as other commands do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
