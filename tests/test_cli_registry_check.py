"""`trialbook registry-check`: exit codes and messages."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.registry_check import RECORD_PATH
from tests.conftest import examples
from tests.test_registry_cross_check import fact_path, relabelled, round_tripped
from trialbook.cli import main


def test_the_projects_files_agree(capsys):
    assert main(["registry-check"]) == 0
    out = capsys.readouterr().out
    assert "schema valid" in out and "37 criteria agree" in out


def test_quiet_prints_nothing_when_all_agree(capsys):
    assert main(["registry-check", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_a_disagreement_exits_1_and_lists_it(study_variant, capsys):
    path = study_variant("value: 160 mg", "value: 200 mg")
    assert main(["registry-check", "--study", str(path)]) == 1
    err = capsys.readouterr().err
    assert "interventions[0].dose: study.yaml says 200 mg" in err


def test_a_malformed_study_exits_2_without_a_traceback(study_variant, capsys):
    path = study_variant("value: 160 mg", "value: 160 mgg")
    assert main(["registry-check", "--study", str(path)]) == 2
    err = capsys.readouterr().err
    assert "interventions[0].dose.value" in err and "Traceback" not in err


def test_an_unreadable_record_exits_2(tmp_path, capsys):
    bad = tmp_path / "record.json"
    bad.write_text("{not json")
    assert main(["registry-check", "--record", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "cannot read the stored record: not valid JSON (line 1, column 2" in err


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert main(["no-such-command"]) == 2


# -- a --record that is not an API v2 study object of this study: exit 2, one line -------------

STUDY_OBJECT = "expected a ClinicalTrials.gov API v2 study object"
FILE_EXPECTED = "expected a UTF-8 JSON file of at most 1 MiB"


def _one_line_refusal(capsys, path, *phrases):
    assert main(["registry-check", "--record", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err  # one line
    assert err.startswith(f"error: {path}: "), err
    for phrase in phrases:
        assert phrase in err, err
    return err


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("null", "JSON null"),
        ("{}", "an empty JSON object"),
        ("[]", "a JSON array of 0 items"),
        ('[{"protocolSection": {}}]', "a JSON array of 1 item"),
        ('"NCT06375005"', "a JSON string 'NCT06375005'"),
        ("38", "a JSON number 38"),
        ("true", "JSON true"),
        ('{"hasResults": false}', "a JSON object without protocolSection (keys: 'hasResults')"),
        ('{"studies": [], "nextPageToken": "x"}', "(a search result: save one study"),
        ('{"protocolSection": null}', "protocolSection is JSON null"),
        ('{"protocolSection": [1]}', "protocolSection is a JSON array of 1 item"),
        ('{"protocolSection": "text"}', "protocolSection is a JSON string 'text'"),
        ('{"protocolSection": {}}', "protocolSection.identificationModule is missing"),
        (
            '{"protocolSection": {"identificationModule": []}}',
            "protocolSection.identificationModule is a JSON array",
        ),
        (
            '{"protocolSection": {"identificationModule": {"briefTitle": "x"}}}',
            "protocolSection.identificationModule without nctId",
        ),
        (
            '{"protocolSection": {"identificationModule": {"nctId": 6375005}}}',
            "nctId is a JSON number 6375005; expected an NCT number such as 'NCT06375005'",
        ),
        (
            '{"protocolSection": {"identificationModule": {"nctId": "nct06375005 "}}}',
            "nctId is a JSON string 'nct06375005 '",
        ),
        ("", "an empty file"),
        ("   \n", "an empty file"),
        ("{not json", "not valid JSON (line 1, column 2"),
        ('{"protocolSection": {}', "not valid JSON"),
        ('{"a": 1, "a": 2}', "the key 'a' twice in one object"),
        ('{"protocolSection": NaN}', "protocolSection is NaN, which is not a JSON number"),
        ('{"a": [1, {"b": -Infinity}]}', "a[1].b is -Infinity, which is not a JSON number"),
        ('{"count": 1e999}', "count is '1e999', too large a number; expected a finite"),
        ('{"x": {"count": ' + "9" * 5000 + "}}", "x.count is '9999"),
        (
            '{"protocolSection": {"identificationModule": null}}',
            "protocolSection.identificationModule is JSON null",
        ),
        (
            '{"protocolSection": {"identificationModule": {"nctId": "NCT06375005\\n"}}}',
            "nctId is a JSON string 'NCT06375005\\n'",
        ),
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    ],
)
def test_a_record_that_is_not_a_study_object_is_refused_in_one_line(
    tmp_path, capsys, content, found
):
    path = tmp_path / "record.json"
    path.write_text(content, encoding="utf-8")
    _one_line_refusal(capsys, path, found, "; expected")


def test_a_record_that_is_not_utf8_is_refused(tmp_path, capsys):
    path = tmp_path / "record.json"
    path.write_bytes(b'{"protocolSection": "\xe9t\xe9"}')
    _one_line_refusal(capsys, path, "is not UTF-8 text", FILE_EXPECTED)


def test_a_record_over_1_mib_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "record.json"
    path.write_text(" " * (1024 * 1024) + "{}", encoding="utf-8")
    _one_line_refusal(capsys, path, "is 1048578 bytes", FILE_EXPECTED)


def test_a_directory_a_missing_file_and_a_fifo_are_refused_before_opening(tmp_path, capsys):
    _one_line_refusal(capsys, tmp_path, "is a directory", FILE_EXPECTED)
    _one_line_refusal(capsys, tmp_path / "absent.json", "no such file", FILE_EXPECTED)
    if sys.platform == "win32" or not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "record.fifo"
    os.mkfifo(fifo)  # opening it would block until a writer came: it must never be opened
    _one_line_refusal(capsys, fifo, "is not a regular file", FILE_EXPECTED)


def test_the_record_of_another_study_is_refused_with_exit_2(tmp_path, capsys):
    """A record of another trial is the wrong input, not a change of this trial: refused (2),
    not compared field by field (1), which would list every field as if this trial changed."""
    record = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    record["protocolSection"]["identificationModule"]["nctId"] = "NCT06546540"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    _one_line_refusal(capsys, path, "the record of NCT06546540; expected the record of NCT06375005")


def test_a_study_object_without_the_fields_study_yaml_names_is_a_mismatch_not_a_crash(
    tmp_path, capsys
):
    path = tmp_path / "bare.json"
    path.write_text('{"protocolSection": {"identificationModule": {"nctId": "NCT06375005"}}}')
    assert main(["registry-check", "--record", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "design.phase: study.yaml says 'PHASE2', but the record at" in err
    assert "the record has no field 'protocolSection.designModule.phases[0]'" in err
    assert "criteria: study.yaml says 37 criteria" in err


def test_a_criteria_field_that_is_not_text_is_a_damaged_record(tmp_path, capsys):
    # the record's types are JSON's: an array where the registry writes text is bad input
    # (exit 2, one line), never read as a disagreement
    record = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    record["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = ["* Limited"]
    record["protocolSection"]["armsInterventionsModule"]["armGroups"] = {"0": "x"}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert main(["registry-check", "--record", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "eligibilityCriteria is a JSON array of 1 item" in err
    assert len(err.strip().splitlines()) == 1


json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["protocolSection", "identificationModule", "nctId", "x"]) | st.text(),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_documents)
def test_any_json_document_is_compared_or_refused_in_one_line(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("records") / "record.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["registry-check", "--record", str(path), "--quiet"])
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert err.getvalue().count("\n") == 1 and "; expected " in err.getvalue()
    else:  # a study object of this study with (almost) nothing in it: mismatches
        assert code == 1
        assert document["protocolSection"]["identificationModule"]["nctId"] == "NCT06375005"


# -- relabelling a registry fact as an assumption or literature cannot hide a change ----------


RELABELS = [
    # (rule key for traceability, yaml path, provenance, changed value, the record's words)
    (
        "lab_analytes.hemoglobin",
        ("lab_analytes", "name", "hemoglobin", "threshold"),
        "assumption",
        "< 12.0 g/dL",
        "'Hemoglobin <8.0 g/dL'",
    ),
    (None, "design.enrollment", "literature", 40, "enrollmentInfo.count says '38'"),
    (
        "corticosteroid_rule.daily_limit",
        "corticosteroid_rule.daily_limit",
        "assumption",
        "20 mg",
        "'Use of corticosteroids at doses exceeding the equivalent of prednisone 10 mg daily'",
    ),
    (
        "medication_classes.cyclophosphamide",
        ("medication_classes", "id", "cyclophosphamide", "window"),
        "assumption",
        "1 month",
        "'and cyclophosphamide within 3 months prior to randomization'",
    ),
    (
        "medication_classes.ivig",
        ("medication_classes", "id", "ivig", "window"),
        "assumption",
        "4 week",
        "Immunoglobulin (IVIG) within 12 weeks within 4 weeks",
    ),
    (
        "criterion_rules.mrss_minimum",
        "criterion_rules.mrss_minimum",
        "assumption",
        15,
        "'≥ 10 mRSS units at the screening visit'",
    ),
    (
        "interventions.telitacicept.dose",
        ("interventions", "id", "telitacicept", "dose"),
        "assumption",
        "200 mg",
        "'Telitacicept will be subcutaneously injected at a dose of 160mg per week'",
    ),
]


@pytest.mark.traces(
    "lab_analytes.hemoglobin",
    "corticosteroid_rule.daily_limit",
    "medication_classes.cyclophosphamide",
    "medication_classes.ivig",
    "criterion_rules.mrss_minimum",
    "interventions.telitacicept.dose",
)
@pytest.mark.parametrize(
    ("where", "provenance", "value", "words"),
    [r[1:] for r in RELABELS],
    ids=[r[1] if isinstance(r[1], str) else r[1][2] for r in RELABELS],
)
def test_a_registry_fact_relabelled_and_changed_exits_1_and_names_it(
    tmp_path, capsys, where, provenance, value, words
):
    yaml_path = where if isinstance(where, str) else fact_path(*where)
    path = relabelled(tmp_path, yaml_path, provenance, value)
    assert main(["registry-check", "--study", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"disagrees with {RECORD_PATH} in 1 place(s)" in err
    assert f"  - {yaml_path}: study.yaml says " in err
    assert f"(provenance {provenance}" in err
    assert words in err
    assert "must carry it as a registry fact" in err


def test_the_unmodified_study_passes_and_its_round_trip_too(tmp_path, capsys):
    """The negative control: the study, and the variants' YAML round trip alone, pass."""
    assert main(["registry-check", "--quiet"]) == 0
    path = round_tripped(tmp_path)
    assert main(["registry-check", "--study", str(path), "--quiet"]) == 0, capsys.readouterr().err


