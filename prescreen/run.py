"""One pre-screening run: read, check, evaluate, render (what `trialbook prescreen` does)."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prescreen.columns import Mapping, load_mapping, template_columns
from prescreen.engine import Evaluation, evaluate
from prescreen.outputs import outcomes, rendered, text_counts
from prescreen.table import (
    Candidates,
    CellProblem,
    read_candidates,
    read_table,
    refuse_identifiers,
)
from protocol.errors import Problem, ProtocolDataError
from protocol.study import Study


@dataclass
class Run:
    evaluation: Evaluation
    files: dict[str, bytes]  # the outputs, rendered, not yet written
    table: pd.DataFrame  # each candidate's outcome, in table order

    @property
    def counts(self) -> dict[str, int]:
        return text_counts(self.table["outcome"])


def prescreen(
    table_path: Path | str,
    mapping_path: Path | str | None = None,
    as_of: dt.date | None = None,
    study: Study | None = None,
    progress: Callable[[str], None] | None = None,
) -> Run:
    """Pre-screen a candidate table. Raises ProtocolDataError (exit 2) when nothing can be
    processed: an unreadable table or mapping, a column that identifies a person, an unknown
    column, no ID column, an empty table, or no row that can be screened."""
    # numpy's floating-point warnings off: whole columns are computed, values the rules
    # refuse included (a creatinine of 0 divides by zero in the eGFR), and only the rows the
    # masks find clear are taken; the rules decide the rest
    with _no_cycle_collection(), _system_allocator(), np.errstate(all="ignore"):
        return _prescreen(table_path, mapping_path, as_of, study, progress)


@contextlib.contextmanager
def _system_allocator() -> Iterator[None]:
    """Arrow's buffers from the C library's allocator for the run, the previous pool restored
    after it: a run allocates and frees each column's buffers once, which the system allocator
    serves from memory it has just freed, where Arrow's default (mimalloc) maps fresh pages
    (a 100,000-row table: about 0.05 s faster, and 50 MB less at its peak)."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused for the run: a table's millions of cells are objects it
    would walk again and again (about 0.1 s of every 100,000 candidates) though the run makes
    no cycles worth collecting; it resumes, as it was, when the run ends or fails."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _prescreen(
    table_path: Path | str,
    mapping_path: Path | str | None,
    as_of: dt.date | None,
    study: Study | None,
    progress: Callable[[str], None] | None,
) -> Run:
    as_of = as_of or dt.date.today()
    if study is not None:  # an amendment the rules cannot carry out is refused (exit 2)
        from protocol.screening import refuse_rules_cannot_apply

        refuse_rules_cannot_apply(study)
    mapping = load_mapping(mapping_path) if mapping_path else Mapping()
    if mapping_path:
        _check_units(mapping, str(mapping_path), study)
    frame = read_table(table_path)
    source = str(table_path)
    refuse_identifiers(frame, source, mapping)  # before any cell is read
    candidates = read_candidates(
        frame, mapping, source, as_of, str(mapping_path) if mapping_path else None
    )
    if bool(np.all(candidates.refused)):
        _nothing_to_screen(source, candidates)
    evaluation = evaluate(candidates, study, as_of, progress)
    if bool(np.all(candidates.refused)):  # every row has a value the rules refuse
        _nothing_to_screen(source, candidates)
    table = outcomes(evaluation)
    return Run(evaluation, rendered(evaluation, table), table)


def _nothing_to_screen(source: str, candidates: Candidates) -> None:
    """No row can be screened: said with its reasons, one line each (one line in all where
    one problem is the reason; an ID on two rows, which names both rows, is said once)."""

    def key(problem: CellProblem) -> tuple[object, ...]:
        # a problem that names its rows itself (an ID on rows 2 and 3) once; any other once
        # for each row, or the rows after the first would go unnamed
        names_rows = re.search(rf"\brows [0-9, and]*\b{problem.row}\b", problem.expected)
        if names_rows:  # however each row spells it (SYN-01, syn-01)
            return (problem.column, problem.expected)
        return (problem.row, problem.column, problem.found, problem.expected)

    distinct = list({key(p): p for p in reversed(candidates.problems)}.values())[::-1]
    if len(distinct) == 1:
        raise ProtocolDataError(source, [Problem(f"no row can be screened: {distinct[0]}")])
    shown = [Problem(str(p)) for p in distinct[:20]]
    more = len(distinct) - len(shown)
    if more > 0:
        shown.append(Problem(f"and {more} more problem(s)"))
    heading = Problem(f"no row can be screened, for these {len(distinct)} problems")
    raise ProtocolDataError(source, [heading, *shown])


def _check_units(mapping: Mapping, source: str, study: Study | None) -> None:
    """A unit the mapping gives is read as `trialbook lab` reads it, once, before any row."""
    from protocol.documents import refused_as_said, shown_back
    from protocol.labs import LabInputError, get_analyte, read_analyte_unit, uln_analytes

    problems = []
    for column, target in mapping.columns.items():
        name = target.field.removeprefix("labs.").removesuffix(".value")
        for key in ("unit", "uln_unit"):
            given = getattr(target, key)
            if given is None:
                continue
            if key == "uln_unit":
                try:
                    has_uln = get_analyte(name, study).relative_to_uln
                except KeyError:  # not a lab: refused with the unit below
                    has_uln = True
                if not has_uln:
                    problems.append(
                        Problem(
                            "no ULN unit: an upper limit of normal applies only to "
                            + uln_analytes(study),
                            path=f"columns.{column}.{key}",
                            found=shown_back(given, unit=True),
                        )
                    )
                    continue
            try:
                read_analyte_unit(get_analyte(name, study), given)
            except (LabInputError, KeyError, ValueError) as exc:
                said, found = refused_as_said(str(exc), given, unit=True)
                problems.append(Problem(said, path=f"columns.{column}.{key}", found=found))
    if problems:
        raise ProtocolDataError(source, problems)


def template_csv() -> bytes:
    """An empty candidate table: the header line with every column."""
    return (",".join(template_columns()) + "\n").encode("utf-8")
