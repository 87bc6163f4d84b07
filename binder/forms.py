"""The paper forms, as HTML for printing: the eligibility checklist and the pocket cards.

Every value is read from study.yaml (through the same functions the book uses), never typed, so
an amended threshold or window changes the paper with the book. Headings carry simplified-Chinese
working translations, marked lang="zh-Hans" so Chromium picks the CJK font and embeds it.
"""

from __future__ import annotations

from html import escape

from binder.identity import page_margin_css
from dosing.dispensing import presentations_for, units_per_dose
from dosing.regimens import regimens_for_arm
from protocol.display import (
    ASSUMPTION_MARK,
    provenance_cell,
    show_event_window,
    show_fact,
    show_value,
)
from protocol.facts import Fact
from protocol.quick_reference import quick_reference
from protocol.study import Study
from protocol.units import format_quantity

BASE_CSS = """
@page { size: A4; margin: 14mm 11mm 13mm 11mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; font-size: 7.6pt;
       color: #000; margin: 0; line-height: 1.25; }
[lang="zh-Hans"] { font-family: "Noto Sans CJK SC", "DejaVu Sans", sans-serif; }
h1 { font-size: 12pt; margin: 0 0 1.5mm 0; }
h2 { font-size: 9pt; margin: 3mm 0 1mm 0; break-after: avoid; }
.zh { color: #333; font-weight: normal; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 0.4pt solid #555; padding: 0.8mm 1mm; vertical-align: top; text-align: left; }
th { background: #e8e8e8; }
tr { break-inside: avoid; }
.box { display: inline-block; width: 3mm; height: 3mm; border: 0.6pt solid #000;
       vertical-align: -0.5mm; margin-right: 0.6mm; }
.line { display: inline-block; border-bottom: 0.5pt solid #000; min-width: 18mm; height: 3.5mm; }
.note { font-size: 6.8pt; color: #222; }
.assumption { font-weight: bold; }
"""


def _zh(text: str) -> str:
    return f'<span class="zh" lang="zh-Hans">{escape(text)}</span>'


def _page(title: str, identity: str, body: str, extra_css: str = "") -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{BASE_CSS}{page_margin_css(identity)}"
        f"{extra_css}</style></head><body>{body}</body></html>\n"
    )


def _assumption(fact: Fact[object]) -> str:
    return f' <span class="assumption">{ASSUMPTION_MARK}</span>' if fact.is_assumption else ""


# ---- the eligibility checklist -------------------------------------------------------------

CHECKLIST_CSS = """
body { font-size: 6.9pt; line-height: 1.18; }
th, td { padding: 0.5mm 0.8mm; }
col.id { width: 5.5%; } col.name { width: 22%; } col.threshold { width: 33%; }
col.source { width: 20%; } col.answer { width: 11.5%; } col.value { width: 8%; }
.line { min-width: 12mm; }
.answers { white-space: nowrap; }
.sign td { border: none; padding-top: 5mm; }
"""


