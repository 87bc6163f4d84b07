"""What pre-screening gives a site: the worklist, the screening log and the flow diagram.

- **worklist** (CSV and Excel): every candidate, likely eligible first, then those that need
  review by how few items are missing, then those excluded; with the first criterion that
  excludes, every failing one, and what is missing.
- **screening log**: the form sites keep, one line per candidate in table order: a screening
  number, the date, the candidate and its row in the table, the outcome and the reason codes
  (criterion IDs).
- **flow diagram** (SVG): candidates, then excluded by each criterion (counted under the first
  one that excludes them), needs review, likely eligible, as a CONSORT enrolment box.

Outcomes are *pre-screening* outcomes: a likely eligible candidate still needs the full
screening visit, and everything a table cannot say (medicines, events, the investigator's
attestations) is checked there.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import textwrap
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prescreen.columns import fields
from prescreen.engine import (
    FAIL,
    UNKNOWN,
    Evaluation,
    column_patterns,
    criteria_reading,
    egfr_person_fields,
    grouped_by_codes,
    joined_texts,
)
from prescreen.table import Candidates
from protocol.display import MISSING_EITHER

LIKELY_ELIGIBLE = "likely eligible"
NEEDS_REVIEW = "needs review"
EXCLUDED = "excluded"
NOT_SCREENED = "not screened (bad row)"
#: The outcomes in the worklist's order.
OUTCOMES = (LIKELY_ELIGIBLE, NEEDS_REVIEW, EXCLUDED, NOT_SCREENED)
ORDER = {outcome: rank for rank, outcome in enumerate(OUTCOMES)}


def outcomes(evaluation: Evaluation) -> pd.DataFrame:
    """One row per candidate in table order: the outcome and what decides it.

    A criterion a table can never decide (it needs the medicines, events or an attestation) is
    checked at the screening visit; it does not make a candidate "need review" here, and is not
    counted among the missing items.

    The text columns are categorical (pandas' codes over each distinct text): a worklist repeats
    its texts, and the files are written from each distinct text once.
    """
    candidates = evaluation.candidates
    n = len(candidates)
    criteria = list(evaluation.criteria)
    status = np.stack([evaluation.criteria[cid].codes for cid in criteria])
    fail = status == FAIL
    # open: unknown, and a table could give everything it misses (each distinct tuple once)
    open_ = np.zeros_like(fail)
    missing_codes, missing_tables = [], []  # each criterion's missing items, factorized once
    for k, cid in enumerate(criteria):
        # only an unknown criterion's missing items count: numbered by the rule's groups where
        # it ran per group, else factorized
        column = evaluation.criteria[cid]
        if column.missing_groups is not None:
            group_codes, distinct = column.missing_groups
            codes = np.where(status[k] == UNKNOWN, group_codes, -1)
        else:
            unknown = np.flatnonzero(status[k] == UNKNOWN)
            found, distinct = pd.factorize(pd.Series(column.missing[unknown], dtype=object))
            codes = np.full(n, -1, dtype=np.min_scalar_type(-len(distinct) - 1))
            codes[unknown] = found
        verdict = np.array([_open_in_table(tuple(m)) for m in distinct] + [False])
        open_[k] = verdict[codes]  # code -1 (not unknown) takes the appended False
        missing_codes.append(codes)
        missing_tables.append(list(distinct))
    refused = candidates.refused
    excluded = fail.any(axis=0) & ~refused
    review = ~excluded & open_.any(axis=0) & ~refused
    # a cell that could not be read was left out as if empty: a row that passes without it is
    # not likely eligible (the cell may hold what excludes it, or contradicts another), it
    # needs review, and the cell is among what is missing
    unreadable = _unreadable_cells(candidates)
    passing_without = [p for p in unreadable if not excluded[p] and not review[p]]
    review[passing_without] = True
    outcome = np.zeros(n, dtype=np.int8)  # OUTCOMES: likely eligible unless found otherwise
    outcome[review] = OUTCOMES.index(NEEDS_REVIEW)
    outcome[excluded] = OUTCOMES.index(EXCLUDED)
    outcome[refused] = OUTCOMES.index(NOT_SCREENED)
    names = np.array(criteria, dtype=object)
    first_index = fail.argmax(axis=0)
    reason = _Coded.constant(n, "every criterion a table can decide passes")
    for k, cid in enumerate(criteria):  # whole columns: the first failing criterion's reason
        chosen = np.flatnonzero(excluded & (first_index == k))
        if len(chosen):
            found, distinct = evaluation.criteria[cid].reason.coded(chosen)
            reason.put(chosen, found, [f"{cid}: {text}" for text in distinct])
    review_rows = np.flatnonzero(review)
    # "IN05: ...; EX24: ..." for each row that needs review: the reasons of its open criteria
    column_reasons = [evaluation.criteria[cid].reason for cid in criteria]
    reason.put(
        review_rows, *joined_texts(column_reasons, open_[:, review_rows], review_rows, criteria)
    )
    missing_count, missing = _missing_items(
        evaluation, (missing_codes, missing_tables), open_, review
    )
    _add_unreadable(candidates, unreadable, passing_without, review, missing_count, missing, reason)
    _note_unreadable(unreadable, excluded, reason)
    problems_by_row: dict[int, list[str]] = {}
    for problem in candidates.problems:
        problems_by_row.setdefault(problem.row, []).append(str(problem))
    refused_rows = np.flatnonzero(refused)
    shown = ["; ".join(problems_by_row.get(int(row), [])) for row in candidates.rows[refused_rows]]
    reason.put(refused_rows, np.arange(len(shown)), shown)
    columns = {
        "candidate": pd.Series(np.asarray(candidates.ids, dtype=object), dtype=object),
        "row": pd.Series(candidates.rows.astype(int)),
        "outcome": _Coded(outcome, list(OUTCOMES)).series(),
        "first_failing": _Coded.chosen(excluded, first_index, list(criteria)).series(),
        "failing": _Coded.chosen(excluded, *_id_lists(fail, names)).series(),
        "to_review": _to_review(candidates, review, open_, names, unreadable),
        "missing_count": pd.Series(missing_count),
        "missing": missing.series(),
        "reason": reason.series(),
    }
    return pd.DataFrame(columns)


def _unreadable_cells(candidates: Candidates) -> dict[int, list[str]]:
    """The columns of each screened row (by position) whose cell could not be read."""
    position_of: dict[int, int] = {}
    found: dict[int, list[str]] = {}
    for problem in candidates.problems:
        if not problem.column or len(problem.columns) > 1:  # a row's or a contradiction's
            continue
        if not position_of:
            position_of = {int(row): k for k, row in enumerate(candidates.rows)}
        position = position_of.get(problem.row)
        if position is None or candidates.refused[position]:
            continue
        columns = found.setdefault(position, [])
        if problem.column not in columns:
            columns.append(problem.column)
    return found


def _to_review(
    candidates: Candidates,
    review: np.ndarray,
    open_: np.ndarray,
    names: np.ndarray,
    unreadable: dict[int, list[str]],
) -> pd.Series:
    """Each row's criteria to review: its open criteria, as ``screen`` leaves them open on the
    record without the cells that could not be read (a criterion decided without a cell is
    decided whatever the cell holds: IN01 passes on an age whatever a breastfeeding cell says).
    A row that needs review only for such a cell has no open criterion: the criteria that read
    the cell's field are named instead, so the screening log's reason codes and the flow
    diagram have a line for it."""
    coded = _Coded.chosen(review, *_id_lists(open_, names))
    rows = [p for p in unreadable if review[p] and not open_[:, p].any()]
    if rows:
        order = {cid: k for k, cid in enumerate(names)}
        texts = []
        creatinine = candidates.present("labs.creatinine.value")
        sex = candidates.present("sex")  # (an unreadable sex is left out: none is read)
        for position in rows:
            egfr_reads = egfr_person_fields(bool(creatinine[position]), bool(sex[position]))
            reading = set().union(
                *(
                    criteria_reading(candidates.field_of(c), candidates.study, egfr_reads)
                    for c in unreadable[position]
                )
            )
            texts.append(" ".join(sorted(reading & set(order), key=order.__getitem__)))
        coded.put(np.array(rows), np.arange(len(texts)), texts)
    return coded.series()


def _add_unreadable(
    candidates: Candidates,
    unreadable: dict[int, list[str]],
    passing_without: list[int],
    review: np.ndarray,
    missing_count: np.ndarray,
    missing: _Coded,
    reason: _Coded,
) -> None:
    """Each row that needs review with a cell that could not be read: the cell's column among
    what is missing, and the reason saying so (a row that passes without it: its one reason)."""
    rows = [p for p in unreadable if review[p]]
    if not rows:
        return
    passing = set(passing_without)

    def listed_already(column: str, listed: list[str]) -> bool:
        # the column itself, or a group it belongs to ("X to Y (17 columns)")
        parts = candidates.field_of(column).split(".")
        groups = {candidates.column_of(".".join(parts[:k])) for k in range(1, len(parts) + 1)}
        return column in listed or bool(groups.intersection(listed))

    missing_texts, reason_texts = [], []
    for position in rows:
        listed = [c for c in missing.texts[missing.codes[position]].split("; ") if c]
        # the cell is missing too, whether or not the row is open for other items (a sex of
        # "F" beside a missing IgG: two things to fix), unless listed already, alone or in
        # its group
        added = [c for c in unreadable[position] if not listed_already(c, listed)]
        missing_count[position] += len(added)
        missing_texts.append("; ".join(listed + added))
        columns = unreadable[position]
        cells = _cells_not_read(columns)
        if position in passing:
            reason_texts.append(
                f"{cells}; every criterion a table can decide passes with "
                f"{'it' if len(columns) == 1 else 'them'} left out"
            )
        else:
            reason_texts.append(f"{reason.texts[reason.codes[position]]}; {cells}")
    at = np.array(rows)
    missing.put(at, np.arange(len(rows)), missing_texts)
    reason.put(at, np.arange(len(rows)), reason_texts)


def _note_unreadable(
    unreadable: dict[int, list[str]], excluded: np.ndarray, reason: _Coded
) -> None:
    """An excluded row with a cell that could not be read: its reason says so. What excludes it
    was read, and no value of the cell can make it eligible, but the cell may hold what
    contradicts another (a sex of "M" beside breastfeeding), and the site should know."""
    rows = [p for p in unreadable if excluded[p]]
    if rows:
        texts = [f"{reason.texts[reason.codes[p]]}; {_cells_not_read(unreadable[p])}" for p in rows]
        reason.put(np.array(rows), np.arange(len(rows)), texts)


def _cells_not_read(columns: list[str]) -> str:
    return (
        f"the cell in column {columns[0]} could not be read"
        if len(columns) == 1
        else f"the cells in columns {', '.join(columns)} could not be read"
    ) + " (problems.csv gives why)"


class _Coded:
    """A column of texts as each row's code (0, 1, ...) into a list of texts, built piece by
    piece; made a pandas categorical (each distinct text once) at the end."""

    def __init__(self, codes: np.ndarray, texts: list[str]) -> None:
        self.codes = np.asarray(codes, dtype=np.int64)
        self.texts = list(texts)

    @classmethod
    def constant(cls, size: int, text: str) -> _Coded:
        return cls(np.zeros(size, dtype=np.int64), [text])

    @classmethod
    def chosen(cls, chosen: np.ndarray, codes: np.ndarray, texts: list[str]) -> _Coded:
        """``texts[codes]`` where ``chosen``, the empty text elsewhere."""
        return cls(np.where(chosen, codes, len(texts)), [*texts, ""])

    def put(self, rows: np.ndarray, codes: np.ndarray, texts: list[str]) -> None:
        """``rows`` take ``texts[codes]`` (``codes`` over ``rows``)."""
        self.codes[rows] = np.asarray(codes, dtype=np.int64) + len(self.texts)
        self.texts.extend(texts)

    def series(self) -> pd.Series:
        """A categorical column: texts told apart by their words alone (two codes with the same
        words are one category), every category one some row shows."""
        used = np.zeros(len(self.texts), dtype=bool)
        used[self.codes] = True
        kept = np.flatnonzero(used)
        place, distinct = pd.factorize(np.array(self.texts, dtype=object)[kept])
        renumber = np.full(len(self.texts), -1, dtype=np.int64)
        renumber[kept] = place
        categories = pd.Index(distinct, dtype=object)
        return pd.Series(pd.Categorical.from_codes(renumber[self.codes], categories))


def _id_lists(chosen: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each row's chosen criterion IDs as "EX01 EX24": each row's code, and the text of each
    distinct pattern."""
    codes, patterns = column_patterns(chosen)
    return codes, [" ".join(names[p]) for p in patterns]


def _missing_items(
    evaluation: Evaluation,
    missing: tuple[list[np.ndarray], list[list[tuple[str, ...]]]],
    open_: np.ndarray,
    review: np.ndarray,
) -> tuple[np.ndarray, _Coded]:
    """For each row that needs review: how many items are missing, and which, in the table's
    own words (its columns). Rows with the same open criteria missing the same items share one
    answer."""
    n = len(review)
    count = np.zeros(n, dtype=int)
    text = _Coded.constant(n, "")
    rows = np.flatnonzero(review)
    if not len(rows):
        return count, text
    all_codes, tables = missing  # per criterion: each row's code, each code's items
    matrix = np.stack([np.where(open_[k, rows], c[rows], -1) for k, c in enumerate(all_codes)])
    group, groups, (groups_at, criteria_at, codes_at) = grouped_by_codes(matrix)
    # in the table's own words: its column (or the field a column would hold), each distinct
    # missing tuple's once
    table_column_of = evaluation.candidates.column_of

    @functools.cache
    def column_of(item: str) -> str:
        # an item either of two fields completes (an eGFR, or the creatinine it is computed
        # from) names both columns, as screen names both fields
        other = MISSING_EITHER.get(item)
        named = table_column_of(item)
        return f"{named} or {table_column_of(other)}" if other else named

    # each group's open criteria and their codes (a few of the 37 per row): the coded lines
    # come group by group, so each group's are one slice (a group may have none: a row that
    # needs review for a cell it could not read). Each (criterion, code) pair is numbered, so
    # a group is a run of small integers.
    widest = int(codes_at.max()) + 1 if len(codes_at) else 1
    pair_numbers, pair_keys = pd.factorize(criteria_at.astype(np.int64) * widest + codes_at)
    bounds = np.searchsorted(groups_at, np.arange(groups + 1)).tolist()
    numbers = pair_numbers.tolist()
    # only what a table could give is asked of the site (the medications and events lists are
    # the screening visit's); each column once, in the order its first item comes, and the
    # count is of what is shown. Each criterion's missing tuple is prepared once: its items,
    # the columns of those a table holds, and the groups its items belong to.
    pairs = [divmod(int(key), widest) for key in pair_keys]
    items_of = [tables[criterion][code] for criterion, code in pairs]
    columns_of = [tuple(column_of(item) for item in items if in_table(item)) for items in items_of]
    parents_of = [frozenset(_parents(items)) for items in items_of]
    # a tuple holding no item that is a group of another item anywhere (ssc.mrss beside
    # ssc.mrss.areas) cannot make a group's items overlap: its groups take the short way
    every_parent = frozenset().union(*parents_of)
    plain = [every_parent.isdisjoint(items) for items in items_of]
    chain = itertools.chain.from_iterable
    shown = []
    for g in range(groups):
        mine = numbers[bounds[g] : bounds[g + 1]]
        if not all(plain[k] for k in mine):
            parents = frozenset().union(*(parents_of[k] for k in mine))
            if not all(parents.isdisjoint(items_of[k]) for k in mine):  # a group beside its part
                items = list(chain(items_of[k] for k in mine))
                shown.append(
                    list(
                        dict.fromkeys(
                            column_of(item) for item in _narrowest(items) if in_table(item)
                        )
                    )
                )
                continue
        shown.append(list(dict.fromkeys(chain(columns_of[k] for k in mine))))
    counts = [len(columns) for columns in shown]
    # "; " between them: a site's column name may hold spaces ("Date of birth")
    texts = ["; ".join(columns) for columns in shown]
    count[rows] = np.array(counts)[group]
    text.put(rows, group, texts)
    return count, text


def _narrowest(items: list[str]) -> list[str]:
    """The missing items without a group whose part is missing too (``ssc.mrss`` beside
    ``ssc.mrss.areas``): giving the part gives the group, and the list would name the same
    columns twice."""
    parents = _parents(items)
    return [item for item in items if item not in parents]


def _parents(items: Iterable[str]) -> set[str]:
    """Every group an item belongs to (``ssc`` and ``ssc.mrss`` for ``ssc.mrss.areas``)."""
    return {item.rsplit(".", k)[0] for item in items for k in range(1, item.count(".") + 1)}


@functools.cache
def _table_paths() -> frozenset[str]:
    """Every field a table holds and every object that groups some (``labs.egfr``)."""
    found = set()
    for path in fields():
        parts = path.split(".")
        found.update(".".join(parts[: k + 1]) for k in range(len(parts)))
    return frozenset(found)


def in_table(path: str) -> bool:
    """Whether a missing item is something a candidate table can give (a column or a group of
    columns), not a list or an attestation that only the screening visit gives."""
    return path in _table_paths()


def _open_in_table(missing: tuple[str, ...]) -> bool:
    """An unknown criterion needs review when a table could give something it misses (or when
    it names nothing): missing data never makes a candidate likely eligible. One that misses
    only what pre-screening cannot have (the lists, the attestations, the consent date) is
    checked at the screening visit."""
    return not missing or any(in_table(m) for m in missing)


def worklist(table: pd.DataFrame) -> pd.DataFrame:
    """Likely eligible first, then needs review by fewest missing items, then excluded."""
    outcome = table["outcome"]
    if isinstance(outcome.dtype, pd.CategoricalDtype):  # each distinct outcome ranked once
        ranks = np.array([ORDER[o] for o in outcome.cat.categories], dtype=np.int64)
        rank = ranks[outcome.cat.codes.to_numpy()]
    else:
        rank = outcome.map(ORDER).to_numpy(dtype=np.int64)
    # numpy's lexsort sorts by its last key first, and is stable
    order = np.lexsort((table["row"].to_numpy(), table["missing_count"].to_numpy(), rank))
    return table.iloc[order].reset_index(drop=True)


WORKLIST_HEADERS = {
    "candidate": "Candidate",
    "row": "Table row",
    "outcome": "Outcome",
    "first_failing": "First excluding criterion",
    "failing": "All excluding criteria",
    "to_review": "Criteria to review",
    "missing_count": "Missing items",
    "missing": "What is missing",
    "reason": "Reason",
}


def screening_log(table: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """The screening log in table order: number, date, candidate, its row in the table (a row
    whose ID could not be read is found by it), outcome, reason codes."""
    codes = _first_given(table["failing"], table["to_review"])
    return pd.DataFrame(
        {
            "Screening number": _screening_numbers(len(table)),
            # one date for every row: coded, so the files read it once
            "Date": pd.Categorical.from_codes(np.zeros(len(table), dtype=np.int8), [as_of]),
            "Candidate": table["candidate"],
            "Table row": table["row"],
            "Outcome": table["outcome"],
            "Reason codes": codes,
        }
    )


def _first_given(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first`` where it is not empty, else ``second`` (each distinct text once where both
    are categorical)."""
    if isinstance(first.dtype, pd.CategoricalDtype) and isinstance(
        second.dtype, pd.CategoricalDtype
    ):
        own = list(first.cat.categories)
        empty = np.array([text == "" for text in own] + [True])  # code -1: nothing given
        codes = first.cat.codes.to_numpy().astype(np.int64)
        other = second.cat.codes.to_numpy().astype(np.int64)
        chosen = np.where(empty[codes], np.where(other < 0, -1, other + len(own)), codes)
        texts = [*own, *second.cat.categories]
        if (chosen < 0).any():
            chosen = np.where(chosen < 0, len(texts), chosen)
            texts.append("")
        return _Coded(chosen, texts).series()
    return first.where(first.fillna("") != "", second).fillna("")


def _screening_numbers(count: int) -> pd.Series:
    """P00001, P00002, ...: at least five digits (made in Arrow)."""
    digits = pc.utf8_lpad(pa.array(np.arange(1, count + 1)).cast(pa.large_string()), 5, "0")
    numbers = pc.binary_join_element_wise(_text("P"), digits, _text(""))
    return pd.Series(numbers, dtype=pd.ArrowDtype(pa.large_string()))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark (Excel then reads Chinese text correctly); a text
    cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is kept as text.

    Written as Python's csv module writes it (minimal quoting: a field with a comma, a quote or
    a line break is quoted, its quotes doubled; "\n" ends a line), column by column in Arrow's
    compute kernels: quoting, joining fields into lines and lines into the file run in C, not
    once per cell in Python (pandas' writer took 0.3 s for 100,000 rows, row by row)."""
    header = ",".join(_csv_field(str(name), is_text=False) for name in frame.columns)
    if not len(frame) or not len(frame.columns):  # no row, or rows of nothing: no line
        return ("\ufeff" + header + "\n").encode("utf-8")
    columns = [_csv_cells(frame[name]) for name in frame.columns]
    if len(columns) == 1:  # an empty line would be no row at all: the csv module writes ""
        only = columns[0]
        columns = [pc.if_else(pc.equal(pc.utf8_length(only), 0), _text('""'), only)]
    body = _joined(columns, separator=",", end="\n")
    return b"".join((("\ufeff" + header + "\n").encode("utf-8"), body))  # one copy


def _text(literal: str) -> pa.Scalar:
    return pa.scalar(literal, pa.large_string())


def _joined(columns: list[pa.Array], separator: str, end: str, start: str = "") -> memoryview:
    """Each row's fields joined by ``separator`` between ``start`` and ``end``, every row one
    after another, as UTF-8: joined in Arrow and lent from its buffer whole, not copied (the
    view keeps the buffer alive)."""
    # the start and end joined to the first and last fields: the rows are then made in one
    # pass (a second pass over every line copied the whole file again: 600 MB for a sparse
    # table of 200,000 candidates, whose long reasons repeat on every row)
    columns = list(columns)
    if start:
        columns[0] = pc.binary_join_element_wise(_text(start), columns[0], _text(""))
    if end:
        columns[-1] = pc.binary_join_element_wise(columns[-1], _text(end), _text(""))
    lines = pc.binary_join_element_wise(*columns, _text(separator))
    return _buffer_view(lines)


def _buffer_view(texts: pa.Array) -> memoryview:
    """The concatenated UTF-8 of a large-string array with no missing value."""
    _, offsets, data = texts.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)
    return memoryview(data)[ends[texts.offset] : ends[texts.offset + len(texts)]]


def _texts(values: np.ndarray) -> pa.Array:
    """Python strings (None for a missing cell) as Arrow text, a missing cell null."""
    return pa.array(values, type=pa.large_string())


def _text_column(values: pd.Series) -> pa.Array | None:
    """A column of texts (missing cells null) in Arrow, or None when it holds anything else. A
    categorical column of texts stays coded: Arrow's dictionary of its distinct texts."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if pd.api.types.infer_dtype(categories, skipna=False) not in ("string", "empty"):
            return None
        codes = values.cat.codes.to_numpy().astype(np.int32)
        return pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=codes < 0),
            pa.array(categories.to_numpy(dtype=object), type=pa.large_string()),
        )
    if isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype):  # held as text already
        arrow = pa.array(values.array)
        if isinstance(arrow, pa.ChunkedArray):  # a column joined from pieces: one array
            arrow = arrow.combine_chunks()
        if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
            return arrow.cast(pa.large_string())
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    return pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)


def _each_distinct(text: pa.Array, change: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``change`` applied to each distinct text once where the column is coded already (a
    worklist repeats its texts), then spread back to every row; a column of plain text (IDs,
    screening numbers: each its own) is changed as it is, without hashing every text to find
    repeats. A missing cell stays null."""
    if not pa.types.is_dictionary(text.type):
        return change(text)
    return pc.take(change(text.dictionary), text.indices)


def _numbers_as_text(values: pd.Series) -> pa.Array:
    """Whole numbers as their digits (null where missing), as Python writes them."""
    return pa.array(values, from_pandas=True).cast(pa.large_string())


def _csv_cells(values: pd.Series) -> pa.Array:
    """A column's CSV fields: empty for a missing value. A column of texts is quoted in Arrow;
    a column mixing kinds cell by cell (hashing would merge 1, 1.0 and True)."""
    if values.dtype.kind in "iu" and not values.hasnans:  # whole numbers: nothing to quote
        return _numbers_as_text(values)
    text = _text_column(values)
    if text is not None:
        return pc.fill_null(_each_distinct(text, _csv_texts), _text(""))
    missing = values.isna().to_numpy()
    objects = values.to_numpy(dtype=object)
    return _texts(
        np.array(
            [
                "" if gone else _csv_field(str(v), isinstance(v, str))
                for v, gone in zip(objects, missing, strict=True)
            ],
            dtype=object,
        )
    )


def _csv_texts(text: pa.Array) -> pa.Array:
    """Texts as CSV fields: kept as text where a spreadsheet would run them as a formula,
    quoted (their quotes doubled) where they hold a comma, a quote or a line break."""
    # Arrow's if_else copies every text of the column, chosen or not: it runs only where some
    # text is chosen (a column of reasons: about 30 ms of a run saved)
    formula = pc.match_substring_regex(text, _FORMULA_START)
    if pc.any(formula).as_py():
        text = pc.if_else(formula, pc.binary_join_element_wise(_text("'"), text, _text("")), text)
    if not _has_bytes(text, b',"\n\r'):  # nothing to quote
        return text
    to_quote = pc.match_substring_regex(text, _QUOTED.pattern)
    if not pc.any(to_quote).as_py():  # the bytes were in a neighbour of a slice
        return text
    doubled = pc.replace_substring(text, '"', '""')
    quoted = pc.binary_join_element_wise(_text('"'), doubled, _text('"'), _text(""))
    return pc.if_else(to_quote, quoted, text)


_FORMULA = re.compile(r"[=+\-@]")
_FORMULA_START = r"^[=+\-@]"
_QUOTED = re.compile(r'[,"\n\r]')


def _csv_field(text: str, is_text: bool) -> str:
    if is_text and _FORMULA.match(text):  # a spreadsheet would run it: kept as text
        text = "'" + text
    if _QUOTED.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


#: The characters XML 1.0 cannot hold, in Arrow's RE2.
_CONTROL_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"
#: The bytes that begin those characters in UTF-8.
_CONTROL_BYTES = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xEF]


def _has_bytes(text: pa.Array, wanted: Iterable[int]) -> bool:
    """Whether any of the ``wanted`` byte values occurs in a text array's UTF-8 data (its whole
    buffer: a slice's neighbours may add some, never hide one)."""
    return _bytes_found(text, [wanted])[0]


def _bytes_found(text: pa.Array, groups: list[Iterable[int]]) -> list[bool]:
    """For each group of byte values (at most 8), whether any occurs in a text array's UTF-8
    data. The buffer is read a mebibyte at a time with every other byte deleted (bytes'
    translate, in C), and what remains looked up (a bit for each group): a buffer-sized array
    for each byte value, or numpy's lookup (it widens every byte to an 8-byte index), was
    memory the system must hand out anew."""
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        return [True] * len(groups)  # not plain text: any byte may be there
    data = text.buffers()[2]
    if data is None:
        return [False] * len(groups)
    bits = np.zeros(256, dtype=np.uint8)
    for k, group in enumerate(groups):
        bits[list(group)] |= np.uint8(1 << k)
    ordinary = bytes(np.flatnonzero(bits == 0).astype(np.uint8))
    every = (1 << len(groups)) - 1
    found = 0
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        kept = bytes(view[start : start + _CHUNK]).translate(None, ordinary)
        if kept:
            found |= int(np.bitwise_or.reduce(bits[np.frombuffer(kept, dtype=np.uint8)]))
            if found == every:
                break
    return [bool(found >> k & 1) for k in range(len(groups))]


_CHUNK = 1 << 20


#: Rows of the sheet built at a time: its XML is streamed into the zip chunk by chunk, so a
#: million-row worklist never sits in memory as one string.
XLSX_CHUNK = 50_000
#: Data rows on one sheet: Excel's 1,048,576 rows, less the header. A longer worklist goes on
#: to a second sheet ("Worklist 2"), header repeated, rather than lose its last rows.
XLSX_SHEET_ROWS = 1_048_575


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """The frame as an Excel workbook (Office Open XML), built column by column.

    openpyxl took 6.4 s for a 100,000-row worklist, cell by cell; this writes the same sheet
    (header row frozen, column widths, whole numbers as numbers, text in the workbook's table
    of shared strings, each distinct text once, as Excel itself stores it) in a fraction of
    that, its cells escaped and joined in Arrow's kernels. Text is always a string cell, so
    nothing in it can run as a formula. Fixed zip times and no dates make two runs give one
    file. Rows beyond a sheet's ``XLSX_SHEET_ROWS`` continue on the next sheet, named
    "``sheet`` 2", "``sheet`` 3", ...
    """
    header = "".join(_inline_cells(pd.Series([str(c) for c in frame.columns])).to_pylist())
    widths = "".join(
        f'<col min="{k}" max="{k}" width="{min(60, max(10, len(str(c)) + 2))}" customWidth="1"/>'
        for k, c in enumerate(frame.columns, start=1)
    )
    texts = {
        name: _as_text(frame[name]) for name in frame.columns if frame[name].dtype.kind not in "iu"
    }
    # a coded column repeats its texts: they go to the table of shared strings, each once. A
    # column of plain text (the candidates' IDs, each its own) is written in its cells
    # ("inline strings", which Excel reads alike): hashing 100,000 IDs to share none of them
    # was the workbook's largest cost after deflating. One holding text shaped like the
    # workbook's own escape (_x0041_) is shared as before: openpyxl, and so pandas, reads the
    # escape back only from shared strings
    coded = {
        name: text
        for name, text in texts.items()
        if pa.types.is_dictionary(text.type) or _escape_shaped(text)
    }
    inline = {name: _inline_cells(text) for name, text in texts.items() if name not in coded}
    shared, found = _shared_strings(list(coded.values()))
    positions = dict(zip(coded, found, strict=True))  # each coded column's cells in the table
    string_cells = sum(len(t) - t.null_count for t in coded.values())
    rows = len(frame) if len(frame.columns) else 0
    pages = [
        (start, min(start + XLSX_SHEET_ROWS, rows)) for start in range(0, rows, XLSX_SHEET_ROWS)
    ]
    pages = pages or [(0, 0)]
    names = [sheet] + [f"{sheet} {k}" for k in range(2, len(pages) + 1)]
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(k=k) for k in range(1, len(pages) + 1))
        ),
        "_rels/.rels": _ROOT_RELS,
        "docProps/core.xml": _CORE,
        "xl/workbook.xml": _WORKBOOK.format(
            sheets="".join(
                f'<sheet name="{escape(name, quote=True)}" sheetId="{k}" r:id="rId{k}"/>'
                for k, name in enumerate(names, start=1)
            )
        ),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.format(
            sheets="".join(_SHEET_REL.format(k=k) for k in range(1, len(pages) + 1)),
            styles=len(pages) + 1,
            strings=len(pages) + 2,
        ),
        "xl/styles.xml": _STYLES,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, content in parts.items():
            target.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), content)
        with _deflating(target, "xl/sharedStrings.xml") as stream:
            stream.write(
                (
                    f'{_XML}<sst xmlns="{_MAIN}" count="{string_cells}" '
                    f'uniqueCount="{len(shared)}">'
                ).encode()
            )
            if len(shared):
                stream.write(_joined([_xml_texts(shared)], "", start="<si>", end="</si>"))
            stream.write(b"</sst>")
        for number, (first, last) in enumerate(pages, start=1):
            with _deflating(target, f"xl/worksheets/sheet{number}.xml") as stream:
                stream.write(
                    (
                        f'{_XML}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView '
                        'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                        'activePane="bottomLeft" state="frozen"/>'
                        f"</sheetView></sheetViews><cols>{widths}</cols><sheetData>"
                        f"<row>{header}</row>"
                    ).encode()
                )
                for start in range(first, last, XLSX_CHUNK):
                    stop = min(start + XLSX_CHUNK, last)
                    columns = []
                    for name in frame.columns:
                        if name in inline:
                            cells = inline[name].slice(start, stop - start)
                        elif name in positions:
                            cells = _cells(positions[name][start:stop], '<c t="s"><v>')
                        else:
                            numbers = _numbers_as_text(frame[name].iloc[start:stop])
                            cells = _cells(numbers, "<c><v>")
                        columns.append(cells)
                    stream.write(_joined(columns, separator="", start="<row>", end="</row>"))
                stream.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _deflating(target: zipfile.ZipFile, name: str) -> IO[bytes]:
    """A deflated entry of the workbook open for writing, deflated by ISA-L (``isal``: the same
    deflate stream, three times as fast as zlib at level 1 on a worklist's 35 MB of XML, the
    workbook's largest cost, and a little smaller). zipfile keeps its compressor in the
    writer it opens and checks nothing but the stream's end, so the faster one takes its
    place before the first byte; where a Python keeps it elsewhere, zlib deflates as before."""
    from isal import isal_zlib

    stream = target.open(_deflated_entry(name), "w")
    if getattr(stream, "_compressor", None) is not None:
        stream._compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)
    return stream


