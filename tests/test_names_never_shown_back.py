"""A text that may name a person, given where a record, a washout list or a mapping file holds
something else, is refused (exit 2) without being shown back: the whole file given by mistake
(a table's row), an unknown field named after a person, a choice, date or number field holding
a name. What a site mistyped is still shown (``Female``, ``sexx``, ``12,5``, a word in small
letters such as ``rectal``), as ``prescreen`` shows a refused cell (helper 131: ``screen``
printed "found 'Zhang Wei,1978-06-14,female,5 Main Street Hangzhou'").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, examples
from trialbook.cli import main

CASE = (REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8")
WASHOUT = (REPO / "examples/washout-synthetic.yaml").read_text(encoding="utf-8")

#: Names as a site writes them (SYNTHETIC): pinyin with capitals, Chinese characters, and
#: other languages' names; each drawn anew below.
_SURNAMES = ["Zhang", "Wang", "Li", "Wu", "Ma", "Chen", "Donna", "Müller", "O'Brien", "ZHANG"]
_GIVEN = ["Wei", "Fang", "Na", "Li", "May", "José", "WEI", "F"]
_HAN = "张王李刘陈杨黄赵吴周伟芳娜秀英敏静丽强磊军洋"

_ascii_names = st.one_of(
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(_SURNAMES), st.sampled_from(_GIVEN)),
    st.builds(lambda a, b: f"{a}{b}", st.sampled_from(_SURNAMES), st.sampled_from(_GIVEN)),
    st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(_SURNAMES), st.sampled_from(_GIVEN)),
    st.sampled_from([s for s in _SURNAMES if s.isupper()]),  # a surname alone, as a passport
)


def _full_width(text: str) -> str:
    """The text as a Chinese input method in full-width mode types it (Ｚｈａｎｇ Ｗｅｉ)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


names = st.one_of(
    _ascii_names,
    st.builds(_full_width, _ascii_names),
    st.text(alphabet=_HAN, min_size=2, max_size=3),
)


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


def _written(folder: Path, text: str, name: str = "input.yaml") -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _record_with(**changes: object) -> str:
    data = yaml.safe_load(CASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _refused_unshown(argv: list[str], name: str) -> str:
    code, said = _run(argv)
    assert code == 2, said
    assert name not in said, said
    for part in name.split():
        if len(part) > 2:  # a surname alone is a name too
            assert part not in said, said
    return said


@settings(max_examples=examples(30), deadline=None)
@given(name=names, where=st.sampled_from(["screen", "washout", "prescreen --map"]))
def test_a_file_that_is_a_line_of_text_is_refused_without_it(tmp_path_factory, name, where):
    folder = tmp_path_factory.mktemp("line")
    path = _written(folder, f"{name},1978-06-14,female,5 Main Street Hangzhou\n", "row.csv")
    if where == "prescreen --map":
        table = _written(folder, "participant\nSYN-01\n", "t.csv")
        argv = ["prescreen", table, "--map", path, "--out", str(folder / "out")]
    else:
        argv = [where, path]
    said = _refused_unshown(argv, name)
    assert "1978-06-14" not in said and "Main Street" not in said
    if where != "prescreen --map":
        assert "a line of text" in said


@settings(max_examples=examples(30), deadline=None)
@given(name=names, nested=st.booleans())
def test_an_unknown_field_named_after_a_person_is_refused_without_its_name(
    tmp_path_factory, name, nested
):
    folder = tmp_path_factory.mktemp("key")
    data = yaml.safe_load(CASE)
    (data["labs"] if nested else data)[name] = "1978-06-14"
    path = _written(folder, yaml.safe_dump(data, allow_unicode=True))
    said = _refused_unshown(["screen", path], name)
    assert "withheld: it may name a person" in said
    assert ("labs." in said) == nested  # the object it is in is still named


@settings(max_examples=examples(30), deadline=None)
@given(
    name=names,
    field=st.sampled_from(
        ["sex", "dates__screening", "labs__igg__value", "labs__igg__unit", "pah_risk"]
    ),
)
def test_a_name_in_a_field_that_holds_no_name_is_refused_without_it(tmp_path_factory, name, field):
    # a unit's text around a slash is shown as prescreen shows a unit cell (G/DL, 10^9/L): two
    # short syllables there (Li/Na) cannot be told from a unit written in capitals, and are left
    assume(not (field.endswith("unit") and "/" in unicodedata.normalize("NFKC", name)))
    folder = tmp_path_factory.mktemp("value")
    path = _written(folder, _record_with(**{field: name}))
    said = _refused_unshown(["screen", path], name)
    assert "withheld: it may name a person" in said


@settings(max_examples=examples(20), deadline=None)
@given(name=names, field=st.sampled_from(["route", "frequency", "last_dose"]))
def test_a_name_in_a_washout_entry_field_is_refused_without_it(tmp_path_factory, name, field):
    folder = tmp_path_factory.mktemp("washout")
    data = yaml.safe_load(WASHOUT)
    data["medications"][0][field] = name
    path = _written(folder, yaml.safe_dump(data, allow_unicode=True))
    _refused_unshown(["washout", path], name)


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("sex", "Female", "'Female'"),  # the expected value in other letters
        ("sex", "F", "'F'"),  # a value's short form, as prescreen shows it
        ("labs__igg__value", "12,5", "'12,5'"),  # a number as a site mistypes one
        ("dates__screening", "2025-02-30", "2025-02-30"),  # a date that is no date
        # a date typed in full-width digits (helper 133: it was withheld as a name)
        ("dates__screening", "２０２５-03-03", "'２０２５-03-03'"),
    ],
)
def test_what_a_site_mistyped_is_still_shown(tmp_path, field, value, shown):
    code, said = _run(["screen", _written(tmp_path, _record_with(**{field: value}))])
    assert code == 2 and shown in said, said


