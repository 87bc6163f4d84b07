"""The built HTML carries no personal data and says its examples are synthetic."""

from __future__ import annotations

import pytest

from tests.built.test_built_book import HTML, _text
from tests.test_privacy import personal_data


@pytest.fixture(autouse=True, scope="module")
def _the_book_is_built() -> None:
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first", pytrace=False)


def test_no_phone_numbers_email_addresses_or_identity_numbers_in_any_page():
    pages = sorted(HTML.rglob("*.html"))
    assert pages
    found = {str(p.relative_to(HTML)): personal_data(_text(p)) for p in pages}
    assert {page: hits for page, hits in found.items() if hits} == {}


def test_every_page_says_the_examples_are_synthetic():
    for page in (HTML / "book").rglob("*.html"):
        assert "synthetic" in _text(page).lower(), page
