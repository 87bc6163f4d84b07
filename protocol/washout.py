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

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import pint
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, model_validator

from protocol.documents import (
    TEXT_WITHHELD,
    read_yaml,
    refused_as_said,
    shown_back,
    validate_document,
)
from protocol.errors import InternalError, Problem, ProtocolDataError
from protocol.facts import Status, Window
from protocol.inputs import EARLIEST_DATE, LATEST_DATE, StrictDate, read_decimal
from protocol.participant import EventEntry, MedicationEntry
from protocol.study import (
    Drug,
    ExposureEvent,
    MedicationClass,
    Study,
    derived,
    load_study,
    normalise_name,
)
from protocol.units import format_quantity, read_unit, ureg

#: The units the rules compare in, built once: pint parses a unit's text anew at each
#: conversion (300 steroid courses took 6 s of parsing "mg")
_MG = ureg.Unit("mg")
_DAY = ureg.Unit("day")

#: The frequencies people write: (administrations on each dosing day, days from one dosing day
#: to the next; None for a single dose). EX11 reads a non-daily dose as its dose-day amount (PI26).
FREQUENCIES: dict[str, tuple[int, int | None]] = {
    "once": (1, None),
    "single dose": (1, None),
    "daily": (1, 1),
    "once daily": (1, 1),
    "once a day": (1, 1),
    "qd": (1, 1),
    "od": (1, 1),
    "twice daily": (2, 1),
    "twice a day": (2, 1),
    "bid": (2, 1),
    "three times daily": (3, 1),
    "three times a day": (3, 1),
    "tid": (3, 1),
    "four times daily": (4, 1),
    "four times a day": (4, 1),
    "qid": (4, 1),
    "every 24 hours": (1, 1),
    "q24h": (1, 1),
    "every 12 hours": (2, 1),
    "q12h": (2, 1),
    "every 8 hours": (3, 1),
    "q8h": (3, 1),
    "every 6 hours": (4, 1),
    "q6h": (4, 1),
    "every 48 hours": (1, 2),
    "q48h": (1, 2),
    "every other day": (1, 2),
    "alternate days": (1, 2),
    "weekly": (1, 7),
    "once weekly": (1, 7),
    "once a week": (1, 7),
    "every 2 weeks": (1, 14),
    "monthly": (1, 30),
}

#: One spelling of each frequency FREQUENCIES reads, as a form offers them (the eCRF's code
#: list): a site that picks from it types nothing the rules refuse.
FREQUENCY_CHOICES = (
    "once",
    "once daily",
    "twice daily",
    "three times daily",
    "four times daily",
    "every other day",
    "weekly",
    "every 2 weeks",
    "monthly",
)


class WashoutInputError(ProtocolDataError):
    """The washout input file is not usable; each problem names the entry and field."""


# -- the input file ----------------------------------------------------------------------------


class WashoutInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    planned_randomization: StrictDate
    screening: StrictDate | None = None
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


def parse_washout_input(
    data: Any, source: str, node: Any = None, study: Study | None = None
) -> WashoutInput:
    """Validate an input mapping; every problem names the entry (with its name) and the field.
    Its entries are checked against ``study`` (an amendment's event kinds and catalogue)."""
    parsed = validate_document(WashoutInput, data, source, node, WashoutInputError)
    problems = entry_problems(parsed, study)
    if problems:
        raise WashoutInputError(source, problems)
    return parsed


def load_washout_input(
    path: Path | str, randomization: date | None = None, study: Study | None = None
) -> WashoutInput:
    """Read a YAML or JSON input file; ``randomization`` overrides its planned date; its
    entries are checked against ``study`` (the project's when None)."""
    path = Path(path)
    data, node = read_yaml(path)
    if randomization is not None and isinstance(data, dict):
        data = {**data, "planned_randomization": randomization}
    return parse_washout_input(data, str(path), node, study)


def entry_problems(data: WashoutInput, study: Study | None = None) -> list[Problem]:
    """What makes an input unusable although each field is well formed: dates after the planned
    randomization, a dose that is not a plausible mass, an unknown frequency or event kind, a
    name that imitates a catalogued one, an investigator clearance the protocol does not allow."""
    study = study or load_study()
    return _medication_problems(data, study) + _event_problems(data, study)


def _medication_problems(data: WashoutInput, study: Study) -> list[Problem]:
    problems: list[Problem] = []
    for index, med in enumerate(data.medications):
        where = f"medications[{index}] ({med.name})"
        for field_name in ("start", "last_dose"):
            value = getattr(med, field_name)
            if value and value > data.planned_randomization:
                problems.append(
                    Problem(
                        f"after the planned randomization {data.planned_randomization}; a dose "
                        f"before randomization was expected",
                        path=f"{where}.{field_name}",
                        found=str(value),
                    )
                )
        if med.dose is not None:
            try:
                read_dose(med.dose, study)
            except ValueError as exc:
                said, found = refused_as_said(str(exc), med.dose)
                problems.append(Problem(said, path=f"{where}.dose", found=found))
        if med.frequency is not None and frequency_of(med.frequency) is None:
            problems.append(
                Problem(
                    f"not a frequency the book knows; expected one of: {', '.join(FREQUENCIES)}",
                    path=f"{where}.frequency",
                    found=shown_back(med.frequency),
                )
            )
        match = match_medicine(med.name, study)
        imitated = _imitated_name(med.name, study)
        if match is None and imitated:
            problems.append(
                Problem(
                    f"its letters imitate {imitated!r} in another script; expected the name in "
                    "Latin letters or in Chinese",
                    path=f"{where}.name",
                    found=repr(med.name),
                )
            )
        near = _near_name(med.name, study) if match is None and med.investigator_cleared else None
        if near is not None:
            problems.append(
                Problem(
                    f"the name is one letter or two from {near.within!r}, which the protocol "
                    f"decides ({near.group.criterion}), not the investigator; expected the name "
                    "corrected, or the medicine it really is",
                    path=f"{where}.name",
                    found=repr(med.name),
                )
            )
        if (
            med.investigator_cleared
            and match is not None
            and match.group.rule != "no_window"
            and not _local_use_applies(match, med, study)
        ):
            problems.append(
                Problem(
                    f"{match.description} is decided by the protocol ({match.group.criterion}), "
                    f"not by the investigator; expected no clearance",
                    path=f"{where}.investigator_cleared",
                    found="true",
                )
            )
    return problems


def _event_problems(data: WashoutInput, study: Study) -> list[Problem]:
    problems: list[Problem] = []
    kinds = {event.kind: event for event in study.exposure_events}
    for index, event in enumerate(data.events):
        where = f"events[{index}] ({event.kind})"
        kind = kinds.get(event.kind)
        if kind is None:
            kind_shown = shown_back(event.kind)
            problems.append(
                Problem(
                    f"unknown event kind; expected one of: {', '.join(sorted(kinds))}",
                    # named by its kind only where the kind may be shown
                    path=f"{where}.kind"
                    if kind_shown != TEXT_WITHHELD
                    else f"events[{index}].kind",
                    found=kind_shown,
                )
            )
            continue
        if event.date is not None and event.ongoing and kind.can_be_ongoing:
            problems.append(
                Problem(
                    "both a date and 'ongoing: true'; expected one of them, 'date: YYYY-MM-DD' "
                    "or 'ongoing: true' (neither if the date is not known)",
                    path=where,
                )
            )
        if event.ongoing and not kind.can_be_ongoing:
            problems.append(
                Problem(
                    f"a {kind.label.lower()} happens on a day and cannot be ongoing; expected "
                    "its date alone, or neither if the date is not known",
                    path=f"{where}.ongoing",
                    found="true",
                )
            )
        if kind.rule == "window" and event.date and event.date > data.planned_randomization:
            problems.append(
                Problem(
                    f"after the planned randomization {data.planned_randomization}; expected a "
                    "date by then (a later event is recorded as a planned one, kind: "
                    "planned_major_surgery, or is not "
                    "part of screening)",
                    path=f"{where}.date",
                    found=str(event.date),
                )
            )
        if event.investigator_cleared and not (
            kind.anchor == "screening" and kind.after_anchor == "investigator"
        ):
            problems.append(
                Problem(
                    f"the protocol decides {kind.label.lower()} ({kind.criterion}), not the "
                    f"investigator; expected no clearance",
                    path=f"{where}.investigator_cleared",
                    found="true",
                )
            )
        elif event.investigator_cleared and event.ongoing:
            # ongoing at screening: within the protocol's window, never the investigator's (an
            # event after screening is); the clearance would be silently unused
            problems.append(
                Problem(
                    f"the investigator decides only {kind.label.lower()} begun after "
                    f"screening; one ongoing is decided by the protocol's window "
                    f"({kind.criterion}); expected no clearance",
                    path=f"{where}.investigator_cleared",
                    found="true",
                )
            )
        elif (
            event.investigator_cleared
            and event.date
            and data.screening
            and event.date <= data.screening
        ):
            # the investigator decides only an event after screening (PI15); one before it is
            # within or outside the protocol's window, and the clearance was silently unused
            problems.append(
                Problem(
                    f"the investigator decides only {kind.label.lower()} after screening "
                    f"({data.screening}); one on {event.date} is decided by the protocol's "
                    f"window ({kind.criterion}); expected no clearance",
                    path=f"{where}.investigator_cleared",
                    found="true",
                )
            )
    return problems


def frequency_of(text: str) -> tuple[int, int | None] | None:
    """(administrations per dosing day, days between dosing days) for a frequency as written."""
    return FREQUENCIES.get(" ".join(text.strip().lower().split()))


#: A dose as written: a decimal number and a mass unit (read strictly, never evaluated).
_DOSE_TEXT = re.compile(r"\s*([-+]?[0-9][0-9.eE+-]*)\s*(mg|g|ug|µg|μg|mcg)\s*")
#: Each mass unit a dose is written in, in mg, exactly.
_DOSE_UNITS_IN_MG = {"g": Fraction(1000), "mg": Fraction(1)} | {
    unit: Fraction(1, 1000) for unit in ("ug", "µg", "μg", "mcg")
}


def dose_in_mg(text: str, study: Study | None = None) -> Fraction:
    """A dose as ``read_dose`` reads it (and refuses what it refuses), in mg as an exact
    fraction of the decimal written: a sum of doses is compared with a limit exactly, as
    9.99 mg + 0.0100000000001 mg is more than 10 mg (a float's tolerance had read it at 10)."""
    read_dose(text, study)  # the checks: a number and a mass unit, within the plausible range
    match = _DOSE_TEXT.fullmatch(text)
    assert match is not None  # read_dose has read it
    return Fraction(match.group(1)) * _DOSE_UNITS_IN_MG[match.group(2)]


def _exact_mg(quantity: pint.Quantity) -> Fraction:
    """A study.yaml amount in mg, exactly: the decimal written (at most 12 digits: a float's
    shortest text is it) times its unit's power of ten (0.0069 g is 69/10 mg, where the
    float 0.0069 * 1000 is 6.8999999999999995)."""
    factor = Fraction(repr(float(ureg.Quantity(1, quantity.units).to(_MG).magnitude)))
    return Fraction(repr(float(quantity.magnitude))) * factor


def read_dose(text: str, study: Study | None = None) -> pint.Quantity:
    """A dose per administration such as ``7.5 mg`` or ``0.5 g``: a decimal number and a mass
    unit (read strictly, never evaluated), within the plausible range of study.yaml."""
    study = study or load_study()
    match = _DOSE_TEXT.fullmatch(text)
    if not match:
        raise ValueError("not a dose; expected a number and a mass unit, such as '15 mg'")
    number = read_decimal(match.group(1))
    dose = number * read_unit(match.group(2).replace("µ", "u").replace("μ", "u"))
    plausible = study.dose_plausible_range.value
    if not plausible.contains(dose):
        raise ValueError(
            f"implausible: check the value and its unit; expected {plausible} per dose"
        )
    return dose.to(_MG)


#: Letters of other scripts that look like Latin ones (a subset of Unicode's confusables).
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁһӏкмтвнАВЕКМНОРСТХІЈЅαοριкνυτεΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhlkmtbhABEKMHOPCTXIJSaopikvuteABEHIKMNOPTYX",
)


def _imitated_name(name: str, study: Study) -> str | None:
    """The catalogued name that ``name`` imitates with look-alike letters, if any."""
    skeleton = name.translate(_LOOKALIKES)
    if skeleton == name:
        return None
    match = match_medicine(skeleton, study)
    return match.drug.name if match and match.drug else (match.group.label if match else None)


