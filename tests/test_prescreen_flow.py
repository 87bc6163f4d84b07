"""The pre-screening flow diagram, as a reader sees it: arrows that run from the box a group of
candidates leaves to the box it enters (never out of "Likely eligible"), and every line of text
inside its box, measured with DejaVu Sans's own metrics (matplotlib's copy of the font), for any
counts and any number of criteria."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from prescreen.outputs import Flow, flow_svg

SVG = "{http://www.w3.org/2000/svg}"
MEASURE = TextToPath()


def _width(text: str, bold: bool, size: float) -> float:
    font = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=size)
    width, _, _ = MEASURE.get_text_width_height_descent(text, font, ismath=False)
    return width


def _boxes(svg: ET.Element) -> list[dict]:
    """Each box with its texts (a text belongs to the box that holds its start)."""
    boxes = [
        {
            "x": float(r.get("x")),
            "y": float(r.get("y")),
            "w": float(r.get("width")),
            "h": float(r.get("height")),
            "texts": [],
        }
        for r in svg.iter(f"{SVG}rect")
    ]
    for text in svg.iter(f"{SVG}text"):
        x, y = float(text.get("x")), float(text.get("y"))
        holders = [
            b for b in boxes if b["x"] <= x <= b["x"] + b["w"] and b["y"] <= y <= b["y"] + b["h"]
        ]
        assert len(holders) == 1, f"text {text.text!r} is in {len(holders)} boxes"
        holders[0]["texts"].append((text.text, text.get("font-weight") == "bold"))
    return boxes


def _on_edge(box: dict, x: float, y: float) -> bool:
    left, right, top, bottom = box["x"], box["x"] + box["w"], box["y"], box["y"] + box["h"]
    inside_x, inside_y = left <= x <= right, top <= y <= bottom
    return (inside_y and x in (left, right)) or (inside_x and y in (top, bottom))


def _arrows(svg: ET.Element, boxes: list[dict]) -> list[tuple[str, str]]:
    """Each arrow as (the heading of the box it leaves, the heading of the box it enters)."""
    found = []
    for line in svg.iter(f"{SVG}line"):
        x1, y1, x2, y2 = (float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))
        (start,) = [b for b in boxes if _on_edge(b, x1, y1)]
        (end,) = [b for b in boxes if _on_edge(b, x2, y2)]
        found.append((start["texts"][0][0], end["texts"][0][0]))
    return found


def _flow(**changes) -> Flow:
    counts = {
        "candidates": 2000,
        "not_screened": 0,
        "excluded": 1059,
        "excluded_by": [("EX24", 500), ("IN05", 559)],
        "excluded_by_more": 300,
        "needs_review": 906,
        "review_for": [("EX22", 800), ("IN06", 106)],
        "likely_eligible": 35,
    }
    return Flow(**{**counts, **changes})


def test_the_arrows_run_down_the_main_column_and_out_to_each_branch():
    svg = ET.fromstring(flow_svg(_flow(not_screened=10, candidates=2010)))
    assert sorted(_arrows(svg, _boxes(svg))) == sorted(
        [
            ("Candidates in the table (n = 2,010)", "Not screened (n = 10)"),
            ("Candidates in the table (n = 2,010)", "Screened (n = 2,000)"),
            ("Screened (n = 2,000)", "Excluded (n = 1,059)"),
            ("Screened (n = 2,000)", "Not excluded (n = 941)"),
            ("Not excluded (n = 941)", "Needs review (n = 906)"),
            ("Not excluded (n = 941)", "Likely eligible (n = 35)"),
        ]
    )


def test_no_box_for_candidates_not_screened_when_there_are_none():
    svg = ET.fromstring(flow_svg(_flow()))
    headings = [b["texts"][0][0] for b in _boxes(svg)]
    assert not any(h.startswith("Not screened") for h in headings)
    assert "Candidates in the table (n = 2,000)" in headings


def test_boxes_do_not_overlap_and_the_picture_holds_them():
    svg = ET.fromstring(flow_svg(_flow(not_screened=5, candidates=2005)))
    boxes = _boxes(svg)
    for i, a in enumerate(boxes):
        assert a["x"] + a["w"] <= float(svg.get("width"))
        assert a["y"] + a["h"] <= float(svg.get("height"))
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"]
                or b["x"] + b["w"] <= a["x"]
                or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"]
            )
            assert apart, (a["texts"][0], b["texts"][0])


counts = st.integers(0, 10**7)
criteria = st.lists(
    st.tuples(st.sampled_from(["IN01", "IN05", "EX07", "EX22", "EX24"]), counts), max_size=40
)


@settings(max_examples=60, deadline=None)
@given(
    candidates=counts,
    not_screened=counts,
    excluded=counts,
    excluded_by=criteria,
    more=counts,
    review=counts,
    review_for=criteria,
    eligible=counts,
)
def test_every_line_fits_its_box_whatever_the_counts(
    candidates, not_screened, excluded, excluded_by, more, review, review_for, eligible
):
    flow = Flow(candidates, not_screened, excluded, excluded_by, more, review, review_for, eligible)
    svg = ET.fromstring(flow_svg(flow))
    size = float(svg.get("font-size"))
    for box in _boxes(svg):
        for text, bold in box["texts"]:
            # the text starts 10 px inside the box: it ends at least 4 px before its edge
            assert 10 + _width(text, bold, size) <= box["w"] - 4, text
        lines = len(box["texts"])
        assert box["h"] >= 14 + 18 * lines - 1  # every line inside the box's height


@pytest.mark.parametrize("candidates", [2000, 100_000, 1_000_000])
def test_counts_are_written_with_thousands_separators(candidates):
    svg = flow_svg(_flow(candidates=candidates, likely_eligible=candidates - 1965))
    assert f"Candidates in the table (n = {candidates:,})" in svg
    assert f"(n = {candidates})" not in svg or candidates < 1000
