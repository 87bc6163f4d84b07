"""A participant's calendar: every administration and every visit (with its window) from a
randomization date, as a table, a CSV file and an iCalendar (RFC 5545) file.

Study days: randomization is day 1, so study day ``d`` falls on ``randomization + (d - 1)``
for ``d >= 1`` and on ``randomization + d`` for ``d < 0`` (there is no day 0). Weeks are 7 days.
The visit schedule is an assumption of study.yaml (the registry publishes none); every output
says so.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import itertools
import math
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from dosing.regimens import Regimen, regimens_for_arm
from protocol.errors import ProtocolDataError
from protocol.study import Arm, ProtocolVersion, Study, Visit, load_study, normalise_name
from protocol.units import format_quantity

ASSUMPTION_NOTE = (
    "ASSUMPTION: the registry publishes no visit schedule; these visits are the book's "
    "assumption (study.yaml visit_schedule), to be replaced by the protocol's."
)
SLOTS = {1: ("",), 2: ("morning", "evening"), 3: ("morning", "midday", "evening")}


class CalendarInputError(ProtocolDataError):
    """A calendar request that cannot be met (an unknown arm, a file that exists, ...)."""


def _intervention_aliases(study: Study) -> dict[str, list[str]]:
    """Names a coordinator may type for each intervention: its id, name and first word
    (``mycophenolate``), brand names (``泰爱``, ``RC18``), acronym (``MMF``). A name that the
    registry record also gives another intervention is left out: the record lists "Taiai" under
    mycophenolate mofetil though Tai'ai is telitacicept's brand (PI04), so it names no arm."""
    aliases = _all_intervention_names(study)
    contested = _contested_names(study)
    return {owner: [n for n in names if n not in contested] for owner, names in aliases.items()}


def _all_intervention_names(study: Study) -> dict[str, list[str]]:
    """Every name of each intervention (normalised), contested ones included."""
    aliases: dict[str, list[str]] = {}
    for intervention in study.interventions:
        names = [intervention.id, intervention.name.value, intervention.name.value.split()[0]]
        for brand in intervention.brand_names.value if intervention.brand_names else []:
            outside, _, inside = brand.partition("(")
            # a name in another script in brackets is a name too, a note is not
            names += [outside] + ([inside.rstrip(")")] if inside and not inside.isascii() else [])
        acronym = re.search(
            re.escape(intervention.name.value) + r" \(([A-Z]{2,6})\)",
            intervention.description.value,
        )
        if acronym:
            names.append(acronym.group(1))
        aliases[intervention.id] = [normalise_name(n) for n in names if n.strip()]
    return aliases


def _contested_names(study: Study) -> set[str]:
    """The names of one intervention that the registry record's other names of another
    intervention hold ("Taiai", PI04): they name no arm. A word of the record's other names
    that is no intervention's name ("for", "commercial") or is the intervention's own ("MMF"
    under mycophenolate mofetil) is not contested."""
    return {
        name
        for owner, names in _all_intervention_names(study).items()
        for name in names
        if name in _given_to_another(study, owner)
    }


def _given_to_another(study: Study, owner: str) -> set[str]:
    """The words the registry record's other names of the interventions other than ``owner``
    hold (normalised)."""
    return {
        normalise_name(word)
        for intervention in study.interventions
        if intervention.id != owner and intervention.other_names
        for text in intervention.other_names.value
        for word in re.findall(r"[\w']+", text)
    }


#: What joins the names of an arm's medicines ("MMF + telitacicept", "MMF and telitacicept").
_JOINS = re.compile(r"\+|,|&|/|\band\b|\bplus\b", re.I)
#: A connective word, which is no name on its own: "MMF and", "plus MMF", "MMF with".
_CONNECTIVE_WORD = re.compile(r"^(?:and|plus|with)\b|\b(?:and|plus|with)$", re.I)


def _loose_end(name: str) -> bool:
    """Whether a name (stripped) begins or ends with anything but a letter or digit (a closing
    bracket may end it), or with a connective word: "-mmf" (without MMF?), "mmf +", "mmf.",
    "MMF and" are incomplete, never a name."""
    return (
        not name[0].isalnum()
        or not (name[-1].isalnum() or name[-1] in ")）")
        or bool(_CONNECTIVE_WORD.search(name))
    )


def resolve_arm(text: str, study: Study | None = None) -> Arm:
    """An arm from its id or label, or the medicines it gives, whatever their case and spaces.

    ``telitacicept_mmf``, ``Mycophenolate Mofetil + Telitacicept``, ``MMF + telitacicept`` and
    ``telitacicept`` all name the experimental arm; ``mmf`` and ``mycophenolate`` the comparator.
    Each name must be whole: a sign or a connective with no name on one side ("mmf +",
    "MMF and", "-mmf", "MMF, , telitacicept") names no arm, nor does a part of a name ("myco").
    """
    study = study or load_study()
    valid = "; ".join(f"{arm.id} ({arm.label.value})" for arm in study.arms)
    typed = text.strip()
    # its id or label as listed, case and surrounding spaces aside
    for arm in study.arms:
        if typed.casefold() in (arm.id.casefold(), arm.label.value.strip().casefold()):
            return arm
    if not typed:
        raise CalendarInputError(
            "--arm", [f"{text!r} names no single arm; expected one of: {valid}"]
        )
    parts = [part.strip() for part in _JOINS.split(typed)]
    if _loose_end(typed) or not all(parts) or any(_loose_end(part) for part in parts):
        raise CalendarInputError(
            "--arm",
            [
                f"{text!r}: a sign or a connective ('and', 'plus', 'with', '+', '&', ',', '/') "
                f"with no whole name on one side names no arm; expected one of: {valid}"
            ],
        )
    wanted = normalise_name(typed.replace("+", " "))
    for arm in study.arms:
        if wanted in (normalise_name(arm.id), normalise_name(arm.label.value.replace("+", " "))):
            return arm
    aliases = _intervention_aliases(study)
    names = [normalise_name(part) for part in parts]
    mentioned = set()
    for name, part in zip(names, parts, strict=True):
        hits = {i for i, known in aliases.items() if name in known}  # whole names only
        if len(hits) == 1 and hits <= mentioned:
            # "telitacicept + telitacicept" named the experimental arm: a medicine twice is a
            # slip, and which arm was meant cannot be told
            raise CalendarInputError(
                "--arm",
                [f"{text!r} names one medicine twice ({part!r}); expected one of: {valid}"],
            )
        if len(hits) == 1:
            mentioned |= hits
        else:
            mentioned = set()
            break
    arm_sets = {arm.id: {i.id for i in study.arm_interventions(arm)} for arm in study.arms}
    if mentioned:
        exact = [arm for arm in study.arms if arm_sets[arm.id] == mentioned]
        containing = [arm for arm in study.arms if mentioned <= arm_sets[arm.id]]
        for found in (exact, containing):
            if len(found) == 1:
                return found[0]
    if set(names) & _contested_names(study):
        raise CalendarInputError(
            "--arm",
            [
                f"{text!r}: the registry record and the product label give this name to "
                f"different drugs ({study.issue_for('contested_names')}), so it names no arm; "
                "expected one of: "
                f"{valid}"
            ],
        )
    raise CalendarInputError("--arm", [f"{text!r} names no single arm; expected one of: {valid}"])


def study_day_date(randomization: date, day: int) -> date:
    if day == 0:  # as study.yaml's visit_schedule refuses it
        raise ValueError("there is no day 0: randomization is day 1, the day before is -1")
    return randomization + timedelta(days=day - 1 if day >= 1 else day)


@dataclass(frozen=True)
class Dose:
    intervention: str
    number: int
    date: date
    study_day: int
    slot: str
    dose: str
    route: str


def administrations(regimen: Regimen, randomization: date) -> list[Dose]:
    """Every planned administration of a regimen from randomization (day 1, the first dose)."""
    per_day = regimen.frequency.to("1/day").magnitude
    doses = []
    for index, offset in enumerate(regimen.administration_offsets()):
        days = math.floor(offset.to("day").magnitude + 1e-9)
        slots = SLOTS.get(round(per_day), ("",))  # once a day or less: SLOTS[1] or none
        slot = slots[index % len(slots)]
        doses.append(
            Dose(
                intervention=regimen.name,
                number=index + 1,
                date=randomization + timedelta(days=days),
                study_day=days + 1,
                slot=slot,
                dose=format_quantity(regimen.dose),
                route=regimen.route,
            )
        )
    return doses


@dataclass(frozen=True)
class VisitDates:
    visit: Visit
    target: date
    earliest: date
    latest: date
    activities: tuple[str, ...] = ()  # as readers call them (study.yaml activity_labels)


#: The routes (study.yaml's, as the registry words them) by which a medicine is injected: a
#: CDISC route that begins so is one too (INTRAVENOUS DRIP, INTRAVENOUS BOLUS).
INJECTED_ROUTES = ("SUBCUTANEOUS", "INTRAVENOUS", "INTRAMUSCULAR", "INTRADERMAL")


def injected(route: str) -> bool:
    """Whether a medicine given by ``route`` is injected (its first dose at the site)."""
    return route.strip().upper().startswith(INJECTED_ROUTES)


def visit_dates(
    randomization: date, study: Study | None = None, regimens: list[Regimen] | None = None
) -> list[VisitDates]:
    """Each visit's target day, window and activities; with an arm's ``regimens``, the
    activities of that arm alone (an injection at the site only where the arm injects)."""
    study = study or load_study()
    injects = regimens is None or any(injected(regimen.route) for regimen in regimens)
    skipped = set() if injects else set(study.injection_activities)
    result = []
    for visit in study.visit_schedule.value:
        target = study_day_date(randomization, visit.day)
        labels = tuple(study.activity_labels[a] for a in visit.activities if a not in skipped)
        result.append(
            VisitDates(visit, target, target - visit.before, target + visit.after, labels)
        )
    return result


@dataclass(frozen=True)
class Calendar:
    arm: Arm
    randomization: date
    visits: list[VisitDates]
    doses: list[Dose]
    regimens: list[Regimen]
    #: the protocol version the dates follow: an amendment's file updates the events it moves
    protocol_version: ProtocolVersion | None = None

    def rows(self, daily_detail: bool = True) -> list[dict[str, str]]:
        """One row per visit and per administration, by date (visits first on a shared day)."""
        rows = [
            {
                "date": v.target.isoformat(),
                "kind": "visit",
                "what": v.visit.label,
                "window": f"{v.earliest.isoformat()} to {v.latest.isoformat()}",
                "detail": ", ".join(v.activities),
            }
            for v in self.visits
        ]
        for dose in self.doses:
            if not daily_detail and dose.slot:
                continue
            rows.append(
                {
                    "date": dose.date.isoformat(),
                    "kind": "dose",
                    "what": f"{dose.intervention} {dose.dose} {dose.route.lower()}"
                    + (f" ({dose.slot})" if dose.slot else ""),
                    "window": "",
                    "detail": f"dose {dose.number}, study day {dose.study_day}",
                }
            )
        return sorted(rows, key=lambda r: r["date"])  # stable: a day's visits (first) stay first


@dataclass(frozen=True)
class LabelRequirementDates:
    topic: str
    applies_to: str
    last_dose: date
    until: date  # the last day the requirement still applies


def label_requirement_dates(
    calendar: Calendar, study: Study | None = None
) -> list[LabelRequirementDates]:
    """How long each label requirement that outlasts treatment applies for this participant:
    through the last planned dose of its medicine plus the label's period ("for 6 weeks after the
    last dose" lasts through the 42nd day after it). Requirements of a medicine the arm does not
    give, or without a period, are left out."""
    study = study or load_study()
    last_dose: dict[str, date] = {}
    for regimen in calendar.regimens:
        dates = [d.date for d in calendar.doses if d.intervention == regimen.name]
        if dates:
            last_dose[regimen.intervention_id] = max(dates)
    result = []
    for requirement in study.label_requirements:
        period = requirement.until_after_last_dose
        if period is None or requirement.intervention not in last_dose:
            continue
        last = last_dose[requirement.intervention]
        days = round(period.to("day").magnitude)  # whole days, checked when study.yaml loads
        result.append(
            LabelRequirementDates(
                requirement.topic, requirement.applies_to, last, last + timedelta(days=days)
            )
        )
    return result


def build_calendar(arm_text: str, randomization: date, study: Study | None = None) -> Calendar:
    study = study or load_study()
    arm = resolve_arm(arm_text, study)
    regimens = regimens_for_arm(arm.id, study)
    doses = [dose for regimen in regimens for dose in administrations(regimen, randomization)]
    visits = visit_dates(randomization, study, regimens)
    _refuse_dates_out_of_range(randomization, visits, doses)
    return Calendar(arm, randomization, visits, doses, regimens, study.protocol_version)


def _refuse_dates_out_of_range(
    randomization: date, visits: list[VisitDates], doses: list[Dose]
) -> None:
    """Every date a calendar prints lies within the dates the book reads (1900 to 2100): a
    randomization on 1900-01-01 printed a screening visit in 1899, one on 2100-12-31 visits
    in 2102. The randomization dates whose calendar fits are named."""
    from protocol.errors import Problem
    from protocol.inputs import EARLIEST_DATE, LATEST_DATE

    dates = [d.date for d in doses]
    dates += [day for v in visits for day in (v.earliest, v.target, v.latest)]
    first, last = min(dates, default=randomization), max(dates, default=randomization)
    if first >= EARLIEST_DATE and last <= LATEST_DATE:
        return
    earliest = EARLIEST_DATE + (randomization - first)
    latest = LATEST_DATE - (last - randomization)
    raise CalendarInputError(
        "trialbook calendar",
        [
            Problem(
                f"a randomization whose calendar (here from {first} to {last}) lies within "
                f"{EARLIEST_DATE} to {LATEST_DATE}: a date from {earliest} to {latest}",
                path="--randomization",
                found=str(randomization),
            )
        ],
    )


# -- contents --------------------------------------------------------------------------------


def calendar_csv(calendar: Calendar) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["date", "kind", "what", "window", "detail"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(
        {key: _not_a_formula(value) for key, value in row.items()} for row in calendar.rows()
    )
    return buffer.getvalue()


def _not_a_formula(value: object) -> object:
    """A text a spreadsheet would run as a formula (an amended study's visit label
    ``=HYPERLINK(...)``) kept as text by a leading apostrophe, as the pre-screening files do."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


