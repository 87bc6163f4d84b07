"""Reading a candidate table (CSV, Excel or Parquet) into typed columns, cell by cell.

Each bad cell is reported with its row and column and becomes missing, so the rest of the table
is still processed; a row whose cells cannot all be true together (a man recorded as pregnant, a
first manifestation after the screening date) is reported and left out of the screening, as
``trialbook screen`` refuses such a record.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import json
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prescreen.columns import (
    ID_FIELD,
    WITHHELD_ID,
    Mapping,
    fields,
    identifier_cells,
    identifier_column,
    read_cell,
    shown_value,
    without_identifying,
)
from protocol.documents import withheld_from
from protocol.errors import Problem, ProtocolDataError
from protocol.identifiers import (
    CODE_EXPECTED,
    MERGED_WITH,
    NOT_A_DATE_NUMBER,
    PLACEHOLDER_CODES,
    date_in_an_id_cell,
    date_shaped_id,
    identifying_text,
    personal_data_inside,
)
from protocol.participant import FINGER_AREAS, MAXIMUM_PLAUSIBLE_AGE, PAH_RISKS, SkinAreas

#: The largest table read (a clinic's candidate list; a national registry would be split).
MAX_BYTES = 2_000_000_000
FORMATS = {".csv": "CSV", ".xlsx": "Excel", ".parquet": "Parquet"}
#: The first data row's number as a spreadsheet shows it (the header is row 1).
FIRST_ROW = 2


class RowNumbers:
    """Each row's number as a spreadsheet shows it, kept in ``frame.attrs["rows"]``. pandas
    deep-copies a frame's attributes into every column taken from it; the numbers are
    read-only and the holder copies as itself, so a table of 80 columns does not copy them 80
    times (100,000 rows made 61 MB of copies for each look at every column)."""

    __slots__ = ("numbers",)

    def __init__(self, numbers: Any) -> None:
        self.numbers = np.array(numbers, dtype=int)
        self.numbers.flags.writeable = False

    def __deepcopy__(self, memo: dict[int, Any]) -> RowNumbers:
        return self


@dataclass(frozen=True)
class CellProblem:
    """One cell that could not be read (or one row whose cells contradict each other)."""

    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str  # the columns of a row's contradiction joined by "; " (problems.csv's cell)
    found: str
    expected: str
    columns: tuple[str, ...] = ()  # a contradiction's columns, each named in the message

    def __str__(self) -> str:
        if len(self.columns) > 1:
            where = f"row {self.row}, columns " + _listed(tuple(map(repr, self.columns)))
        else:
            where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return (
            f"{where}: {self.found}: {self.expected}" if self.found else f"{where}: {self.expected}"
        )


@dataclass
class Candidates:
    """The candidates as typed columns: ``values[field]`` is an object array (None = missing),
    and ``coded(field)`` the same column as integer codes over its distinct values (what the
    evaluation groups, converts and compares, each distinct value once)."""

    ids: list[str]
    values: dict[str, np.ndarray]
    rows: np.ndarray  # each candidate's row number in the table
    problems: list[CellProblem] = field(default_factory=list)
    refused: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # rows left out (contradictory, without a usable ID, or with a value the rules refuse)
    errors: dict[int, list[Any]] = field(default_factory=dict)  # position -> rule problems
    columns: dict[str, str] = field(default_factory=dict)  # record field -> the table's column
    study: Any = None  # the study the rules come from (set by the evaluation)
    # what the evaluation derives from whole columns once (the skin grades as a matrix)
    derived: dict[str, Any] = field(default_factory=dict, repr=False)
    # each field's column as integer codes and its distinct values (see `coded`)
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    # a lab's unit, ULN or ULN unit cells set aside beside no value (no result): each field's
    # positions and their values, still checked as the rules check them (``evaluate``)
    without_a_value: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )

    def column_of(self, path: str) -> str:
        """The table's column for a record field (a lab's value column for ``labs.NAME``)."""
        for candidate in (path, f"{path}.value"):
            if candidate in self.columns:
                return self.columns[candidate]
        if path.startswith("labs.") and path.count(".") == 1:
            # a lab the table holds no value column of: the value's column a table would hold
            # (`--template`'s name), never its unit's or ULN's column, which give no result
            return f"{path}.value"
        inside = [column for field, column in self.columns.items() if field.startswith(path + ".")]
        if len(inside) > 1:  # a group of columns (the 17 mRSS areas): named as a group
            return f"{inside[0]} to {inside[-1]} ({len(inside)} columns)"
        return inside[0] if inside else path

    def field_of(self, column: str) -> str:
        """The record field a table's column holds (the column's name where it holds none)."""
        return next((f for f, c in self.columns.items() if c == column), column)

    def __len__(self) -> int:
        return len(self.ids)

    def fields(self) -> list[str]:
        """Every record field the table gives (a column of its own or a mapped constant)."""
        return list(dict.fromkeys([*self.codes, *self.values]))

    def leave_out(self, path: str, positions: np.ndarray) -> None:
        """Empty a field's cells at ``positions`` (a value the rules refuse, left out as a cell
        that could not be read is); what was derived from the columns is made again."""
        if path in self.codes:
            codes, distinct = self.codes[path]
            codes = codes.copy()  # (a mapped constant's codes may be shared)
            codes[positions] = -1
            self.codes[path] = codes, distinct
        if path in self.values:
            values = self.values[path].copy()
            values[positions] = None
            self.values[path] = values
        self.derived.clear()

    def fill(self, path: str, positions: np.ndarray, value: Any) -> None:
        """Give a field's cells at ``positions`` the one value the rest of their rows allows
        (as the record reads a grade it implies); what was derived is made again."""
        codes, distinct = self.coded(path)
        same = [i for i, d in enumerate(distinct) if type(d) is type(value) and d == value]
        if not same:
            distinct = np.append(distinct, np.array([value], dtype=object))
            same = [len(distinct) - 1]
        codes = codes.astype(np.min_scalar_type(-len(distinct) - 1), copy=True)
        codes[positions] = same[0]
        self.codes[path] = codes, distinct
        self.values.pop(path, None)  # made again from the codes when asked for
        self.derived.clear()

    def column(self, path: str) -> np.ndarray:
        """A field's values as an object array (None = missing), made from its codes when it
        is first asked for (the evaluation itself reads the codes)."""
        found = self.values.get(path)
        if found is None and path in self.codes:
            codes, distinct = self.codes[path]
            found = self.values[path] = np.append(distinct, None)[codes]
        return found if found is not None else np.full(len(self.ids), None, dtype=object)

    def rows_of(self, paths: tuple[str, ...], positions: np.ndarray) -> list[tuple[Any, ...]]:
        """The values of ``paths`` at each of ``positions``, one tuple a row (None = missing):
        each field's values taken by its codes at once, not one lookup a cell."""
        if not paths:
            return [() for _ in range(len(positions))]
        columns = []
        for path in paths:
            if path in self.codes:
                codes, distinct = self.codes[path]
                columns.append(np.append(distinct, None)[codes[positions]].tolist())
            else:
                columns.append(self.column(path)[positions].tolist())
        return list(zip(*columns, strict=True))

    def coded(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        """A field's column as integer codes (-1 for a missing value) and the distinct values
        they index: grouping and converting then work on integers and on each distinct value
        once, not on a Python object per row. Cells read equal may keep different codes (``1``
        and ``"1"`` in one column): groups are then only finer. Made once, when the table is
        read or when first asked for."""
        if path not in self.codes and path not in self.values:  # not in the table at all
            self.codes[path] = np.full(len(self.ids), -1, dtype=np.int32), np.empty(0, object)
        if path not in self.codes:
            column = self.column(path)
            codes, distinct = pd.factorize(pd.Series(column, dtype=object), use_na_sentinel=True)
            self.codes[path] = codes.astype(np.int32), np.asarray(distinct, dtype=object)
        return self.codes[path]

    def numbers(self, path: str) -> np.ndarray:
        """A field's numbers as floats, NaN for anything else (each distinct value read once)."""
        codes, distinct = self.coded(path)
        return np.append(numbers(distinct), np.nan)[codes]

    def present(self, path: str) -> np.ndarray:
        return self.coded(path)[0] >= 0

    def days(self, path: str) -> np.ndarray:
        """A date field as numpy days (NaT where there is none), each distinct date once."""
        key = f"days of {path}"
        if key not in self.derived:
            self.derived[key] = _dates(self, path)
        return self.derived[key]

    def tristate(self, path: str) -> np.ndarray:
        """A yes/no field as 1 (true), 0 (false) or -1 (not recorded)."""
        key = f"tristate of {path}"
        if key not in self.derived:
            codes, distinct = self.coded(path)
            states = [1 if d is True else 0 if d is False else -1 for d in distinct]
            self.derived[key] = np.array([*states, -1], dtype=np.int8)[codes]
        return self.derived[key]

    def is_value(self, path: str, value: Any) -> np.ndarray:
        """Whether each row's value equals ``value`` (False where there is none)."""
        codes, distinct = self.coded(path)
        matches = [d is not None and bool(d == value) for d in distinct]
        return np.append(np.array(matches, dtype=bool), False)[codes]

    def grades(self) -> np.ndarray:
        """The skin areas' mRSS grades as one matrix (areas in the record's order x rows), -1
        where an area is not graded: made once, for the record's own check and the rules."""
        if "grades" not in self.derived:
            areas = [path for path in fields() if path.startswith(SKIN_AREAS)]
            grades = np.empty((len(areas), len(self)), dtype=np.int8)
            for line, area in zip(grades, areas, strict=True):
                # each distinct value's grade once, then every row's by its code (a matrix of
                # floats first was 14 MB for 100,000 rows)
                codes, distinct = self.coded(area)
                values = np.append(numbers(distinct), np.nan)
                line[:] = np.where(np.isnan(values), -1, values).astype(np.int8)[codes]
            self.derived["grades"] = grades
        return self.derived["grades"]

    def date_parts(self, path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A date field's year, month and day (0 where there is none), each distinct date
        taken apart once."""
        key = f"date parts of {path}"
        if key not in self.derived:
            self.derived[key] = _parts(self.days(path))
        return self.derived[key]


#: The fields of the skin areas' grades begin so.
SKIN_AREAS = "ssc.mrss.areas."


def read_table(path: Path | str) -> pd.DataFrame:
    """The table as read, every column kept as it is (nothing guessed); ``frame.attrs["rows"]``
    (:class:`RowNumbers`) holds each row's number as a spreadsheet shows it (the header is row 1).

    Refused as a whole: a CSV row with more or fewer fields than the header (a trailing comma
    shifts every column), a column name given twice, empty or with control characters, more
    than one header row, and cells that hold lists or records.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    source = str(path)
    if suffix not in FORMATS:
        raise ProtocolDataError(
            source,
            [
                Problem(
                    "a .csv, .xlsx or .parquet file",
                    found=f"a {suffix} suffix" if suffix else "no suffix",
                )
            ],
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ProtocolDataError(
            source, [Problem(f"cannot read the file: {exc.strerror}")]
        ) from None
    if not path.is_file():
        raise ProtocolDataError(source, [Problem("a regular file", found="not a regular file")])
    if size > MAX_BYTES:
        raise ProtocolDataError(source, [Problem(f"at most {MAX_BYTES} bytes", found=f"{size}")])
    kind = FORMATS[suffix]
    try:
        if suffix == ".csv":
            frame = _read_csv(path, source)
        elif suffix == ".xlsx":
            _check_unpacked_size(path, source)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                # no text is taken for a missing value ("NA", "null", "#N/A" are reported as a
                # CSV's are); an empty cell is missing
                sheets = {
                    name: frame.replace("", np.nan)
                    for name, frame in pd.read_excel(
                        path,
                        sheet_name=None,
                        dtype=object,
                        engine="openpyxl",
                        header=None,
                        keep_default_na=False,
                        na_values=[],
                    ).items()
                }
            sheet, raw = _the_candidate_sheet(sheets, source)
            if len(sheets) > 1 and _date_warnings(caught):  # whose sheet the warning omits
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
            _show_unreadable_dates(caught, raw, source)  # before the errors: openpyxl makes one
            _show_uncalculated_formulas(path, raw, sheet)
            _show_percentages(path, raw, sheet)
            _show_merged_cells(path, raw, sheet)
            frame = _with_header(raw, source)
        else:
            frame = _read_parquet(path)
            if isinstance(frame.columns, pd.MultiIndex):
                raise ProtocolDataError(
                    source, [Problem("one header row", found="a table with several header rows")]
                )
            frame.attrs["rows"] = RowNumbers(np.arange(len(frame)) + FIRST_ROW)
    except ProtocolDataError:
        raise
    except (ValueError, OSError, KeyError, IndexError, TypeError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ProtocolDataError(
            source, [Problem(f"a readable {kind} table", found=f"cannot read it ({detail})")]
        ) from None
    except Exception as exc:  # pyarrow and openpyxl raise their own types for a damaged file
        raise ProtocolDataError(
            source,
            [Problem(f"a readable {kind} table", found=f"cannot read it ({type(exc).__name__})")],
        ) from None
    empty, nameless = _nameless_columns(frame)
    _check_columns(frame, source, nameless)
    return _without_columns(frame, empty)


#: Text kept in Arrow (no Python object per cell until a distinct value is read).
_ARROW_TEXT = pd.StringDtype("pyarrow")


#: Arrow's nested column types, in words.
_NESTED_KINDS = {
    pa.ListType: "lists",
    pa.LargeListType: "lists",
    pa.FixedSizeListType: "lists",
    pa.StructType: "records (several fields in a cell)",
    pa.MapType: "maps (keys and values in a cell)",
}


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet table read by pyarrow as pandas reads it, except that a column of yes/no
    values (with or without missing cells) stays a column of flags (pandas' nullable boolean)
    rather than becoming Python objects: each cell is the same True, False or missing, read
    without a Python object per cell. The data decides a column's kind: a column of flags is
    read as flags even where pandas' stored notes call it text (pandas would make the flags
    the texts "true" and "false"), and the frame's stored attributes are not read.

    The file is opened as a local file: given as a path, pyarrow would read a name with a
    colon ("site:A.parquet") as the address of a remote store."""
    import pyarrow.parquet as pq

    def flags(kind: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
        if pa.types.is_boolean(kind):
            return pd.BooleanDtype()
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return _ARROW_TEXT
        return None  # the rest as pandas

    with pa.OSFile(str(path)) as source:
        try:
            names = pq.ParquetFile(source).schema_arrow.names
            if len(set(names)) < len(names):  # pyarrow cannot read such a file by name
                twice = sorted({n for n in names if names.count(n) > 1})
                raise ProtocolDataError(
                    str(path),
                    [Problem("each column named once", path=f"column {twice[0]!r}", found="twice")],
                )
            source.seek(0)
            table = pq.read_table(source)
        except pa.ArrowInvalid as exc:  # say "file" where pyarrow names its buffer
            raise ValueError(str(exc).replace("input source '<Buffer>'", "file")) from None
    # a column of lists, records or maps holds no single value a cell may have (a cast of it
    # failed with Arrow's own error, naming no column)
    for name, kind in zip(names, table.schema.types, strict=True):
        if pa.types.is_nested(kind):
            raise ProtocolDataError(
                str(path),
                [
                    Problem(
                        "one value in each cell (a number, text, date or yes/no)",
                        path=f"column {name!r}",
                        found=f"a column of {_NESTED_KINDS.get(type(kind), 'nested values')}",
                    )
                ],
            )
    # text that is not UTF-8: found here, by column (pandas would fail on it at its first use)
    bad_text = _unreadable_text(table)
    if bad_text:
        raise ProtocolDataError(str(path), bad_text)
    # exact decimals as the decimal text they hold, read as the same decimal written in a CSV
    # is, by the field's reader (a double would lose what it cannot hold: 79.999999999999999999
    # became 80; Arrow's direct cast is off by a unit in the last place for some: 800.80 gives
    # 800.8000000000001)
    for i, kind in enumerate(table.schema.types):
        if pa.types.is_decimal(kind):
            # a scale's zeros say no fraction: decimal(5,2) 20.00 is the whole number 20 (an
            # mRSS of a database's NUMERIC column), 20.50 stays 20.5's text
            text = pc.cast(table.column(i), pa.string())
            table = table.set_column(i, names[i], pc.replace_substring_regex(text, r"\.0+$", ""))
        elif pa.types.is_floating(kind) and kind.bit_width == 16:  # Arrow cannot look them up
            column = table.column(i)
            written = column.to_numpy(zero_copy_only=False).astype(str).astype(np.float64)
            missing = column.is_null().to_numpy(zero_copy_only=False)
            table = table.set_column(i, names[i], pa.array(written, mask=missing))
        elif pa.types.is_floating(kind) and kind.bit_width < 64:
            table = table.set_column(i, names[i], _as_written(table.column(i)))
    try:
        frame = table.to_pandas(types_mapper=flags)
    except (json.JSONDecodeError, KeyError, TypeError, IndexError):
        # pandas' notes in the file are damaged (not JSON, or not of their shape): the table is
        # read without them (every column as a column)
        frame = table.replace_schema_metadata(None).to_pandas(types_mapper=flags)
    _refuse_identifying_index(table, frame, str(path))
    if not isinstance(frame.index, pd.RangeIndex) and any(
        name is not None for name in frame.index.names
    ):
        # a named index of values (pandas keeps one as the file's notes say) is a column of the
        # table: it is checked, identifiers refused and cells read as any other column's (a
        # named range of row numbers is only row labels)
        frame = frame.reset_index()
    return frame


def _refuse_identifying_index(table: pa.Table, frame: pd.DataFrame, source: str) -> None:
    """The columns a file stores as pandas' row labels (an unnamed index, or a column its notes
    call one) are checked as every other column is, by name and by cell: they are in the file
    even when no cell of theirs is read (a frame of names and phone numbers as its index)."""
    from prescreen.columns import identifier_cells, identifier_column

    shown = set(map(str, frame.columns))
    problems = []
    for name in table.column_names:
        if name in shown:
            continue
        where = (
            "the row labels (the file's unnamed index)"
            if name.startswith("__index_level_")
            else f"column {name!r} (stored as the row labels)"
        )
        column = table.column(name)
        if identifier_column(name):
            problems.append(
                Problem(
                    "no column that identifies a person (names, phone numbers, ID card numbers, "
                    "addresses); remove it and keep the pseudonymous ID only",
                    path=where,
                )
            )
        elif not pa.types.is_nested(column.type) and identifier_cells(
            cells := column.to_pandas(), include_numbers=True
        ):
            row = _first_identifying_row(frame, cells, {"include_numbers": True})
            problems.append(
                Problem(
                    "no phone numbers, ID card numbers or e-mail addresses in any cell; remove "
                    "them (the column, if it holds such data)",
                    path=where + (f", row {row} (the first such)" if row else ""),
                    found="a cell looks like a phone number, an ID card number or an e-mail "
                    "address",
                )
            )
    if problems:
        raise ProtocolDataError(source, problems)


def _as_written(column: pa.ChunkedArray) -> pa.Array:
    """A column of single-precision numbers as the decimals they were written as: each value's
    shortest decimal that single precision holds (12.3 stored as 12.30000019 reads 12.3). Read at
    its binary value, a value typed exactly at a threshold would fall on its far side in one
    file type and not in another (a haemoglobin of 4.9648 mmol/L would be under 8.0 g/dL)."""
    distinct = pc.unique(column).drop_null()  # each distinct value once (a lab has few)
    written = distinct.to_numpy(zero_copy_only=False).astype(str).astype(np.float64)
    # numpy writes each value's shortest decimal; a missing value stays missing
    return pc.take(pa.array(written), pc.index_in(column, distinct))


def _unreadable_text(table: pa.Table) -> list[Problem]:
    """The text columns whose text is not UTF-8 (Parquet does not check it when written)."""
    found = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = (
                pa.chunked_array([c.dictionary for c in column.chunks], kind.value_type),
                kind.value_type,
            )
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        try:
            column.validate(full=True)
        except pa.ArrowException:
            found.append(Problem("UTF-8 text", path=f"column {name!r}", found="not UTF-8 text"))
    return found


def _wide_encoding(data: bytes) -> str | None:
    """What a file of two or four bytes a character is, when it is one (said once, not as a
    header of letters and NUL bytes): UTF-32 or UTF-16, by its byte-order mark, or UTF-16 by
    the NUL byte beside each ASCII letter of its first line."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32 text (it begins with UTF-32's byte-order mark)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 text (it begins with UTF-16's byte-order mark)"
    start = data[:200]
    if len(start) >= 4 and start.count(0) * 3 >= len(start):  # text of ASCII letters and NULs
        return "UTF-16 or UTF-32 text without a byte-order mark (a NUL byte beside each letter)"
    return None


#: What else separates a table's cells in a file named .csv, by name.
_OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs"}


def _read_csv(path: Path, source: str) -> pd.DataFrame:
    """A CSV read with the standard library's reader: every cell text, an empty cell missing,
    each row's field count checked against the header, rows numbered as a spreadsheet opening
    the file numbers them (a quoted cell holding a line break is still one row; a blank line
    is an empty row)."""
    data = path.read_bytes()
    wide = _wide_encoding(data)
    if wide:  # Excel's "Unicode text", or another program's
        raise ProtocolDataError(
            source, [Problem("UTF-8 text (in Excel: Save As, 'CSV UTF-8')", found=wide)]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1  # where a text editor finds it
        raise ProtocolDataError(
            source,
            [
                Problem(
                    "UTF-8 text (in Excel: Save As, 'CSV UTF-8')",
                    found=f"not UTF-8 text (line {line}, byte {exc.start})",
                )
            ],
        ) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark, as Excel writes UTF-8 CSV
    # an end-of-file mark (Ctrl-Z) that old DOS tools put after the last line: not a row
    text = re.sub("\x1a+(?:\r\n|\r|\n)?\\Z", "", text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = 0  # the row being read, as a spreadsheet numbers it
    try:
        row, header = row + 1, next(reader)
        while not header:  # blank lines above the header, as a spreadsheet may leave them
            row, header = row + 1, next(reader)
    except StopIteration:
        raise ProtocolDataError(source, [Problem("a header row", found="an empty file")]) from None
    except csv.Error as exc:
        raise ProtocolDataError(source, [Problem("a readable CSV table", found=str(exc))]) from None
    # one column whose name holds semicolons or tabs: a spreadsheet set for a decimal comma
    # saves "CSV" with semicolons between the cells, and a tab-separated export is named .csv
    # as often; read as such, its numbers would be guessed
    mark = max(_OTHER_SEPARATORS, key=header[0].count)
    if len(header) == 1 and mark in header[0]:
        raise ProtocolDataError(
            source,
            [
                Problem(
                    "cells separated by commas (save the table as 'CSV UTF-8' with a comma "
                    "between cells and a point in decimals, or as .xlsx)",
                    path=f"row {row}",
                    found=f"a header of {header[0].count(mark) + 1} names separated by "
                    f"{_OTHER_SEPARATORS[mark]}",
                )
            ],
        )
    records: list[list[str]] = []
    numbers: list[int] = []
    ragged: dict[int, str] = {}  # row number: why its cells cannot be read
    while True:
        before = reader.line_num
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row += 1
            if reader.line_num - before > 1:
                # a quote left open: the lines after it were read into its cell, and which
                # rows they were cannot be told; nothing is processed
                _swallowed(source, row, before + 1, reader.line_num, str(exc))
            # one row's quotes malformed ("fem"ale): the reader starts afresh on the next line,
            # so the row is reported and not screened, and the rest of the table is processed
            ragged[row] = f"its cells cannot be read ({exc}); not screened"
            records.append([""] * len(header))
            numbers.append(row)
            continue
        if reader.line_num - before > 1 and any(map(_holds_another_row, record)):
            # a quoted cell holding a line break and, after it, cells of another row: a quote
            # left open and closed on a later line ("female ... "female"), so the rows between
            # are one cell and would be read as another candidate's values, or vanish
            _swallowed(source, row + 1, before + 1, reader.line_num, "")
        row += 1
        if not any(cell.strip() for cell in record):
            continue  # a blank line, or a row of empty cells (",,,": an export's blank row)
        if len(record) != len(header):
            # its cells cannot be placed under their columns: the row is kept, empty, to
            # be reported and not screened, and the rest of the table is processed
            ragged[row] = (
                f"{len(record)} fields where the header has {len(header)}: the row's "
                "cells cannot be placed under their columns (a comma inside an unquoted "
                "cell?); not screened"
            )
            record = [""] * len(header)
        records.append(record)
        numbers.append(row)
    if ragged and len(ragged) == len(records):
        shown = [
            Problem(
                f"{len(header)} fields, as the header has",
                path=f"row {row}",
                found=why.split(" where ")[0],
            )
            if " where the header has " in why
            else Problem("a readable CSV row", path=f"row {row}", found=why.split("; ")[0])
            for row, why in list(ragged.items())[:20]
        ]
        if len(ragged) > 20:
            shown.append(Problem(f"and {len(ragged) - 20} more rows of the wrong length"))
        raise ProtocolDataError(source, shown)  # nothing could be processed
    frame = pd.DataFrame(records, columns=pd.Index(header, dtype=object), dtype=object)
    frame = frame.where(frame != "", None)
    frame.attrs["rows"] = RowNumbers(numbers)
    if ragged:
        frame.attrs["bad_rows"] = ragged
    return frame


def _holds_another_row(cell: str) -> bool:
    """Whether a cell holds a line break and, after it, the start of another row: an ID and
    a comma ("true\nP2,false"). An ID written over two lines ("SYN\n3") is one cell, and so
    is a text with a line break and a comma but no ID before it ("\n,")."""
    return _ANOTHER_ROW.search(cell) is not None


_ANOTHER_ROW = re.compile(r"(?:\r\n|\r|\n)[^\S\r\n]*[A-Za-z0-9][A-Za-z0-9_.\-]*[^\S\r\n]*,")


def _swallowed(source: str, row: int, first: int, last: int, why: str) -> None:
    raise ProtocolDataError(
        source,
        [
            Problem(
                "one row on each line: a quote left open reads the lines after it into one cell "
                "(which candidates they held cannot be told); close the quote, or save the "
                "table again",
                path=f"row {row}",
                found=f"lines {first} to {last} read as one row" + (f" ({why})" if why else ""),
            )
        ],
    )


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
#: An error cell (#N/A, #DIV/0!, #VALUE!) in a worksheet's XML.
_ERROR_TAG = re.compile(rb"""<(?:\w+:)?c [^>]*\bt=["']e["']""")


#: At most this many bytes of a workbook's parts once unpacked (a .xlsx is a zip of XML): a
#: larger table is a CSV or Parquet file's work, and a small file that unpacks to gigabytes (a
#: "zip bomb") is refused before it is unpacked.
MAX_XLSX_UNPACKED = 1_000_000_000


def _check_unpacked_size(path: Path, source: str) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        return  # pandas says what is wrong with it, in its own words
    if unpacked > MAX_XLSX_UNPACKED:
        raise ProtocolDataError(
            source,
            [
                Problem(
                    f"a workbook of at most {MAX_XLSX_UNPACKED:,} bytes unpacked (save a larger "
                    "table as CSV or Parquet)",
                    found=f"{unpacked:,} bytes unpacked",
                )
            ],
        )


def _the_candidate_sheet(sheets: dict[Any, pd.DataFrame], source: str) -> tuple[Any, pd.DataFrame]:
    """The one sheet of the workbook that holds cells: a second sheet with cells is refused, not
    left unread (its candidates would be missing from the worklist without a word)."""
    filled = [name for name, sheet in sheets.items() if sheet.notna().to_numpy().any()]
    if len(filled) > 1:
        shown = ", ".join(repr(str(name)) for name in filled[:5])
        raise ProtocolDataError(
            source,
            [
                Problem(
                    "one sheet with cells: the candidate table (move the other sheets to another "
                    "workbook)",
                    found=f"{len(filled)} sheets with cells ({shown})",
                )
            ],
        )
    name = filled[0] if filled else next(iter(sheets))
    return name, sheets[name]


#: A percentage's number format in a workbook's styles: Excel's own (9: 0%, 10: 0.00%) or one
#: of the workbook's with a per cent sign.
_PERCENT_STYLE = re.compile(rb"""numFmtId=["'](?:9|10)["']|formatCode=["'][^"']*%""")


def _show_percentages(path: Path, raw: pd.DataFrame, sheet: Any) -> None:
    """A number cell formatted as a percentage shows ``78%`` but holds 0.78: read as the
    number it holds, an FVC of 78% predicted was 0.78 (sent to review as implausible, or a
    fraction taken for the value). Each is given the text it shows instead, which is
    reported as a CSV's ``78%`` is (the number alone, the unit given separately). Only a
    workbook whose styles have a percentage is read cell by cell."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        if "xl/styles.xml" not in archive.namelist():
            return
        if not _PERCENT_STYLE.search(archive.read("xl/styles.xml")):
            return
    for i, j, cell in _sheet_cells(path, sheet, raw, data_only=True):
        value = getattr(cell, "value", None)
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        style = getattr(cell, "number_format", "") or ""
        if is_number and "%" in style:
            raw.iat[i, j] = _as_shown_in_percent(value, _percent_scales(style))


def _show_merged_cells(path: Path, raw: pd.DataFrame, sheet: Any) -> None:
    """A merged cell holds its value in its first cell alone: the rows below it (or the columns
    beside it) were read as empty, a unit as missing ("a value needs its unit") and a sex
    merged over two rows as not recorded for the second. Each of those cells is given the text
    ``(merged with D2)`` instead, which no field reads as a value, so it is reported by its row
    and column. The header's own merges are its names' (a column without a name). The merges
    are read from the candidate sheet's own XML, whatever prefix its writer gave the
    spreadsheet namespace (``<x:mergeCell>``); no cell is read again."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries

    merged = [
        range_boundaries(ref.decode("ascii")) for ref in _MERGE_REF.findall(_sheet_xml(path, sheet))
    ]
    if not merged:
        return
    filled = np.flatnonzero(~raw.map(_missing).all(axis=1).to_numpy()) if len(raw) else []
    header = int(filled[0]) + 1 if len(filled) else 0  # the header's row as the sheet numbers it
    rows, columns = raw.shape
    for left, top, right, bottom in merged:
        if top <= header or top > rows or left > columns or _missing(raw.iat[top - 1, left - 1]):
            continue
        first = f"{get_column_letter(left)}{top}"
        for row in range(top, min(bottom, rows) + 1):
            for column in range(left, min(right, columns) + 1):
                if (row, column) != (top, left):
                    raw.iat[row - 1, column - 1] = f"{MERGED_WITH}{first})"


#: A merged range in a worksheet's XML, with or without a namespace prefix (``A2:A3``).
_MERGE_REF = re.compile(
    rb"""<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref\s*=\s*["']([A-Z]{1,3}[0-9]+(?::[A-Z]{1,3}[0-9]+)?)["']"""
)


def _sheet_xml(path: Path, sheet: Any) -> bytes:
    """The XML of the named sheet, found as openpyxl finds it (the workbook part its content
    types name, the sheet's relationship), not by a file name a writer may choose."""
    from openpyxl.reader.excel import ExcelReader

    reader = ExcelReader(path, read_only=True, keep_links=False, keep_vba=False)
    try:
        reader.read_manifest()
        reader.read_workbook()
        for found, relationship in reader.parser.find_sheets():
            if found.name == sheet:
                return reader.archive.read(relationship.target)
        return b""
    finally:
        reader.archive.close()


def _sheet_cells(
    path: Path, sheet: Any, raw: pd.DataFrame, data_only: bool
) -> Iterator[tuple[int, int, Any]]:
    """Each cell of the sheet read, with its row and column as pandas read them (openpyxl's
    cells, read-only, for what pandas does not keep: a number's format, a formula)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=data_only, keep_links=False)
    try:
        for i, row in enumerate(book[sheet].rows):
            if i >= raw.shape[0]:
                break
            for j, cell in enumerate(row[: raw.shape[1]]):
                yield i, j, cell
    finally:
        book.close()


def _percent_scales(style: str) -> bool:
    """Whether a number format's per cent sign multiplies by 100 (``0%``, ``0.0%``), or is
    only shown (``0"%"``, ``0\\%``: quoted or escaped, the number as it is)."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", style)


def _as_shown_in_percent(value: float, scaled: bool = True) -> str:
    """0.78 -> ``78%``; 0.785 -> ``78.5%`` (the number times 100, as a decimal written); a
    per cent sign only shown: 78 -> ``78%``."""
    from decimal import Decimal

    # at most 15 significant digits, as Excel shows a number (0.37799999999999995 is 0.378)
    shown = Decimal(f"{value:.15g}").scaleb(2 if scaled else 0).normalize()
    return f"{shown:f}%"


def _show_uncalculated_formulas(path: Path, raw: pd.DataFrame, sheet: Any) -> None:
    """A formula cell with no saved value (a sheet written by a program that does not
    calculate), and an error cell (#N/A, #DIV/0!), read as empty: each is given its formula's
    or its error's text instead, which no field reads as a value, so the cell is reported with
    what it holds, never taken as blank. The sheet's XML (wherever its writer put it) is
    searched for a formula or an error first; most tables have neither, and are read once."""
    part = _sheet_xml(path, sheet)
    if not (_FORMULA_TAG.search(part) or _ERROR_TAG.search(part)):
        return
    for i, j, cell in _sheet_cells(path, sheet, raw, data_only=False):
        value = getattr(cell, "value", None)
        shown = isinstance(value, str) and (
            value.startswith("=") or getattr(cell, "data_type", None) == "e"
        )
        if shown and _missing(raw.iat[i, j]):
            raw.iat[i, j] = value


#: openpyxl's warning for a date cell whose number is no date (Excel shows it as ####).
_UNREADABLE_DATE = re.compile(
    r"Cell ([A-Z]{1,3})([0-9]+) is marked as a date but the serial value (\S+) is outside"
)


def _date_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "is marked as a date" in str(w.message)]


def _show_unreadable_dates(
    caught: list[warnings.WarningMessage], raw: pd.DataFrame, source: str
) -> None:
    """A cell formatted as a date whose number is outside the calendar (3000000: Excel shows
    ####) reads as empty: it is given what it holds, so it is reported, never taken as blank.
    One whose place the workbook does not say (a sheet written without cell addresses) cannot
    be reported by row and column: the workbook is refused."""
    from openpyxl.utils import column_index_from_string

    for message in _date_warnings(caught):
        found = _UNREADABLE_DATE.search(message)
        if found is None:
            raise ProtocolDataError(
                source,
                [
                    Problem(
                        "dates the calendar holds (a date cell whose number is no date shows "
                        "as ####; correct it)",
                        found="a date cell whose number is no date, at a place the workbook "
                        "does not name",
                    )
                ],
            )
        row, column = int(found[2]) - 1, column_index_from_string(found[1]) - 1
        if row < raw.shape[0] and column < raw.shape[1] and _missing(raw.iat[row, column]):
            raw.iat[row, column] = f"{found[3]}{NOT_A_DATE_NUMBER}"


def _with_header(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """A sheet read without a header: its first row becomes the column names; empty rows are
    left out, the others keep the row numbers the sheet shows."""
    # each row filled or not, looked at once (a sheet of 100,000 rows has millions of cells)
    filled_row = ~raw.map(_missing).all(axis=1).to_numpy() if len(raw) else np.zeros(0, bool)
    filled_rows = np.flatnonzero(filled_row)
    if raw.empty or not len(filled_rows):
        raise ProtocolDataError(source, [Problem("a header row", found="an empty sheet")])
    top = int(filled_rows[0])  # blank rows above the header, as a CSV's blank lines
    header = [
        "" if _missing(v) else (str(v.item() if isinstance(v, np.generic) else v))
        for v in raw.iloc[top]
    ]
    body = raw.iloc[top + 1 :].reset_index(drop=True)
    body.columns = pd.Index(header, dtype=object)
    rows = np.arange(len(body)) + FIRST_ROW + top
    filled = filled_row[top + 1 :]
    body = body[filled].reset_index(drop=True)
    body.attrs["rows"] = RowNumbers(rows[filled])
    return body


#: What a column name holds (str.isprintable: no control characters and no space but " ").
_PRINTABLE_NAME = (
    "a name without control characters or invisible spaces (a non-breaking space, a "
    "zero-width space: type the name again)"
)


def _nameless_columns(frame: pd.DataFrame) -> tuple[list[int], list[int]]:
    """The positions of the columns without a name: those with no cell either (a spreadsheet's
    blank first column, the trailing comma of every line of an export; left out), and those
    with some cell (refused)."""
    empty, filled = [], []
    for position, name in enumerate(str(c) for c in frame.columns):
        if not name.strip():
            (empty if frame.iloc[:, position].map(_missing).all() else filled).append(position)
    return empty, filled


def _without_columns(frame: pd.DataFrame, left_out: list[int]) -> pd.DataFrame:
    if not left_out:
        return frame
    positions = [k for k in range(len(frame.columns)) if k not in set(left_out)]
    kept = frame.iloc[:, positions]
    kept.attrs = {**frame.attrs, SHEET_POSITIONS: positions}  # each column's place in the sheet
    return kept


#: Where a frame's columns stood in the sheet, where columns were left out (``frame.attrs``).
SHEET_POSITIONS = "sheet positions"


def _sheet_position(frame: pd.DataFrame, column: str) -> int:
    """A column's place in the sheet (0 for A), the columns left out counted."""
    position = [str(c) for c in frame.columns].index(column)
    return int(frame.attrs.get(SHEET_POSITIONS, range(len(frame.columns)))[position])


def _unknown_column_named(column: str, position: int) -> str:
    """An unknown column as the refusal names it: by its name, or by its letter where the name
    holds a date or a number that may identify a person (a sheet turned on its side, one column
    per patient: "Donna May 1978-06-14")."""
    if personal_data_inside(column) or identifying_text(column, free_text=True):
        from openpyxl.utils import get_column_letter  # (0.1 s of imports, on this error only)

        letter = get_column_letter(position + 1)
        return f"column {letter} (its name withheld: it holds a date or a number)"
    return f"column {column!r}"


def _check_columns(frame: pd.DataFrame, source: str, nameless: list[int]) -> None:
    names = [str(c) for c in frame.columns]
    problems = []
    if nameless:  # openpyxl (0.1 s of imports) only to name such a column by its letter
        from openpyxl.utils import get_column_letter

        # one line for them all (a title above the header leaves every column but the first
        # without a name: one line each would bury the reason), each run of them by its ends
        runs: list[list[int]] = []
        for position in nameless:
            if runs and position == runs[-1][-1] + 1:
                runs[-1].append(position)
            else:
                runs.append([position])
        where = ", ".join(
            get_column_letter(run[0] + 1)
            if len(run) == 1
            else f"{get_column_letter(run[0] + 1)} to {get_column_letter(run[-1] + 1)}"
            for run in runs
        )
        problems.append(
            Problem(
                "a column name: the table's first filled row is its header (a title above it, "
                "or a cell beside it, leaves a column without a name)",
                path=f"header, column{'s' if len(nameless) > 1 else ''} {where}",
                found="an empty name"
                if len(nameless) == 1
                else f"{len(nameless)} columns with an empty name",
            )
        )
    for name in dict.fromkeys(names):
        if not name.strip():
            continue
        elif not name.isprintable():
            problems.append(Problem(_PRINTABLE_NAME, path="header", found=repr(name)))
        elif names.count(name) > 1:
            problems.append(
                Problem("each column named once", path=f"column {name!r}", found="twice or more")
            )
    for name, column in zip(names, frame.columns, strict=True):
        values = frame[column]
        if isinstance(values, pd.DataFrame):
            continue  # a duplicated name, refused above
        if (
            _may_nest(values)
            and values.map(lambda v: isinstance(v, list | dict | tuple | set | np.ndarray)).any()
        ):
            problems.append(
                Problem(
                    "one value per cell",
                    path=f"column {name!r}",
                    found="cells holding lists or records",
                )
            )
    if problems:
        raise ProtocolDataError(source, problems)
    frame.columns = pd.Index(names, dtype=object)


# what pandas finds in a column of plain cells (read in C, not cell by cell)
_PLAIN_KINDS = frozenset(
    {
        "empty",
        "string",
        "integer",
        "floating",
        "mixed-integer-float",
        "decimal",
        "boolean",
        "datetime",
        "datetime64",
        "date",
        "time",
        "timedelta",
        "timedelta64",
    }
)


def _may_nest(values: pd.Series) -> bool:
    """Whether a column could hold lists or records (only a column of Python objects can, and
    only one pandas does not find plain)."""
    if values.dtype != object:
        return False
    return pd.api.types.infer_dtype(values, skipna=True) not in _PLAIN_KINDS


def refuse_identifiers(frame: pd.DataFrame, source: str, mapping: Mapping | None = None) -> None:
    """Refuse a table with a column that identifies a person, before any cell is read.

    Every column's name is checked, and every column's cells; in a number field's column (by
    its name or the ``mapping``) a cell written as a plain number is a value, not a phone number
    (a count of 1,490,000,000 cells/L written ``1490000000.0`` has a mobile number's digits)."""
    mapping = mapping or Mapping()
    id_column = mapping.id_column
    measured = _number_columns(frame, mapping, labs_only=True)
    problems = [
        Problem(
            "no column that identifies a person (names, phone numbers, ID card numbers, "
            "addresses); remove it and keep the pseudonymous ID only",
            path=f"column {name!r}",
        )
        for name in map(str, frame.columns)
        if identifier_column(name)
    ]
    for position, name in enumerate(map(str, frame.columns)):
        if identifier_column(name):
            continue
        options = {
            # a number in a column of text (a workbook's cell typed as a number) is checked as
            # the ID column's are: 13812345678 in a column of PAH risks is a phone number; only
            # a lab's value or ULN is a measurement that may have many digits (a count of cells
            # per litre), never a grade, a total or a percentage
            "include_numbers": name == id_column or name not in measured,
            "numbers_are_values": name in measured,
            # a field's text is no code: a number glued to letters or in any groups is found
            "free_text": name != id_column,
        }
        cells = frame.iloc[:, position]
        if not identifier_cells(cells, **options):
            continue
        row = _first_identifying_row(frame, cells, options)
        problems.append(
            Problem(
                "no phone numbers, ID card numbers or e-mail addresses in any cell; "
                + (
                    "give each candidate the site's pseudonymous code instead"
                    if name == id_column
                    else "remove them (the column, if it holds such data)"
                ),
                path=f"column {name!r}" + (f", row {row} (the first such)" if row else ""),
                found="a cell looks like a phone number, an ID card number or an e-mail address",
            )
        )
    if problems:
        raise ProtocolDataError(source, problems)


def _first_identifying_row(
    frame: pd.DataFrame, cells: pd.Series, options: dict[str, bool]
) -> int | None:
    """The row number (as the table shows it) of the first cell :func:`identifier_cells` finds
    in a column it refuses: halves of the column checked in turn (a few passes over it, in C
    where the column allows), so a site can find the cell among thousands."""
    low, high = 0, len(cells)  # the first such cell lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if identifier_cells(cells.iloc[low:middle], **options):
            high = middle
        else:
            low = middle
    if not identifier_cells(cells.iloc[low : low + 1], **options):
        return None  # found in the whole column only (never seen): the column is named alone
    return int(_row_numbers(frame)[low])


def _row_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Each row's number as the table shows it (kept by the reader in ``attrs["rows"]``, else
    counted from the first row under the header), as a writable copy."""
    numbered = frame.attrs.get("rows")
    if numbered is None:
        return np.arange(len(frame)) + FIRST_ROW
    return np.array(getattr(numbered, "numbers", numbered), dtype=int)


def _header_rows(frame: pd.DataFrame, id_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows that repeat the header, in its order (every cell empty or its own column's name),
    and rows that are a header in another order (every cell empty or some column's name, two
    at least): a second export with its columns ordered differently, whose rows the first
    header would misread. Found among the few rows whose ID cell is a column's name."""
    # a name as a header repeated below writes it: in any case, and the first with the byte-order
    # mark a second file's header begins with (two "CSV UTF-8" exports joined)
    names = {_as_header(name) for name in frame.columns}
    ids = frame[id_column]
    same = np.zeros(len(frame), dtype=bool)
    other = np.zeros(len(frame), dtype=bool)
    if ids.dtype == object or isinstance(ids.dtype, pd.StringDtype):
        try:  # in C: each cell trimmed and lower-cased (Unicode), then hashed
            text = (
                pa.array(ids.array)  # Arrow's text already: no Python string per cell
                if isinstance(ids.dtype, pd.StringDtype)
                else pa.array(ids.to_numpy(dtype=object), pa.large_string(), from_pandas=True)
            )
            if isinstance(text, pa.ChunkedArray):
                text = text.combine_chunks()
            folded = pc.utf8_lower(pc.utf8_trim(pc.utf8_normalize(text, "NFKC"), _HEADER_PADDING))
            named = np.flatnonzero(
                pc.is_in(folded, value_set=pa.array(sorted(names), pa.large_string()))
                .fill_null(False)
                .to_numpy(zero_copy_only=False)
            )
        except (UnicodeEncodeError, pa.ArrowException, TypeError):  # a lone surrogate, a number
            named = [i for i, v in enumerate(ids) if isinstance(v, str) and _as_header(v) in names]
        for position in named:
            cells = [(_as_header(name), cell) for name, cell in frame.iloc[position].items()]
            given = [(name, _as_header(cell)) for name, cell in cells if not _missing(cell)]
            if all(text == name for name, text in given):
                same[position] = True
            elif len(given) >= 2 and all(text in names for _, text in given):
                other[position] = True
    return same, other


#: What pads a header's name: spaces (a no-break one is a space in its compatibility form),
#: the byte-order mark a second export begins with, a zero-width space.
_HEADER_PADDING = " \t\r\n\ufeff\u200b"


def _as_header(text: Any) -> str:
    """A cell or a column's name as a header is compared: in its compatibility form (full-width
    letters as plain ones), trimmed and case folded. (Python's lower case, as Arrow's: the
    names of a table are ASCII fields or a site's own, and a header row repeats them.)"""
    return unicodedata.normalize("NFKC", str(text)).strip(_HEADER_PADDING).lower()


def _number_columns(frame: pd.DataFrame, mapping: Mapping, labs_only: bool = False) -> set[str]:
    """The columns that hold a number field (a lab value, a grade), by the mapping or by the
    field's own name (``labs_only``: a lab's alone); never the ID column."""
    known = fields()
    mapped = {column: spec.field for column, spec in mapping.columns.items()}
    found = set()
    for name in map(str, frame.columns):
        field_path = mapped.get(name, name if name not in mapped.values() else None)
        if name == mapping.id_column or field_path not in known:
            continue
        if known[field_path].kind in ("number", "int") and (
            not labs_only or field_path.startswith("labs.")
        ):
            found.add(name)
    return found


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, str) and not value.strip()


#: Fields whose unreadable cells are never shown: the row and column say where to look.
NEVER_SHOWN = frozenset({"dates.birth"})
BIRTH_DATE_WITHHELD = "(withheld: a birth date identifies a person)"


def _read_column(
    values: pd.Series, path: str, column: str, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[CellProblem]]:
    """A column read cell by cell: each distinct value once, by the field's validator. Returns
    each cell's code (-1 for a missing or unreadable cell), each code's value, the problems."""
    spec = fields()[path]
    # pandas finds 1, 1.0 and True equal; a column mixing kinds is grouped by kind and value,
    # so each cell is read on its own terms (0 is not false, TRUE is not a grade of 1)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "boolean" and values.dtype == object:  # yes/no cells: coded without hashing
        objects = values.to_numpy()
        true, false = np.equal(objects, True), np.equal(objects, False)  # the rest are missing
        codes = np.where(true, 1, np.where(false, 0, -1)).astype(np.intp)
        distinct = [False, True]
    elif kind in _ONE_KIND:
        codes, found = pd.factorize(values, use_na_sentinel=True)
        distinct = found.tolist()  # as Python values in one step (Arrow's one by one is slow)
    else:
        tagged = pd.Series(
            [None if _missing(v) else (type(v).__name__, v) for v in values], dtype=object
        )
        codes, keys = pd.factorize(tagged, use_na_sentinel=True)
        distinct = [key[1] for key in keys]
    read = np.empty(len(distinct) + 1, dtype=object)
    read[-1] = None  # the sentinel code -1: a missing cell
    bad: dict[int, str] = {}
    plain_dates = _plain_dates(distinct) if spec.kind == "date" else {}
    for code, raw in enumerate(distinct):
        if code in plain_dates:
            read[code] = plain_dates[code]
            continue
        if _missing(raw):
            read[code] = None
            continue
        try:
            read[code] = read_cell(spec, _plain(raw))
        except (ValueError, OverflowError, TypeError) as exc:
            read[code] = None
            bad[code] = without_identifying(str(exc), raw, path)
    problems = []
    if bad:
        for position in np.flatnonzero(np.isin(codes, list(bad))):
            raw = distinct[codes[position]]
            found, why = shown_value(raw, path), bad[int(codes[position])]
            if path in NEVER_SHOWN:  # a birth date identifies a person: not in any file
                found, why = BIRTH_DATE_WITHHELD, _without_any_form_of(withheld_from(why, raw), raw)
            problems.append(CellProblem(int(rows[position]), column, found, why))
    # an empty, blank or unreadable value is missing: its code becomes -1 (a lookup by code)
    # in the narrowest integers that hold the codes (most fields have a few distinct values:
    # 80 columns of 4-byte codes were 30 MB for 100,000 rows); arithmetic on codes widens first
    narrowest = np.min_scalar_type(-len(read))
    kept = np.where(np.equal(read, None), -1, np.arange(len(read))).astype(narrowest)
    codes = kept[codes]
    return codes, read[:-1], problems


def _without_any_form_of(message: str, raw: Any) -> str:
    """A message with every form of a withheld value taken out, however short: a birth date
    written as a number (28655, a workbook's day count for 1978-06-14) is the date itself."""
    forms = {str(raw), repr(raw)}
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e20:
        forms.add(str(int(raw)))
    for form in sorted(forms, key=len, reverse=True):
        if form.strip():
            message = message.replace(form, "(withheld)")
    return message


def _plain_dates(distinct: Any) -> dict[int, dt.date]:
    """The cells that are plainly a date the record keeps: exactly ``YYYY-MM-DD`` (ASCII digits,
    nothing around them), a real day, within the record's years; read at once, over all of
    them in numpy, rather than each by the field's validator, which gives the same date (a
    property test holds the two to one answer). The rest, and every refusal's words, are left
    to the validator."""
    from protocol.inputs import EARLIEST_DATE, LATEST_DATE

    at = [code for code, raw in enumerate(distinct) if type(raw) is str and len(raw) == 10]
    if not at:
        return {}
    # each text's ten characters as code points: digits are 48-57, the hyphen 45
    points = np.array([distinct[code] for code in at], dtype="<U10").view(np.uint32)
    points = points.reshape(len(at), 10).astype(np.int64)
    digits = (points >= 48) & (points <= 57)
    shaped = digits[:, _DIGITS].all(axis=1) & (points[:, 4] == 45) & (points[:, 7] == 45)
    value = points - 48
    year = value[:, 0] * 1000 + value[:, 1] * 100 + value[:, 2] * 10 + value[:, 3]
    month = value[:, 5] * 10 + value[:, 6]
    day = value[:, 8] * 10 + value[:, 9]
    candidate = np.flatnonzero(shaped & (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1))
    first_of_month = ((year[candidate] - 1970) * 12 + month[candidate] - 1).astype("datetime64[M]")
    days = first_of_month.astype("datetime64[D]") + (day[candidate] - 1)
    real = days.astype("datetime64[M]") == first_of_month  # the day is within its month
    kept = real & (days >= np.datetime64(EARLIEST_DATE)) & (days <= np.datetime64(LATEST_DATE))
    return dict(
        zip(
            (at[k] for k in candidate[kept].tolist()),
            days[kept].astype(object).tolist(),
            strict=True,
        )
    )


#: Where the digits of ``YYYY-MM-DD`` stand.
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9]


#: pandas' names for a column of one kind of value (grouping by value alone is then safe)
_ONE_KIND = {"string", "empty", "floating", "integer", "boolean", "date", "decimal", "bytes"}


def _plain(raw: Any) -> Any:
    """A cell as Python holds it: numpy scalars unwrapped, a timestamp as a datetime (refused
    when it has a time of day, nanoseconds included, or lies beyond Python's years)."""
    if isinstance(raw, np.generic):
        raw = raw.item()
    if isinstance(raw, pd.Timestamp):
        if raw.tzinfo is not None:  # the day depends on where it is read
            raise ValueError(f"{raw!s} has a time zone; expected a calendar date YYYY-MM-DD")
        if raw != raw.normalize():
            raise ValueError(f"{raw!s} has a time of day; expected a calendar date YYYY-MM-DD")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = raw.to_pydatetime()
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) > 10**15:
        raise ValueError(f"{shown_value(raw)} is too large a number; check the value")
    return raw


