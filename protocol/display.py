"""How the chapters show facts: one formatting of values and provenance for every page.

Notebook outputs are compared by nbval, so everything here is deterministic: no dates other than
the study's own, figures as SVG with a fixed hash salt and no creation date.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pint
from pydantic import BaseModel

from protocol.facts import PROVENANCE_LABELS, Fact
from protocol.units import format_quantity, ureg

ASSUMPTION_MARK = "⚠ assumption"


def setup_notebook() -> None:
    """Display settings every chapter starts with (tables in full, deterministic SVG figures)."""
    import matplotlib
    import pandas as pd

    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the book's kernels have IPython
        get_ipython = None  # type: ignore[assignment]
    shell = get_ipython() if get_ipython else None
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, table_html)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.width", 120)
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "NCT06375005",  # stable element ids, so nbval can compare the SVG
            "svg.fonttype": "none",  # text stays text: smaller, searchable, font-independent
            "font.family": "DejaVu Sans",
            "figure.dpi": 100,
        }
    )


def table_html(frame: Any) -> str:
    """A table as readers see it: the index's name in the header row, not in a header row of
    its own that is empty but for it (pandas' default); a multi-level index becomes columns."""
    # headers start where their column's text starts (pandas right-aligns them by default)
    if frame.index.nlevels > 1:
        return mark_chinese(str(frame.reset_index().to_html(index=False, justify="left")))
    if _is_row_number(frame.index):  # 0, 1, 2 … say nothing to a reader
        return mark_chinese(str(frame.to_html(index=False, justify="left")))
    if frame.index.name is not None and frame.columns.name is None:
        frame = frame.rename_axis(index=None, columns=frame.index.name)
    html = str(frame.to_html(justify="left"))
    # a corner with no name is a blank cell, not an empty header a screen reader announces
    head, _, body = html.partition("</thead>")
    return mark_chinese(head.replace("<th></th>", "<td></td>") + "</thead>" + body)


def _is_row_number(index: Any) -> bool:
    import pandas as pd

    return (
        isinstance(index, pd.RangeIndex)
        and index.name is None
        and index.start == 0
        and index.step == 1
    )


# Han characters and the CJK punctuation around them; a run of them is Chinese text.
_CHINESE_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")


def mark_chinese(html: str) -> str:
    """Each run of Chinese in escaped table HTML marked ``lang="zh-Hans"``, so screen readers
    and the CJK font stack treat it as Chinese."""
    return _CHINESE_RUN.sub(lambda run: f'<span lang="zh-Hans">{run.group()}</span>', html)


def show_figure(figure: Any) -> None:
    """Display a matplotlib Figure once, as SVG with no creation date (nbval compares it).

    Figures are built as bare ``matplotlib.figure.Figure`` objects and shown only here, so the
    inline backend never shows one twice (nbval's kernel set-up registers it again).
    """
    import io

    from IPython.display import SVG, display

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    display(SVG(buffer.getvalue()))


_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times"}
# registry and CDISC codes too short for the rule below to tell from an abbreviation
_CODE_WORDS = {
    "NONE": "none",
    "NA": "not applicable",
    "ORAL": "Oral",
    "ALL": "All",
    "DRUG": "Drug",
    "OTHER": "Other",
}


def show_frequency(frequency: pint.Quantity) -> str:
    """A frequency as a prescription says it.

    >>> from protocol.units import ureg
    >>> show_frequency(ureg.Quantity("1/week")), show_frequency(ureg.Quantity("2/day"))
    ('once weekly', 'twice daily')
    """
    for unit, adverb in (("day", "daily"), ("week", "weekly")):
        count = frequency.to(f"1/{unit}").magnitude
        if abs(count - round(count)) < 1e-9 and round(count) in _TIMES:
            return f"{_TIMES[round(count)]} {adverb}"
    per_week = frequency.to("1/week").magnitude
    return f"{per_week:g} times a week"


def show_code(code: str) -> str:
    """A registry or CDISC code in words; an abbreviation stays as it is.

    >>> [show_code(c) for c in ("ACTIVE_COMPARATOR", "EVERY WEEK", "PHASE2", "BID", "DRUG")]
    ['Active comparator', 'Every week', 'Phase 2', 'BID', 'Drug']
    """
    if code in _CODE_WORDS:
        return _CODE_WORDS[code]
    if code.startswith("PHASE") and code[5:].isdigit():
        return f"Phase {code[5:]}"
    letters = code.replace("_", "").replace(" ", "")
    one_word = letters == code
    # an abbreviation (HIV, IVIG, DLCO) is one short word in capitals: it stays as it is
    if not (letters.isalpha() and letters.isupper()) or (one_word and len(code) < 6):
        return code
    words = code.replace("_", " ").lower()
    return words[:1].upper() + words[1:]


def show_value(value: Any) -> str:
    """A fact's value as the book prints it."""
    if isinstance(value, pint.Quantity):
        if value.dimensionality == ureg.get_dimensionality("1/[time]"):
            return show_frequency(value)
        return format_quantity(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(show_value(v) for v in value)
    if isinstance(value, BaseModel):
        fields = value.model_dump()
        if set(fields) == {"submission_value", "code"}:
            return f"{show_code(fields['submission_value'])} ({fields['code']})"
        return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in fields.items())
    if isinstance(value, str):
        return show_code(value)
    return str(value)


def show_written(value: Any) -> str:
    """A value as study.yaml writes it, in reader words: a duration ``4 week`` as ``4 weeks``.

    >>> show_written("4 week"), show_written("1 month"), show_written("< 8.0 g/dL")
    ('4 weeks', '1 month', '< 8.0 g/dL')
    """
    if isinstance(value, str) and re.fullmatch(r"\d+(?:\.\d+)? (?:day|week|month|year)", value):
        return format_quantity(ureg.Quantity(value))
    return show_value(value)


def show_reading(fact: Fact[Any]) -> str:
    """`` (the book's reading, PI02)`` where a fact's note cites issues-log entries (a window the
    record gives ambiguously), else nothing: a table cell then says the value is a reading.

    >>> from protocol.facts import Fact
    >>> show_reading(Fact(value=1, provenance="assumption", note="The longer window (PI02)."))
    " (the book's reading, PI02)"
    """
    cited = re.findall(r"\bPI[0-9]{2}\b", fact.note or "")
    return f" (the book's reading, {', '.join(dict.fromkeys(cited))})" if cited else ""


def show_fact(fact: Fact[Any]) -> str:
    """The value, marked when it is an assumption (for prose, through glue)."""
    text = show_value(fact.value)
    return f"{text} ({ASSUMPTION_MARK})" if fact.is_assumption else text


def provenance_cell(fact: Fact[Any], study: Any) -> str:
    """Where a fact comes from, for a table's provenance column: the registry field, the
    citation as the text gives it (``product label (CellCept US label)``) or the assumption."""
    if fact.is_assumption:
        return f"{ASSUMPTION_MARK}: {fact.note}"
    if fact.provenance == "registry":
        return f"registry: {registry_field_in_words(fact.registry_field or '')}"
    label = PROVENANCE_LABELS[fact.provenance]
    return f"{label} ({study.references[fact.source].label})" if fact.source else label


#: each field of the registry record under the heading the record shows it with (the stored
#: text's "Blinding Strategy" for designInfo.maskingInfo.masking); a reader never sees the
#: API's field names. Keyed by the field's path without its module and list positions.
_REGISTRY_HEADINGS = {
    "nctId": "NCT ID",
    "orgStudyIdInfo.id": "Other Identifiers (the sponsor's study ID)",
    "briefTitle": "title",
    "officialTitle": "official title",
    "overallStatus": "Recruitment Status",
    "startDateStruct.date": "Study Start Date",
    "completionDateStruct.date": "Study Completion Date",
    "lastUpdatePostDateStruct.date": "Last Updated",
    "briefSummary": "Brief Summary",
    "detailedDescription": "Detailed Description",
    "conditions": "Conditions",
    "studyType": "Study Classification",
    "phases": "Clinical Phase",
    "enrollmentInfo.count": "Total Enrollment",
    "designInfo.allocation": "Study Design, Allocation Method",
    "designInfo.interventionModel": "Study Design, Intervention Model",
    "designInfo.primaryPurpose": "Study Design, Primary Study Purpose",
    "designInfo.maskingInfo.masking": "Study Design, Blinding Strategy",
    "armGroups.label": "Study Groups, group {n}: its name",
    "armGroups.description": "Study Groups, group {n}: its description",
    "armGroups.type": "Study Groups, group {n}: Group Type",
    "armGroups.interventionNames": "Study Groups, group {n}: its interventions",
    "interventions.name": "Interventions, intervention {n}: its name",
    "interventions.description": "Interventions, intervention {n}: its description",
    "interventions.type": "Interventions, intervention {n}: Intervention Type",
    "interventions.otherNames": "Other Intervention Names",
    "eligibilityCriteria": "Eligibility Criteria",
    "minimumAge": "Minimum Eligible Age",
    "maximumAge": "Maximum Eligible Age",
    "sex": "Eligible Sex",
    "healthyVolunteers": "Accepts Healthy Volunteers",
    "leadSponsor.name": "Sponsors",
    "leadSponsor.class": "Sponsors, its class",
    "locations": "Locations",
}


def registry_field_in_words(path: str) -> str:
    """Where the registry record says a fact, as a reader finds it in the record: its heading.

    >>> registry_field_in_words("protocolSection.designModule.designInfo.maskingInfo.masking")
    'Study Design, Blinding Strategy'
    >>> registry_field_in_words("protocolSection.armsInterventionsModule.interventions[1].name")
    'Interventions, intervention 2: its name'

    A field the book has no heading for yet is named by its words ("officialTitle" ->
    "official title"), never by the API's path.
    """
    field = path.split("Module.")[-1]
    positions = [int(n) + 1 for n in re.findall(r"\[(\d+)\]", field)]
    key = re.sub(r"\[\d+\]", "", field)
    heading = _REGISTRY_HEADINGS.get(key)
    if heading is None:
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key.split(".")[-1]).lower()
        return f"{words} ({positions[0]})" if positions else words
    return heading.format(n=positions[0] if positions else 1)


