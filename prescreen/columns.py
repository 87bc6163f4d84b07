"""The columns of a candidate table: which record field each holds, how a cell is read, and the
columns that are refused because they identify a person.

A candidate table is the participant record flattened: one column per field (``dates.birth``,
``labs.hemoglobin.value``, ``labs.hemoglobin.unit``, ...), except the lists (medications,
events, malignancies) and the investigator's attestations, which a clinic query cannot give;
the criteria that need them are left for review. A mapping file renames a site's columns to
these fields, and may give a column's unit once for every row.

Cells are read as strictly as a record: each distinct value of a column is read once by the
field's own validator (a date is ``YYYY-MM-DD``, a number has a point for decimals, a yes/no is
``true`` or ``false``), so a table can never say what a record could not.
"""

from __future__ import annotations

import collections
import itertools
import math
import re
import typing
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from protocol.documents import (
    in_plain_words,
    read_yaml,
    shown_back,
    taken_out,
    validate_document,
)
from protocol.errors import Problem, ProtocolDataError
from protocol.identifiers import date_shaped, identifying_text, value_like
from protocol.inputs import (
    MAX_SIGNIFICANT_DIGITS,
    MOST_DIGITS_OF_A_MEASUREMENT,
    float_digits,
    significant_digits,
    time_as_read,
)
from protocol.participant import ParticipantRecord

#: The column that holds each candidate's pseudonymous ID (the record's ``participant``).
ID_FIELD = "participant"

#: Record fields a table cannot hold: lists of entries, the investigator's attestations, and
#: the dates that come after pre-screening (consent, planned randomization).
NOT_IN_TABLES = (
    "medications",
    "events",
    "history.malignancies",
    "attestations",
    "dates.consent",
    "dates.planned_randomization",
)