def read_candidates(
    frame: pd.DataFrame,
    mapping: Mapping,
    source: str,
    as_of: dt.date,
    mapping_source: str | None = None,
) -> Candidates:
    """The table's cells read into the record's fields; bad cells reported and left missing.
    ``mapping_source``: the mapping file, named in what is wrong with the mapping."""
    known = fields()
    columns = {str(c): str(c) for c in frame.columns}
    targets: dict[str, str] = {}  # field -> column
    constant_units: dict[str, str] = {}
    problems: list[Problem] = []
    mapping_problems: list[Problem] = []  # the mapping's entries the table cannot meet
    for column, mapped in mapping.columns.items():
        if column not in columns:
            mapping_problems.append(
                Problem(
                    f"a column of the table {source}",
                    path=f"columns.{column}",
                    found="no such column",
                )
            )
            continue
        if column == mapping.id_column:
            mapping_problems.append(
                Problem(
                    f"the ID column holds the candidate IDs only; map another column to "
                    f"{mapped.field}",
                    path=f"columns.{column}",
                    found="the ID column (id_column) mapped to a field as well",
                )
            )
            continue
        targets[mapped.field] = column
        if mapped.unit is not None:
            constant_units[mapped.field.removesuffix(".value") + ".unit"] = mapped.unit
        if mapped.uln_unit is not None:
            constant_units[mapped.field.removesuffix(".value") + ".uln_unit"] = mapped.uln_unit
    mapped_columns = set(mapping.columns)
    for column in columns:
        if column in mapped_columns or column == mapping.id_column:
            continue
        if column == ID_FIELD:  # the IDs come from the mapping's id_column: two ID columns
            problems.append(
                Problem(
                    f"one column of candidate IDs; the mapping reads them from column "
                    f"{mapping.id_column!r} (id_column)",
                    path=f"column {column!r}",
                    found="a second column of IDs",
                )
            )
        elif column in known and column not in targets:
            targets[column] = column
        elif column in known:
            problems.append(
                Problem(
                    f"one column for the field; the mapping reads it from column "
                    f"{targets[column]!r}",
                    path=f"column {column!r}",
                    found="a second column for the same field",
                )
            )
        else:
            problems.append(
                Problem(
                    "a record field (see `trialbook prescreen --template`) or a column named in "
                    "the mapping",
                    path=_unknown_column_named(column, _sheet_position(frame, column)),
                    found="an unknown column",
                )
            )
    if mapping.id_column not in columns:
        problems.append(
            Problem(
                "a column of pseudonymous candidate IDs",
                path=f"column {mapping.id_column!r}",
                found="no such column",
            )
        )
    for unit_field, unit in constant_units.items():
        if unit_field not in targets:
            continue
        column = targets[unit_field]
        if _all_empty(frame[column], column):
            # a unit column left empty (the template's): the mapping's unit is the column's
            del targets[unit_field]
            continue
        lab_column = next(c for c, m in mapping.columns.items() if unit_field in _units_of(m))
        mapping_problems.append(
            Problem(
                f"the unit in the mapping or in a unit column of the table, not both: column "
                f"{column!r} of {source} holds units (leave it empty, or take the unit out of "
                "the mapping)",
                path=f"columns.{lab_column}.{unit_field.rsplit('.', 1)[1]}",
                found=repr(unit),
            )
        )
    if mapping_problems:
        raise ProtocolDataError(mapping_source or source, mapping_problems)
    if problems:
        raise ProtocolDataError(source, problems)
    if frame.empty:
        raise ProtocolDataError(source, [Problem("at least one candidate row", found="no rows")])
    bad_rows: dict[int, str] = frame.attrs.get("bad_rows", {})
    rows = _row_numbers(frame)  # a copy: the holder's numbers are read-only
    # the columns read without the frame's attributes (pandas copies them with each column)
    # and by position (a table's own index is not a row number)
    frame = frame.copy(deep=False)
    frame.attrs = {}
    frame.index = pd.RangeIndex(len(frame))
    cell_problems: list[CellProblem] = []
    # the header again below the first (two exports pasted into one): not a candidate; in
    # another column order, the rows under it (to the next header in the first order) would be
    # read under the wrong columns: none of them is screened
    repeated, reordered = _header_rows(frame, mapping.id_column)
    if reordered.any():
        bad_rows = dict(bad_rows)
        under = np.cumsum(reordered) > np.maximum.accumulate(
            np.where(repeated, np.cumsum(reordered), 0)
        )
        for position in np.flatnonzero(reordered):
            cell_problems.append(
                CellProblem(
                    int(rows[position]),
                    "",
                    "",
                    "the header again, in another column order (two tables pasted "
                    "together?); the rows under it are not screened: put each table in a file "
                    "of its own",
                )
            )
        header_at = rows[np.flatnonzero(reordered)]
        for position in np.flatnonzero(under & ~reordered & ~repeated):
            above = int(header_at[header_at < rows[position]].max())
            bad_rows.setdefault(
                int(rows[position]),
                f"a row under the header in another column order at row {above}: its cells "
                "cannot be placed, so it is not screened",
            )
    if repeated.any() or reordered.any():
        cell_problems += [
            CellProblem(int(row), "", "", "the header row again (two tables pasted together?); "
                        "left out, it is not a candidate")
            for row in rows[repeated]
        ]  # fmt: skip
        repeated = repeated | reordered
        frame = frame[~repeated].reset_index(drop=True)
        rows = rows[~repeated]
        if frame.empty:
            raise ProtocolDataError(
                source, [Problem("at least one candidate row", found="only header rows")]
            )
    values: dict[str, np.ndarray] = {}
    coded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for path, column in targets.items():
        if path == ID_FIELD:
            continue
        codes, distinct, found = _read_column(frame[column], path, column, rows)
        coded[path] = codes, distinct
        # a row whose cells cannot be placed is reported for that alone: what stands under a
        # column there is another column's (a ULN under the unit)
        cell_problems += [p for p in found if p.row not in bad_rows]
    for unit_field, unit in constant_units.items():
        # the mapping's unit for the whole column: it applies only where there is a value
        # (_labs_without_their_parts takes it away elsewhere)
        values[unit_field] = np.full(len(frame), unit, dtype=object)
    _drop_broken_groups(values, coded, cell_problems, targets, rows)
    without_a_value = _labs_without_their_parts(values, coded, len(frame))
    ids, id_problems, refused = _read_ids(frame[mapping.id_column], rows, mapping.id_column)
    cell_problems += [p for p in id_problems if p.row not in bad_rows]  # said once, below
    # a row whose cells could not be placed (a CSV row of another length): not screened
    for position in np.flatnonzero(np.isin(rows, list(bad_rows))):
        refused[position] = True
        # its ID cell cannot be placed either: what stands there may be another column's (a
        # sex, a birth date), so none is shown; the row number finds it
        ids[position] = f"(ID not read: row {int(rows[position])})"
        cell_problems.append(
            CellProblem(int(rows[position]), "", "", bad_rows[int(rows[position])])
        )
    # a screening date that cannot be read is not replaced by --as-of: the row is not screened
    screening_column = targets.get("dates.screening")
    for problem in cell_problems:
        if problem.column == screening_column and screening_column is not None:
            refused[np.flatnonzero(rows == problem.row)] = True
    # an empty screening date is --as-of, the date the candidates would be screened: kept as
    # codes (the rules group rows by them), --as-of one more distinct date
    codes, distinct = coded.get(
        "dates.screening", (np.full(len(frame), -1, dtype=np.int8), np.empty(0, dtype=object))
    )
    distinct = list(distinct)
    if as_of not in distinct:
        distinct.append(as_of)
    codes = codes.astype(np.min_scalar_type(-len(distinct) - 1))
    codes[codes < 0] = distinct.index(as_of)
    coded["dates.screening"] = codes, np.array(distinct, dtype=object)
    candidates = Candidates(
        ids,
        values,
        rows,
        cell_problems,
        refused,
        columns=targets,
        codes=coded,
        without_a_value=without_a_value,
    )
    _fill_spared_fingers(candidates)
    contradictions = record_problems(candidates)
    columns_of: dict[tuple[str, ...], tuple[str, ...]] = {}  # each rule's columns once
    for position, involved, problem in contradictions:
        candidates.refused[position] = True
        columns = columns_of.get(involved)
        if columns is None:
            columns = columns_of[involved] = tuple(_columns_of(candidates, involved))
        candidates.problems.append(
            CellProblem(int(rows[position]), "; ".join(columns), "", problem, columns)
        )
    candidates.problems.sort(key=lambda p: (p.row, p.column))
    return candidates


