"""The classification calculators' exact answers (found by mutation testing of
protocol/classification.py): the fields they name as missing, their sources and reasons, and the
LeRoy subsets a recorded mRSS total allows. Expected values are worked out by hand."""

from __future__ import annotations

import itertools
from dataclasses import astuple

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protocol.classification import (
    acr_eular_range,
    acr_eular_score,
    finger_points_at_least,
    leroy_deciding_fields,
    leroy_possible_subsets,
    leroy_subset,
    mrss_range,
    mrss_total,
)
from protocol.participant import AcrEularFindings, Mrss, SkinAreas, SscFindings
from protocol.study import load_study

pytestmark = pytest.mark.traces(
    "criteria.IN02", "criteria.IN03", "criteria.IN05", "criteria.EX01", "criterion_rules"
)

AREAS = [area.name for area in load_study().skin_score.value.areas]
PROXIMAL = [a.name for a in load_study().skin_score.value.areas if a.proximal]
DISTAL = [a.name for a in load_study().skin_score.value.areas if a.distal]


def _areas(**grades: int | None) -> SkinAreas:
    return SkinAreas(**({name: 0 for name in AREAS} | grades))


def _ssc(areas=None, total=None, back=None, **items) -> SscFindings:
    """The findings, the two finger items recorded absent unless given: a finger item not
    recorded may be met, and thickened fingers are distal involvement (its own tests below
    leave them out)."""
    absent = {"sclerodactyly": False, "skin_thickening_proximal_to_mcp": False}
    return SscFindings(
        mrss=Mrss(areas=areas, total=total),
        back_skin_thickening=back,
        acr_eular=AcrEularFindings(**(absent | items)),
    )


# -- mRSS ----------------------------------------------------------------------------------


def test_mrss_total_names_its_source_and_what_is_missing():
    assert astuple(mrss_total(None)) == astuple(mrss_total(Mrss())) == (None, "none", ["ssc.mrss"])
    assert astuple(mrss_total(Mrss(total=12))) == (12, "recorded total", [])
    full = mrss_total(Mrss(areas=_areas(right_hand=2, left_hand=1)))
    assert (full.total, full.source, full.missing) == (3, "areas", [])
    partial = mrss_total(Mrss(areas=_areas(right_hand=2, face=None)))
    assert (partial.total, partial.source, partial.missing) == (
        None,
        "areas",
        ["ssc.mrss.areas.face"],
    )


def test_mrss_range_over_the_ungraded_areas():
    assert mrss_range(None) == (0, 51)  # 17 areas x 3
    assert mrss_range(Mrss(total=7)) == (7, 7)
    # 2 + 1 recorded, two areas ungraded: 3 to 3 + 2 x 3
    assert mrss_range(Mrss(areas=_areas(right_hand=2, left_hand=1, face=None, abdomen=None))) == (
        3,
        9,
    )


# -- ACR/EULAR ------------------------------------------------------------------------------


def test_acr_eular_score_with_nothing_recorded():
    score = acr_eular_score(None)
    assert (score.total, score.applicable, score.points, score.missing) == (
        None,
        None,
        [],
        ["ssc.acr_eular"],
    )


def test_acr_eular_score_points_and_applicability():
    findings = AcrEularFindings(
        **{item: False for item in load_study().acr_eular_2013.value.item_names}
        | {
            "raynaud": True,
            "sclerodactyly": True,
            "puffy_fingers": True,
            "skin_thickening_sparing_fingers": False,
            "better_explained_by_other_disorder": False,
        }
    )
    score = acr_eular_score(findings)
    assert score.total == 7 and score.applicable is True and score.missing == []  # 4 + 3
    assert sum(points for _, points in score.points) == 7
    unsure = findings.model_copy(update={"better_explained_by_other_disorder": None})
    assert acr_eular_score(unsure).applicable is None


