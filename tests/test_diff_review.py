"""`diff` and `registry-diff` as a reviewer of an amendment reads them (a hostile tester's
findings, each with the class it belongs to):

- two criteria may share a text (EX26 and EX29): rewording one is a rewording, never an
  addition and a removal;
- a verdict the visit schedule changes (the days from screening to randomization) says why;
- a disagreement with the registry record that only one version has is part of the change,
  and the order of the sites is no disagreement (each differing site is named instead);
- a registry entry added under a name another entry has is an entry added, not both renamed.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.amendments import Diff, Version, criterion_changes, impact, registry_changes
from protocol.registry_check import RECORD_PATH, cross_check, load_record
from protocol.study import STUDY_PATH, load_study
from tests.test_study_cache import CASES


def _criteria(texts: list[str]) -> SimpleNamespace:
    return SimpleNamespace(
        criteria=[SimpleNamespace(id=f"EX{i + 1:02d}", text=t) for i, t in enumerate(texts)]
    )


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.sampled_from(["alpha beta", "gamma delta", "epsilon zeta"]), min_size=1, max_size=8
    ),
    data=st.data(),
)
def test_rewording_any_one_criterion_is_one_rewording(texts, data):
    # texts drawn from three, so most lists hold a text twice: whichever criterion is reworded,
    # the change is that criterion's text, word by word, and nothing else
    at = data.draw(st.integers(0, len(texts) - 1))
    reworded = [*texts]
    reworded[at] = texts[at] + " changed"
    changes = criterion_changes(_criteria(texts), _criteria(reworded))
    assert [(c.id, c.kind) for c in changes] == [(f"EX{at + 1:02d}", "text")]
    assert "{+changed+}" in changes[0].words


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.text("abc", min_size=1, max_size=6), min_size=2, max_size=8, unique=True))
def test_a_criterion_inserted_in_the_middle_shifts_the_rest_as_renumbered(texts):
    at = len(texts) // 2
    shifted = [*texts[:at], "a criterion the amendment inserts", *texts[at:]]
    changes = criterion_changes(_criteria(texts), _criteria(shifted))
    expected = {(f"EX{at + 1:02d}", "added")} | {
        (f"EX{old + 2:02d}", "renumbered") for old in range(at, len(texts))
    }
    assert {(c.id, c.kind) for c in changes} == expected


def test_the_books_ex26_reworded_is_one_rewording(tmp_path):
    text = STUDY_PATH.read_text(encoding="utf-8")
    start = text.index("- id: EX26\n")
    end = text.index("- id: EX27\n")
    block = text[start:end]
    assert "within 4 weeks prior" in block
    variant = tmp_path / "study.yaml"
    variant.write_text(
        text[:start] + block.replace("within 4 weeks prior", "within 6 weeks prior") + text[end:],
        encoding="utf-8",
    )
    changes = criterion_changes(load_study(), load_study(variant))
    assert [(c.id, c.kind) for c in changes] == [("EX26", "text")]
    assert "[-4-] {+6+}" in changes[0].words


def test_a_verdict_the_schedule_changes_says_why(varied_study):
    # 13 days from screening to randomization: the worked cases, randomized 14 days after
    # screening, need rescreening; the diff says so, in screen's words
    shorter = varied_study(
        (
            "{id: screening, label: Screening, day: -28, window_before: P0D, window_after: P28D,",
            "{id: screening, label: Screening, day: -13, window_before: P0D, window_after: P13D,",
        ),
        ("duration: 28 day, first_visit: screening", "duration: 13 day, first_visit: screening"),
    )
    changes = impact(load_study(), shorter, CASES)
    case01 = next(c for c in changes if c.record == "case01-eligible.yaml")
    assert (case01.old_verdict, case01.new_verdict) == ("eligible", "not_eligible")
    [why] = [m for m in case01.criteria if m[0] == "randomization"]
    assert why[1:3] == ("within the schedule", "rescreening needed")
    assert "14 days after the screening visit" in why[4] and "at most 13 days" in why[4]


def test_a_disagreement_only_one_version_has_is_a_change():
    study = load_study()
    same = Version("old.yaml", {}, study, ("a disagreement",))
    assert not Diff(same, Version("new.yaml", {}, study, ("a disagreement",))).changed
    assert Diff(Version("old.yaml", {}, study), same).changed
    assert Diff(same, Version("new.yaml", {}, study)).changed


def _sites_swapped(tmp_path):
    text = STUDY_PATH.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    first = next(
        i for i, line in enumerate(lines) if "{name: Affiliated Hospital of Yangzhou" in line
    )
    lines[first], lines[first + 1] = lines[first + 1], lines[first]
    variant = tmp_path / "sites.yaml"
    variant.write_text("".join(lines), encoding="utf-8")
    return variant, lines[first + 1]


def test_the_order_of_the_sites_is_no_disagreement_and_a_differing_site_is_named(tmp_path):
    record = load_record(RECORD_PATH)
    reordered, yangzhou = _sites_swapped(tmp_path)
    assert not [m for m in cross_check(load_study(reordered), record) if m.yaml_path == "sites"]
    text = STUDY_PATH.read_text(encoding="utf-8")
    completed = tmp_path / "completed.yaml"
    completed.write_text(
        text.replace(yangzhou, yangzhou.replace("RECRUITING", "COMPLETED")), encoding="utf-8"
    )
    [mismatch] = [m for m in cross_check(load_study(completed), record) if m.yaml_path == "sites"]
    said = str(mismatch)
    assert '"status": "COMPLETED"' in said.split("only in the record")[0]
    assert '"status": "RECRUITING"' in said.split("only in the record")[1]
    assert "Affiliated Hospital of Yangzhou University" in said


def test_a_location_added_under_a_name_another_has_is_one_location_added():
    old = load_record(RECORD_PATH)
    new = json.loads(json.dumps(old))
    locations = new["protocolSection"]["contactsLocationsModule"]["locations"]
    locations.append({**locations[0], "city": "Taizhou"})
    changes = registry_changes(old, new)
    assert {c.kind for c in changes} == {"added"}
    assert len(changes) == len(locations[0])
    name = locations[0]["facility"]
    assert all(f"[facility={name}#2]" in c.path for c in changes)


def _reordered(path: tuple[str, ...]) -> tuple[dict, dict]:
    old = load_record(RECORD_PATH)
    new = json.loads(json.dumps(old))
    node = new
    for key in path:
        node = node[key]
    node.reverse()
    return old, new


def test_arms_or_interventions_in_another_order_are_a_change_registry_check_sees():
    """study.yaml reads arms and interventions by position: their order is a fact, and
    registry-diff said "0 changes" where registry-check found 13 disagreements."""
    for name in ("interventions", "armGroups"):
        old, new = _reordered(("protocolSection", "armsInterventionsModule", name))
        [change] = registry_changes(old, new)
        assert change.path == f"protocolSection.armsInterventionsModule.{name}[order]"
        assert change.old == change.new[::-1] != change.new
        assert cross_check(load_study(), new), "registry-check sees the new order too"


def test_sites_in_another_order_are_no_change():
    old, new = _reordered(("protocolSection", "contactsLocationsModule", "locations"))
    assert registry_changes(old, new) == []
    assert not [m for m in cross_check(load_study(), new) if m.yaml_path == "sites"]


def test_an_entry_added_is_not_also_an_order_changed():
    old = load_record(RECORD_PATH)
    new = json.loads(json.dumps(old))
    new["protocolSection"]["armsInterventionsModule"]["interventions"].append(
        {"type": "DRUG", "name": "Synthetic"}
    )
    changes = registry_changes(old, new)
    assert {c.kind for c in changes} == {"added"}
    assert not any(c.path.endswith("[order]") for c in changes)


def test_a_limit_moved_that_decides_no_record_differently_lists_the_fact_not_the_records(
    varied_study,
):
    """The hemoglobin limit of EX24 lowered from 8.0 to 7.0 g/dL: case10 (7.9 g/dL) is now
    eligible and is listed with both reasons; case01's 12.1 g/dL passes under both, so it is
    not listed (its reason quotes the new limit, as a limit restated in other units would:
    words alone are no change to a record); the threshold itself is listed as a fact."""
    lowered = varied_study(('value: "< 8.0 g/dL"', 'value: "< 7.0 g/dL"'))
    changes = {c.record: c for c in impact(load_study(), lowered, CASES)}
    assert set(changes) == {"case10-hemoglobin-79-g-per-l.yaml"}
    [ex24] = changes["case10-hemoglobin-79-g-per-l.yaml"].criteria
    assert ex24[:3] == ("EX24", "fail", "pass")
    assert "< 8.0 g/dL" in ex24[3] and "7.0 g/dL" in ex24[4]


def test_a_shorter_schedule_that_keeps_rescreening_needed_is_no_change_to_a_record(varied_study):
    """Randomization at most 13 or 12 days after screening: case01 (14 days) needs rescreening
    under both; only the limit's words differ, so case01 is not listed for it."""

    def schedule(days: int):
        return varied_study(
            (
                "{id: screening, label: Screening, day: -28, window_before: P0D, "
                "window_after: P28D,",
                f"{{id: screening, label: Screening, day: -{days}, window_before: P0D, "
                f"window_after: P{days}D,",
            ),
            (
                "duration: 28 day, first_visit: screening",
                f"duration: {days} day, first_visit: screening",
            ),
        )

    changes = impact(schedule(13), schedule(12), CASES)
    assert "case01-eligible.yaml" not in {c.record for c in changes}


