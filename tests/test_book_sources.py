"""The book's sources: every chapter is in the table of contents, executed and deterministic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from protocol.display import page_title
from protocol.m11 import cited_sections, load_m11, within
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
        for page in section.pages:
            assert page in TOC_FILES, f"M11 {section.number}: {page} not in _toc.yml"


def test_each_page_cites_the_m11_sections_the_coverage_table_gives_it():
    # what a page shows its reader (the italic line under its title, "*ICH M11 sections 5.2
    # (...) and 5.3 (...)*", and its numbered headings) and the coverage appendix agree: a
    # chapter once cited section 1 for the summary of changes, which the coverage table gave as
    # 12.3 on no page
    sections = load_m11()
    for page in TOC_FILES:
        cited = cited_sections(page, REPO)
        mapped = {s.number for s in sections if page in s.pages}
        for number in cited:
            assert any(within(section, number) for section in mapped), (
                f"{page} cites M11 {number}; m11.yaml gives it {sorted(mapped)}"
            )
        for section in mapped:
            assert any(within(section, number) for number in cited), (
                f"m11.yaml gives {page} M11 {section}; the page cites {sorted(cited)}"
            )
        title_number = re.match(r"(\d+) ", page_title(page, REPO))
        if title_number:  # "4 Trial design": a protocol chapter numbered as its M11 section
            assert any(within(title_number.group(1), number) for number in cited), (page, cited)


def test_m11_citations_are_read_as_a_reader_reads_them(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.md").write_text(
        "# 6 A title\n\n*ICH M11 sections 6.1 (description), 6.10 (concomitant\ntherapy, 2\n"
        "weeks) and 12 (appendix).*\n\nLater 5.2 (inclusion) outside the italic line.\n"
    )
    assert cited_sections("book/page", tmp_path) == {"6.1", "6.10", "12"}
    assert page_title("book/page", tmp_path) == "6 A title"
    (tmp_path / "book" / "page.md").write_text("# 4 Design\n\n## 4.1 Described\n### 4.1.2 More\n")
    assert cited_sections("book/page", tmp_path) == {"4.1", "4.1.2"}
    assert within("4", "4.1.2") and within("4.1", "4.1") and not within("4", "41")


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
