"""Figures drawn from study.yaml (matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

from typing import Any

from dosing.regimens import regimens_for_arm, weeks
from protocol.study import Study

ARM_COLOURS = {"telitacicept": "#1f6f8b", "mycophenolate_mofetil": "#c0712b"}


def trial_schema(study: Study) -> Any:
    """Both arms across the treatment period: each injection as a tick, daily therapy as a bar."""
    from matplotlib.figure import Figure

    arms = list(study.arms)
    rows = [(arm, regimen) for arm in arms for regimen in regimens_for_arm(arm.id, study)]
    # A bare Figure, not pyplot: nothing is shown until a chapter calls show_figure().
    # 8 inches: on a desktop page drawn near its size, on a phone kept readable (wide-tables.js)
    figure = Figure(figsize=(8, 1.4 + 0.7 * len(rows)))
    axes = figure.subplots()
    end_weeks = max(weeks(regimen.duration) for _, regimen in rows)
    labels = []
    for row, (arm, regimen) in enumerate(reversed(rows)):
        colour = ARM_COLOURS.get(regimen.intervention_id, "#555555")
        offsets = [weeks(t) for t in regimen.administration_offsets()]
        if regimen.interval.to("day").magnitude >= 7:
            axes.vlines(offsets, row - 0.3, row + 0.3, colors=colour, linewidth=1.6)
        else:
            axes.barh(row, weeks(regimen.duration), left=0, height=0.5, color=colour, alpha=0.8)
        labels.append(
            f"{arm.label.value}\n{regimen.name} {regimen.dose:~P} "
            f"{_frequency_text(study, regimen.intervention_id)}"
        )
    end_text = f"week {end_weeks:g}:\nprimary outcome"
    for boundary, text in ((0, "randomization\n(first doses)"), (end_weeks, end_text)):
        axes.axvline(boundary, color="black", linestyle="--", linewidth=0.8)
        axes.text(boundary, len(rows) - 0.45, text, ha="center", va="bottom", fontsize=9)
    axes.set_yticks(range(len(rows)), labels, fontsize=9)
    axes.set_xlim(-2, end_weeks + 2)
    axes.set_ylim(-0.6, len(rows) + 0.4)
    axes.set_xticks(range(0, int(end_weeks) + 1, 4))
    axes.set_xlabel("weeks after randomization")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def _frequency_text(study: Study, intervention_id: str) -> str:
    return study.intervention(intervention_id).frequency_label