@settings(max_examples=10, deadline=None)
@given(length=st.integers(256, 600), where=st.sampled_from(["old", "new", "records"]))
def test_a_name_too_long_for_the_system_is_bad_input_in_every_place_of_diff(length, where):
    # `diff S <300 characters>.yaml` was an internal error (exit 4): OSError, file name too long
    import contextlib
    import io

    from trialbook.cli import main

    long_name = "/tmp/" + "x" * length + ".yaml"
    study = str(STUDY_PATH)
    argv = {
        "old": ["diff", long_name, study],
        "new": ["diff", study, long_name],
        "records": ["diff", study, study, "--records", long_name],
    }[where]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 2
    assert "internal error" not in err.getvalue()


#: What identifies a person, as a registry record or a study's text may hold it (SYNTHETIC).
_IDENTIFYING = ["13812345678", "138-1234-5678", "zw@example.com", "110101199003074578"]


#: Sites whose names carry one identifying value each in the changed study (one diff reads them
#: all: a diff takes about 2.5 s, too long to run once per value and format).
_SITES = [
    "Ningbo First Hospital",
    "Changxing People's Hospital",
    "The First Hospital of Jiaxing",
    "Hangzhou First People's Hospital",
]


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_diff_never_prints_what_identifies_a_person(tmp_path, output):
    # diff printed a site's telephone in full, where registry-check withholds it
    import contextlib
    import io

    from trialbook.cli import main

    text = STUDY_PATH.read_text(encoding="utf-8")
    for site, value in zip(_SITES, _IDENTIFYING, strict=True):
        written = f"name: {site},"
        assert text.count(written) == 1, site
        text = text.replace(written, f'name: "{site} Tel {value}",')
    changed = tmp_path / "study.yaml"
    changed.write_text(text, encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["diff", str(STUDY_PATH), str(changed), "--format", output]) == 1
    shown = out.getvalue()
    for site, value in zip(_SITES, _IDENTIFYING, strict=True):
        assert value not in shown, value
        assert site in shown, site  # each changed site is reported, its number withheld
    assert shown.count("(withheld)") >= len(_SITES)
    if output == "json":
        json.loads(shown)


@settings(max_examples=12, deadline=None)
@given(
    value=st.sampled_from(_IDENTIFYING),
    field=st.sampled_from(["phone", "email", "id"]),
    as_json=st.booleans(),
)
def test_registry_diff_never_prints_what_identifies_a_person(
    tmp_path_factory, value, field, as_json
):
    # a site contact's phone, e-mail or an ID number were printed in full
    import contextlib
    import io

    from trialbook.cli import main

    record = load_record(RECORD_PATH)
    section = record["protocolSection"]
    if field == "id":
        section["identificationModule"]["orgStudyIdInfo"] = {"id": value}
    else:
        contact = {"name": "SYNTHETIC contact", field: value}
        section.setdefault("contactsLocationsModule", {})["centralContacts"] = [contact]
    folder = tmp_path_factory.mktemp("record")
    changed = folder / "new.json"
    changed.write_text(json.dumps(record), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["registry-diff", str(RECORD_PATH), str(changed), *(["--json"] * as_json)])
    assert code == 1
    assert value not in out.getvalue() and "(withheld)" in out.getvalue()
    if as_json:
        json.loads(out.getvalue())