def test_acr_eular_range_names_missing_items_and_flags():
    result = acr_eular_range(AcrEularFindings(raynaud=True, puffy_fingers=False))
    assert result.lowest == 3  # Raynaud's
    # every category at its highest: 9 + 4 + 3 + 2 + 2 + 2 + 3 + 3 = 28, with puffy fingers
    # recorded absent (sclerodactyly still possible)
    assert result.highest == 28
    assert "ssc.acr_eular.telangiectasia" in result.missing_items
    assert "ssc.acr_eular.puffy_fingers" not in result.missing_items
    assert result.missing_flags == [
        "ssc.acr_eular.skin_thickening_sparing_fingers",
        "ssc.acr_eular.better_explained_by_other_disorder",
    ]
    assert [p for _, p in result.points] == [0, 0, 0, 0, 0, 0, 3, 0]


# -- LeRoy ----------------------------------------------------------------------------------


def test_leroy_subset_reasons_and_missing_fields():
    assert astuple(leroy_subset(SscFindings())) == (
        None,
        "the subset needs the graded mRSS areas",
        ["ssc.mrss.areas"],
    )
    partial = astuple(leroy_subset(_ssc(areas=_areas(face=None))))
    assert partial == (None, "the subset needs all 17 graded areas", ["ssc.mrss.areas.face"])
    both = astuple(leroy_subset(_ssc(areas=_areas(right_upper_arm=1, right_hand=1))))
    assert both == (
        "diffuse",
        "proximal involvement (right upper arm) and distal involvement",
        [],
    )
    unknown_back = astuple(leroy_subset(_ssc(areas=_areas(right_hand=1))))
    assert unknown_back == (
        None,
        "no proximal mRSS area is involved; whether the back is involved is not recorded",
        ["ssc.back_skin_thickening"],
    )
    back = astuple(leroy_subset(_ssc(areas=_areas(right_hand=1), back=True)))
    assert back == ("diffuse", "back (trunk) involvement and distal involvement", [])
    limited = astuple(leroy_subset(_ssc(areas=_areas(right_hand=1, left_foot=2), back=False)))
    assert limited == ("limited", "distal involvement only (right hand, left foot)", [])
    none = astuple(leroy_subset(_ssc(areas=_areas(), back=False)))
    assert none == ("no skin thickening", "no skin involvement is graded", [])


@pytest.mark.parametrize(
    ("grades", "back", "expected"),
    [
        # the face is neither proximal nor distal (LeRoy: distal to the elbows and knees): with
        # proximal areas and no distal one, the subset is not diffuse (face 2, chest 3 and both
        # upper arms had read as diffuse, and the record as eligible)
        (
            {"face": 2, "anterior_chest": 3, "right_upper_arm": 2},
            False,
            (
                "proximal only",
                "proximal involvement (anterior chest, right upper arm) without distal "
                "involvement (the face is neither)",
            ),
        ),
        # the face alone, or with distal areas: limited (thickening of the face and distal areas)
        ({"face": 1}, False, ("limited", "involvement of the face only (face)")),
        (
            {"face": 1, "left_foot": 1},
            False,
            ("limited", "involvement of the face and distal areas only (face, left foot)"),
        ),
        # the face beside proximal and distal areas: diffuse, as without it
        (
            {"face": 1, "abdomen": 1, "right_hand": 1},
            False,
            ("diffuse", "proximal involvement (abdomen) and distal involvement"),
        ),
        # the back alone (the trunk) is proximal involvement without distal involvement
        ({}, True, ("proximal only", "back (trunk) involvement without distal involvement")),
        (
            {"face": 1},
            True,
            ("proximal only", "back (trunk) involvement without distal involvement"),
        ),
    ],
)
def test_the_face_is_thickened_in_either_subset_and_never_the_distal_involvement(
    grades, back, expected
):
    found = leroy_subset(_ssc(areas=_areas(**grades), back=back))
    assert (found.subset, found.reason) == expected
    assert leroy_possible_subsets(_ssc(areas=_areas(**grades), back=back)) == {expected[0]}


