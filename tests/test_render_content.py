"""absolutize_html / absolute_url: relative URLs in article HTML made absolute."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeds.render.content import absolute_url, absolutize_html, absolutize_srcset
from tests.url_pieces import URL_PIECES, URLS

BASE = "https://news.example.org/articles/bridge/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("photo.jpg", "https://news.example.org/articles/bridge/photo.jpg"),
        ("../other", "https://news.example.org/articles/other"),
        ("/tags/busan", "https://news.example.org/tags/busan"),
        ("//cdn.example.net/a.png", "https://cdn.example.net/a.png"),
        ("?page=2", "https://news.example.org/articles/bridge/?page=2"),
        ("#comments", "https://news.example.org/articles/bridge/#comments"),
        ("  spaced.jpg ", "https://news.example.org/articles/bridge/spaced.jpg"),
        ("https://elsewhere.example/x", "https://elsewhere.example/x"),
        ("mailto:desk@example.org", "mailto:desk@example.org"),
        ("data:image/gif;base64,R0lG", "data:image/gif;base64,R0lG"),
        ("", ""),
        ("http://[::1", "http://[::1"),
    ],
)
def test_absolute_url(url: str, expected: str) -> None:
    assert absolute_url(url, BASE) == expected


def _resolved_by_urljoin(url: str, base: str) -> str:
    """The plain rule absolute_url keeps (its fast path for absolute URLs included)."""
    stripped = url.strip()
    if not stripped:
        return url
    try:
        return urljoin(base, stripped)
    except ValueError:
        return url


@given(
    url=URLS,
    base=st.sampled_from([BASE, "http://plain.example/a/b", "https://news.example.org"]),
)
@example(url="https:///x", base=BASE)
@example(url=" https://a：b/ ", base=BASE)
@example(url="https://a/b;", base=BASE)
@settings(max_examples=3000, deadline=None)
def test_absolute_url_agrees_with_urljoin(url: str, base: str) -> None:
    assert absolute_url(url, base) == _resolved_by_urljoin(url, base)


@given(
    url=st.builds(
        "{}://{}/{}".format,
        st.sampled_from(["https", "http", "ftp"]),
        st.text(st.characters(codec="ascii", exclude_characters="/"), min_size=1, max_size=12),
        st.text(st.characters(codec="ascii"), max_size=20),
    )
)
@settings(max_examples=3000, deadline=None)
def test_absolute_urls_come_back_as_urljoin_gives_them(url: str) -> None:
    assert absolute_url(url, BASE) == _resolved_by_urljoin(url, BASE)


@given(
    url=st.lists(URL_PIECES, max_size=8).map(lambda pieces: "/" + "".join(pieces)),
    base=st.sampled_from(
        [
            BASE,
            "http://plain.example",
            "https://u@h.example:8443/a/b?q#f",
            "HTTP://up.example/",
            "ftp://files.example/x/",
            "https://h.example/a;p/",
            "https://é.example/",
            "https:///x",
        ]
    ),
)
@example(url="/media/a.png", base="https://news.example.org")
@example(url="/a/./b", base=BASE)
@example(url="/a/..", base=BASE)
@settings(max_examples=3000, deadline=None)
def test_paths_from_the_root_resolve_as_urljoin_gives_them(url: str, base: str) -> None:
    """The shortcut for "/media/..." references agrees with urljoin on any base."""
    assert absolute_url(url, base) == _resolved_by_urljoin(url, base)


def test_href_src_poster_cite_rewritten() -> None:
    html = (
        '<p><a href="../x">x</a> <img src="a.jpg" alt="A"></p>'
        '<video poster="/p.png" src="v.mp4"></video>'
        '<blockquote cite="q.html">Quote</blockquote><q cite="/q2">q</q>'
    )
    assert absolutize_html(html, BASE) == (
        '<p><a href="https://news.example.org/articles/x">x</a> '
        '<img src="https://news.example.org/articles/bridge/a.jpg" alt="A"></p>'
        '<video poster="https://news.example.org/p.png" '
        'src="https://news.example.org/articles/bridge/v.mp4"></video>'
        '<blockquote cite="https://news.example.org/articles/bridge/q.html">Quote</blockquote>'
        '<q cite="https://news.example.org/q2">q</q>'
    )


def test_every_srcset_candidate_rewritten_with_descriptors() -> None:
    html = (
        '<picture><source srcset="w.webp 1x, w2.webp 2x">'
        '<img srcset="s.jpg 480w,m.jpg  800w, /l.jpg"></picture>'
    )
    out = absolutize_html(html, BASE)
    assert 'srcset="https://news.example.org/articles/bridge/w.webp 1x, ' in out
    assert "https://news.example.org/articles/bridge/w2.webp 2x" in out
    assert (
        'srcset="https://news.example.org/articles/bridge/s.jpg 480w, '
        'https://news.example.org/articles/bridge/m.jpg 800w, https://news.example.org/l.jpg"'
    ) in out


def test_srcset_urls_may_contain_commas() -> None:
    value = "data:image/png;base64,AAA,BBB 1x, img,2.jpg 2x, last.jpg,"
    assert absolutize_srcset(value, BASE) == (
        "data:image/png;base64,AAA,BBB 1x, "
        "https://news.example.org/articles/bridge/img,2.jpg 2x, "
        "https://news.example.org/articles/bridge/last.jpg"
    )


def test_no_html_or_body_wrapper_and_text_kept() -> None:
    html = "Lead text <b>bold</b> tail\n<p>para</p> trailing"
    assert absolutize_html(html, BASE) == html
    assert absolutize_html("<html><body><p>x</p></body></html>", BASE) == "<p>x</p>"


def test_absolute_and_special_urls_untouched() -> None:
    html = (
        '<a href="https://elsewhere.example/">e</a><a href="mailto:a@b.example">m</a><!-- note -->'
    )
    assert absolutize_html(html, BASE) == html


def test_non_latin_text_and_entities() -> None:
    html = '<p>부산 &amp; 東京 <a href="태그">한국</a></p>'
    out = absolutize_html(html, BASE)
    assert "부산 &amp; 東京" in out
    # libxml2's HTML serialiser percent-encodes non-ASCII in URL attributes (as UTF-8).
    assert 'href="https://news.example.org/articles/bridge/%ED%83%9C%EA%B7%B8"' in out


def test_empty_and_whitespace_content_returned_as_is() -> None:
    assert absolutize_html("", BASE) == ""
    assert absolutize_html("  \n", BASE) == "  \n"


def test_deterministic() -> None:
    html = '<p class="a" id="b"><img alt="x" src="a.jpg" srcset="a.jpg 1x"></p>'
    assert absolutize_html(html, BASE) == absolutize_html(html, BASE)


def test_control_character_references_in_urls_do_not_break_the_feed() -> None:
    # Stored HTML that was never sanitised may hold them: the feed must still render.
    out = absolutize_html('<a href=" &#1;javascript:x">a</a><img srcset="&#2;a.jpg 1x">', BASE)
    assert "\x01" not in out and "\x02" not in out
    assert out.startswith("<a href=")
