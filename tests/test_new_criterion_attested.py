"""A criterion an amendment adds before the book has its rule (EX31 here, synthetic) is decided
by the investigator's attestation in the record, as IN07, EX16 and EX30 are; without one it is
unknown and names the attestation it needs. An attestation the study in use does not ask for
(EX24 is computed from the labs; EX31 is not a criterion of the trial's own study) is refused,
never ignored."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from prescreen.run import prescreen
from protocol.errors import ProtocolDataError
from protocol.participant import ParticipantRecord
from protocol.screening import screen
from protocol.study import STUDY_PATH, load_study

REPO = Path(__file__).resolve().parents[1]
CASE_1 = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
SCREENING = CASE_1["dates"]["screening"]


@pytest.fixture(scope="module")
def amended(tmp_path_factory) -> object:
    text = STUDY_PATH.read_text(encoding="utf-8")
    source = '    EX30: {en: "medical record", zh: "病历"}\n'
    text = text.replace(source, source + '    EX31: {en: "medical record", zh: "病历"}\n', 1)
    start = text.index("- id: EX30\n")
    end = text.index("\n\n", start)
    new = (
        "- id: EX31\n  short_name: Synthetic new exclusion\n  short_name_zh: 合成新排除标准\n"
        "  text: Participation in another interventional study of systemic sclerosis "
        "(SYNTHETIC).\n"
    )
    path = tmp_path_factory.mktemp("amended") / "amended.yaml"
    path.write_text(text[: end + 1] + new + text[end + 1 :], encoding="utf-8")
    return load_study(path)


def _record(**attestations) -> ParticipantRecord:
    data = copy.deepcopy(CASE_1)
    data.setdefault("attestations", {}).update(attestations)
    return ParticipantRecord.model_validate(data)


def _ex31(result):
    return next(c for c in result.criteria if c.id == "EX31")


@pytest.mark.parametrize(
    ("applies", "status", "verdict"), [(False, "pass", "eligible"), (True, "fail", "not_eligible")]
)
def test_an_attestation_decides_the_new_criterion(amended, applies, status, verdict):
    result = screen(_record(EX31={"applies": applies, "date": SCREENING}), amended)
    assert _ex31(result).status == status
    assert result.verdict == verdict
    assert "attests" in _ex31(result).reason


def test_without_one_it_is_unknown_and_names_the_attestation(amended):
    result = screen(_record(), amended)
    assert _ex31(result).status == "unknown"
    assert _ex31(result).missing == ["attestations.EX31"]
    assert result.verdict == "incomplete"


@pytest.mark.parametrize("name", ["EX24", "IN01", "EX31"])
def test_an_attestation_the_trials_own_study_does_not_ask_for_is_refused(name):
    with pytest.raises(ProtocolDataError, match=rf"attestations\.{name}"):
        screen(_record(**{name: {"applies": False, "date": SCREENING}}))


def test_a_computed_criterion_cannot_be_attested_in_the_amendment_either(amended):
    with pytest.raises(ProtocolDataError, match=r"attestations\.EX24"):
        screen(_record(EX24={"applies": False, "date": SCREENING}), amended)


@pytest.mark.parametrize("name", ["EX3O", "ex31", "EX031", "X31", "notes"])
def test_a_key_that_is_not_a_criterion_id_is_refused_when_read(name):
    with pytest.raises(ValueError, match="not a criterion ID"):
        _record(**{name: {"applies": False, "date": SCREENING}})


def test_its_date_is_held_to_the_screening_visit_like_the_others():
    later = SCREENING + dt.timedelta(days=1)
    with pytest.raises(ValueError, match=r"attestations\.EX31\.date"):
        _record(EX31={"applies": False, "date": later})


def test_prescreen_leaves_it_to_the_screening_visit(amended, tmp_path):
    table = pd.DataFrame(
        [{"participant": "SYN-A1", "dates.birth": str(CASE_1["dates"]["birth"]), "sex": "female"}]
    )
    table.to_csv(tmp_path / "t.csv", index=False)
    run = prescreen(tmp_path / "t.csv", as_of=SCREENING, study=amended)
    column = run.evaluation.criteria["EX31"]
    assert column.status[0] == "unknown"
    assert "EX31" not in str(run.table["to_review"][0])


def test_the_books_tables_describe_it_as_an_attestation(amended):
    from protocol.quick_reference import quick_reference
    from protocol.screening import describe
    from protocol.traceability import rules
    from protocol.worked_examples import calculator

    line = next(r for r in quick_reference(amended) if r.id == "EX31")
    assert (line.threshold, line.kind) == ("the investigator's attestation", "attested")
    assert describe("EX31", amended).startswith("the investigator's attestation")
    assert any("EX31" in str(rule) for rule in rules(amended))
    assert calculator("EX31", amended) is None  # no calculator decides it


def test_an_empty_attestation_is_no_attestation(amended):
    # "EX31: null", as "IN07: null" is read: nothing recorded, so the criterion stays open
    result = screen(_record(EX31=None), amended)
    assert _ex31(result).status == "unknown"


@pytest.mark.parametrize("name", ["EX31", "IN01", "EX24"])
def test_an_empty_attestation_the_study_does_not_ask_for_is_refused_too(name):
    with pytest.raises(ProtocolDataError, match=rf"attestations\.{name}"):
        screen(_record(**{name: None}))


def test_an_attestation_before_birth_is_refused():
    with pytest.raises(ValueError, match=r"attestations\.EX16\.date = 1950-01-01 is before"):
        _record(EX16={"applies": False, "date": dt.date(1950, 1, 1)})


@pytest.mark.parametrize("criterion", ["EX16", "EX30"])
@pytest.mark.parametrize("applies", [False, True])
@pytest.mark.parametrize(
    ("days_from_consent", "decided"),
    [(-2190, False), (-1, False), (0, True), (1, True)],  # 2019, the day before, on, after
)
def test_an_attestation_dated_before_the_consent_does_not_decide(
    criterion, applies, days_from_consent, decided
):
    # an attestation of 2019 for a screening of 2025 (EX16, a concurrent condition) passed:
    # nothing is assessed for the trial before consent, so such an attestation leaves the
    # criterion open until one made on or after the consent is recorded
    consent = SCREENING - dt.timedelta(days=10)  # the day after it is still before screening
    when = consent + dt.timedelta(days=days_from_consent)
    data = copy.deepcopy(CASE_1)
    data["dates"]["consent"] = consent
    data.setdefault("attestations", {})[criterion] = {"applies": applies, "date": when}
    result = screen(ParticipantRecord.model_validate(data))
    found = next(c for c in result.criteria if c.id == criterion)
    if decided:
        inclusion = criterion.startswith("IN")
        assert found.status == ("pass" if applies == inclusion else "fail")
    else:
        assert found.status == "unknown"
        assert found.missing == [f"attestations.{criterion}.date"]
        assert f"before the consent of {consent}" in found.reason
        assert result.verdict != "eligible"


def test_an_attestation_before_consent_decides_the_new_criterion_neither(amended):
    early = CASE_1["dates"]["consent"] - dt.timedelta(days=1)
    assert _ex31(screen(_record(EX31={"applies": False, "date": early}), amended)).status == (
        "unknown"
    )


@pytest.mark.parametrize(("days_before_screening", "decided"), [(1, False), (0, True)])
def test_without_a_consent_date_an_attestation_decides_only_on_the_screening_day(
    days_before_screening, decided
):
    # the consent may be any day up to the screening: an attestation before it may precede
    # the consent; one of the screening day follows it whatever its date
    data = copy.deepcopy(CASE_1)
    del data["dates"]["consent"]
    when = SCREENING - dt.timedelta(days=days_before_screening)
    data["attestations"]["EX16"] = {"applies": False, "date": when}
    found = next(
        c for c in screen(ParticipantRecord.model_validate(data)).criteria if c.id == "EX16"
    )
    if decided:
        assert found.status == "pass"
    else:
        assert (found.status, found.missing) == ("unknown", ["dates.consent"])


@pytest.mark.parametrize("days_from_consent", [-28, -27, -1, 0, -29, -30, -5 * 365])
def test_the_ability_to_consent_is_attested_before_or_on_the_consent(days_from_consent):
    # IN07 is the ability to render informed consent: judged before the consent is taken, so
    # its attestation the day before the consent decides it; but not one long before it (a
    # tester's record: an attestation of 2020 for a consent of 2025 passed, where EX16's is
    # unknown). The bound: the book's assumed schedule, at most 28 days from screening to
    # randomization, the longest a screening period runs
    data = copy.deepcopy(CASE_1)
    consent = SCREENING - dt.timedelta(days=10)
    data["dates"]["consent"] = consent
    when = consent + dt.timedelta(days=days_from_consent)
    data["attestations"]["IN07"] = {"applies": True, "date": when}
    found = next(
        c for c in screen(ParticipantRecord.model_validate(data)).criteria if c.id == "IN07"
    )
    if days_from_consent >= -28:
        assert found.status == "pass"
    else:
        assert (found.status, found.missing) == ("unknown", ["attestations.IN07.date"])
        assert "does not speak for this consent" in found.reason


def test_the_odm_form_captures_the_new_criterions_attestation(amended):
    """The eCRF (ODM) of the amended study asks for EX31's attestation, its answer and its
    date, as it asks for IN07's: without them the form could not capture what screen needs to
    decide EX31 (a reviewer found only a Yes/No item in the eligibility form). The trial's own
    study has no such group."""
    import re

    from exports.odm import build, validate_oids, validate_xml, xml_bytes

    data = xml_bytes(build(amended)).decode("utf-8")
    assert validate_xml(data.encode("utf-8")) == [] and validate_oids(build(amended)) == []
    assert re.search(
        r'<ItemGroupDef OID="IG.ATTESTATIONS.EX31" Name="Participation in another interventional '
        r'study of systemic sclerosis \(SYNTHETIC\) \(EX31\)"',
        data,
    )
    for part, kind in (("APPLIES", 'DataType="text" Length="1"'), ("DATE", 'DataType="date"')):
        ex31 = re.search(rf'<ItemDef OID="IT.ATTESTATIONS.EX31.{part}"[^>]*>.*?</ItemDef>', data)
        in07 = re.search(rf'<ItemDef OID="IT.ATTESTATIONS.IN07.{part}"[^>]*>.*?</ItemDef>', data)
        assert ex31 and in07 and kind in ex31.group()
        assert ex31.group().replace("EX31", "IN07") == in07.group()  # the same question
    # the groups follow IN07, EX16 and EX30 on the record form, in the criteria's order
    order = re.findall(r'ItemGroupRef ItemGroupOID="IG.ATTESTATIONS.(\w+)"', data)
    assert order == ["IN07", "EX16", "EX30", "EX31"]
    own = xml_bytes(build(load_study())).decode("utf-8")
    assert "IG.ATTESTATIONS.EX31" not in own