def facts_frame(rows: dict[str, Fact[Any]], study: Any, index_name: str | None = None) -> Any:
    """A table of facts: value and provenance, one row each, in the given order."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "Value": [show_fact(f) for f in rows.values()],
            "Provenance": [provenance_cell(f, study) for f in rows.values()],
        },
        index=pd.Index(list(rows), name=index_name),
    )
    return frame


def glue_facts(facts: dict[str, Fact[Any]]) -> None:
    """Glue each fact's text under its name for the prose ({glue:text}`name`)."""
    from myst_nb import glue

    for name, fact in facts.items():
        glue(name, show_fact(fact), display=False)


VERDICT_WORDS = {"eligible": "eligible", "not_eligible": "not eligible", "incomplete": "incomplete"}


def show_verdict(verdict: str) -> str:
    """``not_eligible`` -> ``not eligible``: the verdict as the screening log writes it."""
    return VERDICT_WORDS[verdict]


#: Words of field names a reader writes as an abbreviation (each in the glossary).
_FIELD_ABBREVIATIONS = {
    "ssc": "SSc",
    "mrss": "mRSS",
    "acr eular": "ACR/EULAR",
    "egfr": "eGFR",
    "wbc": "WBC",
    "alt": "ALT",
    "ast": "AST",
    "uln": "ULN",
    "iga": "IgA",
    "igg": "IgG",
    "fvc": "FVC",
    "dlco": "DLCO",
    "hiv": "HIV",
    "pah": "PAH",
    "ild": "ILD",
}


