"""A refreshed registry record that gives outcome measures is held to study.yaml's.

The stored record shows none (PI11), so study.yaml reads them on a mirror. A tester added a
different primary outcome to a copy of the record: `registry-check` said everything agreed,
while the book and every export kept publishing the mRSS at week 48.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from protocol.registry_check import check_outcomes, load_record
from protocol.study import load_study
from trialbook.cli import main

RECORD = load_record()
MRSS = "Change From Baseline in Modified Rodnan Skin Score (mRSS) at Week 48"
TRAES = "Percentage of Participants With Treatment-related Adverse Events (TRAEs)"


def _with_outcomes(module: dict) -> dict:
    record = copy.deepcopy(RECORD)
    record["protocolSection"]["outcomesModule"] = module
    return record


def _check(tmp_path: Path, module: dict) -> int:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(_with_outcomes(module)), encoding="utf-8")
    return main(["registry-check", "--record", str(path)])


def test_the_stored_record_without_outcomes_is_not_compared():
    assert "outcomesModule" not in RECORD["protocolSection"]
    assert check_outcomes(load_study(), RECORD) == []


def test_the_mirrors_outcomes_in_the_record_agree(tmp_path):
    module = {
        "primaryOutcomes": [{"measure": MRSS, "timeFrame": "Baseline, Week 48"}],
        "secondaryOutcomes": [{"measure": TRAES, "timeFrame": "Week 48"}],
    }
    assert _check(tmp_path, module) == 0


@pytest.mark.parametrize(
    "primary, places",
    [
        ([{"measure": "Change in HAQ-DI", "timeFrame": "Week 24"}],
         ["primary_outcome.measure", "primary_outcome.time_frame"]),
        ([{"measure": MRSS, "timeFrame": "Baseline, Week 52"}], ["primary_outcome.time_frame"]),
        ([{"measure": MRSS.replace("48", "24"), "timeFrame": "Baseline, Week 48"}],
         ["primary_outcome.measure"]),
        ([{"measure": MRSS, "timeFrame": "Baseline, Week 48"}, {"measure": "FVC"}],
         ["primary_outcome"]),
        ([], ["primary_outcome"]),
    ],
)  # fmt: skip
def test_another_primary_outcome_disagrees(tmp_path, capsys, primary, places):
    module = {"primaryOutcomes": primary, "secondaryOutcomes": [{"measure": TRAES}]}
    found = check_outcomes(load_study(), _with_outcomes(module))
    assert [m.yaml_path for m in found] == places
    assert _check(tmp_path, module) == 1
    assert places[0] in capsys.readouterr().err


def test_spacing_and_case_are_no_difference():
    module = {
        "primaryOutcomes": [{"measure": "  " + MRSS.upper(), "timeFrame": "baseline,  week 48"}],
        "secondaryOutcomes": [{"measure": TRAES}],
    }
    assert check_outcomes(load_study(), _with_outcomes(module)) == []


@pytest.mark.parametrize(
    "secondary", [[], [{"measure": "Change in FVC"}], [{"measure": "Percentage of Participants"}]]
)
def test_the_truncated_second_outcome_must_begin_one_of_the_records(secondary):
    module = {
        "primaryOutcomes": [{"measure": MRSS, "timeFrame": "Baseline, Week 48"}],
        "secondaryOutcomes": secondary,
    }
    found = check_outcomes(load_study(), _with_outcomes(module))
    assert [m.yaml_path for m in found] == ["other_outcomes[0].measure"]


@pytest.mark.parametrize(
    "module, where",
    [
        ([{"measure": MRSS}], "outcomesModule is a JSON array"),
        ({"primaryOutcomes": {"measure": MRSS}}, "primaryOutcomes is a JSON object"),
        ({"primaryOutcomes": None}, "primaryOutcomes is JSON null"),
        ({"primaryOutcomes": [{"measure": MRSS}, "junk"]}, "primaryOutcomes[1] is a JSON string"),
        ({"primaryOutcomes": [{"measure": 48}]}, "primaryOutcomes[0].measure is a JSON number"),
        ({"primaryOutcomes": [{"measure": MRSS, "timeFrame": ["Week 48"]}]}, "timeFrame is"),
        ({"primaryOutcomes": [{"measure": MRSS}], "secondaryOutcomes": {"measure": TRAES}},
         "secondaryOutcomes is a JSON object"),
    ],
)  # fmt: skip
def test_a_damaged_outcome_module_is_refused_by_both_commands(tmp_path, capsys, module, where):
    # an array for the module had agreed (exit 0): the outcomes were skipped; a text among the
    # outcomes was left out
    path = tmp_path / "record.json"
    path.write_text(json.dumps(_with_outcomes(module)), encoding="utf-8")
    assert main(["registry-check", "--record", str(path)]) == 2
    assert where in capsys.readouterr().err
    stored = Path(__file__).resolve().parents[1] / "protocol/registry/NCT06375005.json"
    assert main(["registry-diff", str(stored), str(path)]) == 2
    assert where in capsys.readouterr().err


def test_a_secondary_outcome_must_begin_at_a_word_boundary():
    module = {
        "primaryOutcomes": [{"measure": MRSS, "timeFrame": "Baseline, Week 48"}],
        "secondaryOutcomes": [
            {"measure": "Percentage of Participants With Treatment-related Adverse Eventsfoo"}
        ],
    }
    found = check_outcomes(load_study(), _with_outcomes(module))
    assert [m.yaml_path for m in found] == ["other_outcomes[0].measure"]