_MMF_WINDOW = (
    "    value: {}\n    provenance: registry\n    registry_field: protocolSection.eligibility"
    "Module.eligibilityCriteria\n    quote: and mycophenolate mofetil"
)
_CYCLOPHOSPHAMIDE_WINDOW = (
    "    value: {}\n    provenance: registry\n    registry_field: protocolSection.eligibility"
    "Module.eligibilityCriteria\n    quote: and cyclophosphamide"
)


@pytest.mark.parametrize(
    ("template", "old", "new", "code"),
    [
        # a window counted the same way on every date agrees, whatever its unit: 4 weeks is 28
        # days; `diff` already called these no change, registry-check a disagreement
        (_MMF_WINDOW, "4 week", "28 day", 0),
        (_CYCLOPHOSPHAMIDE_WINDOW, "3 month", "0.25 year", 2),  # no whole number of years
        # calendar months are not weeks: 3 months from 30 November is not 13 weeks from it
        (_CYCLOPHOSPHAMIDE_WINDOW, "3 month", "13 week", 1),
        (_MMF_WINDOW, "4 week", "1 month", 1),
    ],
)
def test_a_window_agrees_when_calendar_arithmetic_counts_it_the_same(
    study_variant, capsys, template, old, new, code
):
    path = study_variant(template.format(old), template.format(new))
    assert main(["registry-check", "--study", str(path), "--quiet"]) == code


