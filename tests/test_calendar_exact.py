"""The calendar's exact outputs: arm names, study days, slots, the iCalendar text line by line,
and every refusal of an output file, word for word, with nothing overwritten.

Every expected value is written out by hand from the documented conventions (study day 1 is
randomization, no day 0, weeks of 7 days; study.yaml's visit_schedule and dosing_rules; the
registry's telitacicept 160 mg weekly subcutaneous and MMF 0.5 g twice daily for 48 weeks), never
copied from the code under test. 2025-03-17 is a Monday; 48 weeks later is 2026-02-16.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import socket
import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dosing.calendar as calendar_module
from dosing.calendar import (
    CalendarFileError,
    CalendarInputError,
    CalendarWriteError,
    Course,
    _commit,
    _file_kind,
    _first_non_folder,
    _per_day_text,
    _remove,
    _same_file,
    administrations,
    build_calendar,
    calendar_ics,
    check_targets,
    check_writable,
    resolve_arm,
    study_day_date,
    write_calendar_files,
    write_file,
    write_targets,
)
from dosing.regimens import regimens_for_arm
from protocol.units import ureg

pytestmark = pytest.mark.traces("interventions", "visit_schedule", "presentations", "dosing_rules")

RANDOMIZATION = date(2025, 3, 17)
VALID_ARMS = "telitacicept_mmf (Mycophenolate Mofetil + Telitacicept); mmf (Mycophenolate Mofetil)"
TAIL = "expected a path that can be written (check the disk space and permissions, then run again)"


def _mmf():
    (regimen,) = regimens_for_arm("mmf")
    return regimen


# -- arms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "泰爱",  # telitacicept's brand name in Chinese (label)
        "RC18",  # its development code
        "telitacicept + MMF",  # the interventions in the other order
        "Telitacicept AND mycophenolate",  # "and" in capitals
        "MMF PLUS Telitacicept",
        "Mycophenolate Mofetil Telitacicept",  # the label without its "+"
        "Mycophenolate + Mofetil + Telitacicept",  # the label with a stray "+"
    ],
)
def test_more_ways_to_name_the_experimental_arm(typed):
    assert resolve_arm(typed).id == "telitacicept_mmf"


@pytest.mark.parametrize("typed", ["Tai'ai", "Taiai", "taiai + mmf"])
def test_a_name_the_registry_gives_to_two_drugs_names_no_arm(typed):
    """Tai'ai is telitacicept's brand (label), but the registry record lists "Taiai for
    commercial name MMF" (PI04): a coordinator typing it may mean either, so it is refused."""
    with pytest.raises(CalendarInputError) as caught:
        resolve_arm(typed)
    assert "give this name to different drugs (PI04)" in str(caught.value)


@pytest.mark.parametrize("typed", ["t", "tel", "telitaci", "m", "myco", "mofetil"])
def test_a_part_of_a_name_names_no_arm(typed):
    """Only whole names (or a drug's first word, "mycophenolate") name an arm: a prefix would
    be a guess."""
    with pytest.raises(CalendarInputError, match="names no single arm"):
        resolve_arm(typed)


@given(
    names=st.lists(
        st.sampled_from(
            ["telitacicept", "Telitacicept", "RC18", "mmf", "MMF", "Mycophenolate Mofetil"]
        ),
        min_size=2,
        max_size=4,
    ),
    join=st.sampled_from([" + ", " and ", ", ", " & "]),
)
def test_a_medicine_named_twice_names_no_arm(names, join):
    # "telitacicept + telitacicept" named the experimental arm, "mmf + telitacicept + mmf" too
    medicine = {"telitacicept": "t", "rc18": "t", "mmf": "m", "mycophenolate mofetil": "m"}
    kinds = [medicine[name.casefold()] for name in names]
    typed = join.join(names)
    if len(set(kinds)) < len(kinds):
        with pytest.raises(CalendarInputError, match="names one medicine twice"):
            resolve_arm(typed)
    else:
        expected = "telitacicept_mmf" if set(kinds) == {"t", "m"} else None
        if expected:
            assert resolve_arm(typed).id == expected