@pytest.mark.parametrize(
    ("grades", "total", "expected"),
    [
        # the one point left falls on the face (the only ungraded area): not distal
        ({"face": None, "right_upper_arm": 1}, 2, {"proximal only"}),
        ({"face": None, "right_upper_arm": 1}, 1, {"proximal only"}),
        # the face or the hand takes the point left: proximal only or diffuse
        ({"face": None, "right_hand": None, "right_upper_arm": 1}, 2, {"proximal only", "diffuse"}),
        # four points left over the face and a hand (3 at most each): the hand has one
        ({"face": None, "right_hand": None, "right_upper_arm": 1}, 5, {"diffuse"}),
        # no proximal area: the face alone limited, as distal areas are
        ({"face": None}, 1, {"limited"}),
        ({"face": None}, 0, {"no skin thickening"}),
    ],
)
def test_a_recorded_total_shares_its_points_among_the_faces_and_each_regions_ungraded_areas(
    grades, total, expected
):
    assert leroy_possible_subsets(_ssc(areas=_areas(**grades), total=total, back=False)) == (
        expected
    )


@pytest.mark.parametrize(
    ("areas", "total", "back", "expected"),
    [
        # a grade of exactly 1 is involvement, proximal and distal alike
        ({"right_upper_arm": 1, "right_hand": 1}, None, False, {"diffuse"}),
        ({"right_hand": 1}, None, False, {"limited"}),
        ({"right_upper_arm": 1}, None, False, {"proximal only"}),
        ({}, None, False, {"no skin thickening"}),
        # one proximal and one distal area ungraded, the others 0, and a total of 1: one of them
        # is graded 1 and the other 0
        ({"right_upper_arm": None, "right_hand": None}, 1, False, {"limited", "proximal only"}),
        # total 4 over one proximal and one distal area (each at most 3): both are involved
        ({"right_upper_arm": None, "right_hand": None}, 4, False, {"diffuse"}),
        # total 3: 3 + 0, 2 + 1, 1 + 2 or 0 + 3
        (
            {"right_upper_arm": None, "right_hand": None},
            3,
            False,
            {"diffuse", "limited", "proximal only"},
        ),
        # recorded grades count against the total: 2 recorded + 2 left over for two areas
        (
            {"right_hand": 2, "right_upper_arm": None, "left_hand": None},
            4,
            False,
            {"diffuse", "limited"},
        ),
        # nothing ungraded left over: the total adds nothing
        ({"right_hand": 2, "right_upper_arm": None}, 2, False, {"limited"}),
        # ungraded without a total: either way
        ({"right_hand": None}, None, False, {"limited", "no skin thickening"}),
        ({"right_hand": 1, "right_upper_arm": None}, None, None, {"diffuse", "limited"}),
    ],
)
def test_leroy_possible_subsets(areas, total, back, expected):
    # (the finger items recorded absent: one not recorded may be met, distal involvement)
    assert leroy_possible_subsets(_ssc(areas=_areas(**areas), total=total, back=back)) == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ({"skin_thickening_proximal_to_mcp": True, "sclerodactyly": False}, {"diffuse"}),
        ({"skin_thickening_proximal_to_mcp": False, "sclerodactyly": True}, {"diffuse"}),
        ({"skin_thickening_proximal_to_mcp": False, "sclerodactyly": False}, None),
    ],
)
def test_thickened_fingers_from_acr_eular_are_distal_involvement(items, expected):
    # only a total of 15 is recorded and the back is thickened
    ssc = SscFindings(
        mrss=Mrss(total=15), back_skin_thickening=True, acr_eular=AcrEularFindings(**items)
    )
    possible = leroy_possible_subsets(ssc)
    if expected is None:
        assert possible == {"diffuse", "proximal only"}  # the fingers may or may not be graded
    else:
        assert possible == expected


def test_sclerodactyly_means_the_thickening_does_not_spare_the_fingers():
    findings = AcrEularFindings(sclerodactyly=True, better_explained_by_other_disorder=False)
    result = acr_eular_range(findings)
    assert result.applicable is True and result.missing_flags == []
    # a recorded flag is never overwritten by the inference
    recorded = AcrEularFindings(
        sclerodactyly=True,
        skin_thickening_sparing_fingers=True,
        better_explained_by_other_disorder=False,
    )
    assert acr_eular_range(recorded).applicable is False


