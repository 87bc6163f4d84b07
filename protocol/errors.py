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

from typing import Any


class ProtocolError(ValueError):
    """The root of the book's errors."""


class InputError(ProtocolError):
    """A value a person typed that cannot be read; the message says why."""


class InternalError(ProtocolError):
    """A state the rules should never reach: a bug to report, not a verdict."""


class ProtocolDataError(ProtocolError):
    """A data file (study.yaml, a participant record, an input file) is not what it must be.

    ``problems`` holds one line per problem, each naming the field (as a dotted path with list
    indexes, e.g. ``arms[0].interventions``), the value found and what was expected.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun}:\n{lines}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.source, self.problems)


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
