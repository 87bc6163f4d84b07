"""Errors written for people: the file, the field, the value and what was expected.

One hierarchy, rooted in ``ProtocolError`` (a ``ValueError``, as pypa/packaging's ``Invalid…``
errors are):

- ``InputError``: a value a person typed that cannot be read (a lab value, a unit);
- ``ProtocolDataError``: a file (study.yaml, a participant record, an input or output file) that
  is not what it must be, with one line per problem;
- ``InternalError``: a bug, never a verdict.

The command maps the first two to exit 2 and the last to exit 4. Every error pickles, so it can
cross a process boundary (a parallel pre-screening run) with its fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any


class ProtocolError(ValueError):
    """The root of the book's errors."""


class InputError(ProtocolError):
    """A value a person typed that cannot be read; the message says why."""


class InternalError(ProtocolError):
    """A state the rules should never reach: a bug to report, not a verdict."""


#: What would break a problem's one line (str.splitlines' boundaries): shown escaped, as \\n.
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


#: The most of a value a problem's line shows (a whole document's text would be thousands).
_LONGEST_FOUND = 200


class Problem(str):
    """One problem with a file, as a record: the field's ``path`` (dotted, with list indexes,
    e.g. ``arms[0].interventions``), the ``line`` where known, the value ``found`` and what was
    ``expected``. Rendered to one line of text only when shown.

    A ``str`` (its rendered line), so that whatever prints or searches a problem keeps working,
    while tests and programs match its fields.

    >>> problem = Problem("a date (YYYY-MM-DD)", path="dates.birth", found="'1978-02-30'", line=3)
    >>> str(problem)
    "dates.birth (line 3) = '1978-02-30': a date (YYYY-MM-DD)"
    >>> problem.path, problem.line, problem.found
    ('dates.birth', 3, "'1978-02-30'")
    >>> str(Problem("is larger than 1000000 bytes"))
    'is larger than 1000000 bytes'

    A line break in a field (a column named with one) is shown escaped: one problem, one line.

    >>> print(Problem("no such column", path="columns.a\\nb"))
    columns.a\\nb: no such column
    """

    path: str
    found: str | None
    expected: str
    line: int | None

    def __new__(
        cls,
        expected: str,
        path: str = "",
        found: str | None = None,
        line: int | None = None,
        text: str | None = None,
    ) -> Problem:
        """``text``, when given, is the line shown in place of the standard rendering (a
        sentence that reads better whole), the fields staying what a program matches."""
        where = f"{path} (line {line})" if path and line is not None else path
        if line is not None and not path:
            where = f"line {line}"
        if found is not None and len(found) > _LONGEST_FOUND:  # one line a person can read
            found = found[: _LONGEST_FOUND - 1] + "…"
        shown = f"{where} = {found}" if found is not None and where else (found or where)
        line_text = text or (f"{shown}: {expected}" if shown else expected)
        self = super().__new__(cls, _LINE_BREAK.sub(_escaped, line_text))
        self.path, self.found, self.expected, self.line = path, found, expected, line
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.expected, self.path, self.found, self.line, str(self))

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "found": self.found,
            "expected": self.expected,
        }


def as_problem(problem: str) -> Problem:
    """A problem record; a line written as text becomes one whose ``expected`` is the line."""
    return problem if isinstance(problem, Problem) else Problem(str(problem))


class ProtocolDataError(ProtocolError):
    """A data file (study.yaml, a participant record, an input file) is not what it must be.

    ``problems`` holds every problem found (they travel together: a file with three mistakes
    reports three), each a ``Problem`` record.
    """

    def __init__(self, source: str, problems: Sequence[str]):
        self.source = source
        self.problems: list[Problem] = [as_problem(problem) for problem in problems]
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} {noun}:\n{lines}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.source, self.problems)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "problems": [p.to_json() for p in self.problems]}


class RegistryMismatchError(ProtocolDataError):
    """study.yaml says something the stored registry record does not."""


class LabInputError(InputError):
    """A lab value, unit or companion input that cannot be checked; the message says why.

    ``field`` is the participant record's field it concerns (``value``, ``unit``, ``uln``,
    ``uln_unit``), when it concerns one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (str(self), self.field)