def _fill_spared_fingers(candidates: Candidates) -> None:
    """A finger's grade not given, beside skin thickening recorded as sparing the fingers and
    another area graded, is 0 (a grade of 1 or more is refused): as the record implies it
    (`ParticipantRecord.implied_finger_grades`), before the rows are checked, so a recorded
    total above what the other areas can hold is refused as the record refuses it."""
    sparing = candidates.is_value("ssc.acr_eular.skin_thickening_sparing_fingers", True)
    if not sparing.any():
        return
    any_area = (candidates.grades() >= 0).any(axis=0)  # a record's areas are then given
    for finger in FINGER_AREAS:
        path = f"{SKIN_AREAS}{finger}"
        ungraded = np.flatnonzero(sparing & any_area & ~candidates.present(path))
        if len(ungraded):
            candidates.fill(path, ungraded, 0)


def _columns_of(candidates: Candidates, involved: tuple[str, ...]) -> list[str]:
    """The table's columns that hold the fields a problem involves, each once (a field that is
    not a column of the table, such as a screening date taken from --as-of, is not named)."""
    held = [
        field
        for field in involved
        if field in candidates.columns
        or f"{field}.value" in candidates.columns
        or any(path.startswith(field + ".") for path in candidates.columns)
    ]
    return list(dict.fromkeys(candidates.column_of(field) for field in held))


