"""Summarise `mutmut results`: mutants, killed, survived and equivalent, per module.

A surviving mutant listed in tests/mutation/equivalent.txt (with its one-line reason) is counted
as equivalent; every other survivor is printed, since each needs a test that kills it. Exit 1
when the score (killed / (mutants - equivalent)) is below the goal or any survivor is neither
killed nor listed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

GOAL = 95.0
EQUIVALENT = Path(__file__).resolve().parents[1] / "tests" / "mutation" / "equivalent.txt"


def main() -> int:
    output = subprocess.run(
        [str(Path(sys.executable).with_name("mutmut")), "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    equivalent = {
        line.split("#", 1)[0].strip()
        for line in EQUIVALENT.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    counts: dict[str, Counter[str]] = {}
    survivors = []
    listed = set()
    for line in output.splitlines():
        match = re.match(r"\s*([\w.ǁ]+)__mutmut_\d+: ([\w ]+)$", line)
        if not match:
            continue
        name, status = line.split(":")[0].strip(), match.group(2)
        module = ".".join(match.group(1).split(".")[:2])
        if status == "survived" and name in equivalent:
            status = "equivalent"
            listed.add(name)
        elif status == "survived":
            survivors.append(name)
        counts.setdefault(module, Counter())[status] += 1
    header = (
        "module",
        "mutants",
        "killed",
        "survived",
        "no tests",
        "unchecked",
        "equivalent",
        "score",
    )
    print("{:22} {:>8} {:>7} {:>9} {:>9} {:>10} {:>11} {:>7}".format(*header))
    total: Counter[str] = Counter()
    for module, count in sorted(counts.items()):
        total.update(count)
        print(_row(module, count))
    print(_row("all", total))
    for name in survivors:
        print(f"survived: {name}")
    for name in sorted(equivalent - listed):
        print(f"stale equivalent entry (no such surviving mutant): {name}")
    # The goal, and no survivor left unexplained: each is killed by a test or listed as equivalent.
    return 0 if _score(total) >= GOAL and not survivors else 1


def _score(count: Counter[str]) -> float:
    tested = sum(count.values()) - count["equivalent"] - count["skipped"]
    return 100.0 * (count["killed"] + count["timeout"]) / tested if tested else 0.0


def _row(module: str, count: Counter[str]) -> str:
    mutants = sum(count.values())
    return (
        f"{module:22} {mutants:8} {count['killed'] + count['timeout']:7} {count['survived']:9} "
        f"{count['no tests']:9} {count['not checked']:10} {count['equivalent']:11} "
        f"{_score(count):6.1f}%"
    )


if __name__ == "__main__":
    sys.exit(main())
