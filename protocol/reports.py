"""The screening report as people read it: text for the screening file, markdown for a page.

Kept apart from the rules (protocol.screening), as OHDSI circe keeps its print-friendly renderer
apart from its model: the result is data, and these functions only render it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.display import show_missing

if TYPE_CHECKING:
    from protocol.participant import ParticipantRecord
    from protocol.screening import ScreeningResult

VERDICT_TEXT = {
    "eligible": "ELIGIBLE: all {count} criteria pass",
    "not_eligible": "NOT ELIGIBLE: at least one criterion fails",
    "incomplete": "INCOMPLETE: no criterion fails, but some cannot be decided yet",
}


def verdict_text(result: ScreeningResult) -> str:
    """The verdict in words, with the number of criteria the study has (37 in the record)."""
    if result.rescreening and not any(c.status == "fail" for c in result.criteria):
        return f"NOT ELIGIBLE on this screening: {result.rescreening}"
    text = VERDICT_TEXT[result.verdict].format(count=len(result.criteria))
    return text.replace("all 1 criteria pass", "its one criterion passes")


def format_text(result: ScreeningResult, record: ParticipantRecord | None = None) -> str:
    """The report a coordinator prints for the screening file."""
    lines = [
        f"NCT06375005 screening: participant {result.participant}",
        f"Verdict: {verdict_text(result)}",
    ]
    if record is not None:
        d = record.dates
        lines.append(
            f"Screening {d.screening or '-'}, planned randomization "
            f"{d.planned_randomization or '-'}"
        )
    if result.rescreening and any(c.status == "fail" for c in result.criteria):
        lines.append(f"Also: {result.rescreening}")
    lines.append("")
    for c in result.criteria:
        mark = {"pass": "pass   ", "fail": "FAIL   ", "unknown": "UNKNOWN"}[c.status]
        kind = " [attested]" if c.kind == "attested" else ""
        lines.append(f"{c.id}  {mark}  {c.reason}{kind}")
    if result.missing:
        lines += ["", "Missing (to complete before a verdict):"]
        lines += [f"  - {show_missing(item)}" for item in result.missing]
    failed = [c.id for c in result.criteria if c.status == "fail"]
    if failed:
        lines += ["", f"Failed: {', '.join(failed)}"]
    return "\n".join(lines)


def markdown_cell(text: str) -> str:
    """Text safe in a Markdown table cell or list item: no row split, no HTML, no code span,
    no emphasis or link (a record's medicine named "<script>…" or "[x](http://…)" is shown as
    written, never made active)."""
    text = text.replace("\n", " ")
    for char in ("\\", "|", "`", "*", "_", "[", "]", "<", ">"):
        text = text.replace(char, "\\" + char)
    return text


def format_markdown(result: ScreeningResult) -> str:
    cell = markdown_cell
    lines = [f"**Participant {cell(result.participant)}: {verdict_text(result)}**", ""]
    if result.rescreening and any(c.status == "fail" for c in result.criteria):
        lines += [f"Also: {cell(result.rescreening)}", ""]
    lines += [
        "| ID | Status | Reason | Kind |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c.id} | {c.status} | {cell(c.reason)} | {c.kind} |" for c in result.criteria]
    if result.missing:
        lines += ["", "Missing:", ""] + [f"- {cell(show_missing(item))}" for item in result.missing]
    return "\n".join(lines)
