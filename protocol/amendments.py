"""What changed between two versions of study.yaml, and whom it affects (`trialbook diff`).

Three parts, each derived from the two files, never typed:

- **facts**: every value that differs, by its YAML path, with the old and new value. Quantities
  are compared in units (``4 week`` and ``28 day`` are the same window); a change of where a
  fact comes from (provenance, registry field, quote, source, note) is reported as such.
- **criteria**: added, removed and renumbered criteria, and the word-level differences of a
  criterion's text.
- **impact**: records screened under both versions, each record whose verdict or any
  criterion's status changes, with both reasons.

A version is a file, or a git revision (``HEAD~3``) whose ``protocol/study.yaml`` is read with
``git show``. Each version's schema is validated; a version that disagrees with the stored
registry record is still compared (an amendment reaches the registry later), and the
disagreements are reported as part of the change.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pint
import yaml

from protocol.documents import MAX_BYTES, parse_yaml_text, read_text_file
from protocol.errors import Problem, ProtocolDataError
from protocol.labs import BOUNDARY_TOLERANCE
from protocol.reports import markdown_cell
from protocol.study import STUDY_PATH, Study, load_study

REPO = STUDY_PATH.parents[1]
PROVENANCE_KEYS = ("provenance", "registry_field", "quote", "source", "note")


@dataclass(frozen=True)
class Version:
    """One version of the protocol: where it was read from, its data and its validated study."""

    name: str  # the file or revision as given
    data: dict[str, Any]
    study: Study
    registry_disagreements: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        version = self.study.protocol_version
        return version.label if version else "no version recorded"


@dataclass(frozen=True)
class FactChange:
    path: str  # the YAML path, e.g. lab_analytes[0].threshold.value
    old: Any
    new: Any
    kind: str  # "value", "provenance", "added" or "removed"


@dataclass(frozen=True)
class CriterionChange:
    id: str
    kind: str  # "added", "removed", "renumbered" or "text"
    old: str = ""
    new: str = ""
    words: str = ""  # the text's word-level differences: [-old-] {+new+}


@dataclass(frozen=True)
class ImpactChange:
    record: str  # the record file's name
    participant: str
    old_verdict: str
    new_verdict: str
    criteria: tuple[tuple[str, str, str, str, str], ...]  # (id, old status, new, old reason, new)


@dataclass(frozen=True)
class DateMove:
    """A date a version change moves: a washout's first allowed date, or a visit or dose."""

    where: str  # the record and entry, or the arm
    what: str
    old: str
    new: str


@dataclass
class Diff:
    old: Version
    new: Version
    facts: list[FactChange] = field(default_factory=list)
    criteria: list[CriterionChange] = field(default_factory=list)
    impact: list[ImpactChange] = field(default_factory=list)
    records_screened: int = 0
    dates: list[DateMove] = field(default_factory=list)  # washout and calendar dates that move

    @property
    def changed(self) -> bool:
        # a disagreement with the registry record that one version has and the other has not
        # is part of the change (a reordered list the facts compare as the same is not one)
        disagreements = self.old.registry_disagreements != self.new.registry_disagreements
        return bool(self.facts or self.criteria or self.impact or self.dates or disagreements)


# -- reading a version --------------------------------------------------------------------------


def read_version(spec: str, check_registry: bool = True) -> Version:
    """A version from a file, or from a git revision of the project's protocol/study.yaml.

    Raises ProtocolDataError (exit 2) naming the version: a file that is not a study, an
    unknown revision, a version that fails validation.
    """
    path = Path(spec)
    try:
        is_file = path.is_file()
    except OSError as exc:  # a name too long for the system (over 255 bytes a part)
        raise ProtocolDataError(
            spec[:80] + ("…" if len(spec) > 80 else ""),
            [
                Problem(
                    "a study file or a git revision",
                    found=f"a name the system cannot look up ({exc.strerror or exc})",
                )
            ],
        ) from None
    if is_file:
        if os.sep not in spec and "/" not in spec and _is_revision(spec):
            # as git does: a name that is both a file here and a revision is ambiguous
            raise ProtocolDataError(
                spec,
                [
                    Problem(
                        f"one meaning: write ./{spec} for the file, or the revision another way "
                        f"({spec}~0)",
                        found="both a file here and a git revision",
                    )
                ],
            )
        return _validated(spec, path, check_registry)
    if os.path.lexists(spec) and not path.is_file():
        raise ProtocolDataError(spec, [Problem("a study.yaml file", found="not a regular file")])
    text = _git_show(spec)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "study.yaml"
        copy.write_bytes(text)
        return _validated(spec, copy, check_registry)


