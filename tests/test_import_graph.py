"""The packages' imports (issue 14 §2): no cycle among modules, and every import points down the
dependency direction of DESIGN.md: protocol at the bottom, dosing on it, the capabilities built on
both (binder, prescreen, exports), and the faces on top (trialbook, the book's Sphinx extension).

Imports are read from the source with ast, lazy (in-function) and typing-only ones included: a
dependency is a dependency wherever it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

#: DESIGN.md: book, trialbook -> prescreen, exports, binder, dosing -> protocol. dosing is ranked
#: below the other capabilities because they use its calendars and dispensing, never the reverse.
RANK = {"protocol": 0, "dosing": 1, "binder": 2, "prescreen": 2, "exports": 2, "trialbook": 3}
PACKAGES = [name for name in RANK if (REPO / name).is_dir()]


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).glob("*.py")):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    found["_ext.book_context"] = REPO / "_ext" / "book_context.py"
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            edges[name] |= {t for t in targets if t in modules and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _rank(module: str) -> int:
    return 4 if module.startswith("_ext") else RANK[module.split(".")[0]]


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_its_way_back_to_itself():
    assert cycles(import_graph()) == []


def test_every_import_points_down_the_dependency_direction():
    against = [
        f"{source} imports {target}"
        for source, targets in import_graph().items()
        for target in sorted(targets)
        if _rank(target) > _rank(source)
    ]
    assert against == []


def test_nothing_imports_the_command_line():
    importers = [
        s
        for s, targets in import_graph().items()
        if any(t.startswith("trialbook") for t in targets) and not s.startswith("trialbook")
    ]
    assert importers == []


def test_the_study_schema_and_the_registry_cross_check_are_separate_steps():
    edges = import_graph()
    assert "protocol.registry_check" not in edges["protocol.study"]
    assert "protocol.washout" not in edges["protocol.participant"]  # entries are the record's
    assert "protocol.reports" not in edges["protocol.screening"]  # rendering is apart
    assert "protocol.documents" in edges["protocol.washout"]  # reads documents directly