def _units_of(mapped: Any) -> tuple[str, ...]:
    """The unit fields a mapping's entry gives a constant for."""
    lab = mapped.field.removesuffix(".value")
    return tuple(f"{lab}.{key}" for key in ("unit", "uln_unit") if getattr(mapped, key) is not None)


def _all_empty(cells: pd.Series, column: str) -> bool:
    """Whether a column holds nothing: every cell missing or blank (or its own header
    repeated below, which is left out)."""
    texts = cells.dropna().astype(str).str.strip()
    return bool((texts.eq("") | texts.str.casefold().eq(column.strip().casefold())).all())


def _labs_without_their_parts(
    values: dict[str, np.ndarray],
    coded: dict[str, tuple[np.ndarray, np.ndarray]],
    size: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A lab's unit or ULN beside an empty value (a site fills its unit and reference range
    columns ahead of the results, or the mapping gives a unit for the whole column) is no
    result: that row has no such lab, and is screened without it; a ULN's unit likewise
    applies only beside a ULN. (A value without its unit stays: the row is refused, as screen
    refuses such a record.) Returns the table's cells so set aside, by field: their positions
    and values (a cell the rules would refuse is still reported; a mapped constant unit was
    read with the mapping)."""
    aside: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def given(path: str) -> np.ndarray | None:
        if path in coded:
            return coded[path][0] >= 0
        if path in values:
            return ~np.equal(values[path], None)
        return None

    def clear(path: str, where: np.ndarray) -> None:
        if path in coded:
            codes, distinct = coded[path]
            positions = np.flatnonzero(where & (codes >= 0))
            if len(positions):
                found = distinct[codes[positions]]
                if path in aside:  # (a ULN's unit: beside no value, then beside no ULN)
                    positions = np.concatenate([aside[path][0], positions])
                    found = np.concatenate([aside[path][1], found])
                aside[path] = positions, found
            codes[where] = -1
        if path in values:
            # a mapping's unit: kept aside too (a ULN beside no value is read in it), never
            # reported (the mapping's unit was read with the mapping)
            positions = np.flatnonzero(where & ~np.equal(values[path], None))
            if len(positions) and path not in coded:
                aside[path] = positions, values[path][positions]
            values[path][where] = None

    labs = sorted(
        {path.rsplit(".", 1)[0] for path in [*coded, *values] if path.startswith("labs.")}
    )
    nowhere = np.zeros(size, dtype=bool)
    for lab in labs:
        value = given(f"{lab}.value")
        for part in ("unit", "uln", "uln_unit"):
            clear(f"{lab}.{part}", ~(nowhere if value is None else value))
        uln = given(f"{lab}.uln")
        clear(f"{lab}.uln_unit", ~(nowhere if uln is None else uln))
    return aside


def _group_of(path: str) -> str | None:
    """The record object a field belongs with: a lab's value, unit and ULN; the test's parts.
    A ULN and its unit are a group of their own within the lab: an unreadable ULN leaves the
    value standing, as a record without a ULN (haemoglobin needs none; ALT is then unknown
    for want of one), not a lab missing as a whole."""
    if path.startswith("labs.") and path.endswith((".uln", ".uln_unit")):
        return path.rsplit(".", 1)[0] + ".uln"
    if path.startswith("labs."):
        return path.rsplit(".", 1)[0]
    if path.startswith("pregnancy_test."):
        return "pregnancy_test"
    return None


def _drop_broken_groups(
    values: dict[str, np.ndarray],
    coded: dict[str, tuple[np.ndarray, np.ndarray]],
    problems: list[CellProblem],
    targets: dict[str, str],
    rows: np.ndarray,
) -> None:
    """A lab value (or pregnancy test) with an unreadable part is missing as a whole in that
    row, as if none of it were given: its unit alone is not a result. (An unreadable ULN takes
    only the ULN and its unit with it.)"""
    column_field = {column: path for path, column in targets.items()}
    position_of: dict[int, int] = {}
    for problem in problems:
        group = _group_of(column_field.get(problem.column, ""))
        if group is None:
            continue
        if not position_of:  # made once, when a group is dropped at all
            position_of = {int(row): position for position, row in enumerate(rows)}
        position = position_of[problem.row]
        for path in [*values, *coded]:
            if path.startswith(group + ".") or path in (group, group + "_unit"):
                if path in values:
                    values[path][position] = None
                if path in coded:
                    coded[path][0][position] = -1


@functools.cache
def _id_schema() -> dict[str, Any]:
    """The ID field's own JSON schema (its pattern and lengths), made once."""
    from protocol.participant import ParticipantRecord

    return ParticipantRecord.model_json_schema()["properties"][ID_FIELD]


