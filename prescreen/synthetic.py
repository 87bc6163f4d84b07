"""SYNTHETIC candidate tables (no real person): seeded, for the book's chapter, the tests and
the benchmark.

The candidates are drawn as a clinic's systemic sclerosis patients might look: most meet the
classification criteria, disease durations spread over five years, labs mostly normal with
tails beyond the protocol's thresholds, a few histories that exclude, and a share of cells left
empty as a clinic query leaves them. ``hostile=True`` draws every field independently over its
whole range instead (for tests that must reach every branch).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from prescreen.engine import _ACR, _AREAS

#: (analyte, unit, mean, spread, decimals, ULN or None): normal-ish values with tails
LABS = (
    ("hemoglobin", "g/L", 128, 16, 0, None),
    ("wbc", "10^9/L", 6.5, 1.8, 1, None),
    ("neutrophils", "10^9/L", 4.0, 1.3, 1, None),
    ("platelets", "10^9/L", 240, 70, 0, None),
    ("alt", "U/L", 25, 14, 0, 40),
    ("ast", "U/L", 25, 12, 0, 40),
    ("total_bilirubin", "umol/L", 11, 5, 0, 21),
    ("creatinine", "umol/L", 70, 22, 0, None),
    ("iga", "g/L", 2.2, 0.9, 2, None),
    ("igg", "g/L", 12.0, 3.0, 1, None),
)
FLAGS = (
    "history.renal_crisis",
    "history.other_rheumatic_autoimmune_disease",
    "history.environmental_ssc_like_illness",
    "history.immunodeficiency",
    "history.antibody_allergy",
    "pulmonary.oxygen_therapy",
    "infection_screening.active_infection",
)


def candidates(
    count: int, seed: int, as_of: dt.date, missing: float = 0.05, hostile: bool = False
) -> pd.DataFrame:
    """``count`` SYNTHETIC candidates as a table of record fields (IDs ``SYN-C000001``...)."""
    from protocol.study import load_study

    proximal = {area.name for area in load_study().skin_score.value.areas if area.proximal}
    rng = np.random.default_rng(seed)
    n = count
    today = np.datetime64(as_of, "D")

    def maybe(values: np.ndarray, share: float = missing) -> np.ndarray:
        out = np.asarray(values).astype(object)
        out[rng.random(n) < share] = None
        return out

    def days_before(low: np.ndarray | int, high: np.ndarray | int) -> np.ndarray:
        offsets = rng.integers(low, np.asarray(high) + 1, n)
        return np.array([str(today - int(d)) for d in offsets], dtype=object)

    def often(p: float) -> np.ndarray:
        return rng.random(n) < (0.5 if hostile else p)

    table: dict[str, np.ndarray] = {
        "participant": np.array([f"SYN-C{i + 1:06d}" for i in range(n)], dtype=object)
    }
    # ages mostly within the protocol's 18 to 70, a few on either side
    youngest = np.where(often(0.93), 19 * 365, 16 * 365)
    oldest = np.where(often(0.93), 70 * 365, 78 * 365)
    table["dates.birth"] = maybe(days_before(youngest, oldest), missing / 2)
    sex = np.where(rng.random(n) < (0.5 if hostile else 0.8), "female", "male").astype(object)
    table["sex"] = maybe(sex, missing / 2)
    woman = sex == "female"
    cbp = woman & often(0.55)
    table["childbearing_potential"] = maybe(np.where(woman, cbp, None))
    table["breastfeeding"] = maybe(np.where(woman, often(0.02), None))
    table["contraception_agreed"] = maybe(np.where(cbp, often(0.9), None), 0.25)
    # a serum pregnancy test on the screening day for some women of childbearing potential
    tested = cbp & often(0.3)
    table["pregnancy_test.result"] = np.where(
        tested, np.where(often(0.02), "positive", "negative"), None
    ).astype(object)
    table["pregnancy_test.sample"] = np.where(
        tested, np.where(often(0.8), "serum", "urine"), None
    ).astype(object)
    table["pregnancy_test.date"] = np.where(
        tested, np.array([str(today - int(d)) for d in rng.integers(0, 3, n)]), None
    ).astype(object)
    # disease duration: from two months to five years before the screening date (not before
    # birth: the first manifestation is drawn after the 15th birthday)
    # (the early disease a trial of early dcSSc recruits from is the larger share)
    longest = np.where(often(0.7), 540, 5 * 365)
    table["ssc.first_non_raynaud_manifestation"] = maybe(days_before(60, longest))
    diffuse = often(0.7)
    for item in _ACR:
        if item.endswith(("sparing_fingers", "better_explained_by_other_disorder")):
            share = 0.02
        elif item.endswith("skin_thickening_proximal_to_mcp"):
            share = 0.75
        elif item.endswith("raynaud"):
            share = 0.95
        else:
            share = 0.4
        table[item] = maybe(often(share), missing / 2)
    # the skin score: the 17 areas graded, or only the total recorded
    only_total = often(0.4)
    grades = np.zeros((len(_AREAS), n), dtype=int)
    for k, area in enumerate(_AREAS):
        name = area.rsplit(".", 1)[1]
        involved = diffuse if name in proximal else np.ones(n, dtype=bool)
        grades[k] = np.where(involved, rng.choice([0, 1, 1, 2, 2, 3], n), 0)
        table[area] = maybe(np.where(only_total, None, grades[k]), missing / 3)
    table["ssc.mrss.total"] = np.where(only_total, grades.sum(axis=0), None).astype(object)
    # sparing fingers with thickened fingers cannot be: such a candidate's fingers are spared
    sparing = table["ssc.acr_eular.skin_thickening_sparing_fingers"] == True  # noqa: E712
    for item in ("ssc.acr_eular.skin_thickening_proximal_to_mcp", "ssc.acr_eular.sclerodactyly"):
        table[item][sparing] = False
    for finger in ("ssc.mrss.areas.right_fingers", "ssc.mrss.areas.left_fingers"):
        table[finger][sparing & ~only_total] = 0
    table["ssc.mrss.total"][only_total & sparing] = None
    # fingers never thickened and graded 0 beside another thickened area: thickening that
    # spares the fingers, which a record saying it does not cannot be; such a draw's right
    # fingers are graded 1 (another area is always thickened: the distal areas are involved)
    never = np.ones(n, dtype=bool)
    for item in ("ssc.acr_eular.skin_thickening_proximal_to_mcp", "ssc.acr_eular.sclerodactyly"):
        never &= table[item] == False  # noqa: E712
    at_0 = never & (table["ssc.acr_eular.skin_thickening_sparing_fingers"] == False)  # noqa: E712
    for finger in ("ssc.mrss.areas.right_fingers", "ssc.mrss.areas.left_fingers"):
        at_0 &= table[finger] == 0
    table["ssc.mrss.areas.right_fingers"][at_0 & (grades.sum(axis=0) > 0)] = 1
    for flag in FLAGS:
        table[flag] = maybe(often(0.015))
    risks = ["none"] * 40 + ["low", "intermediate", "high"]
    table["pah_risk"] = maybe(rng.choice(risks, n))
    # PAH among the classification items has a risk category: "none" (no PAH) cannot be
    pah = table["ssc.acr_eular.pah"] == True  # noqa: E712
    table["pah_risk"][pah & (table["pah_risk"] == "none")] = "low"
    # and a risk category is a PAH's: with the item recorded false, there is none
    no_pah = table["ssc.acr_eular.pah"] == False  # noqa: E712
    table["pah_risk"][no_pah & np.isin(table["pah_risk"], ["low", "intermediate", "high"])] = "none"
    table["pulmonary.fvc_percent_predicted"] = maybe(np.round(rng.normal(78, 15, n).clip(20, 140)))
    table["pulmonary.dlco_percent_predicted"] = maybe(np.round(rng.normal(65, 15, n).clip(15, 130)))
    for name, unit, mean, spread, decimals, uln in LABS:
        values = np.round(np.abs(rng.normal(mean, spread * (2 if hostile else 1), n)), decimals)
        # never below a fifth of the mean: an implausible value is a test of its own
        values = np.maximum(values, round(mean / 5, decimals))
        present = rng.random(n) >= missing
        table[f"labs.{name}.value"] = np.where(present, values, None).astype(object)
        table[f"labs.{name}.unit"] = np.where(present, unit, None).astype(object)
        if uln is not None:
            table[f"labs.{name}.uln"] = np.where(present, float(uln), None).astype(object)
    for field, choices in (
        ("infection_screening.hepatitis_b", ["negative"] * 48 + ["resolved", "chronic"]),
        ("infection_screening.hepatitis_c", ["negative"] * 49 + ["active"]),
        ("infection_screening.tuberculosis", ["negative"] * 48 + ["latent", "active"]),
        ("infection_screening.hiv", ["negative"] * 99 + ["positive"]),
    ):
        table[field] = maybe(rng.choice(choices, n), missing * 2)
    if hostile:  # screening dates of their own (blank: the run's date), drawn last
        table["dates.screening"] = maybe(days_before(0, 20), 0.3)
    # neutrophils are white cells: a count above the white count cannot be (screen refuses
    # the record), so such a draw takes 60% of the white count; a hostile table keeps one in
    # twenty of them, for the refusal (drawn after every other field, which stay as drawn)
    wbc, neutrophils = table["labs.wbc.value"], table["labs.neutrophils.value"]
    both = np.flatnonzero(np.not_equal(wbc, None) & np.not_equal(neutrophils, None))
    over = both[neutrophils[both].astype(float) > wbc[both].astype(float)]
    if hostile:
        over = over[rng.random(len(over)) >= 0.05]
    neutrophils[over] = np.round(wbc[over].astype(float) * 0.6, 1)
    return pd.DataFrame(table)