def test_the_leroy_reason_lists_every_involved_proximal_area():
    result = leroy_subset(_ssc(areas=_areas(right_upper_arm=1, left_thigh=2, right_hand=1)))
    assert result.reason == (
        "proximal involvement (right upper arm, left thigh) and distal involvement"
    )


@pytest.mark.parametrize("back", [None, True, False])
@pytest.mark.parametrize("item", [None, "skin_thickening_proximal_to_mcp", "sclerodactyly"])
def test_proximal_involvement_with_thickened_fingers_among_the_items_is_diffuse(back, item):
    """LeRoy: proximal and distal involvement is diffuse. Fingers thickened among the
    classification items are distal involvement (as the possible subsets count them), so the
    subset named agrees with the subsets the record allows; without them, proximal
    involvement alone is "proximal only", and the back (proximal too) is never asked for."""
    items = {item: True} if item else {}
    ssc = _ssc(areas=_areas(right_upper_arm=2), back=back, **items)
    result = leroy_subset(ssc)
    possible = leroy_possible_subsets(ssc)
    if item:
        assert result.subset == "diffuse" and possible == {"diffuse"}
        assert "classification items" in result.reason and not result.missing
    else:
        assert result.subset == "proximal only" and possible == {"proximal only"}
        assert result.reason == "proximal involvement (right upper arm) without distal involvement"
        assert not result.missing


@pytest.mark.parametrize(
    ("given", "distal"),
    [
        # an earlier version is read as it was meant then: the face, not proximal, distal
        ({"name": "face", "proximal": False}, True),
        ({"name": "right_hand", "proximal": False}, True),
        ({"name": "anterior_chest", "proximal": True}, False),
        ({"name": "face", "proximal": False, "distal": True}, True),  # as written, if written
    ],
)
def test_an_area_of_an_earlier_study_version_is_distal_unless_proximal(given, distal):
    from protocol.study import SkinArea

    assert SkinArea.model_validate(given).distal is distal


def test_an_area_is_not_proximal_and_distal_at_once():
    from pydantic import ValidationError

    from protocol.study import SkinArea

    with pytest.raises(ValidationError, match="proximal or distal, not both"):
        SkinArea.model_validate({"name": "abdomen", "proximal": True, "distal": True})


# -- every completion the record allows (helper 123) -----------------------------------------

_FLAG = st.sampled_from([None, True, False, False, False])


def _region_of(area: str) -> str:
    return "proximal" if area in PROXIMAL else "distal" if area in DISTAL else "face"


