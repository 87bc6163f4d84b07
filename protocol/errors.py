"""Errors written for people: the file, the field, the value and what was expected."""

from __future__ import annotations


class ProtocolDataError(ValueError):
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


class RegistryMismatchError(ProtocolDataError):
    """study.yaml says something the stored registry record does not."""
