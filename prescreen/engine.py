"""The criteria over a whole candidate table: the same rules as `trialbook screen`, by column.

Every criterion runs the *same* rule as ``screen`` (``protocol.screening.CHECKS``), so its
thresholds, units, readings and tri-state logic cannot drift from it. What makes it fast:

- a rule's answer depends only on its inputs (``CRITERION_INPUTS``): rows are grouped by those
  inputs' codes (``Candidates.coded``: each field as integers over its distinct values), the
  rule runs once per distinct group, and the answer is spread back to every row of the group.
  Where the inputs are nearly unique per row (dates, the 17 skin areas), the grouping uses
  what the rule's words show of them (``REDUCED_KEYS``: an age in whole years, the areas a
  LeRoy reason names), and the status is found per coarser group of what it depends on
  (``STATUS_KEYS``: which side of the age range, of the ACR/EULAR minimum, of the duration
  limit, of LeRoy's skin points; the items left open only where they decide). Each key is
  coded and the codes combined as digits of one integer, so grouping hashes integers, not
  tuples;
- where a reason's words come from one function of a few cells (``DIRECT_WORDS``: IN04's and
  EX02's disease duration, worded by ``protocol.screening.duration_words``), the words are
  built once per distinct pair of dates, not by a record each; where a row's missing fields
  are its own (``OWN_MISSING``: LeRoy's ungraded skin areas), they are read from the row's
  cells, in the study's order, rather than from its group;
- reasons are built only for the rows whose reason is shown (``Reasons``), their groups found
  over those rows alone and each distinct group's words built once: a worklist shows the first
  excluding criterion's and the open ones', not the other 35 criteria's;
- the missing fields are numbered by the rule's groups (``CriterionColumn.missing_groups``), so
  the outputs group rows without hashing each row's tuple;
- statuses are small integers (``PASS``, ``FAIL``, ``UNKNOWN``) over whole columns;
- criteria made of independent parts (EX07, the lab criteria) are grouped part by part
  (``PART_RULES``) and combined as ``screen`` combines them;
- creatinine's eGFR, the one input that multiplies with age and sex, is computed over whole
  columns with the equation ``screen`` uses, where the age, sex and unit are clear and the eGFR
  is not within a millionth of the threshold; the rest goes to the rule.

The differential test (``tests/test_prescreen_equals_screen.py``) holds every shortcut to
``screen``'s answer, criterion by criterion, reasons included.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from prescreen.columns import shown_value, without_identifying
from prescreen.table import Candidates, CellProblem, years_between, ymd
from protocol.errors import InternalError
from protocol.participant import FINGER_AREAS, AcrEularFindings, ParticipantRecord, SkinAreas
from protocol.screening import (
    CHECKS,
    COUNT_PARTS,
    EX24_ANALYTES,
    PART_TOLERANCE,
    SEX_ADMITTED,
    CheckResult,
    _Context,
    counts_to_confirm,
    criterion_rule,
    duration_limit,
    duration_words,
    lung_function,
    oxygen_therapy,
)
from protocol.study import Study, admitted_sexes, load_study


class CodedTexts(NamedTuple):
    """Texts as each position's code into a list of texts: ``texts[codes[i]]`` is position
    ``i``'s (the list may repeat a text or hold one no position shows)."""

    codes: np.ndarray
    texts: list[str]