def _arm(arm_id: str, label: str) -> str:
    fields = {"label": label, "type": "EXPERIMENTAL", "description": f"{label} (SYNTHETIC)"}
    lines = [f"  - id: {arm_id}"]
    for name, value in fields.items():
        lines += [f"    {name}:", f"      value: {value}", *_ASSUMED]
    lines += ["    intervention_names:", '      value: ["Drug: Telitacicept"]', *_ASSUMED]
    return "\n".join([*lines, ""])


_ASSUMED = ["      provenance: assumption", "      note: a synthetic amendment"]


@pytest.mark.parametrize("change", ["dropped", "added", "relabelled"])
def test_the_arms_are_the_records_arm_groups_one_for_one(study_text, tmp_path, change, capsys):
    # an amendment dropping the MMF arm (or adding one) passed: every remaining arm's facts
    # agreed, and the exports described a randomized, controlled trial of one arm
    start = study_text.index("  - id: mmf\n")
    end = study_text.index("\nsites:")
    codes = "arm_codes: {telitacicept_mmf: TELMMF, mmf: MMF}"
    if change == "dropped":
        text = study_text[:start] + study_text[end + 1 :]
        text = text.replace(codes, "arm_codes: {telitacicept_mmf: TELMMF}")
        expected = "1 arm(s)"
    elif change == "added":
        text = study_text[:end] + _arm("tel", "Telitacicept") + study_text[end:]
        text = text.replace(codes, "arm_codes: {telitacicept_mmf: TELMMF, mmf: MMF, tel: TEL}")
        expected = "3 arm(s)"
    else:  # the MMF arm relabelled, its label no longer taken from the record
        text = study_text.replace(
            "      value: Mycophenolate Mofetil\n      provenance: registry\n"
            "      registry_field: protocolSection.armsInterventionsModule.armGroups[1].label",
            "      value: Placebo\n      provenance: assumption\n      note: a synthetic amendment",
        )
        expected = "2 arm(s): 'Mycophenolate Mofetil + Telitacicept', 'Placebo'"
    path = tmp_path / "arms.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["registry-check", "--study", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"arms: study.yaml says {expected}" in err
    assert (
        "says 2 arm group(s): 'Mycophenolate Mofetil + Telitacicept', 'Mycophenolate Mofetil'"
        in err
    )
