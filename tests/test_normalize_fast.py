"""The normaliser's shortcuts give what the long way gives."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from feeds.ingest.sanitize import (
    LINK_SCHEMES,
    SCHEMES,
    _absolute_cached,
    checked_url,
    clean_text,
    html_to_text,
    parsed_text,
    safe_url,
    sanitize_html,
)
from feeds.urls import plain_absolute, url_path
from feeds.xmlchars import xml_safe
from tests.url_pieces import URL_PIECES, URLS

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


@settings(max_examples=500, deadline=None)
@given(PLAIN)
def test_collapsed_text_is_what_a_whitespace_regex_gives(text: str) -> None:
    assert clean_text(text, collapse=True) == re.sub(r"\s+", " ", xml_safe(text)).strip()


# Absolute URLs mostly without what makes urlsplit change a URL or refuse it.
PLAIN_URLS = st.builds(
    "{}://{}{}".format,
    st.sampled_from(["https", "http", "ftp", "mailto", "x-y", "HTTPS"]),
    st.sampled_from(["a", "news.example.org", "@", ".", ":", "%7e", "x-y", "é"]),
    st.lists(
        URL_PIECES.filter(lambda piece: not re.search(r"[;?#\[\]\t\r\n]", piece)), max_size=8
    ).map("".join),
)


@given(
    url=PLAIN_URLS,
    base=st.sampled_from([None, "", "https://news.example.org/feed"]),
    schemes=st.sampled_from([SCHEMES, LINK_SCHEMES]),
)
@example(url="https://a/b", base=None, schemes=SCHEMES)
@example(url="ftp://a/b", base=None, schemes=SCHEMES)
@settings(max_examples=500, deadline=None)
def test_plain_absolute_urls_skip_urlsplit_and_are_judged_the_same(
    url: str, base: str | None, schemes: frozenset[str]
) -> None:
    assume(plain_absolute(url) and url[-1] > " ")  # safe_url strips controls and spaces
    assert safe_url(url, base, schemes) == checked_url(url, base, schemes)


@given(url=URLS | PLAIN_URLS)
@settings(max_examples=1000, deadline=None)
def test_url_paths_are_what_urlsplit_reads(url: str) -> None:
    try:
        expected = urlsplit(url).path
    except ValueError:
        expected = "refused"
    try:
        found = url_path(url)
    except ValueError:
        found = "refused"
    assert found == expected


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