def _git_show(revision: str) -> bytes:
    if revision.startswith("-") or not revision.strip():  # never an option to git
        raise ProtocolDataError(
            revision, [Problem("a study.yaml file or a git revision", found="neither")]
        )
    if ":" in revision:
        raise ProtocolDataError(
            revision,
            [
                Problem(
                    "a git revision alone (HEAD~3, a tag, a commit); the file is always "
                    "protocol/study.yaml",
                    found="a revision with a path",
                )
            ],
        )
    if ".." in revision:  # git shows nothing for a range, which would read as an empty study
        raise ProtocolDataError(
            revision,
            [
                Problem(
                    "one git revision (HEAD~1, a tag, a commit): OLD and NEW are given apart",
                    found="a range of revisions",
                )
            ],
        )
    relative = STUDY_PATH.relative_to(REPO).as_posix()
    try:
        shown = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{revision}:{relative}"],
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProtocolDataError(
            revision, [Problem("a git revision git can show", found=f"git failed ({exc})")]
        ) from None
    if shown.returncode != 0:
        said = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        ambiguous = [line for line in said if "ambiguous" in line]
        raise ProtocolDataError(
            revision,
            [
                Problem(
                    f"a study.yaml file or a git revision of {relative}",
                    found="a short commit name git finds ambiguous; give more of it"
                    if ambiguous
                    else "no such file, and git knows no such revision",
                )
            ],
        )
    return shown.stdout


def _is_revision(name: str) -> bool:
    """Whether git names a commit so (never read as an option: no leading dash)."""
    if name.startswith("-"):
        return False
    try:
        found = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"],
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0


def _validated(name: str, path: Path, check_registry: bool) -> Version:
    # read as load_study reads a study (libyaml where it reads the text as PyYAML does: PyYAML's
    # own parser took half a second for each version compared)
    data, _node = parse_yaml_text(read_text_file(path, MAX_BYTES), str(path), fast=True)
    try:
        study = load_study(path)
    except ProtocolDataError as exc:
        raise ProtocolDataError(f"{name} (as a study.yaml)", exc.problems) from None
    disagreements: tuple[str, ...] = ()
    if check_registry:
        from protocol.registry_check import cross_check

        disagreements = tuple(str(m).splitlines()[0] for m in cross_check(study))
    return Version(name, data, study, disagreements)


# -- facts -------------------------------------------------------------------------------------


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for name, item in zip(_entry_names(value), value, strict=True):
            yield from _leaves(item, f"{path}[{name}]")
    else:
        yield path, value


def _entry_names(entries: list[dict[str, Any]]) -> list[str]:
    """Each entry by its identity; a name two entries share is told apart by its occurrence
    (``name=Research Site#2``), so neither hides the other. The first keeps the name alone: a
    second entry of a name is an entry added, not the first one renamed."""
    seen: dict[str, int] = {}
    out = []
    for index, entry in enumerate(entries):
        name = _entry_name(entry, index)
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def _entry_name(entry: dict[str, Any], index: int) -> str:
    """A list entry by its identity, not its position: an inserted entry moves no other."""
    for key in ("id", "name", "kind", "key", "label"):
        if isinstance(entry.get(key), str):
            return f"{key}={entry[key]}"
    return str(index)


def _as_quantity(value: Any) -> pint.Quantity | None:
    """A fact's text read as a quantity by study.yaml's own grammar (``4 week``, ``160mg``,
    ``2/day``, ``113.12 g/mol``). Nothing else is given to pint: a unit text is never evaluated
    (``9**9**9 hours`` stays text), and a code such as ``2024-0381`` is not a number."""
    from protocol.facts import quantity_text

    return quantity_text(value)


def _as_limit(value: Any) -> Any:
    """A threshold (``< 8.0 g/dL``) or a range (``1 to 25 g/dL``), read strictly, or None."""
    from protocol.facts import parse_range, parse_threshold

    if not isinstance(value, str) or value.strip()[:1] not in ("<", ">", *"0123456789"):
        return None
    for parse in (parse_threshold, parse_range):
        try:
            return parse(value)
        except (ValueError, TypeError):
            continue
    return None


def _close(a: pint.Quantity, b: pint.Quantity) -> bool:
    if a.dimensionality != b.dimensionality:
        return False
    try:
        # the labs' boundary tolerance: a threshold moved by more than a conversion's rounding
        # is a change (8.0 -> 8.000000005 g/dL flipped a verdict and read as no change)
        converted = a.to(b.units).magnitude
        return bool(abs(converted - b.magnitude) <= BOUNDARY_TOLERANCE * abs(b.magnitude))
    except pint.errors.PintError:
        return False