def test_a_misspelt_field_is_still_named(tmp_path):
    data = yaml.safe_load(CASE)
    data["sexx"] = data.pop("sex")
    code, said = _run(["screen", _written(tmp_path, yaml.safe_dump(data))])
    assert code == 2 and "sexx" in said, said


@settings(max_examples=examples(10), deadline=None)
@given(name=names)
def test_a_name_as_an_event_kind_is_refused_without_it(tmp_path_factory, name):
    folder = tmp_path_factory.mktemp("event")
    data = yaml.safe_load(WASHOUT)
    data["events"][0]["kind"] = name
    _refused_unshown(["washout", _written(folder, yaml.safe_dump(data, allow_unicode=True))], name)


@pytest.mark.parametrize(
    ("field", "value"),
    [("frequency", "twice a week"), ("dose", "15 mgs"), ("route", "rectal")],
)
def test_a_mistyped_word_of_the_books_vocabulary_is_still_shown(tmp_path, field, value):
    data = yaml.safe_load(WASHOUT)
    data["medications"][0][field] = value
    code, said = _run(["washout", _written(tmp_path, yaml.safe_dump(data))])
    assert code == 2 and f"'{value}'" in said, said


@settings(max_examples=examples(20), deadline=None)
@given(
    name=names,
    born=st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2026, 11, 29)),  # born by now
    written=st.sampled_from(["{:%Y-%m-%d}", "{:%Y%m%d}", "{:%d-%b-%Y}"]),
    blank_first=st.booleans(),
    extra=st.integers(0, 3),
)
def test_an_unknown_column_named_with_a_birth_date_is_named_by_its_letter(
    tmp_path_factory, name, born, written, blank_first, extra
):
    # a sheet turned on its side has one column per patient: "Donna May 1978-06-14" was
    # repeated in the refusal of the unknown column (helper 131)
    from openpyxl.utils import get_column_letter

    folder = tmp_path_factory.mktemp("header")
    header = f"{name} {written.format(born)}"
    others = [f"x{i}" for i in range(extra)]  # unknown columns with plain names before it
    names_row = [""] * blank_first + ["participant", *others, header]
    cells_row = [""] * blank_first + ["SYN-01", *["1"] * extra, "1"]
    table = _written(
        folder, ",".join(f'"{n}"' for n in names_row) + "\n" + ",".join(cells_row) + "\n", "t.csv"
    )
    said = _refused_unshown(["prescreen", table, "--out", str(folder / "out")], header)
    assert written.format(born) not in said
    # its letter in the sheet, the blank first column (left out of the table) counted
    letter = get_column_letter(blank_first + 2 + extra)
    assert f"column {letter} (its name withheld" in said, said
    for other in others:
        assert f"column '{other}'" in said  # a plain name is still named


@settings(max_examples=examples(15), deadline=None)
@given(name=names, place=st.sampled_from(["attestation", "twice"]))
def test_a_key_named_after_a_person_is_not_repeated_as_an_attestation_or_twice(
    tmp_path_factory, name, place
):
    folder = tmp_path_factory.mktemp("keys")
    if place == "attestation":
        text = f'participant: SYN-01\nattestations:\n  "{name}": {{applies: true}}\n'
    else:
        text = f'participant: SYN-01\n"{name}": 1\n"{name}": 2\n'
    _refused_unshown(["screen", _written(folder, text)], name)


@settings(max_examples=examples(15), deadline=None)
@given(name=names, key=st.sampled_from(["field", "unit"]))
def test_a_name_in_a_mapping_files_field_or_unit_is_not_repeated(tmp_path_factory, name, key):
    assume(not (key == "unit" and "/" in unicodedata.normalize("NFKC", name)))  # (as above)
    folder = tmp_path_factory.mktemp("mapping")
    table = _written(folder, "participant,hb\nSYN-01,120\n", "t.csv")
    entry = {"field": "labs.hemoglobin.value", "unit": "g/L"}
    entry[key] = name
    mapping = _written(
        folder, yaml.safe_dump({"columns": {"hb": entry}}, allow_unicode=True), "m.yaml"
    )
    _refused_unshown(["prescreen", table, "--map", mapping, "--out", str(folder / "o")], name)