# -- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """What a name a coordinator typed matched in the catalogue."""

    group: MedicationClass
    drug: Drug | None
    matched_by: Literal["name", "alias", "brand name", "Chinese name", "class name", "name within"]
    #: what the typed name contains, when matched by a catalogued name within it
    within: str = ""

    @property
    def description(self) -> str:
        if self.drug is None:
            return f"class: {self.group.label}"
        return f"{self.drug.name} ({self.group.label})"


def _catalogue_index(study: Study) -> dict[str, Match]:
    return derived(study, "catalogue_index", _build_catalogue_index)


def _catalogued_names(study: Study) -> Iterator[tuple[str, Match]]:
    """Every name the catalogue knows, as written, with what it names: each class's aliases,
    then each drug's name, aliases, brand names and Chinese name."""
    for group in study.medication_classes:
        for alias in group.aliases:
            yield alias, Match(group, None, "class name")
        for drug in group.drugs:
            yield drug.name, Match(group, drug, "name")
            for alias in drug.aliases:
                yield alias, Match(group, drug, "alias")
            for brand in drug.brand_names:
                yield brand, Match(group, drug, "brand name")
            if drug.chinese_name:
                yield drug.chinese_name, Match(group, drug, "Chinese name")


def _build_catalogue_index(study: Study) -> dict[str, Match]:
    return {normalise_name(written): match for written, match in _catalogued_names(study)}


def match_medicine(name: str, study: Study | None = None) -> Match | None:
    """The catalogue entry for a generic, brand or Chinese name or a class, in any case; also
    for a catalogued name written with its strength, salt, dosage form or biosimilar suffix
    only (``rituximab 1000 mg``, ``methotrexate sodium``, ``Rituximab-pvvr``, ``rituximab
    (MabThera)``, ``MTX sc``): that is the medicine, whatever the investigator says of it.

    A name with anything more (``folic acid (taken with MTX)``, ``cyclosporine eye drops``) is
    not matched: whether it is that medicine, given systemically, is the investigator's to say.
    Its entry stays unknown and names what it contains (:func:`within_names`)."""
    study = study or load_study()
    index = _catalogue_index(study)
    found = index.get(normalise_name(name))
    if found is not None:
        return found
    if _is_chinese(name):
        return _chinese_with_qualifiers_only(name, study)
    return _with_qualifiers_only(name, study)


#: Words that say a medicine's strength, salt or form, never another medicine (the units of a
#: strength, its salts, its dosage forms and systemic routes; not eye drops, creams or sprays,
#: which may be a local use the investigator judges).
_QUALIFIERS = frozenset(
    {
        "mg", "g", "mcg", "ug", "µg", "iu", "ml", "unit", "units", "sodium", "disodium",
        "potassium", "calcium", "sulfate", "sulphate", "citrate", "monohydrate", "dihydrate",
        "hydrochloride", "dihydrochloride", "hcl", "mesylate", "mesilate", "esylate", "esilate",
        "phosphate", "acetate", "acetonide", "succinate", "maleate",
        "tartrate", "fumarate", "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap",
        "caps", "injection", "inj", "infusion", "solution", "sc", "iv", "im", "po", "oral",
        "orally", "subcutaneous", "intravenous", "intramuscular", "pen", "prefilled",
        "syringe", "biosimilar", "generic", "daily", "weekly", "once", "twice", "xr", "er",
        "sr", "xl",
    }
)  # fmt: skip
_STRENGTH = re.compile(r"[0-9]+(?:mg|g|mcg|ug|iu|ml)?")

#: A Chinese name's salt or form written before it (醋酸泼尼松, prednisone acetate;
#: 注射用环磷酰胺, cyclophosphamide for injection) and after it (地塞米松磷酸钠; 甲氨蝶呤片,
#: tablets; 利妥昔单抗注射液, injection): systemic forms only. Ointments, creams, eye drops,
#: gels and sprays (软膏, 乳膏, 滴眼液, 凝胶, 喷雾剂) are not here: a local use is the
#: investigator's to judge.
_CHINESE_BEFORE = ("注射用", "醋酸", "硫酸", "盐酸", "枸橼酸", "柠檬酸", "磷酸", "甲磺酸",
                   "乙磺酸", "马来酸", "酒石酸", "富马酸")  # fmt: skip
_CHINESE_AFTER = ("琥珀酸钠", "磷酸钠", "钠", "钾", "注射液", "注射剂", "冻干粉针", "粉针剂",
                  "片", "缓释片", "控释片", "肠溶片", "分散片", "薄膜衣片", "胶囊", "软胶囊",
                  "肠溶胶囊", "缓释胶囊", "口服溶液", "口服液", "颗粒", "干混悬剂", "混悬液",
                  "预充式注射器", "预充注射笔", "注射笔")  # fmt: skip
#: A strength in a name compared as normalise_name leaves it (its decimal point gone).
_CHINESE_STRENGTH = re.compile(  # 2.5mg, 100mg/10ml, 1ml:10mg, 4mg/片 (never /g: an ointment's)
    r"[0-9]+(?:mg|mcg|µg|ug|iu|ml|g|毫克|微克|毫升|万单位|单位|克|u)?"
    r"(?:[/:][0-9]*(?:ml|毫升|mg|毫克|片|粒|支|瓶))?"
)


def _chinese_packed(name: str) -> str:
    """A Chinese name as it is compared: normalised, its strengths taken away."""
    return _CHINESE_STRENGTH.sub("", normalise_name(name))


def _chinese_with_qualifiers_only(name: str, study: Study) -> Match | None:
    """The catalogued medicine a Chinese name is, with only its strength, salt or systemic
    dosage form around it (甲氨蝶呤片 2.5 mg, 醋酸泼尼松, 注射用环磷酰胺), or another name of the
    same medicine beside it (利妥昔单抗（美罗华）)."""
    index = _catalogue_index(study)
    # every reading with words before and after taken away, one at a time, in either order
    # (醋酸可的松片: the tablet taken away leaves cortisone acetate, as it is catalogued)
    readings = [_chinese_packed(name)]
    seen = set(readings)
    for text in readings:  # grows as it is read: each shorter reading once
        found = index.get(text)
        if found is not None and found.drug is not None:
            return found
        shorter = [text[len(p) :] for p in _CHINESE_BEFORE if text.startswith(p) and text != p]
        shorter += [text[: -len(a)] for a in _CHINESE_AFTER if text.endswith(a) and text != a]
        readings += [t for t in shorter if t not in seen]
        seen.update(shorter)
    for text in readings:  # a catalogued name beside one of its own other names (a brand)
        for key, match in index.items():
            if match.drug is None or key not in text:
                continue
            drug = match.drug
            own = {normalise_name(n) for n in (drug.name, *drug.aliases, *drug.brand_names)}
            if drug.chinese_name:
                own.add(normalise_name(drug.chinese_name))
            before, _, after = text.partition(key)
            # its form may stand between them: 阿达木单抗注射液（修美乐）
            form = next((f for f in _CHINESE_AFTER if after.startswith(f) and after != f), "")
            if (before == "" and after[len(form) :] in own) or (after == "" and before in own):
                return match
    return None


_BIOSIMILAR_SUFFIX = re.compile(r"-([a-z]{4})\b")
#: A strength that is a concentration in a cream, ointment or eye drops (0.1 %, 1 mg/g): the
#: name may be a local use, which the investigator judges.
_LOCAL_STRENGTH = re.compile(r"%|mg\s*/\s*g\b")


def _is_biologic(name: str) -> bool:
    """Whether a medicine is an antibody or fusion protein (-mab, -cept), the medicines a
    biosimilar's four-letter suffix follows (rituximab-pvvr); ``methotrexate-free`` or
    ``ciclosporin-drop`` is another word, not a suffix."""
    return name.endswith(("mab", "cept"))


def _with_qualifiers_only(name: str, study: Study) -> Match | None:
    """The catalogued name ``name`` begins with, when every word after it is a qualifier, a
    strength, a biosimilar's four-letter suffix or another name of the same medicine."""
    words = _words(name)
    normalised = unicodedata.normalize("NFKC", name).casefold()
    if _LOCAL_STRENGTH.search(normalised):  # 0.1 %, 1 mg/g: an ointment's or eye drops'
        return None
    suffixes = set(_BIOSIMILAR_SUFFIX.findall(normalised))
    index = _phrase_index(study)
    for length in range(len(words) - 1, 0, -1):
        match = index.get(" ".join(words[:length]))
        if match is None or match.drug is None:
            continue
        own = {_phrase(n) for n in (match.drug.name, *match.drug.aliases, *match.drug.brand_names)}
        rest = words[length:]
        k = 0
        while k < len(rest):
            joined = next((n for n in own if rest[k : k + len(n.split(" "))] == n.split(" ")), None)
            if joined:
                k += len(joined.split(" "))
            elif (
                rest[k] in _QUALIFIERS
                or _STRENGTH.fullmatch(rest[k])
                or (rest[k] in suffixes and _is_biologic(match.drug.name))
            ):
                k += 1
            else:
                return None
        return match
    return None


def within_names(name: str, study: Study) -> list[Match]:
    """The catalogued names ``name`` contains: as a run of whole words (Latin letters and
    digits), or as a run of characters for a Chinese name (written without spaces); a name
    contained in a longer one found is left out (``mycophenolate`` in ``mycophenolate
    mofetil``)."""
    words = _words(name)
    packed = normalise_name(name)
    found: list[tuple[str, Match]] = []
    for phrase, match in _phrase_index(study).items():
        if _is_chinese(phrase):
            if phrase in packed:
                found.append((phrase, match))
        elif _contains_run(words, phrase.split(" ")):
            found.append((phrase, match))
    return [
        replace(match, matched_by="name within", within=phrase)
        for phrase, match in found
        if not any(phrase != other and _inside(phrase, other) for other, _ in found)
    ]


def _near_name(name: str, study: Study) -> Match | None:
    """The catalogued medicine the protocol decides whose name ``name`` misspells (a letter or
    two out, swapped or missing: ``predinsone``), if one: an investigator's clearance of such
    a name would clear the medicine the protocol excludes."""
    import difflib

    typed = normalise_name(name)
    if len(typed) < 5 or _is_chinese(typed):
        return None
    index = _catalogue_index(study)
    decided = [
        key
        for key, match in index.items()
        if len(key) >= 5 and not _is_chinese(key) and match.group.rule != "no_window"
    ]
    close = difflib.get_close_matches(typed, decided, n=1, cutoff=0.85)
    return replace(index[close[0]], within=close[0]) if close else None


