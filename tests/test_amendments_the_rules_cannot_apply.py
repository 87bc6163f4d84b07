"""An amended study that the rules or the participant record cannot carry out is refused (exit 2,
one line naming the file, the study's field, its value and what is expected), never applied
wrongly: each edit below once gave a wrong verdict, an internal error or a silent no-op (found by
an independent tester of amendments). The expected outcomes come from what the record and the
rules can hold, not from the code: a record has no potassium, no 18th ACR/EULAR item and no
grade 9; the vaccine rule is EX26's, not EX28's."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from trialbook.cli import main

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "protocol" / "study.yaml"
CASE_1 = REPO / "book" / "cases" / "case01-eligible.yaml"
DATA = yaml.safe_load(STUDY.read_text(encoding="utf-8"))


def _index(key: str, field: str, value: str) -> int:
    return next(i for i, entry in enumerate(DATA[key]) if entry[field] == value)


def _lab(name: str) -> int:
    return _index("lab_analytes", "name", name)


def _event(kind: str) -> int:
    return _index("exposure_events", "kind", kind)


def _category(item: str) -> int:
    return next(
        i
        for i, category in enumerate(DATA["acr_eular_2013"]["value"]["categories"])
        if item in category["items"]
    )


def _set(path: list, value):
    def edit(data):
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value(node[path[-1]]) if callable(value) else value

    return edit


def _add_lab(data):
    potassium = copy.deepcopy(data["lab_analytes"][_lab("hemoglobin")])
    potassium.update(name="potassium", label="Potassium", chinese_name="血钾")
    data["lab_analytes"].append(potassium)


EDITS = {
    # (what is edited, the path the refusal names)
    "a vaccine rule moved to the allergy criterion": (
        _set(["exposure_events", _event("live_vaccine"), "criterion"], "EX28"),
        "exposure_events[2].criterion",
    ),
    "a medication class moved to the PAH criterion": (
        _set(["medication_classes", 0, "criterion"], "EX06"),
        "medication_classes[0].criterion",
    ),
    "an analyte the record has no field for": (_add_lab, "lab_analytes[13].name"),
    "IgA moved to the lung-function criterion": (
        _set(["lab_analytes", _lab("iga"), "criterion"], "EX07"),
        f"lab_analytes[{_lab('iga')}].criterion",
    ),
    "an ACR/EULAR item the record has no field for": (
        _set(["acr_eular_2013", "value", "categories", 0, "items"], {"calcinosis": 9}),
        "items.calcinosis",
    ),
    "an ACR/EULAR item in two categories": (
        _set(
            ["acr_eular_2013", "value", "categories", _category("telangiectasia"), "items"],
            {"telangiectasia": 2, "raynaud": 6},
        ),
        "items.raynaud",
    ),
    "a skin area the record has no field for": (
        _set(["skin_score", "value", "areas", 0, "name"], "neck"),
        "skin_score.value.areas[0].name",
    ),
    "a grade the record cannot hold": (
        _set(["skin_score", "value", "grades", 9], "not assessable"),
        "skin_score.value.grades.9",
    ),
    "an injection route the medications list does not record": (
        _set(["corticosteroid_rule", "injection_routes"], ["IV", "IM"]),
        "corticosteroid_rule.injection_routes[0]",
    ),
    "an injection route also read as not systemic": (
        _set(["corticosteroid_rule", "non_systemic_routes"], lambda r: ["iv", *r]),
        "corticosteroid_rule.non_systemic_routes[0]",
    ),
    "a malignancy window with no start": (
        _set(["criterion_rules", "malignancy_window", "value"], "ever"),
        "criterion_rules.malignancy_window",
    ),
    "an exposure window with no start": (
        _set(["exposure_events", _event("live_vaccine"), "window", "value"], "ever"),
        "exposure_events[2].window",
    ),
    "a lab threshold above every plausible value": (
        _set(["lab_analytes", _lab("hemoglobin"), "threshold", "value"], "< 80 g/dL"),
        "threshold.value",
    ),
    "an age limit that is not whole years": (
        _set(["population", "minimum_age", "value"], "18.5 year"),
        "population.minimum_age",
    ),
    "no screening visit": (
        _set(["visit_schedule", "value", 0, "id"], "screening_visit"),
        "visit_schedule.value",
    ),
    "a screening window that runs past randomization": (
        _set(["visit_schedule", "value", 0, "window_after"], "P60D"),
        "visit_schedule.value[id=screening]",
    ),
    "an arm with one intervention twice": (
        _set(["arms", 1, "intervention_names", "value"], lambda v: v * 2),
        "arms[1].intervention_names.value",
    ),
    "an arm with no intervention": (
        _set(["arms", 1, "intervention_names", "value"], []),
        "arms[1].intervention_names.value",
    ),
    "a route whose CDISC term is another route's": (
        _set(["interventions", 0, "route", "value"], "INTRAVENOUS"),
        "interventions[0].route_cdisc",
    ),
}


def _write(tmp_path: Path, edit) -> Path:
    data = copy.deepcopy(DATA)
    edit(data)
    path = tmp_path / "amended.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_trials_own_study_passes_every_check(tmp_path):
    assert main(["screen", str(CASE_1), "--study", str(_write(tmp_path, lambda d: None))]) == 0


@pytest.mark.parametrize("what", list(EDITS))
def test_an_amendment_the_rules_cannot_apply_is_refused_by_its_path(tmp_path, capsys, what):
    edit, path = EDITS[what]
    study = _write(tmp_path, edit)
    code = main(["screen", str(CASE_1), "--study", str(study)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert path in err, err
    assert "Traceback" not in err and "internal error" not in err


def test_a_new_criterion_with_a_medication_class_is_decided_by_the_washout(tmp_path, capsys):
    # "Use of sarilumab within 12 weeks prior to randomization" (SYNTHETIC): its class decides
    # it, as EX12's decides EX12, with no attestation asked
    def edit(data):
        data["source_documents"]["value"]["EX31"] = {"en": "medical record", "zh": "病历"}
        data["criteria"].append(
            {
                "id": "EX31",
                "short_name": "Sarilumab (synthetic)",
                "short_name_zh": "沙利鲁单抗",
                "text": "Use of sarilumab within 12 weeks prior to randomization (SYNTHETIC).",
            }
        )
        sarilumab = copy.deepcopy(
            data["medication_classes"][_index("medication_classes", "criterion", "EX12")]
        )
        sarilumab.update(id="sarilumab_class", label="Sarilumab", criterion="EX31", aliases=[])
        sarilumab["window"] = {
            "value": "12 week",
            "provenance": "assumption",
            "note": "synthetic",
        }
        sarilumab["drugs"] = [{"name": "sarilumab", "named_in_record": False}]
        data["medication_classes"].append(sarilumab)

    study = _write(tmp_path, edit)
    record = yaml.safe_load(CASE_1.read_text(encoding="utf-8"))
    record["medications"].append(
        {"name": "sarilumab", "last_dose": str(record["dates"]["screening"])}
    )
    path = tmp_path / "record.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    code = main(["screen", str(path), "--study", str(study), "--format", "json"])
    out = capsys.readouterr()
    assert code == 1, out.err
    assert '"EX31"' in out.out and "within the window of 12 weeks" in out.out


def _new_criterion(data, cid: str, text: str) -> None:
    data["source_documents"]["value"][cid] = {"en": "medical record", "zh": "病历"}
    entry = {"id": cid, "short_name": f"Synthetic {cid}", "short_name_zh": "合成标准", "text": text}
    last = max(i for i, c in enumerate(data["criteria"]) if c["id"][:2] == cid[:2])
    data["criteria"].insert(last + 1, entry)  # inclusion criteria come first


MORE_EDITS = {
    # a criterion read from both lists: its status would follow the events list alone
    "an event on a medications criterion": (
        _set(["exposure_events", _event("major_surgery"), "also_criteria"], ["EX13"]),
        "exposure_events[0].also_criteria[0]",
    ),
    "a medication class on an events criterion": (
        _set(["medication_classes", 0, "criterion"], "EX26"),
        "medication_classes[0].criterion",
    ),
    "a new criterion named by a class and an event": (
        lambda d: (
            _new_criterion(d, "EX31", "Sarilumab or surgery (SYNTHETIC)."),
            _set(["medication_classes", 0, "criterion"], "EX31")(d),
            _set(["exposure_events", _event("major_surgery"), "also_criteria"], ["EX31"])(d),
        ),
        "EX31",
    ),
    "a medication class on a new inclusion criterion": (
        lambda d: (
            _new_criterion(d, "IN08", "Treated with MMF within 4 weeks (SYNTHETIC)."),
            _set(["medication_classes", 0, "criterion"], "IN08")(d),
        ),
        "medication_classes[0].criterion",
    ),
    "a CDISC route code that is another route's": (
        _set(["interventions", 0, "route_cdisc", "value", "code"], "C38288"),
        "interventions[0].route_cdisc.code",
    ),
}


@pytest.mark.parametrize("what", list(MORE_EDITS))
def test_a_criterion_reads_one_list_and_an_inclusion_none(tmp_path, capsys, what):
    edit, path = MORE_EDITS[what]
    code = main(["screen", str(CASE_1), "--study", str(_write(tmp_path, edit))])
    err = capsys.readouterr().err
    assert code == 2 and path in err, err


def test_every_entry_point_refuses_what_the_command_line_refuses(tmp_path):
    # screen(), prescreen() and registry-check ran a study the --study option refused
    from prescreen.run import prescreen
    from protocol.errors import ProtocolDataError
    from protocol.participant import load_record
    from protocol.screening import screen
    from protocol.study import load_study

    path = _write(tmp_path, EDITS["a vaccine rule moved to the allergy criterion"][0])
    study = load_study(path)
    with pytest.raises(ProtocolDataError, match=r"exposure_events\[2\]\.criterion"):
        screen(load_record(CASE_1), study)
    table = tmp_path / "t.csv"
    table.write_text("participant,sex\nSYN-1,female\n", encoding="utf-8")
    with pytest.raises(ProtocolDataError, match=r"exposure_events\[2\]\.criterion"):
        prescreen(table, study=study)
    assert main(["registry-check", "--study", str(path)]) == 2


def test_an_arm_of_no_intervention_may_have_none(tmp_path, capsys):
    def observation_arm(data):
        arm = copy.deepcopy(data["arms"][1])
        arm["id"] = "observation"
        arm["label"]["value"] = "Observation"
        arm["type"]["value"] = "NO_INTERVENTION"
        arm["intervention_names"]["value"] = []
        data["arms"].append(arm)

    study = _write(tmp_path, observation_arm)
    code = main(["calendar", "--study", str(study), "--arm", "observation",
                 "--randomization", "2025-03-10"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "visit" in out.out.lower() and "Mycophenolate" not in out.out


def test_two_arms_with_one_label_are_refused(tmp_path, capsys):
    # --arm names an arm by its label: two arms of one label cannot be told apart
    def twin(data):
        arm = copy.deepcopy(data["arms"][1])
        arm["id"] = "twin"
        data["arms"].append(arm)

    code = main(["screen", str(CASE_1), "--study", str(_write(tmp_path, twin))])
    err = capsys.readouterr().err
    assert code == 2 and "arms[2].label" in err, err