def test_an_unknown_arm_is_refused_word_for_word():
    with pytest.raises(CalendarInputError) as caught:
        resolve_arm("placebo")
    problem = f"'placebo' names no single arm; expected one of: {VALID_ARMS}"
    assert caught.value.source == "--arm"
    assert caught.value.problems == [problem]
    assert str(caught.value) == f"--arm: 1 problem:\n  - {problem}"


def test_two_arms_giving_the_same_drugs_are_not_guessed(varied_study):
    # A third arm (a variant study) gives MMF alone, as the comparator does: "mycophenolate" then
    # names two arms exactly, and is refused rather than resolved to the arm that adds telitacicept.
    extra_arm = (
        "\n  - id: mmf_b\n"
        "    label: {value: Mycophenolate Mofetil (second comparator), provenance: assumption,"
        " note: test}\n"
        "    type: {value: ACTIVE_COMPARATOR, provenance: assumption, note: test}\n"
        "    description: {value: A second comparator arm., provenance: assumption, note: test}\n"
        '    intervention_names: {value: ["Drug: Mycophenolate Mofetil"], provenance: assumption,'
        " note: test}\n"
        "\nsites:"
    )
    study = varied_study(("\nsites:", extra_arm))
    with pytest.raises(CalendarInputError) as caught:
        resolve_arm("mycophenolate", study)
    assert caught.value.problems == [
        f"'mycophenolate' names no single arm; expected one of: {VALID_ARMS}; "
        "mmf_b (Mycophenolate Mofetil (second comparator))"
    ]
    assert resolve_arm("mmf_b", study).id == "mmf_b"
    assert resolve_arm("telitacicept", study).id == "telitacicept_mmf"


# -- study days, slots and rows ----------------------------------------------------------------


def test_there_is_no_study_day_zero():
    with pytest.raises(ValueError) as caught:
        study_day_date(RANDOMIZATION, 0)
    assert str(caught.value) == "there is no day 0: randomization is day 1, the day before is -1"


def test_four_doses_a_day_have_no_named_slot_and_fall_on_their_days():
    # 4/day for 2 days: every 6 hours from hour 0, i.e. hours 0, 6, 12, 18 on day 1 and
    # 24, 30, 36, 42 on day 2; SLOTS names no times of day for 4 doses.
    regimen = dataclasses.replace(_mmf(), frequency=4 / ureg.day, duration=2 * ureg.day)
    doses = administrations(regimen, RANDOMIZATION)
    assert [(d.number, d.date.isoformat(), d.study_day, d.slot) for d in doses] == [
        (1, "2025-03-17", 1, ""),
        (2, "2025-03-17", 1, ""),
        (3, "2025-03-17", 1, ""),
        (4, "2025-03-17", 1, ""),
        (5, "2025-03-18", 2, ""),
        (6, "2025-03-18", 2, ""),
        (7, "2025-03-18", 2, ""),
        (8, "2025-03-18", 2, ""),
    ]
    once = dataclasses.replace(_mmf(), frequency=1 / ureg.day, duration=3 * ureg.day)
    assert [(d.date.isoformat(), d.slot) for d in administrations(once, RANDOMIZATION)] == [
        ("2025-03-17", ""),
        ("2025-03-18", ""),
        ("2025-03-19", ""),
    ]


def _oral_first(calendar):
    """The same calendar with the oral doses listed before the injections."""
    oral = [d for d in calendar.doses if d.slot]
    injections = [d for d in calendar.doses if not d.slot]
    return dataclasses.replace(calendar, doses=oral + injections)


