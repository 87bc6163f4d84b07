"""The criteria over a whole candidate table: the same rules as `trialbook screen`, by column.

Every criterion runs the *same* rule as ``screen`` (``protocol.screening.CHECKS``), so its
thresholds, units, readings and tri-state logic cannot drift from it. What makes it fast is that
a rule's answer depends only on its inputs (``CRITERION_INPUTS``): the rows are grouped by
those inputs with pandas, the rule runs once per distinct group, and the answer is spread back
to every row of the group. A clinic's candidate list repeats the same lab values, flags and
categories many times, so 100,000 rows need a few thousand rule calls. Where the inputs are
nearly unique per row (dates, a lab value with the age and sex behind an eGFR), the column is
first reduced to what the rule reads (an age in whole years, a calendar-month duration).

The lab criteria combine their analytes as ``screen`` does (fail if one fails, else unknown if
one is unknown): each analyte is checked once per distinct value, unit and ULN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prescreen.table import Candidates, CellProblem
from protocol.participant import AcrEularFindings, ParticipantRecord, SkinAreas, age_in_years
from protocol.screening import CHECKS, EX24_ANALYTES, CheckResult, _Context
from protocol.study import Study, load_study

# -- what each rule reads ---------------------------------------------------------------------

_DATES_FOR_AGE = ("dates.birth", "dates.consent", "ssc.first_non_raynaud_manifestation")
# the record's own fields, in its order (never a second, typed list)
_ACR = tuple(f"ssc.acr_eular.{item}" for item in AcrEularFindings.model_fields)
_AREAS = tuple(f"ssc.mrss.areas.{area}" for area in SkinAreas.model_fields)
_MRSS = (*_AREAS, "ssc.mrss.total", "ssc.back_skin_thickening")
# thickened fingers among the classification items are distal involvement for LeRoy too
_LEROY = (
    *_MRSS,
    "ssc.acr_eular.skin_thickening_proximal_to_mcp",
    "ssc.acr_eular.sclerodactyly",
)
_WOMAN = ("sex", "childbearing_potential")
_TEST = ("pregnancy_test.result", "pregnancy_test.sample", "pregnancy_test.date")
#: The record fields a criterion's rule reads (the screening date always; it is never missing
#: here). A test checks, record by record, that the rule gives the same answer from these alone.
CRITERION_INPUTS: dict[str, tuple[str, ...]] = {
    "IN01": _DATES_FOR_AGE,
    "IN02": _ACR,
    "IN03": _LEROY,
    "IN04": ("ssc.first_non_raynaud_manifestation", "dates.birth"),
    "IN05": _MRSS,
    "IN06": (*_WOMAN, *_TEST),
    "IN07": ("dates.consent",),
    "EX01": _LEROY,
    "EX02": ("ssc.first_non_raynaud_manifestation", "dates.birth"),
    "EX03": ("history.other_rheumatic_autoimmune_disease",),
    "EX04": ("history.environmental_ssc_like_illness",),
    "EX05": ("history.renal_crisis",),
    "EX06": ("pah_risk",),
    "EX07": (
        "pulmonary.fvc_percent_predicted",
        "pulmonary.dlco_percent_predicted",
        "pulmonary.oxygen_therapy",
    ),
    "EX17": ("infection_screening.hepatitis_b", "infection_screening.hepatitis_c"),
    "EX18": ("infection_screening.tuberculosis",),
    "EX19": ("infection_screening.hiv",),
    "EX20": ("infection_screening.active_infection",),
    "EX21": ("history.immunodeficiency",),
    "EX27": (*_WOMAN, *_TEST, "breastfeeding", "contraception_agreed"),
    "EX28": ("history.antibody_allergy",),
}
#: Criteria whose rule reads lab values: their analytes, combined as screen combines them.
LAB_CRITERIA = {"EX22": ("iga", "igg")}
_LAB_PARTS = ("value", "unit", "uln", "uln_unit")


@dataclass
class CriterionColumn:
    """One criterion over every candidate: status, reason and missing fields per row."""

    id: str
    status: np.ndarray  # "pass" / "fail" / "unknown"
    reason: np.ndarray  # text
    missing: np.ndarray  # tuples of field paths


@dataclass
class Evaluation:
    candidates: Candidates
    criteria: dict[str, CriterionColumn]
    study: Study
    as_of: dt.date

    def frame(self) -> pd.DataFrame:
        """One row per screened candidate: its ID and each criterion's status."""
        keep = ~self.candidates.refused
        data = {"candidate": np.asarray(self.candidates.ids, dtype=object)[keep]}
        for cid, column in self.criteria.items():
            data[cid] = column.status[keep]
        return pd.DataFrame(data)


# -- building the minimal record a rule needs --------------------------------------------------