class Reasons:
    """A criterion's reasons over the candidates, each built when first asked for.

    The outputs show few of them (the first excluding criterion's, the open criteria's), so a
    status decided over whole columns leaves its reason to be built, by ``screen``'s own rule,
    only for the rows that show it. Index it as an array (a mask, positions or one position);
    ``build(positions)`` returns the texts of those positions, one per position or as
    :class:`CodedTexts` (a rule's groups give each distinct text once). The outputs ask for
    :meth:`coded`: each distinct text once and each row's code, never a text per row.
    """

    def __init__(self, size: int, build: Callable[[np.ndarray], Any] | None = None) -> None:
        self._size = size
        self._values: np.ndarray | None = None  # made when a text per row is first asked for
        self._build = build

    @classmethod
    def of(cls, texts: Any) -> Reasons:
        """Reasons already built."""
        reasons = cls(len(texts))
        reasons._values = np.empty(len(texts), dtype=object)
        reasons._values[:] = list(texts)
        return reasons

    @classmethod
    def scattered(
        cls,
        size: int,
        pieces: list[tuple[np.ndarray, Reasons]],
        default: str = "",
        placed: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Reasons:
        """One column from pieces, each the reasons of some positions (the rest ``default``).
        ``placed``: each position's piece and its place in the piece, made already (every
        criterion spreads its reasons over the same rows screened)."""
        owner, local = placed if placed is not None else placement(size, [p for p, _ in pieces])

        def build(positions: np.ndarray) -> CodedTexts:
            codes = np.zeros(len(positions), dtype=np.int64)  # the default, text 0
            texts = [default]
            owners = owner[positions]
            for k, (_, piece) in enumerate(pieces):
                mine = np.flatnonzero(owners == k)
                if len(mine):
                    found = piece._coded_texts(local[positions[mine]])
                    codes[mine] = found.codes.astype(np.int64) + len(texts)  # never wraps
                    texts.extend(found.texts)
            return CodedTexts(codes, texts)

        return cls(size, build)

    def taken(self, positions: np.ndarray) -> Reasons:
        """The reasons of ``positions`` only, as their own column."""
        return Reasons(len(positions), lambda asked: self._coded_texts(positions[asked]))

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: Any) -> Any:
        if self._values is None:
            self._values = np.full(self._size, None, dtype=object)
        positions = np.arange(self._size)[index]
        one = np.ndim(positions) == 0
        positions = np.atleast_1d(positions)
        todo = positions[np.equal(self._values[positions], None)]
        if len(todo):
            found = self._coded_texts(todo)
            self._values[todo] = np.array(found.texts, dtype=object)[found.codes]
        found = self._values[positions]
        return found[0] if one else found

    def coded(self, positions: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The reasons of ``positions``: each one's code, and each distinct text once in order
        of first appearance (what ``pd.factorize`` of the texts gives, without a text per row
        or hashing one)."""
        found = self._coded_texts(np.asarray(positions))
        order, used = pd.factorize(found.codes)  # the codes shown, in order of appearance
        merged: dict[str, int] = {}  # two codes with the same words are one text
        number = np.array(
            [merged.setdefault(found.texts[code], len(merged)) for code in used.tolist()],
            dtype=np.int64,
        )
        return number[order], list(merged)

    def whole(self) -> CodedTexts:
        """Every position's text, as codes."""
        return self._coded_texts(np.arange(self._size))

    def _coded_texts(self, positions: np.ndarray) -> CodedTexts:
        """The texts of ``positions`` as codes: built (once each where already asked for)."""
        if self._values is not None:
            known = self._values[positions]
            if not np.equal(known, None).any():  # every one built already
                codes, texts = pd.factorize(known)
                return CodedTexts(codes, list(texts))
        if not len(positions):
            return CodedTexts(np.zeros(0, dtype=np.int64), [])
        assert self._build is not None
        built = self._build(positions)
        if isinstance(built, CodedTexts):
            return built
        codes, texts = pd.factorize(np.asarray(built, dtype=object))
        return CodedTexts(codes, list(texts))


def placement(size: int, pieces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``size`` positions' piece (-1 for none) and its place in that piece."""
    owner = np.full(size, -1, dtype=np.int32)
    local = np.zeros(size, dtype=np.int32)
    for k, positions in enumerate(pieces):
        owner[positions] = k
        local[positions] = np.arange(len(positions))
    return owner, local


# -- what each rule reads ---------------------------------------------------------------------

_TEST = ("pregnancy_test.result", "pregnancy_test.sample", "pregnancy_test.date")
#: The dates a birth comes on or before that a table holds, the birth's own first (without it,
#: the latest birth a row allows is the earliest of the others)
_DATES_AFTER_BIRTH = (
    "dates.birth",
    "dates.consent",
    "ssc.first_non_raynaud_manifestation",
    "pregnancy_test.date",
)
# (the pregnancy test as a whole: its date alone is no test a record holds)
_DATES_FOR_AGE = (*_DATES_AFTER_BIRTH[:3], *_TEST)
# the record's own fields, in its order (never a second, typed list)
_ACR = tuple(f"ssc.acr_eular.{item}" for item in AcrEularFindings.model_fields)
_AREAS = tuple(f"ssc.mrss.areas.{area}" for area in SkinAreas.model_fields)
# (thickening recorded as sparing the fingers leaves an ungraded finger at 0: prescreen fills
# it as the table is read, and the rule reads the flag where a record leaves the finger out)
_MRSS = (
    *_AREAS,
    "ssc.mrss.total",
    "ssc.back_skin_thickening",
    "ssc.acr_eular.skin_thickening_sparing_fingers",
)
# thickened fingers among the classification items are distal involvement for LeRoy too
_LEROY = (
    *_MRSS,
    "ssc.acr_eular.skin_thickening_proximal_to_mcp",
    "ssc.acr_eular.sclerodactyly",
)
_WOMAN = ("sex", "childbearing_potential")
#: What makes a record without a sex a woman's (the rule's _implied_sex): childbearing
#: potential, breastfeeding, a positive pregnancy test.
_IMPLYING_A_WOMAN = ("childbearing_potential", "breastfeeding", *_TEST)
#: The record fields a criterion's rule reads (the screening date only where it is read: rows
#: with different dates then share a group). A test checks, record by record, that the rule
#: gives the same answer from these alone.
_SCREENING = "dates.screening"
CRITERION_INPUTS: dict[str, tuple[str, ...]] = {
    # the sex, and what implies a woman (IN01 reads them where an amendment enrols one sex)
    "IN01": tuple(dict.fromkeys((_SCREENING, *_DATES_FOR_AGE, *_WOMAN, "breastfeeding", *_TEST))),
    # (the PAH risk category and the grades settle an item or flag not recorded)
    "IN02": (*_ACR, "pah_risk", *_AREAS, "ssc.mrss.total"),
    "IN03": _LEROY,
    "IN04": (_SCREENING, "ssc.first_non_raynaud_manifestation", "dates.birth"),
    "IN05": _LEROY,  # the finger items: an ungraded finger tied to the other areas
    "IN06": (_SCREENING, *_WOMAN, *_TEST),
    "IN07": (_SCREENING, "dates.consent"),
    "EX01": _LEROY,
    "EX02": (_SCREENING, "ssc.first_non_raynaud_manifestation", "dates.birth"),
    "EX03": ("history.other_rheumatic_autoimmune_disease",),
    "EX04": ("history.environmental_ssc_like_illness",),
    "EX05": ("history.renal_crisis",),
    "EX06": ("pah_risk", "ssc.acr_eular.pah"),
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
    "EX27": (_SCREENING, *_WOMAN, *_TEST, "breastfeeding", "contraception_agreed"),
    "EX28": ("history.antibody_allergy",),
}
#: Criteria that combine independent parts as screen does (fail if one fails, else unknown if
#: one is unknown): each part is grouped by its own inputs, which multiply far less.
PART_RULES: dict[str, tuple[tuple[tuple[str, ...], Callable[[_Context], CheckResult]], ...]] = {
    "EX07": (
        (("pulmonary.fvc_percent_predicted",), lambda ctx: _part(lung_function(ctx, "fvc"))),
        (("pulmonary.dlco_percent_predicted",), lambda ctx: _part(lung_function(ctx, "dlco"))),
        (("pulmonary.oxygen_therapy",), oxygen_therapy),
    ),
}


def criteria_reading(
    path: str, study: Study | None = None, egfr_reads: Iterable[str] = ()
) -> frozenset[str]:
    """The criteria whose rules read a record field (any part of a lab: its lab's criteria):
    what a cell that could not be read leaves to be checked. Under ``study``, IN01 reads the
    sex and what implies a woman only where it admits one sex. ``egfr_reads``: the fields a
    row's eGFR from creatinine (EX24) reads besides the lab (``egfr_person_fields``)."""
    found = {cid for cid, paths in CRITERION_INPUTS.items() if path in paths}
    if path in egfr_reads:
        found.add("EX24")
    # (a pregnancy test's date bounds the birth date for the age; its result and sample only
    # imply a woman)
    sex_only = path in (*_WOMAN, "breastfeeding", "pregnancy_test.result", "pregnancy_test.sample")
    if study is not None and sex_only and len(admitted_sexes(study)) > 1:
        found.discard("IN01")
    if path.startswith("labs."):
        name = path.split(".")[1]
        found |= {cid for cid, names in LAB_CRITERIA.items() if name in names}
        if name in (*EX24_ANALYTES, "egfr", "creatinine"):
            found.add("EX24")
    return frozenset(found)


def egfr_person_fields(has_creatinine: bool, has_sex: bool) -> tuple[str, ...]:
    """The fields of the person a row's eGFR from creatinine is read for: none without a
    creatinine; the birth date's age and the sex, and where no sex is read, what implies a
    woman (a pregnancy test's date only bounds a birth date not recorded)."""
    if not has_creatinine:
        return ()
    implying = () if has_sex else ("childbearing_potential", "breastfeeding", *_TEST[:2])
    return ("dates.birth", "sex", *implying)


def _part(result: CheckResult | None) -> CheckResult:
    # a refused value: its row is refused (the rule recorded why), so this never shows
    return result or CheckResult("unknown", "")


#: A status as a small integer over whole columns (comparisons and copies in C, not per
#: object): ``STATUSES[code]`` is the word ``screen`` gives; UNCLEAR marks a row a column
#: shortcut leaves to the rule.
STATUSES = np.array(["pass", "fail", "unknown"], dtype=object)
PASS, FAIL, UNKNOWN, UNCLEAR = 0, 1, 2, -1
_CODE = {"pass": PASS, "fail": FAIL, "unknown": UNKNOWN}

#: Criteria whose rule reads lab values: their analytes, combined as screen combines them.
LAB_CRITERIA = {"EX22": ("iga", "igg")}
_LAB_PARTS = ("value", "unit", "uln", "uln_unit")


@dataclass
class CriterionColumn:
    """One criterion over every candidate: status, reason and missing fields per row."""

    id: str
    codes: np.ndarray  # PASS / FAIL / UNKNOWN (int8)
    reason: Reasons  # text, built when asked for
    # each row's missing fields (a tuple of field paths), or None where they are kept as
    # ``missing_groups`` alone (made from them when asked for)
    missing_each: np.ndarray | None
    # the same missing fields as each row's group number and each group's tuple, where the
    # rule ran per group (the outputs then group rows without hashing every row's tuple, and a
    # column of 100,000 tuples is not made for each criterion)
    missing_groups: tuple[np.ndarray, list[tuple[str, ...]]] | None = None

    @property
    def missing(self) -> np.ndarray:
        """Each row's missing fields, a tuple of field paths."""
        if self.missing_each is None:
            assert self.missing_groups is not None
            numbers, table = self.missing_groups
            tuples = np.empty(len(table), dtype=object)
            tuples[:] = table
            self.missing_each = tuples[numbers]
        return self.missing_each

    @property
    def status(self) -> np.ndarray:
        """Each row's status as ``screen`` words it: "pass", "fail" or "unknown"."""
        return STATUSES[self.codes]


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
    return _nester(tuple(paths))(tuple(values))


def _context(data: dict[str, Any], study: Study) -> _Context:
    data["participant"] = "PRESCREEN-1"  # any code: no rule reads it
    record = ParticipantRecord.model_validate(data)
    return _Context(record, study)


def _is_na(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _run_grouped(
    candidates: Candidates,
    rows: np.ndarray,
    paths: tuple[str, ...],
    rule: Callable[[_Context], CheckResult],
    study: Study,
    keys: list[np.ndarray] | Callable[[np.ndarray], list[np.ndarray]] | None = None,
    shared: dict[Any, Any] | None = None,
    status_keys: list[np.ndarray] | None = None,
    explaining: bool = False,
    groups_found: list[Any] | None = None,
) -> tuple[np.ndarray, Reasons, np.ndarray | None]:
    """The rule once per group of rows with the same inputs (or the same ``keys``: reduced
    inputs the rule's answer depends on alone, e.g. an age instead of a birth date), run on the
    group's first row and spread to the rest.

    ``keys`` is a list of arrays over ``rows``, or a function making them for any rows (table
    positions). With ``status_keys`` (what the status and the missing fields depend on, not the
    words of the reason), the rule runs once per coarse group for the status, and, for the
    rows whose reason is asked for, once per distinct value of their reason keys (made for those
    rows alone). Criteria with the same inputs and keys share their groups and contexts through
    ``shared`` (IN03 and EX01).

    ``explaining``: the rows are decided already (by a shortcut over columns) and the rule runs
    only for their reasons, after the rows the rules refuse have been set aside; a value the
    rule refuses then means a shortcut decided a row ``screen`` refuses: an internal error,
    never a reason written as if the row had been screened. (A reason built for a fine group
    is held to the same.)

    ``groups_found`` receives each row's group and each group's missing fields; the missing
    fields are then returned as None, not as a tuple for each row (the caller keeps the
    groups).
    """
    if shared is not None and "groups" in shared:
        codes, contexts, fine = shared["groups"]
    else:
        fine = False  # the reason has keys of its own (finer than the status's)
        if status_keys is None:
            codes, first = _fine_groups(candidates, rows, paths, keys)
        else:
            codes, first = _coded(status_keys)
            fine = True
        nest = _nester(paths)
        contexts = [
            _context(nest(inputs), study) for inputs in candidates.rows_of(paths, rows[first])
        ]
        if shared is not None:
            shared["groups"] = codes, contexts, fine
    results = []
    for group, context in enumerate(contexts):
        results.append(rule(context))
        if context.errors and explaining:
            _refused_late(context)
        if context.errors:  # a value screen would refuse: every row of the group is refused
            for position in rows[codes == group]:
                candidates.errors.setdefault(int(position), []).extend(context.errors)
    status = np.array([_CODE[r.status] for r in results] + [UNKNOWN], dtype=np.int8)
    missing = np.empty(len(results) + 1, dtype=object)
    missing[:] = [tuple(dict.fromkeys(r.missing)) for r in results] + [()]
    each_missing: np.ndarray | None = None
    if groups_found is not None:
        # each row's group and each group's missing fields (the last: no group, nothing
        # missing): the caller keeps them as groups, not as a tuple for each row
        groups_found[:] = [codes, list(missing)]
    else:
        each_missing = missing[codes]
    if not fine:
        reason = [r.reason for r in results] + [""]
        return (
            status[codes],
            Reasons(len(codes), lambda asked: CodedTexts(codes[asked], reason)),
            each_missing,
        )
    # each reason by the values of its keys (the same values, the same words), built once;
    # a context once for every criterion that shares the groups
    built: dict[tuple[Any, ...], str] = {}
    nest = _nester(paths)
    fine_contexts: dict[tuple[Any, ...], _Context] = (
        {} if shared is None else shared.setdefault("fine", {})
    )

    def reasons(asked: np.ndarray) -> CodedTexts:
        at = rows[asked]
        if callable(keys):
            fine_keys = keys(at)
        elif keys is not None:
            fine_keys = [key[asked] for key in keys]
        else:
            fine_keys = [candidates.coded(p)[0][at] for p in paths]
        groups, first = _coded(fine_keys)
        signatures = _signatures(fine_keys, first)
        # the inputs of the groups no criterion has a context for yet, gathered at once
        new = [i for i, signature in enumerate(signatures) if signature not in fine_contexts]
        for i, inputs in zip(new, candidates.rows_of(paths, at[first[new]]), strict=True):
            fine_contexts[signatures[i]] = _context(nest(inputs), study)
        texts = []
        for signature in signatures:
            if signature not in built:
                built[signature] = rule(fine_contexts[signature]).reason
                if fine_contexts[signature].errors:
                    _refused_late(fine_contexts[signature])
            texts.append(built[signature])
        return CodedTexts(groups, texts)

    return status[codes], Reasons(len(codes), reasons), each_missing


def _signatures(keys: list[np.ndarray], first: np.ndarray) -> list[tuple[Any, ...]]:
    """The keys' values at each of the ``first`` rows, as tuples (a group's identity)."""
    if all(key.dtype.kind in "biu" for key in keys):  # numbers and flags: read in one step
        return [tuple(v) for v in np.stack([key[first] for key in keys], axis=1).tolist()]
    return [tuple(key[i] for key in keys) for i in first.tolist()]


def _refused_late(context: _Context) -> None:
    raise InternalError(
        "a candidate's reason was asked for after the screening, and the rule refuses a value "
        f"of it ({context.errors[0]}): a pre-screening shortcut decided a row that screen "
        "refuses"
    )


def _fine_groups(
    candidates: Candidates,
    rows: np.ndarray,
    paths: tuple[str, ...],
    keys: list[np.ndarray] | Callable[[np.ndarray], list[np.ndarray]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group by the rule's inputs (or its reduced ``keys``, or what makes them);
    each group's first row."""
    if callable(keys):
        keys = keys(rows)
    if keys is None:  # the inputs' codes: equal codes, equal values
        keys = [candidates.coded(p)[0][rows] for p in paths]
    return _coded(keys)


def _coded(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by their tuple of keys: each row's group (numbered in order of first
    appearance) and each group's first row. Each key is factorized (a missing value is a value
    of its own) and the codes are combined as digits of one integer, factorized again before it
    could overflow: hashing integers, never tuples. At least one key (it gives the rows)."""
    if not keys:
        raise InternalError("rows grouped by no key: a criterion's keys name no field")
    size = len(keys[0])
    if not size:
        return np.zeros(size, dtype=int), np.zeros(0, dtype=int)
    combined = np.zeros(size, dtype=np.int64)
    width = 1
    for key in keys:
        codes, count = _key_codes(key)
        if count <= 1:
            continue
        if width == 1:
            combined, width = codes.astype(np.int64), count
            continue
        if width * count >= 2**62:
            combined, seen = pd.factorize(combined)
            width = len(seen)
        combined = combined * count + codes
        width *= count
    group, _ = pd.factorize(combined)
    first = first_rows(group)
    # held for the reasons asked later: in the narrowest integers that number the groups
    return group.astype(np.min_scalar_type(-len(first) - 1)), first


def first_rows(group: np.ndarray) -> np.ndarray:
    """Each group's first row, for groups numbered in order of first appearance (as
    ``pd.factorize`` numbers them): where the number exceeds every number before it (one pass,
    where ``np.unique`` sorts)."""
    if not len(group):
        return np.zeros(0, dtype=np.intp)
    seen_before = np.maximum.accumulate(np.concatenate(([-1], group[:-1])))
    return np.flatnonzero(group > seen_before)


def column_patterns(chosen: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The rows (columns of ``chosen``) grouped by their pattern: each row's code, each code's
    pattern."""
    if chosen.shape[1] == 0:
        return np.zeros(0, dtype=int), []
    if len(chosen) <= 64:  # each row's pattern as the bits of one integer (hashed as such)
        keys = np.zeros(chosen.shape[1], dtype=np.uint64)
        for bit, line in enumerate(chosen):
            keys |= line.astype(np.uint64) << np.uint64(bit)
    else:  # more lines than an integer's bits: each row's packed bytes
        packed = np.packbits(chosen, axis=0).T.copy()
        keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    codes, _ = pd.factorize(keys)
    first = first_rows(codes)
    return codes, [chosen[:, i] for i in first]


def _key_codes(key: np.ndarray) -> tuple[np.ndarray, int]:
    """A key's values as codes 0..count-1 (a missing value one of its own): a flag or a small
    whole number is its own code, offset (no hashing); anything else is factorized."""
    if key.dtype == bool:
        return key.astype(np.int64), 2
    if key.dtype.kind in "iu" and len(key):
        low, high = int(key.min()), int(key.max())
        if high - low < 2**20:
            return key.astype(np.int64) - low, high - low + 1
    codes, distinct = pd.factorize(key, use_na_sentinel=False)
    return codes, len(distinct)


def _nester(paths: tuple[str, ...]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    """:func:`_nested` for one set of paths, split once (it runs once per group)."""
    split = [(tuple(path.split(".")[:-1]), path.rsplit(".", 1)[-1]) for path in paths]

    def nest(values: tuple[Any, ...]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for (parents, leaf), value in zip(split, values, strict=True):
            if value is None:
                continue
            node = data
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return data

    return nest


# -- the evaluation ---------------------------------------------------------------------------


def evaluate(
    candidates: Candidates,
    study: Study | None = None,
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Every criterion of ``study`` over every candidate not refused.

    A value the rules refuse in one cell (a lab's unit the book does not read, an implausible
    lab value or ULN, an implausible FVC or DLCO) is left out, as a cell that could not be read
    is: reported with its row and column, and the row screened again without it (so it is
    never likely eligible: the outcomes make it need review, or name the cell beside what
    excludes it). A row whose refused values are no one cell's (dates that cannot all be in
    order) is not screened, as `trialbook screen` refuses such a record."""
    study = study or load_study()
    candidates.study = study
    candidates.problems += _parts_without_a_value(candidates, study)
    while True:
        columns = _criteria_columns(candidates, study, progress)
        refused_cells = {
            position: problems
            for position, problems in candidates.errors.items()
            if all(_cells_of(problem) for problem in problems)
        }
        if not _leave_out(candidates, refused_cells):
            break
        # the criteria again, over the cells left: only the rows left with fewer cells can
        # change, and a value refused behind the one left out (a lab's value behind its ULN)
        # is left out in turn
        candidates.errors.clear()
        progress = None  # (the progress shown once)
    # rows with a value the rules refuse that is no one cell's: reported and not screened, as
    # `trialbook screen` refuses such a record
    for position, problems in sorted(candidates.errors.items()):
        candidates.refused[position] = True
        for problem in dict.fromkeys(problems):
            candidates.problems.append(_cell_problem(candidates, position, problem))
    candidates.problems.sort(key=lambda p: (p.row, p.column))
    return Evaluation(candidates, columns, study, as_of or dt.date.today())


#: A lab's parts left out with each part the rules refuse: the value is no result without its
#: unit, nor its unit without it; a ULN and its unit go together
_LAB_PARTS_LEFT_OUT = {
    "value": ("value", "unit", "uln", "uln_unit"),
    "unit": ("value", "unit", "uln", "uln_unit"),
    "uln": ("uln", "uln_unit"),
    "uln_unit": ("uln", "uln_unit"),
}


def _cells_of(problem: Any) -> tuple[str, ...]:
    """The fields a refused value leaves out when it is one cell's (a lab's part, a lung
    function): none for any other (the dates, which no one cell decides)."""
    path = getattr(problem, "path", "") or ""
    parts = path.split(".")
    if parts[0] == "labs" and len(parts) == 2:  # the lab as a whole
        return tuple(f"{path}.{part}" for part in _LAB_PARTS)
    if parts[0] == "labs" and len(parts) == 3 and parts[2] in _LAB_PARTS_LEFT_OUT:
        return tuple(f"labs.{parts[1]}.{part}" for part in _LAB_PARTS_LEFT_OUT[parts[2]])
    if parts[0] == "pulmonary" and len(parts) == 2 and path in CRITERION_INPUTS["EX07"]:
        return (path,)
    return ()


def _leave_out(candidates: Candidates, refused: dict[int, list[Any]]) -> bool:
    """Each row's refused cells reported (as found) and emptied; whether any was emptied."""
    # each field's positions gathered, then emptied once (a column copied per cell would be
    # a whole column's copy for each of many refused cells)
    positions_of: dict[str, set[int]] = {}
    for position, problems in sorted(refused.items()):
        for problem in dict.fromkeys(problems):
            paths = [
                p
                for p in _cells_of(problem)
                if candidates.present(p)[position] and position not in positions_of.get(p, ())
            ]
            if not paths:  # emptied already: a refusal the cell no longer explains
                continue
            candidates.problems.append(_cell_problem(candidates, position, problem))
            for path in paths:
                positions_of.setdefault(path, set()).add(position)
    for path, positions in positions_of.items():
        candidates.leave_out(path, np.array(sorted(positions)))
    return bool(positions_of)


def _parts_without_a_value(candidates: Candidates, study: Study) -> list[CellProblem]:
    """A lab's unit, ULN or ULN unit beside no value: no result, but a cell the rules would
    refuse beside a value (a unit the book does not read, a ULN where none applies, a zero or
    implausible ULN) is reported all the same, as every unreadable cell is."""
    from protocol.labs import get_analyte

    found: list[CellProblem] = []
    aside = candidates.without_a_value
    # a row not screened (cells that cannot be placed under their columns, a contradiction,
    # an ID that is no code) is reported for that, not for cells read under its columns
    screened = ~candidates.refused
    for name in sorted({path.split(".")[1] for path in aside}):
        refusals = _LabPartRefusals(get_analyte(name, study), study)
        # each position's unit for its ULN: the ULN's own, else the value's (None: neither)
        units = np.full(len(candidates), None, dtype=object)
        for part in ("unit", "uln_unit", "uln"):  # the units first
            path = f"labs.{name}.{part}"
            if path not in aside:
                continue
            positions, cells = aside[path]
            if path not in candidates.codes:  # the mapping's unit: the ULN's, never reported
                units[positions] = cells
                continue
            keep = screened[positions]
            positions, cells = positions[keep], cells[keep]
            if part == "uln":
                # each distinct ULN and unit read once (a site may fill these on every row)
                codes, first = _coded([cells, units[positions]])
                words = [refusals.uln(float(cells[i]), units[positions[i]]) for i in first]
            else:
                units[positions] = cells
                what = "unit" if part == "unit" else "ULN's unit"
                codes, first = _coded([cells])
                words = [refusals.unit(cells[i], what) for i in first]
            column = candidates.column_of(path)
            # each refused group's cell as found and its words, made once
            shown = {
                group: (_as_found(cells[i], path), without_identifying(text, cells[i], path))
                for group, (i, text) in enumerate(zip(first.tolist(), words, strict=True))
                if text is not None
            }
            if not shown:
                continue
            refused = np.isin(codes, list(shown))
            rows = candidates.rows[positions[refused]].tolist()
            found += [
                CellProblem(int(row), column, *shown[group])
                for row, group in zip(rows, codes[refused].tolist(), strict=True)
            ]
    return found


class _LabPartRefusals:
    """What the rules say of one lab's unit or ULN, each distinct cell read once (a site may
    fill a unit column on every row, ahead of the results)."""

    def __init__(self, analyte: Any, study: Study) -> None:
        self.analyte = analyte
        self.study = study
        self.unit = functools.cache(self._unit)
        self.uln = functools.cache(self._uln)

    def _unit(self, cell: Any, what: str) -> str | None:
        from protocol.labs import LabInputError, read_analyte_unit

        try:
            read_analyte_unit(self.analyte, str(cell), what)
        except LabInputError as exc:
            return str(exc)
        return None

    def _uln(self, number: float, unit: Any) -> str | None:
        from protocol.labs import LabInputError, check_plausible, read_uln, to_value_unit

        analyte = self.analyte
        try:  # where none applies, negative or zero: in the words of a ULN beside a value
            read_uln(analyte, number, self.study)
        except LabInputError as exc:
            return str(exc)
        if unit is None:  # no unit to read it in: nothing the rules would check
            return None
        try:
            quantity = to_value_unit(analyte, number, str(unit), "ULN's unit")
            check_plausible(analyte, quantity, number, str(unit).strip(), uln=True)
        except LabInputError as exc:
            # an unreadable unit is its own cell's problem (reported with its cell)
            return None if exc.field == "uln_unit" else str(exc)
        return None


def _cell_problem(candidates: Candidates, position: int, problem: Any) -> CellProblem:
    """A value the rules refuse, as problems.csv reports it: its row, column and value."""
    path = getattr(problem, "path", "") or ""
    cell = candidates.column(path)[position] if path in candidates.fields() else None
    return CellProblem(
        int(candidates.rows[position]),
        candidates.column_of(path),
        _as_found(cell, path),  # the value the rule refused
        without_identifying(getattr(problem, "expected", str(problem)), cell, path),
    )


def _criteria_columns(
    candidates: Candidates, study: Study, progress: Callable[[str], None] | None
) -> dict[str, CriterionColumn]:
    """Every criterion's column over the rows not refused (the rules' refusals of values
    gathered in ``candidates.errors``)."""
    rows = np.flatnonzero(~candidates.refused)
    size = len(candidates)
    columns: dict[str, CriterionColumn] = {}
    lab_cache: dict[str, tuple[np.ndarray, Reasons, np.ndarray]] = {}
    shared: dict[Any, dict[str, Any]] = {}
    # with a row refused, every criterion's reasons are spread over the rows screened: placed once
    placed = placement(size, [rows]) if len(rows) < size else None
    for criterion in study.criteria:
        cid = criterion.id
        groups: list[Any] = []  # filled where the rule runs per group over the whole column
        if cid in LAB_CRITERIA or cid == "EX24":
            analytes = LAB_CRITERIA.get(cid) or tuple(EX24_ANALYTES)
            parts = [_lab(candidates, rows, name, study, lab_cache) for name in analytes]
            if cid == "EX24":
                parts.append(_egfr(candidates, rows, study, lab_cache))
            s, r, m = _combine_columns(parts)
            if cid == "EX24":
                s, r, m = _with_counts_to_confirm(candidates, rows, study, (s, r, m))
        elif cid in PART_RULES:
            s, r, m = _combine_columns(
                [
                    _run_grouped(candidates, rows, inputs, rule, study)
                    for inputs, rule in PART_RULES[cid]
                ]
            )
        elif cid in CRITERION_INPUTS:
            paths = CRITERION_INPUTS[cid]
            reduce = REDUCED_KEYS.get(cid)
            coarse = STATUS_KEYS.get(cid)
            # IN03 and EX01 share their groups (not IN04 and EX02: their limits differ)
            store = shared.setdefault((paths, reduce, coarse), {})
            # the reduced keys are made only for the rows that need them: the reasons asked
            # for, if the status has keys of its own
            keys = (lambda at, reduce=reduce: reduce(candidates, at)) if reduce else None
            status_keys = coarse(candidates, rows) if coarse and not store else None
            s, r, m = _run_grouped(
                candidates,
                rows,
                paths,
                CHECKS[cid].run,
                study,
                keys,
                store,
                status_keys,
                groups_found=groups,
            )
        else:
            # the same rule with none of the list or attestation fields: it says what is missing
            store = shared.setdefault((("dates.screening",), None), {})
            s, r, m = _run_grouped(
                candidates,
                rows,
                ("dates.screening",),
                criterion_rule(cid),
                study,
                None,
                store,
                groups_found=groups,
            )
        if cid in DIRECT_WORDS:
            r = _with_direct_words(r, rows, functools.partial(DIRECT_WORDS[cid], candidates, cid))
        missing_groups = None
        if groups:  # a refused row: no group (its tuple, the last, is empty)
            group_codes, table = groups
            if cid in OWN_MISSING:  # the status's groups share the kind of missing fields
                group_codes, table = OWN_MISSING[cid](candidates, rows, group_codes, table)
            # groups with the same missing fields share one number
            distinct: dict[tuple[str, ...], int] = {}
            # in the narrowest integers that hold them (a few kinds of missing fields; a
            # column of 8-byte numbers for each of 37 criteria is memory the run must fault in)
            number = np.array([distinct.setdefault(t, len(distinct)) for t in table])
            number = number.astype(np.min_scalar_type(-len(distinct) - 1))
            row_numbers = np.full(size, number[-1], dtype=number.dtype)
            row_numbers[rows] = number[group_codes]
            missing_groups = row_numbers, list(distinct)
        if len(rows) == size:  # no row refused: the columns as they are
            columns[cid] = CriterionColumn(cid, s, r, m, missing_groups)
        else:  # a refused row: unknown, nothing missing (it is not screened)
            status = np.full(size, UNKNOWN, dtype=np.int8)
            status[rows] = s
            missing = None
            if m is not None:  # else kept as the groups alone (their numbers cover every row)
                missing = np.empty(size, dtype=object)
                missing.fill(())  # one empty tuple for every row, set in C
                missing[rows] = m
            columns[cid] = CriterionColumn(
                cid,
                status,
                Reasons.scattered(size, [(rows, r)], placed=placed),
                missing,
                missing_groups,
            )
        if progress is not None:
            progress(cid)
    return columns


def _counts_to_confirm_rows(candidates: Candidates, rows: np.ndarray, study: Study) -> np.ndarray:
    """The rows (positions in ``rows``) whose part count is above its whole (neutrophils above
    the white cells), each as screen's own check finds it: the columns find the rows above or
    too near to tell (converted by each unit's factor, a unit in the last digits from the
    rule's), and the check decides each of those from its cells."""
    from protocol.labs import get_analyte

    found: set[int] = set()
    for part, whole in COUNT_PARTS:
        unit = get_analyte(whole, study).value_unit
        amounts = []
        for name in (part, whole):
            factor = _factors(get_analyte(name, study), candidates, f"labs.{name}.unit", unit)
            amounts.append(candidates.numbers(f"labs.{name}.value")[rows] * factor[rows])
        # NaN (a value or unit missing or unreadable) never is: the rules refuse or skip it
        near_or_above = amounts[0] > amounts[1] * (1 + PART_TOLERANCE) * (1 - 1e-12)
        for k in np.flatnonzero(near_or_above).tolist():
            position = int(rows[k])
            labs = {
                name: (
                    candidates.column(f"labs.{name}.value")[position],
                    candidates.column(f"labs.{name}.unit")[position],
                )
                for name in (part, whole)
            }
            if counts_to_confirm(labs, study):
                found.add(k)
    return np.array(sorted(found), dtype=np.intp)


#: The fields the eGFR from creatinine reads: the value's parts, the age (the birth date, or
#: the dates that bound it), and the sex with what implies a woman where none is recorded.
CREATININE_INPUTS = tuple(
    dict.fromkeys(
        (
            _SCREENING,
            *_DATES_FOR_AGE,
            *(f"labs.creatinine.{part}" for part in _LAB_PARTS),
            "sex",
            *_IMPLYING_A_WOMAN,
        )
    )
)
#: Every field EX24's rule reads: each lab's parts, and what the eGFR from creatinine needs
#: (a sex only implied, by childbearing potential or breastfeeding, included: without them a
#: row whose counts are queried lost the sex its eGFR was read at, helper 134).
EX24_INPUTS = tuple(
    dict.fromkeys(
        (
            *(f"labs.{name}.{part}" for name in (*EX24_ANALYTES, "egfr") for part in _LAB_PARTS),
            *CREATININE_INPUTS,
        )
    )
)


def _with_counts_to_confirm(
    candidates: Candidates,
    rows: np.ndarray,
    study: Study,
    found: tuple[np.ndarray, Reasons, np.ndarray],
) -> tuple[np.ndarray, Reasons, np.ndarray]:
    """EX24 with its data queries: the rows whose counts contradict each other (rare) are
    decided again by screen's own EX24 rule, which holds the query as an open part."""
    query = _counts_to_confirm_rows(candidates, rows, study)
    if not len(query):
        return found
    status, reasons, missing = found
    status, missing = status.copy(), missing.copy()
    s, r, m = _run_grouped(candidates, rows[query], EX24_INPUTS, CHECKS["EX24"].run, study)
    status[query], missing[query] = s, m
    others = np.setdiff1d(np.arange(len(rows)), query)
    return (
        status,
        Reasons.scattered(len(rows), [(others, reasons.taken(others)), (query, r)]),
        missing,
    )


# -- reduced inputs: what a rule's answer depends on, when that is less than its inputs --------


def _age_keys(candidates: Candidates, rows: np.ndarray, reason: bool) -> list[np.ndarray]:
    """IN01 with a birth date depends on the age on the screening date (its status only on
    whether the age is within the protocol's range); without one, on the youngest and oldest
    ages the other dates allow (its status only on where each is against the range)."""
    study = candidates.study or load_study()
    population = study.population
    low = int(population.minimum_age.value.to("year").magnitude)
    high = int(population.maximum_age.value.to("year").magnitude)
    known = candidates.present("dates.birth")[rows]
    age = np.where(known, _ages(candidates, "dates.birth", rows), -1)
    youngest = np.full(len(rows), -1)
    oldest = np.full(len(rows), -1)
    unknown_at = np.flatnonzero(~known)
    youngest[unknown_at], oldest[unknown_at] = _age_range(candidates, rows[unknown_at])

    def side(ages: np.ndarray) -> np.ndarray:  # -1 under the range, 0 within, 1 over
        return np.where(ages < low, -1, np.where(ages > high, 1, 0))

    if reason:
        shown = [age, np.where(known, -1, youngest), np.where(known, -1, oldest)]
    else:
        shown = [
            np.where(known, side(age), 2),
            *(np.where(known, 2, side(a)) for a in (youngest, oldest)),
        ]
    keys = [known, ~candidates.present("dates.screening")[rows], *shown]
    if population.sex.value in SEX_ADMITTED:  # an amendment enrolling one sex: IN01 reads it
        keys.append(candidates.coded("sex")[0][rows])
        # no sex given, but childbearing potential, breastfeeding or a positive test: a woman
        # (each one apart: the reason names which imply it)
        implied = (
            (candidates.tristate("childbearing_potential")[rows] == 1).astype(np.int8)
            + 2 * (candidates.tristate("breastfeeding")[rows] == 1)
            + 4 * candidates.is_value("pregnancy_test.result", "positive")[rows]
        )
        keys.append(implied)
    return keys


def _ages(candidates: Candidates, birth_path: str, rows: np.ndarray) -> np.ndarray:
    """Completed years from a date field to the screening date (where both are recorded)."""
    birth = [part[rows] for part in candidates.date_parts(birth_path)]
    on = [part[rows] for part in candidates.date_parts("dates.screening")]
    return years_between(tuple(birth), tuple(on))


def _age_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    return _age_keys(candidates, rows, reason=True)


def _age_status_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    return _age_keys(candidates, rows, reason=False)


def _age_range(candidates: Candidates, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Without a birth date, the ages the other dates allow on the screening date (which a
    table always has): the youngest (born on the latest of consent, first manifestation and
    screening) and the oldest (born on the earliest date a record takes)."""
    from protocol.inputs import EARLIEST_DATE
    from protocol.participant import MAXIMUM_PLAUSIBLE_AGE

    screening = candidates.days("dates.screening")[rows]
    latest_birth = screening.copy()
    for path in _DATES_AFTER_BIRTH[1:]:
        dates = candidates.days(path)[rows]
        earlier = ~np.isnat(dates) & (dates < latest_birth)
        latest_birth[earlier] = dates[earlier]
    on = ymd(screening)
    youngest = years_between(ymd(latest_birth), on)
    oldest = years_between(ymd(np.full(len(rows), np.datetime64(EARLIEST_DATE, "D"))), on)
    # older than plausible at screening is refused, so no age beyond it is possible (as screen)
    return youngest, np.maximum(youngest, np.minimum(oldest, MAXIMUM_PLAUSIBLE_AGE))


def _mrss_keys(candidates: Candidates, rows: np.ndarray, reason: bool) -> list[np.ndarray]:
    """IN05 depends on the sum of the areas when every one is graded, else on a recorded total
    (its reason says whether some areas are graded), else on the range the graded areas allow
    (lowest: the ungraded at 0; highest: at 3) and, where the range straddles the minimum, on
    which areas are ungraded (they are missing). Its status only on which side of the minimum
    those values fall; its reason on the values."""
    minimum = (candidates.study or load_study()).criterion_rules.mrss_minimum.value
    grades = _grades(candidates, rows)
    total = candidates.numbers("ssc.mrss.total")[rows]
    has_total = ~np.isnan(total)
    total_number = np.where(has_total, total, 0).astype(int)
    ungraded = grades < 0
    # an ungraded finger where the record ties the fingers to any other area thickened (not
    # sparing them, never thickened: both finger items false) is at 1 or more
    finger = _finger_points_at_least(candidates, rows, grades)
    lowest = np.where(ungraded, 0, grades).sum(axis=0) + finger
    highest = np.where(ungraded, 0, grades).sum(axis=0) + 3 * ungraded.sum(axis=0)
    all_graded = ~ungraded.any(axis=0)
    no_area = ungraded.all(axis=0)
    # 0 every area graded; 1 a total and no area; 2 a total and some areas (one value each);
    # 3 no total and no area; 4 no total and some areas (a range each)
    case = np.where(
        all_graded,
        0,
        np.where(has_total, np.where(no_area, 1, 2), np.where(no_area, 3, 4)),
    )
    one_value = case <= 2
    value = np.where(all_graded, lowest, total_number)
    straddles = ~one_value & (lowest < minimum) & (highest >= minimum)
    pattern = [np.where(straddles, area, False) for area in ungraded]
    if reason:
        shown = [
            np.where(one_value, value, -1),
            *(np.where(one_value, -1, v) for v in (lowest, highest)),
        ]
    else:
        shown = [
            np.where(one_value, value >= minimum, False),
            *(np.where(one_value, False, v >= minimum) for v in (lowest, highest)),
        ]
    return [case, *shown, *pattern, finger]


def _finger_points_at_least(
    candidates: Candidates, rows: np.ndarray, grades: np.ndarray
) -> np.ndarray:
    """1 where an ungraded finger must be graded 1 or more, as ``finger_points_at_least``
    reads a record: the three finger items false, no finger graded thickened, a finger
    ungraded, and another area graded thickened."""
    is_finger = np.array([path.rsplit(".", 1)[-1] in FINGER_AREAS for path in _AREAS])
    fingers, others = grades[is_finger], grades[~is_finger]
    tied = np.logical_and.reduce(
        [
            candidates.tristate(path)[rows] == 0
            for path in (
                "ssc.acr_eular.skin_thickening_sparing_fingers",
                "ssc.acr_eular.sclerodactyly",
                "ssc.acr_eular.skin_thickening_proximal_to_mcp",
            )
        ]
    )
    return (
        tied & ~(fingers >= 1).any(axis=0) & (fingers < 0).any(axis=0) & (others >= 1).any(axis=0)
    ).astype(int)


def _mrss_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    return _mrss_keys(candidates, rows, reason=True)


def _mrss_status_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    return _mrss_keys(candidates, rows, reason=False)


def _grades(candidates: Candidates, rows: np.ndarray) -> np.ndarray:
    """The 17 areas' grades as a matrix (areas, in the order of ``_AREAS``, x rows), -1 where
    not graded (int8: numpy sums small integers in its default integer, so a sum of grades
    cannot overflow, and a matrix of 8-byte grades was 14 MB for 100,000 rows)."""
    return candidates.grades()[:, rows].reshape(len(_AREAS), len(rows))


def _leroy_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """IN03's and EX01's reason: what the status depends on (the words never name an
    ungraded area, only the missing fields do), and the areas the reason names: with every
    area graded, the involved proximal areas (named whenever one is involved), or the
    involved face and distal areas of the limited subset (no proximal area, the back recorded
    as not thickened)."""
    grades = _grades(candidates, rows)
    is_proximal, _ = _regions(candidates)
    involved = grades >= 1
    all_graded = (grades >= 0).all(axis=0)
    proximal = involved[is_proximal].any(axis=0)
    back = candidates.tristate("ssc.back_skin_thickening")[rows]
    names_proximal = all_graded & proximal
    names_limited = all_graded & ~proximal & (back == 0)
    named = involved & np.where(is_proximal[:, None], names_proximal, names_limited)
    return [*_leroy_common_key(candidates, rows), *named]


def _regions(candidates: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """Which of the 17 areas (in the record's order) are proximal, and which distal (the face
    is neither)."""
    study = candidates.study or load_study()
    by_name = {a.name: a for a in study.skin_score.value.areas}
    areas = [by_name[path.rsplit(".", 1)[-1]] for path in _AREAS]
    return np.array([a.proximal for a in areas]), np.array([a.distal for a in areas])


def _each_region(is_proximal: np.ndarray, is_distal: np.ndarray) -> list[np.ndarray]:
    """The areas of each LeRoy region: proximal, distal, neither (the face)."""
    return [is_proximal, is_distal, ~is_proximal & ~is_distal]


def _leroy_status_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """What the LeRoy status depends on (:func:`_leroy_common_key`; the reason also names the
    involved areas, and the missing fields which areas are ungraded:
    :func:`_own_ungraded_areas`)."""
    return _leroy_common_key(candidates, rows)


def _own_ungraded_areas(
    candidates: Candidates,
    rows: np.ndarray,
    groups: np.ndarray,
    missing: list[tuple[str, ...]],
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """IN03's and EX01's missing fields row by row: a status group's rows share how many areas
    of each region are ungraded, not which, and the rule names a record's own ungraded areas
    (in the study's order of areas). Each group's missing fields (run on its first row) with
    its areas replaced by each row's own; every row's group anew, by its group and its pattern
    of ungraded areas (each distinct pattern's fields made once, never a record)."""
    study = candidates.study or load_study()
    order = [f"ssc.mrss.areas.{area.name}" for area in study.skin_score.value.areas]
    ungraded = _grades(candidates, rows) < 0  # in the order of _AREAS
    place = {path: k for k, path in enumerate(_AREAS)}
    by_study_order = ungraded[[place[path] for path in order]]
    patterns, _ = column_patterns(by_study_order)
    regrouped, first = _coded([groups, patterns])
    # the region of each area: the rule names the ungraded areas of the regions that could
    # change the subset, and a group's rows share which regions those are
    region_of = {
        f"ssc.mrss.areas.{a.name}": (a.proximal, a.distal) for a in study.skin_score.value.areas
    }
    table = []
    for row in first.tolist():
        items = missing[groups[row]]
        areas = [k for k, item in enumerate(items) if item in place]
        if not areas:  # no area named (the back, every area as one): the group's own
            table.append(items)
            continue
        named = {region_of[items[k]] for k in areas}
        own = by_study_order[:, row]
        table.append(
            (
                *items[: areas[0]],
                *(
                    path
                    for path, is_ungraded in zip(order, own, strict=True)
                    if is_ungraded and region_of[path] in named
                ),
                *(item for item in items[areas[0] :] if item not in place),
            )
        )
    # the last number: no group (a refused row), nothing missing, as the rule's groups number it
    return regrouped, [*table, ()]


def _leroy_common_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """Whether an area of each region is involved, whether one is ungraded (and whether every
    area is: the rule then misses the areas as one), what a recorded total leaves the
    ungraded areas to show, the back and the thickened fingers. How many areas are ungraded
    matters only through the total: without one, an ungraded area of a region may show
    thickening or not, whatever the count.

    A total puts the points it leaves (the total less the graded grades) on the ungraded
    areas, 0 to 3 each: which regions can then show thickening (``leroy_possible_subsets``)
    depends on those points and each region's ungraded areas alone. Each of the 8 choices of
    regions is possible when the points fit it: at least one point in each region chosen, at
    most 3 for each of its ungraded areas (grades are whole numbers, so every sum between is
    reached). The 8 answers, not the points, are the key: a total of 30 and of 31 leave the
    same regions open, and a table has few such patterns."""
    grades = _grades(candidates, rows)
    total = candidates.numbers("ssc.mrss.total")[rows]
    no_total = np.isnan(total)
    sum_graded = np.where(grades >= 0, grades, 0).sum(axis=0)
    points = np.where(no_total, 0, total).astype(int) - sum_graded
    ungraded = [(grades[region] < 0).sum(axis=0) for region in _each_region(*_regions(candidates))]
    fits = []
    for chosen in itertools.product((False, True), repeat=3):
        fewest = sum(chosen)
        most = sum(3 * count for count, on in zip(ungraded, chosen, strict=True) if on)
        regions_can = np.logical_and.reduce(
            [count > 0 for count, on in zip(ungraded, chosen, strict=True) if on]
            + [np.ones(len(rows), dtype=bool)]
        )
        fits.append(~no_total & regions_can & (points >= fewest) & (points <= most))
    others = [
        candidates.coded(path)[0][rows]
        for path in (
            "ssc.back_skin_thickening",
            "ssc.acr_eular.skin_thickening_proximal_to_mcp",
            "ssc.acr_eular.sclerodactyly",
            # not sparing the fingers, never thickened: they go with any other area thickened
            "ssc.acr_eular.skin_thickening_sparing_fingers",
        )
    ]
    fingers = grades[[_AREAS.index(f"ssc.mrss.areas.{finger}") for finger in FINGER_AREAS]]
    return [
        *((grades[region] >= 1).any(axis=0) for region in _each_region(*_regions(candidates))),
        *(count > 0 for count in ungraded),
        (grades < 0).all(axis=0),
        no_total,
        *fits,
        *others,
        (fingers >= 1).any(axis=0),
        (fingers < 0).any(axis=0),
    ]


def _duration_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    """IN04 and EX02 read the birth date only when the first manifestation is not recorded."""
    first = candidates.coded("ssc.first_non_raynaud_manifestation")[0][rows]
    birth = np.where(first >= 0, -1, candidates.coded("dates.birth")[0][rows])
    return [first, birth, candidates.coded("dates.screening")[0][rows]]


def _duration_keys(
    months_of: Callable[[Study], Any], reason: bool = False
) -> Callable[[Candidates, np.ndarray], list[np.ndarray]]:
    """The status of IN04 and EX02 depends only on which side of a date plus the limit's months
    (dateutil: a month end clamped) the screening date falls, or whether it is that day (the
    limit's boundary decides): the first manifestation's date when it is recorded, else the
    earliest it can be (the birth date, else the earliest date a record takes), and on whether
    it is recorded. Without a screening date, on the dates the rule reads. With ``reason``, the
    keys of the reason's words too (finer)."""

    def key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
        from protocol.inputs import EARLIEST_DATE

        study = candidates.study or load_study()
        months = round(months_of(study).value.to("month").magnitude)
        first = candidates.coded("ssc.first_non_raynaud_manifestation")[0][rows]
        birth = candidates.coded("dates.birth")[0][rows]
        screening = candidates.coded("dates.screening")[0][rows]
        has_first, has_birth = first >= 0, birth >= 0
        earliest = [
            np.where(has_first, f[rows], np.where(has_birth, b[rows], e))
            for f, b, e in zip(
                candidates.date_parts("ssc.first_non_raynaud_manifestation"),
                candidates.date_parts("dates.birth"),
                (EARLIEST_DATE.year, EARLIEST_DATE.month, EARLIEST_DATE.day),
                strict=True,
            )
        ]
        fy, fm, fd = earliest
        sy, sm, sd = (part[rows] for part in candidates.date_parts("dates.screening"))
        total = fy * 12 + (fm - 1) + months
        by, bm = total // 12, total % 12 + 1
        bd = np.minimum(fd, _days_in_month(by, bm))
        # -1 before that day, 0 on it, 1 after
        side = np.sign(np.where(sy != by, sy - by, np.where(sm != bm, sm - bm, sd - bd)))
        dated = screening >= 0
        status = [np.where(dated, side, 2), has_first]
        inputs = _duration_key(candidates, rows)
        if not reason:
            return [*status, *(np.where(dated, -2, k) for k in inputs)]
        # the reason shows the first manifestation and the screening date; the birth date only
        # when it stands in for the first manifestation in a duration that passes
        first_shown = first  # -1 where there is none
        birth_shown = np.where(~has_first & (side <= 0), birth, -1)
        undated = (np.where(dated, -2, k) for k in inputs)
        return [*status, first_shown, birth_shown, screening, *undated]

    return key


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[month]
    return np.where((month == 2) & leap, 29, days)


def _acr_states(candidates: Candidates, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each classification item and flag as 1 (yes), 0 (no) or -1 (not recorded), with what
    the rest of the row settles of one not recorded, as ParticipantRecord.implied_acr_eular
    finds it: the PAH item from the PAH risk category, and "sparing the fingers" from the
    fingers' grades (thickened: not sparing) or from thickening that spares them."""
    from protocol.participant import PAH_RISKS

    states = {}
    for path in _ACR:  # every row's, once per evaluation
        states[path.rsplit(".", 1)[1]] = candidates.tristate(path)[rows].copy()
    pah = states["pah"]
    has_risk = candidates.present("pah_risk")[rows]
    a_pahs = np.any([candidates.is_value("pah_risk", r)[rows] for r in PAH_RISKS], axis=0)
    pah[(pah == -1) & has_risk] = a_pahs[(pah == -1) & has_risk]
    sparing = states["skin_thickening_sparing_fingers"]
    grades = candidates.grades()[:, rows]  # areas x rows, -1 where not graded
    areas = list(SkinAreas.model_fields)
    finger_rows = [areas.index("right_fingers"), areas.index("left_fingers")]
    fingers = grades[finger_rows]
    thickened_fingers = np.any(fingers >= 1, axis=0)
    # another area thickened: graded so, or a recorded total above the graded areas (the
    # areas not graded hold the rest, none a finger where both are graded)
    total = candidates.numbers("ssc.mrss.total")[rows]
    graded_sum = np.where(grades >= 0, grades, 0).sum(axis=0)
    elsewhere = np.any(np.delete(grades, finger_rows, axis=0) >= 1, axis=0) | (total > graded_sum)
    spares = (
        (states["sclerodactyly"] == 0)
        & (states["skin_thickening_proximal_to_mcp"] == 0)
        & np.all(fingers == 0, axis=0)
        & elsewhere
    )
    recorded_sparing = sparing.copy()
    sparing[(sparing == -1) & thickened_fingers] = 0
    sparing[(sparing == -1) & spares] = 1
    # thickening recorded as not sparing the fingers, beside fingers graded 0 and another area
    # thickened: the fingers were thickened once (ParticipantRecord.fingers_once_thickened),
    # sclerodactyly or proximal to the MCPs: the one not recorded beside the other recorded
    # absent is met; with neither recorded, one of them is ("one finger item")
    sclerodactyly = states["sclerodactyly"]
    proximal = states["skin_thickening_proximal_to_mcp"]
    once = (recorded_sparing == 0) & np.all(fingers == 0, axis=0) & elsewhere
    implied_sclerodactyly = once & (sclerodactyly == -1) & (proximal == 0)
    implied_proximal = once & (proximal == -1) & (sclerodactyly == 0)
    states["one finger item"] = once & (sclerodactyly == -1) & (proximal == -1)
    sclerodactyly[implied_sclerodactyly] = 1
    proximal[implied_proximal] = 1
    # what was settled so, not recorded (IN02's reason says so): -1 where nothing was
    states["implied pah"] = np.where(candidates.tristate("ssc.acr_eular.pah")[rows] == -1, pah, -1)
    states["implied sparing"] = np.where(recorded_sparing == -1, sparing, -1)
    states["implied finger item"] = np.select(
        [implied_sclerodactyly, implied_proximal], [1, 2], default=-1
    )
    return states


def _acr_keys(candidates: Candidates, rows: np.ndarray, per_category: bool) -> list[np.ndarray]:
    """What IN02 reads of the 2013 items: whether the criteria apply (not, or which flags are
    open), and where they may: in each category the highest weight met and the highest
    possible (every unrecorded item met), and which items are unrecorded where they decide
    (the total's range straddles the minimum). The status needs only which side of the
    minimum each end of the range is; the reason names each category's points and the
    totals (an open total, its range alone)."""
    study = candidates.study or load_study()
    criteria = study.acr_eular_2013.value
    minimum = study.criterion_rules.acr_eular_minimum.value
    state = _acr_states(candidates, rows)

    def points(met_as: Callable[[str], np.ndarray]) -> list[np.ndarray]:
        # each category's highest weight among the items met_as finds met
        return [
            np.max([np.where(met_as(item), w, 0) for item, w in category.items.items()], axis=0)
            for category in criteria.categories
        ]

    met = points(lambda item: state[item] == 1)
    possible = points(lambda item: state[item] != 0)
    lowest, highest = np.sum(met, axis=0), np.sum(possible, axis=0)
    one_of = state["one finger item"]
    if one_of.any():  # one of the two finger items is met: the lower total of the two counts
        lowest = np.where(
            one_of,
            np.minimum(
                *(
                    np.sum(points(lambda item, e=either: (state[item] == 1) | (item == e)), 0)
                    for either in ("sclerodactyly", "skin_thickening_proximal_to_mcp")
                )
            ),
            lowest,
        )
    # whether the criteria apply, as acr_eular_range finds it: not if a flag is recorded as
    # met; open while a flag is not recorded, except that thickened fingers (the sufficient
    # item or sclerodactyly) mean the thickening does not spare the fingers
    fingers = (state["skin_thickening_proximal_to_mcp"] == 1) | (state["sclerodactyly"] == 1)
    flags = {flag: state[flag].copy() for flag in criteria.not_applicable_when}
    if "skin_thickening_sparing_fingers" in flags:
        sparing = flags["skin_thickening_sparing_fingers"]
        sparing[fingers & (sparing == -1)] = 0
    not_applicable = np.any([f == 1 for f in flags.values()], axis=0)
    flags_open = [np.where(not_applicable, False, f == -1) for f in flags.values()]
    # the items left unrecorded decide only while the range straddles the minimum (and the
    # criteria may apply); not applicable, nothing else shows
    open_range = ~not_applicable & (lowest < minimum) & (highest >= minimum)
    # an unrecorded item is asked only where it outweighs its category's met weight, or, a
    # finger item, while "sparing the fingers" is open (acr_eular_range): which are, where the
    # criteria may apply, so that rows asked different items never share a group
    category_met = {
        item: (weight, met[k])
        for k, category in enumerate(criteria.categories)
        for item, weight in category.items.items()
    }
    sparing_open = (
        (state["skin_thickening_sparing_fingers"] == -1) & ~fingers
        if "skin_thickening_sparing_fingers" in state
        else np.zeros(len(rows), dtype=bool)
    )
    raises = {
        item: (state[item] == -1)
        & (
            (weight > category_points)
            | (sparing_open & (item in ("sclerodactyly", "skin_thickening_proximal_to_mcp")))
        )
        for item, (weight, category_points) in category_met.items()
    }
    finger_items = ("sclerodactyly", "skin_thickening_proximal_to_mcp")
    unrecorded = [
        np.where(
            open_range | (~not_applicable & sparing_open & (item in finger_items)),
            raises[item],
            False,
        )
        for item in criteria.item_names
    ]
    applies = [not_applicable, *flags_open, *unrecorded]
    if not per_category:  # the status: on which side of the minimum each end of the range is
        return [
            *applies,
            *(np.where(not_applicable, -1, k) for k in (lowest >= minimum, highest >= minimum)),
        ]
    # the reason: each category's points where they are named (a decided total); an open one
    # (it may apply and reach the minimum, but does not surely) gives its range alone, whatever
    # is unrecorded (the unrecorded items and flags are its missing fields, not its words)
    any_open = np.any(flags_open, axis=0) if flags_open else np.zeros(len(rows), dtype=bool)
    open_total = ~not_applicable & (highest >= minimum) & ~((lowest >= minimum) & ~any_open)
    decided = [*applies, *(np.where(not_applicable, -1, k) for k in (*met, highest))]
    return [
        open_total,
        *(np.where(open_total, -1, k) for k in decided),
        np.where(open_total, lowest, -1),
        np.where(open_total, highest, -1),
        # what the record settles of an item or flag it does not record (named in the reason)
        state["implied pah"],
        state["implied sparing"],
        state["implied finger item"],
        state["one finger item"],
    ]


def _acr_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    return _acr_keys(candidates, rows, per_category=True)


def _acr_status_key(candidates: Candidates, rows: np.ndarray) -> list[np.ndarray]:
    return _acr_keys(candidates, rows, per_category=False)


#: Criteria whose answer depends on less than their inputs: the reduced grouping keys.
REDUCED_KEYS: dict[str, Callable[[Candidates, np.ndarray], list[np.ndarray]]] = {
    "IN01": _age_key,
    "IN02": _acr_key,
    "IN03": _leroy_key,
    "IN04": _duration_keys(lambda study: duration_limit("IN04", study)[0], reason=True),
    "IN05": _mrss_key,
    "EX02": _duration_keys(lambda study: duration_limit("EX02", study)[0], reason=True),
    "EX01": _leroy_key,
}


#: Criteria whose status and missing fields depend on less than their reason does.
STATUS_KEYS: dict[str, Callable[[Candidates, np.ndarray], list[np.ndarray]]] = {
    "IN01": _age_status_key,
    "IN02": _acr_status_key,
    "IN03": _leroy_status_key,
    "IN04": _duration_keys(lambda study: duration_limit("IN04", study)[0]),
    "IN05": _mrss_status_key,
    "EX01": _leroy_status_key,
    "EX02": _duration_keys(lambda study: duration_limit("EX02", study)[0]),
}


def _with_direct_words(
    reasons: Reasons, rows: np.ndarray, words: Callable[[np.ndarray], tuple[np.ndarray, CodedTexts]]
) -> Reasons:
    """``reasons`` (over ``rows``) with the rows ``words`` can word worded by it, without a
    record: ``words(positions)`` gives which of them it words, and their texts."""

    def build(asked: np.ndarray) -> CodedTexts:
        worded, direct = words(rows[asked])
        if worded.all():
            return direct
        rest = np.flatnonzero(~worded)
        other = reasons._coded_texts(asked[rest])
        codes = np.empty(len(asked), dtype=np.int64)
        codes[worded] = direct.codes
        codes[rest] = other.codes.astype(np.int64) + len(direct.texts)
        return CodedTexts(codes, [*direct.texts, *other.texts])

    return Reasons(len(rows), build)


def _duration_words(
    candidates: Candidates, criterion: str, positions: np.ndarray
) -> tuple[np.ndarray, CodedTexts]:
    """IN04's and EX02's reason at each position with both dates recorded: the rule's own
    words (``duration_words``), each distinct pair of dates worded once."""
    study = candidates.study or load_study()
    limit, reading = duration_limit(criterion, study)
    first_codes, first_dates = candidates.coded("ssc.first_non_raynaud_manifestation")
    screening_codes, screening_dates = candidates.coded("dates.screening")
    first, screening = first_codes[positions], screening_codes[positions]
    worded = (first >= 0) & (screening >= 0)
    first, screening = first[worded], screening[worded]
    pairs, at = _coded([first, screening])
    texts = [
        duration_words(first_dates[first[i]], screening_dates[screening[i]], limit, reading)
        for i in at.tolist()
    ]
    return worded, CodedTexts(pairs.astype(np.int64), texts)


#: Criteria whose reasons are worded over columns where the rule's words need no record.
DIRECT_WORDS = {"IN04": _duration_words, "EX02": _duration_words}


#: Criteria whose status groups leave the missing fields to each row: what makes them.
OWN_MISSING = {"IN03": _own_ungraded_areas, "EX01": _own_ungraded_areas}


def _lab(
    candidates: Candidates,
    rows: np.ndarray,
    name: str,
    study: Study,
    cache: dict[str, tuple[np.ndarray, Reasons, np.ndarray]],
) -> tuple[np.ndarray, Reasons, np.ndarray]:
    """One analyte, as screen's ctx.lab: decided over whole columns where the value is clearly
    on one side of its threshold, by the rule (once per distinct value, unit and ULN) for the
    rest and for the reason of any row that shows it."""
    if name not in cache:
        paths = tuple(f"labs.{name}.{part}" for part in _LAB_PARTS)
        fast = _lab_clearly(candidates, rows, name, study)
        cache[name] = _fast_then_rule(
            candidates, rows, paths, lambda ctx: ctx.lab(name), study, fast
        )
    return cache[name]


def _fast_then_rule(
    candidates: Candidates,
    rows: np.ndarray,
    paths: tuple[str, ...],
    rule: Callable[[_Context], CheckResult],
    study: Study,
    fast: np.ndarray,
) -> tuple[np.ndarray, Reasons, np.ndarray]:
    """Statuses decided over columns (``fast``: PASS/FAIL, UNCLEAR where unclear): the rule
    decides the unclear rows, and builds the reasons of the clear ones when asked."""

    def by_rule(positions: np.ndarray, explaining: bool = False) -> Grouped:
        return _run_grouped(candidates, rows[positions], paths, rule, study, explaining=explaining)

    return _decided_then_rule(fast, by_rule)


#: A rule's statuses, reasons and missing fields over some rows.
Grouped = tuple[np.ndarray, Reasons, np.ndarray]


def _decided_then_rule(
    fast: np.ndarray,
    by_rule: Callable[[np.ndarray, bool], Grouped],
    fast_missing: np.ndarray | None = None,
) -> Grouped:
    """Statuses decided over columns (``fast``, UNCLEAR where unclear, ``fast_missing`` their
    missing fields, none by default): ``by_rule(positions, explaining)`` decides the unclear
    rows, and builds the reasons of the clear ones when asked (explaining: they are decided)."""
    slow = np.flatnonzero(fast == UNCLEAR)
    clear = np.flatnonzero(fast != UNCLEAR)
    status = fast.copy()
    if fast_missing is None:
        missing = np.empty(len(fast), dtype=object)
        missing.fill(())  # one empty tuple for every row, set in C
    else:
        missing = fast_missing.copy()
    pieces: list[tuple[np.ndarray, Reasons]] = []
    if len(slow):
        s, r, m = by_rule(slow, False)
        status[slow], missing[slow] = s, m
        pieces.append((slow, r))
    if len(clear):
        pieces.append(
            (clear, Reasons(len(clear), lambda asked: by_rule(clear[asked], True)[1].whole()))
        )
    return status, Reasons.scattered(len(fast), pieces), missing


def _lab_clearly(candidates: Candidates, rows: np.ndarray, name: str, study: Study) -> np.ndarray:
    """An analyte's status where whole columns make it clear (PASS/FAIL), UNCLEAR where
    screen's rule must decide: a missing value or ULN, a unit the rule would refuse, a value at
    the edge of its plausible range, a ULN where none applies, a value near the threshold."""
    from protocol.labs import get_analyte

    analyte = get_analyte(name, study)
    status = np.full(len(rows), UNCLEAR, dtype=np.int8)
    if analyte.computes or analyte.threshold is None:
        return status
    values = candidates.numbers(f"labs.{name}.value")[rows]
    uln = candidates.numbers(f"labs.{name}.uln")[rows]
    has_uln_unit = candidates.present(f"labs.{name}.uln_unit")[rows]
    to_value = _factors(analyte, candidates, f"labs.{name}.unit", analyte.value_unit)[rows]
    in_value_unit = values * to_value
    usable = np.isfinite(in_value_unit) & _inside(analyte, analyte.plausible, in_value_unit)
    if analyte.relative_to_uln:
        # the ULN in its own unit, else in the value's
        uln_to_value = _factors(analyte, candidates, f"labs.{name}.uln_unit", analyte.value_unit)
        uln_value = uln * np.where(has_uln_unit, uln_to_value[rows], to_value)
        usable &= np.isfinite(uln_value) & _inside(analyte, analyte.uln_plausible, uln_value)
        with np.errstate(divide="ignore", invalid="ignore"):
            compared = in_value_unit / uln_value
    else:
        usable &= np.isnan(uln) & ~has_uln_unit  # a ULN where none applies: left to the rule
        to_protocol = _factors(analyte, candidates, f"labs.{name}.unit", analyte.protocol_unit)
        compared = values * to_protocol[rows]
    limit = analyte.threshold_magnitude
    usable &= np.isfinite(compared) & (np.abs(compared - limit) > _NEAR_THRESHOLD * abs(limit))
    meets = compared < limit if analyte.threshold.comparison == "<" else compared > limit
    status[usable] = np.where(meets[usable], FAIL, PASS)
    return status


def _inside(analyte: Any, plausible: Any, values: np.ndarray) -> np.ndarray:
    """Within the plausible range with a margin (a value at an edge goes to the rule)."""
    if plausible is None:
        return np.ones(len(values), dtype=bool)
    low = analyte.convert(plausible.low, analyte.value_unit).magnitude
    high = analyte.convert(plausible.high, analyte.value_unit).magnitude
    with np.errstate(invalid="ignore"):
        return (values > low * (1 + 1e-6) + 1e-12) & (values < high * (1 - 1e-6))


def _factors(analyte: Any, candidates: Candidates, path: str, target: Any) -> np.ndarray:
    """Each row's factor from its unit (the field ``path``) to ``target``, each distinct unit
    read once by the analyte's own reader; NaN where there is none or the rule would refuse the
    unit (it then says why)."""
    from protocol.labs import LabInputError, read_analyte_unit

    key = f"factors of {path} to {target}"
    if key in candidates.derived:
        return candidates.derived[key]
    codes, distinct = candidates.coded(path)
    found = []
    for text in distinct:
        if text is None:
            found.append(np.nan)
            continue
        try:
            one = read_analyte_unit(analyte, str(text))
            found.append(float(analyte.convert(one, target).magnitude))
        except (LabInputError, ValueError):
            found.append(np.nan)
    candidates.derived[key] = np.array([*found, np.nan])[codes]
    return candidates.derived[key]


def _egfr(
    candidates: Candidates,
    rows: np.ndarray,
    study: Study,
    cache: dict[str, tuple[np.ndarray, Reasons, np.ndarray]],
) -> tuple[np.ndarray, Reasons, np.ndarray]:
    """EX24's kidney part: a reported eGFR, else creatinine (with the age and sex it needs)."""
    reported = _lab(candidates, rows, "egfr", study, cache)
    has_egfr = candidates.present("labs.egfr.value")[rows]
    has_creatinine = candidates.present("labs.creatinine.value")[rows]
    status = np.full(len(rows), UNKNOWN, dtype=np.int8)
    missing = np.empty(len(rows), dtype=object)
    missing.fill(("labs.egfr",))
    reported_at = np.flatnonzero(has_egfr)
    status[reported_at], missing[reported_at] = reported[0][reported_at], reported[2][reported_at]
    pieces = [(reported_at, reported[1].taken(reported_at))]
    creatinine_at = np.flatnonzero(has_creatinine & ~has_egfr)
    if len(creatinine_at):
        # the sex, and what implies a woman where it is not recorded (as the rule reads it)
        paths = (*(f"labs.creatinine.{part}" for part in _LAB_PARTS), "sex", *_IMPLYING_A_WOMAN)
        s, r, m = _creatinine(candidates, rows[creatinine_at], paths, study)
        status[creatinine_at], missing[creatinine_at] = s, m
        pieces.append((creatinine_at, r))
    reason = Reasons.scattered(len(rows), pieces, default="eGFR: no eGFR or creatinine recorded")
    return status, reason, missing


def _creatinine(
    candidates: Candidates, rows: np.ndarray, paths: tuple[str, ...], study: Study
) -> tuple[np.ndarray, Reasons, np.ndarray]:
    """Creatinine's eGFR part: decided over whole columns where the age and sex are known and
    the value is clearly on one side of the threshold; by screen's rule for the rest, and for
    the reason of any row that shows it."""
    screening = candidates.column("dates.screening")[rows]
    known = candidates.present("dates.birth")[rows]
    status = np.full(len(rows), UNKNOWN, dtype=np.int8)
    missing = np.empty(len(rows), dtype=object)
    pieces: list[tuple[np.ndarray, Reasons]] = []
    if known.any():
        known_at = np.flatnonzero(known)
        ages = _ages(candidates, "dates.birth", rows[known_at])

        def by_rule(
            positions: np.ndarray, explaining: bool = False
        ) -> tuple[np.ndarray, Reasons, np.ndarray]:
            # a birth date that gives the same age on the screening date gives the same eGFR:
            # stand in the earliest such date, for the rows the rule decides or explains only
            at = rows[known_at][positions]
            stand_in = np.array(
                [
                    _birth_for_age(d, int(a))
                    for d, a in zip(screening[known_at][positions], ages[positions], strict=True)
                ],
                dtype=object,
            )
            sub = Candidates(
                candidates.ids,
                {**candidates.values, "dates.birth": _scatter(candidates, at, stand_in)},
                candidates.rows,
                errors=candidates.errors,
                # every other field's codes as they are
                codes={k: v for k, v in candidates.codes.items() if k != "dates.birth"},
            )
            return _run_grouped(
                sub,
                at,
                ("dates.screening", "dates.birth", *paths),
                lambda ctx: ctx.lab("creatinine"),
                study,
                explaining=explaining,
            )

        fast, fast_missing = _egfr_clearly(candidates, rows[known_at], ages, study)
        s, r, m = _decided_then_rule(fast, by_rule, fast_missing)
        status[known_at], missing[known_at] = s, m
        pieces.append((known_at, r))
    if (~known).any():
        unknown_at = np.flatnonzero(~known)
        at_rows = rows[unknown_at]
        keys = _age_range_keys(candidates, at_rows, paths, study)

        def by_range(
            positions: np.ndarray, explaining: bool = False
        ) -> tuple[np.ndarray, Reasons, np.ndarray]:
            return _run_grouped(
                candidates,
                at_rows[positions],
                CREATININE_INPUTS,
                lambda ctx: ctx.lab("creatinine"),
                study,
                keys=[key[positions] for key in keys],
                explaining=explaining,
            )

        # decided over whole columns where every admitted age and possible sex gives one
        # clear status; by the rule for the rest, and for the reason of any row that shows it
        s, r, m = _decided_then_rule(_egfr_over_ages_clearly(candidates, at_rows, study), by_range)
        status[unknown_at], missing[unknown_at] = s, m
        pieces.append((unknown_at, r))
    return status, Reasons.scattered(len(rows), pieces), missing


def _sexes(candidates: Candidates, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's sex as the eGFR rule reads it: a woman (recorded, or implied where none is
    recorded), and no sex known (recorded or implied)."""
    recorded = candidates.present("sex")[rows]
    implied = ~recorded & (
        candidates.is_value("childbearing_potential", True)[rows]
        | candidates.is_value("breastfeeding", True)[rows]
        | candidates.is_value("pregnancy_test.result", "positive")[rows]
    )
    female = candidates.is_value("sex", "female")[rows] | implied
    return female, ~recorded & ~implied


def _egfr_over_ages_clearly(candidates: Candidates, rows: np.ndarray, study: Study) -> np.ndarray:
    """Without a birth date: the creatinine part's status where whole columns make it clear,
    as screen's rule decides it (the eGFR at both ends of the record's range of ages, each
    read as the nearest age IN01 admits, for each sex the record allows, all on one side and
    none near the threshold); UNCLEAR where the rule must decide (a child's ages, a value it
    may refuse, an eGFR near the threshold or on both sides of it)."""
    from protocol.labs import _ckd_epi, get_analyte
    from protocol.study import admitted_ages

    status = np.full(len(rows), UNCLEAR, dtype=np.int8)
    analyte = get_analyte("creatinine", study)
    target = get_analyte(analyte.computes, study)
    minimum = study.egfr_equation.value.minimum_age
    youngest, oldest = _age_range(candidates, rows)
    young, old = (np.clip(ages, *admitted_ages(study)) for ages in (youngest, oldest))
    number = candidates.numbers("labs.creatinine.value")[rows]
    mg_dl = number * _factors(analyte, candidates, "labs.creatinine.unit", "mg/dL")[rows]
    limit = target.threshold_magnitude
    female, no_sex = _sexes(candidates, rows)
    male = candidates.is_value("sex", "male")[rows]
    fails = target.threshold.comparison == "<"
    verdicts, clear = [], np.ones(len(rows), dtype=bool)
    for age in (np.clip(young, minimum, 120), np.clip(old, minimum, 120)):
        for as_female, applies in ((True, female | no_sex), (False, male | no_sex)):
            egfr = _ckd_epi(mg_dl, age, np.full(len(rows), as_female), study)
            clear &= ~applies | (np.abs(egfr - limit) > _NEAR_THRESHOLD * abs(limit))
            meets = egfr < limit if fails else egfr > limit
            verdicts.append(np.where(applies, np.where(meets, FAIL, PASS), -9))
    stacked = np.stack(verdicts)
    given = np.where(stacked == -9, np.max(stacked, axis=0), stacked)  # sexes not possible
    agree = (given == given[0]).all(axis=0)
    chosen = (
        _creatinine_readable(candidates, rows, study)
        & (young >= minimum)
        & (female | male | (no_sex & (len(admitted_sexes(study)) == 2)))
        & clear
        & agree
    )
    status[chosen] = given[0][chosen]
    return status


def _age_range_keys(
    candidates: Candidates, rows: np.ndarray, paths: tuple[str, ...], study: Study
) -> list[np.ndarray]:
    """Without a birth date, the eGFR rule reads the ages the other dates allow: the youngest
    (born on the latest of consent, first manifestation and screening) and the oldest (born on
    the earliest date a record takes), both on the screening date, which a table always has.
    Each is read as the nearest age IN01 admits; when the youngest so read is under the
    equation's minimum age (a study admitting children), a value the rule reads without
    refusing it leaves the part open whatever it is: such rows are grouped by the ages and the
    sex alone."""
    from protocol.study import admitted_ages

    youngest, oldest = _age_range(candidates, rows)
    # the rule reads each age as the nearest IN01 admits (admitted_ages_within)
    young = np.clip(youngest, *admitted_ages(study))
    open_whatever = (young < study.egfr_equation.value.minimum_age) & _creatinine_readable(
        candidates, rows, study
    )
    inputs = [np.where(open_whatever, -2, candidates.coded(p)[0][rows]) for p in paths]
    female, no_sex = _sexes(candidates, rows)  # a sex implied counts as recorded
    return [youngest, oldest, open_whatever, female, no_sex, *inputs]


# a computed eGFR this close to the threshold (relatively) is left to screen's rule, whose
# scalar arithmetic and boundary tolerance then decide it
_NEAR_THRESHOLD = 1e-6


def _egfr_clearly(
    candidates: Candidates, rows: np.ndarray, ages: np.ndarray, study: Study
) -> tuple[np.ndarray, np.ndarray]:
    """The creatinine part's status and missing fields where whole columns make them clear,
    status UNCLEAR where screen's rule must decide: a unit or value the rule would refuse, a
    value at the edge of the plausible range, an eGFR near the threshold (for either sex when
    none is recorded). Under the equation's minimum age the part is open for a reported eGFR."""
    from protocol.labs import _ckd_epi, get_analyte

    status = np.full(len(rows), UNCLEAR, dtype=np.int8)
    analyte = get_analyte("creatinine", study)
    target = get_analyte(analyte.computes, study)
    equation = study.egfr_equation.value
    number = candidates.numbers("labs.creatinine.value")[rows]
    to_mg_dl = _factors(analyte, candidates, "labs.creatinine.unit", "mg/dL")[rows]
    female, no_sex = _sexes(candidates, rows)
    missing = np.empty(len(rows), dtype=object)
    missing.fill(())  # one empty tuple for every row, set in C
    readable = _creatinine_readable(candidates, rows, study)
    # each age read as the nearest IN01 admits, as the rule reads it (admitted_ages_within)
    from protocol.study import admitted_ages

    ages = np.clip(ages, *admitted_ages(study))
    adult = (ages >= equation.minimum_age) & (ages <= 120)
    limit = target.threshold_magnitude

    def verdict(female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        egfr = _ckd_epi(number * to_mg_dl, ages, female, study)
        clear = np.abs(egfr - limit) > _NEAR_THRESHOLD * abs(limit)
        meets = egfr < limit if target.threshold.comparison == "<" else egfr > limit
        return np.where(meets, FAIL, PASS).astype(np.int8), clear

    known_sex = female | candidates.is_value("sex", "male")[rows]
    given, given_clear = verdict(female)
    chosen = readable & adult & known_sex & given_clear
    status[chosen] = given[chosen]
    # no sex recorded: decided when both sexes give one status; open (sex missing) when not
    as_female, female_clear = verdict(np.ones(len(rows), dtype=bool))
    as_male, male_clear = verdict(np.zeros(len(rows), dtype=bool))
    # an amendment enrolling one sex: screen's rule reads a missing sex as that one (and says
    # so), so those rows are its to decide
    both_admitted = len(admitted_sexes(study)) == 2
    either = readable & adult & no_sex & female_clear & male_clear & both_admitted
    agree = either & (as_female == as_male)
    status[agree] = as_female[agree]
    differ = either & (as_female != as_male)
    status[differ] = UNKNOWN
    for position in np.flatnonzero(differ):  # one-item tuples, not a 2-D array
        missing[position] = ("sex",)
    # a known age under the equation's: a reported eGFR is needed, whatever the value
    young = readable & (ages < equation.minimum_age)
    status[young] = UNKNOWN
    for position in np.flatnonzero(young):
        missing[position] = ("labs.egfr",)
    return status, missing


def _creatinine_readable(candidates: Candidates, rows: np.ndarray, study: Study) -> np.ndarray:
    """A creatinine value the rule reads without refusing it: a unit it reads, a value inside
    the plausible range (with a margin) and no ULN (creatinine has none)."""
    from protocol.labs import get_analyte

    analyte = get_analyte("creatinine", study)
    number = candidates.numbers("labs.creatinine.value")[rows]
    factors = _factors(analyte, candidates, "labs.creatinine.unit", analyte.value_unit)[rows]
    in_value_unit = number * factors
    inside = _inside(analyte, analyte.plausible, in_value_unit)
    no_uln = ~candidates.present("labs.creatinine.uln")[rows]
    return (
        np.isfinite(in_value_unit)
        & inside
        & no_uln
        & ~candidates.present("labs.creatinine.uln_unit")[rows]
    )


def _birth_for_age(on: dt.date, age: int) -> dt.date:
    """The earliest birth date (from the earliest a record takes) of someone ``age`` on ``on``:
    never after the row's own birth date, which gives that age, so never in the future and
    never after the screening date, as the latest such date (their birthday) could be when the
    screening is planned (a row born last month, screened next week)."""
    from protocol.classification import age_in_completed_years
    from protocol.inputs import EARLIEST_DATE

    year = on.year - age - 1
    try:
        older = on.replace(year=year)  # their age + 1 birthday
    except ValueError:  # 29 February in a year without one
        older = dt.date(year, 2, 28)
    birth = max(older, EARLIEST_DATE - dt.timedelta(days=1))
    # the day after, and on while a 29 February birthday makes it that age + 1 (PI09)
    birth += dt.timedelta(days=1)
    while age_in_completed_years(birth, on) > age:
        birth += dt.timedelta(days=1)
    return birth


def _as_found(cell: Any, path: str = "") -> str:
    """A refused cell's value as the table gives it: 900, not 900.0 (a CSV number is read as a
    double); empty where the problem names no one cell."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e16:
        cell = int(cell)  # (a larger double keeps its exponent: 1e+308, not 309 digits)
        text = shown_value(cell, path)
        return text if text.startswith("(withheld") else str(cell)
    return shown_value(cell, path)


def _scatter(candidates: Candidates, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    column = candidates.column("dates.birth").copy()
    column[rows] = values
    return column


def _combine_columns(
    parts: list[tuple[np.ndarray, Reasons, np.ndarray]],
) -> tuple[np.ndarray, Reasons, np.ndarray]:
    """``screen``'s combination of parts, row by row: fail if any fails, else unknown if any is
    unknown, else pass; the reason joins the deciding parts' (built when asked for); missing
    joins every part's."""
    statuses = np.stack([p[0] for p in parts])
    fail = (statuses == FAIL).any(axis=0)
    unknown = (statuses == UNKNOWN).any(axis=0)
    status = np.where(fail, FAIL, np.where(unknown, UNKNOWN, PASS)).astype(np.int8)
    n = statuses.shape[1]
    missing = np.empty(n, dtype=object)
    missing.fill(())  # one empty tuple for every row, set in C
    for part in parts:  # object arrays of tuples add element-wise in C
        missing = missing + part[2]

    def build(positions: np.ndarray) -> CodedTexts:
        shown = statuses[:, positions] == status[positions]  # the deciding parts
        return CodedTexts(*joined_texts([part[1] for part in parts], shown, positions))

    return status, Reasons(n, build), missing


def joined_texts(
    reasons: list[Reasons],
    shown: np.ndarray,
    rows: np.ndarray,
    labels: list[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Each of ``rows`` (table positions) with the reasons ``shown`` for it (``shown`` is one
    line per reason column, one column per row) joined by "; ", each reason after its label
    ("EX24: ...") where labels are given. Each column's texts are numbered over the rows that
    show it; rows with the same numbers share one joined text, built once. Returns each row's
    code and each code's text."""
    size = len(rows)
    if not size:
        return np.zeros(0, dtype=np.int64), []
    codes = np.full((len(reasons), size), -1, dtype=np.int64)
    tables: list[list[str]] = []
    for k, reason in enumerate(reasons):
        chosen = np.flatnonzero(shown[k])
        table: list[str] = []
        if len(chosen):
            found, distinct = reason.coded(rows[chosen])
            codes[k, chosen] = found
            label = "" if labels is None else f"{labels[k]}: "
            table = [label + text for text in distinct]
        tables.append(table)
    group, count, (groups_at, reasons_at, texts_at) = grouped_by_codes(codes)
    # the coded lines come group by group: each group's texts are one slice of them
    texts = [tables[k][c] for k, c in zip(reasons_at.tolist(), texts_at.tolist(), strict=True)]
    bounds = np.searchsorted(groups_at, np.arange(count + 1)).tolist()
    return group, ["; ".join(texts[bounds[g] : bounds[g + 1]]) for g in range(count)]


def grouped_by_codes(
    codes: np.ndarray,
) -> tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Rows (the columns of ``codes``, one line per coded column, -1 for none) grouped by their
    codes: each row's group (numbered in order of first appearance), how many groups, and every
    group's coded lines as (group, line, code), groups in order and each group's lines in
    order. The codes are hashed as one run of bytes per row, in the narrowest integers that
    hold them."""
    lines, size = codes.shape
    if not size or not lines:  # no row, or rows with no code: one group at most, nothing coded
        nothing = np.zeros(0, dtype=np.int64)
        return np.zeros(size, dtype=np.int64), min(size, 1), (nothing, nothing, nothing)
    highest = int(codes.max())
    narrow = np.int16 if highest < 2**15 else np.int32 if highest < 2**31 else np.int64
    by_row = np.ascontiguousarray(codes.T, dtype=narrow)
    keys = by_row.view(np.dtype((np.void, lines * by_row.itemsize))).ravel()
    group, _ = pd.factorize(keys)
    first = first_rows(group)
    firsts = by_row[first]  # each group's codes, in one pass
    groups_at, lines_at = np.nonzero(firsts >= 0)
    return group, len(first), (groups_at, lines_at, firsts[groups_at, lines_at].astype(np.int64))
