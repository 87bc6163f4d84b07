"""`trialbook diff` (issue 16): what changed between two versions of study.yaml, and whom.

The synthetic amendment raises the haemoglobin threshold to < 9.0 g/dL, lengthens the
immunosuppressant washout (methotrexate, mycophenolate mofetil) to 6 weeks and adds an
exclusion. Expected changes are worked out by hand from the worked cases:
- SYN-11's haemoglobin is exactly 80 g/L = 8.0 g/dL: it passes < 8.0 and fails < 9.0 (EX24);
- SYN-13's methotrexate was last taken 2025-02-16, 4 weeks and 1 day before its planned
  randomization 2025-03-17: outside a 4-week window, inside a 6-week one (EX09);
- the new exclusion has no executable rule yet: unknown for everyone, so every other eligible
  case becomes incomplete, and no case becomes eligible.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from protocol.amendments import criterion_changes, diff, fact_changes, same_value
from tests.conftest import REPO
from trialbook.cli import main

STUDY = REPO / "protocol" / "study.yaml"
MMF_WINDOW = (
    "    value: 4 week\n    provenance: registry\n"
    "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
    "    quote: and mycophenolate mofetil within 4 weeks"
)
NEW_EXCLUSION = (
    "- id: EX31\n  short_name: Synthetic new exclusion\n  short_name_zh: 合成新排除标准\n"
    "  text: Participation in another interventional study of systemic sclerosis (SYNTHETIC).\n"
)
ELIGIBLE = {"SYN-01", "SYN-02", "SYN-05", "SYN-06", "SYN-09", "SYN-11", "SYN-13"}


def _version(tmp_path, name: str, *replacements: tuple[str, str], append: str = "") -> str:
    text = STUDY.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    if append:
        anchor = "- id: EX30\n"
        start = text.index(anchor)
        end = text.index("\n- id:", start + 1) if "\n- id:" in text[start + 1 :] else None
        block_end = text.index("\n\n", start) if end is None else end
        text = text[: block_end + 1] + append + text[block_end + 1 :]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


EX30_SOURCE = '    EX30: {en: "medical record", zh: "病历"}\n'
NEW_SOURCE = EX30_SOURCE + '    EX31: {en: "medical record", zh: "病历"}\n'


@pytest.fixture
def amended(tmp_path):
    return _version(
        tmp_path,
        "amended.yaml",
        ('value: "< 8.0 g/dL"', 'value: "< 9.0 g/dL"'),
        (MMF_WINDOW, MMF_WINDOW.replace("value: 4 week", "value: 6 week")),
        (EX30_SOURCE, NEW_SOURCE),
        append=NEW_EXCLUSION,
    )


def test_the_amendments_facts_criteria_and_cases(amended):
    result = diff(str(STUDY), amended)
    values = {(c.path, c.kind): (c.old, c.new) for c in result.facts if c.kind == "value"}
    assert values == {
        ("lab_analytes[name=hemoglobin].threshold.value", "value"): ("< 8.0 g/dL", "< 9.0 g/dL"),
        ("medication_classes[id=immunosuppressants].window.value", "value"): ("4 week", "6 week"),
    }
    added = {c.path for c in result.facts if c.kind == "added"}
    assert added == {
        "source_documents.value.EX31.en",
        "source_documents.value.EX31.zh",
        "criteria[id=EX31].id",
        "criteria[id=EX31].short_name",
        "criteria[id=EX31].short_name_zh",
        "criteria[id=EX31].text",
    }
    assert not [c for c in result.facts if c.kind in ("removed", "provenance")]
    assert [(c.id, c.kind) for c in result.criteria] == [("EX31", "added")]
    verdicts = {i.participant: (i.old_verdict, i.new_verdict) for i in result.impact}
    assert verdicts["SYN-11"] == ("eligible", "not_eligible")
    assert verdicts["SYN-13"] == ("eligible", "not_eligible")
    for participant in ELIGIBLE - {"SYN-11", "SYN-13"}:
        assert verdicts[participant] == ("eligible", "incomplete")
    assert not any(new == "eligible" for _, new in verdicts.values())
    moved = {i.participant: {c[0]: c[1:3] for c in i.criteria} for i in result.impact}
    assert moved["SYN-11"] == {"EX24": ("pass", "fail"), "EX31": ("(new)", "unknown")}
    assert moved["SYN-13"] == {"EX09": ("pass", "fail"), "EX31": ("(new)", "unknown")}
    assert all(set(m) <= {"EX24", "EX09", "EX31", "randomization"} for m in moved.values())
    # SYN-12, not eligible already, now needs rescreening as well: its methotrexate's 6-week
    # window clears on 2025-04-01, more than 28 days after its screening visit (2025-03-03)
    assert moved["SYN-12"]["randomization"] == ("within the schedule", "rescreening needed")
    assert [m for p, m in moved.items() if "randomization" in m] == [moved["SYN-12"]]
    # SYN-13's methotrexate clears a 6-week window on 2025-03-31 (2025-02-16 + 42 days + 1)
    assert any(
        m.where.startswith("case13") and "methotrexate" in m.what and m.new == "2025-03-31"
        for m in result.dates
    )
    # the amended version disagrees with the stored registry record, reported not refused
    # the threshold, the window, the number of exclusion criteria (31, the record's 30) and
    # the criterion the record does not have yet
    disagreements = result.new.registry_disagreements
    assert len(disagreements) == 4
    assert any("< 9.0 g/dL" in d for d in disagreements)
    assert any("30 exclusion criteria" in d for d in disagreements)
    assert any("(EX31)" in d and "no such exclusion criterion" in d for d in disagreements)
    assert result.old.registry_disagreements == ()


def test_the_same_quantity_in_other_units_is_no_change(tmp_path):
    weeks_as_days = _version(
        tmp_path, "days.yaml", (MMF_WINDOW, MMF_WINDOW.replace("value: 4 week", "value: 28 day"))
    )
    result = diff(str(STUDY), weeks_as_days)
    assert result.facts == [] and result.impact == []
    assert not [m for m in result.dates if "clears on" in m.what and m.old != m.new]


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ("4 week", "28 day", True),
        ("4 week", "29 day", False),
        ("18 month", "1.5 year", True),
        ("10 mg", "0.01 g", True),
        ("10 mg", "10 mL", False),
        ("< 8.0 g/dL", "< 80 g/L", True),  # the same threshold in SI units
        ("< 8.0 g/dL", "> 8.0 g/dL", False),
        ("1 to 25 g/dL", "10 to 250 g/L", True),
        ("2024-0381", "2024-0382", False),  # a code, not a number
        ("3-4", "2-3", False),
        ("9**9**9 hours", "1 hours", False),  # never evaluated (it would not finish)
        ("IN01", "IN01", True),
        (9, 9.0, True),
        # a threshold moved by more than a conversion's rounding is a change: 8.000000005 g/dL
        # flipped a record at 8.0 and read as no change (the labs' boundary tolerance)
        ("< 8.0 g/dL", "< 8.000000005 g/dL", False),
        ("< 8.0 g/dL", "< 8.00000000001 g/dL", False),
        ("< 8.0 g/dL", "< 80.0000000000000 g/L", True),
        # a visit window as an ISO 8601 duration: the same length is no change
        ("P7D", "P1W", True),
        ("P14D", "P2W", True),
        ("P7D", "P8D", False),
        ("P28D", "P1M", False),  # a month is not a number of days
        ("P0D", "PT0S", True),
        ("P7D", "P7", False),  # not a duration
    ],
)
def test_same_value(old, new, same):
    assert same_value(old, new) is same


def test_a_provenance_change_is_reported_as_one():
    old = {"x": {"value": 1, "provenance": "assumption", "note": "a"}}
    new = {"x": {"value": 1, "provenance": "assumption", "note": "b"}}
    (change,) = fact_changes(old, new)
    assert (change.path, change.kind, change.old, change.new) == ("x.note", "provenance", "a", "b")


def test_renumbered_and_reworded_criteria(tmp_path):
    from protocol.study import load_study

    study = load_study()
    criteria = list(study.criteria)
    reworded = criteria[0].model_copy(update={"text": "Men or women aged 18-75 years old."})
    renumbered = criteria[-1].model_copy(update={"id": "EX99"})
    new = study.model_copy(update={"criteria": [reworded, *criteria[1:-1], renumbered]})
    changes = {(c.id, c.kind): c for c in criterion_changes(study, new)}
    assert changes[("IN01", "text")].words == "Men or women aged [-18-70-] {+18-75+} years old."
    assert changes[("EX99", "renumbered")].old == "EX30"
    assert len(changes) == 2


def test_the_command_exit_codes_and_formats(amended, capsys):
    assert main(["diff", str(STUDY), str(STUDY)]) == 0
    assert "No change" in capsys.readouterr().out
    assert main(["diff", str(STUDY), amended, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["changed"] is True and {c["id"] for c in data["criteria"]} == {"EX31"}
    assert main(["diff", str(STUDY), amended, "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert (
        "| lab\\_analytes\\[name=hemoglobin\\].threshold.value | \\< 8.0 g/dL | \\< 9.0 g/dL |"
        in out
    )


@pytest.mark.parametrize("form", ["text", "markdown"])
def test_verdicts_are_written_in_words_for_readers(amended, capsys, form):
    # the JSON keeps the codes programs compare; text and Markdown are read by people
    assert main(["diff", str(STUDY), amended, "--format", form]) == 1
    out = capsys.readouterr().out
    assert "not_eligible" not in out
    assert "eligible -> not eligible" in out or "eligible → not eligible" in out
    assert main(["diff", str(STUDY), amended, "--format", "json"]) == 1
    assert '"new_verdict": "not_eligible"' in capsys.readouterr().out


def test_a_records_folder(tmp_path, amended, capsys):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "r.yaml").write_text(
        (REPO / "book" / "cases" / "case11-labs-exactly-at-thresholds.yaml").read_text(
            encoding="utf-8"
        ),
        encoding="utf-8",
    )
    assert main(["diff", str(STUDY), amended, "--records", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "Records whose screening changes: 1 of 1" in out


@pytest.mark.parametrize("form", ["text", "markdown", "json"])
def test_a_record_file_named_after_a_person_is_shown_by_its_code_alone(
    tmp_path, amended, capsys, form
):
    # helper 127: "Zhang Wei.yaml (SYN-04): not eligible -> incomplete"; a file name is shown
    # where it reads as a pseudonymous code, as the participant code must
    folder = tmp_path / "records"
    folder.mkdir()
    case = (REPO / "book" / "cases" / "case11-labs-exactly-at-thresholds.yaml").read_text(
        encoding="utf-8"
    )
    names = ["Zhang Wei.yaml", "张伟.yaml", "maria.yaml", "13812345678.yaml", "SYN-11.yaml"]
    for name in names:
        (folder / name).write_text(case, encoding="utf-8")
    assert main(["diff", str(STUDY), amended, "--records", str(folder), "--format", form]) == 1
    out = capsys.readouterr().out
    for person in ("Zhang", "张伟", "maria", "13812345678"):
        assert person not in out
    assert "file name withheld: it may name a person" in out
    # each line that withholds a file name says whose record it is (helper 128: the dates that
    # move named none), and no bracket is doubled
    withheld = [line for line in out.splitlines() if "file name withheld" in line]
    if form != "json":  # (the JSON gives the participant in its own key)
        assert withheld and all("SYN-11" in line for line in withheld)
    assert "((" not in out
    assert "SYN-11.yaml" in out


def test_every_bad_record_in_the_folder_is_named(tmp_path, capsys):
    """Three records that cannot be read are named at once, each by its file and field (only
    the first was named, so a site corrected them one run at a time); one is named alone."""
    folder = tmp_path / "records"
    folder.mkdir()
    good = (REPO / "book" / "cases" / "case01-eligible.yaml").read_text(encoding="utf-8")
    (folder / "a-good.yaml").write_text(good, encoding="utf-8")
    (folder / "b2-misspelt.yaml").write_text("participant: SYN-2\nfoo: 1\n", encoding="utf-8")
    (folder / "c3-broken.yaml").write_text("participant: SYN-3\nbar: [\n", encoding="utf-8")
    (folder / "d4-date.yaml").write_text(
        good.replace("birth: 1978-06-14", "birth: 1978-02-30"), encoding="utf-8"
    )
    assert "birth: 1978-06-14" in good
    assert main(["diff", str(STUDY), str(STUDY), "--records", str(folder)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3, err
    assert "b2-misspelt.yaml: foo" in err[0] and "unknown field" in err[0]
    assert "c3-broken.yaml" in err[1] and "not valid YAML" in err[1]
    assert "d4-date.yaml: dates.birth" in err[2] and "1978-02-30" in err[2]
    (folder / "b2-misspelt.yaml").unlink()
    (folder / "c3-broken.yaml").unlink()
    assert main(["diff", str(STUDY), str(STUDY), "--records", str(folder)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {folder / 'd4-date.yaml'}: dates.birth")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("- just\n- a list\n", "as a study.yaml"),
        ("schema_version: 1\n", "as a study.yaml"),
    ],
)
def test_a_version_that_is_not_a_study_exits_2_naming_it(tmp_path, capsys, content, words):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    assert main(["diff", str(STUDY), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad} ({words})" in err and "Traceback" not in err


def test_a_version_that_fails_validation_exits_2_naming_it(tmp_path, capsys):
    broken = _version(tmp_path, "broken.yaml", ('value: "< 8.0 g/dL"', 'value: "< 8.0 furlongs"'))
    assert main(["diff", str(STUDY), broken]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml (as a study.yaml)" in err and "lab_analytes[0].threshold" in err


@pytest.mark.parametrize("revision", ["no-such-revision-xyz", "HEAD~100000"])
def test_an_unknown_revision_exits_2(capsys, revision):
    assert main(["diff", revision, str(STUDY)]) == 2
    assert "git knows no such revision" in capsys.readouterr().err


def test_a_revision_is_never_an_option_to_git():
    from protocol.amendments import read_version
    from protocol.errors import ProtocolDataError

    with pytest.raises(ProtocolDataError, match="neither"):
        read_version("--output=/tmp/x")


def test_a_git_revision_is_read_with_git_show(capsys):
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    code = main(["diff", "HEAD", str(STUDY)])
    assert code in (0, 1)
    assert "Traceback" not in capsys.readouterr().err


RECORD = REPO / "protocol" / "registry" / "NCT06375005.json"


def _record_copy(tmp_path, change) -> str:
    data = json.loads(RECORD.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "new.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_registry_diff_writes_values_as_the_record_does(tmp_path, capsys):
    # a tester saw Python's False for one field and JSON's true for another
    def amend(data):
        del data["protocolSection"]["eligibilityModule"]["healthyVolunteers"]
        data["protocolSection"]["oversightModule"] = {"oversightHasDmc": True}

    assert main(["registry-diff", str(RECORD), _record_copy(tmp_path, amend)]) == 1
    out = capsys.readouterr().out
    assert "    before: false" in out and "    after:  true" in out
    assert "False" not in out and "True" not in out


def test_registry_diff_names_each_changed_field(tmp_path, capsys):
    def amend(data):
        data["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
        data["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 40

    new = _record_copy(tmp_path, amend)
    assert main(["registry-diff", str(RECORD), new, "--json"]) == 1
    changes = {c["path"]: (c["old"], c["new"]) for c in json.loads(capsys.readouterr().out)}
    assert changes == {
        "protocolSection.statusModule.overallStatus": ("RECRUITING", "COMPLETED"),
        "protocolSection.designModule.enrollmentInfo.count": (38, 40),
    }
    assert main(["registry-diff", str(RECORD), str(RECORD)]) == 0


def test_registry_diff_refuses_another_study_and_a_file_that_is_not_a_record(tmp_path, capsys):
    def other(data):
        data["protocolSection"]["identificationModule"]["nctId"] = "NCT00000000"

    assert main(["registry-diff", str(RECORD), _record_copy(tmp_path, other)]) == 2
    assert "the same study" in capsys.readouterr().err
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    assert main(["registry-diff", str(RECORD), str(junk)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_a_revision_with_a_path_is_refused_with_a_clear_message(capsys):
    assert main(["diff", "HEAD:protocol/study.yaml", str(STUDY)]) == 2
    assert "a git revision alone" in capsys.readouterr().err


@pytest.mark.parametrize("given", ["HEAD..HEAD~1", "HEAD~1...HEAD"])
def test_a_range_of_revisions_is_refused_with_a_clear_message(capsys, given):
    # git shows nothing for a range: it was read as an empty study ("found None")
    assert main(["diff", "HEAD", given]) == 2
    err = capsys.readouterr().err
    assert "a range of revisions" in err and "None" not in err


# -- found by an independent hostile review ---------------------------------------------------


def test_text_that_is_not_a_quantity_is_compared_as_text(tmp_path, capsys):
    org = _version(tmp_path, "org.yaml", ('value: "2024-0381"', 'value: "2024-0382"'))
    assert main(["diff", str(STUDY), org]) == 1
    assert "identification.org_study_id.value" in capsys.readouterr().out


def test_unit_text_is_never_evaluated(tmp_path):
    import time

    # pint would evaluate this expression (and not finish); the comparison reads it as text
    start = time.monotonic()
    assert not same_value("9**9**9 hours", "1 hours")
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    ("replacement", "code"),
    [
        ((MMF_WINDOW, MMF_WINDOW.replace("value: 4 week", "value: 28 day")), 0),
        (('value: "< 8.0 g/dL"', 'value: "< 80 g/L"'), 0),
        ((MMF_WINDOW, MMF_WINDOW.replace("value: 4 week", "value: 1 month")), 1),
    ],
)
def test_the_same_rule_in_other_units_is_no_change_at_all(tmp_path, capsys, replacement, code):
    version = _version(tmp_path, "units.yaml", replacement)
    assert main(["diff", str(STUDY), version]) == code
    out = capsys.readouterr().out
    if code == 0:
        assert "Dates that move: 0" in out and "Facts changed: 0" in out


def test_a_removed_and_a_renumbered_criterion(tmp_path):
    from protocol.study import load_study

    study = load_study()
    criteria = list(study.criteria)
    ex29, ex30 = criteria[-2], criteria[-1]
    new = study.model_copy(
        update={"criteria": [*criteria[:-2], ex30.model_copy(update={"id": "EX29"})]}
    )
    changes = sorted((c.kind, c.id, c.old) for c in criterion_changes(study, new))
    assert changes == [("removed", "EX29", ex29.text), ("renumbered", "EX29", "EX30")]


def test_a_record_a_version_refuses_is_reported_not_an_error(tmp_path, capsys):
    narrower = _version(
        tmp_path,
        "range.yaml",
        ("value: 1 to 25 g/dL", "value: 7.95 to 25 g/dL"),  # 7.9 g/dL refused, 8.0 inside
    )
    assert main(["diff", str(STUDY), narrower]) == 1
    out = capsys.readouterr().out
    assert "case10-hemoglobin-79-g-per-l.yaml (SYN-10): not eligible -> refused:" in out


def test_two_sites_with_one_name_are_told_apart(tmp_path, capsys):
    def two_sites(data):
        locations = data["protocolSection"].setdefault("contactsLocationsModule", {})
        locations["locations"] = [
            {"facility": "Research Site", "city": "A"},
            {"facility": "Research Site", "city": "B"},
        ]

    def one_withdrawn(data):
        two_sites(data)
        data["protocolSection"]["contactsLocationsModule"]["locations"].pop()

    old = _record_copy(tmp_path, two_sites)
    new = tmp_path / "newer.json"
    new.write_text(json.dumps(_loaded(old, one_withdrawn), ensure_ascii=False), encoding="utf-8")
    assert main(["registry-diff", old, str(new)]) == 1
    assert "removed: protocolSection.contactsLocationsModule.locations[facility=Research Site" in (
        capsys.readouterr().out
    )


def _loaded(path, change):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    change(data)
    return data


def test_the_book_page_finds_the_stored_earlier_version(tmp_path, monkeypatch):
    # a history of two versions: the earlier one is read from protocol/versions/DATE.yaml
    import protocol.amendments as amendments
    from protocol.study import load_study

    study = load_study()
    assert amendments.previous_version(study) is None  # the book's first version
    earlier = study.protocol_version.history[0]
    current = earlier.model_copy(
        update={"label": "amendment 1", "date": earlier.date.replace(year=2026)}
    )
    amended = study.model_copy(
        update={
            "protocol_version": study.protocol_version.model_copy(
                update={"label": current.label, "date": current.date, "history": [current, earlier]}
            )
        }
    )
    monkeypatch.setattr(amendments, "VERSIONS", tmp_path)
    assert amendments.previous_version(amended) is None  # not stored: nothing to compare
    stored = tmp_path / f"{earlier.date.isoformat()}.yaml"
    stored.write_text(STUDY.read_text(encoding="utf-8"), encoding="utf-8")
    assert amendments.previous_version(amended) == stored


def test_a_changed_dose_moves_no_date_and_a_changed_frequency_does(study_variant):
    # mycophenolate 0.5 g -> 1 g listed all 2,688 doses as gone and new under "dates that move"
    from datetime import date

    from dosing.calendar import calendar_moves
    from protocol.study import load_study

    study = load_study()
    one_gram = load_study(study_variant("      value: 0.5 g\n", "      value: 1 g\n"))
    assert calendar_moves(study, one_gram, date(2025, 3, 17)) == []
    # the treatment epoch lasts as long as the treatment: amended with it
    longer_text = study_variant("      value: 48 week\n", "      value: 52 week\n", count=2)
    epoch = "duration: 48 week, first_visit: randomization}"
    text = longer_text.read_text(encoding="utf-8").replace(epoch, epoch.replace("48", "52"))
    longer_text.write_text(text, encoding="utf-8")
    longer = load_study(longer_text)
    moves = calendar_moves(study, longer, date(2025, 3, 17))
    # 52 weeks: 4 more weekly injections in the experimental arm, each a new line
    new = [after for arm, before, after in moves if before == "(new)" and "Telitacicept" in after]
    assert len(new) == 4 and all(line.endswith(" Telitacicept dose") for line in new)
    assert not any(after == "(gone)" and "visit" in before for _, before, after in moves)


def test_a_change_deep_in_a_long_registry_field_is_shown():
    # EX24's haemoglobin 8.0 -> 9.0 sits past the first 160 characters of the eligibility text:
    # before and after, cut there, read the same
    from protocol.amendments import FactChange, format_registry_changes

    start = "Inclusion Criteria: " + "word " * 60
    old, new = start + "Hemoglobin <8.0 g/dL; WBC <3", start + "Hemoglobin <9.0 g/dL; WBC <3"
    text = format_registry_changes("a.json", "b.json", [FactChange("p", old, new, "value")])
    assert "words:  … word word word word word Hemoglobin [-<8.0-] {+<9.0+} g/dL; WBC <3" in text


def test_a_value_that_changed_its_type_reads_differently():
    # an enrollment count of 38 written as "38" showed "before: 38 / after: 38"
    from protocol.amendments import FactChange, format_registry_changes

    text = format_registry_changes("a", "b", [FactChange("count", 38, "38", "value")])
    assert 'before: 38\n    after:  "38"' in text


def test_a_name_that_is_both_a_file_and_a_revision_is_refused(tmp_path, monkeypatch, capsys):
    # a file named HEAD in the working folder silently won over the revision HEAD
    from protocol.study import STUDY_PATH
    from trialbook.cli import main

    (tmp_path / "HEAD").write_bytes(STUDY_PATH.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert main(["diff", "HEAD", str(STUDY_PATH)]) == 2
    assert "both a file here and a git revision" in capsys.readouterr().err
    assert main(["diff", "./HEAD", str(STUDY_PATH)]) == 0  # the file, said so


DEFLAZACORT = """  - name: deflazacort
    chinese_name: 地夫可特
    named_in_record: true
    prednisone_5mg_equivalent:
      value: 6 mg
      provenance: literature
      source: bnf-corticosteroids
