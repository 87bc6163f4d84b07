"""What every export shares: stable identifiers, canonical bytes, and the facts they carry.

Identifiers are UUID version 5 of the trial's registry number and the object's path in the
export (``usdm/StudyArm/telitacicept_mmf``), so two runs, and two machines, give the same ids and
an edited fact changes only what it touches. No export carries a time of writing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from protocol.study import Study, load_study

#: The namespace of every identifier (a fixed UUID: changing it changes every id).
NAMESPACE = uuid.UUID("6f1c7a52-2f0e-5d0b-9c55-4e6f2a0c3e71")


def stable_id(study: Study, *path: str) -> str:
    """A UUID derived from the registry number and ``path``: the same on every run."""
    key = "/".join((study.identification.nct_id.value, *path))
    return str(uuid.uuid5(NAMESPACE, key))


def json_bytes(data: Any) -> bytes:
    """Canonical JSON: keys sorted, two-space indent, UTF-8, one final newline."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


class ExportError(ValueError):
    """A fact of study.yaml a format cannot carry (a value too long or not ASCII for XPT, a
    code the standard's terminology lacks): bad input, named, never a guess."""


@dataclass(frozen=True)
class Finding:
    """One thing a validator found: which validator, where, and what."""

    validator: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.validator}: {self.where}: {self.message}"


@dataclass
class Export:
    """One format's files (name -> bytes) and what its validators found (nothing when valid)."""

    format: str
    files: dict[str, bytes]
    validators: list[str]
    findings: list[Finding] = field(default_factory=list)
    contents: str = ""  # what the files hold, in a reader's words

    @property
    def valid(self) -> bool:
        return not self.findings


def arm_code(study: Study, arm_id: str) -> str:
    """An arm's short code (SDTM ARMCD, USDM arm name), from study.yaml's trial design."""
    design = study.trial_design
    if design is None or arm_id not in design.arm_codes:
        raise ExportError(f"trial_design.arm_codes has no code for the arm {arm_id!r}")
    return design.arm_codes[arm_id]


def study_or_default(study: Study | None) -> Study:
    return study or load_study()
