"""Speed and memory of `trialbook prescreen` against `trialbook screen` (not a test; issue 15).

Both paths run in one process on the same SYNTHETIC candidates: the batch from a Parquet file
end to end (read, cells, every criterion with reasons, the outputs rendered), and `screen` on
records built from a sample of the same rows. Prints wall times, per-record times, the ratio,
and the process's peak resident memory (run one size per process for its own peak); then the
first run of several new processes (``--fresh``): their median is the figure held to the
issue's limit of 1 s.

    .venv/bin/python benchmarks/prescreen_speed.py [--sizes 100000 1000000] [--screen-sample 300]
        [--fresh 7]
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prescreen.columns import Mapping
from prescreen.engine import _nested, evaluate
from prescreen.outputs import outcomes, rendered
from prescreen.run import _no_cycle_collection, _system_allocator, prescreen
from prescreen.synthetic import candidates
from prescreen.table import read_candidates, read_table, refuse_identifiers
from protocol.participant import ParticipantRecord
from protocol.screening import screen
from protocol.study import load_study

AS_OF = dt.date(2026, 11, 26)


def batch(size: int, folder: Path) -> tuple[float, float, float, dict[str, int], dict[str, float]]:
    """The first run in this process (what `trialbook prescreen` does once), its peak memory,
    and a second run of the same table (what a long-running process sees, its memory and
    Arrow's kernels warm), then the stages of a third."""
    path = folder / f"candidates-{size}.parquet"
    candidates(size, 7, AS_OF).to_parquet(path)
    start = time.perf_counter()
    run = prescreen(path, as_of=AS_OF)
    seconds = time.perf_counter() - start
    # the process's peak resident memory so far (Linux reports KiB); run one size per process
    # for a size's own peak
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    prescreen(path, as_of=AS_OF)
    again = time.perf_counter() - start
    return seconds, again, peak, run.counts, stages(path)


def stages(path: Path) -> dict[str, float]:
    """The same run again, stage by stage (the steps `prescreen` takes, timed one by one, with
    the cycle collector paused and Arrow's allocator chosen as `prescreen` does)."""
    with _no_cycle_collection(), _system_allocator():
        return _stages(path)


def _stages(path: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = now - clock
        clock = now

    frame = read_table(path)
    refuse_identifiers(frame, str(path))
    lap("read the Parquet file")
    table = read_candidates(frame, Mapping(), str(path), AS_OF)
    lap("read and check the cells")
    evaluation = evaluate(table, as_of=AS_OF)
    lap("every criterion's status and missing items")
    found = outcomes(evaluation)
    lap("outcomes with the reasons shown")
    rendered(evaluation, found)
    lap("the files (CSV, Excel, SVG)")
    return times


def one_by_one(sample: int) -> float:
    frame = candidates(sample, 7, AS_OF)
    table = read_candidates(frame, Mapping(), "sample", AS_OF)
    paths = table.fields()
    records = []
    for i in range(sample):
        if table.refused[i]:
            continue
        data = _nested(paths, [table.column(p)[i] for p in paths])
        records.append(ParticipantRecord.model_validate({**data, "participant": table.ids[i]}))
    study = load_study()
    start = time.perf_counter()
    for record in records:
        screen(record, study)
    return (time.perf_counter() - start) / len(records)


#: A new process's first run, timed inside it (the interpreter's start and the imports are
#: not counted; the study is built first, as `trialbook` builds it before reading a table).
_FRESH = """
import datetime as dt, sys, time
from prescreen.run import prescreen
from protocol.study import load_study
load_study()
start = time.perf_counter()
prescreen(sys.argv[1], as_of=dt.date(2026, 11, 26))
print(time.perf_counter() - start)
"""


def fresh_processes(path: Path, count: int) -> list[float]:
    """The first run of ``count`` new processes, one after another: a run's fresh memory is
    paid for in each (a second run in one process reuses it), and one run varies with the
    machine's load, so the median of several is reported."""
    runs = []
    for _ in range(count):
        done = subprocess.run(
            [sys.executable, "-c", _FRESH, str(path)], capture_output=True, text=True, check=True
        )
        runs.append(float(done.stdout.split()[-1]))
    return runs


def command_wall(case: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "trialbook.cli", "screen", str(case)], capture_output=True
    )
    return time.perf_counter() - start


def prescreen_command_wall(path: Path, folder: Path) -> float:
    """``trialbook prescreen`` as a site runs it: a new process, its imports and the study
    included, the files written to disk."""
    out = folder / "command-out"
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "trialbook.cli",
            "prescreen",
            str(path),
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(out),
            "--force",
        ],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--screen-sample", type=int, default=300)
    parser.add_argument("--fresh", type=int, default=7, help="new processes timed per size")
    args = parser.parse_args()
    load_study()  # built once, as a long-running process would
    per_record = one_by_one(args.screen_sample)
    print(f"screen, in process: {per_record * 1e3:.2f} ms a record ({args.screen_sample} records)")
    project = Path(__file__).resolve().parents[1]
    case = project / "book" / "cases" / "case01-eligible.yaml"
    # `trialbook screen` as a site runs it after `make`, which compiles the project's modules
    # ahead (`make bytecode`): a module edited since is compiled here first, or the wall time
    # would include Python compiling it anew in each process (about 0.1 s where
    # PYTHONDONTWRITEBYTECODE is set, as on these machines)
    for package in ("protocol", "dosing", "prescreen", "exports", "trialbook", "binder"):
        compileall.compile_dir(project / package, quiet=1)
    walls = sorted(command_wall(case) for _ in range(5))
    print(f"trialbook screen, one record, wall (median of 5): {walls[2]:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            seconds, again, peak, counts, steps = batch(size, Path(folder))
            batch_per_record = seconds / size
            print(
                f"prescreen {size:,} candidates from Parquet: {seconds:.2f} s "
                f"({batch_per_record * 1e6:.1f} µs a record, {per_record / batch_per_record:.0f}x "
                f"faster than screen per record), peak resident memory of the process "
                f"{peak:.0f} MiB; {counts}"
            )
            print(
                f"    the same table again in this process: {again:.2f} s "
                f"({per_record / (again / size):.0f}x faster than screen per record)"
            )
            runs = sorted(fresh_processes(Path(folder) / f"candidates-{size}.parquet", args.fresh))
            if runs:
                middle = runs[len(runs) // 2]
                print(
                    f"    the first run in {len(runs)} new process{'es' if len(runs) > 1 else ''}: "
                    f"median {middle:.2f} s "
                    f"({per_record / (middle / size):.0f}x faster than screen per record), "
                    f"from {runs[0]:.2f} to {runs[-1]:.2f} s"
                )
            commands = sorted(
                prescreen_command_wall(Path(folder) / f"candidates-{size}.parquet", Path(folder))
                for _ in range(3)
            )
            print(
                f"    trialbook prescreen as a command (a new process, imports and the study "
                f"included, files written), wall, median of 3: {commands[1]:.2f} s"
            )
            for name, taken in steps.items():
                print(f"    {name}: {taken:.2f} s")


if __name__ == "__main__":
    main()