def _words(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", unicodedata.normalize("NFKC", text).casefold())


def _is_chinese(phrase: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in phrase)


def _contains_run(words: list[str], run: list[str]) -> bool:
    return any(words[k : k + len(run)] == run for k in range(len(words) - len(run) + 1))


def _inside(phrase: str, other: str) -> bool:
    if _is_chinese(phrase):
        return phrase in other
    return _contains_run(other.split(" "), phrase.split(" "))


def _phrase_index(study: Study) -> dict[str, Match]:
    return derived(study, "catalogue_phrases", _build_phrase_index)


def _build_phrase_index(study: Study) -> dict[str, Match]:
    """Each catalogued name as its words joined by one space (a Chinese name as written)."""
    phrases: dict[str, Match] = {}
    for written, match in _catalogued_names(study):
        phrases.setdefault(_phrase(written), match)
    phrases.pop("", None)
    return phrases


def _phrase(written: str) -> str:
    if _is_chinese(written):
        return normalise_name(written)
    return " ".join(_words(written))


# -- calendar arithmetic -----------------------------------------------------------------------


def calendar_offset(duration: pint.Quantity) -> timedelta | relativedelta:
    """A window duration as a calendar step: days and weeks exact, months and years calendar."""
    count = int(duration.magnitude)
    unit = _unit_name(duration.units)
    if unit == "day":
        return timedelta(days=count)
    if unit == "week":
        return timedelta(days=7 * count)
    if unit == "month":
        return relativedelta(months=count)
    if unit == "year":
        return relativedelta(years=count)
    raise ValueError(f"{format_quantity(duration)} is not in days, weeks, months or years")


@functools.lru_cache(maxsize=64)
def _unit_name(unit: pint.Unit) -> str:
    # a window's unit is one of a few, read for every entry screened; pint writes it out anew
    return str(unit)


def window_start(anchor: date, window: Window) -> date:
    """The first day of the window of ``window`` before ``anchor``: ``anchor - window``."""
    assert window.duration is not None
    return anchor - calendar_offset(window.duration)


def clears_on(last: date, window: Window) -> date:
    """The first anchor date whose window starts after ``last`` (the boundary day is within)."""
    assert window.duration is not None
    candidate = last + calendar_offset(window.duration)
    # Month ends clamp, so step forward day by day to the exact first date (a few steps at most).
    # Never too late: (last + N) - N <= last, and window_start only grows with the date.
    while window_start(candidate, window) <= last:
        candidate += timedelta(days=1)
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
    # every criterion the entry is checked for, as a list (``criterion`` is its text, EX26/EX29)
    criteria: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.criteria and self.criterion:
            self.criteria = (self.criterion,)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, date):
                data[key] = value.isoformat()
        data["criteria"] = list(self.criteria)
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
    requires_rescreening: bool = False
    rescreening_from: date | None = None
    # the randomization date that new screening is for (the planned one, or a later one the
    # windows counted from randomization allow)
    rescreening_for: date | None = None
    # the earliest date is only a bound: a last dose not recorded, or an entry the
    # investigator decides, may move it later
    earliest_is_a_bound: bool = False
    # nothing recorded sets an earliest date (no screening visit, no dose, no past event): the
    # dates were searched from the schedule's reach before the planned one, and any earlier
    # date is allowed as well
    earliest_or_before: bool = False
    # the last day of the run of allowed dates that begins at the earliest: the day before an
    # entry fails again (a surgery the trial period reaches), or the last day the recorded
    # screening visit reaches, whichever comes first (None: no such limit)
    latest_randomization: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "planned_randomization": self.planned_randomization.isoformat(),
            "screening": self.screening.isoformat() if self.screening else None,
            "status": self.status,
            "earliest_randomization": (
                self.earliest_randomization.isoformat() if self.earliest_randomization else None
            ),
            "earliest_randomization_is_a_bound": self.earliest_is_a_bound,
            "earliest_randomization_or_before": self.earliest_or_before,
            "latest_randomization": (
                self.latest_randomization.isoformat() if self.latest_randomization else None
            ),
            "requires_rescreening": self.requires_rescreening,
            "rescreening_from": (
                self.rescreening_from.isoformat() if self.rescreening_from else None
            ),
            "rescreening_for_randomization": (
                self.rescreening_for.isoformat()
                if self.rescreening_for and self.rescreening_from
                else None
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
    study: Study,
    dated: str = "last dose",
    after_anchor: str = "investigator",
    cleared: str | None = None,
    first: date | None = None,
) -> EntryResult:
    """The shared rule of every dated window: within, on the boundary, or cleared.

    The window counts back from the planned randomization or the screening date, as ``anchor``
    says; an ongoing medicine is shown clearing from a last dose on the screening date. A date
    after a screening anchor is for the investigator (``after_anchor="investigator"``, unless
    ``cleared`` gives the investigator's reason) or within the window (``"within"``). ``first``
    is a course's first dose (its start), a day of use as much as its last.
    """
    anchor_date = data.planned_randomization if anchor == "randomization" else data.screening

    def decided_at(day: date | None) -> WindowDecision:
        return decide_window(
            window,
            day,
            last,
            ongoing,
            after_anchor,
            bool(cleared),
            anchor == "screening",
            first=first,
        )

    decision = decided_at(anchor_date)
    # without a screening date, the screening is one of the days the visit schedule allows
    # before the planned randomization: an entry within the window on every one of them
    # excludes (as screen fails it "for any screening date"; rescreening needed, as for one
    # ongoing), and one before the window on every one of them passes, as screen passes it
    # (it was left unknown, and the planned date given as the earliest, though no screening
    # date could change it). Where the days differ it stays unknown: the screening decides
    any_screening = ""
    if decision.case == "no_anchor" and anchor == "screening":
        gap = latest_randomization_after_screening(study)
        planned = data.planned_randomization
        days = [planned - gap + timedelta(days=k) for k in range(gap.days + 1)]
        at_each = [decided_at(day) for day in days]
        if all(
            d.case == at_each[0].case in ("within", "before") and d.clears == at_each[0].clears
            for d in at_each
        ):
            # worded at the screening day that says most: within the window counted from the
            # latest (the planned randomization), before the window counted from the earliest
            decision = at_each[-1] if at_each[0].case == "within" else at_each[0]
            any_screening = (
                f" (no screening date given: the same for any screening date from {days[0]} to "
                f"the planned randomization {planned}, the {gap.days} days the visit schedule "
                "allows before it)"
            )
        elif at_each[-1].case == "before" and at_each[-1].clears is not None:
            # the screening's date decides: within the window (or after the visit) for the
            # earlier days, before it from the day the window clears, the same for every day;
            # that day is kept, so that the earliest randomization is searched from it (it was
            # "not before" the planned date, though a screening on that day allows it earlier)
            decision = replace(decision, clears=at_each[-1].clears)
            any_screening = (
                f"; with a screening visit on or after {at_each[-1].clears} it passes, its "
                "window then beginning after its date"
            )
    base: dict[str, Any] = {
        "entry": entry,
        "name": name,
        "matched": matched,
        "criterion": criterion,
        "window": str(window),
        "anchor": anchor,
        "anchor_date": anchor_date,
        "last_date": last,
        "window_start": decision.start if anchor_date is not None else None,
        "clears_on": decision.clears,
        "status": decision.status,
        "on_boundary": decision.on_boundary,
        "requires_rescreening": decision.requires_rescreening,
    }
    words = _WindowWords(name, criterion, window, anchor, anchor_as_written, dated, study, cleared)
    stop_example = data.screening or data.planned_randomization
    reason = words.reason(decision, last, stop_example, first) + any_screening
    return EntryResult(**base, reason=reason)


#: How a dated window decides an entry: the case, and the status each case gives.
WindowCase = Literal[
    "no_anchor",
    "ongoing",
    "undated",
    "last_dose_unknown",
    "after_anchor_cleared",
    "after_anchor",
    "within",
    "before",
]
WINDOW_CASE_STATUS: dict[WindowCase, Status] = {
    "no_anchor": "unknown",  # no date to count back from
    "ongoing": "fail",  # excluded until it stops
    "undated": "unknown",  # within the window or not, it cannot be told (PI23)
    "last_dose_unknown": "unknown",  # begun before the window; its end may be in it or not
    "after_anchor_cleared": "pass",  # after a screening anchor, cleared by the investigator
    "after_anchor": "unknown",  # after a screening anchor: the investigator decides
    "within": "fail",
    "before": "pass",
}


@dataclass(frozen=True)
class WindowDecision:
    """The decision of a dated window, without its words: the case and its dates."""

    case: WindowCase
    anchor_date: date | None
    start: date | None = None  # the window's first day
    clears: date | None = None  # the first anchor date the entry no longer excludes
    on_boundary: bool = False  # the date is exactly the window's first day
    rescreen: bool = False  # the window counts from screening: clearing needs a new screening
    # within by a course's first dose: no anchor date before this one clears it (when one
    # does depends on the last dose; ``clears`` is None while that is not recorded)
    not_before: date | None = None
    by_first_dose: bool = False  # within because of the first dose (the last is not)

    @property
    def status(self) -> Status:
        return WINDOW_CASE_STATUS[self.case]

    @property
    def requires_rescreening(self) -> bool:
        return self.rescreen and self.case in ("ongoing", "within")


def decide_window(
    window: Window,
    anchor_date: date | None,
    last: date | None,
    ongoing: bool,
    after_anchor: str = "investigator",
    cleared: bool = False,
    rescreen: bool = False,
    *,
    first: date | None = None,
) -> WindowDecision:
    """Within, on the boundary, before, or undecidable: the rule of every dated window.

    A date on the window's first day is within it (study.yaml ``washout_convention``). A
    course's first dose (``first``) is a day of use too: within the window it excludes whatever
    the last dose; before it, with the last dose not recorded, the course may have ended in the
    window or before it.

    >>> from datetime import date
    >>> from protocol.facts import parse_window
    >>> four_weeks = parse_window("4 week")
    >>> decide_window(four_weeks, date(2025, 3, 17), date(2025, 2, 17), False).case
    'within'
    >>> decide_window(four_weeks, date(2025, 3, 17), date(2025, 2, 16), False).case
    'before'
    """
    if anchor_date is None:
        # an ongoing entry excludes on every date its anchor could take (screen's "for any
        # screening date"); anything else needs the date
        if ongoing:
            return WindowDecision("ongoing", None, rescreen=rescreen)
        return WindowDecision("no_anchor", None)
    start = window_start(anchor_date, window)
    if ongoing:
        return WindowDecision("ongoing", anchor_date, start, rescreen=rescreen)
    if last is None and first is None:
        return WindowDecision("undated", anchor_date, start)
    for_investigator = after_anchor == "investigator"
    if last is not None and not (last > anchor_date and for_investigator):
        clear = clears_on(last, window)
        if last >= start:
            return WindowDecision("within", anchor_date, start, clear, last == start, rescreen)
        return WindowDecision("before", anchor_date, start, clear)
    # the last dose is not recorded, or is after a screening anchor: the first dose decides
    # where it is a day of use within the window
    if first is not None and first >= start and (first <= anchor_date or not for_investigator):
        clear = clears_on(last, window) if last is not None else None
        return WindowDecision(
            "within",
            anchor_date,
            start,
            clear,
            first == start,
            rescreen,
            not_before=clears_on(first, window),
            by_first_dose=True,
        )
    latest_recorded = last if last is not None else first
    assert latest_recorded is not None  # neither recorded is "undated"
    if latest_recorded > anchor_date:
        case: WindowCase = "after_anchor_cleared" if cleared else "after_anchor"
        return WindowDecision(case, anchor_date, start)
    # begun before the window and its last dose not recorded: it may have ended either side
    return WindowDecision("last_dose_unknown", anchor_date, start)


@dataclass(frozen=True)
class _WindowWords:
    """The sentence for each case of a dated window (the decision is ``WindowDecision``'s)."""

    name: str
    criterion: str
    window: Window
    anchor: str
    anchor_as_written: str
    dated: str
    study: Study
    cleared: str | None

    def reason(
        self,
        decision: WindowDecision,
        last: date | None,
        stop_example: date | None,
        first: date | None = None,
    ) -> str:
        name, criterion, window, anchor = self.name, self.criterion, self.window, self.anchor
        as_written, dated, anchor_date = self.anchor_as_written, self.dated, decision.anchor_date
        start, rescreen = decision.start, self.anchor == "screening"
        rescreening = " (rescreening needed)" if rescreen else ""
        # the dates the decision read, as recorded (a course's start only where it decided)
        recorded = f"{dated} {last}" if last else f"start {first}, last dose not recorded"
        record_last = f"record the last dose's date ({self.study.issue_for('undated_entries')})"
        match decision.case:
            case "no_anchor":
                return (
                    f"{name}: the window counts from {anchor}, and no {anchor} date is given: "
                    f"unknown ({criterion})"
                )
            case "ongoing":
                assert stop_example is not None  # the anchor date is one of the two
                # a medicine stops after its last dose; an infection or a stay in hospital ends
                stopped = "stopped after a last dose" if dated == "last dose" else "if it ended"
                # a window counted from the screening visit is cleared by a new screening
                clears = (
                    f"a screening on or after {clears_on(stop_example, window)} would clear it"
                    if rescreen
                    else f"it would clear on {clears_on(stop_example, window)}"
                )
                until = "stops" if dated == "last dose" else "ends"
                return (
                    f"{name} is ongoing: excluded until it {until} "
                    f"({criterion}, {window} {as_written}); {stopped} on {stop_example}, "
                    f"{clears}{rescreening}"
                )
            case "undated":
                return (
                    f"{name}: no date recorded; within the window of {window} {as_written} "
                    f"(from {start}) it excludes, before it it does not: unknown ({criterion}); "
                    f"record the date ({self.study.issue_for('undated_entries')})"
                )
            case "after_anchor_cleared":
                return (
                    f"{name} ({recorded}) is after the screening visit {anchor_date}; the "
                    f"investigator clears it ({self.cleared}): passes ({criterion}, "
                    f"{self.study.issue_for('infection_anchor')})"
                )
            case "after_anchor":
                return (
                    f"{name} ({recorded}) is after the screening visit {anchor_date}: the "
                    f"record's window counts back from screening; the investigator decides "
                    f"({criterion}, {self.study.issue_for('infection_anchor')})"
                )
            case "within" if decision.by_first_dose:
                assert first is not None and anchor_date is not None
                where = "exactly on the first day of" if decision.on_boundary else "within"
                if first > anchor_date:  # after the anchor, and read as within
                    span = f"after {anchor} {anchor_date}, which the window covers"
                else:
                    span = f"{start} to {anchor} {anchor_date}"
                ended = f"last dose {last}" if last else "last dose not recorded"
                if decision.clears is not None:
                    then = f"a {anchor} on or after {decision.clears} clears it{rescreening}"
                else:  # when it clears depends on the last dose
                    then = (
                        f"a {anchor} before {decision.not_before} is excluded whatever the last "
                        f"dose; when it clears depends on the last dose{rescreening}: "
                        f"{record_last}"
                    )
                return (
                    f"{name} (start {first}, {ended}) began {where} the window of {window} "
                    f"{as_written} ({span}): its first dose is a day of use within the window: "
                    f"excluded ({criterion}); {then}"
                )
            case "within":
                assert last is not None and anchor_date is not None
                where = "exactly on the first day of" if decision.on_boundary else "within"
                if last > anchor_date:  # after the anchor, and read as within (EX23 after entry)
                    span = f"after {anchor} {anchor_date}, which the window covers"
                else:
                    span = f"{start} to {anchor} {anchor_date}"
                return (
                    f"{name} ({dated} {last}) is {where} the window of {window} {as_written} "
                    f"({span}): excluded ({criterion}); a {anchor} on or after {decision.clears} "
                    f"clears it{rescreening}"
                )
            case "last_dose_unknown":
                return (
                    f"{name} (start {first}) began before the window of {window} {as_written} "
                    f"(from {start}), and its last dose is not recorded: a last dose on or after "
                    f"{start} excludes, one before it does not: unknown ({criterion}); "
                    f"{record_last}"
                )
            case "before":
                return (
                    f"{name} ({dated} {last}) is before the window of {window} {as_written} "
                    f"(from {start}): passes ({criterion}); cleared from {decision.clears}"
                )
        raise InternalError(f"a window case with no sentence: {decision.case!r}")