def _deflated_entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    # the zip's compresslevel reaches only entries named by a string: the sheet (most of the
    # time spent) is deflated at level 1 too, three times faster than the default 6 (Python
    # 3.13 names the attribute compress_level; 3.11 and 3.12 _compresslevel)
    level = "compress_level" if hasattr(entry, "compress_level") else "_compresslevel"
    setattr(entry, level, 1)
    return entry


def _as_text(values: pd.Series) -> pa.Array:
    """A column's cells as text (null where missing): texts as they are, anything else as
    Python writes it."""
    text = _text_column(values)
    if text is None:
        shown = [None if gone else str(v) for v, gone in zip(values, values.isna(), strict=True)]
        text = _texts(np.array(shown, dtype=object))
    return text


def _escape_shaped(text: pa.Array) -> bool:
    """Whether any text holds what reads as the workbook's escape of a character (_xHHHH_)."""
    found = pc.match_substring_regex(text, "_[xX][0-9A-Fa-f]{4}_")
    return bool(pc.any(pc.fill_null(found, False)).as_py())


def _shared_strings(columns: list[pa.Array]) -> tuple[pa.Array, list[pa.Array]]:
    """Every distinct text of the columns once, and each cell's position among them (null
    where the cell is empty): each column's distinct texts found, then those of every column
    together, each in one hashing pass."""
    if not columns:
        return pa.array([], pa.large_string()), []
    encoded = [c if pa.types.is_dictionary(c.type) else c.dictionary_encode() for c in columns]
    together = pa.concat_arrays([e.dictionary for e in encoded]).dictionary_encode()
    positions, start = [], 0
    for e in encoded:
        own = together.indices.slice(start, len(e.dictionary))  # this column's texts' places
        positions.append(pc.take(own, e.indices))
        start += len(e.dictionary)
    return together.dictionary, positions


