"""A participant's calendar: every administration and every visit (with its window) from a
randomization date, as a table, a CSV file and an iCalendar (RFC 5545) file.

Study days: randomization is day 1, so study day ``d`` falls on ``randomization + (d - 1)``
for ``d >= 1`` and on ``randomization + d`` for ``d < 0`` (there is no day 0). Weeks are 7 days.
The visit schedule is an assumption of study.yaml (the registry publishes none); every output
says so.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from dosing.regimens import Regimen, regimens_for_arm
from protocol.errors import ProtocolDataError
from protocol.study import Arm, Study, Visit, load_study, normalise_name
from protocol.units import format_quantity

ASSUMPTION_NOTE = (
    "ASSUMPTION: the registry publishes no visit schedule; these visits are the book's "
    "assumption (study.yaml visit_schedule), to be replaced by the protocol's."
)
SLOTS = {1: ("",), 2: ("morning", "evening"), 3: ("morning", "midday", "evening")}


class CalendarInputError(ProtocolDataError):
    """A calendar request that cannot be met (an unknown arm, a file that exists, ...)."""


def _intervention_aliases(study: Study) -> dict[str, list[str]]:
    """Names a coordinator may type for each intervention: id, name, brand names, acronym."""
    aliases = {}
    for intervention in study.interventions:
        names = [intervention.id, intervention.name.value]
        names += intervention.brand_names.value if intervention.brand_names else []
        acronym = re.search(
            re.escape(intervention.name.value) + r" \(([A-Z]{2,6})\)",
            intervention.description.value,
        )
        if acronym:
            names.append(acronym.group(1))
        aliases[intervention.id] = [normalise_name(n) for n in names]
    return aliases


def resolve_arm(text: str, study: Study | None = None) -> Arm:
    """An arm from its id, its label, or the interventions it gives, forgiving case and spaces.

    ``telitacicept_mmf``, ``Mycophenolate Mofetil + Telitacicept``, ``MMF + telitacicept`` and
    ``telitacicept`` all name the experimental arm; ``mmf`` and ``mycophenolate`` the comparator.
    """
    study = study or load_study()
    wanted = normalise_name(text.replace("+", " "))
    for arm in study.arms:
        if wanted in (normalise_name(arm.id), normalise_name(arm.label.value.replace("+", " "))):
            return arm
    aliases = _intervention_aliases(study)
    parts = [normalise_name(p) for p in re.split(r"\+|,|&|/|\band\b|\bplus\b", text, flags=re.I)]
    mentioned = set()
    for part in filter(None, parts):
        hits = {i for i, names in aliases.items() if any(n.startswith(part) for n in names)}
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
    valid = "; ".join(f"{arm.id} ({arm.label.value})" for arm in study.arms)
    raise CalendarInputError("--arm", [f"{text!r} names no single arm; expected one of: {valid}"])


def study_day_date(randomization: date, day: int) -> date:
    return randomization + timedelta(days=day - 1 if day > 0 else day)


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
        slots = SLOTS.get(round(per_day), ("",)) if per_day > 1 else ("",)
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


def visit_dates(randomization: date, study: Study | None = None) -> list[VisitDates]:
    study = study or load_study()
    result = []
    for visit in study.visit_schedule.value:
        target = study_day_date(randomization, visit.day)
        result.append(VisitDates(visit, target, target - visit.before, target + visit.after))
    return result


@dataclass(frozen=True)
class Calendar:
    arm: Arm
    randomization: date
    visits: list[VisitDates]
    doses: list[Dose]
    regimens: list[Regimen]

    def rows(self, daily_detail: bool = True) -> list[dict[str, str]]:
        """One row per visit and per administration, by date (visits first on a shared day)."""
        rows = [
            {
                "date": v.target.isoformat(),
                "kind": "visit",
                "what": v.visit.label,
                "window": f"{v.earliest.isoformat()} to {v.latest.isoformat()}",
                "detail": ", ".join(v.visit.activities),
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
        order = {"visit": 0, "dose": 1}
        return sorted(rows, key=lambda r: (r["date"], order[r["kind"]]))


def build_calendar(arm_text: str, randomization: date, study: Study | None = None) -> Calendar:
    study = study or load_study()
    arm = resolve_arm(arm_text, study)
    regimens = regimens_for_arm(arm.id, study)
    doses = [dose for regimen in regimens for dose in administrations(regimen, randomization)]
    return Calendar(arm, randomization, visit_dates(randomization, study), doses, regimens)


# -- files -----------------------------------------------------------------------------------


def check_writable(path: Path | str, force: bool = False) -> None:
    """Refuse an existing file unless forced (nothing is overwritten by accident)."""
    path = Path(path)
    if path.exists() and not force:
        raise CalendarInputError(
            str(path), ["the file exists; it is not overwritten (give --force to replace it)"]
        )


def calendar_csv(calendar: Calendar) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["date", "kind", "what", "window", "detail"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(calendar.rows())
    return buffer.getvalue()


def calendar_ics(calendar: Calendar) -> bytes:
    """An iCalendar file: one all-day event per visit and one per injection.

    Daily oral doses are not events (672 alarms a year help nobody); the course is one note in
    the calendar's description. DTSTAMP is the randomization date (00:00 UTC), not the time of
    writing, so the same request always gives the same file.
    """
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    ical = ICalendar()
    ical.add("prodid", "-//NCT06375005 protocol book//trialbook calendar//EN")
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("x-wr-calname", f"NCT06375005 {calendar.arm.label.value} (synthetic schedule)")
    stamp = datetime.combine(calendar.randomization, time(0, 0), tzinfo=UTC)
    uid_base = f"{calendar.arm.id}-{calendar.randomization.isoformat()}"
    for v in calendar.visits:
        event = Event()
        event.add("uid", f"{uid_base}-visit-{v.visit.id}@nct06375005.protocol-book")
        event.add("dtstamp", stamp)
        event.add("dtstart", v.target)
        event.add("dtend", v.target + timedelta(days=1))
        event.add("summary", f"NCT06375005 {v.visit.label}")
        event.add(
            "description",
            f"Window {v.earliest.isoformat()} to {v.latest.isoformat()}. Activities: "
            f"{', '.join(v.visit.activities)}. {ASSUMPTION_NOTE}",
        )
        ical.add_component(event)
    for dose in calendar.doses:
        if dose.slot:  # oral doses several times a day: not calendar events
            continue
        event = Event()
        event.add(
            "uid",
            f"{uid_base}-{normalise_name(dose.intervention)}-{dose.number}"
            "@nct06375005.protocol-book",
        )
        event.add("dtstamp", stamp)
        event.add("dtstart", dose.date)
        event.add("dtend", dose.date + timedelta(days=1))
        event.add(
            "summary", f"{dose.intervention} {dose.dose} {dose.route.lower()} (dose {dose.number})"
        )
        ical.add_component(event)
    return ical.to_ical()


def write_file(path: Path | str, content: str | bytes, force: bool = False) -> Path:
    path = Path(path)
    check_writable(path, force)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path