def test_the_brief_rows_keep_every_injection_whatever_the_order_of_the_doses():
    calendar = _oral_first(build_calendar("telitacicept_mmf", RANDOMIZATION))
    rows = calendar.rows(daily_detail=False)
    kinds = [r["kind"] for r in rows]
    assert (kinds.count("visit"), kinds.count("dose")) == (15, 48)
    assert [r for r in rows if r["date"] == "2026-02-09"] == [  # day 330: the 48th injection
        {
            "date": "2026-02-09",
            "kind": "dose",
            "what": "Telitacicept 160 mg subcutaneous",
            "window": "",
            "detail": "dose 48, study day 330",
        }
    ]


def test_the_calendar_reads_the_study_it_is_given(varied_study):
    study = varied_study(
        ("value: Mycophenolate Mofetil + Telitacicept", "value: Telitacicept with MMF (variant)"),
        ("{id: week_4, label: Week 4, day: 29", "{id: week_4, label: Week 4, day: 30"),
        ("      value: 160 mg", "      value: 240 mg"),
    )
    calendar = build_calendar("telitacicept_mmf", RANDOMIZATION, study)
    assert calendar.arm.label.value == "Telitacicept with MMF (variant)"
    week_4 = next(v for v in calendar.visits if v.visit.id == "week_4")
    # day 30 = 2025-03-17 + 29 days = 2025-04-15, +/- 3 days
    assert (week_4.target, week_4.earliest, week_4.latest) == (
        date(2025, 4, 15),
        date(2025, 4, 12),
        date(2025, 4, 18),
    )
    assert {d.dose for d in calendar.doses if d.intervention == "Telitacicept"} == {"240 mg"}


@pytest.mark.parametrize(
    ("per_day", "text"),
    [
        (1, "once daily"),
        (2, "twice daily"),
        (3, "three times daily"),
        (4, "four times daily"),
        (5, "5 per day"),  # no word for it: the frequency itself
        (1.5, "1.5 per day"),  # not a whole number: not "twice daily"
    ],
)
def test_the_frequency_in_words(per_day, text):
    assert _per_day_text(dataclasses.replace(_mmf(), frequency=per_day / ureg.day)) == text


def test_a_course_summary_with_a_frequency_that_has_no_word():
    regimen = dataclasses.replace(_mmf(), frequency=1.5 / ureg.day, duration=2 * ureg.day)
    doses = administrations(regimen, RANDOMIZATION)  # 3 doses: hours 0 and 16, then 32
    assert Course(regimen, doses).summary == (
        "Mycophenolate Mofetil 0.5 g 1.5 per day (oral), 2025-03-17 to 2025-03-18"
    )


# -- the iCalendar text ------------------------------------------------------------------------


def _unfolded_lines(ics: bytes) -> list[str]:
    text = ics.decode("utf-8")
    assert text.endswith("\r\n")
    return text.replace("\r\n ", "").split("\r\n")[:-1]  # RFC 5545 3.1: unfold long lines


def _event(lines: list[str], uid: str) -> list[str]:
    """The lines of the one VEVENT whose UID is ``uid``, BEGIN to END."""
    found = []
    start = 0
    for index, line in enumerate(lines):
        if line == "BEGIN:VEVENT":
            start = index
        if line == f"UID:{uid}":
            end = lines.index("END:VEVENT", index)
            found.append(lines[start : end + 1])
    assert len(found) == 1, uid
    return found[0]


ASSUMPTION = (
    "ASSUMPTION: the registry publishes no visit schedule\\; these visits are the book's "
    "assumption (study.yaml visit_schedule)\\, to be replaced by the protocol's."
)


def test_the_ics_header_word_for_word():
    lines = _unfolded_lines(calendar_ics(build_calendar("mmf", RANDOMIZATION)))
    assert lines[:5] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//NCT06375005 protocol book//trialbook calendar//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:NCT06375005 Mycophenolate Mofetil (synthetic schedule)",
    ]
    assert lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 16 == lines.count("END:VEVENT")  # 15 visits, 1 course