# Column names that identify a person directly. A pre-screening table carries a pseudonymous
# ID only; a site that exports one of these has exported too much, so nothing more is read.
# A name is split into words (at spaces, punctuation and capital letters: "HomePhone" is
# "home phone"); any of these words, or pair of words, marks it.
_IDENTIFIER_WORDS = frozenset(
    {
        "name", "names", "surname", "firstname", "lastname", "fullname", "givenname",
        "familyname", "patientname", "initials", "phone", "phones", "telephone", "cellphone",
        "homephone", "mobile", "mobilephone", "tel", "fax", "contact", "email", "mail",
        "address", "addr", "street", "postcode", "postal", "zip", "zipcode", "nric", "ssn",
        "passport", "wechat", "whatsapp", "qq", "mrn", "medrec", "hkid", "nhs", "medicare",
        "medicaid", "nhsno", "identity", "idcard", "idno", "idnumber", "nationalid", "inpatient",
        "outpatient",
        # other languages' names, phones and addresses, and national numbers (accents removed:
        # "Prénom" is "prenom")
        # ("nombre" is also French for a count, "Nombre de plaquettes"; RUT, NIE, CNP and BSN
        # are also clinical abbreviations: left out)
        "nom", "prenom", "apellido", "apellidos", "nachname", "vorname", "cognome", "nome",
        "telefono", "telefone", "telefon", "adresse", "direccion", "indirizzo", "endereco",
        "fname", "lname", "cpf", "dni", "aadhaar", "aadhar", "pesel", "uhid", "urn", "nhi",
        "mykad", "curp",
        # German, Scandinavian and Italian: phone numbers, surname, address, postcode and
        # personal numbers ("Straße" is read as "strasse")
        "telefonnummer", "handynummer", "mobilnummer", "rufnummer", "familienname",
        "anschrift", "strasse", "wohnort", "plz", "postleitzahl", "personnummer",
        "personnr", "fodselsnummer", "henkilotunnus", "codicefiscale",
        # a tester's: Dutch, Scandinavian and Polish names, mobile numbers in German, Spanish,
        # Portuguese and Italian, e-mail in Spanish and French, insurance numbers, bank and card
        # numbers ("Förnamn" is read as "fornamn", "Imię" as "imie")
        "naam", "voornaam", "achternaam", "fornavn", "efternavn", "etternavn", "efternamn",
        "fornamn", "nazwisko", "imie", "telefoon", "adres", "woonplaats", "handy", "celular",
        "movil", "cellulare", "correo", "courriel", "epost", "sozialversicherungsnummer",
        "versichertennummer", "krankenversichertennummer", "iban",
        # a tester's: name, surname and nickname in Portuguese, Malay and Indonesian, Turkish,
        # Hungarian ("Név"), Finnish, Norwegian and Danish, Swedish, Serbo-Croatian and Czech
        # (not "ime", "fio" or "alias": an abbreviation, FiO2, and a subject's pseudonym)
        "sobrenome", "nama", "isim", "soyad", "soyadi", "soyisim", "nev", "nimi", "navn",
        "namn", "prezime", "jmeno", "prijmeni", "nickname",
        # a tester's: a name in pinyin, Spanish and Latin American ID cards, German hospital
        # patient and case numbers
        "pinyin", "cedula", "patientennummer", "fallnummer", "aufnahmenummer",
    }
)  # fmt: skip
# Words that identify only as a whole header: HN and NHC, a hospital's number (número de
# historia clínica), which as a piece of a longer name may be another thing. ("Nombre" alone
# stays: it is also French for a count; a column of names given as the IDs is refused by its
# cells: a word of letters in lower or mixed case is no code.)
_IDENTIFIER_WHOLE = frozenset({"hn", "nhc"})
# pairs of words: record numbers of a hospital or an insurer are direct identifiers as much as
# a name (HIPAA's medical record and health plan numbers)
_IDENTIFIER_PAIRS = frozenset(
    {
        ("id", "no"), ("id", "number"), ("id", "num"), ("id", "card"), ("national", "id"),
        ("medical", "record"), ("record", "number"), ("record", "no"), ("hospital", "number"),
        ("hospital", "no"), ("hospital", "id"), ("social", "security"), ("insurance", "number"),
        ("insurance", "no"), ("insurance", "id"), ("we", "chat"), ("e", "mail"),
        ("first", "name"), ("last", "name"), ("given", "name"), ("family", "name"),
        ("home", "phone"), ("cell", "phone"),
        ("med", "rec"), ("rec", "no"), ("chart", "no"), ("chart", "number"),
        ("admission", "no"), ("admission", "number"), ("card", "no"), ("card", "number"),
        ("post", "code"), ("health", "card"), ("hosp", "no"), ("hosp", "number"),
        ("hosp", "num"), ("hosp", "id"), ("nat", "id"), ("national", "no"),
        ("national", "number"), ("ic", "no"),
        ("ic", "number"), ("mob", "no"), ("hp", "no"), ("unit", "record"),
        # a hospital's numbers (MR No, MR# and Chart# read "#" as "no"; IP and OP: in- and
        # outpatient; a case number, "Case No", is as often a trial's own), other documents and
        # accounts
        ("mr", "no"), ("mr", "number"), ("mr", "num"), ("ip", "no"), ("ip", "number"),
        ("op", "no"), ("op", "number"), ("social", "sec"),
        ("ph", "no"), ("ph", "number"), ("phone", "no"), ("account", "number"),
        ("account", "no"), ("driver", "license"), ("driver", "licence"),
        ("driving", "licence"), ("driving", "license"), ("codice", "fiscale"),
        ("tax", "id"), ("tax", "number"), ("e", "post"), ("member", "id"),
        ("member", "no"), ("member", "number"), ("credit", "card"), ("bank", "account"),
        # Spanish (nombre alone is also French for a count), Turkish, Vietnamese (accents
        # removed: Họ tên)
        ("nombre", "completo"), ("nombre", "del"), ("nombre", "paciente"),
        ("ad", "soyad"), ("ho", "ten"), ("ho", "va"),
        # Spanish: a clinical record's number (historia clínica)
        ("historia", "clinica"),
    }
)  # fmt: skip
# The pieces a name written as one word is read into ("HOSPNO", "medrecno", "IDCARDNO",
# "healthcardnumber": hospital systems export headers glued, often in capitals): the words and
# pairs above, and the words that join them. A word is read into pieces only when all of it is
# made of them, so a clinical word that merely starts like one ("telangiectasia") stays whole.
_PIECES = frozenset(
    _IDENTIFIER_WORDS
    | {word for pair in _IDENTIFIER_PAIRS for word in pair if len(word) > 1}
    | {
        "nr", "num", "patient", "pt", "home", "work", "personal", "full", "middle", "code",
        "hosp", "nat", "of",
    }
)  # fmt: skip
# Chinese headers for the same (simplified and traditional): 姓名/名字/名称 name, 电话/手机/联系
# phone and contact, 身份证/证件 ID card and ID document, 护照 passport, 地址/住址 address,
# 邮编 postcode, 病历号/病案号/住院号/门诊号/登记号/就诊卡/卡号 record and card numbers,
# 医保/社保 insurance, 微信 WeChat, 邮箱/电子邮件 e-mail.
_IDENTIFIER_CHINESE = (
    "姓名", "名字", "名称", "名稱", "电话", "電話", "手机", "手機", "联系", "聯繫", "聯絡",
    "身份证", "身份證", "证件", "證件", "护照", "護照", "地址", "住址", "邮编", "郵編",
    "病历号", "病歷號", "病案号", "病案號", "住院号", "住院號", "门诊号", "門診號", "登记号",
    "登記號", "就诊卡", "就診卡", "卡号", "卡號", "医保", "醫保", "社保", "微信", "邮箱",
    "郵箱", "电子邮件", "電子郵件", "邮件", "郵件", "身份", "身分", "就诊号", "就診號",
    "电邮", "電郵", "姓",  # e-mail; a surname (姓 alone: 患者姓, 姓氏)
    # Japanese, Korean and Russian: name, address, phone, resident registration number
    "氏名", "名前", "住所", "電話番号", "이름", "성명", "주소", "전화", "주민등록", "имя",
    "фамилия", "отчество", "телефон", "адрес", "паспорт", "снилс",
    # a tester's: an English name and a nickname in Chinese; name in Russian (ФИО), Greek,
    # Hebrew, Arabic, Hindi, Thai and Vietnamese
    "英文名", "昵称", "暱稱", "网名", "網名", "小名", "拼音", "фио", "όνομα", "ονομα",
    "επώνυμο", "επωνυμο", "שם", "اسم", "नाम", "ชื่อ", "tên",
)  # fmt: skip
# Letters of other scripts drawn like Latin ones (Cyrillic and Greek), read as the Latin letter
# they imitate: "Nаme" with a Cyrillic "а" is a name column too.
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁһкмнтвАВЕКМНОРСТХУІЈЅαβεικνορτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhkmhtbABEKMHOPCTXYIJSabeikvoptuxABEHIKMNOPTYX",
)


