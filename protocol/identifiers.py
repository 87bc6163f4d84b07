"""What identifies a person in a code meant to be pseudonymous: a phone number, an ID card
number, an e-mail address, or a calendar date (a birth date). `trialbook prescreen` reads its
candidates' IDs with these, and the participant record its ``participant`` code, so one
written as a date or a phone number is refused in either, never shown."""

from __future__ import annotations

import datetime as dt
import re
import sys
import unicodedata
from typing import Any

from protocol.inputs import significant_digits

#: What a refusal says of a value that identifies a person; the value itself is withheld from
#: the message (a birth date written back to the screen is the data the refusal protects).
IDENTIFYING = (
    "a pseudonymous participant code, not a phone number, an ID card number or a date (these "
    "identify a person)"
)

#: A pseudonymous code as a site writes its participants' and candidates': 1 to 40 letters
#: A-Z, digits, '_', '.' or '-', beginning with a letter or digit. A word of letters alone in
#: lower or mixed case reads as a person's name and is refused, alone or joined to another by a
#: separator (Maria, ZhangWei, maria, Zhang-Wei, wang_fang, J.Smith); a code holds a digit
#: (SYN-01, P00012, syn-7), or its letters are capitals (A, JD, TEST, SYN-B), as sites write
#: codes. One pattern, with no look-ahead, that Arrow's RE2 matches as Python's re does, so
#: `prescreen` reads a whole column of IDs with it.
CODE_PATTERN = (
    r"^(?:[A-Z][A-Z_.-]*|[0-9][A-Za-z0-9_.-]*|[A-Za-z][A-Za-z0-9_.-]*[0-9][A-Za-z0-9_.-]*)$"
)
#: The same in words, for a refusal.
CODE_EXPECTED = (
    "a pseudonymous code: up to 40 letters A-Z, digits, '_', '.' or '-', beginning with a "
    "letter or digit; letters without a digit make a code only in capitals (words in lower "
    "or mixed case may be a person's name)"
)

#: An e-mail address, and a number written as a phone number is (digits, spaces, brackets,
#: dots and hyphens, a leading +)
EMAIL = re.compile(r"^\s*[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\s*$")
PHONE_LIKE = re.compile(r"^\s*\+?\(?[0-9][0-9 ().\-]*[0-9Xx]\s*$")


def identifying_text(text: str, free_text: bool = False) -> bool:
    """Whether a cell's text is a phone number, an ID card number or an e-mail address.

    ``free_text``: the text is a name, a reason or a cell of a field that is no code (a
    medicine's name, a clearance reason, a sex): a number there is looked for however it is
    written, glued to letters ("Tel13812345678"), in groups with any separators, a landline or
    a number dialled abroad inside a sentence. An ID's or a code's text (the default) keeps
    those shapes, which are a site's codes as often (S13001000001, SITE-13-001-000001).

    >>> [identifying_text(t) for t in ("138-1234-5678", "+44 7700 900123", "110105491231002")]
    [True, True, True]
    >>> [identifying_text(t) for t in ("415-555-0123", "415.555.0123", "(415) 555-0123")]
    [True, True, True]
    >>> [identifying_text(t) for t in ("SYN-C000001", "12.5", "2025-03-03", "P00012")]
    [False, False, False, False]
    >>> [identifying_text(t) for t in ("2025100001", "0100000123", "0.723456789", "234.5678901")]
    [False, False, False, False]
    >>> [identifying_text(t) for t in ("SYN-138-1234-5678", "A-138.1234.5678", "S138 1234 5678")]
    [True, True, False]
    """
    if not text.isascii():
        # full-width digits, brackets and @ as Chinese input methods type them (NFKC), the
        # dashes and dots a word processor puts between a number's groups (138–1234–5678), and
        # any script's digits as ASCII ones (Arabic-Indic ١٣٨...)
        text = _ascii_digits(
            unicodedata.normalize("NFKC", _ascii_digits(text)).translate(_SEPARATORS)
        )
    if "@" in text and any(map(_an_address, _EMAIL_IN_TEXT.finditer(text))):
        return True  # alone, or in a text: "mail: a@b.cn"
    if not _DIGIT.search(text):  # every code of letters alone (each record's code is read)
        return False
    if free_text:
        # calendar dates are no phone's digits (尿蛋白 +1 (2024-12-01), 2024.10.10-2025.1.15),
        # and invisible characters no separator
        text = _INVISIBLE.sub("", _DATES_IN_TEXT.sub(" ", text))
        if any(_free_text_match(pattern, text) for pattern in _IN_FREE_TEXT):
            return True
    if _written_as_one(text, free_text):
        return True
    # a number written with an exponent or a trailing point (1.3812345678E+10, 13812345678.)
    whole = _whole_number(text)
    if whole is not None and _written_as_one(whole, free_text):
        return True
    # inside a longer text, a mobile or ID card number written as one run of digits: "Tel
    # 13812345678", "手机13812345678", "(+86)13812345678", "13812345678/13912345678",
    # "身份证110101197806140010", "ID A123456(3)". (Runs with separators inside are a site's
    # codes as often: SITE-13-001-000001, 09-0001-0001.)
    # A mobile or mainland ID card number in its usual groups inside a text is found too ("Tel:
    # 138-1234-5678", "身份证 110105 1949 1231 002X"): those groups (3-4-4, 6-8-4, 6-4-4-4) are
    # no site code's.
    return bool(
        _RUN_IN_TEXT.search(text)
        or _CARD_IN_TEXT.search(text)
        or _GROUPED_IN_TEXT.search(text)
        or _MOBILE_IN_CODE.search(text)
    )


