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


# The registry's design values as CDISC terms (submission value, code), each checked against the
# terminology shipped in usdm4 (2026-03-27). A value without a term here is refused by name.
INTERVENTION_MODELS = {
    "PARALLEL": ("PARALLEL", "C82639"),
    "CROSSOVER": ("CROSS-OVER", "C82637"),
    "FACTORIAL": ("FACTORIAL", "C82638"),
    "SEQUENTIAL": ("SEQUENTIAL", "C142568"),
    "SINGLE_GROUP": ("SINGLE GROUP", "C82640"),
}
PURPOSES = {
    "TREATMENT": ("TREATMENT", "C49656"),
    "PREVENTION": ("PREVENTION", "C49657"),
    "DIAGNOSTIC": ("DIAGNOSIS", "C49653"),
    "SUPPORTIVE_CARE": ("SUPPORTIVE CARE", "C71486"),
    "SCREENING": ("SCREENING", "C71485"),
    "HEALTH_SERVICES_RESEARCH": ("HEALTH SERVICES RESEARCH", "C15245"),
    "BASIC_SCIENCE": ("BASIC SCIENCE", "C15714"),
    "DEVICE_FEASIBILITY": ("DEVICE FEASIBILITY", "C139174"),
}
MASKINGS = {
    "NONE": ("OPEN LABEL", "C49659"),
    "SINGLE": ("SINGLE BLIND", "C28233"),
    "DOUBLE": ("DOUBLE BLIND", "C15228"),
}
STUDY_TYPES = {
    "INTERVENTIONAL": ("INTERVENTIONAL", "C98388"),
    "OBSERVATIONAL": ("OBSERVATIONAL", "C16084"),
    "EXPANDED_ACCESS": ("EXPANDED ACCESS", "C98722"),
}
PHASES = {
    "EARLY_PHASE1": ("EARLY PHASE I", "C54721"),
    "PHASE1": ("PHASE I TRIAL", "C15600"),
    "PHASE2": ("PHASE II TRIAL", "C15601"),
    "PHASE3": ("PHASE III TRIAL", "C15602"),
    "PHASE4": ("PHASE IV TRIAL", "C15603"),
    "NA": ("NOT APPLICABLE", "C48660"),
}


def cdisc_term(table: dict[str, tuple[str, str]], value: str, field: str) -> tuple[str, str]:
    """The CDISC term (submission value, code) of a registry value, or an ExportError."""
    if value not in table:
        raise ExportError(
            f"{field} {value!r} has no CDISC term in the exports; expected one of "
            f"{', '.join(sorted(table))}"
        )
    return table[value]


def arm_code(study: Study, arm_id: str) -> str:
    """An arm's short code (SDTM ARMCD, USDM arm name), from study.yaml's trial design."""
    design = study.trial_design
    if design is None or arm_id not in design.arm_codes:
        raise ExportError(f"trial_design.arm_codes has no code for the arm {arm_id!r}")
    return design.arm_codes[arm_id]


def study_or_default(study: Study | None) -> Study:
    return study or load_study()