def _words(name: str) -> list[str]:
    name = name.replace("#", " no ")  # "MR#", "Chart#": a number
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)  # "HomePhone" -> "Home Phone"
    # digits apart from letters: "Phone1" and "addr_2" are a phone and an address column
    spaced = re.sub(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", " ", spaced)
    words = [w for w in re.split(r"[^A-Za-z]+", spaced.lower()) if w]
    return [piece for word in words for piece in (_pieces(word) or [word])]


_LONGEST_PIECE = max(map(len, _PIECES))


@cache
def _pieces(word: str) -> tuple[str, ...] | None:
    """``word`` read as a run of ``_PIECES`` ("hospno" is "hosp no"), the fewest pieces that
    make all of it; None when no run of pieces makes it."""
    fewest: list[tuple[str, ...] | None] = [()] + [None] * len(word)
    for end in range(1, len(word) + 1):
        # only as far back as the longest piece: linear in the word's length (a header of
        # 80,000 letters took 50 s when every slice was tried)
        for start in range(max(0, end - _LONGEST_PIECE), end):
            before = fewest[start]
            if before is not None and word[start:end] in _PIECES:
                found = (*before, word[start:end])
                if fewest[end] is None or len(found) < len(fewest[end]):  # type: ignore[arg-type]
                    fewest[end] = found
    return fewest[-1]


def _plain(name: str) -> str:
    """A name as its reader sees it: full-width and compatibility forms as plain letters
    (NFKC: "Ｎａｍｅ" is "Name"), and look-alike Cyrillic or Greek letters as the Latin ones."""
    return unicodedata.normalize("NFKC", name).translate(_LOOKALIKES).replace("ß", "ss")


def _without_accents(name: str) -> str:
    """Latin letters without their accents ("Prénom" is "Prenom", "Dirección" "Direccion")."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def identifier_column(name: str) -> bool:
    """Whether a column's name says it identifies a person.

    >>> names = ("Patient Name", "HomePhone", "ID no.", "身份证号", "participant", "labs.alt.uln")
    >>> [identifier_column(name) for name in names]
    [True, True, True, True, False, False]
    >>> [identifier_column(name) for name in ("Phone1", "Ｎａｍｅ", "Hospital ID", "病案号")]
    [True, True, True, True]
    >>> [identifier_column(name) for name in ("HOSPNO", "medrecno", "姓 名", "telangiectasia")]
    [True, True, True, False]
    """
    # the words of other scripts before look-alike letters are read as Latin ones
    compact = "".join(unicodedata.normalize("NFKC", name).lower().split())  # "姓 名" is 姓名
    if any(word in compact for word in _IDENTIFIER_CHINESE) or "qq" in compact:
        return True
    name = _without_accents(_plain(name))
    whole = [w for w in re.split(r"[^0-9A-Za-z]+", name.lower()) if w]
    words = _words(name)
    if _IDENTIFIER_WORDS & {*whole, *words, "".join(whole), "".join(words)}:
        return True
    if "".join(whole) in _IDENTIFIER_WHOLE:
        return True
    # a mobile number's column: "Cell", "Cell no." ("cell" in a longer name is a blood cell)
    if words in (["cell"], ["cell", "no"], ["cell", "number"]):
        return True
    return any(pair in _IDENTIFIER_PAIRS for pair in itertools.pairwise(words))


#: A number as a lab writes it (1490000000.0, 13.5e9): in a column of numbers, a value.
_PLAIN_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


def identifier_cells(
    values: Any,
    include_numbers: bool = False,
    numbers_are_values: bool = False,
    free_text: bool = False,
) -> bool:
    """Whether any cell of a column looks like a phone number, an ID card number or an e-mail
    (numbers too, for the ID column: an ID stored as a number can be a phone number).

    ``numbers_are_values``: the column holds a number field, so a cell written as a plain
    number is its value, never taken for a phone number (a count of 1.49 x10^9 cells/L written
    ``1490000000.0`` has a mobile number's digits); a phone number written as one
    (``138-1234-5678``), an ID card number with its check letter or an e-mail is still found.
    ``free_text``: a field's column, not the ID column (identifying_text's free text)."""

    def identifying(text: str) -> bool:
        if numbers_are_values and _PLAIN_DECIMAL.fullmatch(text):
            # a lab's value: a decimal with a fraction (13.812345678 g/dL) is a measurement; a
            # whole number is one up to a measurement's precision (1490000000 cells/L), and a
            # phone number beyond it (13812345678, 1.3812345678E+10)
            whole = _whole_digits(text)
            return whole is not None and _too_precise(whole) and identifying_text(whole)
        return identifying_text(text, free_text)

    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    series = pd.Series(values)
    if series.dtype.kind in "fiu" and (include_numbers or numbers_are_values):
        return _identifying_numbers(series.to_numpy(), numbers_are_values)
    if series.dtype.kind in "fcbmM" or (series.dtype.kind in "iu" and not include_numbers):
        return False  # numbers, flags and dates hold no text
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float") and (
        include_numbers or numbers_are_values
    ):  # a workbook's column of number cells (read as Python numbers)
        numbers = [v for v in series.dropna().tolist() if not isinstance(v, bool)]
        return _identifying_numbers(np.array(numbers, dtype=object), numbers_are_values)
    if kind in _NO_TEXT or (kind == "integer" and not include_numbers):
        return False
    if isinstance(series.dtype, pd.StringDtype):  # held as text already: its distinct texts
        try:
            arrow = pc.unique(pa.array(series.array).cast(pa.large_string()).drop_null())
        except (UnicodeEncodeError, pa.ArrowException):  # a lone surrogate: read as objects
            return identifier_cells(
                series.astype(object), include_numbers, numbers_are_values, free_text
            )
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        if not len(arrow):
            return False
        shaped = np.flatnonzero(_wider_shaped(arrow))  # only these come to Python
        return any(identifying(text) for text in arrow.take(shaped).to_pylist())
    kinds = (str, bytes, int, np.integer) if include_numbers else (str, bytes)
    if numbers_are_values:  # a number cell of a workbook: its digits, checked as text is
        kinds = (*kinds, int, float, np.integer, np.floating)
    distinct = [
        v
        for v in series.dropna().unique().tolist()
        if isinstance(v, kinds) and not isinstance(v, bool)
    ]
    # a Parquet file's binary cells are read as their text (UTF-8) would be
    texts = list(
        dict.fromkeys(
            v.decode("utf-8", "replace") if isinstance(v, bytes) else _number_as_written(v)
            for v in distinct
        )
    )
    if not texts:
        return False
    # only a text shaped like an e-mail or a phone number can be one: found in C by a wider
    # pattern (RE2), then each such text by Python's own, then checked
    try:
        arrow = pa.array(texts, pa.large_string())
    except (UnicodeEncodeError, pa.ArrowException):  # a lone surrogate: every text by Python
        wider = np.ones(len(texts), dtype=bool)
    else:
        wider = _wider_shaped(arrow)
    return any(identifying(texts[i]) for i in np.flatnonzero(wider))


def _whole_digits(text: str) -> str | None:
    """The digits of a plain decimal that is a whole number (13812345678.0, 1.3812345678E+10,
    +8613812345678), or None for one with a fraction."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.strip().lstrip("+"))
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value() or abs(value) >= 10**20:
        return None
    digits = str(int(abs(value)))
    return ("+" + digits) if text.strip().startswith("+") else digits


def _too_precise(text: str) -> bool:
    mantissa = re.split("[eE]", text.strip().lstrip("+-"))[0]
    return significant_digits(mantissa) > MOST_DIGITS_OF_A_MEASUREMENT


def _number_as_written(value: Any) -> str:
    """A cell as text: a whole number of a double without its ".0" (13812345678.0 is the
    number 13812345678)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _identifying_numbers(numbers: np.ndarray, numbers_are_values: bool) -> bool:
    """Whether a column of numbers holds a phone or ID card number: whole numbers of eight
    digits or more, found over the whole column at once (a column of 100,000 lab values is
    passed in C), each distinct one then checked as its digits; in a number field's column
    only those with more digits than a measurement has."""
    if numbers.dtype == object:  # Python's numbers (a whole number of any size kept exact)
        texts = {
            _number_as_written(value)
            for value in numbers.tolist()
            if abs(value) >= 10_000_000 and (not isinstance(value, float) or value.is_integer())
        }
    else:
        with np.errstate(invalid="ignore"):
            large = numbers[np.abs(numbers) >= 10_000_000]  # NaN never is: one pass, then few
        if large.dtype.kind == "f":
            large = large[np.isfinite(large) & (large == np.round(large))]
        texts = {str(int(value)) for value in np.unique(large).tolist()}
    if numbers_are_values:
        texts = [text for text in texts if _too_precise(text)]
    return any(identifying_text(text) for text in texts)


def _wider_shaped(texts: Any) -> Any:
    """Which texts a wider pattern than Python's finds shaped like an e-mail or a phone number
    (never missing one), a plain ISO date excepted (in Arrow, over every text at once)."""
    import pyarrow.compute as pc

    shaped = pc.and_(
        pc.match_substring_regex(texts, _SHAPED_WIDER),
        pc.invert(pc.match_substring_regex(texts, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")),
    )
    # a text beyond ASCII may hold any script's digits (𝟏𝟑𝟖, ১৩৮, superscripts): to Python
    return pc.or_(shaped, pc.invert(pc.string_is_ascii(texts)))


# what pandas finds in a column that holds no text at all
_NO_TEXT = frozenset({"empty", "boolean", "floating", "date", "datetime", "datetime64"})
# Python's \s (any Unicode space), for Arrow's RE2: a superset, so no shaped text is missed
_SPACE = r"[\t-\r\x1c-\x20\x85\pZ]"
# (an e-mail's @, seven digits or more close together in any script, a letter before six
# digits and a bracket: a phone or card number written alone or inside a text, as
# identifying_text finds it; a code such as SYN-C000001 is not looked at again in Python)
# (ASCII, full-width, Arabic-Indic and Devanagari digits named: RE2's \\p{Nd} took four times
# as long over a column)
_SHAPED_WIDER = (
    "@|＠|[0-9０-９٠-٩۰-۹०-९](?:[^0-9０-９٠-٩۰-۹०-९]{0,4}[0-9０-９٠-٩۰-۹०-९]){6}"
    "|[A-Za-zＡ-Ｚａ-ｚ] ?[0-9０-９]{6} ?[(（]"
)


# -- the record's fields as columns -------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One leaf field of the participant record, as a table column."""

    path: str
    kind: str  # "date", "bool", "int", "number", "choice", "text"
    choices: tuple[str, ...] = ()
    description: str = ""
    required: bool = False  # its object (a lab's value and unit) cannot be given without it

    def reader(self) -> TypeAdapter[Any]:
        return _adapter(self.path)


def _leaves(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if path in NOT_IN_TABLES:
            continue
        args = [a for a in typing.get_args(info.annotation) if a is not type(None)]
        inner = args[0] if args else info.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _leaves(inner, path + ".")
        else:
            yield path, info, inner


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    text = repr(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if args and typing.get_origin(annotation) is not typing.Literal else annotation
    if typing.get_origin(base) is Annotated:
        base = typing.get_args(base)[0]
    if typing.get_origin(base) is typing.Literal:
        return "choice", tuple(typing.get_args(base))
    if typing.get_origin(annotation) is typing.Literal:
        return "choice", tuple(typing.get_args(annotation))
    if base is bool:
        return "bool", ()
    if base is int:
        return "int", ()
    if base is float:
        return "number", ()
    if base is date or "date" in text:
        return "date", ()
    return "text", ()


@cache
def fields() -> dict[str, FieldSpec]:
    """Every column a candidate table can have, in the record's order."""
    found = {}
    for path, info, _inner in _leaves(ParticipantRecord):
        kind, choices = _kind(info.annotation)
        found[path] = FieldSpec(path, kind, choices, info.description or "", info.is_required())
    return found


@cache
def _adapter(path: str) -> TypeAdapter[Any]:
    model: Any = ParticipantRecord
    info = None
    for part in path.split("."):
        if info is not None:
            args = [a for a in typing.get_args(info.annotation) if a is not type(None)]
            model = args[0] if args else info.annotation
        info = model.model_fields[part]
    assert info is not None
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(annotation, config=ConfigDict(strict=True))


# ASCII digits only, as a record's numbers; a point and zeros after them are the same whole
# number as a program writes a column of numbers with a gap in it ("2.0": pandas' floats),
# as a workbook's or a Parquet file's number cell 2.0 is read
_INTEGER = re.compile(r"^([+-]?[0-9]+)(?:\.0+)?$")


#: What a message shows of a cell that looks like a phone or ID card number.
WITHHELD = "(withheld: it looks like a phone or ID card number)"
#: What a message shows of a text that is no value of any column and may name a person.
WITHHELD_TEXT = "(withheld: a text that is no value of this column may name a person)"
#: What a message shows of a number with more digits than a mistyped measurement has.
WITHHELD_NUMBER = "(withheld: a number of as many digits may be a phone or ID number)"
#: What a message shows of a date in a column that holds no date (columns shifted by one).
WITHHELD_DATE = "(withheld: a date in a column that holds none may be a birth date)"
#: What a problem shows of an ID cell that is no pseudonymous code (a name, a date).
WITHHELD_ID = "(withheld: an ID that is not a code may name the person)"


def without_identifying(message: str, raw: Any, path: str = "") -> str:
    """A message about a cell with the cell's value taken out where the value is withheld
    (the rule's own words repeat the value: "the value 13800138000 g/L is implausible")."""
    if shown_value(raw, path) not in (WITHHELD, WITHHELD_TEXT, WITHHELD_NUMBER, WITHHELD_DATE):
        return message
    value = raw.item() if isinstance(raw, np.generic) else raw
    # as written, and as a message quotes it (escaped: 'Zhang\u200bWei', 'Wang\tFang')
    forms = {str(value), _number_as_written(value), repr(str(value))[1:-1]}
    forms.add(ascii(str(value))[1:-1])
    # and each part the reader quotes on its own ("'Donna' is not a unit name" of Donna/May),
    # but a value of the column's own ("serum" of 'serum Wang': the message lists it among the
    # values expected, and it names no one)
    spec = fields().get(path)
    choices = set(spec.choices) if spec is not None else set()
    forms.update(
        part for part in re.split(r"[\s/*·^]+", str(value)) if part and part not in choices
    )
    message = taken_out(message, forms)
    # and any run of its digits the rule's words give otherwise ("such as 912345678" for
    # 0912345678 written with a leading zero); other numbers (a range's ends) stay
    digits = re.sub(r"[^0-9]", "", str(value))

    def scrubbed(found: re.Match[str]) -> str:
        run = re.sub(r"[^0-9]", "", found.group())
        return "(withheld)" if len(run) >= 6 and run in digits else found.group()

    return re.sub(r"[0-9][0-9.,\- ]{4,}[0-9]", scrubbed, message)


def shown_value(raw: Any, path: str = "") -> str:
    """A cell's value in a message: as Python writes it, cut at 60 characters (a 40,000-
    character cell would fill a worklist cell beyond what a spreadsheet holds); withheld where
    it may identify a person (a phone or ID card number; a text that is no value of the
    column, ``path`` a unit's or another field's)."""
    value = raw.item() if isinstance(raw, np.generic) else raw
    if isinstance(value, bytes):  # a Parquet file's binary cell: its text, read as text is
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return f"{len(value)} bytes that are no text"
    spec = fields().get(path)
    if (as_read := time_as_read(value)) is not None:
        # a workbook's date cell in a column that holds no date (columns shifted by one): a
        # birth date identifies the person, as the same date typed as text does
        if spec is not None and spec.kind != "date" and isinstance(value, date):
            return WITHHELD_DATE
        return as_read
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        # (Python will not write one of more than 4,300 digits)
        return f"a whole number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        written = _number_as_written(value) if isinstance(value, float) else str(value)
        if identifying_text(written, free_text=True):  # a value refused is never repeated
            return WITHHELD
    if isinstance(value, str) and spec is not None and spec.kind != "date" and date_shaped(value):
        # a date is shown back where it is the column's value mistyped (2025/03/03 for a
        # screening date); elsewhere it is no value of the column, and a birth date in a
        # column shifted by one identifies the person
        return WITHHELD_DATE
    if isinstance(value, str) and not value_like(value, path.endswith("unit")):
        return WITHHELD_TEXT
    # a number a CSV or a workbook gives as such is held to the digits a text is (an 8-digit
    # mobile, 98765432, read as a haemoglobin): more than 6, withheld
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and sum(c.isdigit() for c in _number_as_written(value)) > 6
    ):
        return WITHHELD_NUMBER
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _as_written_number(number: float) -> float:
    """A workbook's or Parquet file's number (a double) read as the decimal it holds: at most
    12 significant digits, as a value written in a CSV or a record. Any other is refused, a
    formula's or a program's rounding too (=12.1-0.1 holds 12.000000000000002): a double a
    unit in the last place from a decimal is not that decimal, and reading it so decided a
    platelet count of 74.99999999999999 as at 75, not below it (it passed EX24)."""
    digits = float_digits(number)
    if digits <= MAX_SIGNIFICANT_DIGITS:
        return number
    raise ValueError(
        f"{number!r} has {digits} significant digits; expected at most "
        f"{MAX_SIGNIFICANT_DIGITS} (no measurement is written with more; a formula's or a "
        "program's result: give the value rounded as the laboratory reports it)"
    )


def read_cell(spec: FieldSpec, raw: Any) -> Any:
    """One cell read by its field's validator; raises ValueError saying what was expected.

    Text from a CSV is turned into the value a record file would hold (``true`` into a yes,
    ``12`` into a whole number) only where the text is exactly that; then the record's own
    validator decides.
    """
    value = raw
    if isinstance(raw, bytes):  # a Parquet file's binary column: no reader's text
        raise ValueError(
            f"{shown_value(raw)} is stored as bytes, not text; expected the column stored as text"
        )
    if spec.kind == "bool":
        if isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(f"{shown_value(raw)} is not true or false")
            value = lowered == "true"
        elif not isinstance(raw, bool):
            raise ValueError(f"{shown_value(raw)} is not true or false")
    elif spec.kind == "int":
        if isinstance(raw, str):
            whole = _INTEGER.match(raw.strip())
            if not whole:
                raise ValueError(f"{shown_value(raw)} is not a whole number")
            if len(whole[1]) > 18:  # beyond any count a record holds (and Python's limit)
                raise ValueError(f"{shown_value(raw)} is not a plausible whole number")
            if re.match(r"[+-]?0[0-9]", whole[1]):
                # 01, as a lab's 079 and a record's 01 are refused: never guessed
                plain = whole[1].lstrip("+-").lstrip("0") or "0"
                raise ValueError(
                    f"{shown_value(raw)} is written with a leading zero; expected the number "
                    f"as it is written without it, such as {plain}"
                )
            value = int(whole[1])
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)  # a spreadsheet stores every number as a float
        elif isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"{shown_value(raw)} is not a whole number")
        elif raw.bit_length() > 60:  # beyond any count a record holds (and Python's limit)
            raise ValueError(f"{shown_value(raw)} is not a plausible whole number")
    elif spec.kind == "date" and isinstance(raw, datetime):
        if raw.tzinfo is not None:
            raise ValueError(f"{raw!s} has a time zone; expected a calendar date YYYY-MM-DD")
        if raw.time() != datetime.min.time():
            raise ValueError(f"{raw!s} has a time of day; expected a calendar date YYYY-MM-DD")
        value = raw.date()  # a spreadsheet's date cell is a datetime at midnight
    elif spec.kind == "number" and isinstance(raw, float) and math.isfinite(raw):
        value = _as_written_number(raw)
    elif spec.kind == "choice":
        if not isinstance(raw, str):
            raise ValueError(f"{shown_value(raw)} is not one of: {', '.join(spec.choices)}")
        # as a yes/no cell is read: the spaces around it and the case of its letters aside (an
        # export's "Female", "POSITIVE " is the choice written; " female " had been refused
        # where " true " was read). Nothing else is matched: "F", "pos" stay unreadable
        value = next((c for c in spec.choices if c == raw.strip().lower()), raw)
    try:
        return spec.reader().validate_python(value)
    except ValidationError as exc:
        message = "; ".join(
            in_plain_words(e) or e["msg"].removeprefix("Value error, ") for e in exc.errors()
        )
        raise ValueError(message) from None