def _plain_ids(values: pd.Series) -> np.ndarray:
    """The cells that are already an ID as the record's field would keep it: text matching the
    field's own pattern and length (read from its schema, not retyped); the rest are read one by
    one by the field's validator."""
    schema = _id_schema()
    pattern = schema["pattern"].strip("^$")
    if pd.api.types.infer_dtype(values, skipna=True) == "string":  # every cell text or empty
        is_text = ~values.isna().to_numpy()
    else:
        is_text = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    try:
        if _in_arrow(values):
            text = pa.array(values.array)  # held in Arrow already: no Python string made
            if isinstance(text, pa.ChunkedArray):
                text = text.combine_chunks()
            text = pc.fill_null(text.cast(pa.large_string()), "")
        else:
            objects = np.where(is_text, values.to_numpy(dtype=object), "")
            text = pa.array(objects, pa.large_string())
    except (UnicodeEncodeError, pa.ArrowException):  # a lone surrogate: each read on its own
        return np.zeros(len(values), dtype=bool)
    if "\\" in pattern:  # an escape may mean another thing to Arrow's RE2 than to Python
        fits = np.array([re.fullmatch(pattern, t) is not None for t in text.to_pylist()])
    else:  # character classes of ASCII letters alike for both: matched in C
        fits = np.asarray(pc.match_substring_regex(text, f"^(?:{pattern})$"))
    lengths = np.asarray(pc.utf8_length(text))
    return (
        is_text
        & fits
        & (lengths >= schema.get("minLength", 1))
        & (lengths <= schema.get("maxLength", 10**9))
    )