@dataclass(frozen=True)
class _SteroidCourse:
    """One systemic corticosteroid course in the EX11 window, as the daily sum needs it."""

    entry: str
    name: str
    # prednisone equivalent, exactly; None when it cannot be computed
    mg_per_dosing_day: Fraction | None
    daily: bool  # taken every day (once to four times daily)
    start: date | None
    last: date | None  # None while ongoing
    ongoing: bool
    # when the amount is not known: what is not recorded ("route", "dose", ...), and the most
    # it can be (the dose as if systemic when only the route is missing; None: any amount)
    not_recorded: tuple[str, ...] = ()
    at_most: Fraction | None = None
    # a dose without its frequency: at least once on a dosing day (PI26), surely that much
    at_least: Fraction | None = None


def _steroid_amount(med: MedicationEntry, match: Match) -> tuple[Fraction | None, bool]:
    """(prednisone-equivalent mg on each dosing day, taken every day) or (None, ...) if the
    dose or frequency is missing. A non-daily dose counts as its dose-day amount (PI26)."""
    assert match.drug is not None and match.drug.prednisone_5mg_equivalent is not None
    if med.dose is None or med.frequency is None:
        return None, False
    frequency = frequency_of(med.frequency)
    assert frequency is not None
    per_day, interval = frequency
    equivalent = (
        dose_in_mg(med.dose) * 5 / _exact_mg(match.drug.prednisone_5mg_equivalent.value) * per_day
    )
    return equivalent, interval == 1


def _least_steroid_amount(
    med: MedicationEntry, match: Match, choose: Callable[..., int] = min
) -> Fraction | None:
    """The prednisone equivalent of a recorded dose taken the fewest times a frequency allows
    on a dosing day (once), or with ``choose=max`` the most (four times); None without a
    dose."""
    if med.dose is None:
        return None
    times = choose(per_day for per_day, _ in FREQUENCIES.values())
    with_times = med.model_copy(update={"frequency": _FEWEST_FREQUENCY[times]})
    return _steroid_amount(with_times, match)[0]


#: A frequency written for each number of administrations on a dosing day.
_FEWEST_FREQUENCY = {per_day: text for text, (per_day, _) in reversed(FREQUENCIES.items())}
#: The most administrations a frequency the book knows gives on a dosing day.
_MOST_TIMES = max(_FEWEST_FREQUENCY)


def _mg(value: float | Fraction, beside: float | None = None) -> str:
    """An amount in mg to two decimals, or three significant digits below 1 mg (15 mcg is
    0.015 mg, not 0.01); with more where that would show it equal to ``beside`` (the limit)
    though it is not: 10.0016 mg is not written "10" beside "more than 10"."""
    exact = Fraction(value)
    value = float(value)
    fewest = 2
    if 0 < abs(value) < 1:
        fewest = 2 - math.floor(math.log10(abs(value)))
    for digits in range(fewest, 16):
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
        if beside is None or exact == Fraction(beside) or Fraction(text) != Fraction(beside):
            return text
    return repr(value)


#: How EX11 decides one corticosteroid entry on its own, and the status of each case.
SteroidCase = Literal[
    "not_systemic",
    "before_window",
    "undated",
    "last_dose_unknown",
    "no_route",
    "injection",
    "which_drug",
    "no_dose",
    "over_limit",
    "within_limit",
    "within_limit_at_most",
]
STEROID_CASE_STATUS: dict[SteroidCase, Status] = {
    "not_systemic": "pass",
    "before_window": "pass",
    "undated": "unknown",
    "last_dose_unknown": "unknown",  # begun before the window; its end may be in it or not
    "no_route": "unknown",
    "injection": "fail",
    "which_drug": "unknown",
    "no_dose": "unknown",
    "over_limit": "fail",
    "within_limit": "pass",
    # a dose without its frequency, at most the limit taken as often as a frequency allows
    "within_limit_at_most": "pass",
}


@dataclass(frozen=True)
class SteroidDecision:
    """EX11's decision for one entry, without its words."""

    case: SteroidCase
    start: date  # the window's first day
    clears: date | None = None  # the first randomization date the last dose no longer counts
    amount: Fraction | None = None  # prednisone-equivalent mg per dosing day, exactly
    daily: bool = True  # taken every day (or on some days only)

    @property
    def status(self) -> Status:
        return STEROID_CASE_STATUS[self.case]


def decide_corticosteroid(
    med: MedicationEntry, match: Match, data: WashoutInput, study: Study
) -> SteroidDecision:
    """Not systemic, before the window, undated, or within it: then by route, drug and dose."""
    group, rule = match.group, study.corticosteroid_rule
    assert group.window is not None
    window = group.window.value
    start = window_start(data.planned_randomization, window)
    clear = clears_on(med.last_dose, window) if med.last_dose else None
    last_open = not med.ongoing and med.last_dose is None  # neither stopped on a day nor ongoing
    # the first dose is a day of use too: one within the window puts the course in it
    started_within = last_open and med.start is not None and med.start >= start
    in_window = (
        med.ongoing or (med.last_dose is not None and med.last_dose >= start) or started_within
    )
    if med.route in rule.non_systemic_routes:
        return SteroidDecision("not_systemic", start)
    if not in_window and not last_open:
        return SteroidDecision("before_window", start, clear)
    if last_open and not started_within:
        return SteroidDecision("undated" if med.start is None else "last_dose_unknown", start)
    if med.route is None:
        return SteroidDecision("no_route", start)
    if med.route in rule.injection_routes:
        return SteroidDecision("injection", start, clear)
    if match.drug is None or match.drug.prednisone_5mg_equivalent is None:
        return SteroidDecision("which_drug", start)
    amount, daily = _steroid_amount(med, match)
    limit = _exact_mg(rule.daily_limit.value)  # compared exactly: no tolerance at the limit
    if amount is None:
        # a dose without its frequency: every frequency gives at least one dose on a dosing
        # day, so a dose already over the limit excludes whatever the frequency (PI26)
        least = _least_steroid_amount(med, match)
        if least is not None and least > limit:
            return SteroidDecision("over_limit", start, clear, least, daily=False)
        # and a dose within the limit taken as often as any frequency allows (_MOST_TIMES on a
        # dosing day) passes whatever the frequency
        most = _least_steroid_amount(med, match, max)
        if most is not None and not most > limit:
            return SteroidDecision("within_limit_at_most", start, clear, most, daily=False)
        return SteroidDecision("no_dose", start, daily=daily)
    over = amount > limit
    return SteroidDecision("over_limit" if over else "within_limit", start, clear, amount, daily)


def _corticosteroid_check(
    med: MedicationEntry, entry: str, match: Match, data: WashoutInput, study: Study
) -> tuple[EntryResult, _SteroidCourse | None]:
    """One corticosteroid entry on its own; the course it contributes to the daily sum."""
    decision = decide_corticosteroid(med, match, data, study)
    if decision.case in ("undated", "last_dose_unknown"):
        # within the window or not is unknown: the course counts only where that cannot matter
        result, course = _corticosteroid_check(
            med.model_copy(update={"ongoing": True}), entry, match, data, study
        )
        if result.status == "pass":  # not systemic, or at most the limit on any day it is taken
            undated_course = None
            if course is not None:  # it may still add up with another course on some day
                undated_course = _SteroidCourse(
                    entry, med.name, course.mg_per_dosing_day, False, med.start, None, False
                )
            return result, undated_course
    group = match.group
    assert group.window is not None
    keeps_clear = decision.case in ("before_window", "injection", "over_limit")
    result = EntryResult(
        entry=entry,
        name=med.name,
        matched=match.description,
        criterion=group.criterion,
        window=str(group.window.value),
        anchor=group.anchor,
        anchor_date=data.planned_randomization,
        window_start=decision.start,
        last_date=med.last_dose,
        clears_on=decision.clears if keeps_clear else None,
        status=decision.status,
        reason=_steroid_reason(decision, med, match, study),
        on_boundary=_on_window_start(decision, med),
    )

    def course_of(amount: Fraction | None, daily: bool, **unknown: Any) -> _SteroidCourse:
        return _SteroidCourse(
            entry, med.name, amount, daily, med.start, med.last_dose, med.ongoing, **unknown
        )

    course = None
    if decision.case == "no_route":
        # systemic or not is unknown: it surely adds nothing, and at most its dose as if systemic
        amount = None
        if match.drug is not None and match.drug.prednisone_5mg_equivalent is not None:
            amount = _steroid_amount(med, match)[0]
        missing = ("route",) if amount is not None else _not_recorded(med, match)
        course = course_of(None, True, not_recorded=missing, at_most=amount)
    elif decision.case == "which_drug":
        course = course_of(None, True, not_recorded=("drug",))
    elif decision.case in ("no_dose", "within_limit_at_most"):
        # a dose without its frequency: taken once to as often as a frequency allows on a
        # dosing day (within the limit alone, it may still add up with another course)
        course = course_of(
            None,  # (the most it can be is the entry's alone: the sum reads its range)
            decision.daily,
            not_recorded=_not_recorded(med, match),
            at_most=_least_steroid_amount(med, match, max),
            at_least=_least_steroid_amount(med, match),
        )
    elif decision.case in ("over_limit", "within_limit"):
        course = course_of(decision.amount, decision.daily)
    return result, course


def _on_window_start(decision: SteroidDecision, med: MedicationEntry) -> bool:
    """Whether an excluding entry's last day in the window is the window's first day: an
    injection's date, or a finished course's last dose (an ongoing course is in it every day
    to randomization)."""
    if decision.case == "injection":
        return (med.last_dose or med.start) == decision.start
    if decision.case == "over_limit":
        return not med.ongoing and med.last_dose == decision.start
    return False


def _not_recorded(med: MedicationEntry, match: Match) -> tuple[str, ...]:
    """What a corticosteroid entry lacks for its prednisone equivalent."""
    missing = [] if med.route is not None else ["route"]
    if match.drug is None or match.drug.prednisone_5mg_equivalent is None:
        missing.append("drug")
    missing += [
        what for what, given in (("dose", med.dose), ("frequency", med.frequency)) if not given
    ]
    return tuple(missing)