def identifying_code(code: str) -> bool:
    """Whether a participant's code identifies a person: a phone or ID card number, an e-mail
    address, a calendar date (a birth date), or one of these among the code's characters.

    >>> [identifying_code(c) for c in ("19780614", "SYN-1978-06-14", "13812345678", "SYN-01")]
    [True, True, True, False]
    """
    return identifying_text(code) or date_shaped_id(code) or personal_data_inside(code)


#: A quoted value in a message, as repr() writes it ('...' or "...", escapes kept).
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'" + r'|"(?:[^"\\\n]|\\.)*"')


def redacted(message: str) -> str:
    """A message with every value in it that identifies a person taken out: a quoted value
    that is a phone, ID card number or e-mail address (identifying_text), and an e-mail or a
    mobile or ID card number inside the words. The last guard of what a command prints about
    bad input (a table without its header row names its "columns" after a person's cells).

    >>> print(redacted("column '13812345678' = a cell looks like a phone number"))
    column (withheld) = a cell looks like a phone number
    >>> print(redacted("column 'labs.igg.value' = 'twelve': a number; write to a.b@example.cn"))
    column 'labs.igg.value' = 'twelve': a number; write to (withheld)
    """
    # the patterns read ASCII: they run on a copy with full-width, circled, superscript and
    # other scripts' digits, brackets and @ (＠, ﹫) as ASCII, one character for one, and their
    # spans are withheld from the message as written (a full-width jing.xue＠zju.edu.cn went
    # through as it was)
    folded = _folded_one_for_one(message)
    if not _DIGIT.search(folded) and "@" not in folded:
        return message
    if folded != message:
        # pattern by pattern, as below: a number withheld is no longer a later pattern's
        for pattern in (
            _EMAIL_IN_TEXT,
            _RUN_IN_TEXT,
            _GROUPED_IN_TEXT,
            _CARD_IN_TEXT,
            *_IN_FREE_TEXT,
        ):
            for found in reversed(list(pattern.finditer(folded))):
                if not _not_personal(found):
                    start, end = found.span()
                    message = message[:start] + "(withheld)" + message[end:]
                    folded = folded[:start] + "(withheld)" + folded[end:]
    message = _QUOTED.sub(
        lambda m: (
            "(withheld)"
            if identifying_text(m.group()[1:-1]) or identifying_text(m.group()[1:-1], True)
            else m.group()
        ),
        message,
    )
    for pattern in (_EMAIL_IN_TEXT, _RUN_IN_TEXT, _GROUPED_IN_TEXT, _CARD_IN_TEXT, *_IN_FREE_TEXT):
        message = pattern.sub(lambda m: m.group() if _not_personal(m) else "(withheld)", message)
    return message


def _folded_one_for_one(text: str) -> str:
    """The text with each character that NFKC writes as one other character written so (a
    full-width ＠, （ or １ as @, ( or 1), word processors' dashes as hyphens and any script's
    digits as ASCII ones: the same length, so a span found in it is the span in the text."""
    folded = []
    for character in text:
        if character.isascii():
            folded.append(character)
            continue
        if unicodedata.digit(character, None) is not None:  # ⑴ is "(1)" to NFKC: one digit
            folded.append(str(unicodedata.digit(character)))
            continue
        normal = unicodedata.normalize("NFKC", character)
        folded.append(normal if len(normal) == 1 else character)
    return _ascii_digits("".join(folded).translate(_SEPARATORS))


def _not_personal(found: re.Match[str]) -> bool:
    """A match of a message's words that is no person's number: times of day, a date beside a
    sign (+1 (2024-12-01)), a dose "at" its route (500mg@qd.po)."""
    text = found.group()
    if found.re is _EMAIL_IN_TEXT:
        return not _an_address(found)
    return _all_times(text) or _DATES_IN_TEXT.search(text) is not None


def _written_as_one(text: str, free_text: bool = False) -> bool:
    """Whether the whole text is a phone number or an ID card number."""
    if national_id_card(text):
        return True
    # a number a spreadsheet kept as a double is written with ".0": 13812345678.0
    text = _without_point_zero(text)
    text = text.replace("_", "-")  # an underscore separates as a hyphen does: 138_1234_5678
    if not PHONE_LIKE.match(text):
        return False
    stripped = text.strip()
    digits = re.sub(r"[^0-9Xx]", "", stripped)
    if stripped.count("-") == 2 and len(digits) == 8 and re.match(r"^\d{4}-\d{2}-\d{2}$", stripped):
        return False  # a date
    if stripped.startswith("+"):
        return 8 <= len(digits) <= 15
    # a mainland mobile, or a Taiwan one in its groups (0912-345-678; 09-0001-0001 is a
    # site's code), in a free text as one run too (0912345678: in an ID, a zero-padded code)
    mobile = re.fullmatch(r"(?:86)?1[3-9][0-9]{9}", digits) or re.fullmatch(
        r"\(?09[0-9]{2}\)?([ .\-]" + ("?" if free_text else "") + r")[0-9]{3}\1[0-9]{3}", stripped
    )
    id_card = re.fullmatch(r"[0-9]{15}|[0-9]{17}[0-9Xx]", digits)
    # a number dialled abroad with 00 (0044-20-7946-0958, 001-415-555-0123): a country code
    # and a national number of 10 to 13 digits after it (001-002-0003 is a site's code)
    international = re.fullmatch(r"00[1-9][0-9]{9,12}", digits)
    # a Chinese landline: an area code of 0 and 2 or 3 digits (never 00, dialling abroad) and a
    # local number of 7 or 8 digits not beginning with 0, written with a separator
    # (010-6512-3456, (0755) 8123 4567, 010.6512.3456); 001-002-0003, 011-001-0001 and
    # 010-0100-0100 are a site's codes
    landline = (
        re.fullmatch(rf"\(?0{_AREA}\)?[ .\-]?{_LOCAL}", stripped)
        and re.search(r"[ ().\-]", stripped)
        and not _all_times(stripped)
    )
    # a North American number written as one (415-555-0123, (415) 555-0123, 415.555.0123).
    # Ten digits without separators, or with a trunk 0, are as often a site's numeric code
    # (2025100001: a year, a site, a sequence), and a US social security number has the shape
    # of a trial's site-country-subject code (101-01-0001): those stay IDs.
    north_american = re.fullmatch(r"[2-9][0-9]{2}[2-9][0-9]{6}", digits) and re.fullmatch(
        r"\(?[0-9]{3}\)?[ .\-][0-9]{3}[ .\-][0-9]{4}|\([0-9]{3}\)[0-9]{3}-?[0-9]{4}", stripped
    )
    # (in a free text, three groups of digits are a dose schedule, 500-500-1000, far more often
    # than a North American number written without its +1)
    # a Chinese landline written as one run of 11 or 12 digits (02112345678, 057187654321):
    # longer than the numeric codes of up to ten digits a site pads with zeros (0100000123,
    # 0912345678), which stay codes; and a number dialled with its country code but no +, in
    # groups or not (86-21-6512-3456, 862165123456, 886-912-345-678, 8860912345678)
    landline_run = re.fullmatch(rf"0{_AREA}[1-9][0-9]{{6,7}}", stripped) and len(stripped) in (
        11,
        12,
    )
    # (a Taiwan mobile or landline, 886-2-2345-6789; the trunk 0 kept after the country code,
    # 86-021-6512-3456, as people write it)
    taiwan_abroad = re.fullmatch(r"8860?[2-9][0-9]{7,8}", digits)
    china_abroad = re.fullmatch(rf"860?{_AREA}[1-9][0-9]{{6,7}}", digits)
    return bool(
        mobile
        or id_card
        or international
        or landline
        or landline_run
        or taiwan_abroad
        or china_abroad
        or (north_american and not free_text)
    )