def same_value(old: Any, new: Any, key: str = "value") -> bool:
    """Equal, or the same quantity, threshold or range in other units (``4 week`` and
    ``28 day``, ``< 8.0 g/dL`` and ``< 80 g/L``). Where a fact comes from (quote, note, ...) is
    compared as text.

    >>> same_value("4 week", "28 day"), same_value("< 8.0 g/dL", "< 80 g/L"), same_value(9, 9)
    (True, True, True)
    >>> same_value("2024-0381", "2024-0382"), same_value("160mg per week", "0.16g per week")
    (False, False)
    """
    if old == new:
        return True
    if key in PROVENANCE_KEYS:
        return False
    a, b = _as_quantity(old), _as_quantity(new)
    if a is not None and b is not None:
        return _close(a, b)
    from protocol.facts import QuantityRange, Threshold

    x, y = _as_limit(old), _as_limit(new)
    if isinstance(x, Threshold) and isinstance(y, Threshold):
        return x.comparison == y.comparison and _close(x.quantity, y.quantity)
    if isinstance(x, QuantityRange) and isinstance(y, QuantityRange):
        return _close(x.low, y.low) and _close(x.high, y.high)
    return _same_iso_duration(old, new)


def _same_iso_duration(old: Any, new: Any) -> bool:
    """Two visit windows of the same length, read as study.yaml reads them (``P7D`` and
    ``P1W``: diff reported the change as one, and exited 1); a month is no number of days."""
    from protocol.study import _iso_duration

    if not (isinstance(old, str) and isinstance(new, str)):
        return False
    try:
        return _iso_duration(old) == _iso_duration(new)
    except ValueError:
        return False


def fact_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FactChange]:
    """Every leaf of the two files that differs, in the new file's order (removed ones last)."""
    before = dict(_leaves(old))
    after = dict(_leaves(new))
    changes = []
    for path, value in after.items():
        if path not in before:
            changes.append(FactChange(path, None, value, "added"))
        elif not same_value(before[path], value, key := path.rsplit(".", 1)[-1]):
            kind = "provenance" if key in PROVENANCE_KEYS else "value"
            changes.append(FactChange(path, before[path], value, kind))
    changes += [FactChange(p, v, None, "removed") for p, v in before.items() if p not in after]
    return changes


# -- criteria ----------------------------------------------------------------------------------


def _word_diff(old: str, new: str, context: int | None = None) -> str:
    """``old`` and ``new`` word by word: ``[-removed-]`` and ``{+added+}`` (git's word diff);
    with ``context``, only that many unchanged words either side of each change ("…" for the
    rest).

    >>> _word_diff("haemoglobin < 8.0 g/dL", "haemoglobin < 9.0 g/dL")
    'haemoglobin < [-8.0-] {+9.0+} g/dL'
    """
    a, b = old.split(), new.split()
    spacing = a == b and old != new  # the same words spaced otherwise: the spacing is the change
    if spacing:
        a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    words: list[str] = []
    codes = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(codes):
        if spacing and tag != "equal":  # the spacing that changed, each character named
            a, b = a[:i1] + [_named_spacing(t) for t in a[i1:i2]] + a[i2:], b
            b = b[:j1] + [_named_spacing(t) for t in b[j1:j2]] + b[j2:]
        if tag == "equal":
            same = [w for w in a[i1:i2] if not w.isspace()] if spacing else a[i1:i2]
            if context is None:
                words += same
            elif k == 0:  # before the first change: its last words
                words += (["…"] if len(same) > context else []) + same[-context:]
            elif k == len(codes) - 1:  # after the last change: its first words
                words += same[:context] + (["…"] if len(same) > context else [])
            elif len(same) > 2 * context:  # between two changes
                words += [*same[:context], "…", *same[-context:]]
            else:
                words += same
            continue
        if i2 > i1:
            words.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            words.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(words)


#: How a word diff names the spacing it shows (a no-break space is no space to the eye).
_SPACES = {" ": "(space)", "\n": "(line break)", "\t": "(tab)", "\r": "(carriage return)",
           "\xa0": "(no-break space)", "\u3000": "(ideographic space)"}  # fmt: skip


def _named_spacing(token: str) -> str:
    """A run of spacing by the names of its characters ("(no-break space)"); a word as it is."""
    if not token.isspace():
        return token
    return "".join(_SPACES.get(c, f"(U+{ord(c):04X})") for c in token)