def _steroid_reason(
    decision: SteroidDecision, med: MedicationEntry, match: Match, study: Study
) -> str:
    """EX11's sentence for one entry's decision."""
    group, rule = match.group, study.corticosteroid_rule
    assert group.window is not None
    window, criterion, clear = group.window.value, group.criterion, decision.clears
    limit = rule.daily_limit.value.to(_MG)
    match decision.case:
        case "not_systemic":
            assert med.route is not None
            return (
                f"{med.name} ({med.route.replace('_', '-')}) is not systemic: EX11 concerns "
                f"systemic corticosteroids and intravenous or intramuscular injections "
                f"({study.issue_for('steroid_routes')}): passes"
            )
        case "before_window":
            return (
                f"{med.name} (last dose {med.last_dose}) is before the window of {window} "
                f"prior to randomization (from {decision.start}): passes ({criterion})"
            )
        case "undated":
            return (
                f"{med.name}: no date recorded; taken in the {window} before randomization it "
                f"would exclude, taken before it it would not: unknown ({criterion}); record "
                f"the last dose's date ({study.issue_for('undated_entries')})"
            )
        case "last_dose_unknown":
            return (
                f"{med.name} (start {med.start}) began before the window of {window} prior to "
                f"randomization (from {decision.start}), and its last dose is not recorded: "
                f"taken in the window it would exclude, stopped before it it would not: unknown "
                f"({criterion}); record the last dose's date ({study.issue_for('undated_entries')})"
            )
        case "no_route":
            return (
                f"{med.name} within the {window} before randomization: its route (oral, IV, "
                f"IM, topical, ...) is needed to apply EX11: unknown ({criterion})"
            )
        case "injection":
            assert med.route is not None
            if med.ongoing:
                when = "is ongoing"
            elif med.last_dose:
                when = f"(last dose {med.last_dose})"
            else:
                when = f"(start {med.start}, last dose not recorded)"
            where = (
                f"exactly on the first day of the {window} before randomization"
                if _on_window_start(decision, med)
                else f"within the {window} before randomization"
            )
            return (
                f"{med.name} by {med.route.upper()} injection {when}, {where}: excluded "
                f"({criterion}, any IV or IM corticosteroid)"
                + (f"; clears from {clear}" if clear else _clears_after_open_course(med, window))
            )
        case "which_drug":
            return (
                f"{med.name}: which corticosteroid? The prednisone equivalent needs the "
                f"drug's name: unknown ({criterion})"
            )
        case "no_dose":
            needed = [
                what
                for what, given in (("dose", med.dose), ("frequency", med.frequency))
                if given is None
            ]
            return (
                f"{med.name} within the {window} before randomization: its "
                f"{' and '.join(needed)} {'is' if len(needed) == 1 else 'are'} needed to "
                f"compute the prednisone equivalent: unknown ({criterion})"
            )
    assert decision.amount is not None and match.drug is not None
    equivalent = match.drug.prednisone_5mg_equivalent
    assert equivalent is not None
    day = (
        "mg/day"
        if decision.daily
        else f"mg on each dosing day ({study.issue_for('non_daily_steroids')})"
    )
    given = (
        f"{med.dose} {med.frequency}"
        if med.frequency
        else f"{med.dose} (frequency not recorded: at most {_MOST_TIMES} doses on a dosing day)"
        if decision.case == "within_limit_at_most"
        else f"{med.dose} (frequency not recorded: at least one dose on a dosing day)"
    )
    daily_text = f"{given} = {_mg(decision.amount, limit.to('mg').magnitude)} {day}"
    # the table by the label the book cites it by ("[BNF]"), not its key
    table = f" [{study.references[equivalent.source].label}]" if equivalent.source else ""
    if decision.case == "over_limit":
        then = (
            f"; clears from {clear}"
            if clear
            else _clears_after_open_course(med, window) or "; it must stop or fall to the limit"
        )
        # a last dose on the window's first day says so, as every other window's entry does
        where = (
            f"with its last dose ({med.last_dose}) exactly on the first day of the {window} "
            "before randomization"
            if _on_window_start(decision, med)
            else f"within the {window} before randomization"
        )
        return (
            f"{med.name} {daily_text} prednisone equivalent{table}, more than "
            f"{format_quantity(limit)}/day {where}: excluded ({criterion}){then}"
        )
    return (
        f"{med.name} {daily_text} prednisone equivalent{table}, not more than "
        f"{format_quantity(limit)}/day: passes ({criterion})"
    )


def _clears_after_open_course(med: MedicationEntry, window: Window) -> str:
    """When a course begun in the window, its last dose not recorded, can clear: not before
    its first dose leaves the window, later by as much as the last dose was; "" otherwise."""
    if med.ongoing or med.last_dose is not None or med.start is None:
        return ""
    return (
        f"; its last dose is not recorded: a randomization before {clears_on(med.start, window)} "
        f"is excluded whatever the last dose, and when it clears depends on the last dose "
        f"(record its date)"
    )


def _why_open(courses: list[_SteroidCourse], day_open: list[_SteroidCourse]) -> str:
    """Why the courses' sum on a day is not known, course by course: for ``day_open``, whether
    it was taken that day (a date not recorded, or a schedule that is not daily: its dates say
    which days it spans, not which it was taken on); for each, an amount not known."""
    causes = []
    for course in courses:
        if course in day_open:
            if not course.ongoing and course.last is None and course.start is None:
                causes.append(f"{course.name}'s dates are not recorded")
            elif not course.ongoing and course.last is None:
                causes.append(f"{course.name}'s last dose is not recorded")
            elif course.start is None:
                causes.append(f"{course.name}'s start date is not recorded")
            elif not course.daily and (course.ongoing or course.start != course.last):
                causes.append(
                    f"{course.name} is not taken every day, so which days of its course it was "
                    "taken on is not known"
                )
        if course.mg_per_dosing_day is None:
            causes.append(_needed(course))
    return "; ".join(dict.fromkeys(causes)) or "their dates overlap"


def _needed(course: _SteroidCourse) -> str:
    """What the amount of a course lacks: "prednisone's route and dose are not recorded"."""
    parts = [what for what in course.not_recorded if what != "drug"] or ["dose"]
    missing = f"{course.name}'s {_and(parts)} {'is' if len(parts) == 1 else 'are'} not recorded"
    if "drug" not in course.not_recorded:
        return missing
    which = f"which corticosteroid {course.name} is, is not recorded"
    return which if course.not_recorded == ("drug",) else f"{which}, and {missing}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _what_to_record(courses: list[_SteroidCourse], day_open: list[_SteroidCourse]) -> str:
    """What the site records (or the investigator decides) to settle the daily sum."""
    needs = []
    for course in courses:
        parts = [p for p in course.not_recorded if p != "drug"]
        if course in day_open:
            if course.start is None:
                parts.append("start date")
            if not course.ongoing and course.last is None:
                parts.append("last dose")
        parts = list(dict.fromkeys(parts))
        if "drug" in course.not_recorded:
            needs.append(f"which corticosteroid {course.name} is")
        if parts:
            needs.append(f"{course.name}'s {_and(parts)}")
    if needs:
        return "record " + "; ".join(needs)
    return "the investigator decides from the dosing days"


def _combined_corticosteroids(
    courses: list[_SteroidCourse], data: WashoutInput, study: Study
) -> EntryResult | None:
    """EX11 over every systemic course together: the prednisone equivalents of courses taken on
    the same day add up. Fails when some day surely exceeds the limit; unknown when only an
    unrecorded overlap (a missing start date, a missing dose) could make a day exceed it."""
    if len(courses) < 2:
        return None
    group = next(g for g in study.medication_classes if g.rule == "corticosteroid")
    assert group.window is not None
    limit = _exact_mg(study.corticosteroid_rule.daily_limit.value)  # compared exactly
    anchor = data.planned_randomization
    first_day = window_start(anchor, group.window.value)

    def span(course: _SteroidCourse, sure: bool) -> tuple[date, date] | None:
        if not course.ongoing and course.last is None:
            if course.start is None:  # undated: any day of the window, or none
                return None if sure else (first_day, anchor)
            # its last dose not recorded: the first dose day surely, any later day possibly
            begin, end = course.start, (course.start if sure else anchor)
            begin, end = max(begin, first_day), min(end, anchor)
            return (begin, end) if begin <= end else None
        end = anchor if course.ongoing else course.last
        assert end is not None
        begin = course.start if course.start else (end if sure else first_day)
        if sure and not course.daily:  # only the recorded last dose day is surely a dosing day
            if not course.last:  # ongoing: its recorded first dose day, when in the window
                start = course.start
                return (
                    (start, start) if start is not None and first_day <= start <= anchor else None
                )
            begin = end
        begin, end = max(begin, first_day), min(end, anchor)
        return (begin, end) if begin <= end else None

    def amount(course: _SteroidCourse, sure: bool) -> Fraction | float | None:
        """Its prednisone equivalent on a dosing day: surely (None: not surely any), or at
        most (math.inf: any amount)."""
        if course.mg_per_dosing_day is not None:
            return course.mg_per_dosing_day
        if sure:
            return course.at_least
        return math.inf if course.at_most is None else course.at_most

    def not_surely_on(day: date, on_day: list[_SteroidCourse]) -> list[_SteroidCourse]:
        """The courses that may not have been taken on ``day``."""
        return [c for c in on_day if not (s := span(c, True)) or not s[0] <= day <= s[1]]

    def worst_day(sure: bool) -> tuple[Fraction | float, date | None, list[_SteroidCourse]]:
        """The day two or more courses (surely, or possibly) add up to the most (of equal
        days, the one the most of them were surely taken on); a day with one course is that
        course's own entry's concern."""
        spans = [(c, span(c, sure)) for c in courses if amount(c, sure) is not None]
        days = sorted({day for _, s in spans if s for day in s})
        best: tuple[Fraction | float, int, date | None, list[_SteroidCourse]] = (
            Fraction(0),
            0,
            None,
            [],
        )
        for day in days:
            on_day = [c for c, s in spans if s and s[0] <= day <= s[1]]
            if len(on_day) < 2:
                continue
            # exact fractions (an amount not known at all is infinite, a float)
            total = sum((amount(c, sure) or Fraction(0) for c in on_day), Fraction(0))
            open_ = len(not_surely_on(day, on_day))
            if total > best[0] or (total == best[0] and open_ < best[1]):
                best = (total, open_, day, on_day)
        return best[0], best[2], best[3]

    def names(on_day: list[_SteroidCourse]) -> str:
        return " + ".join(c.name for c in on_day)

    base: dict[str, Any] = {
        "entry": ", ".join(c.entry for c in courses),
        "name": "corticosteroids together",
        "matched": "daily sum of prednisone equivalents",
        "criterion": group.criterion,
        "window": str(group.window.value),
        "anchor": group.anchor,
        "anchor_date": anchor,
        "window_start": first_day,
    }
    sure_total, sure_day, sure_courses = worst_day(sure=True)
    if sure_total > limit:
        # (a dose without its frequency counts once: the sum is then its least)
        least = "at least " if any(c.mg_per_dosing_day is None for c in sure_courses) else ""
        return EntryResult(
            **base,
            status="fail",
            reason=f"{names(sure_courses)} taken on {sure_day} add up to {least}"
            f"{_mg(sure_total, limit)} mg prednisone equivalent that day, more than "
            f"{_mg(limit)} mg/day within the {group.window.value} before randomization: "
            f"excluded ({group.criterion})",
        )
    possible_total, possible_day, possible_courses = worst_day(sure=False)
    if possible_total > limit:
        assert possible_day is not None
        shown = "an unknown amount" if math.isinf(possible_total) else f"{_mg(possible_total)} mg"
        # the courses that may not have been taken that day (each surely was, or its dates
        # leave it open)
        day_open = not_surely_on(possible_day, possible_courses)
        why = _why_open(possible_courses, day_open)
        when = (
            f"taken on {possible_day} could add up to {shown} prednisone equivalent that day "
            f"({why})"
            if not day_open
            else f"may have been taken on the same days ({why}); together that could be {shown} "
            "prednisone equivalent a day"
        )
        return EntryResult(
            **base,
            status="unknown",
            reason=f"{names(possible_courses)} {when}, more than {_mg(limit)} mg: unknown "
            f"({group.criterion}); {_what_to_record(possible_courses, day_open)}",
        )
    together = (
        f"the corticosteroid courses together reach at most {_mg(possible_total)} mg prednisone "
        f"equivalent on any day of the window"
        if possible_courses
        else "no two corticosteroid courses can fall on the same day of the window (each is "
        "checked on its own)"
    )
    return EntryResult(**base, status="pass", reason=f"{together}: passes ({group.criterion})")


def check_medication(
    med: MedicationEntry, index: int, data: WashoutInput, study: Study
) -> EntryResult:
    return _check_medication(med, index, data, study)[0]


def _check_medication(
    med: MedicationEntry, index: int, data: WashoutInput, study: Study
) -> tuple[EntryResult, _SteroidCourse | None]:
    """One medicine: found in the catalogue or not, then its class's rule decides."""
    entry = f"medications[{index}]"
    match = match_medicine(med.name, study)
    if match is None:
        return _uncatalogued(med, entry, study), None
    group = match.group
    course = None
    if group.rule == "lifetime":
        assert group.window is not None  # the schema gives a lifetime class the window 'ever'
        result = EntryResult(
            entry=entry,
            name=med.name,
            matched=match.description,
            criterion=group.criterion,
            window=str(group.window.value),
            last_date=med.last_dose,
            status="fail",
            reason=f"{med.name}: any use, ever, excludes ({group.criterion}): never eligible",
            lifetime=True,
        )
    elif group.rule == "no_window":
        result = _no_window(med, entry, match, data, study)
    elif group.rule == "corticosteroid":
        result, course = _corticosteroid_check(med, entry, match, data, study)
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
            study=study,
            first=med.start,
        )
        if match.drug is None and group.aliases_also_name and result.status == "pass":
            result.status = "unknown"
            result.reason = _named_by_class_only(med.name, group, study)
        local_use = _local_use_applies(match, med, study)
        if local_use and result.status in ("fail", "unknown"):
            _local_use(result, med, group, study)
        elif local_use:
            # before its window on this date; on an earlier one the investigator's to decide,
            # never a failure: its window's end is no date before which randomization fails
            result.clears_on = None
    result.notes = _match_notes(match, study) + result.notes
    return result, course


