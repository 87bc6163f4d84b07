"""Calculators of the SSc criteria: ACR/EULAR 2013, LeRoy subset, mRSS, disease duration, age.

Each returns its value together with the fields it could not find (``missing``): a calculator
never guesses a missing item, and the screening engine turns any missing field into *unknown*.
The weights, areas and thresholds come from study.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from dateutil.relativedelta import relativedelta

from protocol.participant import (
    FINGER_AREAS,
    AcrEularFindings,
    Mrss,
    SscFindings,
    graded_range,
)
from protocol.study import SkinArea, Study, load_study


@dataclass(frozen=True)
class AcrEularScore:
    total: int | None  # None when an item is missing
    applicable: bool | None  # False when skin thickening spares the fingers, etc.
    points: list[tuple[str, int]]  # each category and the points it scored
    missing: list[str] = field(default_factory=list)

    def classified(self, minimum: int) -> bool | None:
        if self.applicable is False:
            return False
        if self.total is None or self.applicable is None:
            return None
        return self.total >= minimum


def acr_eular_score(findings: AcrEularFindings | None, study: Study | None = None) -> AcrEularScore:
    """The 2013 total: the highest weight met in each category, summed (Table 1)."""
    criteria = (study or load_study()).acr_eular_2013.value
    prefix = "ssc.acr_eular"
    if findings is None:
        return AcrEularScore(None, None, [], [prefix])
    values = findings.model_dump()
    missing = [f"{prefix}.{item}" for item in criteria.item_names if values.get(item) is None]
    missing += [
        f"{prefix}.{flag}" for flag in criteria.not_applicable_when if values.get(flag) is None
    ]
    points = []
    for category in criteria.categories:
        met = [weight for item, weight in category.items.items() if values.get(item)]
        points.append((category.name, max(met, default=0)))
    flags = [values.get(flag) for flag in criteria.not_applicable_when]
    applicable = False if any(flags) else (None if None in flags else True)
    item_missing = any(values.get(item) is None for item in criteria.item_names)
    total = None if item_missing else sum(p for _, p in points)
    return AcrEularScore(total, applicable, points, missing)


@dataclass(frozen=True)
class AcrEularRange:
    """The totals the recorded items allow: ``lowest`` if every unrecorded item is absent,
    ``highest`` if every one is present; ``applicable`` True/False, or None if not recorded."""

    lowest: int
    highest: int
    applicable: bool | None
    points: list[tuple[str, int]]  # each category and the points its recorded items score
    missing_items: list[str] = field(default_factory=list)
    missing_flags: list[str] = field(default_factory=list)


def acr_eular_range(
    findings: AcrEularFindings | None,
    study: Study | None = None,
    implied: dict[str, bool] | None = None,
) -> AcrEularRange:
    """The 2013 total's range over every completion of the unrecorded items (Table 1: the highest
    weight met in each category, summed). Skin thickening of the fingers (the sufficient item,
    or sclerodactyly) means the thickening does not spare the fingers. ``implied``: items and
    flags not recorded that the rest of the record settles
    (:meth:`ParticipantRecord.implied_acr_eular`)."""
    criteria = (study or load_study()).acr_eular_2013.value
    prefix = "ssc.acr_eular"
    values = findings.model_dump() if findings is not None else {}
    for name, value in (implied or {}).items():
        if values.get(name) is None:
            values[name] = value
    lowest = highest = 0
    points = []
    # an item not recorded counts only where it outweighs what its category already has met
    # (the highest weight per category): one in a category at its maximum cannot change the
    # total, and is not asked (helper 124: puffy fingers were asked beside sclerodactyly)
    could_raise = set()
    for category in criteria.categories:
        met = [w for item, w in category.items.items() if values.get(item)]
        possible = [w for item, w in category.items.items() if values.get(item) is not False]
        lowest += max(met, default=0)
        highest += max(possible, default=0)
        points.append((category.name, max(met, default=0)))
        could_raise |= {
            item
            for item, w in category.items.items()
            if values.get(item) is None and w > max(met, default=0)
        }
    flags = {flag: values.get(flag) for flag in criteria.not_applicable_when}
    finger_items = ("skin_thickening_proximal_to_mcp", "sclerodactyly")
    fingers_thickened = any(values.get(item) for item in finger_items)
    if flags.get("skin_thickening_sparing_fingers") is None and not fingers_thickened:
        # a finger item met would settle the flag (thickened fingers are not spared): asked
        # while the flag is open, whatever its weight
        could_raise |= {item for item in finger_items if values.get(item) is None}
    if fingers_thickened and flags.get("skin_thickening_sparing_fingers") is None:
        flags["skin_thickening_sparing_fingers"] = False
    applicable = False if any(flags.values()) else (None if None in flags.values() else True)
    return AcrEularRange(
        lowest=lowest,
        highest=highest,
        applicable=applicable,
        points=points,
        missing_items=[f"{prefix}.{i}" for i in criteria.item_names if i in could_raise],
        missing_flags=[f"{prefix}.{f}" for f, v in flags.items() if v is None],
    )


@dataclass(frozen=True)
class MrssScore:
    total: int | None
    source: Literal["areas", "recorded total", "none"]
    missing: list[str] = field(default_factory=list)


def mrss_total(mrss: Mrss | None) -> MrssScore:
    """The modified Rodnan skin score: the 17 area grades summed, or a recorded total."""
    if mrss is None or (mrss.areas is None and mrss.total is None):
        return MrssScore(None, "none", ["ssc.mrss"])
    if mrss.areas is not None:
        grades = mrss.areas.model_dump()
        missing = [f"ssc.mrss.areas.{name}" for name, grade in grades.items() if grade is None]
        if missing:
            return MrssScore(None, "areas", missing)
        return MrssScore(sum(grades.values()), "areas")
    return MrssScore(mrss.total, "recorded total")


def mrss_range(mrss: Mrss | None) -> tuple[int, int]:
    """The lowest and highest total the recorded grades allow (each ungraded area 0 to 3)."""
    if mrss is not None and mrss.total is not None:
        return mrss.total, mrss.total
    if mrss is None or mrss.areas is None:
        return 0, 51
    return graded_range(mrss.areas)


@dataclass(frozen=True)
class LeroySubset:
    subset: Literal["diffuse", "limited", "no skin thickening", "proximal only"] | None
    reason: str
    missing: list[str] = field(default_factory=list)


def leroy_subset(ssc: SscFindings, study: Study | None = None) -> LeroySubset:
    """LeRoy 1988 from the graded areas: diffuse = proximal (or trunk) and distal involvement;
    limited = thickening of the face and areas distal to the elbows and knees only.

    An area is involved when its mRSS grade is 1 or more. The face is neither proximal nor
    distal: thickened in either subset, it is never the distal involvement the diffuse subset
    needs. The back is not an mRSS area; it is asked separately, and only needed when no
    proximal mRSS area is involved.
    """
    areas = (study or load_study()).skin_score.value.areas
    if ssc.mrss is None or ssc.mrss.areas is None:
        return LeroySubset(None, "the subset needs the graded mRSS areas", ["ssc.mrss.areas"])
    grades = ssc.mrss.areas.model_dump()
    missing = [f"ssc.mrss.areas.{a.name}" for a in areas if grades[a.name] is None]
    if missing:
        return LeroySubset(None, "the subset needs all 17 graded areas", missing)

    def involved(region: Callable[[SkinArea], bool]) -> list[str]:
        # areas as a clinician names them: "right upper arm", not the record's right_upper_arm
        return [a.name.replace("_", " ") for a in areas if region(a) and grades[a.name] >= 1]

    proximal = involved(lambda a: a.proximal)
    distal = involved(lambda a: a.distal)
    neither = involved(lambda a: not a.proximal and not a.distal)  # the face
    # thickened fingers recorded with the ACR/EULAR items are distal involvement too (as
    # leroy_possible_subsets counts them): an mRSS of 0 today does not undo them
    findings = ssc.acr_eular
    from_items = (
        not distal
        and findings is not None
        and bool(findings.skin_thickening_proximal_to_mcp or findings.sclerodactyly)
    )
    # thickening recorded as not sparing the fingers, both graded 0 and another area
    # thickened: the fingers were thickened once (one of the two items not recorded is met;
    # both recorded absent is refused), as IN02 reads it (helper 124: IN03 failed "proximal
    # only" beside IN02's "sclerodactyly or thickening proximal to the MCPs counts as met")
    once = not distal and not from_items and _fingers_thickened_once(findings, grades)
    if from_items:
        distal = ["fingers, thickened among the classification items"]
    elif once:
        from_items = True
        distal = ["fingers, thickened once: the thickening does not spare them"]
    if proximal and distal:
        return LeroySubset(
            "diffuse",
            f"proximal involvement ({', '.join(proximal)}) and distal involvement"
            + (f" ({distal[0]})" if from_items else ""),
        )
    if proximal:  # the back is proximal too: it cannot add what is missing
        return LeroySubset(
            "proximal only",
            f"proximal involvement ({', '.join(proximal)}) without distal involvement"
            + (" (the face is neither)" if neither else ""),
        )
    if ssc.back_skin_thickening is None:
        return LeroySubset(
            None,
            "no proximal mRSS area is involved; whether the back is involved is not recorded",
            ["ssc.back_skin_thickening"],
        )
    if ssc.back_skin_thickening and distal:
        return LeroySubset("diffuse", "back (trunk) involvement and distal involvement")
    if ssc.back_skin_thickening:
        return LeroySubset("proximal only", "back (trunk) involvement without distal involvement")
    if distal and not neither:
        return LeroySubset("limited", f"distal involvement only ({', '.join(distal)})")
    if neither:
        return LeroySubset(
            "limited",
            f"involvement of the face{' and distal areas' if distal else ''} only "
            f"({', '.join(neither + distal)})",
        )
    return LeroySubset("no skin thickening", "no skin involvement is graded")


Subset = Literal["diffuse", "limited", "no skin thickening", "proximal only"]


def _subset(proximal: bool, distal: bool, face: bool) -> Subset:
    if proximal and distal:
        return "diffuse"
    if proximal:
        return "proximal only"
    return "limited" if distal or face else "no skin thickening"


def leroy_possible_subsets(ssc: SscFindings, study: Study | None = None) -> set[Subset]:
    """Every LeRoy subset some completion of the unrecorded grades, back and finger items
    allows, of those the participant record takes (:func:`_leroy_completions`).

    Ungraded areas take any grade 0-3, constrained by a recorded mRSS total when there is one
    (their grades then add up to the total less the recorded grades).
    """
    return {subset for *_, subset in _leroy_completions(ssc, study)}


def leroy_deciding_fields(ssc: SscFindings, study: Study | None = None) -> list[str]:
    """The unrecorded fields whose values could change the LeRoy subset: the ungraded areas of
    a region (proximal, distal, the face), the back and the finger items (sclerodactyly,
    thickening proximal to the MCPs), each only where two completions the
    record allows, differing in it alone, give different subsets (helper 123: the face was
    named where distal involvement was recorded and no proximal area involved, though only
    the back decides; filled in, the site was asked again). Empty where the subset is known.
    """
    completions = _leroy_completions(ssc, study)
    if len({subset for *_, subset in completions}) <= 1:
        return []
    areas = (study or load_study()).skin_score.value.areas
    mrss = ssc.mrss
    grades = mrss.areas.model_dump() if mrss is not None and mrss.areas is not None else {}
    deciding = []
    for k, region in enumerate(_VARIABLES):
        by_others: dict[tuple[bool, ...], set[Subset]] = {}
        for *inputs, subset in completions:
            others = (*inputs[:k], *inputs[k + 1 :])
            by_others.setdefault(others, set()).add(subset)
        if any(len(subsets) > 1 for subsets in by_others.values()):
            deciding.append(region)
    # once those are known the subset must be: the completions are not every combination
    # (a total shares its points, the fingers go with any other area), so it is checked, and
    # where it does not hold every unrecorded field is asked
    chosen = [k for k, region in enumerate(_VARIABLES) if region in deciding]
    by_chosen: dict[tuple[bool, ...], set[Subset]] = {}
    for *inputs, subset in completions:
        by_chosen.setdefault(tuple(inputs[k] for k in chosen), set()).add(subset)
    if not deciding or any(len(subsets) > 1 for subsets in by_chosen.values()):
        deciding = list(_VARIABLES)
    fields = [
        f"ssc.mrss.areas.{a.name}"
        for a in areas
        if grades.get(a.name) is None and _region(a) in deciding
    ]
    if "back" in deciding and ssc.back_skin_thickening is None:
        fields.append("ssc.back_skin_thickening")
    findings = ssc.acr_eular
    if "items" in deciding:  # the finger items not recorded, either of which may be met
        fields += [
            f"ssc.acr_eular.{item}"
            for item in ("sclerodactyly", "skin_thickening_proximal_to_mcp")
            if findings is None or getattr(findings, item) is None
        ]
    return fields


#: What a completion of a record varies, in the order of ``_leroy_completions``'s tuples: the
#: ungraded areas of each region, the back, and a finger item not recorded.
_VARIABLES = ("proximal", "distal", "face", "back", "items")


def _region(area: SkinArea) -> str:
    return "proximal" if area.proximal else "distal" if area.distal else "face"


def _leroy_completions(
    ssc: SscFindings, study: Study | None = None
) -> set[tuple[bool, bool, bool, bool, bool, Subset]]:
    """Each completion of the unrecorded grades, back and finger items the record allows, as
    whether the ungraded areas of each region (proximal, distal, the face) show thickening,
    the back, whether a finger item not recorded is met (thickened fingers among the
    classification items are distal involvement), and the subset it gives."""
    areas = (study or load_study()).skin_score.value.areas
    mrss = ssc.mrss
    grades = mrss.areas.model_dump() if mrss is not None and mrss.areas is not None else {}
    total = mrss.total if mrss is not None else None
    regions = {
        "proximal": [a for a in areas if a.proximal],
        "distal": [a for a in areas if a.distal],
        "face": [a for a in areas if not a.proximal and not a.distal],
    }
    seen = {
        region: any((grades.get(a.name) or 0) >= 1 for a in members)
        for region, members in regions.items()
    }
    # thickened fingers recorded with the ACR/EULAR items are distal involvement too
    findings = ssc.acr_eular
    items = (
        (findings.sclerodactyly, findings.skin_thickening_proximal_to_mcp)
        if findings is not None
        else (None, None)
    )
    sparing = findings.skin_thickening_sparing_fingers if findings is not None else None
    if True in items:
        seen["distal"] = True
    # a finger item not recorded may be met (distal involvement), unless the record says the
    # thickening spares the fingers (an item met beside it is refused)
    item_values = {False, True} if None in items and True not in items and not sparing else {False}
    open_ = {
        region: sum(1 for a in members if grades.get(a.name) is None)
        for region, members in regions.items()
    }
    if total is None:
        splits = {
            (p, d, f)
            for p in ({False, True} if open_["proximal"] else {False})
            for d in ({False, True} if open_["distal"] else {False})
            for f in ({False, True} if open_["face"] else {False})
        }
    else:  # the remaining points shared among the ungraded areas of each region
        remaining = total - sum(g for g in grades.values() if g is not None)
        most = {region: 3 * count for region, count in open_.items()}
        splits = {
            (p > 0, d > 0, remaining - p - d > 0)
            for p in range(0, min(most["proximal"], remaining) + 1)
            for d in range(0, min(most["distal"], remaining - p) + 1)
            if 0 <= remaining - p - d <= most["face"]
        }
    # thickening recorded as not sparing the fingers, no finger graded thickened: where
    # another area is thickened the fingers are, now (an ungraded finger takes it, d) or once
    # (a finger item met); a completion with neither is refused as a contradiction (helper
    # 123: the chest graded 3 and a finger ungraded, both items absent, was unknown; helper
    # 124: both fingers graded 0 and the items not recorded failed "proximal only")
    tied = sparing is False and not any((grades.get(f) or 0) >= 1 for f in FINGER_AREAS)
    open_finger = any(grades.get(finger) is None for finger in FINGER_AREAS)
    other = seen["proximal"] or seen["face"] or (seen["distal"] and True not in items)
    backs = {True, False} if ssc.back_skin_thickening is None else {ssc.back_skin_thickening}
    completions = set()
    for p, d, f in splits:
        for met in item_values:
            # the fingers go with the other areas: now (d, an ungraded finger) or once (met)
            thickened = other or p or f or d
            if tied and True not in items and thickened and not (met or (d and open_finger)):
                continue
            for back in backs:
                distal = seen["distal"] or d or met
                subset = _subset(seen["proximal"] or p or back, distal, seen["face"] or f)
                completions.add((p, d, f, back, met, subset))
    return completions


def finger_points_at_least(ssc: SscFindings) -> int:
    """The fewest points the ungraded fingers add to the mRSS: 1 where the record ties the
    fingers to every other area (:func:`_fingers_thickened_with_any_area`), another area is
    graded thickened and a finger is ungraded (both at 0 is refused), else 0."""
    mrss = ssc.mrss
    if mrss is None or mrss.areas is None:
        return 0
    grades = mrss.areas.model_dump()
    others = any((g or 0) >= 1 for name, g in grades.items() if name not in FINGER_AREAS)
    open_finger = any(grades.get(finger) is None for finger in FINGER_AREAS)
    tied = _fingers_thickened_with_any_area(ssc.acr_eular, grades)
    return int(tied and others and open_finger)


def _fingers_thickened_once(
    findings: AcrEularFindings | None, grades: dict[str, int | None]
) -> bool:
    """Whether a fully graded record says the fingers were thickened once though neither
    finger item is recorded met: the thickening does not spare them, both are graded 0, and
    another area is thickened (both items recorded absent is refused)."""
    if findings is None or findings.skin_thickening_sparing_fingers is not False:
        return False
    items = (findings.sclerodactyly, findings.skin_thickening_proximal_to_mcp)
    if None not in items:
        return False  # recorded: met (read as such) or both absent (refused)
    if any(grades.get(finger) != 0 for finger in FINGER_AREAS):
        return False
    return any((g or 0) >= 1 for name, g in grades.items() if name not in FINGER_AREAS)


def _fingers_thickened_with_any_area(
    findings: AcrEularFindings | None, grades: dict[str, int | None]
) -> bool:
    """Whether the record ties the fingers to every other area: thickening recorded as not
    sparing the fingers, the fingers never thickened (both finger items recorded absent),
    and no finger graded thickened yet. Any other area thickened then needs a finger
    thickened too (the record is refused otherwise)."""
    return (
        findings is not None
        and findings.skin_thickening_sparing_fingers is False
        and findings.sclerodactyly is False
        and findings.skin_thickening_proximal_to_mcp is False
        and not any((grades.get(finger) or 0) >= 1 for finger in FINGER_AREAS)
    )


@dataclass(frozen=True)
class Duration:
    years: int
    months: int
    days: int

    @property
    def total_months(self) -> int:
        return 12 * self.years + self.months

    def __str__(self) -> str:
        """``18 months``, ``18 months 1 day``, ``5 days``: no zero part, singular for one."""
        parts = [_counted(self.total_months, "month")] if self.total_months else []
        if self.days or not parts:
            parts.append(_counted(self.days, "day"))
        return " ".join(parts)


def _counted(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def calendar_duration(start: date, end: date) -> Duration:
    """Whole calendar years, months and days from ``start`` to ``end`` (dateutil)."""
    delta = relativedelta(end, start)
    return Duration(delta.years, delta.months, delta.days)


def age_in_completed_years(birth: date, on: date) -> int:
    """Age on a date in completed years. A 29 February birthday is reached on 28 February in a
    common year (dateutil clamps the month end, as for washout months)."""
    return relativedelta(on, birth).years