def criterion_changes(old: Study, new: Study) -> list[CriterionChange]:
    """Added, removed, renumbered (the same text under another ID) and reworded criteria.

    In this order of precedence: a criterion with its ID and text is unchanged; one whose text
    an old criterion had under another ID, that one not unchanged, is renumbered from it;
    one whose ID was there is reworded; any other is added; an old criterion none of these
    claimed is removed. (Two criteria may share a text, EX26 and EX29: rewording one is a
    rewording, not an addition and a removal.)"""

    def words(text: str) -> str:
        return " ".join(text.split())

    before = {c.id: c.text for c in old.criteria}
    after = {c.id: c.text for c in new.criteria}
    unchanged = {
        cid for cid, text in after.items() if cid in before and words(before[cid]) == words(text)
    }
    claimed = set(unchanged)
    found: dict[str, CriterionChange] = {}
    for cid, text in after.items():
        if cid in unchanged:
            continue
        origin = next(
            (
                old_id
                for old_id, old_text in before.items()
                if old_id not in claimed and words(old_text) == words(text)
            ),
            None,
        )
        if origin is not None:
            claimed.add(origin)
            found[cid] = CriterionChange(cid, "renumbered", origin, cid)
    for cid, text in after.items():
        if cid in unchanged or cid in found:
            continue
        if cid in before and cid not in claimed:
            claimed.add(cid)
            found[cid] = CriterionChange(
                cid, "text", before[cid], text, _word_diff(before[cid], text)
            )
        else:
            found[cid] = CriterionChange(cid, "added", "", text)
    changes = [found[cid] for cid in after if cid in found]
    changes += [
        CriterionChange(cid, "removed", text, "")
        for cid, text in before.items()
        if cid not in claimed
    ]
    return changes


# -- impact ------------------------------------------------------------------------------------


def load_records(records: list[Path]) -> list[tuple[Path, Any]]:
    """Each record read, or every record that cannot be read named at once (a folder with
    three bad records names the three, not the first alone)."""
    from protocol.participant import load_record

    loaded, problems, failures = [], [], []
    for number, path in enumerate(records, start=1):
        try:
            loaded.append((path, load_record(path)))
        except ProtocolDataError as exc:
            if _shown_name(path) == NAME_WITHHELD:
                # named as the comparison names it, and found by its place in the folder
                where = f"{path.parent / NAME_WITHHELD} (record {number} of {len(records)})"
                exc = ProtocolDataError(where, exc.problems)
            failures.append(exc)
            problems += [Problem(str(p), path=exc.source) for p in exc.problems]
    if len(failures) == 1:  # one bad record: its own error, as screen gives it
        raise failures[0]
    if failures:
        raise ProtocolDataError("trialbook diff", problems)
    return loaded


#: What the comparison shows of a record file named otherwise than a pseudonymous code.
NAME_WITHHELD = "file name withheld: it may name a person"


def _shown_name(path: Path) -> str:
    """A record's file name as the comparison shows it: as it is where its stem reads as a
    pseudonymous code, as a participant code must (case01-eligible, SYN-04); else withheld, as
    the record's code would be. A site names its files after its patients ("Zhang Wei.yaml",
    "张伟.yaml"), and the Markdown comparison goes into amendment documents; the participant
    code beside it says which record it is."""
    from protocol.identifiers import CODE_PATTERN, identifying_code

    stem = path.stem
    if len(stem) <= 40 and re.fullmatch(CODE_PATTERN, stem) and not identifying_code(stem):
        return path.name
    return NAME_WITHHELD


def _label(record: str, participant: str) -> str:
    """A record as the text names it: its file and participant code ("case01-eligible.yaml
    (SYN-01)"), or the code first where the file's name is withheld."""
    if record == NAME_WITHHELD:
        return f"{participant} ({NAME_WITHHELD})"
    return f"{record} ({participant})"


def _record_label(path: Path, participant: str) -> str:
    return _label(_shown_name(path), participant)