def _record_or_none(areas: dict, total, back, flags: dict):
    """The record with these findings, or None where it is refused (a contradiction)."""
    from pydantic import ValidationError

    from protocol.participant import ParticipantRecord

    ssc = {
        "mrss": {"areas": areas, "total": total},
        "back_skin_thickening": back,
        "acr_eular": {k: v for k, v in flags.items() if v is not None},
    }
    try:
        return ParticipantRecord.model_validate({"participant": "SYN-L1", "ssc": ssc})
    except (ValidationError, ValueError):
        return None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    graded=st.fixed_dictionaries({a: st.sampled_from([0, 0, 0, 0, 1, 2, 3]) for a in AREAS}),
    # the fingers ungraded often, and the flags false often: where the fingers go with any
    # other area thickened (the three items false), which a uniform draw seldom reaches
    ungraded=st.sets(
        st.sampled_from([*AREAS, *(["right_fingers", "left_fingers"] * 6)]), max_size=3
    ),
    quiet=st.sets(st.sampled_from(["proximal", "distal", "face"])),
    back=_FLAG,
    with_total=st.booleans(),
    extra=st.integers(0, 9),
    flags=st.fixed_dictionaries(
        {
            "skin_thickening_sparing_fingers": _FLAG,
            "sclerodactyly": _FLAG,
            "skin_thickening_proximal_to_mcp": _FLAG,
        }
    ),
)
def test_leroy_subsets_and_the_fields_asked_agree_with_every_completion_the_record_allows(
    graded, ungraded, quiet, back, with_total, extra, flags
):
    # helper 123: the chest graded 3 and one finger ungraded beside the rest of the distal
    # areas at 0, in a record saying thickening does not spare the fingers that were never
    # thickened, was unknown (a finger at 0 is refused there, so every grade it takes gives
    # the diffuse subset); and the face was asked where only the back decided. Expected by
    # brute force: every grade 0-3 of each ungraded area and every back, each completion
    # kept only where the record takes it, each given its subset by the fully graded rule
    # a region left at 0 now and then: its involvement then turns on its ungraded areas
    quiet_areas = {a for a in AREAS if _region_of(a) in quiet}
    areas = {
        a: (None if a in ungraded else 0 if a in quiet_areas else g) for a, g in graded.items()
    }
    known = sum(g for g in areas.values() if g is not None)
    total = min(known + extra, known + 3 * len(ungraded)) if with_total and ungraded else None
    record = _record_or_none(areas, total, back, flags)
    assume(record is not None)
    order = sorted(ungraded)
    backs = [True, False] if back is None else [back]
    completions = {}  # (grades of the ungraded areas, back) -> subset
    sums = []
    # a finger item not recorded is met or not (thickened fingers are distal involvement)
    open_items = [
        k for k in ("sclerodactyly", "skin_thickening_proximal_to_mcp") if flags[k] is None
    ]
    for values in itertools.product(range(4), repeat=len(order)):
        for b in backs:
            for met in itertools.product([False, True], repeat=len(open_items)):
                filled = {**areas, **dict(zip(order, values, strict=True))}
                if total is not None and sum(filled.values()) != total:
                    continue
                recorded = {**flags, **dict(zip(open_items, met, strict=True))}
                complete = _record_or_none(filled, total, b, recorded)
                if complete is not None:
                    completions[(values, b, met)] = leroy_subset(complete.ssc).subset
                    sums.append(sum(filled.values()))
    ssc = record.ssc_as_implied()
    assert leroy_possible_subsets(ssc) == set(completions.values())
    # the lowest mRSS IN05 reads: the least sum of a completion the record takes (an
    # ungraded finger tied to the other areas thickened counts 1 at least)
    if total is None and sums:
        lowest = mrss_range(ssc.mrss)[0] + finger_points_at_least(ssc)
        assert lowest == min(sums), (lowest, min(sums))
    asked = leroy_deciding_fields(ssc)
    if len(set(completions.values())) <= 1:
        assert asked == []
        return
    # enough: once every field asked is known, one subset is left whatever the others show
    asked_areas = [k for k, a in enumerate(order) if f"ssc.mrss.areas.{a}" in asked]
    asks_back = "ssc.back_skin_thickening" in asked
    asked_items = [k for k, item in enumerate(open_items) if f"ssc.acr_eular.{item}" in asked]
    left: dict[tuple, set] = {}
    for (values, b, met), subset in completions.items():
        key = (
            tuple(values[k] for k in asked_areas),
            b if asks_back else None,
            tuple(met[k] for k in asked_items),
        )
        left.setdefault(key, set()).add(subset)
    assert all(len(subsets) == 1 for subsets in left.values()), (asked, left)


def test_the_back_alone_is_asked_beside_recorded_distal_involvement():
    # helper 123's second record: distal areas thickened, no proximal area, the face
    # ungraded, the back not recorded: only the back decides (diffuse or limited), and the
    # face, thickened or not, leaves the subset limited without the back
    grades = {name: 0 for name in AREAS} | {"right_hand": 2, "face": None}
    ssc = _ssc(areas=SkinAreas(**grades), back=None)
    assert leroy_possible_subsets(ssc) == {"diffuse", "limited"}
    assert leroy_deciding_fields(ssc) == ["ssc.back_skin_thickening"]


def test_an_ungraded_finger_goes_with_the_chest_where_the_fingers_were_never_spared():
    # helper 123's first record: a finger at 0 is refused (both finger items absent, not
    # sparing the fingers, the chest thickened), so the finger is 1-3: distal, diffuse
    grades = {name: 0 for name in AREAS} | {"anterior_chest": 3, "right_fingers": None}
    items = {
        "skin_thickening_sparing_fingers": False,
        "sclerodactyly": False,
        "skin_thickening_proximal_to_mcp": False,
    }
    ssc = _ssc(areas=SkinAreas(**grades), back=False, **items)
    assert leroy_possible_subsets(ssc) == {"diffuse"}
    # the items not recorded (helper 124): a finger at 0 means one of them is met, thickened
    # fingers once, distal all the same
    ssc = _not_sparing_items_unrecorded(grades)
    assert leroy_possible_subsets(ssc) == {"diffuse"}
    # whether the thickening spares the fingers not recorded: a finger at 0 is taken
    ssc = _ssc(areas=SkinAreas(**grades), back=False)
    assert leroy_possible_subsets(ssc) == {"diffuse", "proximal only"}


