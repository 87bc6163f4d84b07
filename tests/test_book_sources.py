"""The book's sources: every chapter is in the table of contents, executed and deterministic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from protocol.m11 import load_m11
from tests.conftest import REPO

TOC = yaml.safe_load((REPO / "_toc.yml").read_text())


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        if "root" in node:
            files.append(node["root"])
        for value in node.values():
            files += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += _toc_files(item)
    return files


TOC_FILES = _toc_files(TOC)
NOTEBOOKS = sorted(REPO.glob("book/**/*.ipynb"))


def _source(entry: str) -> Path:
    for suffix in (".ipynb", ".md"):
        if (REPO / f"{entry}{suffix}").exists():
            return REPO / f"{entry}{suffix}"
    raise AssertionError(f"_toc.yml lists {entry!r} but there is no .ipynb or .md for it")


def test_every_toc_entry_exists():
    for entry in TOC_FILES:
        _source(entry)


def test_every_chapter_file_is_in_the_toc():
    chapters = {str(p.relative_to(REPO).with_suffix("")) for p in REPO.glob("book/**/*.ipynb")}
    chapters |= {str(p.relative_to(REPO).with_suffix("")) for p in REPO.glob("book/**/*.md")}
    assert chapters - set(TOC_FILES) == set()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_chapters_are_committed_executed_and_deterministic(path):
    notebook = json.loads(path.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"])]
    assert code, "a chapter without code cells belongs in a .md file"
    assert all(c.get("execution_count") for c in code), "a code cell was never executed"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "executed out of order or partly"
    assert any(c["outputs"] for c in code), "no stored outputs: nbval would compare nothing"
    for cell in code:
        assert "execution" not in cell.get("metadata", {}), "timing metadata is not deterministic"
        for output in cell["outputs"]:
            assert output["output_type"] != "error", "an error output is stored"
            text = json.dumps(output)
            assert not re.search(r"0x[0-9a-f]{6,}", text), "a memory address in an output"
            assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d", text), "a timestamp in an output"


def test_m11_pages_are_pages_of_the_book():
    for section in load_m11():
        if section.page:
            assert section.page in TOC_FILES, (
                f"M11 {section.number}: {section.page} not in _toc.yml"
            )


def test_the_references_bib_is_generated_from_study_yaml():
    from protocol.references import BIB_PATH, to_bibtex

    assert BIB_PATH.read_text(encoding="utf-8") == to_bibtex(), (
        "book/references.bib is out of date: run `python -m protocol.references`"
    )


def test_reader_chapters_show_results_not_code():
    # a reader page shows what the code computes; the code is for maintainers (in the repository)
    reader = [p for p in TOC_FILES if not p.startswith("book/appendix/traceability")]
    shown = []
    for entry in reader:
        path = REPO / f"{entry}.ipynb"
        if not path.exists():
            continue
        for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] == "code" and not {"remove-input", "remove-cell"} & set(tags):
                shown.append(f"{entry} cell {index}")
    assert shown == []