#: A Chinese area code after its trunk 0 (010, 020-029, 0310-0999; 012-2024-0001 is a code)
#: and a local number of 7 or 8 digits (0800 1200 1800, times of day, are left out apart).
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"
_LOCAL = r"[1-9][0-9]{2,3}[ .\-]?[0-9]{4}"


def _all_times(text: str) -> bool:
    """Whether every group of digits in a text is a time of day of four digits (0830 2030)."""
    groups = re.findall(r"[0-9]+", text)
    return bool(groups) and all(len(g) == 4 and int(g[:2]) < 24 and int(g[2:]) < 60 for g in groups)


_DIGIT = re.compile(r"\d")  # any script's digits (full-width ones too)
#: A number with an exponent or a trailing point, written as a plain decimal.
_DECIMAL_WRITTEN = re.compile(r"\s*([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*")
#: A mobile number (after +86, 86 or 0086, or alone) or an ID card number written as one run of
#: digits inside a longer text, not glued to letters before it (S13001000001 and
#: NCT063750050010010001 are site codes), nor the digits after a decimal point (0.16666666667).
_RUN_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][.,])"
    r"(?:(?:\(?\+?\s?86\)?\s?|0086)?1[3-9][0-9]{9}|[0-9]{17}[0-9Xx])(?![0-9])"
)
#: A mobile number (after +86, 86 or 0086) in its groups of 3, 4 and 4 digits, or a mainland ID
#: card number in groups of 6, 8 and 4 or 6, 4, 4 and 4, each group apart by one space or
#: hyphen (the same throughout), inside a longer text and not glued to a code's letters,
#: digits or hyphens.
_GROUPED_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z\-])(?:(?:\(?\+?86\)?[ \-]?|0086[ \-]?)?1[3-9][0-9]([ \-])[0-9]{4}\1[0-9]{4}"
    r"|[1-9][0-9]{5}([ \-])(?:[0-9]{8}|[0-9]{4}\2[0-9]{4})\2[0-9]{3}[0-9Xx]"
    # a Taiwan mobile, 0912-345-678
    r"|09[0-9]{2}([ \-])[0-9]{3}\3[0-9]{3})"
    r"(?![0-9A-Za-z]|-[0-9A-Za-z])(?!\s*(?:mg|ml|U/L|IU|mmol|µmol|umol|%|/L|×|x\s?10|cells))"
)
#: A mobile number in its usual groups inside a code, after the code's letters or digits and
#: a hyphen, point or underscore (SYN-138-1234-5678, A-138.1234.5678, SYN01_0912-345-678;
#: groups apart by spaces are a text's, found there: PLT 135 1200 1500): no site numbers its
#: candidates in a mobile's groups, and the number is read whole from the code. Groups glued
#: to a letter (S138 1234 5678), or that run on into more digits (12 138-1234-5678-9), stay a
#: code's, as a letter glued to a run of digits does (S13001000001).
_MOBILE_IN_CODE = re.compile(
    r"(?<=[A-Za-z0-9][-_./])"
    r"(?:1[3-9][0-9]([-.])[0-9]{4}\1[0-9]{4}|09[0-9]{2}([-.])[0-9]{3}\2[0-9]{3})"
    r"(?![0-9]|[-.][0-9])"
)
#: An e-mail address anywhere in a text, in any script (张三@例子.中国), not a part of a path
#: (/home/jsmith@corp.example.com/cases is a folder) nor of a git revision (HEAD@{1}).
_EMAIL_IN_TEXT = re.compile(
    r"(?<![\w/\\.%+\-])[\w.%+\-]+@[\w\-]+(?:[.。．][\w\-]+)*[.。．]"
    # a dose's route or frequency after "@" is no domain (20 mg@tid.po)
    r"(?!(?i:po|iv|im|ih|sc|sq|sl|pr|id|qd|qw|qn|qod|bid|tid|qid|prn|hs|od|os|ou|ac|pc|st"
    r"|ivgtt|ivd|inh|neb|top|gtt)(?![\w\-]))"
    r"(?:[A-Za-z]{2,}|中国|中國|公司|网络|網絡|香港|台湾|台灣|澳门|澳門|新加坡|在线|集团|政务|公益|移动|信息)"
    r"(?![\w/\\\-])"
)
#: In a free text, also: a mobile or ID card number glued to a word that names it
#: (Tel13812345678, ID110101197806140010; glued to other letters it is a code, S13001000001), a
#: mobile number in groups with any separators ((138) 1234-5678, 138_1234_5678, 138。1234。5678),
#: a number dialled abroad (+44 7700 900123) and a Chinese landline with or without its country
#: code ((010)65123456, 86-10-65123456). Never digits after a decimal point (0.16666666667).
_PHONE_WORDS = (
    r"(?i:telephone|tel|phone|mobile|mob|cellphone|cell|call|contact|ph|fax|wechat|wx|id|no|nr"
    r"|num|number)[.:#]?\s?"
)
# (no comma or tilde: a lab trend, CK 150~1000~2000, IgG 150, 1200, 1250, is written so)
_SEPARATOR = r"\s*[_.\-/:。ー]?\s*"
_SEPARATOR_NO_SLASH = r"\s*[_.\-:。ー]?\s*"
_IN_FREE_TEXT = (
    # a Taiwan mobile as one run inside a text (Tel 0912345678)
    re.compile(r"(?<![0-9A-Za-z])(?<![0-9][.,])09[0-9]{8}(?![0-9])"),
    re.compile(
        rf"(?<![0-9A-Za-z]){_PHONE_WORDS}(?:(?:\+?86|0086)?1[3-9][0-9]{{9}}|[0-9]{{17}}[0-9Xx])"
        r"(?![0-9])"
    ),
    # a mobile number after a word naming it, in groups of 3-4-4 or 4-3-4, any separators
    re.compile(
        rf"(?<![0-9A-Za-z]){_PHONE_WORDS}\(?(?:1[3-9][0-9]\)?{_SEPARATOR}[0-9]{{4}}"
        rf"|1[3-9][0-9]{{2}}\)?{_SEPARATOR}[0-9]{{3}}){_SEPARATOR}[0-9]{{4}}(?![0-9])"
    ),
    # alone, in groups of 3-4-4 without a slash, and no unit after it: values written in a row
    # (CK 150/1200/1250 U/L, 1500-750-1000 mg/day) are a lab trend or a dose schedule
    re.compile(
        rf"(?<![0-9A-Za-z])(?<![0-9][.,])\(?1[3-9][0-9]\)?{_SEPARATOR_NO_SLASH}[0-9]{{4}}"
        rf"{_SEPARATOR_NO_SLASH}[0-9]{{4}}(?![0-9])(?!\s*(?i:mg|g\b|ml|u/l|iu|mmol|µmol|umol|%|/l"
        r"|×|x\s?10|cells|mcg|µg))"
    ),
    # a number dialled abroad (+44 7700 900123, 0044 20 7946 0958), never a run of decimals
    # (+1 2.5 3.1 4.6) nor digits after a point (0.00125)
    re.compile(r"(?<![0-9A-Za-z.])(?:\+|00)[1-9](?:[ \-()]{0,2}[0-9]|\.[0-9]{2,}){7,14}(?![0-9])"),
    # a Chinese landline, with or without its country code ((010)65123456, 86-10-65123456)
    re.compile(
        rf"(?<![0-9A-Za-z\-])(?:(?:\+?86|0086)[ .\-]?\(?0?{_AREA}|\(?0{_AREA})\)?[ .\-]?{_LOCAL}"
        r"(?![0-9])"
    ),
    # an ID card number of 15 digits (an old card: its six-digit birth date a real day)
    re.compile(
        r"(?<![0-9])[1-8][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}"
        r"(?![0-9])"
    ),
    # an area code in brackets before a local number ((415) 555-2671, (02) 2345-6789): no
    # dose or lab trend is written so
    re.compile(
        r"(?<![0-9A-Za-z])\((?:0[1-9][0-9]{0,3}|[1-9][0-9]{1,3})\)\s?[0-9]{3,4}[ .\-]?[0-9]{4}"
        r"(?![0-9])"
        r"(?!\s*(?i:mg|g\b|ml|u/l|iu|mmol|µmol|umol|%|/l|×|x\s?10|cells|mcg|µg))"
    ),
    # a North American number with points (415.555.2671; with hyphens or spaces it is a
    # dose schedule as often, 500-500-1000), a Taiwan mobile after its country code without
    # + (886 912 345 678), a British mobile (07700 900123) and a French number in its five
    # pairs (06 12 34 56 78)
    re.compile(r"(?<![0-9A-Za-z.])[2-9][0-9]{2}\.[2-9][0-9]{2}\.[0-9]{4}(?![0-9]|\.[0-9])"),
    re.compile(r"(?<![0-9A-Za-z])(?<![0-9][.,])886([ \-]?)9[0-9]{2}\1[0-9]{3}\1[0-9]{3}(?![0-9])"),
    re.compile(r"(?<![0-9A-Za-z])(?<![0-9][.,])07[0-9]{3} ?[0-9]{6}(?![0-9])"),
    re.compile(
        r"(?<![0-9A-Za-z])(?<![0-9][.,])0[1-9]([ .\-])[0-9]{2}(?:\1[0-9]{2}){3}(?![0-9])"
        r"(?!\s*(?i:mg|g\b|ml|u/l|iu|mmol|µmol|umol|%|/l|×|x\s?10|cells|mcg|µg))"
    ),
    # a North American number after a word naming it (Tel:(415) 555-0123)
    re.compile(
        rf"(?<![0-9A-Za-z]){_PHONE_WORDS}\s*\(?[2-9][0-9]{{2}}\)?[ .\-]?[2-9][0-9]{{2}}[ .\-]"
        r"[0-9]{4}(?![0-9])"
    ),
)
#: A calendar date or month inside a text (2024-12-01, 2024.1.15, 01-12-2024, 15.01.2025,
#: 2024年12月1日, 2024.12).
_DATES_IN_TEXT = re.compile(
    r"(?<![0-9])(?:(?:19|20)[0-9]{2}(?:([-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])"
    r"|年(?:0?[1-9]|1[0-2])月(?:0?[1-9]|[12][0-9]|3[01])日?)"
    r"|(?:0?[1-9]|[12][0-9]|3[01])([-./])(?:0?[1-9]|1[0-2])\2(?:19|20)[0-9]{2}"
    r"|(?:19|20)[0-9]{2}[-./](?:0?[1-9]|1[0-2]))(?![0-9])"
)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def _an_address(found: re.Match[str]) -> bool:
    """Whether an e-mail-shaped match is an address, not a dose "at" its route (500mg@qd)."""
    local = found.group().split("@", 1)[0]
    return not re.search(r"[0-9](?:\.[0-9]+)?\s*(?i:mg|g|ml|mcg|µg|ug|iu|u|mmol|%)$", local)


