"""The paper forms from study.yaml (issue 13): the checklist and the pocket cards say what the
record and the book say, and change when study.yaml changes. Expected values are the registry's
words and hand conversions, not the code's output."""

from __future__ import annotations

import html
import re

import pytest

from binder.forms import checklist_html, pocket_cards_html
from protocol.study import load_study

IDENTITY = "NCT06375005 · registry record 2025-02-11 · protocol book 0 · built 2026-11-26"


def _text(page: str) -> str:
    """The visible text of a form, as it prints."""
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def checklist() -> str:
    return _text(checklist_html(load_study(), IDENTITY))


@pytest.fixture(scope="module")
def cards() -> str:
    return _text(pocket_cards_html(load_study(), IDENTITY))


def test_the_checklist_lists_all_37_criteria_in_registry_order(checklist):
    ids = re.findall(r"\b(?:IN0[1-7]|EX[0-3]\d)\b", checklist)
    expected = [f"IN{n:02}" for n in range(1, 8)] + [f"EX{n:02}" for n in range(1, 31)]
    assert [i for i in dict.fromkeys(ids)] == expected
    assert checklist.count("yes no n/a") == 37  # one answer row per criterion


@pytest.mark.parametrize(
    "threshold",
    [
        # the registry's units, and the SI units a Chinese laboratory reports, by hand:
        "haemoglobin < 8.0 g/dL (< 80 g/L)",  # 1 g/dL = 10 g/L
        "IgA < 10 mg/dL (< 0.1 g/L)",  # 1 mg/dL = 0.01 g/L
        "IgG < 400 mg/dL (< 4 g/L)",
        "WBC < 3 ×10⁹/L",
        "neutrophils < 1.5 ×10⁹/L",
        "platelets < 75 ×10⁹/L",
        "ALT or AST > 1.5 × ULN",
        "total bilirubin > 1 × ULN",
        "eGFR < 40 mL/min/1.73 m²",
        "at least 10",  # mRSS
        "at most 18 months",  # disease duration
        "more than 3 years",
        "18 years to 70 years",
        "total of at least 9",  # ACR/EULAR 2013
        "within 4 weeks prior to randomization",
        "within 12 weeks prior to randomization",  # IVIG
    ],
)
def test_the_checklist_gives_each_threshold_in_both_units(checklist, threshold):
    assert threshold in checklist


def test_the_checklist_names_the_document_to_check_and_has_a_signature_line(checklist):
    assert "laboratory report (blood count, liver and kidney tests)" in checklist
    assert "serum pregnancy test report" in checklist
    assert "signed informed consent form" in checklist
    assert "Investigator signature 研究者签名" in checklist and "Date 日期" in checklist
    assert "Inclusion criteria: all must be met" in checklist
    assert "Exclusion criteria: none may be met" in checklist
    assert "working translations" in checklist
    assert IDENTITY in checklist_html(load_study(), IDENTITY)  # in the page margin


def test_the_checklist_follows_a_changed_threshold(varied_study):
    study = varied_study(('value: "< 8.0 g/dL"', 'value: "< 9.0 g/dL"'))
    text = _text(checklist_html(study, IDENTITY))
    assert "haemoglobin < 9.0 g/dL (< 90 g/L)" in text
    assert "< 8.0 g/dL" not in text


def test_the_checklist_follows_a_changed_source_document(varied_study):
    study = varied_study(
        (
            'EX19: {en: "HIV test report", zh: "HIV检测报告"}',
            'EX19: {en: "HIV antibody report", zh: "HIV抗体报告"}',
        )
    )
    assert "HIV antibody report HIV抗体报告" in _text(checklist_html(study, IDENTITY))


def test_chinese_is_marked_for_the_cjk_font_and_text_is_escaped(varied_study):
    page = checklist_html(load_study(), IDENTITY)
    assert '<span class="zh" lang="zh-Hans">年龄18至70岁</span>' in page
    study = varied_study(("short_name: Age 18 to 70 years", "short_name: Age <18 & >70"))
    assert "Age &lt;18 &amp; &gt;70" in checklist_html(study, IDENTITY)