def impact(old: Study, new: Study, records: list[Path]) -> list[ImpactChange]:
    """Each record whose verdict or any criterion's status changes, screened under both."""
    from protocol.screening import screen

    changes = []
    for path, record in load_records(records):
        before, after = _screened(screen, record, old, path), _screened(screen, record, new, path)
        if isinstance(before, str) or isinstance(after, str):
            old_verdict = before if isinstance(before, str) else before.verdict
            new_verdict = after if isinstance(after, str) else after.verdict
            if old_verdict != new_verdict:
                changes.append(
                    ImpactChange(
                        _shown_name(path), record.participant, old_verdict, new_verdict, ()
                    )
                )
            continue
        old_by_id = {c.id: c for c in before.criteria}
        moved = []
        for criterion in after.criteria:
            previous = old_by_id.get(criterion.id)
            if previous is None or previous.status != criterion.status:
                moved.append(
                    (
                        criterion.id,
                        previous.status if previous else "(new)",
                        criterion.status,
                        previous.reason if previous else "",
                        criterion.reason,
                    )
                )
        new_ids = {c.id for c in after.criteria}
        moved += [
            (c.id, c.status, "(removed)", c.reason, "")
            for c in before.criteria
            if c.id not in new_ids
        ]
        # as a criterion's: listed when it changes the answer, not when its words alone change
        if bool(before.rescreening) != bool(after.rescreening):
            # the schedule's limit on the days from screening to randomization is no criterion,
            # but decides the verdict: its words, as screen gives them
            moved.append(
                (
                    "randomization",
                    "rescreening needed" if before.rescreening else "within the schedule",
                    "rescreening needed" if after.rescreening else "within the schedule",
                    before.rescreening or "no rescreening needed",
                    after.rescreening or "no rescreening needed",
                )
            )
        if moved or before.verdict != after.verdict:
            changes.append(
                ImpactChange(
                    _shown_name(path),
                    record.participant,
                    before.verdict,
                    after.verdict,
                    tuple(moved),
                )
            )
    return changes


def _screened(screen: Any, record: Any, study: Study, path: Path) -> Any:
    """The record screened under a version, or why that version refuses it (an amended
    plausible range, a removed event kind): a change to report, not an error."""
    try:
        return screen(record, study, source=str(path))
    except ProtocolDataError as exc:
        return "refused: " + "; ".join(str(p) for p in exc.problems)[:300]


def washout_moves(old: Study, new: Study, records: list[Path]) -> list[DateMove]:
    """Each record's washout dates that move: the first date a medicine or event clears, and
    the earliest allowed randomization (records with a planned randomization date)."""
    from protocol.washout import WashoutInput, check_washout

    moves = []
    for path, record in load_records(records):
        if record.dates.planned_randomization is None:
            continue
        data = WashoutInput(
            planned_randomization=record.dates.planned_randomization,
            screening=record.dates.screening,
            medications=record.medications or [],
            events=record.events or [],
        )
        try:
            before, after = check_washout(data, old), check_washout(data, new)
        except ProtocolDataError:
            continue  # refused by a version: reported with the screening impact
        # entries matched by what they read (a medicine, an event), not by position: a version
        # may add one (the steroids taken together, when it counts another course a steroid)
        # or drop one (diff stopped with an internal error on the lists' lengths)
        kept = {(e.entry, e.name): e for e in after.entries}
        for a in before.entries:
            b = kept.pop((a.entry, a.name), None)
            if b is None:
                moves.append(
                    DateMove(
                        f"{_record_label(path, record.participant)} {a.entry}",
                        f"{a.name}: window {a.window or '(none)'}; clears on",
                        str(a.clears_on or "(none)"),
                        "(not checked by the new version)",
                    )
                )
            elif a.clears_on != b.clears_on:
                moves.append(
                    DateMove(
                        f"{_record_label(path, record.participant)} {a.entry}",
                        f"{a.name}: window {a.window or '(none)'} -> {b.window or '(none)'}; "
                        "clears on",
                        str(a.clears_on or "(none)"),
                        str(b.clears_on or "(none)"),
                    )
                )
        for b in kept.values():  # checked by the new version alone
            moves.append(
                DateMove(
                    f"{_record_label(path, record.participant)} {b.entry}",
                    f"{b.name}: window {b.window or '(none)'}; clears on",
                    "(not checked by the old version)",
                    str(b.clears_on or "(none)"),
                )
            )
        if before.earliest_randomization != after.earliest_randomization:
            moves.append(
                DateMove(
                    _record_label(path, record.participant),
                    "earliest allowed randomization",
                    str(before.earliest_randomization or "(never)"),
                    str(after.earliest_randomization or "(never)"),
                )
            )
    return moves


def default_records() -> list[Path]:
    return sorted((REPO / "book" / "cases").glob("*.yaml"))


def diff(old_spec: str, new_spec: str, records: list[Path] | None = None) -> Diff:
    versions, problems = [], []
    for spec in (old_spec, new_spec):  # both read, so that a bad NEW is reported with a bad OLD
        try:
            versions.append(read_version(spec))
        except ProtocolDataError as exc:
            problems += [Problem(str(p), path=exc.source) for p in exc.problems]
    from protocol.screening import rule_problems

    for spec, version in zip((old_spec, new_spec), versions, strict=False):
        # the records are screened under each version by rules keyed by criterion ID: a
        # criterion its ID's rule was not written for (a renumbering) would be screened wrongly
        problems += [Problem(str(p), path=spec) for p in rule_problems(version.study)]
    if problems:
        raise ProtocolDataError("trialbook diff", problems)
    old, new = versions
    records = default_records() if records is None else records
    result = Diff(old, new, records_screened=len(records))
    result.facts = fact_changes(old.data, new.data)
    result.criteria = criterion_changes(old.study, new.study)
    result.impact = impact(old.study, new.study, records)
    result.dates = washout_moves(old.study, new.study, records)
    return result


