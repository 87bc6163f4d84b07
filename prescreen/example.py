"""The book's worked pre-screening: a SYNTHETIC table of 2,000 candidates exported under one
site's own column names, read with that site's mapping (book/screening/prescreen-mapping.yaml)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from prescreen.columns import load_mapping
from prescreen.run import Run, prescreen
from prescreen.synthetic import candidates

SEED = 20261126
COUNT = 2000
AS_OF = dt.date(2026, 11, 26)


def site_table(mapping_path: Path | str, count: int = COUNT, seed: int = SEED):
    """The synthetic candidates under the site's column names (the mapped labs' unit columns
    dropped: the mapping gives their unit)."""
    mapping = load_mapping(mapping_path)
    frame = candidates(count, seed, AS_OF)
    renames = {target.field: column for column, target in mapping.columns.items()}
    renames["participant"] = mapping.id_column
    dropped = [
        target.field.removesuffix(".value") + ".unit"
        for target in mapping.columns.values()
        if target.unit is not None
    ]
    return frame.drop(columns=dropped).rename(columns=renames)


def worked_run(mapping_path: Path | str) -> Run:
    """The chapter's run: the site table written as Parquet, pre-screened with the mapping."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "candidates.parquet"
        site_table(mapping_path).to_parquet(path)
        return prescreen(path, mapping_path, AS_OF)
