"""Rewrite the criteria page's per-criterion cells from study.yaml (step one of `make notebooks`).

Each criterion is a markdown cell (its index entries, permalink target and heading, so it is a
section of the page: in the page contents and what the search deep-links to) and a code cell
that shows its text, check and worked example. Headings in a code cell's output would render as
mere rubrics, so the headings live in markdown cells; tests/test_quick_reference.py fails when
these cells and study.yaml disagree; `make notebooks` then executes the new cells.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from protocol.quick_reference import criterion_heading  # noqa: E402
from protocol.study import load_study  # noqa: E402

NOTEBOOK = ROOT / "book/eligibility/criteria.ipynb"
INCLUSION = "## 5.2 Inclusion criteria"
EXCLUSION = "## 5.3 Exclusion criteria"
CHECK_CELL = 'Markdown(block("'  # each criterion's check cell; the criteria end after the last


def criterion_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells from the inclusion heading to the last criterion's check cell, regenerated."""
    study = load_study()
    inclusion = next(c for c in notebook.cells if c.source.startswith(INCLUSION))
    exclusion = next(c for c in notebook.cells if c.source.startswith(EXCLUSION))
    cells = []
    for criterion in study.criteria:
        if criterion.id == "EX01":
            cells.append(exclusion)
        elif criterion.id == "IN01":
            cells.append(inclusion)
        heading = nbformat.v4.new_markdown_cell(criterion_heading(study, criterion.id))
        heading["id"] = f"{criterion.id.lower()}-heading"  # stable ids: a rerun changes nothing
        code = nbformat.v4.new_code_cell(f'Markdown(block("{criterion.id}"))')
        code["id"] = f"{criterion.id.lower()}-check"
        code.metadata["tags"] = ["remove-input"]
        cells += [heading, code]
    return cells


def main() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    start = next(i for i, c in enumerate(notebook.cells) if c.source.startswith(INCLUSION))
    end = 1 + max(i for i, c in enumerate(notebook.cells) if c.source.startswith(CHECK_CELL))
    notebook.cells[start:end] = criterion_cells(notebook)
    nbformat.write(notebook, NOTEBOOK)
    print(f"{NOTEBOOK.relative_to(ROOT)}: {end - start} cells replaced by the criteria's cells")


if __name__ == "__main__":
    main()