def _local_route(med: MedicationEntry, study: Study) -> bool:
    """A route that is no systemic use (eye drops, a cream, an inhaler: the study's
    non-systemic routes, which EX11 names for corticosteroids)."""
    return med.route is not None and med.route in study.corticosteroid_rule.non_systemic_routes


def _local_use_applies(match: Match, med: MedicationEntry, study: Study) -> bool:
    """A local use the investigator decides (PI32): a medicine named (a class's name alone may
    mean one with a lifetime exclusion), of a class with a window of its own (corticosteroids
    keep EX11's route rule), by a local route. Both the answer and the input check that allows
    its clearance read it here."""
    return (
        match.drug is not None
        and match.group.rule not in ("corticosteroid", "lifetime", "no_window")
        and _local_route(med, study)
    )


def _local_use(
    result: EntryResult, med: MedicationEntry, group: MedicationClass, study: Study
) -> None:
    """A catalogued medicine used locally, within its window or with dates that may put it
    there: the investigator decides whether the criterion concerns it (PI32), as for the same
    medicine named by its local form ("cyclosporine eye drops", which the catalogue does not
    take for the systemic medicine). The route said in its own field gave a failure where the
    name gave an open question. Its window's end is no date the randomization waits for (a
    local use the investigator clears passes on any date), so it sets no floor."""
    route = med.route.replace("_", "-") if med.route else ""
    window = f"the window of {group.window.value}" if group.window else "its window"
    issue = study.issue_for("local_routes")
    if result.status == "fail":
        said = f"{med.name} ({route}) is within {window} ({group.criterion}), but as a local use"
    else:  # dates not recorded that could put it within the window
        said = f"{med.name} ({route}) is a local use"
    if med.investigator_cleared:
        result.status = "pass"
        result.reason = (
            f"{said}, which the investigator attests {group.criterion} does not concern "
            f"({med.clearance_reason}; {issue}): passes"
        )
    elif result.status == "fail":
        result.status = "unknown"
        result.reason = (
            f"{said}, not a systemic one: the investigator decides whether {group.criterion} "
            f"concerns it (and may clear it in the record, giving the reason; {issue})"
        )
    else:
        result.reason += (
            f"; {said}: the investigator may also decide that {group.criterion} does not "
            f"concern it (and clear it in the record, giving the reason; {issue})"
        )
    result.requires_rescreening = False
    result.clears_on = None


def _named_by_class_only(name: str, group: MedicationClass, study: Study) -> str:
    """A medicine named by a class's alias alone ("immunosuppressant") passes no window when
    the word also names other classes' medicines (``aliases_also_name``) with a longer window
    (cyclophosphamide, 3 months) or a lifetime exclusion (rituximab): the medicine's name could
    still change the criterion."""
    named = {g.id: g for g in study.medication_classes}
    shown = [
        f"{other.label}: {'ever' if other.rule == 'lifetime' else other.window.value}"
        for other in (named[i] for i in group.aliases_also_name)
        if other.window is not None
        and _window_days(other.window.value) > _window_days(group.window.value)
    ]
    return (
        f"{name} names a class, not a medicine: its last dose is before the {group.window.value} "
        f"of {group.label}, but a medicine called so may have a longer window "
        f"({'; '.join(shown[:3])}): unknown until the medicine is named"
    )


def _other_words_before(name: str, within: str) -> bool:
    """Whether a Chinese catalogued name stands in ``name`` after characters that are not a
    salt or form written before it (甲基 in 甲基泼尼松龙, not 醋酸 in 醋酸泼尼松)."""
    if not _is_chinese(within):
        return False
    packed = _chinese_packed(name)
    before = packed[: max(packed.find(within), 0)]
    while before:
        known = next((p for p in _CHINESE_BEFORE if before.endswith(p)), None)
        if known is None:
            return True
        before = before[: -len(known)]
    return False


def _window_days(window: Window) -> float:
    """A window's length in days, for comparing windows (a lifetime is longest)."""
    if window.lifetime or window.duration is None:
        return float("inf")
    return float(window.duration.to(_DAY).magnitude)


def _uncatalogued(med: MedicationEntry, entry: str, study: Study) -> EntryResult:
    """A medicine the catalogue does not know: never allowed by default; the investigator may
    attest it is not prohibited. A name containing a catalogued one says so, in the reason the
    investigator reads before clearing it."""
    contained = within_names(med.name, study)
    named = "; ".join(
        f"{m.within!r}, {m.drug.name if m.drug else m.group.label} ({m.group.criterion})"
        for m in contained
    )
    if not contained:
        warning = ""
    elif any(_other_words_before(med.name, m.within) for m in contained):
        # 甲基泼尼松龙 contains 泼尼松龙 (prednisolone) and is methylprednisolone; 去氢可的松
        # contains 可的松 (cortisone) and is prednisone: the words before may make it another
        # medicine, whose dose another equivalent converts
        warning = (
            f". Its name contains {named}, after words that may make it another medicine: the "
            "investigator says which medicine it is, and records a catalogued one by its own name"
        )
    else:
        warning = (
            f". Its name contains {named}: if it is that medicine, record it by that name, and "
            "the protocol decides it"
        )
    # it may be a medicine of any class the catalogue leaves open: it holds each such criterion
    # open (screen shows it under each), until the investigator clears it
    held_open = open_criteria(study)
    if med.investigator_cleared:
        return EntryResult(
            entry,
            med.name,
            "pass",
            f"{med.name} is not in the catalogue; the investigator attests it is not a "
            f"prohibited medicine ({med.clearance_reason}): passes{warning}",
            last_date=med.last_dose,
            criteria=held_open,
        )
    return EntryResult(
        entry,
        med.name,
        "unknown",
        f"{med.name} is not in the prohibited-medicines catalogue: unknown, never allowed "
        f"by default; the investigator decides whether it falls under "
        f"{_either(held_open)} (and may clear it in the record, giving the reason){warning}",
        last_date=med.last_dose,
        criteria=held_open,
    )


def _either(criteria: tuple[str, ...]) -> str:
    """``EX09, EX10 or EX11``: a choice in words."""
    return " or ".join(filter(None, (", ".join(criteria[:-1]), *criteria[-1:])))


def open_criteria(study: Study) -> tuple[str, ...]:
    """The criteria of the medicine classes the catalogue leaves open, in the study's order: a
    medicine it does not know may be one of theirs."""
    return tuple(dict.fromkeys(g.criterion for g in study.medication_classes if g.open))


def _no_window(
    med: MedicationEntry, entry: str, match: Match, data: WashoutInput, study: Study
) -> EntryResult:
    """A class the record names without a window: the investigator decides (and may clear)."""
    group = match.group
    issue = study.issue_for("open_drug_lists")
    of_class = f"{med.name} is one of the {group.label.lower()} of {group.criterion}"
    if med.investigator_cleared:
        status: Status = "pass"
        reason = (
            f"{of_class}, for which the record gives no window; the investigator clears it "
            f"({med.clearance_reason}): passes ({issue})"
        )
    else:
        status = "unknown"
        reason = (
            f"{of_class}, for which the record gives no window ({issue}): unknown, the "
            f"investigator decides (investigator_cleared with a reason)"
        )
    return EntryResult(
        entry=entry,
        name=med.name,
        matched=match.description,
        criterion=group.criterion,
        anchor=group.anchor,
        anchor_date=data.planned_randomization,
        last_date=med.last_dose,
        status=status,
        reason=reason,
    )


def _match_notes(match: Match, study: Study) -> list[str]:
    """What a reader should know about how the medicine was matched."""
    group = match.group
    notes = []
    if match.drug is not None and not match.drug.named_in_record:
        notes.append(
            f"{match.drug.name} is not named in the record; {group.criterion} lists its class "
            f"as open ('including …'), so the class rule applies "
            f"({study.issue_for('open_drug_lists')})"
        )
    if match.drug is None:
        notes.append(f"matched the class name '{group.label}', not a medicine of it")
    if match.drug is not None and normalise_name(match.drug.name) == normalise_name(
        "mycophenolate mofetil"
    ):
        protocol_mmf = study.intervention("mycophenolate_mofetil")
        notes.append(
            f"Mycophenolate mofetil taken before the study must stop at least "
            f"{group.window.value if group.window else ''} before randomization "
            f"({group.criterion}); "
            f"protocol MMF {format_quantity(protocol_mmf.dose.value)} "
            f"{protocol_mmf.frequency_label} then starts at randomization "
            f"({study.issue_for('background_mmf')})"
        )
    return notes


def _trial_period_end(start: date, kind: ExposureEvent) -> date:
    assert kind.period is not None
    return start + calendar_offset(kind.period.value)


def check_event(event: EventEntry, index: int, data: WashoutInput, study: Study) -> EntryResult:
    entry = f"events[{index}]"
    kind: ExposureEvent = next(e for e in study.exposure_events if e.kind == event.kind)
    result = _event_check(event, entry, kind, data, study)
    return replace(result, criteria=(kind.criterion, *kind.also_criteria))


def _event_check(
    event: EventEntry, entry: str, kind: ExposureEvent, data: WashoutInput, study: Study
) -> EntryResult:
    criterion = _criteria_text(kind.criterion, kind.also_criteria)
    assert kind.window is not None
    if kind.rule == "planned":
        return _planned_event(event, entry, kind, criterion, data, study)
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
        study=study,
        dated="dated",
        after_anchor=kind.after_anchor,
        cleared=event.clearance_reason if event.investigator_cleared else None,
    )


def _planned_event(
    event: EventEntry,
    entry: str,
    kind: ExposureEvent,
    criterion: str,
    data: WashoutInput,
    study: Study,
) -> EntryResult:
    """A planned surgery: excluded when planned in the trial period (PI24), or so soon before
    randomization that it falls in the window before it."""
    assert kind.window is not None and kind.period is not None
    randomization = data.planned_randomization
    end = _trial_period_end(randomization, kind)
    length = format_quantity(kind.period.value)
    reading = study.issue_for("trial_period")
    period = f"the trial period (randomization {randomization} to {end}, {length}; {reading})"
    base: dict[str, Any] = {
        "entry": entry,
        "name": kind.label,
        "matched": kind.kind,
        "criterion": criterion,
        "window": str(kind.window.value),
        "anchor": kind.anchor,
        "anchor_date": randomization,
        "last_date": event.date,
    }
    planned = event.date
    if planned is None:
        return EntryResult(
            **base,
            status="unknown",
            reason=f"{kind.label} without a date: one planned in {period} excludes, one after it "
            f"does not; record the planned date: unknown ({criterion})",
        )
    if planned > end:
        return EntryResult(
            **base,
            status="pass",
            reason=f"{kind.label} on {planned}, after {period}: passes ({criterion})"
            + _before_the_last_visit(planned, randomization, study, reading),
        )
    if planned >= randomization:
        return EntryResult(
            **base,
            status="fail",
            reason=f"{kind.label} on {planned}, within {period}: excluded ({criterion}) unless "
            f"it is cancelled or moved after {end}",
        )
    before = _window_check(
        entry=entry,
        name=kind.label,
        matched=kind.kind,
        criterion=criterion,
        window=kind.window.value,
        anchor="randomization",
        anchor_as_written="prior to randomization",
        last=planned,
        ongoing=False,
        data=data,
        study=study,
        dated="planned for",
    )
    return before


def _before_the_last_visit(planned: date, randomization: date, study: Study, reading: str) -> str:
    """The words a surgery planned after the end of treatment but by the last visit of the
    book's assumed schedule (a follow-up at week 52) adds: PI24 reads the trial period as the
    treatment alone, a reading the sponsor should confirm for such a date; none otherwise."""
    after_randomization = [v for v in study.visit_schedule.value if v.day >= 1]
    if not after_randomization:
        return ""
    last = max(after_randomization, key=lambda v: v.day + v.after.days)
    last_day = randomization + timedelta(days=last.day - 1) + last.after
    if planned > last_day:
        return ""
    return (
        f"; it falls by the last visit of the book's assumed schedule ({last.label}, "
        f"{last.window_text}, by {last_day}): confirm with the sponsor that the trial period "
        f"ends with the treatment ({reading})"
    )