def _in_arrow(values: pd.Series) -> bool:
    """Whether a column is pandas' text held in Arrow (not its text held as Python objects,
    which keeps numpy's strings as they are)."""
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def _graded_sum(candidates: Candidates, at: np.ndarray) -> np.ndarray:
    """The sum of the graded skin areas of rows ``at`` (an area not graded counts 0)."""
    return np.nansum([candidates.numbers(path)[at] for path in _MRSS_AREAS], axis=0)


def _read_ids(
    values: pd.Series, rows: np.ndarray, column: str
) -> tuple[list[str], list[CellProblem], np.ndarray]:
    spec = fields()[ID_FIELD]
    refused = np.zeros(len(values), dtype=bool)
    ids: list[str] = []
    problems = []
    withheld: dict[str, list[int]] = {}  # IDs refused as no code, by their lower case
    plain = _plain_ids(values)
    # the plain cells are their own IDs; only the others are read one by one
    if _in_arrow(values):  # Arrow's text comes out as Python strings, made in one step
        ids = np.where(plain, values.to_numpy(dtype=object), "").tolist()
    else:  # a text of a subclass of str (numpy's) becomes a plain one
        ids = [str(raw) if is_plain else "" for raw, is_plain in zip(values, plain, strict=True)]
    for position in np.flatnonzero(~plain):
        raw = values.iat[position]
        if isinstance(raw, np.generic):
            raw = raw.item()
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # a numeric code, read as the text it is
        elif isinstance(raw, float) and raw.is_integer() and abs(raw) < 2**53:
            # a code in a column of doubles (pandas writes one when an ID is empty): 1001.0 is
            # 1001, every digit kept by the double
            raw = str(int(raw))
        elif isinstance(raw, str):
            # spaces around a code (an export's padding, a no-break space) are no part of it,
            # as around any other cell: ' SYN-01' is SYN-01 (it was withheld as no code, and
            # still counted a duplicate of SYN-01)
            raw = raw.strip()
        if _missing(raw):
            problems.append(
                CellProblem(int(rows[position]), column, "", "a candidate ID; the cell is empty")
            )
            refused[position] = True
            continue
        if date_in_an_id_cell(raw):  # refused, and the date is not repeated in any file
            problems.append(CellProblem(int(rows[position]), column, *_DATE_ID_PROBLEM))
            refused[position] = True
            ids[position] = f"(ID withheld: a date, row {int(rows[position])})"
            continue
        if isinstance(raw, str) and raw.strip().lower() in PLACEHOLDER_CODES:
            problems.append(
                CellProblem(int(rows[position]), column, repr(raw.strip()), _PLACEHOLDER_ID)
            )
            refused[position] = True
            continue
        try:
            ids[position] = read_cell(spec, raw)
        except ValueError:
            # an ID that is no code may be the person's name or birth date written otherwise
            # (张伟, 1978‐06‐14 with other dashes, 昭和53年6月14日): never repeated
            problems.append(CellProblem(int(rows[position]), column, WITHHELD_ID, _ID_EXPECTED))
            refused[position] = True
            # labelled in the files as a date's is (its Candidate cell was empty)
            ids[position] = f"(ID withheld: not a pseudonymous code, row {int(rows[position])})"
            if isinstance(raw, str):  # a code's own letters in lower case (syn-b beside SYN-B)
                withheld.setdefault(raw.strip().lower(), []).append(position)
    read = pd.Series(ids, dtype=object)[~refused]
    # in Arrow's kernels: an ID is ASCII (its field's pattern), so lower case is its case fold
    arrow_ids = pa.array(read.to_numpy(dtype=object), pa.large_string())
    # a date for an ID (1978-06-14, 19780614, 1978.6.14, 14.6.1978, 06-14-1978) may be the
    # candidate's birth date, which identifies a person: such a row is not screened, and its ID
    # is withheld from every file. The shapes are found in Arrow, then each read as a date
    date_like = np.asarray(
        pc.match_substring_regex(
            arrow_ids,
            # (eight digits as a spreadsheet's double writes them too: 19780614.0)
            "^(?:[0-9]{1,4}[./_-][0-9]{1,2}[./_-][0-9]{1,4}[.]?|[0-9]{8}(?:[.]0+)?"
            # a month by its name (letters alone between digits, so a code such as
            # SYN-C000001 is not read again in Python): 14-Jun-1978, 1978-Jun-14, 14JUN78,
            # 14-VI-1978, Jun-14-1978
            "|[0-9]{1,4}[./-]?[A-Za-z]{1,9}[./-]?[0-9]{1,4}[.]?"
            "|[A-Za-z]{3,9}[./-]?[0-9]{1,2}[./-]?[0-9]{4}[.]?)$",
        )
    )
    # a date or an ID card number among a code's other characters (SYN-1978-06-14,
    # A110101199003071234), as the participant record refuses its code
    holds_one = np.asarray(
        pc.match_substring_regex(
            arrow_ids,
            "[0-9]{4}[./_-][0-9]{1,2}[./_-][0-9]{1,2}|[0-9]{1,2}[./_-][0-9]{1,2}[./_-][0-9]{4}"
            "|[0-9]{8}|[0-9]{1,2}[./-]?[A-Za-z]{3,9}[./-]?[0-9]{2}"
            "|[A-Za-z]{3}[./-]?[0-9]{1,2}[./-]?[0-9]{4}|[0-9]{4}[./-]?[A-Za-z]{3}",
        )
    )
    for position, written in read[date_like | holds_one].items():
        if not date_shaped_id(written) and not personal_data_inside(written):
            continue  # a code like 2025-00-17 stays an ID
        problems.append(CellProblem(int(rows[position]), column, *_DATE_ID_PROBLEM))
        refused[position] = True
        ids[position] = f"(ID withheld: a date, row {int(rows[position])})"
    # an ID on two rows: which row is right is not known, so neither is screened. IDs told
    # apart only by the case of their letters are one ID (a spreadsheet's lookup, and a
    # person reading the list, take them for one)
    folded = pc.utf8_lower(arrow_ids)
    # a cell that stands for no ID ("NA", "null", "TRUE" where a spreadsheet's formula gave
    # none): a site would read it as a missing ID, so its row is not screened
    placeholder = np.asarray(
        pc.is_in(folded, value_set=pa.array(sorted(PLACEHOLDER_CODES), pa.large_string()))
    )
    for position in read.index[placeholder]:
        if refused[position]:
            continue
        problems.append(
            CellProblem(
                int(rows[position]),
                column,
                repr(ids[position]),
                _PLACEHOLDER_ID,
            )
        )
        refused[position] = True
    seen: dict[str, list[int]] = {}
    if len(pc.unique(folded)) < len(folded):  # some ID twice (the common case: none)
        keys = pd.Series(folded.to_numpy(zero_copy_only=False), index=read.index)
        keys = keys[~refused[read.index]]
        for position, key in keys[keys.duplicated(keep=False)].items():
            seen.setdefault(key, []).append(int(position))
    # an ID whose other copy was withheld for its case (SYN-B and syn-b: a code without a digit
    # is one only in capitals) is on two rows all the same: neither is screened, and the
    # withheld copy is named by its row alone
    if withheld:
        folded_ids = pd.Series(folded.to_numpy(zero_copy_only=False), index=read.index)
        for position, key in folded_ids[~refused[read.index]].items():
            if key in withheld:
                seen.setdefault(key, [])
                if int(position) not in seen[key]:
                    seen[key].append(int(position))
    for key, positions in seen.items():
        others = withheld.get(key, [])
        if len(positions) + len(others) < 2:
            continue
        shown = ", ".join(str(int(rows[p])) for p in sorted([*positions, *others]))
        spelt = {ids[p] for p in positions}
        same = "" if len(spelt) == 1 and not others else " (the case of its letters aside)"
        for position in positions:
            problems.append(
                CellProblem(
                    int(rows[position]),
                    column,
                    repr(ids[position]),
                    f"a candidate ID used once; rows {shown} all have it{same}, so none is "
                    "screened",
                )
            )
            refused[position] = True
    return ids, problems, refused