def _free_text_match(pattern: re.Pattern[str], text: str) -> bool:
    """Whether a pattern finds a number in a text other than a run of times of day."""
    return any(not _all_times(found.group()) for found in pattern.finditer(text))


def _ascii_digits(text: str) -> str:
    """Every character that is a digit written as the ASCII digit: any script's decimal
    digits, and the circled, parenthesized, dotted, superscript and dingbat ones (①, ⑴, ⒈,
    ¹, ➀, ❶, ⓵), which a number may be typed in to pass a check."""
    return "".join(
        str(unicodedata.digit(c))
        if not c.isascii() and unicodedata.digit(c, None) is not None
        else c
        for c in text
    )


#: A Hong Kong identity card number as it is written: one or two letters, six digits and the
#: check digit in brackets.
_HONG_KONG = re.compile(r"\s*[A-Za-z]{1,2} ?[0-9]{6} ?\([0-9Aa]\)\s*")
_CARD_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2} ?[0-9]{6} ?\([0-9Aa]\)")
#: Dashes and dots between a number's groups, as a word processor writes them.
_SEPARATORS = str.maketrans(
    {**dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"), "\u00b7": "."}
)


def _whole_number(text: str) -> str | None:
    """The digits of a whole number written with an exponent or a trailing point
    (1.3812345678E+10 is 13812345678), or None."""
    found = _DECIMAL_WRITTEN.fullmatch(text)
    if found is None or (found.group(2) is None and not found.group(1).endswith(".")):
        return None
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(found.group(1) + (found.group(2) or ""))
    except InvalidOperation:
        return None
    # as precise as a phone number is (13.5e9 cells/L is a count, 1.3812345678e10 is not)
    if significant_digits(found.group(1)) < 9:
        return None
    if value != value.to_integral_value() or not 0 < value < 10**20:
        return None
    return str(int(value))


_POINT_ZERO = re.compile(r"^(\s*\+?[0-9]+)\.0+(\s*)$")


def _without_point_zero(text: str) -> str:
    """Digits written as a double writes a whole number (13812345678.0, 19780614.0) as the
    digits alone: what a spreadsheet's number cell becomes in a CSV."""
    return _POINT_ZERO.sub(r"\1\2", text) if ".0" in text else text


def national_id_card(text: str) -> bool:
    """Whether a text is a Hong Kong identity card number as it is written, its check digit in
    brackets (A123456(3)); the mainland's 18 digits are found with the phone numbers. Without
    the brackets, and Taiwan's letter and nine digits, the shape is a site's code as often (a
    check digit matches one code in ten or eleven: P0000004, S100000006): those stay IDs.

    >>> [national_id_card(t) for t in ("A123456(7)", "AB987654(1)", "A 123456 (3)")]
    [True, True, True]
    >>> [national_id_card(t) for t in ("A1234563", "A123456789", "P0000004", "SYN-C000001")]
    [False, False, False, False]
    """
    return _HONG_KONG.fullmatch(text) is not None


#: English month names and their three-letter forms (a site's dates are written so, and SAS
#: writes 14JUN1978), never the machine's locale.
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_NUMBERS = {
    **{full: number for number, full in enumerate(_MONTHS, start=1)},
    **{full[:3]: number for number, full in enumerate(_MONTHS, start=1)},
    "sept": 9,
}


def _numpy_date(raw: Any) -> bool:
    """Whether ``raw`` is numpy's date (a Parquet or pandas cell). numpy is looked up, not
    imported: a value of its kind exists only where numpy is loaded already, and a one-record
    command never loads it (about a sixth of its time)."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(raw, numpy.datetime64)


def date_in_an_id_cell(raw: Any) -> bool:
    """Whether an ID cell that is not an ID as written (it is refused) holds a date: a date
    cell of a workbook or a Parquet file, a number of eight digits that reads as one, or text a
    reader takes for a date in any common form (a two-digit year, a month by its name in
    English, French, German or Spanish, a weekday, an ordinal, a time of midnight after it,
    1978年6月14日). Its text is then not shown in any message or file: a birth date identifies
    a person."""
    if isinstance(raw, dt.date) or _numpy_date(raw):  # datetime and pandas' Timestamp included
        return True
    if isinstance(raw, float) and raw.is_integer():  # a Parquet ID column of doubles
        raw = str(int(raw))
    if not isinstance(raw, str):
        return False
    text = _without_point_zero(raw).strip().casefold()
    # a time after the day (how a spreadsheet's datetime is exported): the day decides
    text = re.sub(
        r"[ t][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:z|[+-][0-9:]+)?$", "", text
    )
    text = text.rstrip(".")
    if date_shaped_id(text) or date_shaped_id(text.replace("_", "-")):
        return True
    found = re.fullmatch(r"([0-9]{2}|[0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日?", text)
    if found:
        return _a_day(*found.groups())
    parts = [part for part in re.split(r"[\s,./_-]+", text) if part]
    parts = [re.sub(r"^([0-9]{1,2})(?:st|nd|rd|th|er|e)$", r"\1", part) for part in parts]
    parts = [part for part in parts if part not in _WEEKDAYS]
    if len(parts) != 3 or not all(part.isalnum() for part in parts):
        return False
    named = [part for part in parts if part in _ANY_MONTH]
    if len(named) == 1:
        month = str(_ANY_MONTH[named[0]])
        day, year = [part for part in parts if part is not named[0]]
        if len(day) > 2:  # the year first: 1978 Jun 14
            day, year = year, day
        return day.isdigit() and year.isdigit() and len(year) in (2, 4) and _a_day(year, month, day)
    if not all(part.isdigit() for part in parts):
        return False
    first, middle, last = parts
    readings = [(first, middle, last), (last, middle, first), (last, first, middle)]
    return any(
        len(year) in (2, 4) and len(month) <= 2 and len(day) <= 2 and _a_day(year, month, day)
        for year, month, day in readings
    )


#: Month names a refused ID may be written with, besides English: French, German and Spanish
#: names in full, and Roman numerals (14-VI-1978).
_ANY_MONTH = {
    **_MONTH_NUMBERS,
    **{
        name: number
        for names in (
            "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
            "januar februar märz april mai juni juli august september oktober november dezember",
            "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
            "diciembre",
        )
        for number, name in enumerate(names.split(), start=1)
    },
    **{
        name: number
        for number, name in enumerate(
            ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"), start=1
        )
    },
}
_WEEKDAYS = frozenset(
    (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    )
)


def _a_day(year: str, month: str, day: str) -> bool:
    """Whether year, month and day (digits; a year of two digits in either century) name a
    day of the calendar."""
    try:
        dt.date(int(year) if len(year) == 4 else 2000 + int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def date_shaped_id(written: str) -> bool:
    """Whether an ID is written as a calendar date with a four-digit year, read any way such a
    date is written: year first (1978-06-14, 1978.6.14, 19780614) or day or month first before
    the year (14.6.1978, 06-14-1978). The separators must be one and the same. A two-digit
    year (10-01-05) and eight digits ending in the year (01012001) are as often a site's
    codes (site, cohort, subject): those stay IDs, as any other code does (2024-0001)."""
    written = _without_point_zero(written).removesuffix(".")  # 19780614.0, 1978.06.14.
    if "_" in written and not re.search(r"[./-]", written):  # 14_06_1978: the same, by _
        written = written.replace("_", "-")
    named = _named_month(written)
    if named is not None:
        return named
    parts = re.split(r"[./-]", written)
    if not all(part.isascii() and part.isdigit() for part in parts):
        return False  # letters or an empty part (A000..0): a code, never a date
    if len(parts) == 1:
        if len(written) != 8 or not written.isdigit():
            return False
        readings = [(written[:4], written[4:6], written[6:])]
    elif len(parts) == 3 and len(set(re.findall(r"[./-]", written))) == 1:
        first, middle, last = parts
        if len(first) == 4 and len(middle) <= 2 and len(last) <= 2:
            readings = [(first, middle, last)]
        elif len(last) == 4 and len(first) <= 2 and len(middle) <= 2:
            readings = [(last, middle, first), (last, first, middle)]
        else:
            return False
    else:
        return False
    for year, month, day in readings:
        if not 1880 <= int(year) <= 2100:  # a year a person's dates fall in: 01-02-0003 is a code
            continue
        try:
            dt.date(int(year), int(month), int(day))
        except ValueError:
            continue
        return True
    return False


def _named_month(written: str) -> bool | None:
    """For an ID with a month's name between digits, whether it is a calendar date: with a
    four-digit year (14-Jun-1978, Jun-14-1978, 1978-Jun-14, 14JUN1978, 14-VI-1978), or a
    two-digit one after the day (14-Jun-78, 14JUN78: a spreadsheet's and SAS's short forms;
    Jun-14-78 may be a site's code); None when no month is named (the numeric forms decide)."""
    found = re.fullmatch(
        r"([0-9]{1,4})([./-]?)([A-Za-z]{1,9})\2([0-9]{1,4})"
        r"|([A-Za-z]{3,9})([./-]?)([0-9]{1,2})\6([0-9]{4})",
        written,
    )
    if found is None:
        return None
    if found.group(1) is not None:
        before, name, after = found.group(1), found.group(3), found.group(4)
    else:
        before, name, after = found.group(7), found.group(5), found.group(8)
    month = _ANY_MONTH.get(name.lower())
    if month is None:
        return False
    if len(name) < 3 and (found.group(2) in ("", None) or 4 not in (len(before), len(after))):
        return False  # a Roman month only between separators, with its year: 1V23 is a code
    if len(before) == 4 and len(after) <= 2:  # 1978-Jun-14
        year, day = before, after
    elif len(after) == 4 and len(before) <= 2:  # 14-Jun-1978, Jun-14-1978
        year, day = after, before
    elif found.group(1) is not None and len(before) <= 2 and len(after) == 2:  # 14-Jun-78
        return _a_day(after, str(month), before)
    else:
        return False
    # a year a person's dates fall in: DEC-01-0001 is a site's code (site, cohort, number)
    return 1880 <= int(year) <= 2100 and _a_day(year, str(month), day)


#: A date with a four-digit year inside a longer code (SYN-1978-06-14, SYN19780614,
#: D14.06.1978, SYN-14JUN1978), and a mainland ID card number glued to a code's letters
#: (A110101199003071234): 18 characters holding a birth date. Each found piece is read as
#: :func:`date_shaped_id` reads a whole ID.
_DATE_INSIDE = re.compile(
    r"(?<![0-9])(?:[0-9]{4}([./_-])[0-9]{1,2}\1[0-9]{1,2}|[0-9]{1,2}([./_-])[0-9]{1,2}\2[0-9]{4}"
    r"|[0-9]{8}|[0-9]{1,2}[./-]?[A-Za-z]{3,9}[./-]?[0-9]{2,4}"
    # the month's name first (JUN-14-1978), or after the year (1978-JUN-14, 1978JUN14)
    r"|[A-Za-z]{3,9}[./-]?[0-9]{1,2}[./-]?[0-9]{4}|[0-9]{4}[./-]?[A-Za-z]{3,9}[./-]?[0-9]{1,2})"
    r"(?![0-9])"
)
#: the mainland's ID card number: 18 characters with the birth date's 8 digits, or the older
#: 15 digits with its 6 (YYMMDD)
_CARD_INSIDE = re.compile(
    r"(?<![0-9])[0-9]{6}(?:(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx]|[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3})(?![0-9])"
)
#: Texts a spreadsheet or a database writes for no value (lower case), never a code.
PLACEHOLDER_CODES = frozenset(
    {
        "na",
        "n/a",
        "n.a.",
        "nan",
        "nat",
        "none",
        "null",
        "nil",
        "true",
        "false",
        # a yes/no answer (YAML 1.1's booleans among them) in the ID's place: a column mixed
        # up or a flag, never a site's code
        "yes",
        "no",
        "on",
        "off",
        "#n/a",
        "-",
        "--",
        "?",
        "undefined",
        "missing",
        "unknown",
        "empty",
        "blank",
    }
)


def personal_data_inside(code: str) -> bool:
    """Whether a code holds a birth date or an ID card number among its other characters:
    a calendar date with a four-digit year (or a month's name), as :func:`date_shaped_id`
    reads one, or an ID card number's 18 characters, glued to letters or between separators.
    A code made to carry a date (a screening day) is refused with it: which date it is cannot
    be told, and a birth date there identifies a person. Runs of digits that are no day of the
    calendar stay codes (SYN-2024-0001, S13001000001, SITE-13-001-000001).

    >>> [personal_data_inside(c) for c in ("SYN-1978-06-14", "SYN19780614", "SYN-14JUN1978")]
    [True, True, True]
    >>> [personal_data_inside(c) for c in ("A110101199003071234", "SYN-2024-0001", "P00012")]
    [True, False, False]
    """
    if _CARD_INSIDE.search(code):
        return True
    return any(date_shaped_id(found.group()) for found in _DATE_INSIDE.finditer(code))


# -- what a message may show back of a refused text ---------------------------------------------


#: The whole values a refused cell may hold and still be shown back (so the site sees what to
#: change): the columns' own values, their short forms and other languages' words for them,
#: and a lab's or a test's words. A text with letters is shown only when it is one of these as
#: a whole, or a number with a laboratory unit, or a date with its month's name: a name, an
#: address or a nickname is withheld, even one made of such words (Donna May, Po Man).
_VALUE_TEXTS = frozenset(
    {
        *("y", "n", "t", "f", "m", "w", "x", "yes", "no", "true", "false", "fem", "femme"),
        *("female", "male", "woman", "man", "weiblich", "männlich", "mujer", "hombre"),
        *("femenino", "masculino", "féminin", "masculin", "feminino", "donna", "uomo"),
        *("pos", "neg", "positive", "negative", "positif", "négatif", "positivo", "negativo"),
        *("positiv", "negativ", "detected", "not detected", "not done", "not tested"),
        *("pending", "unknown", "unk", "na", "n/a", "nd", "n.d.", "nil", "null", "none"),
        *("nan", "missing", "normal", "abnormal", "equivocal", "indeterminate", "reactive"),
        *("non-reactive", "resolved", "active", "chronic", "latent", "low", "high"),
        *("intermediate", "low risk", "high risk", "intermediate risk", "intermediate-high"),
        *("moderate", "mild", "severe", "blood", "urine", "serum", "plasma", "hemolysed"),
        *("haemolysed", "hemolyzed", "clotted", "insufficient", "repeat", "see note"),
        *("hbsag neg", "hbsag pos", "igra negative", "igra positive", "oral", "iv", "im"),
        *("女", "男", "女性", "男性", "是", "否", "有", "无", "阳性", "阴性", "阳性(+)"),
        *("阴性(-)", "弱阳性", "可疑", "未知", "未做", "未查", "待查", "不详", "正常", "异常"),
        *("高危", "中危", "低危", "血清", "尿"),
    }
)
#: A spreadsheet's error values (a formula that failed), shown as they are.
_SPREADSHEET_ERRORS = frozenset(
    {"#n/a", "#value!", "#ref!", "#div/0!", "#name?", "#null!", "#num!", "#spill!", "#calc!"}
)
#: How a workbook's date cell whose number is no date (Excel shows ####) is given to its field.
NOT_A_DATE_NUMBER = " (a date cell whose number is no date: ####)"
#: How a cell of a workbook's merged cell after its first is given to its field: "(merged with
#: D2)", the first cell's place.
MERGED_WITH = "(merged with "
#: A number as a site writes it by mistake (12,5; <0.5; 1.2e3; 150 000), with a laboratory
#: unit after it or none; a date in digits (2024-02-30, 30.02.2024) or with its month's name
#: (30-Feb-2024)
_NUMBER_SHOWN = re.compile(
    r"[<>≤≥~±+\-]?\s*\d[\d.,' ]*(?:[eE][+-]?[0-9]+)?\s*"
    r"(?:(?:g|mg|µg|ug)/(?:dl|l)|(?:mmol|µmol|umol|mol)/l|(?:u|iu|kat|µkat|ukat)/l|%"
    r"|(?:x|×)\s*10\^?[0-9⁰-⁹]+/l|10\^[0-9]+/l|/(?:µl|ul|mm3|mm³)|cells/l"
    r"|ml/min(?:/1\.73\s*m[²2])?"
    # a dose, in a mass unit (a medicine's "10 MG" was withheld as a name in capitals)
    r"|g|mg|µg|μg|ug|mcg)?"
)
_DATE_SHOWN = re.compile(
    r"[0-9]{4}([-/.])[0-9]{1,2}\1[0-9]{1,2}|[0-9]{1,2}([-/.])[0-9]{1,2}\2(?:[0-9]{2}|[0-9]{4})"
    r"|[0-9]{1,2}[-/ ]?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[-/ ]?"
    r"(?:[0-9]{2}|[0-9]{4})"
)


def date_shaped(text: str) -> bool:
    """Whether a text is written as a calendar date (``1978/06/14``, ``14-Jun-1978``), in any
    width of its digits."""
    return bool(
        _DATE_SHOWN.fullmatch(" ".join(unicodedata.normalize("NFKC", text).split()).lower())
    )


#: The most digits a refused text may hold and be shown: a date's 8 (a phone or card number has
#: more, or is glued to letters); a number without a date's shape, 6
_MOST_DIGITS_SHOWN = 8


def value_like(text: str, unit: bool = False) -> bool:
    """Whether a refused text reads as a column's value mistyped, shown back to the site: one
    of the known values as a whole (``F``, ``Weiblich``, ``low risk``, ``阴性(-)``,
    ``#N/A``), a number as a site writes one by mistake (``12,5``, ``12.5 g/dL``, ``<0.5``),
    or a date (``2024-02-30``, ``30-Feb-2024``). Anything else may name a person (``Zhang
    Wei``, ``Donna May``, ``9123 4567``, ``E12345678``, a formula's text) and no message or file
    repeats it. ``unit``: a unit column's cell, shown only as one of the laboratory's units
    written otherwise (a word pint knows may be a surname: Gray, Newton)."""
    # (full-width digits and signs, as a Chinese input method types them, read as their ASCII
    # forms: a date typed ２０２５-03-03 is shown back as a date, a name in any width is not)
    written = " ".join(unicodedata.normalize("NFKC", text).split())
    stripped = written.lower()
    if stripped.endswith(NOT_A_DATE_NUMBER):  # (the table's own words, beside a day count)
        return stripped.removesuffix(NOT_A_DATE_NUMBER).isdigit()
    if stripped in _SPREADSHEET_ERRORS or stripped in _VALUE_TEXTS:
        return True
    if re.fullmatch(re.escape(MERGED_WITH) + r"[a-z]{1,3}[0-9]{1,7}\)", stripped):
        return True  # (the table's own words: where the merged cell's value is)
    digits = sum(c.isdigit() for c in stripped)
    if _DATE_SHOWN.fullmatch(stripped):
        return digits <= _MOST_DIGITS_SHOWN
    if _NUMBER_SHOWN.fullmatch(stripped):
        return digits <= 6
    if stripped.startswith("="):  # a formula of numbers alone (=100+20): no name in it
        return bool(re.fullmatch(r"=[0-9+\-*/^(). ]+", stripped)) and digits <= 6
    if not any(c.isalpha() for c in stripped):
        # signs without a letter (a neutrophil count's unit typed '%', a '-' for none) name no
        # one; more digits than a value has may be a phone's
        return digits <= 6
    # a unit column's unit written otherwise (g/furlong, mg/mL), but not a name around a
    # slash (Donna/May, ZhangWei/L: a capital and then small letters, as no lab unit is
    # written; one all in small letters, a unit's way, is shown)
    return (
        unit
        and digits <= 4
        and bool(_UNIT_SHOWN.fullmatch(stripped))
        and not NAME_SHAPED.search(written)
    )


_UNIT_SHOWN = re.compile(r"[a-zµμ0-9^.·×*%³² ]{1,8}/[a-zµμ0-9^.·×*%³² /]{1,12}")
#: A word as a name is written, a capital and two small letters at least (Maria, Wei, May);
#: units write capitals alone or last (L, IU, mL, dL, mmol/L).
NAME_SHAPED = re.compile(r"[A-Z][a-z]{2,}")


def field_name_like(key: str) -> bool:
    """Whether an unknown key of a person's document reads as a field's name mistyped, shown
    back: small ASCII letters, digits and ``_ . -``, as every field's name is written (``sexx``,
    ``labs_igg``), or a criterion's ID (``EX31``). A key with a capital or a letter of another
    script may name a person (``Zhang Wei``, ``ZHANG``, ``Wu``, ``张伟``).

    >>> [field_name_like(k) for k in ("sexx", "birth_dat", "EX31", "Zhang Wei", "ZHANG", "张伟")]
    [True, True, True, False, False, False]
    """
    return bool(re.fullmatch(r"[a-z0-9_.\-]{1,40}", key) or re.fullmatch(r"(?:IN|EX)[0-9]{2}", key))