# -- the mapping file ---------------------------------------------------------------------------


class ColumnMapping(BaseModel):
    """Which record field a site's column holds, and its unit when one unit holds for every row."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(description="The record field, e.g. labs.hemoglobin")
    unit: str | None = Field(None, description="The unit of every value, e.g. g/L (labs only)")
    uln_unit: str | None = Field(None, description="The unit of the ULN column, if another")


class Mapping(BaseModel):
    """A site's columns named as record fields: ``columns: {Hb: {field: labs.hemoglobin.value,
    unit: g/L}}``. Columns not named are matched by their own names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id_column: str = Field(ID_FIELD, description="The column of pseudonymous candidate IDs")
    columns: dict[str, ColumnMapping] = Field(default_factory=dict)


#: A mapping names at most every field a table holds (about 125, a line each): 64 KiB is room
#: for long column names in any script, and a larger file is no mapping (a pure-Python YAML
#: parse of the 1 MiB any other input may be takes seconds)
MAPPING_MAX_BYTES = 64 * 1024


def load_mapping(path: Path | str) -> Mapping:
    data, node = read_yaml(Path(path), max_bytes=MAPPING_MAX_BYTES)
    mapping = validate_document(Mapping, data, str(path), node)
    known = fields()
    problems = []
    for column, target in mapping.columns.items():
        if target.field == ID_FIELD:  # the IDs come from id_column: this column would be lost
            problems.append(
                Problem(
                    f"the candidate IDs named by id_column ({mapping.id_column!r}), not a column "
                    "mapped to them",
                    path=f"columns.{column}.field",
                    found=repr(target.field),
                )
            )
        elif target.field not in known:
            problems.append(
                Problem(
                    "not a field a candidate table can hold (see `trialbook prescreen --template`)",
                    path=f"columns.{column}.field",
                    found=shown_back(target.field),
                )
            )
        else:
            for key in ("unit", "uln_unit"):
                given = getattr(target, key)
                if given is not None and not (
                    target.field.startswith("labs.") and target.field.endswith(".value")
                ):
                    problems.append(
                        Problem(
                            "a unit belongs to a lab value (labs.NAME.value)",
                            path=f"columns.{column}.{key}",
                            found=shown_back(given, unit=True),
                        )
                    )
    times_mapped = collections.Counter(t.field for t in mapping.columns.values())
    for field in sorted(f for f, times in times_mapped.items() if times > 1):
        problems.append(
            Problem("one column per field", path="columns", found=f"two columns for {field!r}")
        )
    if problems:
        raise ProtocolDataError(str(path), problems)
    return mapping


def template_columns() -> list[str]:
    """The columns of an empty candidate table, the ID first."""
    return [ID_FIELD, *(path for path in fields() if path != ID_FIELD)]