_ID_EXPECTED = (
    f"{CODE_EXPECTED.replace('a pseudonymous code', 'a pseudonymous candidate ID')}; not screened"
)
_PLACEHOLDER_ID = (
    "a candidate ID; this text stands for none (a missing or empty value, or a yes/no "
    "answer), so the row is not screened"
)
_DATE_ID_PROBLEM = (
    "a date (withheld)",
    "a pseudonymous candidate ID, not a date (a birth date identifies a person); not screened",
)


def _dates(candidates: Candidates, path: str) -> np.ndarray:
    codes, distinct = candidates.coded(path)  # each distinct date converted once
    converted = as_days(distinct)
    return np.append(converted, np.datetime64("NaT"))[codes]


_MRSS_AREAS = tuple(f"ssc.mrss.areas.{area}" for area in SkinAreas.model_fields)


def record_problems(candidates: Candidates) -> list[tuple[int, tuple[str, ...], str]]:
    """Rows whose cells cannot all be true together: the record's own cross-field rules
    (protocol.participant), over whole columns. Each as (position, the fields involved, what
    is wrong)."""
    found: list[tuple[int, tuple[str, ...], str]] = []
    # the problems of a date's order, by their place in ``found``: the date they put out of
    # order (birth or screening) and how ("future", "visit": a visit's date, or "other"), so
    # several of one row can be said as one problem of that date
    order_of: dict[int, DateOrder] = {}

    def flag(mask: np.ndarray, text: str, *involved: str, order: DateOrder | None = None) -> None:
        start = len(found)
        found.extend((int(p), involved, text) for p in np.flatnonzero(mask))
        if order is not None:
            order_of.update(dict.fromkeys(range(start, len(found)), order))

    order = ["birth", "consent", "screening", "planned_randomization"]
    dates = {name: candidates.days(f"dates.{name}") for name in order}
    # consecutive known dates in order: any known pair out of order is refused
    for i, first in enumerate(order):
        for second in order[i + 1 :]:
            flag(
                dates[first] > dates[second],
                f"dates.{second} is before dates.{first}; expected birth, consent, screening and "
                f"randomization in that order",
                f"dates.{first}",
                f"dates.{second}",
                order=_VISIT_ORDER.get((first, second)),
            )
    flag(
        dates["birth"] > np.datetime64(dt.date.today(), "D"),
        "dates.birth is in the future; expected a birth date in the past",
        "dates.birth",
        order=DateOrder("birth", "future"),
    )
    first = candidates.days("ssc.first_non_raynaud_manifestation")
    manifestation = "ssc.first_non_raynaud_manifestation"
    flag(
        first > dates["screening"],
        f"{manifestation} is after dates.screening; expected a date on or before the "
        "screening visit",
        manifestation,
        "dates.screening",
        order=DateOrder("screening", "other"),
    )
    flag(
        first < dates["birth"],
        f"{manifestation} is before dates.birth; expected a date on or after the birth",
        manifestation,
        "dates.birth",
        order=DateOrder("birth", "other"),
    )
    male = candidates.is_value("sex", "male")
    positive = candidates.is_value("pregnancy_test.result", "positive")
    flag(
        male & candidates.is_value("childbearing_potential", True),
        "childbearing_potential = true with sex = male; expected false for a man, or the sex "
        "corrected",
        "sex",
        "childbearing_potential",
    )
    flag(
        male & candidates.is_value("breastfeeding", True),
        "breastfeeding = true with sex = male; expected false for a man, or the sex corrected",
        "sex",
        "breastfeeding",
    )
    flag(
        male & positive,
        "pregnancy_test.result = 'positive' with sex = male; expected a woman's test, or the "
        "sex corrected",
        "sex",
        "pregnancy_test.result",
    )
    flag(
        candidates.is_value("childbearing_potential", False) & positive,
        "pregnancy_test.result = 'positive' for a woman recorded as not of childbearing potential",
        "childbearing_potential",
        "pregnancy_test.result",
    )
    flag(
        candidates.is_value("ssc.acr_eular.pah", True) & candidates.is_value("pah_risk", "none"),
        "ssc.acr_eular.pah = true (pulmonary arterial hypertension) with pah_risk = 'none' (no "
        "PAH); expected the PAH's risk category: low, intermediate or high",
        "ssc.acr_eular.pah",
        "pah_risk",
    )
    for risk in PAH_RISKS:
        flag(
            candidates.is_value("ssc.acr_eular.pah", False) & candidates.is_value("pah_risk", risk),
            f"pah_risk = {risk!r} (a pulmonary arterial hypertension's risk category) with "
            "ssc.acr_eular.pah = false (no PAH); expected pah_risk = 'none', or the item true",
            "pah_risk",
            "ssc.acr_eular.pah",
        )
    sparing_field = "ssc.acr_eular.skin_thickening_sparing_fingers"
    sparing = candidates.is_value(sparing_field, True)
    for item in ("skin_thickening_proximal_to_mcp", "sclerodactyly"):
        flag(
            sparing & candidates.is_value(f"ssc.acr_eular.{item}", True),
            f"ssc.acr_eular.skin_thickening_sparing_fingers = true with "
            f"ssc.acr_eular.{item} = true",
            sparing_field,
            f"ssc.acr_eular.{item}",
        )
    for finger in FINGER_AREAS:
        with np.errstate(invalid="ignore"):
            graded = candidates.numbers(f"ssc.mrss.areas.{finger}") >= 1  # NaN: not graded
        flag(
            sparing & graded,
            f"ssc.acr_eular.skin_thickening_sparing_fingers = true with "
            f"ssc.mrss.areas.{finger} >= 1",
            sparing_field,
            f"ssc.mrss.areas.{finger}",
        )
    # skin thickening that spares the fingers (never thickened, graded 0 now, another area
    # thickened) beside a record that says it does not
    never = (
        candidates.is_value(sparing_field, False)
        & candidates.is_value("ssc.acr_eular.sclerodactyly", False)
        & candidates.is_value("ssc.acr_eular.skin_thickening_proximal_to_mcp", False)
    )
    spared = np.zeros(len(never), dtype=bool)
    at = np.flatnonzero(never)  # the grades read for these rows alone (a few)
    with np.errstate(invalid="ignore"):
        spared[at] = np.logical_and.reduce(
            [candidates.numbers(f"ssc.mrss.areas.{finger}")[at] == 0 for finger in FINGER_AREAS]
        ) & (
            np.logical_or.reduce([candidates.numbers(path)[at] >= 1 for path in _MRSS_AREAS])
            # or a recorded total above the graded areas: the areas not graded hold the rest
            | (candidates.numbers("ssc.mrss.total")[at] > _graded_sum(candidates, at))
        )
    flag(
        spared,
        "ssc.acr_eular.skin_thickening_sparing_fingers = false with skin thickening that spares "
        "the fingers (sclerodactyly and thickening proximal to the MCPs absent, both fingers "
        "graded 0, another area thickened, graded so or in a recorded total above the graded "
        "areas); the classification criteria do not apply to it",
        sparing_field,
        "ssc.acr_eular.sclerodactyly",
        "ssc.acr_eular.skin_thickening_proximal_to_mcp",
        "ssc.mrss.areas.right_fingers",
        "ssc.mrss.areas.left_fingers",
    )
    # older than plausible at screening (whole years)
    birth, screening = dates["birth"], dates["screening"]
    known = ~np.isnat(birth) & ~np.isnat(screening)
    if known.any():
        age = np.full(len(birth), -1)
        age[known] = years_between(ymd(birth[known]), ymd(screening[known]))
        flag(
            age > MAXIMUM_PLAUSIBLE_AGE,
            f"dates.birth: older than {MAXIMUM_PLAUSIBLE_AGE} at screening is implausible",
            "dates.birth",
            "dates.screening",
        )
    # without a birth date, a date a birth comes on or before, more than 120 years before the
    # screening: every birth the row allows is implausible (screen refuses the record too)
    no_birth = np.isnat(birth) & ~np.isnat(screening)
    if no_birth.any():
        for path in ("dates.consent", "ssc.first_non_raynaud_manifestation", "pregnancy_test.date"):
            day = candidates.days(path)
            at = no_birth & ~np.isnat(day)
            if not at.any():
                continue
            age = np.full(len(birth), -1)
            age[at] = years_between(ymd(day[at]), ymd(screening[at]))
            flag(
                age > MAXIMUM_PLAUSIBLE_AGE,
                f"{path}: born on or before it, the candidate is older than "
                f"{MAXIMUM_PLAUSIBLE_AGE} at screening, which is implausible; check the date",
                path,
                "dates.screening",
            )
    # nothing happens before birth: every other date a table holds (read from its fields, so
    # a date field added to the record is checked too; the pregnancy test's was not)
    for path in _other_date_fields():
        flag(
            candidates.days(path) < birth,
            f"{path} is before dates.birth; expected a date on or after the birth",
            path,
            "dates.birth",
            order=DateOrder("birth", "other"),
        )
    flag(
        candidates.days("pregnancy_test.date") > screening,
        "pregnancy_test.date is after dates.screening; expected a date on or before the "
        "screening visit",
        "pregnancy_test.date",
        "dates.screening",
        order=DateOrder("screening", "other"),
    )
    flag(
        candidates.present("labs.egfr.value") & candidates.present("labs.creatinine.value"),
        "labs: give egfr or creatinine, not both",
        "labs.egfr.value",
        "labs.creatinine.value",
    )
    # a part of a record given without the rest it needs (screen refuses such a record: its
    # object misses a required field); the objects and their required fields are read from
    # the record's model, so a field added to it is checked too
    for parent, (required, optional) in _objects_with_required_fields().items():
        given = [candidates.present(f"{parent}.{leaf}") for leaf in required]
        others = [candidates.present(f"{parent}.{leaf}") for leaf in optional]
        any_given = np.any(given + others, axis=0)
        complete = np.all(given, axis=0)
        parts = [f"{parent}.{leaf}" for leaf in (*required, *optional)]
        if parent.startswith("labs.") and required == ("value", "unit"):
            value, unit = given
            flag(value & ~unit, f"{parent}: a value needs its unit", *parts)
            flag(~value & any_given, f"{parent}: a unit or ULN without a value", *parts)
        else:
            flag(
                any_given & ~complete,
                f"{parent}: give its {_listed(required)} together",
                *parts,
            )
    flag(
        _mrss_disagrees(candidates),
        "ssc.mrss.total disagrees with the recorded areas; expected the sum of the areas' grades",
        "ssc.mrss.total",
        "ssc.mrss.areas",
    )
    return _one_problem_for_one_date(found, order_of)