# -- reports -----------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A study.yaml value as the file writes it (``[AZA, AZT]``, ``false``, ``2025-01-06``),
    never Python's form of it (``['AZA']``, ``False``, ``datetime.date(…)``)."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        text = value
    else:
        try:
            text = yaml.safe_dump(
                value, default_flow_style=True, allow_unicode=True, width=2**31, sort_keys=False
            ).strip()
            text = text.removesuffix("\n...").removesuffix("...").strip()
        except yaml.YAMLError:
            text = str(value)
    return text if len(text) <= 160 else text[:159] + "…"


def _shown_as_json(value: Any) -> str:
    """A registry value as the record writes it (true, not Python's True), a text as it is."""
    if value is None or isinstance(value, str):
        return _shown(value)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:159] + "…"


def format_text(result: Diff) -> str:
    lines = [
        f"NCT06375005 protocol versions: {result.old.name} ({result.old.label}) -> "
        f"{result.new.name} ({result.new.label})"
    ]
    if not result.changed:
        lines.append("No change: every fact, criterion and worked record is the same.")
    lines.append(f"Facts changed: {len(result.facts)}")
    for change in result.facts:
        lines.append(
            f"  {change.kind}: {change.path}: {_shown(change.old)} -> {_shown(change.new)}"
        )
        long = max(len(str(change.old)), len(str(change.new))) > 160
        if isinstance(change.old, str) and isinstance(change.new, str) and long:
            # the two cut texts may read the same (a PI's reading changed after its 160th
            # character): the changed words, with a few around them
            lines.append(f"    words:  {_changed_words(change.old, change.new)}")
    lines.append(f"Criteria changed: {len(result.criteria)}")
    for change in result.criteria:
        if change.kind == "text":
            lines.append(f"  {change.id} text: {change.words}")
        elif change.kind == "renumbered":
            lines.append(f"  {change.old} renumbered {change.new}")
        else:
            lines.append(f"  {change.id} {change.kind}: {change.new or change.old}")
    lines.append(
        f"Records whose screening changes: {len(result.impact)} of {result.records_screened}"
    )
    for item in result.impact:
        lines.append(
            f"  {_label(item.record, item.participant)}: {_verdict_words(item.old_verdict)} -> "
            f"{_verdict_words(item.new_verdict)}"
        )
        for cid, before, after, old_reason, new_reason in item.criteria:
            lines.append(f"    {cid} {before} -> {after}")
            lines.append(f"      before: {old_reason or _no_reason(before)}")
            lines.append(f"      after:  {new_reason or _no_reason(after)}")
    lines.append(f"Dates that move: {len(result.dates)}")
    lines += [f"  {m.where}: {m.what} {m.old} -> {m.new}" for m in result.dates]
    for version in (result.old, result.new):
        if version.registry_disagreements:
            lines.append(
                f"{version.name} disagrees with the stored registry record "
                f"({len(version.registry_disagreements)}):"
            )
            lines += [f"  {d}" for d in version.registry_disagreements]
    return "\n".join(lines)


def _no_reason(status: str) -> str:
    """What stands for a reason where a version has none: the criterion is not in it."""
    return {
        "(new)": "(not in this version: the criterion is new)",
        "(removed)": "(not in this version: the criterion is removed)",
    }.get(status, "(no reason given)")


def _verdict_words(verdict: str) -> str:
    """A verdict as readers write it ("not eligible"); a version's refusal as it is worded.
    JSON keeps the codes, which programs compare."""
    from protocol.display import VERDICT_WORDS

    return VERDICT_WORDS.get(verdict, verdict)


