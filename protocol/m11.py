"""The ICH M11 coverage map (protocol/m11.yaml): which sections the record can fill."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from protocol.display import BOOK_ROOT, page_text
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
    pages: list[str]
    note: str


class M11Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sections: list[M11Section]


def load_m11(path: Path = M11_PATH) -> list[M11Section]:
    data, node = read_yaml(path)
    return validate_document(M11Coverage, data, str(path), node, check_personal_data=False).sections


#: "*ICH M11 section 6.10 (...)" / "*ICH M11 sections 5.2 (...) and 5.3 (...)": the italic line
#: under a chapter's title that cites the sections it shows
_CITATION = re.compile(r"\*ICH M11 sections? ([^*]*)\*")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,2}(?:\.\d{1,2})?)(?= \()")
#: "## 5.3 Exclusion criteria": a protocol chapter's section, numbered as in M11 (not its title)
_NUMBERED_HEADING = re.compile(r"^#{2,6} (\d{1,2}(?:\.\d{1,2})*) ", flags=re.MULTILINE)


def cited_sections(page: str, root: Path = BOOK_ROOT) -> set[str]:
    """The M11 section numbers a page shows its reader: those its italic lines "*ICH M11
    section(s) ...*" cite, and those its numbered headings below the title carry."""
    _, text = page_text(page, root)
    cited = {
        number
        for citation in _CITATION.finditer(text.replace("\n", " "))
        for number in _NUMBER.findall(citation.group(1))
    }
    return cited | set(_NUMBERED_HEADING.findall(text))


def within(section: str, number: str) -> bool:
    """Whether ``number`` is ``section`` or one of its subsections ("4.1" is within "4")."""
    return number == section or number.startswith(f"{section}.")