def _entries_at(data: WashoutInput, study: Study) -> list[EntryResult]:
    """Every medicine, the corticosteroids together, and every event, at the input's planned
    randomization."""
    checked = [_check_medication(m, i, data, study) for i, m in enumerate(data.medications)]
    entries = [result for result, _ in checked]
    combined = _combined_corticosteroids([c for _, c in checked if c is not None], data, study)
    if combined is not None:
        entries.append(combined)
    entries += [check_event(e, i, data, study) for i, e in enumerate(data.events)]
    return entries


def _allowed_dates(
    data: WashoutInput, study: Study, entries: list[EntryResult]
) -> tuple[date | None, date | None, list[EntryResult]]:
    """The earliest randomization date at which no entry fails, and the first later date at
    which one fails again (None: allowed from then on); when no date is allowed, each entry
    that fails at some date (as it fails at the planned date, else as it first fails).

    The search runs from the screening visit (without one, from the last date an entry
    clears). Each entry's status changes only at the breakpoints of the anchor
    (:func:`anchor_breakpoints`), so the rules are evaluated at those alone: a medicine that
    clears later, a planned surgery that a later randomization brings into the trial period,
    two corticosteroid courses whose overlap leaves the window."""
    lowest, _ = _search_floor(data, study, entries)
    failing_now = [e for e in entries if e.status == "fail"]
    # each failing entry: as it fails at the planned date, else as it first fails
    in_the_way = {e.entry: e for e in failing_now}
    for entry in failing_now:
        index = _medication_index(entry)
        if index is not None and entry.clears_on is None and data.medications[index].ongoing:
            return None, None, failing_now  # an ongoing medicine that excludes at every date
    # a window that fails at the planned date fails at every date before it clears
    lowest = max([lowest, *(e.clears_on for e in failing_now if e.clears_on is not None)])
    breakpoints = _randomization_breakpoints(data, study)
    candidates = sorted(
        day for day in {lowest, data.planned_randomization, *breakpoints} if day >= lowest
    )
    earliest = None
    for day in candidates:
        at = (
            entries
            if day == data.planned_randomization
            else _entries_at(data.model_copy(update={"planned_randomization": day}), study)
        )
        failing = [e for e in at if e.status == "fail"]
        if earliest is None and not failing:
            earliest = day
        elif earliest is not None and failing:
            return earliest, day, []
        for entry in failing:
            in_the_way.setdefault(entry.entry, entry)
    return earliest, None, [] if earliest is not None else list(in_the_way.values())


def _randomization_breakpoints(data: WashoutInput, study: Study) -> set[date]:
    """The randomization dates at which some entry's status can change. Without a screening
    date, a window counted from the screening changes too where the screening days a
    randomization allows (the days before it, by the visit schedule's reach) begin or end at
    one of the screening's breakpoints: left out, a vaccine and an infection left the day both
    clear untried, and the next medicine's clearing read as the earliest."""
    screening_points, breakpoints = anchor_breakpoints(data.medications, data.events, study)
    if data.screening is not None:
        return breakpoints
    reach = latest_randomization_after_screening(study)
    return {
        *breakpoints,
        *screening_points,
        *(point + reach for point in screening_points if point + reach <= LATEST_DATE),
    }


def _search_floor(
    data: WashoutInput, study: Study, entries: list[EntryResult]
) -> tuple[date, bool]:
    """The first randomization date worth trying, and whether the record sets it (False: no
    screening visit, dose, past event or window's end is recorded, and the floor is the
    schedule's reach before the planned date or the day before the first date where a status
    can change, whichever is earlier; earlier dates are allowed as well).

    Never before what the record says happened before randomization: its doses, the starts of
    its courses, its past events; from the screening visit where one is recorded. Not from the
    planned date: a planned surgery that a later randomization brings into the trial period
    is clear of it at an earlier one."""
    clear_dates = [e.clears_on for e in entries if e.clears_on is not None]
    planned_kinds = {e.kind for e in study.exposure_events if e.rule == "planned"}
    recorded = [day for m in data.medications for day in (m.start, m.last_dose) if day]
    recorded += [e.date for e in data.events if e.date and e.kind not in planned_kinds]
    if data.screening is not None:
        return max([data.screening, *recorded]), True
    if clear_dates or recorded:
        # the latest of them binds every decision still open (an entry the investigator
        # decides, a screening date still to come) alike: a bound that an unrelated cleared
        # entry, or the planned date, moved would say more than the record does
        return max(clear_dates + recorded), True
    # nothing recorded bounds it: from before every date where a status can change (a
    # planned surgery leaves the trial period of a randomization early enough), and at least
    # from the schedule's reach before the planned date
    _, changes = anchor_breakpoints(data.medications, data.events, study)
    reach = data.planned_randomization - latest_randomization_after_screening(study)
    # never before the first day the book handles
    before_every_change = min([reach, *(day - timedelta(days=1) for day in changes)])
    floor = max([before_every_change, EARLIEST_DATE, *recorded])
    return floor, floor in recorded


def _open_last_doses(
    entries: list[EntryResult], data: WashoutInput
) -> tuple[list[str], list[EntryResult]]:
    """Of the unknown entries: the names of the courses with a start and no last dose recorded
    (neither stopped on a known day nor ongoing) that a dated window leaves unknown, and the
    other unknown entries."""
    names: list[str] = []
    others: list[EntryResult] = []
    for entry in entries:
        if entry.status != "unknown":
            continue
        courses = [
            data.medications[int(index)]
            for index in re.findall(r"medications\[(\d+)\]", entry.entry)
        ]
        open_here = [
            med.name
            for med in courses
            if med.start is not None and med.last_dose is None and not med.ongoing
        ]
        if open_here and entry.window is not None:
            names += [name for name in open_here if name not in names]
        else:
            others.append(entry)
    return names, others


def _medication_index(entry: EntryResult) -> int | None:
    found = re.fullmatch(r"medications\[(\d+)\]", entry.entry)
    return int(found.group(1)) if found else None


def latest_randomization_after_screening(study: Study) -> timedelta:
    """How long after the screening visit randomization may be: the screening visit's earliest
    study day counted to day 1 (no day 0), from the visit schedule."""
    visit = next(v for v in study.visit_schedule.value if v.id == "screening")
    earliest_day = visit.day - visit.before.days
    return timedelta(days=-earliest_day)


def check_washout(
    data: WashoutInput, study: Study | None = None, earliest_date: bool = True
) -> WashoutResult:
    """Every medicine and event of the input, and the earliest date randomization is allowed
    (not searched for with ``earliest_date=False``: screening reads the entries alone)."""
    study = study or load_study()
    entries = _entries_at(data, study)
    statuses = {e.status for e in entries}
    status: Status = (
        "fail" if "fail" in statuses else "unknown" if "unknown" in statuses else "pass"
    )
    never = any(e.lifetime and e.status == "fail" for e in entries)
    failed = [e for e in entries if e.status == "fail"]
    rescreen = [e for e in failed if e.requires_rescreening]
    # what stands in the way when no date is allowed: each entry that fails at some date
    earliest, fails_again, blocking = (
        (None, None, [])
        if never or rescreen or not earliest_date
        else _allowed_dates(data, study, entries)
    )
    is_a_bound = or_before = False
    # randomization comes by a number of days after the screening visit (the visit schedule):
    # a date beyond it needs a new screening, whatever the windows say
    gap = latest_randomization_after_screening(study)
    randomize_by = data.screening + gap if data.screening else None
    planned_beyond = randomize_by is not None and data.planned_randomization > randomize_by
    beyond_screening = False
    rescreen_from = max((e.clears_on for e in rescreen if e.clears_on), default=None)
    rescreen_for: date | None = None  # the randomization the new screening is for
    allowed: date | None = None  # the first the windows counted from randomization allow
    if rescreen and data.screening is not None:
        # the randomization the windows counted from it allow (from the planned date), then a
        # new screening that reaches it and clears every window counted from the screening
        # visit (an infection after the first screening counts at the second)
        planned = data.planned_randomization
        # the windows counted from randomization alone: those counted from the screening
        # visit are the new screening's to clear (left in, an antibiotic on the screening day
        # beside a vaccine the day before left no date, and no advice, at all)
        unscreened = _from_randomization_alone(data, study)
        allowed, _, in_the_way = _allowed_dates(unscreened, study, _entries_at(unscreened, study))
        if allowed is None and all(e.anchor == "screening" for e in in_the_way):
            allowed = planned  # only a window counted from the screening stands in the way
        # the first date from the planned one those windows allow: the allowed run from the
        # earliest may end before it (a surgery a later randomization brings into the trial
        # period), and a new screening for a date they forbid was advised (helper 137)
        rescreen_for = (
            _first_allowed_from(unscreened, study, max(allowed, planned))
            if allowed is not None
            else None
        )
        if rescreen_for is not None:
            lowest = max(rescreen_for - gap, data.screening + timedelta(1))
            rescreen_from, rescreen_for = _rescreening(data, study, lowest, rescreen_for)
    if never:
        summary = (
            "Never: a lifetime exclusion applies ("
            + ", ".join(e.name for e in entries if e.lifetime)
            + ")."
        )
    elif blocking:
        summary = "No date yet: " + "; ".join(e.reason for e in blocking) + "."
        if planned_beyond:
            beyond_screening = True
            summary += (
                f" The planned {data.planned_randomization} is also more than {gap.days} days "
                f"after the screening visit of {data.screening}: rescreening is needed."
            )
    elif rescreen:
        summary = (
            "Not on this screening: a window counted from the screening visit is not clear ("
            + "; ".join(e.name for e in rescreen)
            + "), so no randomization date follows from this screening; rescreening is needed"
            + (f", on or after {rescreen_from}" if rescreen_from else "")
        )
        if rescreen_for is not None and rescreen_for > data.planned_randomization:
            planned = data.planned_randomization
            why = (
                f"the windows counted from randomization do not allow the planned {planned}"
                if allowed is not None and allowed > planned
                else f"no screening in the {gap.days} days before the planned {planned} clears "
                "the windows counted from it"
            )
            summary += f", for a randomization on or after {rescreen_for}: {why}"
        elif allowed is None and data.screening is not None:
            summary += (
                "; the windows counted from randomization allow no date yet either, whatever "
                "the screening"
            )
        summary += "."
    elif not earliest_date:
        summary = "The earliest randomization date was not searched for."
    else:
        assert earliest is not None  # else some entry fails at every date: it blocks
        at_earliest = (
            entries
            if earliest == data.planned_randomization
            else _entries_at(data.model_copy(update={"planned_randomization": earliest}), study)
        )
        # a course whose last dose is not recorded may clear later than the earliest date the
        # rest allows: that date is then a bound, not the date
        open_courses, other_unknowns = _open_last_doses(at_earliest, data)
        # a window counted from a screening not yet recorded, clear at the planned date, is
        # open at an earlier randomization for its earlier screening days: the earliest date
        # holds with a screening visit on or after the day it clears, which is said; it is no
        # entry for the investigator to decide
        by_screening = {
            e.entry: e
            for e in entries
            if data.screening is None
            and e.anchor == "screening"
            and e.status in ("pass", "unknown")
            and e.clears_on is not None
        }
        screening_bound = [by_screening[e.entry] for e in other_unknowns if e.entry in by_screening]
        other_unknowns = [e for e in other_unknowns if e.entry not in by_screening]
        # unknown at the planned date only for the screening date still to come
        undecided = [e for e in entries if e.status == "unknown"]
        screening_decides = [e for e in undecided if e.entry in by_screening]
        investigator_decides = [e for e in undecided if e.entry not in by_screening]
        # an entry the investigator decides may move the date later too: a bound either way
        is_a_bound = bool(open_courses or other_unknowns or investigator_decides)
        floor, set_by_the_record = _search_floor(data, study, entries)
        or_before = not set_by_the_record and earliest == floor
        bound = "not before " if is_a_bound else ""
        # the JSON's latest_randomization: the day before an entry fails again, or the last
        # day the screening visit reaches, whichever comes first (the text said the first
        # alone: a surgery a year on was "allowed until" a date the screening does not reach)
        latest = _latest(earliest, fails_again, randomize_by)
        if or_before:
            summary = "Earliest randomization: none set by the record (no date it holds limits it)"
            if fails_again is not None:
                summary += f"; allowed on any date to {latest}"
        else:
            summary = f"Earliest randomization: {bound}{earliest}"
            if fails_again is not None:
                summary += f" (allowed until {latest})"
            if screening_bound:
                names = ", ".join(dict.fromkeys(e.name for e in screening_bound))
                screen_from = max(e.clears_on for e in screening_bound if e.clears_on)
                summary += (
                    f", with the screening visit on or after {screen_from} (the window of "
                    f"{names} counts back from the screening visit)"
                )
        planned = data.planned_randomization
        beyond_screening = randomize_by is not None and max(earliest, planned) > randomize_by
        if earliest > planned:
            summary += f", after the planned {planned}"
        elif status == "pass" and beyond_screening:
            summary += f"; the planned {planned} is clear of every window"
        elif status == "pass":
            summary += f"; the planned {planned} is allowed"
            if data.screening is None:  # the schedule's reach is not known without it
                summary += (
                    f" if the screening visit is on or after {planned - gap} (randomization "
                    f"comes at most {gap.days} days after it)"
                )
        elif status == "fail":
            summary += f"; the planned {planned} is not allowed"
        elif screening_decides and not investigator_decides:
            from_day = max(
                [planned - gap, *(e.clears_on for e in screening_decides if e.clears_on)]
            )
            summary += (
                f"; the planned {planned} is allowed if the screening visit is on or after "
                f"{from_day}"
            )
        if beyond_screening:
            # a new screening that reaches the planned date (or the earliest, if later) and
            # clears every window counted from it
            target = max(earliest, planned)
            # (the first date from it the windows counted from randomization allow: the
            # allowed run from the earliest may end before the planned date)
            reachable = _first_allowed_from(_from_randomization_alone(data, study), study, target)
            rescreen_from, rescreen_for = (
                (None, None)
                if reachable is None
                else _rescreening(data, study, reachable - gap, reachable)
            )
            when = f", on or after {rescreen_from}" if rescreen_from else ""
            if rescreen_for is not None and rescreen_for > target:
                when += f", for a randomization on or after {rescreen_for}"
        if randomize_by is not None and earliest > randomize_by:
            summary += (
                f"; that is more than {gap.days} days after the screening visit of "
                f"{data.screening} (randomization by {randomize_by} on this screening): "
                f"rescreening is needed{when}"
            )
        elif randomize_by is not None and planned > randomize_by:
            summary += (
                f", but it is more than {gap.days} days after the screening visit of "
                f"{data.screening}: on this screening, randomization from {earliest} to "
                f"{randomize_by}; for {planned}, rescreening is needed{when}"
            )
        summary += "."
        if open_courses:
            summary += (
                f" Not known beyond that: the last dose of {', '.join(open_courses)} is not "
                "recorded, and the date depends on it; record it."
            )
        if other_unknowns and status == "pass" and not investigator_decides:
            # open only on the earlier dates (a local use within its window there): the planned
            # date is clear of them, which "entries remain" would deny
            named = list(dict.fromkeys(e.name for e in other_unknowns))
            summary += (
                f" On the dates from {earliest} that come before it clears, the investigator "
                f"decides {', '.join(named)} first; the planned {data.planned_randomization} is "
                f"clear of {'it' if len(named) == 1 else 'them'}."
            )
        elif other_unknowns or (investigator_decides and not open_courses):
            summary += " Unknown entries remain: the investigator must decide them first."
        if screening_decides:
            names = ", ".join(dict.fromkeys(e.name for e in screening_decides))
            summary += f" Until the screening date is recorded, unknown: {names}."
    return WashoutResult(
        planned_randomization=data.planned_randomization,
        screening=data.screening,
        entries=entries,
        # a planned date the screening cannot reach is not allowed, whatever the windows say
        status="fail" if planned_beyond else status,
        earliest_randomization=earliest,
        never=never,
        summary=summary,
        requires_rescreening=bool(rescreen) or beyond_screening,
        rescreening_from=rescreen_from,
        rescreening_for=rescreen_for if rescreen_from else None,
        earliest_is_a_bound=is_a_bound,
        earliest_or_before=or_before,
        latest_randomization=_latest(earliest, fails_again, randomize_by),
    )