def format_markdown(result: Diff) -> str:
    """The comparison as Markdown; every value escaped (no table cell can split a row, no
    text becomes HTML)."""
    out = [
        f"## From {_md(result.old.label)} ({_md(result.old.name)}) "
        f"to {_md(result.new.label)} ({_md(result.new.name)})",
        "",
        "### Facts",
        "",
    ]
    if result.facts:
        out += ["| Where in study.yaml | Before | After | Change |", "|---|---|---|---|"]
        out += [
            f"| {_md(c.path)} | {_md(c.old)} | {_md(c.new)} | {c.kind}{_md_words(c)} |"
            for c in result.facts
        ]
    else:
        out.append("No fact changed.")
    out += ["", "### Criteria", ""]
    out += [
        f"- **{c.id}** {c.kind}: {_md(c.words or c.new or c.old)}" for c in result.criteria
    ] or ["No criterion changed."]
    changed = f"{len(result.impact)} of {result.records_screened} change"
    out += ["", f"### Worked records ({changed})", ""]
    for item in result.impact:
        out.append(
            f"- **{_md(item.participant)}** ({_md(item.record)}): "
            f"{_md(_verdict_words(item.old_verdict))} → {_md(_verdict_words(item.new_verdict))}"
        )
        for cid, a, b, before, after in item.criteria:
            out.append(f"  - {cid}: {a} → {b}")
            out.append(f"    - before: {_md(before or _no_reason(a))}")
            out.append(f"    - after: {_md(after or _no_reason(b))}")
    if result.dates:
        out += ["", "### Dates that move", ""]
        out += [
            f"- {_md(m.where)}: {_md(m.what)} {_md(m.old)} → {_md(m.new)}" for m in result.dates
        ]
    for version in (result.old, result.new):
        if version.registry_disagreements:
            out += ["", f"### {_md(version.name)} disagrees with the stored registry record", ""]
            out += [f"- {_md(d)}" for d in version.registry_disagreements]
    return "\n".join(out)


def _md_words(change: FactChange) -> str:
    """A long text's changed words after its kind of change: the cut before and after may
    read the same."""
    if not (isinstance(change.old, str) and isinstance(change.new, str)):
        return ""
    if max(len(change.old), len(change.new)) <= 160:
        return ""
    return f": {_md(_changed_words(change.old, change.new), whole=True)}"


def _md(value: Any, whole: bool = False) -> str:
    """Text safe in a Markdown table cell: no row split, no HTML, no code span, no emphasis
    (cut at 160 characters unless ``whole``)."""
    return markdown_cell(str(value) if whole else _shown(value))


def to_json(result: Diff) -> dict[str, Any]:
    return {
        "old": {"version": result.old.name, "label": result.old.label},
        "new": {"version": result.new.name, "label": result.new.label},
        "changed": result.changed,
        "facts": [
            {"path": c.path, "old": _jsonable(c.old), "new": _jsonable(c.new), "kind": c.kind}
            for c in result.facts
        ],
        "criteria": [c.__dict__ for c in result.criteria],
        "impact": [
            {
                "record": i.record,
                "participant": i.participant,
                "old_verdict": i.old_verdict,
                "new_verdict": i.new_verdict,
                "criteria": [
                    dict(zip(("id", "old", "new", "old_reason", "new_reason"), c, strict=True))
                    for c in i.criteria
                ],
            }
            for i in result.impact
        ],
        "records_screened": result.records_screened,
        "dates": [m.__dict__ for m in result.dates],
        "registry_disagreements": {
            "old": list(result.old.registry_disagreements),
            "new": list(result.new.registry_disagreements),
        },
    }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


# -- the registry record's own history ------------------------------------------------------------