def checklist_html(study: Study, identity: str) -> str:
    """One or two A4 pages: every criterion with its threshold in conventional and SI units, the
    document to check it against, yes / no / not applicable boxes and a line for the value seen."""
    documents = study.source_documents.value
    texts = {c.id: c for c in study.criteria}
    rows = {"inclusion": [], "exclusion": []}
    for row in quick_reference(study):
        criterion = texts[row.id]
        document = documents[row.id]
        rows[criterion.category].append(
            f"<tr><td><b>{escape(row.id)}</b></td>"
            f"<td>{escape(row.short_name)} {_zh(criterion.short_name_zh)}</td>"
            f"<td>{escape(row.threshold)}</td>"
            f"<td>{escape(document.en)} {_zh(document.zh)}</td>"
            '<td class="answers"><span class="box"></span>yes <span class="box"></span>no '
            '<span class="box"></span>n/a</td>'
            '<td><span class="line"></span></td></tr>'
        )
    head = (
        '<colgroup><col class="id"><col class="name"><col class="threshold"><col class="source">'
        '<col class="answer"><col class="value"></colgroup>'
        f"<thead><tr><th>ID</th><th>Criterion {_zh('标准')}</th>"
        f"<th>Threshold or what decides it {_zh('阈值或判定依据')}</th>"
        f"<th>Source document to check {_zh('需核对的源文件')}</th>"
        f"<th>Criterion met? {_zh('是否符合')}</th>"
        f"<th>Value seen {_zh('所见数值')}</th></tr></thead>"
    )
    sections = [
        ("Inclusion criteria: all must be met", "入选标准：必须全部符合", rows["inclusion"]),
        ("Exclusion criteria: none may be met", "排除标准：不得符合任何一项", rows["exclusion"]),
    ]
    tables = "".join(
        f"<h2>{escape(title)} · {_zh(zh)}</h2><table>{head}<tbody>{''.join(body)}</tbody></table>"
        for title, zh, body in sections
    )
    documents_note = (
        f"Source documents: {ASSUMPTION_MARK} {escape(study.source_documents.note or '')}"
        if study.source_documents.is_assumption
        else ""
    )
    body = (
        f"<h1>Eligibility checklist · {_zh('入选/排除标准核对表')} · "
        f"{escape(study.identification.nct_id.value)}</h1>"
        '<p>Participant <span class="line"></span> &nbsp; Screening date '
        '<span class="line"></span> &nbsp; '
        f"{_zh('受试者编号 / 筛选日期')}</p>"
        f"{tables}"
        '<p class="note">Thresholds are the registry record\'s, with the SI units Chinese site '
        "laboratories report in brackets; a value exactly at a threshold passes. Chinese headings "
        f"are working translations. {documents_note}</p>"
        '<table class="sign"><tr><td>Investigator signature '
        f'{_zh("研究者签名")} <span class="line" style="min-width:60mm"></span></td>'
        f'<td>Date {_zh("日期")} <span class="line" style="min-width:30mm"></span></td>'
        "</tr></table>"
    )
    return _page("Eligibility checklist", identity, body, CHECKLIST_CSS)


# ---- the pocket cards ----------------------------------------------------------------------

CARDS_CSS = """
.sheet { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; }
.card { border: 0.6pt dashed #666; padding: 3mm; break-inside: avoid; min-height: 120mm; }
.card h2 { margin-top: 0; font-size: 10pt; }
.card table { font-size: 7.2pt; }
.card dl { margin: 0; } .card dt { font-weight: bold; margin-top: 1.2mm; } .card dd { margin: 0; }
.sources { margin-top: 2mm; }
"""

MISSED_DOSE = (
    "per protocol: neither the registry record nor the product information the book cites says "
    "what to do about a missed dose"
)


def _card(title: str, zh: str, content: str, sources: list[str]) -> str:
    # each source's own full stop dropped: they are joined into one sentence
    cited = "; ".join(dict.fromkeys(source.rstrip(". ") for source in sources))
    return (
        f'<section class="card"><h2>{escape(title)} · {_zh(zh)}</h2>{content}'
        f'<p class="note sources">Sources: {escape(cited)}. {ASSUMPTION_MARK} = not in the '
        "registry record; confirm against the protocol and pharmacy manual.</p></section>"
    )


def _definitions(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(t)}</dt><dd>{d}</dd>" for t, d in items) + "</dl>"


def _telitacicept_card(study: Study) -> str:
    telitacicept = study.intervention("telitacicept")
    regimen = next(
        r
        for r in regimens_for_arm("telitacicept_mmf", study)
        if r.intervention_id == "telitacicept"
    )
    vial = presentations_for("telitacicept", study)[0]
    vials = units_per_dose(regimen, vial)
    volume = format_quantity(vials * vial.reconstitution.value) if vial.reconstitution else "—"
    facts = [telitacicept.dose, telitacicept.route, vial.strength]
    items = [
        ("Dose", f"{escape(show_fact(telitacicept.dose))}, {escape(telitacicept.frequency_label)}"),
        ("Route", escape(show_value(telitacicept.route.value).lower())),
        ("Duration", escape(show_fact(telitacicept.duration))),
        (
            "Each dose",
            f"{vials} × {escape(show_fact(vial.strength))} vials"
            + (_assumption(vial.trial_supply) if vial.trial_supply else "")
            + (
                f"; each reconstituted with {escape(show_value(vial.reconstitution.value))} "
                f"water for injection; inject {escape(volume)} in total"
                if vial.reconstitution
                else ""
            ),
        ),
        (
            "Storage",
            (escape(show_value(vial.storage.value)) + _assumption(vial.storage))
            if vial.storage
            else "per protocol",
        ),
        ("Missed dose", escape(MISSED_DOSE)),
    ]
    if vial.trial_supply:
        facts.append(vial.trial_supply)
    if vial.storage:
        facts.append(vial.storage)
    brand = "; ".join(telitacicept.brand_names.value) if telitacicept.brand_names else ""
    content = f'<p class="note">{escape(brand)}</p>' + _definitions(items)
    return _card("Telitacicept", "泰它西普", content, [provenance_cell(f, study) for f in facts])


