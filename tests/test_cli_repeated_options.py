"""An option given twice, and an arm named from incomplete text, are refused (exit 2), never read
as a guess.

1. Every option of one value, of every command, given twice is refused with one line naming the
   option and both values, even when the two values are the same (which one was meant is a
   guess, and a repeat is usually an edit left half done). A flag given twice says the same
   thing twice and is harmless; two flags setting one setting differently are refused. Options
   that take several values (``export FORMAT...``, an ``append`` option) keep working.
2. ``calendar --arm`` takes an arm's id or label (case and surrounding spaces aside), or the
   medicines it gives joined by ``+``, ``,``, ``&``, ``/``, ``and`` or ``plus``, each a whole
   name: a sign or connective word with no name on one side ("MMF and", "+ mmf") names no arm.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trialbook.cli as cli
from dosing.calendar import CalendarInputError, resolve_arm
from protocol.study import load_study
from tests.conftest import REPO, examples
from trialbook.cli import main

WASHOUT_EXAMPLE = str(REPO / "examples" / "washout-synthetic.yaml")
ARMS = load_study().arms


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


# -- 1. an option given twice: the reported cases, run for real -------------------------------


@pytest.mark.parametrize(
    ("argv", "option", "first", "second"),
    [
        (
            [
                "lab",
                "creatinine",
                "1.6",
                "mg/dL",
                "--age",
                "60",
                "--sex",
                "male",
                "--sex",
                "female",
            ],
            "--sex",
            "male",
            "female",
        ),
        (
            [
                "lab",
                "creatinine",
                "1.6",
                "mg/dL",
                "--age",
                "60",
                "--sex",
                "female",
                "--sex",
                "male",
            ],
            "--sex",
            "female",
            "male",
        ),
        (
            ["lab", "creatinine", "1.6", "mg/dL", "--age", "60", "--age", "30", "--sex", "male"],
            "--age",
            "60",
            "30",
        ),
        (
            ["lab", "alt", "60", "U/L", "--uln", "40", "U/L", "--uln", "30", "U/L"],
            "--uln",
            "40 U/L",
            "30 U/L",
        ),
        (
            ["lab", "alt", "60", "U/L", "--uln", "30", "U/L", "--uln", "40", "U/L"],
            "--uln",
            "30 U/L",
            "40 U/L",
        ),
        (
            ["lab", "hemoglobin", "8", "g/dL", "--json", "--study", "a.yaml", "--study", "b.yaml"],
            "--study",
            "a.yaml",
            "b.yaml",
        ),
        (
            [
                "washout",
                "{example}",
                "--randomization",
                "2025-03-17",
                "--randomization",
                "2025-06-02",
            ],
            "--randomization",
            "2025-03-17",
            "2025-06-02",
        ),
        (
            ["calendar", "--arm", "mmf", "--arm", "telitacicept", "--randomization", "2025-03-17"],
            "--arm",
            "mmf",
            "telitacicept",
        ),
        (
            [
                "calendar",
                "--arm",
                "mmf",
                "--randomization",
                "2025-03-17",
                "--randomization",
                "2025-03-18",
            ],
            "--randomization",
            "2025-03-17",
            "2025-03-18",
        ),
        # an abbreviation and the --option=value form are the same option
        (
            ["calendar", "--arm", "mmf", "--rand", "2025-03-17", "--randomization=2025-03-18"],
            "--randomization",
            "2025-03-17",
            "2025-03-18",
        ),
        # the same value twice is refused too: which edit was left half done is a guess
        (
            ["lab", "creatinine", "1.6", "mg/dL", "--age", "60", "--sex", "male", "--sex", "male"],
            "--sex",
            "male",
            "male",
        ),
        (
            ["screen", "book/cases/x.yaml", "--format", "json", "--format", "text"],
            "--format",
            "json",
            "text",
        ),
    ],
)
def test_an_option_given_twice_is_refused_naming_both_values(argv, option, first, second, capsys):
    assert main([a.replace("{example}", WASHOUT_EXAMPLE) for a in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = _one_error_line(captured.err)
    assert option in line and f"'{first}'" in line and f"'{second}'" in line
    assert line.index(f"'{first}'") < line.rindex(f"'{second}'")


def test_each_value_alone_still_decides(capsys):
    """The control: each of the two values given once is run (and they disagree)."""
    base = ["lab", "creatinine", "1.6", "mg/dL", "--age", "60"]
    assert main([*base, "--sex", "male"]) == 0
    assert main([*base, "--sex", "female"]) == 1


@pytest.mark.parametrize(
    "options",
    [
        ["--randomization", "2025-03-17", "--randomization", "2025-04-01", "--csv", "c.csv"],
        ["--randomization", "2025-03-17", "--csv", "one.csv", "--csv", "two.csv"],
        ["--randomization", "2025-03-17", "--ics", "one.ics", "--ics", "two.ics"],
        ["--randomization", "2025-03-17", "--csv", "c.csv", "--csv", "c.csv", "--force"],
    ],
)
def test_a_repeated_calendar_option_writes_no_file(options, tmp_path, capsys):
    files = [str(tmp_path / o) if o.endswith((".csv", ".ics")) else o for o in options]
    assert main(["calendar", "--arm", "telitacicept", *files]) == 2
    _one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_a_flag_given_twice_is_harmless(tmp_path, capsys):
    argv = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17"]
    csv = tmp_path / "c.csv"
    csv.write_text("old")
    assert main([*argv, "--csv", str(csv), "--force", "--force"]) == 0
    assert csv.read_text() != "old"
    assert main(["lab", "hemoglobin", "8", "g/dL", "--json", "--json"]) == 0


def test_export_still_takes_several_formats():
    parser, _ = cli._build_parser()
    args = parser.parse_args(["export", "usdm", "fhir", "sdtm", "--out", "x"])
    assert args.formats == ["usdm", "fhir", "sdtm"] and args.out == "x"
    assert not hasattr(args, cli._GIVEN)  # the record of what was given is no result


def test_a_future_option_is_covered_without_a_word(capsys):
    """A plain add_argument gets the check: nobody has to remember it."""
    parser = cli._Parser(prog="trialbook new")
    parser.add_argument("--dose")
    parser.add_argument("--doses", nargs="+")
    parser.add_argument("--note", action="append")  # several by design
    parser.add_argument("--text", dest="style", action="store_const", const="text")
    parser.add_argument("--json", dest="style", action="store_const", const="json")
    assert parser.parse_args(["--dose", "1", "--note", "a", "--note", "b"]).note == ["a", "b"]
    assert parser.parse_args(["--json", "--json"]).style == "json"
    for argv in (
        ["--dose", "1", "--dose", "2"],
        ["--doses", "1", "2", "--doses", "3"],
        ["--text", "--json"],
    ):
        with pytest.raises(SystemExit) as caught:
            parser.parse_args(argv)
        assert caught.value.code == 2
        line = _one_error_line(capsys.readouterr().err)
        assert argv[0] in line or argv[-1] in line


# -- 1. the property: every single-valued option of every command -----------------------------


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser, _ = cli._build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subparsers.choices)


def _takes_values(action: argparse.Action) -> bool:
    return bool(action.option_strings) and action.nargs != 0


COMMANDS = _commands()
SINGLE_VALUED = sorted(
    (name, action.option_strings[-1])
    for name, sub in COMMANDS.items()
    for action in sub._actions
    if _takes_values(action)
)
WORD = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/"),
    min_size=1,
    max_size=12,
)


def _values(action: argparse.Action) -> st.SearchStrategy[list[str]]:
    if action.choices:
        one: st.SearchStrategy[str] = st.sampled_from(sorted(action.choices))
    elif action.type is cli._iso_date:
        one = st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat)
    else:
        one = WORD
    count = action.nargs if isinstance(action.nargs, int) else 1
    return st.lists(one, min_size=count, max_size=count)


def _groups(draw, command: str, but: argparse.Action) -> tuple[list[str], list[list[str]]]:
    """A command line the parser takes: its positionals, then every required option once."""
    positionals: list[str] = []
    options: list[list[str]] = []
    for action in COMMANDS[command]._actions:
        if action is but:
            continue
        if not action.option_strings:
            positionals += draw(_values(action))
        elif action.required:
            options.append([action.option_strings[-1], *draw(_values(action))])
    return positionals, options


def test_the_options_of_the_report_are_among_those_drawn():
    assert {
        ("lab", "--sex"),
        ("lab", "--uln"),
        ("lab", "--age"),
        ("lab", "--study"),
        ("washout", "--randomization"),
        ("calendar", "--arm"),
        ("calendar", "--randomization"),
        ("calendar", "--csv"),
        ("screen", "--format"),
        ("diff", "--format"),
        ("prescreen", "--map"),
        ("prescreen", "--as-of"),
        ("prescreen", "--out"),
        ("export", "--out"),
    } <= set(SINGLE_VALUED)


@settings(
    max_examples=examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), pick=st.sampled_from(SINGLE_VALUED))
def test_any_single_valued_option_given_twice_is_refused(data, pick, capsys):
    """Whatever the command and its option, the second occurrence is refused before the command
    runs: with every command replaced by one that writes a file, nothing is written. The same
    line without the repeat reaches the command (the control)."""
    command, option = pick
    (action,) = [a for a in COMMANDS[command]._actions if option in a.option_strings]
    positionals, options = _groups(data.draw, command, but=action)
    first, second = data.draw(_values(action)), data.draw(_values(action))
    at = data.draw(st.integers(0, len(options)))  # the first anywhere among the options,
    options.insert(at, [option, *first])
    then = data.draw(st.integers(at + 1, len(options)))  # the second anywhere after it
    once = [command, *positionals, *(token for group in options for token in group)]
    options.insert(then, [option, *second])
    twice = [command, *positionals, *(token for group in options for token in group)]
    built = cli._build_parser

    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        reached = Path(folder) / "reached"

        def writes_a_file(args: argparse.Namespace) -> int:
            reached.write_text(repr(vars(args)))
            return 0

        def parser_of_stand_ins():
            parser, handlers = built()
            return parser, dict.fromkeys(handlers, writes_a_file)

        patch.setattr(cli, "_build_parser", parser_of_stand_ins)
        capsys.readouterr()
        assert main(once) == 0, capsys.readouterr().err
        reached.unlink()
        assert main(twice) == 2
        captured = capsys.readouterr()
        assert not reached.exists() and captured.out == ""
    line = _one_error_line(captured.err)
    assert option in line
    assert f"'{' '.join(first)}'" in line and f"'{' '.join(second)}'" in line
    assert line.index(f"'{' '.join(first)}'") < line.rindex(f"'{' '.join(second)}'")


# -- 2. an arm is named whole ------------------------------------------------------------------

VALID = "; ".join(f"{arm.id} ({arm.label.value})" for arm in ARMS)
NAMES = [(arm.id, name) for arm in ARMS for name in (arm.id, arm.label.value)]
#: Spellings the README, `calendar --help` and the tests document, and the arm each names.
DOCUMENTED = [
    ("telitacicept", "telitacicept_mmf"),
    ("Telitacicept", "telitacicept_mmf"),
    ("MMF + telitacicept", "telitacicept_mmf"),
    ("telitacicept + MMF", "telitacicept_mmf"),
    ("Telitacicept AND mycophenolate", "telitacicept_mmf"),
    ("MMF PLUS Telitacicept", "telitacicept_mmf"),
    ("MMF & telitacicept", "telitacicept_mmf"),
    ("MMF, telitacicept", "telitacicept_mmf"),
    ("Mycophenolate Mofetil Telitacicept", "telitacicept_mmf"),
    ("泰爱", "telitacicept_mmf"),
    ("RC18", "telitacicept_mmf"),
    ("mmf", "mmf"),
    ("MMF", "mmf"),
    ("Mycophenolate", "mmf"),
    ("mycophenolate mofetil", "mmf"),
]
SIGNS = ["+", "&", ",", "/", "-"]
WORDS = ["and", "plus", "with", "AND", "Plus"]


def test_the_study_has_the_arms_these_tests_name():
    assert {arm.id for arm in ARMS} == {"telitacicept_mmf", "mmf"}


@pytest.mark.parametrize(("arm", "name"), NAMES)
@pytest.mark.parametrize("spelled", [str, str.upper, str.lower, lambda n: f"  {n}\t"])
def test_each_arm_by_its_exact_id_or_label(arm, name, spelled):
    assert resolve_arm(spelled(name)).id == arm


@pytest.mark.parametrize(("typed", "arm"), DOCUMENTED)
def test_the_documented_spellings_still_name_their_arm(typed, arm):
    assert resolve_arm(typed).id == arm


def _dangling(name: str) -> list[str]:
    return [
        *(f"{name} {sign}" for sign in SIGNS),
        *(f"{name}{sign}" for sign in SIGNS),
        *(f"{sign} {name}" for sign in SIGNS),
        *(f"{name} {word}" for word in WORDS),
        *(f"{word} {name}" for word in WORDS),
        f"{name} +?",
        f"{name}.",
    ]


@pytest.mark.parametrize(
    "typed",
    [t for _, name in NAMES for t in _dangling(name)]
    + [t for name, _ in DOCUMENTED for t in _dangling(name)]
    + ["MMF + + telitacicept", "MMF and and telitacicept", "MMF, and telitacicept", "+", "and"],
)
def test_a_sign_or_connective_with_no_name_on_one_side_names_no_arm(typed):
    with pytest.raises(CalendarInputError) as caught:
        resolve_arm(typed)
    (problem,) = caught.value.problems
    assert caught.value.source == "--arm" and problem.startswith(repr(typed))
    assert problem.endswith(f"expected one of: {VALID}")
    assert "different drugs" not in problem


@pytest.mark.parametrize("typed", ["MMF + T", "MMF, not", "MMF +?", "MMF with telitacicept"])
def test_an_incomplete_or_unknown_name_is_refused_without_a_foreign_reason(typed):
    """'MMF + T' was refused as if MMF were the name the registry gives two drugs (PI04)."""
    with pytest.raises(CalendarInputError) as caught:
        resolve_arm(typed)
    (problem,) = caught.value.problems
    assert problem.endswith(f"expected one of: {VALID}") and "PI04" not in problem


@pytest.mark.parametrize("typed", ["Taiai", "Tai'ai", "taiai + mmf"])
def test_a_name_the_registry_gives_two_drugs_still_says_so(typed):
    with pytest.raises(CalendarInputError, match=r"different drugs \(PI04\)"):
        resolve_arm(typed)


@pytest.mark.parametrize("typed", ["MMF and", "MMF plus", "and MMF", "MMF +", "MMF with"])
def test_the_command_refuses_a_dangling_connective(typed, tmp_path, capsys):
    csv = tmp_path / "c.csv"
    argv = ["calendar", "--arm", typed, "--randomization", "2025-03-17", "--csv", str(csv)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not csv.exists()
    line = _one_error_line(captured.err)
    assert "--arm" in line and repr(typed) in line
    assert all(arm.id in line and arm.label.value in line for arm in ARMS)


@pytest.mark.parametrize(("arm", "name"), NAMES)
def test_the_command_takes_each_exact_name(arm, name, capsys):
    assert main(["calendar", "--arm", name, "--randomization", "2025-03-17"]) == 0
    label = next(a.label.value for a in ARMS if a.id == arm)
    assert f"NCT06375005 calendar: {label}, randomization 2025-03-17" in capsys.readouterr().out


def test_the_help_lists_the_arms(capsys):
    assert main(["calendar", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(arm.id in help_text and arm.label.value in help_text for arm in ARMS)