def _cells(values: pa.Array, start: str) -> pa.Array:
    """``<c ...><v>value</v></c>`` for each value, an empty cell where there is none."""
    text = values.cast(pa.large_string())
    cells = pc.binary_join_element_wise(_text(start), text, _text("</v></c>"), _text(""))
    return pc.fill_null(cells, _text("<c/>"))


def _inline_cells(values: pd.Series | pa.Array) -> pa.Array:
    """Text cells held in the sheet itself (the header row, a column of IDs): an empty cell
    for a missing value."""
    text = values if isinstance(values, pa.Array) else _as_text(values)
    cells = pc.binary_join_element_wise(
        _text('<c t="inlineStr"><is>'), _xml_texts(text), _text("</is></c>"), _text("")
    )
    return pc.fill_null(cells, _text("<c/>"))


def _xml_texts(text: pa.Array) -> pa.Array:
    """``<t>`` elements: XML-escaped, characters XML cannot hold replaced, spaces kept, cut
    to what a spreadsheet cell holds (null stays null)."""
    # only a text of more than half the limit can be over it (Excel counts UTF-16 units)
    long = pc.fill_null(pc.greater(pc.utf8_length(text), EXCEL_CELL_LIMIT // 2), False)
    if pc.any(long).as_py():
        shown = np.array(text.to_pylist(), dtype=object)
        at = np.flatnonzero(long)
        shown[at] = [_fits_a_cell(shown[i]) for i in at]
        text = _texts(shown)
    # text shaped like the workbook's own escape (_x0041_ is "A" to Excel) kept as written:
    # the underscore before every "x" escaped as _x005F_, as ECMA-376 asks (every one, so
    # that two such runs sharing an underscore are both kept; elsewhere it decodes to itself).
    # Each replacement is made only where its bytes are among the texts' at all, looked for
    # once in the text as given: no replacement adds a byte looked for after it (each "&" it
    # writes comes after the "&" pass)
    escapes = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
    underscore, *found, control = _bytes_found(
        text, [b"_", *(raw.encode() for raw, _ in escapes), _CONTROL_BYTES]
    )
    if underscore:
        text = pc.replace_substring(text, "_x", "_x005F_x")
    # a carriage return as a character reference: XML reads a bare one as a line feed
    for (raw, escaped), there in zip(escapes, found, strict=True):
        if there:
            text = pc.replace_substring(text, raw, escaped)
    # characters XML cannot hold: a control character is its own byte in UTF-8, and U+FFFE
    # and U+FFFF begin with the byte EF (so does much else: the exact pattern decides)
    if control:
        text = pc.replace_substring_regex(text, _CONTROL_RE2, "\ufffd")
    return pc.binary_join_element_wise(
        _text('<t xml:space="preserve">'), text, _text("</t>"), _text("")
    )


#: The most characters an Excel cell holds (Excel's specifications and limits).
EXCEL_CELL_LIMIT = 32_767


def _fits_a_cell(text: str) -> str:
    """A text longer than a cell holds, cut with a note saying so (the CSV keeps it whole).
    Excel counts UTF-16 units: a character beyond the Basic Multilingual Plane is two."""
    if len(text) <= EXCEL_CELL_LIMIT // 2 or _utf16_units(text) <= EXCEL_CELL_LIMIT:
        return text
    note = f" … [cut: {len(text):,} characters; the CSV holds them all]"
    kept = text[: EXCEL_CELL_LIMIT - len(note)]
    while _utf16_units(kept) + len(note) > EXCEL_CELL_LIMIT:
        kept = kept[: -max(1, (_utf16_units(kept) + len(note) - EXCEL_CELL_LIMIT) // 2)]
    return kept + note


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}"
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    "</Relationships>"
)
_CORE = (
    _XML + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:creator>trialbook prescreen</dc:creator></cp:coreProperties>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_WORKBOOK = (
    _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">' + "<sheets>{sheets}</sheets></workbook>"
)
_SHEET_REL = (
    f'<Relationship Id="rId{{k}}" Type="{_REL}/worksheet" Target="worksheets/sheet{{k}}.xml"/>'
)
_WORKBOOK_RELS = (
    _XML
    + f'<Relationships xmlns="{_PKG_REL}">'
    + "{sheets}"
    + f'<Relationship Id="rId{{styles}}" Type="{_REL}/styles" Target="styles.xml"/>'
    + f'<Relationship Id="rId{{strings}}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    + "</Relationships>"
)
_STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


# -- the flow diagram -------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    candidates: int
    not_screened: int
    excluded: int
    excluded_by: list[tuple[str, int]]  # (criterion, candidates it excludes first)
    excluded_by_more: int  # excluded by more than one criterion
    needs_review: int
    review_for: list[tuple[str, int]]  # (criterion, candidates it leaves open)
    likely_eligible: int


def flow(table: pd.DataFrame) -> Flow:
    excluded = table[table["outcome"] == EXCLUDED]
    review = table[table["outcome"] == NEEDS_REVIEW]
    first = text_counts(excluded["first_failing"])
    open_for: Counter[str] = Counter()
    for text, count in text_counts(review["to_review"]).items():  # each distinct list once
        open_for.update(dict.fromkeys(text.split(), count))
    failing = text_counts(excluded["failing"])
    by_more = sum(count for text, count in failing.items() if " " in text)
    return Flow(
        candidates=len(table),
        not_screened=int((table["outcome"] == NOT_SCREENED).sum()),
        excluded=len(excluded),
        excluded_by=sorted(first.items(), key=lambda kv: (-kv[1], kv[0])),
        excluded_by_more=int(by_more),
        needs_review=len(review),
        review_for=sorted(open_for.items(), key=lambda kv: (-kv[1], kv[0])),
        likely_eligible=int((table["outcome"] == LIKELY_ELIGIBLE).sum()),
    )


def text_counts(values: pd.Series) -> dict[str, int]:
    """How many rows show each text (a categorical's categories no row shows are left out)."""
    return {str(text): int(count) for text, count in values.value_counts().items() if count}


#: The diagram's type: DejaVu Sans at 13 px. Its lines (words, criterion IDs and counts) average
#: about 0.51 em a character, 0.57 em in bold, and no more than 0.64 and 0.70 em (digits): a
#: line is wrapped at 0.60 and 0.68 em a character, and a test measures every line, for any
#: counts, with the font's own metrics.
_FONT_SIZE = 13
_CHAR_WIDTH = {False: 0.60 * _FONT_SIZE, True: 0.68 * _FONT_SIZE}
_LINE_HEIGHT = 18
_PADDING = 10


def _wrapped(text: str, width: int, bold: bool) -> list[str]:
    """``text`` in lines that fit a box ``width`` pixels wide (between words)."""
    characters = max(8, int((width - 2 * _PADDING) / _CHAR_WIDTH[bold]))
    return textwrap.wrap(text, characters, break_long_words=False) or [""]


def flow_svg(result: Flow, title: str = "Pre-screening of the candidate list") -> str:
    """The flow as an SVG in the style of a CONSORT enrolment box: a main column (candidates,
    screened, not excluded, likely eligible) with arrows down it, and each branch (not
    screened, excluded, needs review) a box to its right, reached by an arrow from the main
    box it leaves. Text only (no script, no external reference); every line wrapped to fit its
    box; counts with thousands separators."""
    width = 800
    main_x, main_w, side_x, side_w = 20, 370, 420, 360
    gap = 34
    lines: list[str] = []

    def box(x: int, top: int, w: int, heading: str, body: Iterable[str] = ()) -> int:
        """A box of a bold heading and its body lines, each wrapped; its bottom."""
        rows = [(part, True) for part in _wrapped(heading, w, True)]
        for text in body:
            rows += [(part, False) for part in _wrapped(text, w, False)]
        height = 14 + _LINE_HEIGHT * len(rows)
        lines.append(
            f'<rect x="{x}" y="{top}" width="{w}" height="{height}" rx="4" '
            f'fill="#ffffff" stroke="#1f2937" stroke-width="1.2"/>'
        )
        for k, (text, bold) in enumerate(rows):
            weight = ' font-weight="bold"' if bold else ""
            lines.append(
                f'<text x="{x + _PADDING}" y="{top + 22 + _LINE_HEIGHT * k}"{weight}>'
                f"{escape(text)}</text>"
            )
        return top + height

    def arrow(x1: int, y1: int, x2: int, y2: int) -> None:
        lines.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#1f2937" '
            f'stroke-width="1.2" marker-end="url(#arrow)"/>'
        )

    def step(
        top: int, heading: str, body: list[str], branch: tuple[str, list[str]] | None
    ) -> tuple[int, int]:
        """A main box at ``top`` and, where given, its branch to the right reached by an
        arrow: the main box's bottom, and where the next step may start."""
        bottom = box(main_x, top, main_w, heading, body)
        lowest = bottom
        if branch is not None:
            lowest = max(lowest, box(side_x, top, side_w, *branch))
            arrow(main_x + main_w, top + 16, side_x, top + 16)
        return bottom, lowest + gap

    screened = result.candidates - result.not_screened
    not_screened = (
        (
            f"Not screened (n = {result.not_screened:,})",
            # a cell that cannot be read, or whose value the rules refuse, is only missing (its
            # row is screened without it)
            [
                "rows without a usable ID or screening date, of another length than the "
                "header, whose cells contradict each other, or with a lab value and no unit "
                "(see problems.csv)"
            ],
        )
        if result.not_screened
        else None
    )
    excluded_body = [f"{cid}: {count:,}" for cid, count in result.excluded_by[:12]]
    if len(result.excluded_by) > 12:
        rest = sum(count for _, count in result.excluded_by[12:])
        excluded_body.append(f"other criteria: {rest:,}")
    excluded_body.append(
        f"(each under its first excluding criterion; {result.excluded_by_more:,} excluded by "
        "more than one)"
    )
    review_body = [f"{cid} open: {count:,}" for cid, count in result.review_for[:8]]
    if len(result.review_for) > 8:
        review_body.append(f"and {len(result.review_for) - 8} more criteria open")
    steps = [
        (f"Candidates in the table (n = {result.candidates:,})", [], not_screened),
        (
            f"Screened (n = {screened:,})",
            ["against every criterion the table can decide"],
            (f"Excluded (n = {result.excluded:,})", excluded_body),
        ),
        (
            f"Not excluded (n = {screened - result.excluded:,})",
            [],
            (f"Needs review (n = {result.needs_review:,})", review_body),
        ),
    ]
    top = 20
    centre = main_x + main_w // 2
    for heading, body, branch in steps:  # each main box, an arrow down to the next
        bottom, top = step(top, heading, body, branch)
        arrow(centre, bottom, centre, top)
    bottom = box(
        main_x,
        top,
        main_w,
        f"Likely eligible (n = {result.likely_eligible:,})",
        ["to be confirmed at the screening visit"],
    )
    height = bottom + 20
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="DejaVu Sans, sans-serif" '
        f'font-size="{_FONT_SIZE}" fill="#111827">\n<title>{escape(title)}</title>\n'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#1f2937"/></marker></defs>\n'
    )
    return head + "\n".join(lines) + "\n</svg>\n"


# -- writing ----------------------------------------------------------------------------------

OUTPUT_FILES = (
    "worklist.csv",
    "worklist.xlsx",
    "screening-log.csv",
    "flow.svg",
    "problems.csv",
)


def rendered(evaluation: Evaluation, table: pd.DataFrame | None = None) -> dict[str, bytes]:
    """Every output file's bytes, built before anything is written (from ``table``, the
    evaluation's outcomes, when they are found already)."""
    table = outcomes(evaluation) if table is None else table
    # the texts held as Python objects (the IDs) in Arrow once, for the worklist and the log
    texts = _as_arrow_text(table)
    ranked = worklist(texts).rename(columns=WORKLIST_HEADERS)
    as_of = evaluation.as_of.isoformat()
    problems = pd.DataFrame(
        [
            {"Row": p.row, "Column": p.column, "Found": p.found, "Expected": p.expected}
            for p in evaluation.candidates.problems
        ],
        columns=["Row", "Column", "Found", "Expected"],
    )
    # the workbook beside the rest: its deflating and Arrow's kernels release the GIL, so a
    # second core shortens the run (each file is still built from the same frames alone)
    with ThreadPoolExecutor(max_workers=1) as beside:
        workbook = beside.submit(xlsx_bytes, ranked, "Worklist")
        files = {
            "worklist.csv": csv_bytes(ranked),
            "screening-log.csv": csv_bytes(screening_log(texts, as_of)),
            "flow.svg": flow_svg(flow(table)).encode("utf-8"),
            "problems.csv": csv_bytes(problems),
        }
        files["worklist.xlsx"] = workbook.result()
    return {name: files[name] for name in OUTPUT_FILES}


def _as_arrow_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its columns of texts in Arrow, converted once for every file."""
    converted = {}
    for name in frame.columns:
        text = _text_column(frame[name]) if frame[name].dtype == object else None
        if text is not None:
            converted[name] = pd.Series(text, dtype=pd.ArrowDtype(pa.large_string()))
    return frame.assign(**converted) if converted else frame


def write_outputs(
    files: dict[str, bytes],
    folder: Path | str,
    force: bool = False,
    inputs: Iterable[Path | str | None] = (),
) -> list[Path]:
    """Every file checked first (none replaced without ``force``), then each written atomically.
    An output that is one of the run's ``inputs`` (the table, the mapping, the study) is refused
    whatever ``force`` says: a worklist written over the candidate list would lose it."""
    from dosing.calendar import check_targets, refuse_links_in_folder, write_targets

    folder = Path(folder)
    targets = check_targets([(name, folder / name) for name in files], force, inputs)
    refuse_links_in_folder(folder, files)
    return write_targets([(target, files[target.option]) for target in targets])
