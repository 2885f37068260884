"""The normaliser's shortcuts give what the long way gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.ingest.sanitize import html_to_text, parsed_text

# Text without "<" or "&": spaces of every kind, controls XML cannot carry, line and
# paragraph separators, non-characters, quotes and ">".
PLAIN = st.lists(
    st.characters(blacklist_characters="<&", blacklist_categories=("Cs",))
    | st.sampled_from(["\r\n", "\r", "\x00", "\x0c", "\x85", "\xa0", "\u2028", "\ufeff", ">"]),
    max_size=40,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(PLAIN)
def test_text_without_markup_skips_the_parser_and_reads_the_same(text: str) -> None:
    assert html_to_text(text) == parsed_text(text)


def test_markup_still_goes_through_the_parser() -> None:
    assert html_to_text("a</p><p>b &amp; c") == "a b & c"
    assert html_to_text("  Seoul\n\tline  ") == "Seoul line"
