"""Prohibited medicines and washout windows: when can this participant be randomized?

The catalogue (study.yaml ``medication_classes``, ``corticosteroid_rule``, ``exposure_events``)
holds every medicine, class and event named in EX08-EX15, EX20, EX23 and EX26/EX29, each with
its window as a pint quantity (or "ever") and the date it counts back from.

Calendar semantics (study.yaml ``washout_convention``, an assumption):

- weeks and days are exact (7 days a week); months and years are calendar months and years
  (``dateutil.relativedelta``: 31 May minus 3 months is 28 or 29 February);
- a window of N before an anchor date A starts on ``A - N``; a last dose on or after that day
  is *within* the window. A dose exactly on the boundary day is within (excluded), and the
  result says so; the first date it clears is the next day;
- durations stay pint Quantities until :func:`calendar_offset` turns one into a calendar step.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import pint
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, model_validator

from protocol.errors import ProtocolDataError
from protocol.facts import Window
from protocol.study import (
    Drug,
    ExposureEvent,
    MedicationClass,
    Study,
    load_study,
    normalise_name,
    read_yaml,
    validate_document,
)
from protocol.units import format_quantity, ureg

Status = Literal["pass", "fail", "unknown"]
Route = Literal["oral", "iv", "im", "sc", "topical", "inhaled"]

#: Administrations per day for the frequencies people write ("once" is a single dose).
FREQUENCY_PER_DAY: dict[str, float] = {
    "once": 1,
    "daily": 1,
    "once daily": 1,
    "once a day": 1,
    "qd": 1,
    "od": 1,
    "twice daily": 2,
    "twice a day": 2,
    "bid": 2,
    "three times daily": 3,
    "three times a day": 3,
    "tid": 3,
    "four times daily": 4,
    "qid": 4,
    "every other day": 0.5,
    "weekly": 1 / 7,
    "once weekly": 1 / 7,
    "once a week": 1 / 7,
    "every 2 weeks": 1 / 14,
    "monthly": 12 / 365.25,
}


class WashoutInputError(ProtocolDataError):
    """The washout input file is not usable; each problem names the entry and field."""


# -- the input file ----------------------------------------------------------------------------


class MedicationEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    last_dose: date | None = None
    ongoing: bool = False
    dose: str | None = None
    frequency: str | None = None
    route: Route | None = None
    investigator_cleared: bool = Field(
        False,
        description="For a medicine the catalogue does not know: the investigator attests it is "
        "not a prohibited medicine",
    )

    @model_validator(mode="after")
    def _one_of_last_dose_or_ongoing(self) -> MedicationEntry:
        if (self.last_dose is None) == (not self.ongoing):
            raise ValueError("give either 'last_dose: YYYY-MM-DD' or 'ongoing: true'")
        return self


class EventEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    date: datetime.date | None = None  # the field is named as the input file names it
    ongoing: bool = False


class WashoutInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    planned_randomization: date
    screening: date | None = None
    medications: list[MedicationEntry] = []
    events: list[EventEntry] = []

    @model_validator(mode="after")
    def _dates_in_order(self) -> WashoutInput:
        if self.screening and self.screening > self.planned_randomization:
            raise ValueError(
                f"screening {self.screening} is after planned_randomization "
                f"{self.planned_randomization}; screening comes first"
            )
        return self


def parse_washout_input(data: Any, source: str, node: Any = None) -> WashoutInput:
    """Validate an input mapping; every problem names the entry (with its name) and the field."""
    parsed = validate_document(WashoutInput, data, source, node, WashoutInputError)
    problems = entry_problems(parsed)
    if problems:
        raise WashoutInputError(source, problems)
    return parsed


def load_washout_input(path: Path | str, randomization: date | None = None) -> WashoutInput:
    """Read a YAML or JSON input file; ``randomization`` overrides its planned date."""
    path = Path(path)
    data, node = read_yaml(path)
    if randomization is not None and isinstance(data, dict):
        data = {**data, "planned_randomization": randomization}
    return parse_washout_input(data, str(path), node)


def entry_problems(data: WashoutInput) -> list[str]:
    problems = []
    kinds = {event.kind for event in load_study().exposure_events}
    for index, med in enumerate(data.medications):
        where = f"medications[{index}] ({med.name})"
        if med.last_dose and med.last_dose > data.planned_randomization:
            problems.append(
                f"{where}.last_dose = {med.last_dose}: after the planned randomization "
                f"{data.planned_randomization}; a last dose before randomization was expected"
            )
        if med.dose is not None:
            try:
                dose = ureg.Quantity(med.dose)
                assert isinstance(dose, pint.Quantity)
                dose.to("mg")
            except Exception:
                problems.append(
                    f"{where}.dose = {med.dose!r}: not a mass; expected a dose such as '15 mg'"
                )
        if med.frequency is not None and _per_day(med.frequency) is None:
            problems.append(
                f"{where}.frequency = {med.frequency!r}: not a frequency the book knows; "
                f"expected one of: {', '.join(FREQUENCY_PER_DAY)}"
            )
    for index, event in enumerate(data.events):
        where = f"events[{index}] ({event.kind})"
        if event.kind not in kinds:
            problems.append(
                f"{where}.kind = {event.kind!r}: unknown event kind; expected one of: "
                f"{', '.join(sorted(kinds))}"
            )
        rule = {e.kind: e.rule for e in load_study().exposure_events}.get(event.kind)
        if rule == "window" and (event.date is None) == (not event.ongoing):
            problems.append(f"{where}: give either 'date: YYYY-MM-DD' or 'ongoing: true'")
        if event.date and event.date > data.planned_randomization:
            problems.append(
                f"{where}.date = {event.date}: after the planned randomization "
                f"{data.planned_randomization}"
            )
    return problems


def _per_day(frequency: str) -> float | None:
    return FREQUENCY_PER_DAY.get(" ".join(frequency.strip().lower().split()))


# -- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """What a name a coordinator typed matched in the catalogue."""

    group: MedicationClass
    drug: Drug | None
    matched_by: Literal["name", "alias", "brand name", "Chinese name", "class name"]

    @property
    def description(self) -> str:
        if self.drug is None:
            return f"class: {self.group.label}"
        return f"{self.drug.name} ({self.group.label})"


@functools.cache
def _catalogue_index() -> dict[str, Match]:
    index: dict[str, Match] = {}
    for group in load_study().medication_classes:
        for alias in group.aliases:
            index[normalise_name(alias)] = Match(group, None, "class name")
        for drug in group.drugs:
            index[normalise_name(drug.name)] = Match(group, drug, "name")
            for alias in drug.aliases:
                index[normalise_name(alias)] = Match(group, drug, "alias")
            for brand in drug.brand_names:
                index[normalise_name(brand)] = Match(group, drug, "brand name")
            if drug.chinese_name:
                index[normalise_name(drug.chinese_name)] = Match(group, drug, "Chinese name")
    return index


def match_medicine(name: str) -> Match | None:
    """The catalogue entry for a generic, brand or Chinese name or a class, in any case."""
    return _catalogue_index().get(normalise_name(name))


# -- calendar arithmetic -----------------------------------------------------------------------


def calendar_offset(duration: pint.Quantity) -> timedelta | relativedelta:
    """A window duration as a calendar step: days and weeks exact, months and years calendar."""
    count = int(duration.magnitude)
    unit = str(duration.units)
    if unit == "day":
        return timedelta(days=count)
    if unit == "week":
        return timedelta(days=7 * count)
    if unit == "month":
        return relativedelta(months=count)
    if unit == "year":
        return relativedelta(years=count)
    raise ValueError(f"{format_quantity(duration)} is not in days, weeks, months or years")


def window_start(anchor: date, window: Window) -> date:
    """The first day of the window of ``window`` before ``anchor``: ``anchor - window``."""
    assert window.duration is not None
    return anchor - calendar_offset(window.duration)


def clears_on(last: date, window: Window) -> date:
    """The first anchor date whose window starts after ``last`` (the boundary day is within)."""
    assert window.duration is not None
    candidate = last + calendar_offset(window.duration)
    # month ends clamp, so step day by day to the exact first date (at most a few steps)
    while window_start(candidate, window) <= last:
        candidate += timedelta(days=1)
    while window_start(candidate - timedelta(days=1), window) > last:
        candidate -= timedelta(days=1)
    return candidate


# -- results -----------------------------------------------------------------------------------


@dataclass
class EntryResult:
    """One medicine or event: what it matched, its window, when it clears, and the verdict."""

    entry: str
    name: str
    status: Status
    reason: str
    matched: str | None = None
    criterion: str | None = None
    window: str | None = None
    anchor: str | None = None
    anchor_date: date | None = None
    window_start: date | None = None
    last_date: date | None = None
    clears_on: date | None = None
    on_boundary: bool = False
    lifetime: bool = False
    requires_rescreening: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, date):
                data[key] = value.isoformat()
        return data


@dataclass
class WashoutResult:
    planned_randomization: date
    screening: date | None
    entries: list[EntryResult]
    status: Status
    earliest_randomization: date | None
    never: bool
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {
            "planned_randomization": self.planned_randomization.isoformat(),
            "screening": self.screening.isoformat() if self.screening else None,
            "status": self.status,
            "earliest_randomization": (
                self.earliest_randomization.isoformat() if self.earliest_randomization else None
            ),
            "never": self.never,
            "summary": self.summary,
            "entries": [entry.to_json() for entry in self.entries],
        }


# -- the checks ------------------------------------------------------------------------------


def _criteria_text(criterion: str, also: list[str] | None = None) -> str:
    return "/".join([criterion, *(also or [])])


def _window_check(
    *,
    entry: str,
    name: str,
    matched: str,
    criterion: str,
    window: Window,
    anchor: str,
    anchor_as_written: str,
    last: date | None,
    ongoing: bool,
    data: WashoutInput,
    dated: str = "last dose",
) -> EntryResult:
    """The shared rule of every dated window: within, on the boundary, or cleared.

    The window counts back from the planned randomization or the screening date, as ``anchor``
    says; an ongoing medicine is shown clearing from a last dose on the screening date.
    """
    anchor_date = data.planned_randomization if anchor == "randomization" else data.screening
    stop_example = data.screening or data.planned_randomization
    base: dict[str, Any] = {
        "entry": entry,
        "name": name,
        "matched": matched,
        "criterion": criterion,
        "window": str(window),
        "anchor": anchor,
        "anchor_date": anchor_date,
        "last_date": last,
    }
    if anchor_date is None:
        return EntryResult(
            **base,
            status="unknown",
            reason=f"{name}: the window counts from {anchor}, and no {anchor} date is given: "
            f"unknown ({criterion})",
        )
    start = window_start(anchor_date, window)
    if ongoing:
        example = clears_on(stop_example, window)
        return EntryResult(
            **base,
            window_start=start,
            status="fail",
            reason=f"{name} is ongoing: excluded until it stops ({criterion}, {window} "
            f"{anchor_as_written}); stopped after a last dose on {stop_example}, it would clear "
            f"on {example}",
        )
    assert last is not None
    clear = clears_on(last, window)
    boundary = last == start
    rescreen = anchor == "screening"
    if last >= start:
        where = "exactly on the first day of" if boundary else "within"
        if anchor == "screening" and last > anchor_date:
            return EntryResult(
                **base,
                window_start=start,
                status="unknown",
                reason=f"{name} ({dated} {last}) is after the screening visit {anchor_date}: the "
                f"record's window counts back from screening; the investigator decides "
                f"({criterion}, PI15)",
            )
        then = f"a {anchor} on or after {clear} clears it" + (
            " (rescreening needed)" if rescreen else ""
        )
        return EntryResult(
            **base,
            window_start=start,
            clears_on=clear,
            status="fail",
            reason=f"{name} ({dated} {last}) is {where} the window of {window} "
            f"{anchor_as_written} ({start} to {anchor} {anchor_date}): excluded ({criterion}); "
            f"{then}",
            on_boundary=boundary,
            requires_rescreening=rescreen,
        )
    return EntryResult(
        **base,
        window_start=start,
        clears_on=clear,
        status="pass",
        reason=f"{name} ({dated} {last}) is before the window of {window} {anchor_as_written} "
        f"(from {start}): passes ({criterion}); cleared from {clear}",
    )


def _corticosteroid_check(
    med: MedicationEntry, entry: str, match: Match, data: WashoutInput, study: Study
) -> EntryResult:
    group, rule = match.group, study.corticosteroid_rule
    assert group.window is not None
    window = group.window.value
    limit = rule.daily_limit.value.to("mg")
    anchor_date = data.planned_randomization
    start = window_start(anchor_date, window)
    base: dict[str, Any] = {
        "entry": entry,
        "name": med.name,
        "matched": match.description,
        "criterion": group.criterion,
        "window": str(window),
        "anchor": group.anchor,
        "anchor_date": anchor_date,
        "window_start": start,
        "last_date": med.last_dose,
    }
    in_window = med.ongoing or (med.last_dose is not None and med.last_dose >= start)
    clear = clears_on(med.last_dose, window) if med.last_dose else None
    if med.route in rule.non_systemic_routes:
        return EntryResult(
            **base,
            status="pass",
            reason=f"{med.name} ({med.route}) is not systemic: EX11 concerns systemic "
            f"corticosteroids (PI12): passes",
        )
    if not in_window:
        return EntryResult(
            **base,
            clears_on=clear,
            status="pass",
            reason=f"{med.name} (last dose {med.last_dose}) is before the window of {window} "
            f"prior to randomization (from {start}): passes ({group.criterion})",
        )
    if med.route is None:
        return EntryResult(
            **base,
            status="unknown",
            reason=f"{med.name} within the {window} before randomization: its route (oral, IV, "
            f"IM, topical, ...) is needed to apply EX11: unknown ({group.criterion})",
        )
    if med.route in rule.injection_routes:
        when = "is ongoing" if med.ongoing else f"(last dose {med.last_dose})"
        return EntryResult(
            **base,
            clears_on=clear,
            status="fail",
            reason=f"{med.name} by {med.route.upper()} injection {when}, within the {window} "
            f"before randomization: excluded ({group.criterion}, any IV or IM corticosteroid)"
            + (f"; clears from {clear}" if clear else ""),
            on_boundary=med.last_dose == start,
        )
    if match.drug is None or match.drug.prednisone_5mg_equivalent is None:
        return EntryResult(
            **base,
            status="unknown",
            reason=f"{med.name}: which corticosteroid? The prednisone equivalent needs the "
            f"drug's name: unknown ({group.criterion})",
        )
    if med.dose is None or med.frequency is None:
        return EntryResult(
            **base,
            status="unknown",
            reason=f"{med.name} within the {window} before randomization: its dose and "
            f"frequency are needed to compute the prednisone equivalent: unknown "
            f"({group.criterion})",
        )
    per_day = _per_day(med.frequency)
    assert per_day is not None
    equivalent = (
        ureg.Quantity(med.dose).to("mg")
        * (ureg.Quantity(5, "mg") / match.drug.prednisone_5mg_equivalent.value.to("mg"))
        * per_day
    )
    mg_per_day = f"{equivalent.to('mg').magnitude:.2f}".rstrip("0").rstrip(".")
    daily = f"{med.dose} {med.frequency} = {mg_per_day} mg/day"
    table = f"[{match.drug.prednisone_5mg_equivalent.source}]"
    if equivalent.to("mg").magnitude > limit.magnitude + 1e-9:
        then = f"; clears from {clear}" if clear else "; it must stop or fall to the limit"
        return EntryResult(
            **base,
            clears_on=clear,
            status="fail",
            reason=f"{med.name} {daily} prednisone equivalent {table}, more than "
            f"{format_quantity(limit)}/day within the {window} before randomization: excluded "
            f"({group.criterion}){then}",
        )
    return EntryResult(
        **base,
        status="pass",
        reason=f"{med.name} {daily} prednisone equivalent {table}, not more than "
        f"{format_quantity(limit)}/day: passes ({group.criterion})",
    )


def check_medication(
    med: MedicationEntry, index: int, data: WashoutInput, study: Study
) -> EntryResult:
    entry = f"medications[{index}]"
    match = match_medicine(med.name)
    if match is None and med.investigator_cleared:
        return EntryResult(
            entry,
            med.name,
            "pass",
            f"{med.name} is not in the catalogue; the investigator attests it is not a "
            f"prohibited medicine: passes",
            last_date=med.last_dose,
        )
    if match is None:
        return EntryResult(
            entry,
            med.name,
            "unknown",
            f"{med.name} is not in the prohibited-medicines catalogue: unknown, never allowed "
            f"by default; the investigator decides whether a criterion applies",
            last_date=med.last_dose,
        )
    group = match.group
    notes = []
    if match.drug is not None and not match.drug.named_in_record:
        notes.append(
            f"{match.drug.name} is not named in the record; {group.criterion} lists its class "
            f"as open ('including …'), so the class rule applies (PI06)"
        )
    if match.drug is None:
        notes.append(f"matched the class name '{group.label}': the class rule applies")
    if match.drug is not None and normalise_name(match.drug.name) == normalise_name(
        "mycophenolate mofetil"
    ):
        protocol_mmf = study.intervention("mycophenolate_mofetil")
        notes.append(
            f"Mycophenolate mofetil taken before the study must stop at least "
            f"{group.window.value if group.window else ''} before randomization "
            f"({group.criterion}); "
            f"protocol MMF {format_quantity(protocol_mmf.dose.value)} "
            f"{protocol_mmf.frequency_label} then starts at randomization (PI05)"
        )
    if group.rule == "lifetime":
        result = EntryResult(
            entry=entry,
            name=med.name,
            matched=match.description,
            criterion=group.criterion,
            window=str(group.window.value) if group.window else None,
            last_date=med.last_dose,
            status="fail",
            reason=f"{med.name}: any use, ever, excludes ({group.criterion}): never eligible",
            lifetime=True,
        )
    elif group.rule == "no_window":
        result = EntryResult(
            entry=entry,
            name=med.name,
            matched=match.description,
            criterion=group.criterion,
            anchor=group.anchor,
            anchor_date=data.planned_randomization,
            last_date=med.last_dose,
            status="unknown",
            reason=f"{med.name} is one of the {group.label.lower()} of {group.criterion}, for "
            f"which the record gives no window (PI06): unknown, the investigator decides",
        )
    elif group.rule == "corticosteroid":
        result = _corticosteroid_check(med, entry, match, data, study)
    else:
        assert group.window is not None
        result = _window_check(
            entry=entry,
            name=med.name,
            matched=match.description,
            criterion=group.criterion,
            window=group.window.value,
            anchor=group.anchor,
            anchor_as_written=group.anchor_as_written,
            last=med.last_dose,
            ongoing=med.ongoing,
            data=data,
        )
    result.notes = notes + result.notes
    return result


def check_event(event: EventEntry, index: int, data: WashoutInput, study: Study) -> EntryResult:
    entry = f"events[{index}]"
    kind: ExposureEvent = next(e for e in study.exposure_events if e.kind == event.kind)
    criterion = _criteria_text(kind.criterion, kind.also_criteria)
    if kind.rule == "any":
        return EntryResult(
            entry=entry,
            name=kind.label,
            matched=kind.kind,
            criterion=criterion,
            last_date=event.date,
            status="fail",
            reason=f"{kind.label}: excluded ({criterion}) unless the surgery is cancelled or "
            f"planned after the trial",
        )
    assert kind.window is not None
    return _window_check(
        entry=entry,
        name=kind.label,
        matched=kind.kind,
        criterion=criterion,
        window=kind.window.value,
        anchor=kind.anchor,
        anchor_as_written=kind.anchor_as_written,
        last=event.date,
        ongoing=event.ongoing,
        data=data,
        dated="dated",
    )


def check_washout(data: WashoutInput, study: Study | None = None) -> WashoutResult:
    """Every medicine and event of the input, and the earliest date randomization is allowed."""
    study = study or load_study()
    entries = [check_medication(m, i, data, study) for i, m in enumerate(data.medications)]
    entries += [check_event(e, i, data, study) for i, e in enumerate(data.events)]
    statuses = {e.status for e in entries}
    status: Status = (
        "fail" if "fail" in statuses else "unknown" if "unknown" in statuses else "pass"
    )
    never = any(e.lifetime and e.status == "fail" for e in entries)
    blocking = [e for e in entries if e.status == "fail" and e.clears_on is None]
    dates = [e.clears_on for e in entries if e.clears_on is not None]
    if data.screening:
        dates.append(data.screening)
    earliest = None if blocking else max(dates, default=data.planned_randomization)
    if never:
        summary = (
            "Never: a lifetime exclusion applies ("
            + ", ".join(e.name for e in entries if e.lifetime)
            + ")."
        )
    elif blocking:
        summary = "No date yet: " + "; ".join(e.reason for e in blocking) + "."
    else:
        summary = f"Earliest randomization: {earliest}"
        if earliest and earliest > data.planned_randomization:
            summary += f", after the planned {data.planned_randomization}"
        elif status == "pass":
            summary += f"; the planned {data.planned_randomization} is allowed"
        summary += "."
        if "unknown" in statuses:
            summary += " Unknown entries remain: the investigator must decide them first."
    return WashoutResult(
        planned_randomization=data.planned_randomization,
        screening=data.screening,
        entries=entries,
        status=status,
        earliest_randomization=earliest,
        never=never,
        summary=summary,
    )


# -- protocol windows beside pharmacology -----------------------------------------------------


@dataclass(frozen=True)
class HalfLifeRow:
    drug: str
    criterion: str
    window: str
    half_life: str
    half_life_note: str | None
    source: str
    five_half_lives: pint.Quantity
    window_shorter: bool | None  # None for lifetime windows

    @property
    def flag(self) -> str:
        if self.window_shorter is None:
            return "lifetime window"
        return "window shorter than 5 half-lives" if self.window_shorter else ""


def half_life_table(study: Study | None = None) -> list[HalfLifeRow]:
    """Each catalogued drug with a half-life: its window beside 5 half-lives, flagged if shorter.

    A calendar month is compared as pint's mean month (30.44 days); the flag is a prompt for the
    investigator, not a rule of the protocol.
    """
    study = study or load_study()
    rows = []
    for group in study.medication_classes:
        for drug in group.drugs:
            if drug.half_life is None or group.window is None:
                continue
            window = group.window.value
            five = (5 * drug.half_life.value).to("day")
            shorter = None if window.lifetime else bool(window.duration.to("day") < five)
            rows.append(
                HalfLifeRow(
                    drug=drug.name,
                    criterion=group.criterion,
                    window=str(window),
                    half_life=format_quantity(drug.half_life.value),
                    half_life_note=drug.half_life.note,
                    source=drug.half_life.source or "",
                    five_half_lives=five,
                    window_shorter=shorter,
                )
            )
    return rows
