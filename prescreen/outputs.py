"""What pre-screening gives a site: the worklist, the screening log and the flow diagram.

- **worklist** (CSV and Excel): every candidate, likely eligible first, then those that need
  review by how few items are missing, then those excluded; with the first criterion that
  excludes, every failing one, and what is missing.
- **screening log**: the form sites keep, one line per candidate in table order: a screening
  number, the date, the outcome and the reason codes (criterion IDs).
- **flow diagram** (SVG): candidates, then excluded by each criterion (counted under the first
  one that excludes them), needs review, likely eligible, as a CONSORT enrolment box.

Outcomes are *pre-screening* outcomes: a likely eligible candidate still needs the full
screening visit, and everything a table cannot say (medicines, events, the investigator's
attestations) is checked there.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from prescreen.columns import fields
from prescreen.engine import Evaluation

LIKELY_ELIGIBLE = "likely eligible"
NEEDS_REVIEW = "needs review"
EXCLUDED = "excluded"
NOT_SCREENED = "not screened (bad row)"
ORDER = {LIKELY_ELIGIBLE: 0, NEEDS_REVIEW: 1, EXCLUDED: 2, NOT_SCREENED: 3}


def outcomes(evaluation: Evaluation) -> pd.DataFrame:
    """One row per candidate in table order: the outcome and what decides it.

    A criterion a table can never decide (it needs the medicines, events or an attestation) is
    checked at the screening visit; it does not make a candidate "need review" here, and is not
    counted among the missing items.
    """
    candidates = evaluation.candidates
    n = len(candidates)
    criteria = list(evaluation.criteria)
    status = np.stack([evaluation.criteria[cid].status for cid in criteria])
    fail = status == "fail"
    # open: unknown, and a table could give everything it misses (each distinct tuple once)
    open_ = np.zeros_like(fail)
    for k, cid in enumerate(criteria):
        missing = evaluation.criteria[cid].missing
        codes, distinct = pd.factorize(pd.Series(missing, dtype=object))
        verdict = np.array([_open_in_table(tuple(m)) for m in distinct] + [False])
        open_[k] = (status[k] == "unknown") & verdict[codes]
    refused = candidates.refused
    excluded = fail.any(axis=0) & ~refused
    review = ~excluded & open_.any(axis=0) & ~refused
    outcome = np.full(n, LIKELY_ELIGIBLE, dtype=object)
    outcome[review] = NEEDS_REVIEW
    outcome[excluded] = EXCLUDED
    outcome[refused] = NOT_SCREENED
    names = np.array(criteria, dtype=object)
    first = np.where(excluded, names[fail.argmax(axis=0)], "")
    failing = np.full(n, "", dtype=object)
    to_review = np.full(n, "", dtype=object)
    missing_count = np.zeros(n, dtype=int)
    missing_text = np.full(n, "", dtype=object)
    reason = np.full(n, "every criterion a table can decide passes", dtype=object)
    for i in np.flatnonzero(excluded):
        ids = names[fail[:, i]]
        failing[i] = " ".join(ids)
        reason[i] = f"{ids[0]}: {evaluation.criteria[ids[0]].reason[i]}"
    for i in np.flatnonzero(review):
        ids = names[open_[:, i]]
        to_review[i] = " ".join(ids)
        missing = list(dict.fromkeys(m for cid in ids for m in evaluation.criteria[cid].missing[i]))
        missing_count[i] = len(missing)
        # in the table's own words: its column (or the field a column would hold)
        missing_text[i] = " ".join(dict.fromkeys(candidates.column_of(m) for m in missing))
        reason[i] = "; ".join(f"{cid}: {evaluation.criteria[cid].reason[i]}" for cid in ids)
    problems_by_row: dict[int, list[str]] = {}
    for problem in candidates.problems:
        problems_by_row.setdefault(problem.row, []).append(str(problem))
    for i in np.flatnonzero(refused):
        reason[i] = "; ".join(problems_by_row.get(int(candidates.rows[i]), []))
    return pd.DataFrame(
        {
            "candidate": np.asarray(candidates.ids, dtype=object),
            "row": candidates.rows.astype(int),
            "outcome": outcome,
            "first_failing": first.astype(object),
            "failing": failing,
            "to_review": to_review,
            "missing_count": missing_count,
            "missing": missing_text,
            "reason": reason,
        }
    )


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
    order = table["outcome"].map(ORDER)
    ranked = table.assign(_order=order).sort_values(
        ["_order", "missing_count", "row"], kind="stable"
    )
    return ranked.drop(columns="_order").reset_index(drop=True)


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
    """The screening log in table order: number, date, candidate, outcome, reason codes."""
    codes = [row.failing or row.to_review or "" for row in table.itertuples(index=False)]
    return pd.DataFrame(
        {
            "Screening number": [f"P{i + 1:05d}" for i in range(len(table))],
            "Date": as_of,
            "Candidate": table["candidate"],
            "Outcome": table["outcome"],
            "Reason codes": codes,
        }
    )


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark (Excel then reads Chinese text correctly); a text
    cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is kept as text."""
    buffer = io.StringIO()
    safe = frame.map(_excel_cell) if len(frame) else frame
    safe.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """The frame as an Excel workbook, with a fixed creation date so two runs give one file."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)  # streamed: a 100,000-row list in seconds, not minutes
    book.properties.created = book.properties.modified = pd.Timestamp("2000-01-01").to_pydatetime()
    book.properties.creator = "trialbook prescreen"
    sheet_ = book.create_sheet(sheet)
    for index, column in enumerate(frame.columns, start=1):
        sheet_.column_dimensions[get_column_letter(index)].width = min(
            60, max(10, len(str(column)) + 2)
        )
    sheet_.freeze_panes = "A2"
    sheet_.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet_.append([_excel_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The workbook's zip entries with one fixed time, so two runs give the same bytes."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    content,
                )
            target.writestr(fixed, content)
    return out.getvalue()


def _excel_cell(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    # text that a spreadsheet would run as a formula is kept as text
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


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
    first = Counter(excluded["first_failing"])
    open_for = Counter(cid for text in review["to_review"] for cid in text.split())
    return Flow(
        candidates=len(table),
        not_screened=int((table["outcome"] == NOT_SCREENED).sum()),
        excluded=len(excluded),
        excluded_by=sorted(first.items(), key=lambda kv: (-kv[1], kv[0])),
        excluded_by_more=int((excluded["failing"].str.count(" ") >= 1).sum()),
        needs_review=len(review),
        review_for=sorted(open_for.items(), key=lambda kv: (-kv[1], kv[0])),
        likely_eligible=int((table["outcome"] == LIKELY_ELIGIBLE).sum()),
    )


def flow_svg(result: Flow, title: str = "Pre-screening of the candidate list") -> str:
    """The flow as an SVG: boxes and arrows, text only (no script, no external reference)."""
    width = 760
    lines: list[str] = []
    y = 20

    def box(x: int, top: int, w: int, texts: list[str], bold_first: bool = True) -> int:
        height = 14 + 18 * len(texts)
        lines.append(
            f'<rect x="{x}" y="{top}" width="{w}" height="{height}" rx="4" '
            f'fill="#ffffff" stroke="#1f2937" stroke-width="1.2"/>'
        )
        for k, text in enumerate(texts):
            weight = ' font-weight="bold"' if bold_first and k == 0 else ""
            lines.append(
                f'<text x="{x + 10}" y="{top + 22 + 18 * k}"{weight}>{escape(text)}</text>'
            )
        return top + height

    def arrow(x1: int, y1: int, x2: int, y2: int) -> None:
        lines.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#1f2937" '
            f'stroke-width="1.2" marker-end="url(#arrow)"/>'
        )

    main_x, main_w, side_x, side_w = 40, 300, 400, 330
    bottom = box(main_x, y, main_w, [f"Candidates in the table (n = {result.candidates})"])
    if result.not_screened:
        side_bottom = box(
            side_x,
            y,
            side_w,
            [
                f"Not screened (n = {result.not_screened})",
                "rows with unreadable or",
                "contradictory cells",
            ],
        )
        arrow(main_x + main_w, y + 16, side_x, y + 16)
        bottom = max(bottom, side_bottom)
    y = bottom + 30
    arrow(main_x + main_w // 2, bottom, main_x + main_w // 2, y)
    excluded_lines = [f"Excluded (n = {result.excluded})"]
    excluded_lines += [f"{cid}: {count}" for cid, count in result.excluded_by[:12]]
    if len(result.excluded_by) > 12:
        rest = sum(count for _, count in result.excluded_by[12:])
        excluded_lines.append(f"other criteria: {rest}")
    excluded_lines.append("(each under its first excluding")
    excluded_lines.append(f"criterion; {result.excluded_by_more} by more than one)")
    screened = result.candidates - result.not_screened
    after = box(main_x, y, main_w, [f"Screened against the criteria (n = {screened})"])
    side_bottom = box(side_x, y, side_w, excluded_lines)
    arrow(main_x + main_w, y + 16, side_x, y + 16)
    y = max(after, side_bottom) + 30
    arrow(main_x + main_w // 2, after, main_x + main_w // 2, y)
    review_lines = [f"Needs review (n = {result.needs_review})"]
    review_lines += [f"{cid} open: {count}" for cid, count in result.review_for[:8]]
    review_bottom = box(side_x, y, side_w, review_lines)
    eligible_bottom = box(
        main_x,
        y,
        main_w,
        [
            f"Likely eligible (n = {result.likely_eligible})",
            "to be confirmed at the screening visit",
        ],
    )
    arrow(main_x + main_w, y + 16, side_x, y + 16)
    height = max(review_bottom, eligible_bottom) + 20
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="DejaVu Sans, sans-serif" '
        f'font-size="13" fill="#111827">\n<title>{escape(title)}</title>\n'
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


def rendered(evaluation: Evaluation) -> dict[str, bytes]:
    """Every output file's bytes, built before anything is written."""
    table = outcomes(evaluation)
    ranked = worklist(table).rename(columns=WORKLIST_HEADERS)
    as_of = evaluation.as_of.isoformat()
    problems = pd.DataFrame(
        [
            {"Row": p.row, "Column": p.column, "Found": p.found, "Expected": p.expected}
            for p in evaluation.candidates.problems
        ],
        columns=["Row", "Column", "Found", "Expected"],
    )
    return {
        "worklist.csv": csv_bytes(ranked),
        "worklist.xlsx": xlsx_bytes(ranked, "Worklist"),
        "screening-log.csv": csv_bytes(screening_log(table, as_of)),
        "flow.svg": flow_svg(flow(table)).encode("utf-8"),
        "problems.csv": csv_bytes(problems),
    }


def write_outputs(files: dict[str, bytes], folder: Path | str, force: bool = False) -> list[Path]:
    """Every file checked first (none replaced without ``force``), then each written atomically."""
    from dosing.calendar import check_targets, write_targets

    folder = Path(folder)
    targets = check_targets([(name, folder / name) for name in files], force)
    return write_targets([(target, files[target.option]) for target in targets])