def _not_sparing_items_unrecorded(grades: dict) -> SscFindings:
    """The thickening recorded as not sparing the fingers, neither finger item recorded."""
    return _ssc(
        areas=SkinAreas(**grades),
        back=False,
        skin_thickening_sparing_fingers=False,
        sclerodactyly=None,
        skin_thickening_proximal_to_mcp=None,
    )


def test_both_fingers_at_0_beside_thickening_not_sparing_them_were_thickened_once():
    # helper 124: the chest and upper arms thickened, both fingers graded 0, the thickening
    # recorded as not sparing the fingers and neither finger item recorded: one of the items
    # is met (both absent is refused), so the fingers were thickened, distal involvement,
    # and the subset is diffuse; IN03 failed "proximal only" beside IN02 counting the item
    grades = {name: 0 for name in AREAS} | {"anterior_chest": 3, "right_upper_arm": 2}
    ssc = _not_sparing_items_unrecorded(grades)
    assert leroy_subset(ssc).subset == "diffuse" and leroy_possible_subsets(ssc) == {"diffuse"}
    assert "thickened once" in leroy_subset(ssc).reason
    # the items not recorded and nothing said of sparing: either may be met, or neither
    ssc = _ssc(
        areas=SkinAreas(**grades),
        back=False,
        sclerodactyly=None,
        skin_thickening_proximal_to_mcp=None,
    )
    assert leroy_possible_subsets(ssc) == {"diffuse", "proximal only"}
    assert set(leroy_deciding_fields(ssc)) == {
        "ssc.acr_eular.sclerodactyly",
        "ssc.acr_eular.skin_thickening_proximal_to_mcp",
    }


_ITEMS = load_study().acr_eular_2013.value.item_names


@settings(max_examples=150, deadline=None)
@given(
    recorded=st.fixed_dictionaries(
        {item: st.sampled_from([None, None, True, False]) for item in _ITEMS}
    )
)
def test_the_acr_eular_items_asked_are_those_that_can_change_the_total(recorded):
    # helper 124: puffy fingers were asked beside sclerodactyly met (4 > 2), digital tip
    # ulcers beside pitting scars, ILD beside PAH, two antibodies beside a third: an item
    # that cannot raise its category's highest weight cannot change the total. Expected by
    # brute force over every completion of the items not recorded (the flags recorded as not
    # applying, so the total alone decides)
    flags = {"skin_thickening_sparing_fingers": False, "better_explained_by_other_disorder": False}
    open_items = [item for item, value in recorded.items() if value is None]
    assume(len(open_items) <= 8)

    def total(values: dict) -> int:
        score = acr_eular_range(AcrEularFindings(**values, **flags))
        assert score.lowest == score.highest
        return score.lowest

    asked = {
        path.removeprefix("ssc.acr_eular.")
        for path in acr_eular_range(AcrEularFindings(**recorded, **flags)).missing_items
    }
    assert asked <= set(open_items)
    totals: dict[tuple, set[int]] = {}
    for met in itertools.product([False, True], repeat=len(open_items)):
        values = {**recorded, **dict(zip(open_items, met, strict=True))}
        key = tuple(m for item, m in zip(open_items, met, strict=True) if item in asked)
        totals.setdefault(key, set()).add(total(values))
    # enough: the items asked settle the total; and each asked item can change it
    assert all(len(found) == 1 for found in totals.values())
    for item in asked:
        k = [i for i in open_items if i in asked].index(item)
        assert any(
            totals[key] != totals[(*key[:k], not key[k], *key[k + 1 :])] for key in totals
        ), item
