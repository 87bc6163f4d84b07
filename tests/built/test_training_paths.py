"""Training works for someone without the repository (issue 12 §4): a path per role with its time
and checklist, exercises numbered per page, and every reader page saying what the book is not."""

from __future__ import annotations

import re

import pytest

from tests.built.test_reader_language import HTML, READER_PAGES, TOC, _prose

ROLES = "book/training/roles"


def test_each_role_has_a_path_with_its_time_and_a_checklist():
    text = _prose(ROLES)
    sections = re.split(
        r"(?=Study coordinator: screening|Pharmacist: dispensing|Nurse: injections)", text
    )
    paths = {s.split(":")[0]: s for s in sections[1:]}
    assert set(paths) == {"Study coordinator", "Pharmacist", "Nurse"}
    for role, section in paths.items():
        assert re.search(r"About \d+ minutes", section), role
        assert section.count("☐") >= 4, role
        assert "Checklist" in section, role


def test_the_paths_link_only_to_pages_of_the_book():
    page = (HTML / f"{ROLES}.html").read_text(encoding="utf-8")
    article = page.split('<article class="bd-article">', 1)[1].split("</article>", 1)[0]
    targets = set(re.findall(r'href="([^"#]+\.html)', article))
    assert len(targets) >= 6
    for target in targets:
        assert (HTML / "book" / "training" / target).resolve().is_file(), target


def test_the_roles_page_is_in_the_training_part_and_the_landing_page_links_it():
    training = next(p for p in TOC["parts"] if p["caption"] == "Training for site staff")
    assert ROLES in [c["file"] for c in training["chapters"]]
    assert 'href="training/roles.html"' in (HTML / "book" / "index.html").read_text("utf-8")


@pytest.mark.parametrize("entry", READER_PAGES)
def test_exercises_are_numbered_from_1_on_each_page(entry):
    page = (HTML / f"{entry}.html").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r'<span class="caption-number">Exercise (\d+)', page)]
    assert numbers == list(range(1, len(numbers) + 1)), entry
    for number in re.findall(r"Solution to(?:<a[^>]*>)?\s*Exercise (\d+)", page):
        assert int(number) in numbers, entry


def test_the_exercise_numbering_is_checked_on_pages_that_have_exercises():
    with_exercises = [
        e
        for e in READER_PAGES
        if 'caption-number">Exercise 1' in (HTML / f"{e}.html").read_text("utf-8")
    ]
    assert len(with_exercises) >= 8


@pytest.mark.parametrize("entry", READER_PAGES)
def test_every_reader_page_says_it_is_not_the_approved_protocol(entry):
    page = (HTML / f"{entry}.html").read_text(encoding="utf-8")
    announcement = re.search(
        r'<div class="bd-header-announcement[^"]*"[^>]*>(.*?)</div>', page, re.S
    )
    assert announcement and "not the approved protocol" in announcement.group(1), entry


def test_the_landing_and_title_pages_say_what_the_book_is_not():
    assert "not the approved protocol" in _prose("book/index")
    title = _prose("book/protocol/title")
    assert "publishes no protocol version" in title and "not the approved protocol" in title


def test_developer_material_is_in_the_maintainers_part():
    for entry in READER_PAGES:
        text = _prose(entry)
        for word in ("nbval", "pint", "vectorized", "pytest"):
            assert not re.search(rf"\b{word}\b", text), (entry, word)
