"""Benchmark: lab checks over a column, vectorized vs one value at a time (not a test).

    .venv/bin/python benchmarks/lab_checks.py [--rows 1000000] [--scalar-rows N]

Both paths check the same synthetic haemoglobin values (mixed units: g/dL, g/L, mmol/L) in the
same run. The scalar path is ``check_lab`` (a pint Quantity per value, a reason sentence each);
by default it runs over every row too, which takes minutes: ``--scalar-rows`` times a prefix
and reports the per-value rate, marked as measured on fewer rows. Peak memory is from
tracemalloc (Python allocations, including numpy's buffers).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from protocol.labs import check_lab, check_lab_column


def synthetic_column(rows: int) -> tuple[pd.Series, pd.Series]:
    """Synthetic values around the 8.0 g/dL threshold, in three units; a fixed seed."""
    rng = np.random.default_rng(20250106)
    grams_per_decilitre = rng.normal(11, 2.5, rows).clip(0.5, None)
    units = rng.choice(np.array(["g/dL", "g/L", "mmol/L"]), rows)
    factor = np.select([units == "g/L", units == "mmol/L"], [10.0, 0.6206], 1.0)
    return pd.Series(grams_per_decilitre * factor), pd.Series(units)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scalar-rows", type=int, default=None, help="default: all rows")
    args = parser.parse_args()
    values, units = synthetic_column(args.rows)
    check_lab("hemoglobin", 8, "g/dL")  # load study.yaml and the registry once, outside timing

    start = time.perf_counter()
    table = check_lab_column("hemoglobin", values, units)
    vector_seconds = time.perf_counter() - start
    # memory in a second run: tracemalloc's bookkeeping would slow the timed one
    tracemalloc.start()
    check_lab_column("hemoglobin", values, units)
    _, vector_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    scalar_rows = min(args.scalar_rows or args.rows, args.rows)
    start = time.perf_counter()
    statuses = [
        check_lab("hemoglobin", value, unit).status
        for value, unit in zip(values.iloc[:scalar_rows], units.iloc[:scalar_rows], strict=True)
    ]
    scalar_seconds = time.perf_counter() - start
    assert statuses == list(table["status"].iloc[:scalar_rows]), "the two paths disagree"

    vector_per_value = vector_seconds / args.rows
    scalar_per_value = scalar_seconds / scalar_rows
    print(f"rows: {args.rows:,} (synthetic haemoglobin values, g/dL, g/L and mmol/L)")
    print(
        f"vectorized: {vector_seconds:.3f} s, {vector_per_value * 1e9:.0f} ns/value, "
        f"peak {vector_peak / 2**20:.0f} MiB"
    )
    print(
        f"one at a time: {scalar_seconds:.2f} s over {scalar_rows:,} rows, "
        f"{scalar_per_value * 1e6:.1f} µs/value"
        + (
            ""
            if scalar_rows == args.rows
            else f" (about {scalar_per_value * args.rows:.0f} s for all rows)"
        )
    )
    print(f"ratio (per value): {scalar_per_value / vector_per_value:,.0f}x")
    print(f"statuses: {table['status'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
