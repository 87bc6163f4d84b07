"""Fields named together are each counted from 1 (a tester read "medications entry 1,
medications[1]" for two corticosteroids summed: the first counted from 1, the second from 0)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol.display import show_field


@given(st.lists(st.integers(0, 30), min_size=1, max_size=4, unique=True), st.booleans())
def test_every_entry_named_is_counted_from_one(indices, with_reason):
    item = ", ".join(f"medications[{i}]" for i in indices)
    reason = " (corticosteroids together)" if with_reason else ""
    shown = show_field(item + reason)
    assert shown == ", ".join(f"medications entry {i + 1}" for i in indices) + reason
    assert "[" not in shown


def test_the_testers_line():
    assert show_field("medications[0], medications[1] (corticosteroids together)") == (
        "medications entry 1, medications entry 2 (corticosteroids together)"
    )