def _nested(paths: Iterable[str], values: Iterable[Any]) -> dict[str, Any]:
    """``{'labs.hemoglobin.value': 12}`` -> ``{'labs': {'hemoglobin': {'value': 12}}}``; missing
    values are left out, so an object with nothing recorded is absent, as in a record file."""
    data: dict[str, Any] = {}
    for path, value in zip(paths, values, strict=True):
        if value is None:
            continue
        node = data
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return data


def _context(paths: tuple[str, ...], values: tuple[Any, ...], study: Study) -> _Context:
    data = _nested(paths, values)
    data["participant"] = "PRESCREEN"
    record = ParticipantRecord.model_validate(data)
    return _Context(record, study)


def _grouped(
    candidates: Candidates, rows: np.ndarray, paths: tuple[str, ...]
) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Each row's group code and each group's values, grouping ``rows`` by ``paths``.

    Each column is factorized on its own (pandas keeps the values' own types), then the rows'
    code tuples are grouped; a group's values are its first row's.
    """
    if not len(rows):
        return np.zeros(0, dtype=int), []
    columns = [candidates.column(p)[rows] for p in paths]
    codes, first = _group_codes(
        [pd.factorize(column, use_na_sentinel=True)[0] for column in columns]
    )
    groups = [tuple(column[i] for column in columns) for i in first]
    return codes, groups


def _group_codes(codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by their tuple of codes (hashed, not sorted): each row's group and each
    group's first row."""
    frame = pd.DataFrame({k: c for k, c in enumerate(codes)})
    group = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    _, first = np.unique(group, return_index=True)
    return group, first


def _is_na(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _run_grouped(
    candidates: Candidates,
    rows: np.ndarray,
    paths: tuple[str, ...],
    rule: Callable[[_Context], CheckResult],
    study: Study,
    keys: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule once per group of rows with the same inputs (or the same ``keys``: reduced
    inputs the rule's answer depends on alone, e.g. an age instead of a birth date), run on the
    group's first row and spread to the rest."""
    if keys is None:
        codes, groups = _grouped(candidates, rows, paths)
    else:
        codes, first = _group_codes([pd.factorize(k, use_na_sentinel=True)[0] for k in keys])
        columns = [candidates.column(p)[rows] for p in paths]
        groups = [tuple(column[i] for column in columns) for i in first]
    results = []
    for group, key in enumerate(groups):
        context = _context(paths, key, study)
        results.append(rule(context))
        if context.errors:  # a value screen would refuse: every row of the group is refused
            for position in rows[codes == group]:
                candidates.errors.setdefault(int(position), []).extend(context.errors)
    status = np.array([r.status for r in results] + ["unknown"], dtype=object)
    reason = np.array([r.reason for r in results] + [""], dtype=object)
    missing = np.empty(len(results) + 1, dtype=object)
    missing[:] = [tuple(dict.fromkeys(r.missing)) for r in results] + [()]
    return status[codes], reason[codes], missing[codes]


# -- the evaluation ---------------------------------------------------------------------------


def evaluate(
    candidates: Candidates,
    study: Study | None = None,
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Every criterion of ``study`` over every candidate not refused."""
    study = study or load_study()
    candidates.study = study
    rows = np.flatnonzero(~candidates.refused)
    size = len(candidates)
    columns: dict[str, CriterionColumn] = {}
    lab_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for criterion in study.criteria:
        cid = criterion.id
        status = np.full(size, "unknown", dtype=object)
        reason = np.full(size, "", dtype=object)
        missing = np.empty(size, dtype=object)
        missing[:] = [()] * size
        if cid in LAB_CRITERIA or cid == "EX24":
            analytes = LAB_CRITERIA.get(cid) or tuple(EX24_ANALYTES)
            parts = [_lab(candidates, rows, name, study, lab_cache) for name in analytes]
            if cid == "EX24":
                parts.append(_egfr(candidates, rows, study, lab_cache))
            s, r, m = _combine_columns(parts)
        elif cid in CRITERION_INPUTS:
            paths = ("dates.screening", *CRITERION_INPUTS[cid])
            reduce = REDUCED_KEYS.get(cid)
            keys = reduce(candidates, rows) if reduce else None
            s, r, m = _run_grouped(candidates, rows, paths, CHECKS[cid].run, study, keys)
        else:
            # the same rule with none of the list or attestation fields: it says what is missing
            s, r, m = _run_grouped(candidates, rows, ("dates.screening",), CHECKS[cid].run, study)
        status[rows], reason[rows], missing[rows] = s, r, m
        columns[cid] = CriterionColumn(cid, status, reason, missing)
        if progress is not None:
            progress(cid)
    # rows with a value the rules refuse (an implausible lab value): reported and not screened,
    # as `trialbook screen` refuses such a record
    for position, problems in sorted(candidates.errors.items()):
        candidates.refused[position] = True
        for problem in dict.fromkeys(problems):
            candidates.problems.append(
                CellProblem(
                    int(candidates.rows[position]),
                    candidates.column_of(getattr(problem, "path", "")),
                    "",
                    getattr(problem, "expected", str(problem)),
                )
            )
    candidates.problems.sort(key=lambda p: (p.row, p.column))
    return Evaluation(candidates, columns, study, as_of or dt.date.today())


# -- reduced inputs: what a rule's answer depends on, when that is less than its inputs --------


def _age_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """IN01 with a birth date depends on the age on the screening date (and the screening date
    itself, which the reason does not show); without one, on the dates that bound it."""
    birth = candidates.column("dates.birth")[rows]
    screening = candidates.column("dates.screening")[rows]
    known = ~np.equal(birth, None)
    ages = np.full(len(rows), -1)
    ages[known] = [age_in_years(b, s) for b, s in zip(birth[known], screening[known], strict=True)]
    keys = [ages]
    for path in ("dates.consent", "ssc.first_non_raynaud_manifestation", "dates.screening"):
        column = candidates.column(path)[rows].copy()
        column[known] = None  # with a birth date these do not change the answer
        keys.append(column)
    return keys


def _grades(candidates: Candidates, rows: np.ndarray) -> np.ndarray:
    """The 17 areas' grades as a matrix (areas x rows), -1 where not graded."""
    return np.array(
        [[-1 if g is None else int(g) for g in candidates.column(area)[rows]] for area in _AREAS]
    ).reshape(len(_AREAS), len(rows))


def _mrss_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """IN05 depends on the recorded total, or on the sum of the graded areas and which are not
    graded (the reason names the ungraded ones)."""
    grades = _grades(candidates, rows)
    total = candidates.column("ssc.mrss.total")[rows]
    recorded = np.where(grades >= 0, grades, 0).sum(axis=0)
    any_area = (grades >= 0).any(axis=0)
    return [
        np.where(np.equal(total, None), -1, total).astype(int),
        np.where(any_area, recorded, -1),
        *(grades < 0),
    ]


def _leroy_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """IN03 and EX01 depend on which areas are involved (grade 1 or more), not on the grades,
    when no total is recorded (a total constrains the ungraded areas by the graded grades)."""
    grades = _grades(candidates, rows)
    total = candidates.column("ssc.mrss.total")[rows]
    no_total = np.equal(total, None)
    involvement = np.where(grades > 0, 1, grades)  # -1 not graded, 0 not involved, 1 involved
    pattern = np.where(no_total, involvement, grades)
    others = [
        candidates.column(path)[rows]
        for path in (
            "ssc.mrss.total",
            "ssc.back_skin_thickening",
            "ssc.acr_eular.skin_thickening_proximal_to_mcp",
            "ssc.acr_eular.sclerodactyly",
        )
    ]
    return [*pattern, *others]


def _duration_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """IN04 and EX02 read the birth date only when the first manifestation is not recorded."""
    first = candidates.column("ssc.first_non_raynaud_manifestation")[rows]
    birth = candidates.column("dates.birth")[rows].copy()
    birth[~np.equal(first, None)] = None
    return [first, birth, candidates.column("dates.screening")[rows]]


def _acr_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """IN02 depends, per category of the 2013 criteria, on the highest weight among the items
    recorded as met, and on which items are not recorded (not on the rest of the pattern)."""
    from protocol.study import load_study

    study = candidates.study or load_study()
    categories = study.acr_eular_2013.value.categories
    keys = []
    for category in categories:
        best = np.zeros(len(rows), dtype=int)
        for item, weight in category.items.items():
            values = candidates.column(f"ssc.acr_eular.{item}")[rows]
            best = np.maximum(best, np.where(np.equal(values, True), weight, 0))
        keys.append(best)
    for item in _ACR:
        values = candidates.column(item)[rows]
        if item.endswith(("sparing_fingers", "better_explained_by_other_disorder")):
            keys.append(np.where(np.equal(values, None), -1, np.equal(values, True)).astype(int))
        else:
            keys.append(np.equal(values, None).astype(int))
    return keys


#: Criteria whose answer depends on less than their inputs: the reduced grouping keys.
REDUCED_KEYS: dict[str, Callable[[Candidates, np.ndarray], list[np.ndarray]]] = {
    "IN01": _age_key,
    "IN02": _acr_key,
    "IN03": _leroy_key,
    "IN04": _duration_key,
    "IN05": _mrss_key,
    "EX02": _duration_key,
    "EX01": _leroy_key,
}


def _lab(
    candidates: Candidates,
    rows: np.ndarray,
    name: str,
    study: Study,
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One analyte, checked once per distinct value, unit and ULN (as screen's ctx.lab)."""
    if name not in cache:
        paths = tuple(f"labs.{name}.{part}" for part in _LAB_PARTS)
        cache[name] = _run_grouped(
            candidates, rows, ("dates.screening", *paths), lambda ctx: ctx.lab(name), study
        )
    return cache[name]


def _egfr(
    candidates: Candidates,
    rows: np.ndarray,
    study: Study,
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EX24's kidney part: a reported eGFR, else creatinine (with the age and sex it needs)."""
    reported = _lab(candidates, rows, "egfr", study, cache)
    has_egfr = ~np.equal(candidates.column("labs.egfr.value")[rows], None)
    has_creatinine = ~np.equal(candidates.column("labs.creatinine.value")[rows], None)
    status = np.full(len(rows), "unknown", dtype=object)
    reason = np.full(len(rows), "eGFR: no eGFR or creatinine recorded", dtype=object)
    missing = np.empty(len(rows), dtype=object)
    missing[:] = [("labs.egfr",)] * len(rows)
    status[has_egfr], reason[has_egfr], missing[has_egfr] = (
        reported[0][has_egfr],
        reported[1][has_egfr],
        reported[2][has_egfr],
    )
    creatinine_rows = rows[has_creatinine & ~has_egfr]
    if len(creatinine_rows):
        # the eGFR depends on the age in whole years (and on the dates behind it only when the
        # birth date is missing): group by the age, not by the birth date
        paths = (*(f"labs.creatinine.{part}" for part in _LAB_PARTS), "sex")
        s, r, m = _creatinine(candidates, creatinine_rows, paths, study)
        where = has_creatinine & ~has_egfr
        status[where], reason[where], missing[where] = s, r, m
    return status, reason, missing


def _creatinine(
    candidates: Candidates, rows: np.ndarray, paths: tuple[str, ...], study: Study
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    birth = candidates.column("dates.birth")[rows]
    screening = candidates.column("dates.screening")[rows]
    known = ~np.equal(birth, None)
    status = np.empty(len(rows), dtype=object)
    reason = np.empty(len(rows), dtype=object)
    missing = np.empty(len(rows), dtype=object)
    if known.any():
        # a birth date that gives the same age on the screening date gives the same eGFR:
        # stand in the birthday of that age (the screening date minus the age, clamped)
        ages = [age_in_years(b, s) for b, s in zip(birth[known], screening[known], strict=True)]
        stand_in = np.array(
            [_birth_for_age(s, a) for s, a in zip(screening[known], ages, strict=True)],
            dtype=object,
        )
        sub = Candidates(
            candidates.ids,
            {**candidates.values, "dates.birth": _scatter(candidates, rows[known], stand_in)},
            candidates.rows,
            errors=candidates.errors,
        )
        s, r, m = _run_grouped(
            sub,
            rows[known],
            ("dates.screening", "dates.birth", *paths),
            lambda ctx: ctx.lab("creatinine"),
            study,
        )
        status[known], reason[known], missing[known] = s, r, m
    if (~known).any():
        s, r, m = _run_grouped(
            candidates,
            rows[~known],
            ("dates.screening", *_DATES_FOR_AGE, *paths),
            lambda ctx: ctx.lab("creatinine"),
            study,
        )
        status[~known], reason[~known], missing[~known] = s, r, m
    return status, reason, missing


def _birth_for_age(on: dt.date, age: int) -> dt.date:
    """The latest birth date of someone ``age`` on ``on`` (their birthday that day)."""
    year = on.year - age
    try:
        return on.replace(year=year)
    except ValueError:  # 29 February in a year without one: born 28 February is that age too
        return dt.date(year, 2, 28)


def _scatter(candidates: Candidates, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    column = candidates.column("dates.birth").copy()
    column[rows] = values
    return column


def _combine_columns(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``screen``'s combination of parts, row by row: fail if any fails, else unknown if any is
    unknown, else pass; the reason joins the deciding parts'; missing joins every part's."""
    statuses = np.stack([p[0] for p in parts])
    reasons = np.stack([p[1] for p in parts])
    missings = np.stack([p[2] for p in parts])
    fail = (statuses == "fail").any(axis=0)
    unknown = (statuses == "unknown").any(axis=0)
    status = np.where(fail, "fail", np.where(unknown, "unknown", "pass")).astype(object)
    # joined part by part over whole columns (object arrays add element-wise in C)
    n = statuses.shape[1]
    reason = np.full(n, "", dtype=object)
    missing = np.empty(n, dtype=object)
    missing[:] = [()] * n
    for k in range(len(parts)):
        chosen = statuses[k] == status
        reason = reason + np.where(chosen, reasons[k] + "; ", "")
        missing = missing + missings[k]
    reason = np.array([text[:-2] for text in reason], dtype=object)
    return status, reason, missing
