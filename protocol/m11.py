"""The ICH M11 coverage map (protocol/m11.yaml): which sections the record can fill."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from protocol.documents import read_yaml, validate_document

M11_PATH = Path(__file__).with_name("m11.yaml")

COVERAGE_LABELS = {
    "record": "filled from the record",
    "partial": "partly in the record",
    "none": "not in the record",
}


class M11Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    number: str
    title: str
    coverage: Literal["record", "partial", "none"]
    page: str | None
    note: str


class M11Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sections: list[M11Section]


def load_m11(path: Path = M11_PATH) -> list[M11Section]:
    data, node = read_yaml(path)
    return validate_document(M11Coverage, data, str(path), node, check_personal_data=False).sections
