"""`trialbook calendar`."""

from __future__ import annotations

import errno
import os
import re
import stat
from datetime import date, timedelta

import pytest
from icalendar import Calendar as ICalendar

from dosing.calendar import build_calendar, calendar_csv, calendar_ics
from trialbook.cli import main

pytestmark = pytest.mark.traces("interventions", "visit_schedule")


def test_table_on_screen(capsys):
    assert main(["calendar", "--arm", "MMF + telitacicept", "--randomization", "2025-03-17"]) == 0
    out = capsys.readouterr().out
    assert "Telitacicept 160 mg x 48 (2025-03-17 to 2026-02-09)" in out
    assert "ASSUMPTION" in out and "Week 4" in out


def test_files_are_written_and_not_overwritten(tmp_path, capsys):
    csv_path, ics_path = tmp_path / "c.csv", tmp_path / "c.ics"
    argv = [
        "calendar",
        "--arm",
        "mmf",
        "--randomization",
        "2024-02-29",
        "--csv",
        str(csv_path),
        "--ics",
        str(ics_path),
    ]
    assert main(argv) == 0 and csv_path.exists() and ics_path.exists()
    ics_path.write_text("keep me")
    csv_before = csv_path.read_text()
    csv_path.unlink()
    assert main(argv) == 2  # the .ics exists: nothing is written, not even the .csv
    assert not csv_path.exists() and ics_path.read_text() == "keep me"
    assert "--force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0 and csv_path.read_text() == csv_before


def test_bad_input(capsys):
    assert main(["calendar", "--arm", "placebo", "--randomization", "2025-03-17"]) == 2
    assert "expected one of: telitacicept_mmf" in capsys.readouterr().err
    assert main(["calendar", "--arm", "mmf", "--randomization", "2025-02-30"]) == 2
    assert re.search(
        r"--randomization: '2025-02-30' is not a (calendar )?date", capsys.readouterr().err
    )
    assert main(["calendar", "--arm", "mmf"]) == 2


# -- the calendar never loses a file (issue 10, section 5) --------------------------------------

BASE = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17"]