def _mmf_card(study: Study) -> str:
    mmf = study.intervention("mycophenolate_mofetil")
    regimen = next(r for r in regimens_for_arm("mmf", study) if r.intervention_id == mmf.id)
    forms = " or ".join(
        f"{units} × {escape(show_fact(p.strength))} {escape(p.form)}{'s' if units > 1 else ''}"
        for p in presentations_for(mmf.id, study)
        for units in [units_per_dose(regimen, p)]
    )
    items = [
        ("Dose", f"{escape(show_fact(mmf.dose))}, {escape(mmf.frequency_label)}, by mouth"),
        ("Duration", f"{escape(show_fact(mmf.duration))}, both arms"),
        ("Each dose", forms),
        ("Missed dose", escape(MISSED_DOSE)),
    ]
    sources = [provenance_cell(mmf.dose, study)] + [
        provenance_cell(p.strength, study) for p in presentations_for(mmf.id, study)
    ]
    for requirement in study.label_requirements:
        if requirement.intervention != mmf.id:
            continue
        items.append(
            (
                f"{requirement.topic} ({requirement.applies_to})",
                f"{_zh(requirement.topic_zh)} {escape(requirement.requirement.value)}",
            )
        )
        sources.append(provenance_cell(requirement.requirement, study))
    return _card("Mycophenolate mofetil", "吗替麦考酚酯", _definitions(items), sources)


def _visits_card(study: Study) -> str:
    rows = "".join(
        f"<tr><td>{escape(v.label)}</td><td>{v.day}</td><td>{escape(v.window_text)}</td></tr>"
        for v in study.visit_schedule.value
    )
    content = (
        f'<p class="note"><span class="assumption">{ASSUMPTION_MARK}</span> '
        f"{escape(study.visit_schedule.note or '')}</p>"
        f"<table><thead><tr><th>Visit</th><th>Study day</th><th>Window</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        '<p class="note">Day 1 is the day of randomization and the first doses.</p>'
    )
    return _card("Visit windows", "访视时间窗", content, ["the book's assumption (PI18)"])


def _prohibited_card(study: Study) -> str:
    rows = []
    sources = []
    for group in study.medication_classes:
        window = str(group.window.value) if group.window else "decided by the investigator"
        if group.rule == "corticosteroid":
            limit = format_quantity(study.corticosteroid_rule.daily_limit.value)
            window += (
                f", if more than {limit} a day (prednisone equivalent) or an intravenous or "
                "intramuscular injection"
            )
        rows.append(
            f"<tr><td>{escape(group.label)}</td><td>{escape(window)}</td>"
            f"<td>{escape(group.anchor)}</td><td>{escape(group.criterion)}</td></tr>"
        )
        if group.window:
            sources.append(provenance_cell(group.window, study))
    for event in study.exposure_events:
        window, before = show_event_window(event)
        rows.append(
            f"<tr><td>{escape(event.label)}</td><td>{escape(window)}</td>"
            f"<td>{escape(before)}</td><td>{escape(event.criterion)}</td></tr>"
        )
    convention = study.washout_convention
    content = (
        "<table><thead><tr><th>Medicine or event</th><th>Window</th><th>Before</th>"
        f"<th>Criterion</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<p class="note">A last dose on the first day of the window is inside it'
        f"{_assumption(convention)} (PI20). A local use within a window (eye drops, a cream, "
        "an inhaler) is the investigator's to decide, except a lifetime exclusion "
        f"({study.issue_for('local_routes')}).</p>"
    )
    return _card(
        "Prohibited-medicine windows", "禁用药物时间窗", content, sources or ["registry record"]
    )


def pocket_cards_html(study: Study, identity: str) -> str:
    body = (
        f"<h1>Pocket cards · {_zh('口袋卡')} · {escape(study.identification.nct_id.value)}</h1>"
        '<p class="note">Cut along the dashed lines. Every value is generated from the book\'s '
        "protocol data; this is not the approved protocol.</p>"
        '<div class="sheet">'
        + _telitacicept_card(study)
        + _mmf_card(study)
        + _visits_card(study)
        + _prohibited_card(study)
        + "</div>"
    )
    return _page("Pocket cards", identity, body, CARDS_CSS)
