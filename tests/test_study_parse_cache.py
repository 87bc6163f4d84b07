"""The parse of study.yaml kept between processes (issue 15: a one-record `trialbook screen`
spent a third of its time parsing the file): the same study from the cache as from the file,
a new parse for an edited file, and a damaged or unwritable cache only costs the parse."""

from __future__ import annotations

import shutil

import pytest

from protocol import study as study_module
from protocol.study import STUDY_PATH


def _fresh_load(path):
    # past the per-process cache (functools), as a new process would load it
    return study_module._load_study.__wrapped__(path, 0, 0)


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TRIALBOOK_NO_STUDY_CACHE", raising=False)
    return tmp_path / "cache" / "trialbook"


def test_a_cached_parse_gives_the_study_the_file_gives(cache_home, tmp_path):
    path = tmp_path / "study.yaml"
    shutil.copy(STUDY_PATH, path)
    first = _fresh_load(path)
    kept = list(cache_home.glob("study-parse-*.pickle"))
    assert len(kept) == 1
    second = _fresh_load(path)  # from the cache
    assert second.model_dump() == first.model_dump()
    assert list(cache_home.glob("study-parse-*.pickle")) == kept


def test_an_edited_file_is_parsed_again(cache_home, tmp_path):
    path = tmp_path / "study.yaml"
    shutil.copy(STUDY_PATH, path)
    _fresh_load(path)
    text = path.read_text(encoding="utf-8")
    assert "Telitacicept" in text
    path.write_text(text.replace("Telitacicept", "Telitacicept (edited)", 1), encoding="utf-8")
    edited = _fresh_load(path)
    assert len(list(cache_home.glob("study-parse-*.pickle"))) == 2
    assert "Telitacicept (edited)" in str(edited.model_dump())


def test_a_damaged_cache_is_read_past(cache_home, tmp_path):
    path = tmp_path / "study.yaml"
    shutil.copy(STUDY_PATH, path)
    expected = _fresh_load(path).model_dump()
    for kept in cache_home.glob("study-parse-*.pickle"):
        kept.write_bytes(b"not a pickle")
    assert _fresh_load(path).model_dump() == expected


def test_an_unwritable_cache_folder_only_costs_the_parse(tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    path = tmp_path / "study.yaml"
    shutil.copy(STUDY_PATH, path)
    assert _fresh_load(path).model_dump() == _fresh_load(STUDY_PATH).model_dump()


def test_the_cache_can_be_turned_off(cache_home, tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALBOOK_NO_STUDY_CACHE", "1")
    path = tmp_path / "study.yaml"
    shutil.copy(STUDY_PATH, path)
    _fresh_load(path)
    assert not cache_home.exists() or not list(cache_home.iterdir())


def test_the_cache_keeps_the_most_recently_used_parses_only(cache_home, monkeypatch):
    # one parse per version read (tests read hundreds of variants): the folder keeps the last
    # few, the one just read among them, and a parse read again counts as recent
    import os
    import pickle
    import time

    monkeypatch.setattr(study_module, "MAX_KEPT_PARSES", 3)
    cache_home.mkdir(parents=True)
    old = []
    for i in range(5):
        path = cache_home / f"study-parse-{i:064x}.pickle"
        path.write_bytes(pickle.dumps(({"version": i}, None)))
        os.utime(path, ns=(time.time_ns() - (10 - i) * 10**9,) * 2)  # 0 oldest, 4 newest
        old.append(path)
    newest = cache_home / f"study-parse-{'f' * 64}.pickle"
    study_module._keep_parse(newest, ({"a": 1}, None))
    assert sorted(p.name for p in cache_home.glob("study-parse-*.pickle")) == sorted(
        [newest.name, old[4].name, old[3].name]
    )
    assert not list(cache_home.glob(".study-*"))  # no temporary file left
    # a cache hit marks the parse as used now
    assert study_module._cached_parse(old[3]) == ({"version": 3}, None)
    assert old[3].stat().st_mtime_ns > old[4].stat().st_mtime_ns