TIMES_PER_DAY = {1: "once daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}


def _per_day_text(regimen: Regimen) -> str:
    """``twice daily`` from a frequency of 2/day (the number is the regimen's, not typed)."""
    per_day = regimen.frequency.to("1/day").magnitude
    if abs(per_day - round(per_day)) < 1e-9 and round(per_day) in TIMES_PER_DAY:
        return TIMES_PER_DAY[round(per_day)]
    return f"{format_quantity(regimen.frequency.to('1/day'))}"


@dataclass(frozen=True)
class Course:
    """A regimen given several times a day, shown as one span rather than one event a dose."""

    regimen: Regimen
    doses: list[Dose]

    @property
    def first(self) -> Dose:
        return self.doses[0]

    @property
    def last(self) -> Dose:
        return self.doses[-1]

    @property
    def summary(self) -> str:
        """``Mycophenolate Mofetil 0.5 g twice daily (oral), 2025-03-17 to 2026-02-15``."""
        regimen = self.regimen
        return (
            f"{regimen.name} {format_quantity(regimen.dose)} {_per_day_text(regimen)} "
            f"({regimen.route.lower()}), {self.first.date.isoformat()} to "
            f"{self.last.date.isoformat()}"
        )


def oral_courses(calendar: Calendar) -> list[Course]:
    """The regimens given more than once a day (their doses have a morning/evening slot)."""
    courses = []
    for regimen in calendar.regimens:
        doses = sorted(
            (d for d in calendar.doses if d.intervention == regimen.name and d.slot),
            key=lambda d: d.number,
        )
        if doses:
            courses.append(Course(regimen, doses))
    return courses


def calendar_ics(calendar: Calendar, participant: str | None = None) -> bytes:
    """An iCalendar file: one all-day event per visit, one per injection, and one all-day event
    spanning each course of doses given several times a day (the oral MMF course).

    ``participant``: the participant's pseudonymous code, in each event's UID and summary. RFC
    5545 asks a UID to be unique: without a code, two participants randomized on one day to one
    arm share their events' UIDs, and a calendar holding both keeps one participant's events.
    The same request gives the same UIDs, so a file written again updates its events.

    The twice-daily doses are not one event each (672 alarms a year help nobody): each such course
    is a single all-day event from its first to its last day (DTEND is the day after the last
    dose, as RFC 5545 counts all-day events); the CSV file lists every dose. DTSTAMP is the
    randomization date (00:00 UTC), or the protocol version's date where later, not the time of
    writing, so the same request always gives the same file. SEQUENCE counts the protocol's
    versions before the one in use (0 for the first): a file written again under an amendment
    that moves a visit carries a higher SEQUENCE and a later DTSTAMP, and a calendar importing
    it replaces the old event (RFC 5545 3.8.7.4), where the same UID and SEQUENCE kept it.
    """
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    ical = ICalendar()
    ical.add("prodid", "-//NCT06375005 protocol book//trialbook calendar//EN")
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("x-wr-calname", f"NCT06375005 {calendar.arm.label.value} (synthetic schedule)")
    version = calendar.protocol_version
    sequence = len(version.history) - 1 if version is not None else 0
    stamped_on = max(calendar.randomization, version.date) if version else calendar.randomization
    stamp = datetime.combine(stamped_on, time(), tzinfo=UTC)
    uid_base = f"{calendar.arm.id}-{calendar.randomization.isoformat()}"
    who = ""
    if participant is not None:
        uid_base = f"{participant}-{uid_base}"
        who = f" {participant}"
    for v in calendar.visits:
        event = Event()
        event.add("uid", f"{uid_base}-visit-{v.visit.id}@nct06375005.protocol-book")
        event.add("dtstamp", stamp)
        event.add("sequence", sequence)
        event.add("dtstart", v.target)
        event.add("dtend", v.target + timedelta(days=1))
        event.add("summary", f"NCT06375005{who} {v.visit.label}")
        event.add(
            "description",
            f"Window {v.earliest.isoformat()} to {v.latest.isoformat()}. Activities: "
            f"{', '.join(v.activities)}. {ASSUMPTION_NOTE}",
        )
        ical.add_component(event)
    for course in oral_courses(calendar):
        regimen, first, last = course.regimen, course.first, course.last
        slots = list(dict.fromkeys(d.slot for d in course.doses))
        event = Event()
        event.add(
            "uid", f"{uid_base}-{normalise_name(regimen.name)}-course@nct06375005.protocol-book"
        )
        event.add("dtstamp", stamp)
        event.add("sequence", sequence)
        event.add("dtstart", first.date)
        event.add("dtend", last.date + timedelta(days=1))
        event.add("summary", f"{course.summary}{who and f' ({who.strip()})'}")
        event.add(
            "description",
            f"{len(course.doses)} doses of {format_quantity(regimen.dose)} "
            f"({regimen.route.lower()}), {_per_day_text(regimen)} ({' and '.join(slots)}), "
            f"every day from study day {first.study_day} ({first.date.isoformat()}) to study "
            f"day {last.study_day} ({last.date.isoformat()}): {format_quantity(regimen.duration)}"
            ", day 1 being randomization. The CSV file lists every dose.",
        )
        event.add("transp", "TRANSPARENT")  # a course of tablets does not make anyone busy
        ical.add_component(event)
    for dose in calendar.doses:
        if dose.slot:  # doses several times a day: in their course's event above
            continue
        event = Event()
        event.add(
            "uid",
            f"{uid_base}-{normalise_name(dose.intervention)}-{dose.number}"
            "@nct06375005.protocol-book",
        )
        event.add("dtstamp", stamp)
        event.add("sequence", sequence)
        event.add("dtstart", dose.date)
        event.add("dtend", dose.date + timedelta(days=1))
        event.add(
            "summary",
            f"{dose.intervention} {dose.dose} {dose.route.lower()} (dose {dose.number}"
            f"{who and f', {who.strip()}'})",
        )
        ical.add_component(event)
    return ical.to_ical()


# -- files -----------------------------------------------------------------------------------
#
# The calendar never loses a file: every target is checked before anything is written (a folder,
# a missing folder, a dangling link, a pipe or device, an existing file without --force are all
# refused, with nothing written); both contents are made in memory first; each file is written to
# a temporary file in its own folder, flushed and fsynced, then moved onto its name in one step
# (os.replace), so a reader sees the old file or the new one, never half of one.

EXAMPLE_NAMES = {"--csv": "calendar.csv", "--ics": "calendar.ics"}


class CalendarFileError(CalendarInputError):
    """An output file refused or not written; ``problems`` holds one complete line for each:
    the option, the path as given, what is wrong and what was expected."""

    def __init__(self, problems: list[str]):
        super().__init__("calendar files", problems)

    def __str__(self) -> str:
        return "\n".join(self.problems)

    def __reduce__(self):
        return (type(self), (self.problems,))


class CalendarWriteError(CalendarFileError):
    """The system refused a write (disk full, permissions, ...) after every check passed."""


def refuse_links_in_folder(folder: Path, names: Iterable[str]) -> None:
    """An output folder's files are its own: a symbolic link at one of their names (to a file
    elsewhere) is refused, never written through, even with --force, or that file, one the user
    never named, would be replaced. (A file named on the command line, as the calendar's are,
    may be a link: the user chose it.)"""
    linked = [
        f"{name} {str(folder / name)!r}: it is a symbolic link (to "
        f"{os.readlink(folder / name)!r}); expected the output folder's own file (remove "
        "the link, or choose another folder; a link is never written through, even with "
        "--force)"
        for name in names
        if os.path.islink(folder / name)
    ]
    if linked:
        raise CalendarFileError(linked)


@dataclass(frozen=True)
class Target:
    """A checked output file: the option and path as given, and where its bytes will go."""

    option: str
    path: str
    real: Path  # symbolic links followed: the link is kept, the file it points to is replaced
    replaces: bool  # an existing regular file is replaced (--force)


_EXISTS = "the file exists and is not overwritten"
_EXISTS_EXPECTED = "a new file name, or --force to replace it"


def _refusal(option: str, path: str, problem: str, expected: str) -> str:
    return f"{option} {path!r}: {problem}; expected {expected}"


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _first_non_folder(path: str) -> str:
    """The first component of ``path``'s folders that exists and is not a folder."""
    for parent in reversed(Path(path).parents):
        if parent.exists() and not parent.is_dir():
            return str(parent)
    return os.path.dirname(path) or os.curdir


def check_writable(path: Path | str, force: bool = False, option: str = "file") -> Target:
    """Where ``path``'s bytes would go, or a CalendarFileError saying why it is refused.

    Only a new name in an existing folder, or (with ``force``) an existing regular file, may be
    written. Refused whatever ``force`` says: an empty name, a folder, a missing folder, a path
    through a file, a dangling or looping symbolic link, a pipe, device or socket.
    """
    text = os.fspath(path)
    example = EXAMPLE_NAMES.get(option, "calendar.csv")

    def refuse(problem: str, expected: str) -> CalendarFileError:
        return CalendarFileError([_refusal(option, text, problem, expected)])

    if text == "":
        raise refuse("the name is empty", f"a file name such as {example}")
    if "\0" in text:
        raise refuse("the name contains a NUL character", f"a file name such as {example}")
    if text == "-":  # many commands' standard output; a file named "-" would surprise
        raise refuse(
            "'-' names no file (the output is not written to the screen)",
            f"a file name such as {example}",
        )
    if text.endswith((os.sep, os.altsep or os.sep)):
        raise refuse(
            "it ends with a path separator, so it names a folder",
            f"a file name such as {os.path.join(text, example)}",
        )
    try:
        found = os.lstat(text)
    except FileNotFoundError:
        found = None
    except NotADirectoryError:
        raise refuse(
            f"{_first_non_folder(text)!r} in its path is a file, not a folder",
            "a path through existing folders",
        ) from None
    except OSError as exc:
        raise refuse(
            f"it cannot be examined ({exc.strerror})", "a path that can be written"
        ) from None

    if found is None:
        folder = os.path.dirname(text) or os.curdir
        try:
            folder_is_dir = stat.S_ISDIR(os.stat(folder).st_mode)
        except FileNotFoundError:
            raise refuse(
                f"the folder {folder!r} does not exist", "an existing folder (create it first)"
            ) from None
        except OSError as exc:
            raise refuse(
                f"its folder {folder!r} cannot be examined ({exc.strerror})", "a folder to write in"
            ) from None
        if not folder_is_dir:
            raise refuse(f"{folder!r} is a file, not a folder", "a path through existing folders")
        real, replaces = Path(os.path.realpath(folder)) / os.path.basename(text), False
    else:
        mode = found.st_mode
        if stat.S_ISLNK(mode):
            try:
                mode = os.stat(text).st_mode
            except FileNotFoundError:
                raise refuse(
                    f"it is a symbolic link to {os.readlink(text)!r}, which does not exist",
                    "a regular file or a new file name",
                ) from None
            except OSError as exc:
                raise refuse(
                    f"it is a symbolic link that cannot be followed ({exc.strerror})",
                    "a regular file or a new file name",
                ) from None
        if stat.S_ISDIR(mode):
            problem = "it is a folder"
            if force:
                problem += ", and --force replaces only regular files, never a folder"
            if option in EXAMPLE_NAMES:  # a name the user chose: a file inside it, say
                raise refuse(problem, f"a file name such as {os.path.join(text, example)}")
            raise refuse(  # a file whose name is fixed (prescreen's outputs): the folder moves
                problem,
                f"no folder named {os.path.basename(text)!r} where the file is written (move "
                "it, or choose another output folder)",
            )
        if not stat.S_ISREG(mode):
            raise refuse(
                f"it is {_file_kind(mode)}, not a regular file (only regular files are replaced, "
                "even with --force)",
                "a regular file or a new file name",
            )
        if not force:
            raise refuse(_EXISTS, _EXISTS_EXPECTED)
        if not mode & _ANYONE_WRITES:
            # read-only for everyone (a record kept as a primary source): --force is no leave
            # to replace it, even where the administrator's account could
            raise refuse(
                "the file is read-only, and --force never replaces a read-only file",
                "a new file name, or a file that may be written",
            )
        real, replaces = Path(os.path.realpath(text)), True
    if not writable_folder(real.parent):
        raise refuse(
            f"the folder {str(real.parent)!r} is not writable", "a folder you may write in"
        )
    return Target(option, text, real, replaces)


#: The write permission of the owner, the group or others: a file or folder with none of them
#: is read-only even to the administrator's account, which os.access lets write anything.
_ANYONE_WRITES = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def writable_folder(folder: Path | str) -> bool:
    """Whether files may be written (or folders made) in ``folder``: this user may, and the
    folder is not read-only for everyone (which the administrator's account would ignore)."""
    try:
        return os.access(folder, os.W_OK | os.X_OK) and bool(
            os.stat(folder).st_mode & _ANYONE_WRITES
        )
    except OSError:
        return False


def _same_file(first: str, second: str) -> bool:
    try:
        if os.path.realpath(first) == os.path.realpath(second):
            return True
        return os.path.exists(first) and os.path.exists(second) and os.path.samefile(first, second)
    except (OSError, ValueError):
        return False


def check_targets(
    targets: Sequence[tuple[str, Path | str]],
    force: bool = False,
    inputs: Iterable[Path | str | None] = (),
) -> list[Target]:
    """Check every (option, path) before anything is written; refuse them all at once.

    Two options naming one file (``c.csv`` and ``./c.csv``, or a link to it) are refused first.
    Refused whatever ``force`` says: a target that is, directly or through a link, one of the
    run's ``inputs`` (a table, a mapping, a --study) or one of the project's sources of truth
    (``protected_files``): an output written over them would lose them.
    """
    given = [(option, os.fspath(path)) for option, path in targets]
    problems = []
    for (option, path), (other_option, other) in itertools.combinations(given, 2):
        if path and other and _same_file(path, other):  # a NUL in a name: not the same file
            problems.append(
                f"{option} {path!r} and {other_option} {other!r} name the same file "
                f"({os.path.realpath(path)}); expected two different paths"
            )
    if problems:
        raise CalendarFileError(problems)
    checked = []
    existing = []  # files kept for want of --force: said in one line when several are
    for option, path in given:
        try:
            checked.append(check_writable(path, force, option))
        except CalendarFileError as exc:
            if exc.problems == [_refusal(option, path, _EXISTS, _EXISTS_EXPECTED)]:
                existing.append(path)
            problems += exc.problems
    if len(existing) >= 2:
        problems = [
            p for p in problems if not p.endswith(f"{_EXISTS}; expected {_EXISTS_EXPECTED}")
        ]
        folders = {os.path.dirname(path) or "." for path in existing}
        where = f"in {next(iter(folders))!r} " if len(folders) == 1 else ""
        names = ", ".join(
            os.path.basename(path) if len(folders) == 1 else repr(path) for path in existing
        )
        problems.append(
            f"{len(existing)} files {where}exist and are not overwritten ({names}); expected "
            "another output folder or new file names, or --force to replace them"
        )
    kept = [("the input", os.fspath(p)) for p in inputs if p is not None and os.fspath(p)]
    kept += [("the project's", os.fspath(p)) for p in protected_files()]
    for target in checked:
        clash = next((k for k in kept if _same_file(os.fspath(target.real), k[1])), None)
        if clash is not None:
            what = "of this run" if clash[0] == "the input" else "source of truth"
            linked = " (through a link)" if os.path.islink(target.path) else ""
            problems.append(
                f"{target.option} {target.path!r}{linked}: it is {clash[0]} {what} "
                f"{clash[1]!r}; expected another output (it is never overwritten, even with "
                "--force)"
            )
    if problems:
        raise CalendarFileError(problems)
    return checked


def protected_files() -> tuple[Path, ...]:
    """The project's own sources of truth, which no output may replace: the study, the stored
    registry record and the published values its literature facts are checked against."""
    from protocol.study import STUDY_PATH

    registry = STUDY_PATH.parent / "registry"
    return (STUDY_PATH, registry / "NCT06375005.json", registry / "published.yaml")


def new_file_mode() -> int:
    """The mode a new file gets from open() (0666 less the umask): mkstemp's 0600 would make a
    published file unreadable to a web server."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _stage(target: Target, data: bytes) -> str:
    """``data`` in a temporary file beside the target, flushed to disk; its name."""
    mode = stat.S_IMODE(os.stat(target.real).st_mode) if target.replaces else new_file_mode()
    descriptor, name = tempfile.mkstemp(
        dir=target.real.parent, prefix=f".{target.real.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        _remove(name)
        raise
    return name


def _commit(target: Target, staged: str) -> None:
    """Move the staged file onto the target in one step. A new name never clobbers a file that
    appeared since the check: it is hard-linked into place, which fails if the name exists."""
    if target.replaces:
        os.replace(staged, target.real)
    else:
        try:
            os.link(staged, target.real)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if os.path.lexists(target.real):
                raise FileExistsError(errno.EEXIST, "File exists", str(target.real)) from None
            os.replace(staged, target.real)
        else:
            _remove(staged)
    with contextlib.suppress(OSError):  # the rename itself on disk (best effort)
        folder = os.open(target.real.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def write_targets(planned: Sequence[tuple[Target, bytes]]) -> list[Path]:
    """Write checked targets: every content staged first, then each moved into place.

    A failure while staging leaves every target as it was. A failure moving the second file
    into place, after the first was, is reported naming what was written and what was not.
    No temporary file is left behind either way.
    """
    staged: list[tuple[Target, str]] = []
    written: list[Target] = []
    current = None
    try:
        for current, data in planned:
            staged.append((current, _stage(current, data)))
        for current, name in list(staged):
            _commit(current, name)
            staged.remove((current, name))
            written.append(current)
    except OSError as exc:
        reason = (
            "a file appeared there while writing and is not overwritten"
            if isinstance(exc, FileExistsError)
            else f"it could not be written ({exc.strerror or exc})"
        )
        assert current is not None
        if written:
            done = ", ".join(f"{t.option} {t.path!r}" for t in written)
            state = f"it is unchanged, but {done} was already written (complete)"
        else:
            state = "nothing was written"
        raise CalendarWriteError(
            [
                f"{current.option} {current.path!r}: {reason}; {state}; expected a path that can "
                "be written (check the disk space and permissions, then run again)"
            ]
        ) from None
    finally:
        for _, name in staged:
            _remove(name)
    return [Path(t.path) for t in written]


def write_file(
    path: Path | str, content: str | bytes, force: bool = False, option: str = "file"
) -> Path:
    """Write one file safely (see ``check_writable`` and ``write_targets``)."""
    target = check_writable(path, force, option)
    data = content.encode("utf-8") if isinstance(content, str) else content
    return write_targets([(target, data)])[0]


def write_calendar_files(
    calendar: Calendar,
    csv_path: Path | str | None = None,
    ics_path: Path | str | None = None,
    force: bool = False,
    inputs: Iterable[Path | str | None] = (),
    participant: str | None = None,
) -> list[Path]:
    """The ``--csv`` and ``--ics`` files of a calendar: all checked (never one of ``inputs``,
    the study it was built from), then all written."""
    wanted = [(o, p) for o, p in (("--csv", csv_path), ("--ics", ics_path)) if p is not None]
    targets = check_targets(wanted, force, inputs)
    render = {
        "--csv": lambda: calendar_csv(calendar).encode("utf-8"),
        "--ics": lambda: calendar_ics(calendar, participant),
    }
    return write_targets([(target, render[target.option]()) for target in targets])


def calendar_moves(old: Study, new: Study, randomization: date) -> list[tuple[str, str, str]]:
    """(arm, before, after) for the visits and doses a protocol change moves, for a participant
    randomized on ``randomization``: a visit by its date and name, a dose by its date, medicine
    and time of day. A dose's amount is not a date: a changed dose is a fact that changed, and
    listing every one of 672 doses as gone and new hid what moved."""
    moves = []
    old_arms = {arm.id for arm in old.arms}
    for arm in new.arms:
        if arm.id not in old_arms:
            continue
        before = _calendar_keys(build_calendar(arm.id, randomization, old))
        after = _calendar_keys(build_calendar(arm.id, randomization, new))
        moves += [(arm.id, before[key], "(gone)") for key in sorted(set(before) - set(after))]
        moves += [(arm.id, "(new)", after[key]) for key in sorted(set(after) - set(before))]
    return moves


def _calendar_keys(calendar: Calendar) -> dict[tuple[str, ...], str]:
    keys = {
        (v.target.isoformat(), "visit", v.visit.label): f"{v.target} visit {v.visit.label}"
        for v in calendar.visits
    }
    for dose in calendar.doses:
        slot = f" ({dose.slot})" if dose.slot else ""
        keys[(dose.date.isoformat(), "dose", dose.intervention, dose.slot)] = (
            f"{dose.date} {dose.intervention} dose{slot}"
        )
    return keys