"""


def test_a_version_that_counts_one_steroid_fewer_moves_the_courses_taken_together(tmp_path, capsys):
    # two steroid courses are taken together (an entry of their own) only where both are
    # catalogued steroids: a version without deflazacort has one entry fewer, and diff stopped
    # with an internal error pairing the entries by position
    without = _version(tmp_path, "without.yaml", (DEFLAZACORT, ""))
    records = tmp_path / "records"
    records.mkdir()
    data = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
    data["dates"]["planned_randomization"] = data["dates"]["screening"]
    data["medications"] = [
        {
            "name": name,
            "start": date(2025, 1, 1),
            "ongoing": True,
            "dose": dose,
            "frequency": "daily",
            "route": "oral",
        }
        for name, dose in (("prednisone", "2.5 mg"), ("deflazacort", "6 mg"))
    ]
    dumper = type("NoAliases", (yaml.SafeDumper,), {"ignore_aliases": lambda self, data: True})
    (records / "steroids.yaml").write_text(yaml.dump(data, Dumper=dumper), encoding="utf-8")
    for old, new in ((str(STUDY), without), (without, str(STUDY))):
        assert main(["diff", old, new, "--records", str(records)]) == 1
        out = capsys.readouterr().out
        assert "corticosteroids together" in out
        assert "(not checked by the" in out


def test_an_earlier_version_without_regions_is_read_as_it_was_meant(tmp_path, capsys):
    # study.yaml gave the mRSS areas no `distal` before the face was read as neither region:
    # such a version reads the face as distal, as the book then did, so diff shows the record
    # with the face and proximal areas thickened and the fingers at 0 (both finger items
    # absent, sparing the fingers not recorded) moving from diffuse to "proximal only": IN03
    # passes under the earlier version and fails under this one. (With "the thickening does
    # not spare the fingers" recorded, fingers at 0 beside both items absent are a
    # contradiction, and any finger item not recorded is met: the subset is diffuse in both.)
    earlier = _version(
        tmp_path,
        "earlier.yaml",
        ("- {name: face, proximal: false, distal: false}", "- {name: face, proximal: false}"),
    )
    records = tmp_path / "records"
    records.mkdir()
    data = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
    areas = data["ssc"]["mrss"]["areas"]
    for name in areas:
        areas[name] = 0
    areas.update(face=3, anterior_chest=3, abdomen=3, right_upper_arm=3, left_upper_arm=3)
    data["ssc"]["acr_eular"].update(skin_thickening_proximal_to_mcp=False, sclerodactyly=False)
    data["ssc"]["acr_eular"].pop("skin_thickening_sparing_fingers")
    dumper = type("NoAliases", (yaml.SafeDumper,), {"ignore_aliases": lambda self, data: True})
    (records / "face-01.yaml").write_text(yaml.dump(data, Dumper=dumper), encoding="utf-8")
    assert main(["diff", earlier, str(STUDY), "--records", str(records)]) == 1
    out = capsys.readouterr().out
    # (not eligible under both all the same: IN02 reads the thickening as sparing the
    # fingers, graded 0 beside other areas thickened with both finger items absent)
    assert "face-01.yaml (SYN-01): not eligible -> not eligible" in out
    assert "IN03 pass -> fail" in out


def test_a_long_text_changed_after_its_shown_part_says_which_words_changed(tmp_path, capsys):
    # diff cuts a value at 160 characters: a note changed beyond them printed the same
    # "before" and "after"; the changed words follow
    text = STUDY.read_text(encoding="utf-8")
    end = text.index("\n", text.index("  note: LeRoy subsets"))
    changed = tmp_path / "note.yaml"
    changed.write_text(text[:end] + " Read by the book (SYNTHETIC)." + text[end:], "utf-8")
    assert main(["diff", str(STUDY), str(changed)]) == 1
    out = capsys.readouterr().out
    shown = next(line for line in out.splitlines() if "skin_score.note" in line)
    before, after = shown.split(": ", 2)[2].split(" -> ")
    assert before == after  # the cut texts read the same ...
    words = next(line for line in out.splitlines() if line.startswith("    words:  "))
    assert words.endswith("{+Read by the book (SYNTHETIC).+}")  # ... the words do not


def test_the_markdown_of_a_long_text_changed_after_its_shown_part_has_the_changed_words(
    tmp_path, capsys
):
    text = STUDY.read_text(encoding="utf-8")
    end = text.index("\n", text.index("  note: LeRoy subsets"))
    changed = tmp_path / "note.yaml"
    changed.write_text(text[:end] + " Read by the book (SYNTHETIC)." + text[end:], "utf-8")
    assert main(["diff", str(STUDY), str(changed), "--format", "markdown"]) == 1
    row = next(line for line in capsys.readouterr().out.splitlines() if "skin\\_score.note" in line)
    assert row.endswith("{+Read by the book (SYNTHETIC).+} |") and "| provenance: … " in row


def test_a_source_document_out_of_step_with_the_criteria_is_named_in_words(tmp_path, capsys):
    # helper 127: "missing [], unknown ['EX30']", Python's lists, for a document left behind
    orphan = _version(
        tmp_path,
        "orphan.yaml",
        (
            '    EX30: {en: "medical record"',
            '    EX99: {en: "x", zh: "x"}\n    EX30: {en: "medical record"',
        ),
    )
    assert main(["diff", str(STUDY), orphan]) == 2
    err = capsys.readouterr().err
    assert "one for EX99, which is no criterion of the study" in err
    assert "[" not in err.split("source_documents", 1)[1]


def test_a_new_criterion_says_why_it_has_no_earlier_reason(amended, capsys):
    # each record printed "EX31 (new) -> unknown" over an empty "before:" line
    assert main(["diff", str(STUDY), amended]) == 1
    out = capsys.readouterr().out
    assert "before: (not in this version: the criterion is new)" in out
    assert not [line for line in out.splitlines() if line.strip() in ("before:", "after:")]


def test_a_refused_record_named_after_a_person_is_named_by_its_folder(tmp_path, capsys):
    # helper 129: the refusal printed ".../Zhang Wei.yaml: sex (line 8) = 'femme'"
    folder = tmp_path / "records"
    folder.mkdir()
    case = (REPO / "book" / "cases" / "case01-eligible.yaml").read_text(encoding="utf-8")
    assert "sex: female" in case
    (folder / "Zhang Wei.yaml").write_text(case.replace("sex: female", "sex: femme"), "utf-8")
    assert main(["diff", str(STUDY), str(STUDY), "--records", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Zhang" not in err and "femme" in err
    assert "file name withheld: it may name a person (record 1 of 1)" in err