class DateOrder(NamedTuple):
    """What a problem of a date's order is about: the date put out of order (``birth`` or
    ``screening``) and how (``future``; ``visit``: a visit's date on the wrong side of it;
    ``other``: another date of the row)."""

    date: str
    how: str


_VISIT_DATES = ("consent", "screening", "planned_randomization")
#: the pairs of the record's own dates whose order says the birth or the screening is wrong
_VISIT_ORDER = {
    **{("birth", visit): DateOrder("birth", "visit") for visit in _VISIT_DATES},
    ("consent", "screening"): DateOrder("screening", "visit"),
}


def _one_problem_for_one_date(
    found: list[tuple[int, tuple[str, ...], str]], order_of: dict[int, DateOrder]
) -> list[tuple[int, tuple[str, ...], str]]:
    """As screen says it: a birth date in the future or after two or more dates of its row,
    or a screening date before two or more dates that come by it, is one problem of that
    date, not one for each date it puts out of order (one date out of order is named
    itself). ``order_of``: which problems are of a date's order, by their place in
    ``found``."""
    groups: dict[tuple[int, str], list[int]] = {}
    for index, order in order_of.items():
        groups.setdefault((found[index][0], order.date), []).append(index)
    replaced: dict[int, tuple[int, tuple[str, ...], str] | None] = {}
    for (row, kind), indexes in groups.items():
        hows = [order_of[i].how for i in indexes]
        future = "future" in hows
        others = len(hows) - future
        # as screen folds them: the visit dates out of order with the one folded into
        by_visit = "visit" in hows
        if not ((future and others) or (others >= 2 and by_visit)):
            continue
        if kind == "birth":
            wrong = [w for w, holds in (("is in the future", future), ("", True)) if holds]
            wrong[-1] = f"is after {others} other date{'s' if others > 1 else ''} of the row"
            text = (
                f"dates.birth {' and '.join(wrong)}; expected a birth date in the past, before "
                "every other date"
            )
        else:
            text = (
                f"dates.screening is before {others} dates that come by the screening visit; "
                "expected a screening date on or after each"
            )
        replaced[indexes[0]] = (row, (f"dates.{kind}",), text)
        replaced.update({i: None for i in indexes[1:]})
    if not replaced:
        return found
    kept = [replaced.get(i, problem) for i, problem in enumerate(found)]
    return [problem for problem in kept if problem is not None]


@functools.cache
def _other_date_fields() -> tuple[str, ...]:
    """The table's dates besides the record's own dates and the first manifestation (each of
    those has its own order above)."""
    return tuple(
        path
        for path, spec in fields().items()
        if spec.kind == "date"
        and not path.startswith("dates.")
        and path != "ssc.first_non_raynaud_manifestation"
    )


@functools.cache
def _objects_with_required_fields() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each object of the record a table fills (``labs.alt``, ``pregnancy_test``) whose model
    requires some of its fields: those fields, and the table's other fields of it."""
    leaves: dict[str, tuple[list[str], list[str]]] = {}
    for path, spec in fields().items():
        if "." in path:
            parent, leaf = path.rsplit(".", 1)
            required, optional = leaves.setdefault(parent, ([], []))
            (required if spec.required else optional).append(leaf)
    return {
        parent: (tuple(required), tuple(optional))
        for parent, (required, optional) in leaves.items()
        if required
    }


def _listed(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _mrss_disagrees(candidates: Candidates) -> np.ndarray:
    total = candidates.numbers("ssc.mrss.total")
    grades = candidates.grades()
    recorded = np.where(grades >= 0, grades, 0).sum(axis=0)
    unrecorded = (grades < 0).sum(axis=0)
    any_area = (grades >= 0).any(axis=0)
    has_total = ~np.isnan(total)
    value = np.where(has_total, total, 0).astype(int)
    return has_total & any_area & ~((recorded <= value) & (value <= recorded + 3 * unrecorded))


def numbers(values: np.ndarray) -> np.ndarray:
    """The numbers of a column as floats, NaN for anything else (a missing cell, a bool)."""
    if set(map(type, values)) <= _PLAIN_NUMBER_TYPES:  # numpy reads None as NaN, in C
        return np.array(values, dtype=float)
    return np.array(
        [v if isinstance(v, float | int) and not isinstance(v, bool) else np.nan for v in values],
        dtype=float,
    )


_PLAIN_NUMBER_TYPES = {float, int, type(None)}


def date_parts(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The year, month and day of each date in a column of dates (0 where there is none)."""
    return _parts(as_days(dates))


_NAT = np.datetime64("NaT", "D").astype(np.int64)
_EPOCH = dt.date(1970, 1, 1).toordinal()


def as_days(dates: Any) -> np.ndarray:
    """Dates (``datetime.date``, None for none) as numpy days, NaT for none: by each date's
    ordinal, ten times as fast as numpy's own reading of date objects (a property test holds
    the two to one answer)."""
    dates = list(dates)
    if not {type(day) for day in dates} <= {dt.date, type(None)}:  # anything else: numpy's
        return np.asarray(dates, dtype=object).astype("datetime64[D]")
    ordinals = [_NAT if day is None else day.toordinal() - _EPOCH for day in dates]
    return np.array(ordinals, dtype=np.int64).view("datetime64[D]")


def _parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    known = ~np.isnat(days)
    parts = ymd(np.where(known, days, np.datetime64("2000-01-01")))
    return tuple(np.where(known, part, 0) for part in parts)  # type: ignore[return-value]


def ages_in_years(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Completed years, as ``protocol.participant.age_in_years`` (dateutil) counts them: a 29
    February birthday is reached on 28 February in a year without one. Over whole columns of
    dates (a property test holds the two to one answer)."""

    return years_between(date_parts(birth), date_parts(on))


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The year, month and day of numpy days (valid dates only), over whole columns: the
    proleptic Gregorian calendar in integer arithmetic (H. Hinnant's ``civil_from_days``, in
    March-based years of 400-year eras), a few passes of whole numbers where numpy's own
    conversions to months and years took 1 ms for each 10,000 dates. A property test holds
    it to Python's calendar."""
    shifted = days.astype("datetime64[D]").astype(np.int64) + 719_468  # days from 0000-03-01
    era = shifted // 146_097
    day_of_era = shifted - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    march_month = (5 * day_of_year + 2) // 153  # 0 for March ... 11 for February
    day = day_of_year - (153 * march_month + 2) // 5 + 1
    month = np.where(march_month < 10, march_month + 3, march_month - 9)
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day


def years_between(
    birth: tuple[np.ndarray, np.ndarray, np.ndarray], on: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """:func:`ages_in_years` from the dates' years, months and days."""
    by, bm, bd = birth
    oy, om, od = on
    leap = (oy % 4 == 0) & ((oy % 100 != 0) | (oy % 400 == 0))
    birth_day = np.where((bm == 2) & (bd == 29) & ~leap, 28, bd)
    before = (om < bm) | ((om == bm) & (od < birth_day))
    return oy - by - before
