"""The validated study kept between processes (issue 15: a one-record `trialbook screen` spent a
fifth of its time reading and validating study.yaml): the same study from the cache as from the
file, a new validation for an edited file or an edited rule, a study that fails never kept, and a
damaged, foreign or unwritable cache only costs the validation."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from protocol import study as study_module
from protocol.errors import ProtocolDataError
from protocol.participant import load_record
from protocol.screening import screen
from protocol.study import STUDY_PATH, Study

CASES = sorted((Path(__file__).parents[1] / "book" / "cases").glob("*.yaml"))


def _fresh_load(path):
    # past the per-process cache (functools), as a new process would load it
    return study_module._load_study.__wrapped__(path, ())


def _kept(cache_home):
    return sorted(cache_home.glob("study-*.pickle"))


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TRIALBOOK_NO_STUDY_CACHE", raising=False)
    return tmp_path / "cache" / "trialbook"


@pytest.fixture
def study_copy(tmp_path):
    path = tmp_path / "study.yaml"
    shutil.copy(STUDY_PATH, path)
    return path


def test_a_kept_study_is_the_study_the_file_gives(cache_home, study_copy, monkeypatch):
    first = _fresh_load(study_copy)
    kept = _kept(cache_home)
    assert len(kept) == 1
    # the second load reads the kept study: validation is not run at all
    monkeypatch.setattr(study_module, "parse_study", _never)
    second = _fresh_load(study_copy)
    assert second is not first
    assert type(second) is Study
    assert second == first
    assert second.model_dump() == first.model_dump()
    assert _kept(cache_home) == kept


def _never(*_args, **_kwargs):
    raise AssertionError("validated again: the kept study was not read")


def test_a_kept_study_screens_every_case_as_the_validated_one(cache_home, study_copy):
    validated = _fresh_load(study_copy)
    kept = _fresh_load(study_copy)
    assert kept is not validated
    for case in CASES:
        record = load_record(case)
        assert screen(record, kept).to_json() == screen(record, validated).to_json(), case.name


def test_an_edited_file_is_validated_again(cache_home, study_copy):
    _fresh_load(study_copy)
    text = study_copy.read_text(encoding="utf-8")
    assert "Telitacicept" in text
    study_copy.write_text(text.replace("Telitacicept", "Telitacicept (edited)", 1), "utf-8")
    edited = _fresh_load(study_copy)
    assert len(_kept(cache_home)) == 2
    assert "Telitacicept (edited)" in str(edited.model_dump())


def test_an_edited_rule_is_another_key(tmp_path):
    # the key holds the code that validates: a changed validator in any module of protocol/
    # must not be answered with a study validated by the old one
    code = tmp_path / "protocol"
    shutil.copytree(STUDY_PATH.parent, code, ignore=shutil.ignore_patterns("__pycache__"))
    text = STUDY_PATH.read_text(encoding="utf-8")
    before = study_module._study_cache_file(text, code)
    assert before == study_module._study_cache_file(text, code)  # the same inputs, the same key
    units = code / "units.py"
    units.write_text(units.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert study_module._study_cache_file(text, code) != before
    assert study_module._study_cache_file(text + "\n", code) != study_module._study_cache_file(
        text, code
    )


def test_a_study_that_fails_is_never_kept(cache_home, study_copy):
    text = study_copy.read_text(encoding="utf-8")
    assert "\n  phase:\n" in text
    study_copy.write_text(text.replace("\n  phase:\n", "\n  phase_typo:\n", 1), "utf-8")
    for _ in range(2):
        with pytest.raises(ProtocolDataError):
            _fresh_load(study_copy)
    assert _kept(cache_home) == []


@pytest.mark.parametrize(
    "content",
    [b"not a pickle", pickle.dumps({"a": "dictionary"}), pickle.dumps(({"version": 1}, None))],
    ids=["damaged", "not a study", "an older cache's parse"],
)
def test_a_damaged_or_foreign_cache_is_read_past(cache_home, study_copy, content):
    expected = _fresh_load(study_copy).model_dump()
    for kept in _kept(cache_home):
        kept.write_bytes(content)
    assert _fresh_load(study_copy).model_dump() == expected


def test_an_unwritable_cache_folder_only_costs_the_validation(tmp_path, monkeypatch, study_copy):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    monkeypatch.delenv("TRIALBOOK_NO_STUDY_CACHE", raising=False)
    assert _fresh_load(study_copy).model_dump() == _fresh_load(STUDY_PATH).model_dump()


def test_the_cache_keeps_the_most_recently_used_studies_only(cache_home, monkeypatch, study_copy):
    # one study per version read (tests read hundreds of variants): the folder keeps the last
    # few, the one just read among them, and a study read again counts as recent
    monkeypatch.setattr(study_module, "MAX_KEPT_STUDIES", 3)
    cache_home.mkdir(parents=True)
    old = []
    for i in range(5):
        path = cache_home / f"study-{i:064x}.pickle"
        path.write_bytes(b"an older version")
        os.utime(path, ns=(time.time_ns() - (10 - i) * 10**9,) * 2)  # 0 oldest, 4 newest
        old.append(path)
    study = _fresh_load(study_copy)
    [newest] = [p for p in _kept(cache_home) if p not in old]
    assert sorted(_kept(cache_home)) == sorted([newest, old[4], old[3]])
    assert not list(cache_home.glob(".study-*"))  # no temporary file left
    # a cache hit marks the study as used now
    os.utime(newest, ns=(time.time_ns() - 20 * 10**9,) * 2)
    assert study_module._cached_study(newest) == study
    assert newest.stat().st_mtime_ns > old[4].stat().st_mtime_ns


def test_a_flipped_bit_in_a_kept_study_is_read_past(cache_home, study_copy):
    # a damaged file that still unpickles would give another threshold (8.0 g/dL read as
    # 8.0625): the checksum written with it finds the change, and the study is validated again
    import struct

    expected = _fresh_load(study_copy)
    [kept] = _kept(cache_home)
    content = bytearray(kept.read_bytes())
    at = content.find(b"G" + struct.pack(">d", 8.0))
    assert at > 0  # the haemoglobin threshold, a pickled float
    content[at + 3] ^= 0x20
    assert pickle.loads(bytes(content[study_module._CHECKSUM_BYTES :])) != expected  # unpickles
    kept.write_bytes(bytes(content))
    assert study_module._cached_study(kept) is None
    assert _fresh_load(study_copy) == expected  # validated again, and kept anew
    assert study_module._cached_study(kept) == expected


def test_a_file_another_user_could_write_is_never_unpickled(cache_home, study_copy, monkeypatch):
    # unpickling runs what the file says: a kept study is read only from this user's own
    # file, in a folder no one else may write
    expected = _fresh_load(study_copy)
    [kept] = _kept(cache_home)
    monkeypatch.setattr(study_module, "parse_study", _never)
    assert _fresh_load(study_copy) == expected  # the kept study is read
    for target, mode in ((kept, 0o666), (cache_home, 0o777), (kept, 0o620)):
        original = target.stat().st_mode
        target.chmod(mode)
        try:
            assert study_module._cached_study(kept) is None, oct(mode)
        finally:
            target.chmod(original)
    assert study_module._cached_study(kept) == expected
    link = cache_home / "study-link.pickle"
    link.symlink_to(kept)
    assert study_module._cached_study(link) is None
    monkeypatch.setattr(os, "getuid", lambda: os.stat(kept).st_uid + 1)
    assert study_module._cached_study(kept) is None


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_a_stop_while_writing_leaves_no_temporary_file(cache_home, study_copy, monkeypatch, stop):
    def stopped(_source, _target):
        raise stop()

    monkeypatch.setattr(os, "replace", stopped)
    with pytest.raises(stop):
        _fresh_load(study_copy)
    assert list(cache_home.iterdir()) == []


def test_an_edit_that_restores_the_modification_time_is_read_again(study_copy):
    # cp -p and rsync -t restore a file's modification time; its change time they cannot
    first = study_module.load_study(study_copy)
    before = study_copy.stat()
    text = study_copy.read_text(encoding="utf-8")
    study_copy.write_text(text.replace("Telitacicept", "Telitacicepx", 1), encoding="utf-8")
    os.utime(study_copy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert study_copy.stat().st_size == before.st_size
    edited = study_module.load_study(study_copy)
    assert edited is not first
    assert "Telitacicepx" in str(edited.model_dump())


def test_a_model_made_from_a_generic_one_is_found_by_its_name():
    # pickle cannot find Fact[str] by its name; the cache writes it as the name of its
    # parameters, the same in every process, and finds the one class of that name
    study = study_module.load_study()
    fact_class = type(study.identification.nct_id)
    name = study_module._parametrized_name(fact_class)
    assert name == "Fact(<class 'str'>,)"
    assert study_module.parametrized_model("protocol.facts", name) is fact_class
    duration = type(study.population.minimum_age)
    assert (
        study_module.parametrized_model("protocol.facts", study_module._parametrized_name(duration))
        is duration
    )
    assert duration is not fact_class
    with pytest.raises(LookupError):
        study_module.parametrized_model("protocol.facts", "Fact(<class 'complex'>,)")
    with pytest.raises(LookupError):
        study_module.parametrized_model("protocol.not_imported", name)


def test_a_new_process_reads_the_study_another_kept(tmp_path):
    # what the cache is for: the second `trialbook screen` reads the study the first kept,
    # and says what the first said
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    environment.pop("TRIALBOOK_NO_STUDY_CACHE", None)
    command = [sys.executable, "-m", "trialbook.cli", "screen", str(CASES[0]), "--format", "json"]
    first = subprocess.run(command, capture_output=True, text=True, env=environment)
    [kept] = (tmp_path / "cache" / "trialbook").glob("study-*.pickle")
    written = kept.stat().st_mtime_ns
    os.utime(kept, ns=(written - 10**9,) * 2)
    second = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert kept.stat().st_mtime_ns > written - 10**9  # read (marked as used), not written anew
    assert (second.returncode, second.stderr) == (first.returncode, first.stderr) == (0, "")
    assert json.loads(second.stdout) == json.loads(first.stdout)


@pytest.mark.parametrize("value", ["1", "yes"])
def test_the_cache_is_off_for_any_value_but_0(cache_home, study_copy, monkeypatch, value):
    monkeypatch.setenv("TRIALBOOK_NO_STUDY_CACHE", value)
    _fresh_load(study_copy)
    assert _kept(cache_home) == []


@pytest.mark.parametrize("value", ["0", ""])
def test_the_cache_is_on_for_0_or_empty(cache_home, study_copy, monkeypatch, value):
    monkeypatch.setenv("TRIALBOOK_NO_STUDY_CACHE", value)
    _fresh_load(study_copy)
    assert len(_kept(cache_home)) == 1