def test_the_telitacicept_card(cards):
    assert "Telitacicept · 泰它西普" in cards
    assert "160 mg, once a week (QW)" in cards
    assert "subcutaneous" in cards
    # 160 mg from 80 mg vials: 2 vials, 1 mL each, 2 mL injected; the count is an assumption
    assert "2 × 80 mg vials ⚠ assumption" in cards
    assert "inject 2 mL in total" in cards
    assert "2-8 °C, protected from light, not frozen ⚠ assumption" in cards
    assert "Missed dose per protocol" in cards


def test_the_mycophenolate_card_carries_the_label_requirements(cards):
    assert "0.5 g, twice daily (BID), by mouth" in cards
    # 0.5 g from 500 mg tablets: 1; from 250 mg capsules: 2
    assert "1 × 500 mg film-coated tablet or 2 × 250 mg capsules" in cards
    assert "for 6 weeks after the last dose" in cards
    assert "at least 90 days after the last dose" in cards
    assert "No blood donation" in cards
    assert "product label (CellCept US label)" in cards


def test_the_visit_and_prohibited_medicine_cards(cards):
    study = load_study()
    for visit in study.visit_schedule.value:
        assert f"{visit.label} {visit.day} {visit.window_text}" in cards
    assert "Screening -28 day −28 to day 1" in cards  # screening may be on day 1
    for group in study.medication_classes:
        assert group.label in cards
    assert "Immunosuppressive therapies 4 weeks randomization EX09" in cards
    # the reading `screen` and `washout` apply to tacrolimus ointment is on paper too (PI32)
    assert (
        "A local use within a window (eye drops, a cream, an inhaler) is the investigator's"
        in cards
    )
    assert "Cyclophosphamide 3 months randomization EX09" in cards
    assert "Intravenous immunoglobulin 12 weeks randomization EX12" in cards
    assert "Systemic corticosteroids 4 weeks, if more than 10 mg a day" in cards
    # a planned surgery excludes in both spans (PI24): the 8 weeks alone misread it
    assert (
        "Planned major surgery 8 weeks before, or planned in the 48 weeks after (the trial "
        "period, PI24) randomization EX08"
    ) in cards


def test_the_cards_follow_a_changed_window(varied_study):
    study = load_study()
    text = _text(pocket_cards_html(study, IDENTITY))
    assert "Anakinra 1 week" in text
    varied = varied_study(
        (
            "    value: 1 week\n    provenance: registry\n"
            "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
            "    quote: including anakinra",
            "    value: 2 week\n    provenance: registry\n"
            "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
            "    quote: including anakinra",
        )
    )
    assert "Anakinra 2 weeks" in _text(pocket_cards_html(varied, IDENTITY))


def test_the_binder_refuses_to_print_without_a_cjk_font(monkeypatch, capsys, tmp_path):
    # without Noto Sans CJK, Chromium printed the Chinese terms as empty boxes and the binder
    # still reported every font embedded (Skia embeds the CJK font as an unnamed Type 3 font,
    # so the PDF's font list cannot tell): fontconfig is asked before anything is printed
    import binder.__main__ as binder_main

    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.html").write_text("<html></html>", encoding="utf-8")
    monkeypatch.setattr(binder_main, "HTML", tmp_path)
    monkeypatch.setattr(binder_main, "_has_cjk_font", lambda: False)
    monkeypatch.setattr(binder_main, "build", lambda: pytest.fail("printed without the font"))
    assert binder_main.main([]) == 2
    assert "fonts-noto-cjk" in capsys.readouterr().err


def test_the_cards_sources_read_as_one_sentence(cards):
    # "(PI30).; ⚠ assumption: ..." and "pharmacy manual.." once
    assert ".;" not in cards and ".." not in cards.replace("…", "")


def test_the_printed_files_are_readable_as_any_new_file_is(tmp_path):
    """Written atomically through a temporary file (created owner-only), a PDF still gets a new
    file's mode, 0666 less the umask: a web server serving the book can read it."""
    import os
    import stat

    from binder.__main__ import _write_atomically

    old_mask = os.umask(0o022)
    try:
        target = tmp_path / "out" / "book.pdf"
        _write_atomically(target, b"%PDF-1.7 synthetic")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        os.umask(0o077)
        _write_atomically(target, b"%PDF-1.7 again")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        os.umask(old_mask)
    assert target.read_bytes() == b"%PDF-1.7 again"
    assert [p.name for p in target.parent.iterdir()] == ["book.pdf"]  # no temporary left