def show_field(item: str) -> str:
    """A record field named in reader words: ``pregnancy_test.sample`` -> ``pregnancy test ›
    sample``; ``medications[2] (x)`` -> ``medications entry 3 (x)`` (entries count from 1);
    ``labs.alt.uln`` -> ``labs › ALT › ULN``."""

    def entry(match: re.Match[str]) -> str:
        return f"{match.group(1)} entry {int(match.group(2)) + 1}"

    def one(path: str) -> str:
        parts = re.sub(r"(\w+)\[(\d+)\]", entry, path).replace("_", " ").split(".")
        return " › ".join(_FIELD_ABBREVIATIONS.get(part, part) for part in parts)

    # several fields named together ("medications[0], medications[1] (...)"): each in words,
    # never the first counted from 1 and the next from 0
    found = re.match(r"^((?:[\w.\[\]]+, )*[\w.\[\]]+)( .*)?$", item, re.S)
    if found is None:  # no field first: the first word as a field's, the rest as it is
        path, _, rest = item.partition(" ")
        return f"{one(path)} {rest}".rstrip()
    words = ", ".join(one(path) for path in found.group(1).split(", "))
    return f"{words}{found.group(2) or ''}".rstrip()


#: A missing item the record completes with either of two fields: a reported eGFR, or the serum
#: creatinine it is computed from (`Labs`; both at once are refused).
MISSING_EITHER = {"labs.egfr": "labs.creatinine"}


