"""The normaliser's shortcuts give what the long way gives."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.ingest.sanitize import (
    _absolute_cached,
    html_to_text,
    parsed_text,
    safe_url,
    sanitize_html,
)

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


def test_only_short_urls_are_remembered() -> None:
    """Links repeat from entry to entry and are resolved once; a long one (a data: URL
    can be megabytes) is resolved every time and never kept."""
    base, path = "https://x.example/feed", f"/section/{uuid.uuid4().hex}"
    before = _absolute_cached.cache_info().currsize
    assert safe_url(path, base) == f"https://x.example{path}"
    assert safe_url(path, base) == f"https://x.example{path}"
    assert _absolute_cached.cache_info().currsize == before + 1
    assert safe_url("/" + "x" * 10_000, base) == "https://x.example/" + "x" * 10_000
    assert _absolute_cached.cache_info().currsize == before + 1


def test_threads_sanitising_at_once_each_resolve_against_their_own_base() -> None:
    """One Cleaner serves every thread; the base URL its filter reads is each call's."""

    def work(n: int) -> set[str]:
        base, host = f"https://h{n}.example/feed/", f"https://h{n}.example"
        found = set()
        for i in range(300):
            got = sanitize_html(f'<p><a href="a/{i}">x</a><img src="/i/{i}.png"></p>', base)
            want = (
                f'<p><a href="{host}/feed/a/{i}" rel="noopener noreferrer">x</a>'
                f'<img src="{host}/i/{i}.png"></p>'
            )
            found.add("ok" if got == want else f"thread {n}: {got}")
        return found

    with ThreadPoolExecutor(8) as pool:
        results = set().union(*pool.map(work, range(8)))
    assert results == {"ok"}