def _record_leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """A registry record's leaves by their API v2 path. Entries of a list of objects are named
    by what the registry tells them apart by (a label, a name, a facility), a shared name by
    its occurrence; a list of plain values is one leaf, compared regardless of order."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _record_leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        names = []
        for index, item in enumerate(value):
            label = str(index)
            if isinstance(item, dict):
                for key in ("label", "name", "measure", "facility", "id", "type"):
                    if isinstance(item.get(key), str):
                        label = f"{key}={item[key]}"
                        break
            names.append(label)
        # the first of a label keeps it alone (a second one is an entry added, as above)
        counts: dict[str, int] = {}
        order = []
        for label, item in zip(names, value, strict=True):
            counts[label] = counts.get(label, 0) + 1
            shown = label if counts[label] == 1 else f"{label}#{counts[label]}"
            order.append(shown)
            yield from _record_leaves(item, f"{path}[{shown}]")
        if not path.endswith(_ANY_ORDER):
            # the entries' order: study.yaml reads arms and interventions by position (the
            # registry's order of its sites is no fact)
            yield f"{path}[order]", order
    elif isinstance(value, list):
        yield path, sorted(value, key=repr)
    else:
        yield path, value


#: Lists of entries whose order is no fact of the record (the sites)
_ANY_ORDER = ("locations",)


def registry_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FactChange]:
    """What a registry record changed, field by field (API v2 paths); entries of a list in
    another order are a change of its ``[order]`` (an entry added or removed is shown as such,
    not as an order too)."""
    before = dict(_record_leaves(old))
    after = dict(_record_leaves(new))
    changes = [
        FactChange(path, before.get(path), value, "added" if path not in before else "value")
        for path, value in after.items()
        if (path not in before or not _same_json(before[path], value))
        and not (
            path.endswith("[order]")
            and path in before
            and sorted(before[path]) != sorted(value)  # entries added or removed
        )
    ]
    changes += [FactChange(p, v, None, "removed") for p, v in before.items() if p not in after]
    return changes


def _same_json(old: Any, new: Any) -> bool:
    """Whether two record values are written the same in JSON: Python's ``False == 0`` and
    ``1 == 1.0`` hold, but a boolean that became a number is a change (and a damaged record)."""
    return json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)


def format_registry_changes(old_name: str, new_name: str, changes: list[FactChange]) -> str:
    lines = [f"Registry record {old_name} -> {new_name}: {len(changes)} field(s) changed"]
    for change in changes:
        lines.append(f"  {change.kind}: {change.path}")
        # a value that changed its type (38 to "38") is shown as written in JSON, or the two
        # lines would read the same
        typed = change.kind == "value" and type(change.old) is not type(change.new)
        show = (lambda v: json.dumps(v, ensure_ascii=False)) if typed else _shown_as_json
        if change.kind != "added":
            lines.append(f"    before: {show(change.old)}")
        if change.kind != "removed":
            lines.append(f"    after:  {show(change.new)}")
        long = max(len(str(change.old)), len(str(change.new))) > 160
        if isinstance(change.old, str) and isinstance(change.new, str) and long:
            # the two cut texts may read the same: the changed words, with a few around them
            lines.append(f"    words:  {_changed_words(change.old, change.new)}")
    return "\n".join(lines)


def _changed_words(old: str, new: str, context: int = 6) -> str:
    """Only the changed words of a long text (git's word diff), ``context`` words either side,
    "…" where unchanged words are left out.

    >>> _changed_words("a b c d e f g h i j k l m n", "a b c d e f g H i j k l m n", 2)
    '… f g [-h-] {+H+} i j …'
    """
    return _word_diff(old, new, context)


# -- the book's page ------------------------------------------------------------------------------


def previous_version(study: Study) -> Path | None:
    """The stored file of the version before the current one (``protocol/versions/``), if the
    history records one: the book's "What changed" page compares against it without git."""
    version = study.protocol_version
    if version is None or len(version.history) < 2:
        return None
    earlier = version.history[1]
    path = VERSIONS / f"{earlier.date.isoformat()}.yaml"
    return path if path.is_file() else None


VERSIONS = STUDY_PATH.parent / "versions"


def describe_path(path: str, study: Study) -> str:
    """A study.yaml path in a reader's words: the analyte, medicine class, event or rule it
    belongs to and what of it, e.g. "Haemoglobin (EX24): threshold".

    >>> describe_path("criterion_rules.mrss_minimum.value", load_study())
    'mRSS minimum'
    >>> describe_path("lab_analytes[name=wbc].threshold.value", load_study())
    'White blood cells (WBC) (EX24): threshold'
    """

    match = re.match(r"^(\w+)\[(\w+)=([^\]]+)\]\.?(.*)$", path)
    rest = path
    owner = ""
    if match:
        section, _key, name, rest = match.groups()
        if section == "lab_analytes":
            analyte = next((a for a in study.lab_analytes if a.name == name), None)
            owner = f"{analyte.label} ({analyte.criterion})" if analyte else name
        elif section == "medication_classes":
            group = next((g for g in study.medication_classes if g.id == name), None)
            owner = f"{group.label} ({group.criterion})" if group else name
        elif section == "exposure_events":
            event = next((e for e in study.exposure_events if e.kind == name), None)
            owner = f"{event.label} ({event.criterion})" if event else name
        elif section == "criteria":
            owner = f"criterion {name}"
        else:
            owner = f"{section.replace('_', ' ')} {name.replace('_', ' ')}"
    elif "." in path:
        section, rest = path.split(".", 1)
        owner = section.replace("_", " ")
        if section == "criterion_rules":
            rule, _, rest = rest.partition(".")
            owner = rule.replace("_", " ").replace("mrss", "mRSS")
    # "value" is the fact itself: "threshold.value" is the threshold
    parts = [p for p in rest.split(".") if p and p != "value"]
    words = ", ".join(p.replace("_", " ") for p in parts)
    if not owner[1:2].isupper():  # "mRSS" keeps its small m
        owner = f"{owner[:1].upper()}{owner[1:]}"
    return f"{owner}: {words}" if owner and words else owner or words
