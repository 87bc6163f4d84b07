"""One-record commands run with pint imported without numpy (issue 15: numpy's import was a
sixth of a one-record `trialbook screen`), and say exactly what they say with it.

A new process imports pint as `trialbook` does for these commands, runs each command there, and
its outputs and exit codes are compared with the same commands run here, where numpy is loaded
and pint uses it. The process must never have loaded numpy: a command that did would pay for it
anyway, with a pint that does not know numpy's arrays."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.labs import _ckd_epi
from protocol.study import load_study
from trialbook.cli import ONE_RECORD_COMMANDS, main

ROOT = Path(__file__).parents[1]
CASES = sorted((ROOT / "book" / "cases").glob("*.yaml"))

COMMANDS: list[list[str]] = [
    *(["screen", str(case)] for case in CASES),
    ["screen", str(CASES[0]), "--format", "json"],
    ["screen", str(CASES[-1]), "--format", "markdown"],
    ["lab", "hemoglobin", "78", "g/L"],
    ["lab", "hemoglobin", "4.9650", "mmol/L"],
    ["lab", "creatinine", "1.2", "mg/dL", "--age", "40", "--sex", "female"],
    ["lab", "creatinine", "141", "umol/L", "--age", "70", "--sex", "male"],
    ["lab", "creatinine", "250", "umol/L", "--sex", "male"],
    ["lab", "alt", "95", "U/L", "--uln", "40", "U/L"],
    ["lab", "alt", "400", "U/L"],
    ["lab", "wbc", "2.9", "10^9/L"],
    ["lab", "hemoglobin", "78", "10E9/L"],  # refused: exit 2
    ["washout", str(ROOT / "examples" / "washout-synthetic.yaml")],
    ["washout", str(ROOT / "examples" / "washout-synthetic.yaml"), "--json"],
    ["calendar", "--arm", "telitacicept_mmf", "--randomization", "2026-01-05"],
    ["calendar", "--arm", "mmf", "--randomization", "2026-02-29"],  # not a date: exit 2
    ["schema"],
    ["lint"],
]

_IN_A_NEW_PROCESS = """
import contextlib, io, json, sys
from trialbook.cli import _pint_without_numpy
_pint_without_numpy()
from trialbook.cli import main
results = []
for argv in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps({"numpy": "numpy" in sys.modules, "results": results}))
"""


def _here(argv: list[str]) -> list[object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return [code, out.getvalue(), err.getvalue()]


def test_every_one_record_command_is_run_here():
    assert {argv[0] for argv in COMMANDS} == ONE_RECORD_COMMANDS


def test_one_record_commands_say_the_same_without_numpy():
    done = subprocess.run(
        [sys.executable, "-c", _IN_A_NEW_PROCESS],
        input=json.dumps(COMMANDS),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found["numpy"] is False, "a one-record command loaded numpy"
    codes = set()
    for argv, there in zip(COMMANDS, found["results"], strict=True):
        assert there == _here(argv), argv
        codes.add(there[0])
    assert {0, 1, 2, 3} <= codes  # eligible, not eligible, refused and incomplete all compared


def test_pint_is_imported_without_numpy_only_for_one_record_commands():
    probe = (
        "import sys\n"
        "sys.argv = ['trialbook'] + sys.argv[1:]\n"
        "import trialbook.cli as cli\n"
        "if sys.argv[1] in cli.ONE_RECORD_COMMANDS: cli._pint_without_numpy()\n"
        "import pint.compat\n"
        "print(pint.compat.HAS_NUMPY)\n"
    )
    for command, has_numpy in (("screen", "False"), ("prescreen", "True"), ("export", "True")):
        done = subprocess.run(
            [sys.executable, "-c", probe, command], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == has_numpy, command


@settings(max_examples=300, deadline=None)
@given(
    creatinine=st.floats(0.05, 30, allow_nan=False),
    age=st.integers(18, 120),
    female=st.booleans(),
)
def test_ckd_epi_on_numbers_is_ckd_epi_on_arrays(creatinine, age, female):
    # one equation, two kinds of operations: plain numbers (one record, no numpy) and arrays
    # (prescreen); the two agree to the last digits a float holds
    study = load_study()
    one = _ckd_epi(creatinine, age, female, study)
    many = _ckd_epi(np.array([creatinine]), np.array([age]), np.array([female]), study)
    assert isinstance(one, float)
    assert math.isclose(one, float(many[0]), rel_tol=1e-13)


def test_debug_before_the_command_runs_the_same_process():
    # --debug may come anywhere; the re-run a bug report asks for must be the same process
    probe = (
        "import sys\n"
        "sys.argv = ['trialbook', '--debug', 'lab', 'hemoglobin', '78', 'g/L']\n"
        "import trialbook.cli as cli\n"
        "code = cli.command()\n"
        "print('numpy' in sys.modules, code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "False 1"