def test_a_visit_event_word_for_word():
    lines = _unfolded_lines(calendar_ics(build_calendar("mmf", RANDOMIZATION)))
    assert _event(lines, "mmf-2025-03-17-visit-week_4@nct06375005.protocol-book") == [
        "BEGIN:VEVENT",
        "SUMMARY:NCT06375005 Week 4",
        "DTSTART;VALUE=DATE:20250414",  # day 29 = 2025-03-17 + 28 days
        "DTEND;VALUE=DATE:20250415",  # all-day: the day after
        "DTSTAMP:20250317T000000Z",  # randomization, 00:00 UTC
        "UID:mmf-2025-03-17-visit-week_4@nct06375005.protocol-book",
        "SEQUENCE:0",  # the first protocol version: no amendment yet
        # week 4's activities (mrss, labs, pregnancy_test, dispensing, accountability,
        # adverse_events) by the names study.yaml's activity_labels give them
        "DESCRIPTION:Window 2025-04-11 to 2025-04-17. Activities: skin score (mRSS)\\, "
        "laboratory tests\\, pregnancy test (women of childbearing potential)\\, "
        "dispensing\\, drug accountability\\, adverse event review. "
        f"{ASSUMPTION}",
        "END:VEVENT",
    ]


def test_the_oral_course_event_word_for_word():
    # 336 days x 2 = 672 doses; day 336 = 2025-03-17 + 335 days = 2026-02-15
    lines = _unfolded_lines(calendar_ics(build_calendar("mmf", RANDOMIZATION)))
    uid = "mmf-2025-03-17-mycophenolatemofetil-course@nct06375005.protocol-book"
    assert _event(lines, uid) == [
        "BEGIN:VEVENT",
        "SUMMARY:Mycophenolate Mofetil 0.5 g twice daily (oral)\\, 2025-03-17 to 2026-02-15",
        "DTSTART;VALUE=DATE:20250317",
        "DTEND;VALUE=DATE:20260216",
        "DTSTAMP:20250317T000000Z",
        f"UID:{uid}",
        "SEQUENCE:0",
        "DESCRIPTION:672 doses of 0.5 g (oral)\\, twice daily (morning and evening)\\, every day "
        "from study day 1 (2025-03-17) to study day 336 (2026-02-15): 48 weeks\\, day 1 being "
        "randomization. The CSV file lists every dose.",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def test_an_injection_event_word_for_word():
    # the 48th weekly injection: 2025-03-17 + 47 x 7 = + 329 days = 2026-02-09
    lines = _unfolded_lines(calendar_ics(build_calendar("telitacicept_mmf", RANDOMIZATION)))
    uid = "telitacicept_mmf-2025-03-17-telitacicept-48@nct06375005.protocol-book"
    assert _event(lines, uid) == [
        "BEGIN:VEVENT",
        "SUMMARY:Telitacicept 160 mg subcutaneous (dose 48)",
        "DTSTART;VALUE=DATE:20260209",
        "DTEND;VALUE=DATE:20260210",
        "DTSTAMP:20250317T000000Z",
        f"UID:{uid}",
        "SEQUENCE:0",
        "END:VEVENT",
    ]


def test_the_ics_keeps_every_injection_whatever_the_order_of_the_doses():
    calendar = _oral_first(build_calendar("telitacicept_mmf", RANDOMIZATION))
    lines = _unfolded_lines(calendar_ics(calendar))
    injections = [line for line in lines if line.startswith("SUMMARY:Telitacicept 160 mg")]
    assert injections == [
        f"SUMMARY:Telitacicept 160 mg subcutaneous (dose {n})" for n in range(1, 49)
    ]
    assert lines.count("BEGIN:VEVENT") == 64  # 15 visits + 1 course + 48 injections


# -- refused files, word for word --------------------------------------------------------------


def _refused(path, force=False, option=None) -> list[str]:
    args = {} if option is None else {"option": option}
    with pytest.raises(CalendarFileError) as caught:
        check_writable(path, force, **args)
    assert caught.value.source == "calendar files"
    return caught.value.problems


def test_an_empty_name_without_an_option():
    with pytest.raises(CalendarFileError) as caught:
        check_writable("")
    problem = "file '': the name is empty; expected a file name such as calendar.csv"
    assert caught.value.problems == [problem]
    assert str(caught.value) == problem
    assert caught.value.args[0] == f"calendar files: 1 problem:\n  - {problem}"


def test_a_name_with_a_nul_character():
    assert _refused("a\0b.csv", option="--csv") == [
        "--csv 'a\\x00b.csv': the name contains a NUL character; "
        "expected a file name such as calendar.csv"
    ]


def test_a_name_ending_with_a_separator_names_a_folder():
    assert _refused("out/", option="--ics") == [
        "--ics 'out/': it ends with a path separator, so it names a folder; "
        "expected a file name such as out/calendar.ics"
    ]


def test_a_path_through_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("keep")
    path = tmp_path / "notes.txt" / "calendar.csv"
    assert _refused(path) == [
        f"file '{path}': '{tmp_path / 'notes.txt'}' in its path is a file, not a folder; "
        "expected a path through existing folders"
    ]
    assert (tmp_path / "notes.txt").read_text() == "keep"


def test_a_name_too_long_to_examine(tmp_path):
    path = tmp_path / ("x" * 300)  # a file name is at most 255 bytes
    assert _refused(path) == [
        f"file '{path}': it cannot be examined (File name too long); "
        "expected a path that can be written"
    ]


def test_a_missing_folder(tmp_path):
    path = tmp_path / "missing" / "calendar.csv"
    assert _refused(path, option="--csv") == [
        f"--csv '{path}': the folder '{tmp_path / 'missing'}' does not exist; "
        "expected an existing folder (create it first)"
    ]
    assert not (tmp_path / "missing").exists()


def test_a_folder_that_cannot_be_examined(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    real_stat = os.stat

    def denied(path, *args, **kwargs):
        if os.fspath(path) == str(folder):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", denied)
    path = folder / "calendar.csv"
    assert _refused(path) == [
        f"file '{path}': its folder '{folder}' cannot be examined (Permission denied); "
        "expected a folder to write in"
    ]


def test_a_folder_replaced_by_a_file_after_the_first_look(tmp_path, monkeypatch):
    # The name was not there when looked up, then its folder turned out to be a file.
    (tmp_path / "notes.txt").write_text("keep")
    path = tmp_path / "notes.txt" / "calendar.csv"
    real_lstat = os.lstat

    def not_there(name, *args, **kwargs):
        if os.fspath(name) == str(path):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", os.fspath(name))
        return real_lstat(name, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", not_there)
    assert _refused(path) == [
        f"file '{path}': '{tmp_path / 'notes.txt'}' is a file, not a folder; "
        "expected a path through existing folders"
    ]


def test_a_dangling_symbolic_link(tmp_path):
    path = tmp_path / "calendar.csv"
    path.symlink_to("gone.csv")
    assert _refused(path, force=True) == [
        f"file '{path}': it is a symbolic link to 'gone.csv', which does not exist; "
        "expected a regular file or a new file name"
    ]
    assert os.readlink(path) == "gone.csv" and not (tmp_path / "gone.csv").exists()


def test_a_looping_symbolic_link(tmp_path):
    (tmp_path / "a.csv").symlink_to("b.csv")
    (tmp_path / "b.csv").symlink_to("a.csv")
    path = tmp_path / "a.csv"
    assert _refused(path, force=True) == [
        f"file '{path}': it is a symbolic link that cannot be followed "
        "(Too many levels of symbolic links); expected a regular file or a new file name"
    ]


def test_a_named_pipe(tmp_path):
    path = tmp_path / "calendar.csv"
    os.mkfifo(path)
    assert _refused(path, force=True, option="--csv") == [
        f"--csv '{path}': it is a named pipe (FIFO), not a regular file (only regular files are "
        "replaced, even with --force); expected a regular file or a new file name"
    ]


def test_a_socket(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short relative name: socket paths are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("calendar.ics")
        assert _refused("calendar.ics", force=True, option="--ics") == [
            "--ics 'calendar.ics': it is a socket, not a regular file (only regular files are "
            "replaced, even with --force); expected a regular file or a new file name"
        ]


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFIFO, "a named pipe (FIFO)"),
        (stat.S_IFCHR, "a character device"),
        (stat.S_IFBLK, "a block device"),
        (stat.S_IFSOCK, "a socket"),
        (stat.S_IFDIR, "a folder"),
        (stat.S_IFLNK, "not a regular file"),  # anything else
    ],
)
def test_kinds_of_file(mode, kind):
    assert _file_kind(mode | 0o644) == kind


def test_the_first_non_folder_of_a_path_through_folders_only(tmp_path):
    assert _first_non_folder(str(tmp_path / "calendar.csv")) == str(tmp_path)
    assert _first_non_folder("calendar.csv") == "."


def test_an_existing_file_is_refused_unless_forced(tmp_path):
    path = tmp_path / "calendar.csv"
    path.write_text("precious")
    with pytest.raises(CalendarFileError) as caught:
        check_writable(path)  # force is off unless asked for
    assert caught.value.problems == [
        f"file '{path}': the file exists and is not overwritten; "
        "expected a new file name, or --force to replace it"
    ]
    with pytest.raises(CalendarFileError):
        check_targets([("--csv", path)])
    assert path.read_text() == "precious"
    assert check_writable(path, force=True).replaces is True


def _access_by_owner_bits(path, mode, *args, **kwargs):
    """os.access as an ordinary user sees it: the owner's rwx bits (root would pass anything)."""
    granted = (os.stat(path).st_mode >> 6) & 0o7
    return granted & mode == mode


def test_a_folder_without_write_permission(tmp_path, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    monkeypatch.setattr(os, "access", _access_by_owner_bits)
    path = folder / "calendar.csv"
    try:
        assert _refused(path, option="--csv") == [
            f"--csv '{path}': the folder '{os.path.realpath(folder)}' is not writable; "
            "expected a folder you may write in"
        ]
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_several_problems_are_one_line_each(tmp_path):
    error = CalendarFileError(["first problem", "second problem"])
    assert str(error) == "first problem\nsecond problem"
    assert error.source == "calendar files"
    assert error.args[0] == "calendar files: 2 problems:\n  - first problem\n  - second problem"


def test_names_with_a_nul_character_are_each_refused_not_called_the_same_file():
    with pytest.raises(CalendarFileError) as caught:
        check_targets([("--csv", "a\0.csv"), ("--ics", "a\0.csv")])
    assert caught.value.problems == [
        "--csv 'a\\x00.csv': the name contains a NUL character; "
        "expected a file name such as calendar.csv",
        "--ics 'a\\x00.csv': the name contains a NUL character; "
        "expected a file name such as calendar.ics",
    ]
    assert _same_file("a\0.csv", "a\0.csv") is False


# -- writing -------------------------------------------------------------------------------------


def test_the_content_is_staged_beside_the_target_under_a_hidden_name(tmp_path, monkeypatch):
    seen = []
    real_commit = calendar_module._commit

    def spy(target, staged):
        seen.append((os.path.dirname(staged), os.path.basename(staged), Path(staged).read_bytes()))
        real_commit(target, staged)

    monkeypatch.setattr(calendar_module, "_commit", spy)
    write_file(tmp_path / "calendar.csv", b"day 1\n")
    ((folder, name, data),) = seen
    assert folder == os.path.realpath(tmp_path)
    assert re.fullmatch(r"\.calendar\.csv\.[^/]+\.tmp", name), name
    assert data == b"day 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["calendar.csv"]


def _no_hard_links(appear=None):
    def link(src, dst, *args, **kwargs):
        if appear is not None:
            Path(dst).write_text(appear)  # another program took the name meanwhile
        raise PermissionError(errno.EPERM, "Operation not permitted", src, dst)

    return link


def test_without_hard_links_a_new_file_is_moved_into_place(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "link", _no_hard_links())
    path = tmp_path / "calendar.csv"
    assert write_file(path, "day 1\n") == path
    assert path.read_bytes() == b"day 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["calendar.csv"]


def test_without_hard_links_a_file_that_appeared_is_not_overwritten(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "link", _no_hard_links(appear="someone else's"))
    path = tmp_path / "calendar.csv"
    with pytest.raises(CalendarWriteError) as caught:
        write_file(path, "day 1\n", option="--csv")
    assert caught.value.problems == [
        f"--csv '{path}': a file appeared there while writing and is not overwritten; "
        f"nothing was written; {TAIL}"
    ]
    assert path.read_text() == "someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["calendar.csv"]  # no temporary file left


def test_a_name_taken_during_the_move_raises_the_systems_file_exists_error(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "link", _no_hard_links(appear="someone else's"))
    target = check_writable(tmp_path / "calendar.csv")
    staged = tmp_path / "staged.tmp"
    staged.write_text("day 1\n")
    with pytest.raises(FileExistsError) as caught:
        _commit(target, str(staged))
    error = caught.value
    assert (error.errno, error.strerror, error.filename) == (
        errno.EEXIST,
        "File exists",
        os.path.join(os.path.realpath(tmp_path), "calendar.csv"),
    )
    assert (tmp_path / "calendar.csv").read_text() == "someone else's"


def test_a_failure_on_the_third_file_names_the_two_written(tmp_path, monkeypatch):
    first, second, third = tmp_path / "a.csv", tmp_path / "b.ics", tmp_path / "c.txt"
    third.write_text("old")
    real_replace = os.replace

    def full_disk(src, dst, *args, **kwargs):
        if os.fspath(dst).endswith("c.txt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", full_disk)
    planned = [
        (check_writable(first, option="--csv"), b"A"),
        (check_writable(second, option="--ics"), b"B"),
        (check_writable(third, True, option="--txt"), b"C"),
    ]
    with pytest.raises(CalendarWriteError) as caught:
        write_targets(planned)
    assert caught.value.problems == [
        f"--txt '{third}': it could not be written (No space left on device); it is unchanged, "
        f"but --csv '{first}', --ics '{second}' was already written (complete); {TAIL}"
    ]
    assert (first.read_bytes(), second.read_bytes(), third.read_text()) == (b"A", b"B", "old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.ics", "c.txt"]


def test_a_folder_that_cannot_be_synced_does_not_fail_the_write(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def no_folder_sync(descriptor):
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", no_folder_sync)
    path = tmp_path / "calendar.csv"
    write_file(path, "day 1\n")
    assert path.read_text() == "day 1\n"


def test_removing_a_file_that_is_already_gone_is_quiet(tmp_path):
    assert _remove(str(tmp_path / "gone.tmp")) is None


def test_write_file_names_the_file_and_writes_bytes_as_given(tmp_path):
    path = tmp_path / "calendar.ics"
    write_file(path, b"BEGIN:VCALENDAR\r\n\xe6\xb3\xb0")
    assert path.read_bytes() == b"BEGIN:VCALENDAR\r\n\xe6\xb3\xb0"
    with pytest.raises(CalendarFileError) as caught:
        write_file(path, b"other")
    assert caught.value.problems == [
        f"file '{path}': the file exists and is not overwritten; "
        "expected a new file name, or --force to replace it"
    ]
    assert path.read_bytes() == b"BEGIN:VCALENDAR\r\n\xe6\xb3\xb0"


def test_calendar_files_are_not_replaced_without_force(tmp_path):
    calendar = build_calendar("mmf", RANDOMIZATION)
    csv_path, ics_path = tmp_path / "calendar.csv", tmp_path / "calendar.ics"
    csv_path.write_text("precious")
    with pytest.raises(CalendarFileError) as caught:
        write_calendar_files(calendar, csv_path, ics_path)
    assert caught.value.problems == [
        f"--csv '{csv_path}': the file exists and is not overwritten; "
        "expected a new file name, or --force to replace it"
    ]
    assert csv_path.read_text() == "precious" and not ics_path.exists()


def test_a_file_written_again_under_an_amendment_replaces_its_events(varied_study):
    # RFC 5545 3.8.7.4: SEQUENCE goes up when DTSTART changes, or a calendar importing the file
    # again keeps the old date. An amendment adds a version to protocol_version.history:
    # SEQUENCE 1, and DTSTAMP the amendment's date where it is later than the randomization
    amended = varied_study(
        (
            "protocol_version:\n  label: registry record of 2025-02-11\n  date: 2025-02-11\n"
            "  history:\n",
            "protocol_version:\n  label: amendment 1\n  date: 2025-06-01\n  history:\n"
            "    - label: amendment 1\n      date: 2025-06-01\n      summary: Week 4 moved.\n",
        )
    )
    lines = _unfolded_lines(calendar_ics(build_calendar("mmf", RANDOMIZATION, amended)))
    event = _event(lines, "mmf-2025-03-17-visit-week_4@nct06375005.protocol-book")
    assert "SEQUENCE:1" in event
    assert "DTSTAMP:20250601T000000Z" in event


# -- the visit schedule's windows and days, as study.yaml may give them ------------------------

_WEEK_4 = "{id: week_4, label: Week 4, day: 29, window_before: P3D, window_after: P3D"


@pytest.mark.parametrize(
    ("window", "whole"),
    [
        ("PT7H", False),  # read as 0 days
        ("P0.5D", False),
        ("P1DT12H", False),  # read as 1 day
        ("P1.5W", False),  # read as 10 days
        ("PT1S", False),
        ("PT24H", True),  # a day, written in hours
        ("P1DT0H", True),
        ("P2W", True),
        ("P0D", True),
    ],
)
def test_a_visit_window_is_whole_days(varied_study, window, whole):
    from protocol.errors import ProtocolDataError

    change = (_WEEK_4, _WEEK_4.replace("window_after: P3D", f"window_after: {window}"))
    if whole:
        visit = next(v for v in varied_study(change).visit_schedule.value if v.id == "week_4")
        assert visit.after.days * 86400 == visit.after.total_seconds()
    else:
        with pytest.raises(ProtocolDataError, match="is not a whole number of days"):
            varied_study(change)


@pytest.mark.parametrize(
    ("day", "before", "after", "allowed"),
    [(1, "P0D", "P0D", True), (2, "P0D", "P0D", False), (-1, "P0D", "P0D", False),
     (1, "P1D", "P0D", False), (1, "P0D", "P2D", False)],
)  # fmt: skip
def test_the_randomization_visit_is_day_1_with_no_window(varied_study, day, before, after, allowed):
    # moved to day 2, the calendar showed "Randomization (day 1)" the day after the first dose
    from protocol.errors import ProtocolDataError

    old = (
        "{id: randomization, label: Randomization (day 1), day: 1, window_before: P0D, "
        "window_after: P0D"
    )
    new = (
        f"{{id: randomization, label: Randomization (day 1), day: {day}, window_before: {before}, "
        f"window_after: {after}"
    )
    if allowed:
        varied_study((old, new))
    else:
        with pytest.raises(ProtocolDataError, match=r"expected day 1 with no window"):
            varied_study((old, new))
