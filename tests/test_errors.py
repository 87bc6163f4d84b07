"""One error hierarchy (issue 14 §4): every error of the book is a ProtocolError (a ValueError),
input and data errors apart, and every error pickles with its fields."""

from __future__ import annotations

import pickle

import pytest

from dosing.calendar import CalendarFileError, CalendarInputError, CalendarWriteError
from dosing.dispensing import DispensingInputError
from protocol.errors import (
    InputError,
    InternalError,
    LabInputError,
    ProtocolDataError,
    ProtocolError,
    RegistryMismatchError,
)
from protocol.registry_check import InvalidRecordError
from protocol.units import UnitTextError
from protocol.washout import WashoutInputError

EXAMPLES = [
    ProtocolDataError("study.yaml", ["design.enrollment.value (line 3): 'x'; expected a number"]),
    RegistryMismatchError("study.yaml", ["criteria[11].text (EX05): differs"]),
    InvalidRecordError("other.json", "a list", "an API v2 study object"),
    WashoutInputError("input.yaml", ["medications[0].last_dose: '2025-02-30' is not a date"]),
    CalendarInputError("--arm", ["'placebo' is not an arm"]),
    CalendarFileError(["--csv out.csv: exists; pass --force to replace it"]),
    CalendarWriteError(["--ics out.ics: No space left on device"]),
    DispensingInputError("presentations", ["160 mg is not a whole number of 75 mg vials"]),
    LabInputError("Hemoglobin: the unit 'g/l/l' is not a unit the book knows", "unit"),
    UnitTextError("'g/L*2' is not a unit"),
    InputError("a value that cannot be read"),
    InternalError("a state the rules never reach"),
]


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_error_is_a_protocol_error_and_pickles_with_its_fields(error):
    assert isinstance(error, ProtocolError) and isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_input_data_and_internal_errors_are_apart():
    assert issubclass(LabInputError, InputError) and issubclass(UnitTextError, InputError)
    assert not issubclass(LabInputError, ProtocolDataError)
    assert not issubclass(ProtocolDataError, InputError)
    assert not issubclass(InternalError, (InputError, ProtocolDataError))
    assert LabInputError("x", "uln").field == "uln"
