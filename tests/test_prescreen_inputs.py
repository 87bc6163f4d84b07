"""Each rule's declared inputs (prescreen.engine.CRITERION_INPUTS, EX24_INPUTS, CREATININE_INPUTS
and each lab's parts) are all it reads:
a record that keeps a candidate's inputs but takes every other field from another candidate
gets the same answer. The batch groups rows by these inputs, so an input left out would give
one group's answer to rows it does not fit; the differential test finds that only when the
data happen to reach it, this test looks for it on purpose.

The records are SYNTHETIC (hostile draws: every field independent, many empty).
"""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from prescreen.columns import Mapping
from prescreen.engine import (
    CREATININE_INPUTS,
    CRITERION_INPUTS,
    EX24_INPUTS,
    LAB_CRITERIA,
    PART_RULES,
    _nested,
)
from prescreen.synthetic import candidates as synthetic
from prescreen.table import read_candidates
from protocol.participant import ParticipantRecord
from protocol.screening import CHECKS, EX24_ANALYTES, _Context, criterion_rule
from protocol.study import load_study

AS_OF = dt.date(2026, 11, 26)
LAB_INPUTS = {
    cid: tuple(
        f"labs.{name}.{part}" for name in names for part in ("value", "unit", "uln", "uln_unit")
    )
    for cid, names in LAB_CRITERIA.items()
}


@functools.cache  # (one table per seed for every rule: only read, never changed)
def _records(seed: int, missing: float):
    frame = synthetic(400, seed, AS_OF, missing=missing, hostile=True)
    candidates = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    paths = candidates.fields()
    rows = [i for i in range(len(candidates)) if not candidates.refused[i]]
    # each candidate's own record (frozen), made once for every rule
    own = {
        i: ParticipantRecord.model_validate(
            {**_nested(paths, [candidates.column(p)[i] for p in paths]), "participant": "A1"}
        )
        for i in rows
    }
    return candidates, paths, rows, own


def _lab_rule(name: str):
    def rule(ctx: _Context):
        return ctx.lab(name)

    return rule


def _lab_parts(name: str) -> tuple[str, ...]:
    return tuple(f"labs.{name}.{part}" for part in ("value", "unit", "uln", "uln_unit"))


#: Every rule the batch runs on a record made of some fields only, with those fields: each
#: criterion's, EX24 whole (its rows with counts to confirm), each of EX24's labs, and the eGFR
#: from creatinine (read at an age and a sex, recorded or implied).
RULES = {
    **{cid: (CHECKS[cid].run, inputs) for cid, inputs in CRITERION_INPUTS.items()},
    **{cid: (CHECKS[cid].run, inputs) for cid, inputs in LAB_INPUTS.items()},
    "EX24": (CHECKS["EX24"].run, EX24_INPUTS),
    **{f"EX24 {name}": (_lab_rule(name), _lab_parts(name)) for name in (*EX24_ANALYTES, "egfr")},
    "EX24 eGFR from creatinine": (_lab_rule("creatinine"), CREATININE_INPUTS),
    # each part of a criterion grouped part by part, by its own inputs
    **{
        f"{cid} part {k}": (part, inputs)
        for cid, parts in PART_RULES.items()
        for k, (inputs, part) in enumerate(parts)
    },
    # the criteria a table never decides (medicines, events, attestations): run with the
    # screening date alone, so no column of the table may change their answer
    **{
        cid: (criterion_rule(cid), ("dates.screening",))
        for cid in (c.id for c in load_study().criteria)
        if cid not in {*CRITERION_INPUTS, *LAB_INPUTS, "EX24"}
    },
}


@pytest.mark.parametrize("criterion", sorted(RULES))
@pytest.mark.parametrize(("seed", "missing"), [(1, 0.1), (2, 0.5)])
def test_a_rule_reads_only_its_declared_inputs(criterion, seed, missing):
    study = load_study()
    candidates, paths, rows, own_records = _records(seed, missing)
    rule, declared = RULES[criterion]
    inputs = set(declared)
    checked = 0
    for k, i in enumerate(rows):
        j = rows[(k * 7 + 3) % len(rows)]  # another candidate, for every other field
        mixed = [candidates.column(p)[i] if p in inputs else candidates.column(p)[j] for p in paths]
        try:
            mixed_record = ParticipantRecord.model_validate(
                {**_nested(paths, mixed), "participant": "A1"}
            )
        except ValueError:
            continue  # the mixture contradicts itself (a man's pregnancy test, ...)
        a = rule(_Context(own_records[i], study))
        b = rule(_Context(mixed_record, study))
        assert (a.status, a.reason, a.missing) == (b.status, b.reason, b.missing), (criterion, i, j)
        checked += 1
    assert checked >= 50


@pytest.mark.parametrize("criterion", ["IN03", "EX01"])
def test_thickened_fingers_of_the_classification_items_count_for_the_leroy_subset(criterion):
    # every distal area graded 0 and the proximal ones not graded: whether the fingers are
    # thickened (an ACR/EULAR item) decides whether the distal involvement LeRoy needs is seen,
    # so the items are inputs of IN03 and EX01 too
    from protocol.participant import parse_record

    study = load_study()
    areas = {a.name: 0 for a in study.skin_score.value.areas if not a.proximal}
    base = {
        "participant": "A1",
        "dates": {"screening": "2026-11-26"},
        "ssc": {"mrss": {"areas": areas}},
    }
    thickened = {**base, "ssc": {**base["ssc"], "acr_eular": {"sclerodactyly": True}}}
    plain = CHECKS[criterion].run(_Context(parse_record(base, "a"), study))
    with_items = CHECKS[criterion].run(_Context(parse_record(thickened, "b"), study))
    # (not recorded, an item may be met: it is asked; recorded met, it is not)
    assert (plain.status, plain.reason, plain.missing) != (
        with_items.status,
        with_items.reason,
        with_items.missing,
    )
    assert "ssc.acr_eular.sclerodactyly" in plain.missing
    assert "ssc.acr_eular.sclerodactyly" not in with_items.missing
    assert {"ssc.acr_eular.sclerodactyly", "ssc.acr_eular.skin_thickening_proximal_to_mcp"} <= set(
        CRITERION_INPUTS[criterion]
    )


def test_the_run_restores_arrows_allocator(tmp_path):
    """prescreen serves Arrow's buffers from the system allocator for its run only: the pool a
    caller had is its pool again afterwards, whether the run succeeds or fails."""
    import pyarrow as pa

    from prescreen.run import prescreen
    from protocol.errors import ProtocolDataError

    before = pa.default_memory_pool().backend_name
    table = tmp_path / "t.csv"
    table.write_text("participant,sex\nSYN-1,female\n", encoding="utf-8")
    prescreen(table, as_of=dt.date(2026, 11, 26))
    assert pa.default_memory_pool().backend_name == before
    empty = tmp_path / "empty.csv"
    empty.write_text("participant,sex\n", encoding="utf-8")
    with pytest.raises(ProtocolDataError):
        prescreen(empty, as_of=dt.date(2026, 11, 26))
    assert pa.default_memory_pool().backend_name == before
