"""Every text of study.yaml is one line of printable text, and a text the calendar's CSV holds
is never run by a spreadsheet as a formula.

The study's texts are printed, exported (XPT, ODM, FHIR, USDM, a calendar's CSV and iCalendar)
and matched as one line: a control character anywhere (a bell, an escape, a line break that a
YAML block scalar adds) is refused by the text's path when the study loads."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dosing.calendar import build_calendar, calendar_csv
from protocol.errors import ProtocolDataError
from protocol.study import STUDY_PATH, parse_study
from tests.conftest import study_data

DATA = study_data()


def _text_paths(data: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(data, str):
        return [path]
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _text_paths(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _text_paths(v, (*path, i))]
    return []


TEXT_PATHS = _text_paths(DATA)
# control characters, the line and paragraph separators, and the format characters that
# reorder or hide text (right-to-left override U+202E, zero-width space U+200B, BOM U+FEFF)
CONTROLS = [
    chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x200B, 0x202E, 0xFEFF]
] + ["\udcff", "\ud83d", "\ude00", "\ud83d\ude00"]  # surrogates: a calendar's file cannot hold one


def _shown(path: tuple) -> str:
    """The path as the refusal names it: a list's entry by [index], a mapping's by .key (the
    skin score's grades are a mapping keyed by numbers: grades.0, not grades[0])."""
    shown, node = "", DATA
    for part in path:
        shown += f"[{part}]" if isinstance(node, list) else f".{part}"
        node = node[part]
    return shown.lstrip(".")


def _edited(path: tuple, change) -> dict:
    # a copy of the study read once (reading the YAML again took a third of a second a draw)
    data = copy.deepcopy(DATA)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = change(node[path[-1]])
    return data


def test_the_study_has_texts_to_check():
    assert len(TEXT_PATHS) > 500
    parse_study(DATA, "study.yaml")  # the project's own: every text printable


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# a text in a mapping keyed by numbers (the skin score's grades): named grades.0
@example(("skin_score", "value", "grades", 0), "\x00", 0.0)
@example(("visit_schedule", "value", 2, "label"), "\ud83d\ude00", 1.0)  # a tester's exit 4
@given(
    st.sampled_from(TEXT_PATHS),
    st.sampled_from(CONTROLS),
    st.floats(min_value=0, max_value=1),
)
def test_a_control_character_in_any_text_is_refused_by_its_path(path, control, where):
    def change(text: str) -> str:
        at = int(where * len(text))
        return text[:at] + control + text[at:]

    with pytest.raises(ProtocolDataError) as caught:
        parse_study(_edited(path, change), "amended.yaml")
    assert _shown(path) in str(caught.value)
    assert "control characters" in str(caught.value)


def test_a_folded_block_scalars_line_break_is_named():
    text = STUDY_PATH.read_text(encoding="utf-8").replace(
        "text: Men or women aged 18-70 years old.",
        "text: >\n    Men or women aged 18-70 years old.",
        1,
    )
    with pytest.raises(ProtocolDataError, match=r"criteria\[0\]\.text.*write it in quotes"):
        parse_study(yaml.safe_load(text), "amended.yaml")


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_visit_label_a_spreadsheet_would_run_stays_text(start):
    label = f'{start}HYPERLINK("http://example.invalid")'
    index = next(i for i, v in enumerate(DATA["visit_schedule"]["value"]) if v["id"] == "screening")
    data = _edited(("visit_schedule", "value", index, "label"), lambda _: label)
    study = parse_study(data, "amended.yaml")
    rows = list(
        csv.DictReader(
            io.StringIO(calendar_csv(build_calendar("MMF", dt.date(2025, 3, 10), study)))
        )
    )
    cells = [value for row in rows for value in row.values()]
    assert "'" + label in cells
    assert not any(cell[:1] in "=+-@" for cell in cells if cell)


def test_the_trials_own_calendar_keeps_its_texts_as_written():
    text = calendar_csv(build_calendar("MMF", dt.date(2025, 3, 10)))
    cells = [value for row in csv.DictReader(io.StringIO(text)) for value in row.values()]
    assert cells and not any(cell.startswith("'") for cell in cells)