def _snapshot(folder):
    """Every entry under ``folder``: a file's bytes and mode, a link's target, another kind."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            entries[str(path)] = ("link", os.readlink(path))
        elif stat.S_ISREG(info.st_mode):
            entries[str(path)] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
        else:
            entries[str(path)] = ("other", stat.S_IFMT(info.st_mode))
    return entries


def _error_lines(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.splitlines()


def _folder(path):
    path.mkdir()


def _file(path):
    path.write_bytes(b"precious bytes\n")


def _dangling_link(path):
    path.symlink_to(path.parent / "nowhere" / "gone.ics")


def _link_loop(path):
    path.symlink_to(path)


def _fifo(path):
    os.mkfifo(path)
    # a reader, so that a regression writing into the pipe fails the test instead of hanging it
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    return lambda: os.close(reader)


def _device(path):
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # a copy of /dev/null's node
    except (PermissionError, AttributeError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


def _file_as_folder(path):
    path.parent.write_bytes(b"a file, not a folder\n")


def _nothing(path):
    pass


# (what is there, the --ics path given, --force, what the message says)
REFUSALS = {
    "folder": (_folder, "out", False, "it is a folder; expected a file name such as out/"),
    "folder with --force": (
        _folder,
        "out",
        True,
        "it is a folder, and --force replaces only regular files, never a folder",
    ),
    "missing folder": (_nothing, "nope/c.ics", True, "the folder 'nope' does not exist"),
    "dangling link": (_dangling_link, "c.ics", True, "symbolic link to"),
    "link loop": (_link_loop, "c.ics", True, "symbolic link that cannot be followed"),
    "empty name": (_nothing, "", True, "the name is empty; expected a file name"),
    "trailing separator": (_nothing, "out/", True, "ends with a path separator"),
    "parent is a file": (
        _file_as_folder,
        "notes.txt/c.ics",
        True,
        "'notes.txt' in its path is a file",
    ),
    "existing file": (_file, "c.ics", False, "the file exists and is not overwritten"),
    "named pipe": (_fifo, "c.ics", True, "it is a named pipe (FIFO), not a regular file"),
    "device": (_device, "c.ics", True, "it is a character device, not a regular file"),
}


@pytest.mark.parametrize(("setup", "path", "force", "message"), REFUSALS.values(), ids=REFUSALS)
def test_a_refused_target_writes_nothing(
    tmp_path, monkeypatch, capsys, setup, path, force, message
):
    monkeypatch.chdir(tmp_path)
    cleanup = setup(tmp_path / (path.rstrip("/") or "unused"))
    before = _snapshot(tmp_path)
    argv = [*BASE, "--csv", "fine.csv", "--ics", path, *(["--force"] if force else [])]
    try:
        assert main(argv) == 2
    finally:
        if cleanup:
            cleanup()
    lines = _error_lines(capsys)
    assert len(lines) == 1  # one line: the option, the path, what is wrong, what was expected
    assert lines[0].startswith(f"error: --ics {path!r}: ") and message in lines[0]
    assert "; expected " in lines[0]
    assert _snapshot(tmp_path) == before  # not even the valid --csv file was written
    assert not (tmp_path / "fine.csv").exists()


def test_refused_targets_are_all_named_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert main([*BASE, "--csv", "out", "--ics", "nope/c.ics"]) == 2
    lines = _error_lines(capsys)
    assert [line.split(":")[0] for line in lines] == ["error", "error"]
    assert lines[0].startswith("error: --csv 'out': it is a folder")
    assert lines[1].startswith("error: --ics 'nope/c.ics': the folder 'nope' does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("csv_path", "ics_path"),
    [
        ("same.txt", "same.txt"),
        ("same.txt", "./same.txt"),
        ("same.txt", "sub/../same.txt"),
        ("same.txt", "alias/same.txt"),  # through a link to this folder
        ("same.txt", "link.txt"),  # a link to the file
    ],
)
def test_the_same_path_for_both_files_is_refused(tmp_path, monkeypatch, capsys, csv_path, ics_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path)
    (tmp_path / "link.txt").symlink_to(tmp_path / "same.txt")
    before = _snapshot(tmp_path)
    assert main([*BASE, "--csv", csv_path, "--ics", ics_path, "--force"]) == 2
    (line,) = _error_lines(capsys)
    assert line == (
        f"error: --csv {csv_path!r} and --ics {ics_path!r} name the same file "
        f"({os.path.realpath(tmp_path / 'same.txt')}); expected two different paths"
    )
    assert _snapshot(tmp_path) == before


def test_the_same_existing_file_is_refused_even_with_force(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "same.txt").write_bytes(b"keep\n")
    os.link(tmp_path / "same.txt", tmp_path / "hard.txt")  # another name for the same file
    before = _snapshot(tmp_path)
    assert main([*BASE, "--csv", "same.txt", "--ics", "hard.txt", "--force"]) == 2
    assert "name the same file" in _error_lines(capsys)[0]
    assert _snapshot(tmp_path) == before


def test_force_replaces_a_regular_file_and_keeps_its_permissions(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_bytes(b"old csv\n")
    (tmp_path / "c.csv").chmod(0o640)
    (tmp_path / "real.ics").write_bytes(b"old ics\n")
    (tmp_path / "c.ics").symlink_to("real.ics")  # a link: the file it points to is replaced
    assert main([*BASE, "--csv", "c.csv", "--ics", "c.ics", "--force"]) == 0
    assert "wrote c.csv" in capsys.readouterr().out
    calendar = build_calendar("mmf", date(2025, 3, 17))
    assert (tmp_path / "c.csv").read_text(encoding="utf-8") == calendar_csv(calendar)
    assert stat.S_IMODE((tmp_path / "c.csv").stat().st_mode) == 0o640
    assert (tmp_path / "c.ics").is_symlink() and os.readlink(tmp_path / "c.ics") == "real.ics"
    assert (tmp_path / "real.ics").read_bytes() == calendar_ics(calendar)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.ics", "real.ics"]


def test_a_new_file_gets_the_usual_permissions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mask = os.umask(0o022)
    try:
        assert main([*BASE, "--csv", "c.csv"]) == 0
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "c.csv").stat().st_mode) == 0o644  # not mkstemp's 0600


def _fail(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_replace_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_bytes(b"old csv\n")
    before = _snapshot(tmp_path)
    monkeypatch.setattr(os, "replace", _fail)
    assert main([*BASE, "--csv", "c.csv", "--force"]) == 2
    (line,) = _error_lines(capsys)
    assert line.startswith("error: --csv 'c.csv': it could not be written (No space left on")
    assert "nothing was written" in line
    assert _snapshot(tmp_path) == before  # the old bytes, and no temporary file beside them


def test_a_write_failing_midway_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "fsync", _fail)  # the disk fills while the first file is written
    assert main([*BASE, "--csv", "c.csv", "--ics", "c.ics"]) == 2
    (line,) = _error_lines(capsys)
    assert line.startswith("error: --csv 'c.csv': it could not be written")
    assert "nothing was written" in line
    assert list(tmp_path.iterdir()) == []


def test_a_second_file_failing_after_the_first_is_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_bytes(b"old csv\n")
    (tmp_path / "c.ics").write_bytes(b"old ics\n")
    real_replace = os.replace
    calls = []

    def second_fails(source, destination):
        calls.append(destination)
        if len(calls) == 2:
            _fail()
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", second_fails)
    assert main([*BASE, "--csv", "c.csv", "--ics", "c.ics", "--force"]) == 2
    (line,) = _error_lines(capsys)
    assert line.startswith("error: --ics 'c.ics': it could not be written")
    assert "it is unchanged, but --csv 'c.csv' was already written (complete)" in line
    calendar = build_calendar("mmf", date(2025, 3, 17))
    assert (tmp_path / "c.csv").read_text(encoding="utf-8") == calendar_csv(calendar)
    assert (tmp_path / "c.ics").read_bytes() == b"old ics\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.ics"]


def test_a_file_appearing_after_the_check_is_not_overwritten(tmp_path, monkeypatch, capsys):
    import dosing.calendar as module

    monkeypatch.chdir(tmp_path)
    real_ics = module.calendar_ics

    def someone_else_writes(calendar, participant=None):  # after the check, before the move
        (tmp_path / "c.csv").write_bytes(b"someone else's\n")
        return real_ics(calendar, participant)

    monkeypatch.setattr(module, "calendar_ics", someone_else_writes)
    assert main([*BASE, "--csv", "c.csv", "--ics", "c.ics"]) == 2
    (line,) = _error_lines(capsys)
    assert line.startswith("error: --csv 'c.csv': a file appeared there while writing")
    assert (tmp_path / "c.csv").read_bytes() == b"someone else's\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv"]


@pytest.mark.parametrize("arm", ["telitacicept_mmf", "mmf"])
def test_the_ics_of_both_arms_has_the_mmf_course(tmp_path, arm):
    ics = tmp_path / "c.ics"
    assert main(["calendar", "--arm", arm, "--randomization", "2024-02-29", "--ics", str(ics)]) == 0
    events = list(ICalendar.from_ical(ics.read_bytes()).walk("VEVENT"))
    course = [e for e in events if str(e["SUMMARY"]).startswith("Mycophenolate Mofetil")]
    last = date(2024, 2, 29) + timedelta(weeks=48) - timedelta(days=1)  # days 1..336
    assert [str(e["SUMMARY"]) for e in course] == [
        f"Mycophenolate Mofetil 0.5 g twice daily (oral), 2024-02-29 to {last.isoformat()}"
    ]


def test_the_projects_sources_of_truth_are_never_an_output_even_through_a_link(tmp_path):
    """The study in use and the stored registry record: refused as targets, named directly or
    through a link, whatever --force says (only checked here: nothing is written)."""
    from dosing.calendar import CalendarFileError, check_targets, protected_files
    from protocol.study import STUDY_PATH

    assert STUDY_PATH in protected_files()
    record = STUDY_PATH.parent / "registry" / "NCT06375005.json"
    assert record in protected_files() and record.is_file()
    # the published values too: --force replaced them (a tester's find)
    published = STUDY_PATH.parent / "registry" / "published.yaml"
    assert published in protected_files() and published.is_file()
    for kept in (STUDY_PATH, record, published):
        link = tmp_path / f"link-to-{kept.name}"
        link.symlink_to(kept)
        for given in (kept, link):
            with pytest.raises(CalendarFileError, match="source of truth") as refused:
                check_targets([("--csv", given)], force=True)
            assert ("through a link" in str(refused.value)) == (given == link)


@pytest.mark.parametrize("through_a_link", [False, True])
def test_calendar_never_writes_over_the_study_it_was_built_from(
    tmp_path, monkeypatch, capsys, through_a_link
):
    # the project's study stands in as a copy (a regression must not write over the real one)
    from protocol.study import STUDY_PATH

    study = tmp_path / "study.yaml"
    study.write_bytes(STUDY_PATH.read_bytes())
    kept = tmp_path / "kept.json"
    kept.write_text("{}", encoding="utf-8")
    monkeypatch.setattr("dosing.calendar.protected_files", lambda: (kept,))
    monkeypatch.chdir(tmp_path)
    for target in (study, kept):
        given = target
        if through_a_link:
            given = tmp_path / f"out-{target.name}.csv"
            given.symlink_to(target)
        before = target.read_bytes()
        argv = ["calendar", "--arm", "MMF + telitacicept", "--randomization", "2025-03-17"]
        code = main([*argv, "--study", str(study), "--csv", str(given), "--force"])
        err = capsys.readouterr().err
        assert code == 2 and "never overwritten" in err and err.count("\n") == 1
        assert target.read_bytes() == before


@pytest.mark.parametrize("option", ["--csv", "--ics"])
def test_a_dash_for_a_file_is_refused_not_written_as_a_file_named_dash(
    option, tmp_path, monkeypatch, capsys
):
    # "--csv -" wrote a file named "-" in the working folder and said "wrote -"
    monkeypatch.chdir(tmp_path)
    argv = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17", option, "-"]
    assert main(argv) == 2
    assert not (tmp_path / "-").exists()
    error = capsys.readouterr().err
    assert error.startswith("error:") and "'-' names no file" in error


# the screening visit is study day -28 (28 days before day 1: there is no day 0), the
# follow-up visit day 365 (364 days after day 1) with 7 days after it: a calendar runs from
# 28 days before the randomization to 371 days after it, and every date it prints lies within
# 1900-01-01 to 2100-12-31, so the randomization lies from 1900-01-29 to 2099-12-25
@pytest.mark.parametrize("arm", ["mmf", "telitacicept"])
@pytest.mark.parametrize(
    ("randomization", "fits"),
    [
        ("1900-01-01", False),
        ("1900-01-28", False),
        ("1900-01-29", True),
        ("2099-12-25", True),
        ("2099-12-26", False),
        ("2100-12-31", False),
    ],
)
def test_a_calendar_prints_no_date_outside_1900_to_2100(arm, randomization, fits, capsys):
    code = main(["calendar", "--arm", arm, "--randomization", randomization])
    out, err = capsys.readouterr()
    if fits:
        assert code == 0
        printed = re.findall(r"\b\d{4}-\d{2}-\d{2}\b", out)
        assert min(printed) >= "1900-01-01" and max(printed) <= "2100-12-31"
    else:
        assert code == 2 and out == ""
        assert err.count("\n") == 1
        assert f"--randomization = {randomization}" in err
        assert "a date from 1900-01-29 to 2099-12-25" in err


# -- one calendar holding several participants --------------------------------------------------
# A tester: the UIDs were built from the arm and the randomization date alone, so two
# participants randomized the same day to one arm shared them, and a site calendar importing
# both kept one participant's events (RFC 5545 3.8.4.7 asks a UID to be globally unique).


def _uids(path) -> list[str]:
    parsed = ICalendar.from_ical(path.read_bytes())
    return [str(event["UID"]) for event in parsed.walk("VEVENT")]


def test_two_participants_randomized_the_same_day_have_their_own_event_ids(tmp_path, capsys):
    for code in ("SYN-001", "SYN-002"):
        args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17"]
        assert main([*args, "--ics", str(tmp_path / f"{code}.ics"), "--participant", code]) == 0
    first, second = _uids(tmp_path / "SYN-001.ics"), _uids(tmp_path / "SYN-002.ics")
    assert len(set(first)) == len(first) and not set(first) & set(second)
    assert all(uid.startswith("SYN-001-") for uid in first)
    parsed = ICalendar.from_ical((tmp_path / "SYN-001.ics").read_bytes())
    assert all("SYN-001" in str(event["SUMMARY"]) for event in parsed.walk("VEVENT"))
    assert "note: without --participant" not in capsys.readouterr().err
    # the same request again: the same UIDs (a calendar updates its events)
    args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17", "--force"]
    assert main([*args, "--ics", str(tmp_path / "again.ics"), "--participant", "SYN-001"]) == 0
    assert _uids(tmp_path / "again.ics") == first


def test_without_a_participant_the_shared_event_ids_are_said(tmp_path, capsys):
    args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17"]
    assert main([*args, "--ics", str(tmp_path / "c.ics")]) == 0
    assert "note: without --participant" in capsys.readouterr().err


@pytest.mark.parametrize("code", ["张伟", "13812345678", "1978-06-14", "Wang Fang", "", "_x"])
def test_a_participant_code_that_is_no_code_is_refused_and_not_repeated(tmp_path, capsys, code):
    args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17"]
    assert main([*args, "--ics", str(tmp_path / "c.ics"), "--participant", code]) == 2
    err = capsys.readouterr().err
    assert "argument --participant = (withheld)" in err and err.count("\n") == 1
    assert not code or code not in err
    assert not (tmp_path / "c.ics").exists()


@pytest.mark.parametrize("code", ["NA", "TRUE", "NULL", "YES"])
def test_a_participant_code_that_stands_for_none_is_refused_for_that_reason(code, capsys):
    # 'calendar --participant NA' said "letters without a digit make a code only in capitals"
    # of a code in capitals (helper 117): the reason is that the text stands for none
    args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17", "--participant", code]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "stands for none" in err and "only in capitals" not in err