def show_missing(item: str) -> str:
    """A missing item in reader words, with the other field that completes it where there is
    one: ``labs.egfr (EX24)`` -> ``labs › eGFR or labs › creatinine (EX24)``."""
    path, space, rest = item.partition(" ")  # "labs.egfr (EX24)": the field, then its criteria
    other = MISSING_EITHER.get(path)
    if other is None:
        return show_field(item)
    return f"{show_field(path)} or {show_field(other)}{space}{rest}"


def show_event_window(event: Any) -> tuple[str, str]:
    """An exposure event's window in words, and what it counts from. A planned event (a planned
    major surgery) excludes in two spans: within its window before randomization, and on any
    day of the trial period after it (PI24), so both are said; the window alone read as if the
    8 weeks applied to a planned surgery."""
    if event.rule == "planned":
        return (
            f"{event.window.value} before, or planned in the "
            f"{format_quantity(event.period.value)} after "
            "(the trial period, PI24)",
            "randomization",
        )
    return str(event.window.value), event.anchor_as_written


#: The ACR/EULAR 2013 items in the words of the criteria's table (van den Hoogen 2013), where
#: the record's field name is not them.
_ACR_ITEM_WORDS = {
    "skin_thickening_proximal_to_mcp": "skin thickening proximal to the MCP joints",
    "pah": "pulmonary arterial hypertension (PAH)",
    "ild": "interstitial lung disease (ILD)",
    "raynaud": "Raynaud's phenomenon",
    "anti_topoisomerase_i": "anti-topoisomerase I (anti-Scl-70)",
    "anti_rna_polymerase_iii": "antibodies to RNA polymerase III",
}


def show_acr_item(name: str) -> str:
    """An ACR/EULAR item as a reader writes it.

    >>> show_acr_item("ild"), show_acr_item("puffy_fingers")
    ('interstitial lung disease (ILD)', 'puffy fingers')
    """
    return _ACR_ITEM_WORDS.get(name, name.replace("_", " "))


_UNIT_TEXT = [
    (re.compile(r"\bu(mol|kat|L|g)\b"), r"µ\1"),
    (re.compile(r"(?<![×\w])10\^(\d+)"), lambda m: "×10" + m[1].translate(_SUPERSCRIPT)),
]
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def show_unit_text(text: str) -> str:
    """Unit text as study.yaml types it, as a report prints it.

    >>> show_unit_text("0.01 to 500 10^9/L"), show_unit_text("88.4 umol/L per mg/dL")
    ('0.01 to 500 ×10⁹/L', '88.4 µmol/L per mg/dL')
    >>> show_unit_text("10^3/uL")
    '×10³/µL'
    """
    for pattern, replacement in _UNIT_TEXT:
        text = pattern.sub(replacement, text)
    return text


#: the folder that holds `book/` (pages are named by their path in _toc.yml, `book/...`)
BOOK_ROOT = Path(__file__).resolve().parents[1]


def page_text(page: str, root: Path) -> tuple[Path, str]:
    """A book page's file and the text its reader reads (a notebook's Markdown cells)."""
    for source in (root / f"{page}.ipynb", root / f"{page}.md"):
        if source.exists():
            break
    else:
        raise FileNotFoundError(f"{page}: no notebook or Markdown file")
    if source.suffix == ".md":
        return source, source.read_text(encoding="utf-8")
    cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
    return source, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def page_title(page: str, root: Path = BOOK_ROOT) -> str:
    """A book page's title as its reader sees it (its first heading), to name the page in
    words rather than by its path."""
    source, text = page_text(page, root)
    heading = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
    if heading is None:
        raise ValueError(f"{source}: no title heading")
    return heading.group(1).strip()