def _latest(
    earliest: date | None, fails_again: date | None, randomize_by: date | None
) -> date | None:
    """The last allowed day of the run from ``earliest``: the text's "allowed until" (the day
    before an entry fails again) and the screening visit's reach, the earlier of the two."""
    if earliest is None:
        return None
    limits = [fails_again - timedelta(days=1)] if fails_again is not None else []
    if randomize_by is not None and earliest <= randomize_by:
        # a screening late in 2100 reaches into 2101, where the book answers nothing: the last
        # day it answers for
        limits.append(min(randomize_by, LATEST_DATE))
    return min(limits, default=None)


def _date_field(entry: EntryResult) -> str:
    """The input field an entry's last date is read from."""
    return "last_dose" if entry.entry.startswith("medications") else "date"


def _rescreening(
    data: WashoutInput, study: Study, lowest: date, target: date
) -> tuple[date | None, date | None]:
    """A new screening from ``lowest`` and the randomization it is for: by ``target`` where
    one clears every window counted from the screening visit; else the first that does (an
    investigational drug's months), and that day, when the windows counted from randomization
    allow it too. A randomization on the screening day is allowed, as the planned date's check
    allows it (it was asked one day later: the same record planned on that day passed).
    (None, None) when none is found."""
    found = _new_screening(data, study, lowest, target)
    if found is not None:
        return found, target
    found = _new_screening(data, study, lowest, LATEST_DATE)
    if found is None:
        return None, None
    later = max(target, found)
    at = _entries_at(
        data.model_copy(update={"screening": found, "planned_randomization": later}), study
    )
    if any(e.status == "fail" for e in at):
        return None, None
    return found, later


def _from_randomization_alone(data: WashoutInput, study: Study) -> WashoutInput:
    """The input with the windows counted from randomization alone: no screening date, and no
    event counted from the screening visit (those are a new screening's to clear)."""
    from_screening = {e.kind for e in study.exposure_events if e.anchor == "screening"}
    return data.model_copy(
        update={
            "screening": None,
            "events": [e for e in data.events if e.kind not in from_screening],
        }
    )


def _first_allowed_from(data: WashoutInput, study: Study, day: date) -> date | None:
    """The first randomization from ``day`` at which no entry fails (each status changes only
    at a breakpoint, so those alone are tried); None if there is none by the book's last date."""
    breakpoints = _randomization_breakpoints(data, study)
    for candidate in sorted({day, *(b for b in breakpoints if day < b <= LATEST_DATE)}):
        at = _entries_at(data.model_copy(update={"planned_randomization": candidate}), study)
        if not any(e.status == "fail" for e in at):
            return candidate
    return None


def _new_screening(data: WashoutInput, study: Study, lowest: date, target: date) -> date | None:
    """The first screening date from ``lowest`` (and on or before the randomization ``target``
    it is for) at which no window counted from the screening visit fails; None if there is
    none."""
    breakpoints, _ = anchor_breakpoints(data.medications, data.events, study)
    # a new screening comes after every event the input records as past (an infection between
    # the two screenings is before the second, never after it)
    planned_kinds = {e.kind for e in study.exposure_events if e.rule == "planned"}
    past = [e.date for e in data.events if e.date and e.kind not in planned_kinds]
    if past:
        lowest = max(lowest, max(past) + timedelta(days=1))
    for day in sorted({lowest, *(d for d in breakpoints if d > lowest)}):
        if day > target:
            return None
        at = _entries_at(data.model_copy(update={"screening": day}), study)
        if not any(e.status == "fail" and e.anchor == "screening" for e in at):
            return day
    return None


def dates_beyond_the_calendar(result: WashoutResult) -> list[Problem]:
    """The windows and dates a result would print outside the dates the book handles (1900 to
    2100), each as a problem of the input date it comes from: a cyclophosphamide dose on
    2100-12-30 clears in 2101, a randomization in January 1900 has windows from 1899."""
    problems = []
    for entry in result.entries:
        if entry.window_start is not None and entry.window_start < EARLIEST_DATE:
            anchor = entry.anchor or "randomization"
            path = "screening" if anchor == "screening" else "planned_randomization"
            problems.append(
                Problem(
                    f"the window of {entry.window} before it for {entry.entry} ({entry.name}) "
                    f"would begin on {entry.window_start}; expected a date whose windows lie "
                    f"within {EARLIEST_DATE} to {LATEST_DATE}",
                    path=path,
                    found=str(entry.anchor_date),
                )
            )
        if entry.clears_on is not None and entry.clears_on > LATEST_DATE:
            problems.append(
                Problem(
                    f"its window of {entry.window} would end on {entry.clears_on}; expected a "
                    f"date whose windows lie within {EARLIEST_DATE} to {LATEST_DATE}",
                    path=f"{entry.entry} ({entry.name}).{_date_field(entry)}",
                    found=str(entry.last_date),
                )
            )
    for name, day in (
        ("the earliest randomization", result.earliest_randomization),
        ("the rescreening", result.rescreening_from),
    ):
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE and not problems:
            problems.append(
                Problem(
                    f"{name} would be on {day}; expected dates within {EARLIEST_DATE} to "
                    f"{LATEST_DATE}",
                    path="planned_randomization",
                    found=str(result.planned_randomization),
                )
            )
    if not problems:
        # any other date the answer would print: an ongoing course's clearance "stopped after a
        # last dose on" the planned date, a rescreening's words
        for entry in result.entries:
            beyond = printed_beyond(entry.reason)
            if beyond:
                # the screening where one is given; without it, the dates come from the planned
                # randomization (the screening days it allows, an ongoing entry's stop)
                from_screening = entry.anchor == "screening" and entry.anchor_date is not None
                problems.append(
                    Problem(
                        f"{entry.entry} ({entry.name}) would be said with the date {beyond[0]}; "
                        f"expected dates within {EARLIEST_DATE} to {LATEST_DATE}",
                        path="screening" if from_screening else "planned_randomization",
                        found=str(entry.anchor_date or result.planned_randomization),
                    )
                )
        beyond = printed_beyond(result.summary)
        if beyond and not problems:
            problems.append(
                Problem(
                    f"the answer would be said with the date {beyond[0]}; expected dates "
                    f"within {EARLIEST_DATE} to {LATEST_DATE}",
                    path="planned_randomization",
                    found=str(result.planned_randomization),
                )
            )
    return list(dict.fromkeys(problems))


#: a date as the answers print it (ISO 8601)
_PRINTED_DATE = re.compile(r"\b(\d{4})-\d{2}-\d{2}\b")


def printed_beyond(text: str) -> list[str]:
    """The dates a text prints outside the years the book handles (1900 to 2100)."""
    return [
        found.group(0)
        for found in _PRINTED_DATE.finditer(text)
        if not EARLIEST_DATE.year <= int(found.group(1)) <= LATEST_DATE.year
    ]


def anchor_breakpoints(
    medications: list[MedicationEntry], events: list[EventEntry], study: Study
) -> tuple[set[date], set[date]]:
    """The screening and randomization dates at which some entry's status can change.

    Every rule compares a date of the record with an anchor date (minus a window): as the anchor
    moves, a status changes only where the anchor reaches one of these dates, and holds until the
    next. Evaluating the rules at each breakpoint and at the ends of the possible range therefore
    sees every status the rules can give (the screening engine uses this when a date is
    unknown).
    """
    screening: set[date] = set()
    randomization: set[date] = set()
    for med in medications:
        match = match_medicine(med.name, study)
        if match is None or match.group.window is None or match.group.window.value.lifetime:
            continue
        window = match.group.window.value
        target = randomization if match.group.anchor == "randomization" else screening
        for day in filter(None, (med.start, med.last_dose)):
            target |= {day, clears_on(day, window)}
    for event in events:
        kind = next((k for k in study.exposure_events if k.kind == event.kind), None)
        if kind is None or event.date is None or kind.window is None:
            continue
        target = randomization if kind.anchor == "randomization" else screening
        target |= {
            event.date,
            event.date + timedelta(days=1),
            clears_on(event.date, kind.window.value),
        }
        if kind.period is not None:
            randomization.add(event.date - calendar_offset(kind.period.value))
    return screening, randomization


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
            five = (5 * drug.half_life.value).to(_DAY)
            shorter = None if window.lifetime else bool(window.duration.to(_DAY) < five)
            rows.append(
                HalfLifeRow(
                    drug=drug.name,
                    criterion=group.criterion,
                    window=str(window),
                    half_life=format_quantity(drug.half_life.value),
                    half_life_note=drug.half_life.note,
                    source=(
                        study.references[drug.half_life.source].label
                        if drug.half_life.source
                        else ""
                    ),
                    five_half_lives=five,
                    window_shorter=shorter,
                )
            )
    return rows
