"""normalize: identities, dates, hashtags, images and bounds of ingested items."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.hashtags import hashtag
from feeds.ingest.dates import trusted_date
from feeds.ingest.normalize import (
    IngestedItem,
    NormalizeOptions,
    identity_url,
    normalize,
)
from feeds.ingest.parse import parse_feed
from feeds.ingest.parsed import DateValue, MediaRef, ParsedEntry, ParsedFeed
from feeds.ingest.plan import select
from feeds.models import CategoryMode, CategoryRule, Image, Source

DATA = Path(__file__).parent / "data" / "ingest"
FETCHED = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
SOURCE = Source(url="https://wire.example/rss", name="Wire", section="world",
                hashtags=(hashtag("Wire"),))  # fmt: skip
NO_DATE = DateValue(None, None)


def entry(**fields: object) -> ParsedEntry:
    values: dict[str, object] = {
        "id": None, "link": None, "title": "Title", "summary": "", "summary_base": SOURCE.url,
        "content_html": "<p>Body</p>", "content_base": SOURCE.url, "author": "",
        "categories": (), "published": NO_DATE, "updated": NO_DATE,
    }  # fmt: skip
    values.update(fields)
    return ParsedEntry(**values)  # type: ignore[arg-type]


def kept(feed: ParsedFeed, source: Source = SOURCE, **options: int) -> list[IngestedItem]:
    """The items a refresh would consider: distinct, newest first, at most max_items."""
    return select(normalize(feed, source, FETCHED, NormalizeOptions(**options)), source.max_items)[
        0
    ]


def run(*entries: ParsedEntry, source: Source = SOURCE, **options: int) -> list[IngestedItem]:
    return kept(
        ParsedFeed(title="F", link=None, version="rss20", entries=entries), source, **options
    )


def one(**fields: object) -> IngestedItem:
    (item,) = run(entry(**fields))
    return item


def test_rss_sample_end_to_end() -> None:
    feed = parse_feed((DATA / "rss_media.xml").read_bytes(), base_url=SOURCE.url, content_type=None)
    source = replace(SOURCE, categories=CategoryRule(CategoryMode.ALL))
    bare, tokyo = kept(feed, source)  # newest first: the undated one is "now"
    assert tokyo.origin_id == "wire-1"
    assert tokyo.published_at == datetime(2026, 1, 12, 8, 23, tzinfo=UTC)
    assert tokyo.original_date == "Mon, 12 Jan 2026 17:23:00 +0900"
    assert [t.display for t in tokyo.hashtags] == ["Wire", "Japan", "Markets"]
    assert tokyo.image == Image("https://wire.example/tokyo.jpg", "image/jpeg", 900)
    assert tokyo.summary == "Stocks rose."
    assert tokyo.content_html == "<p>Stocks <b>rose</b>.</p>"
    assert (tokyo.author, tokyo.link) == ("Jun", "https://wire.example/tokyo")
    assert bare.origin_id == "https://wire.example/relative/item"
    assert bare.published_at == FETCHED and bare.original_date is None


def test_atom_xml_base_urls_end_up_absolute() -> None:
    feed = parse_feed((DATA / "atom_xmlbase.xml").read_bytes(),
                      base_url="https://blog.example/feed.xml", content_type=None)  # fmt: skip
    seoul = kept(feed)[0]
    assert seoul.content_html == (
        '<p>See <a href="https://cdn.example/assets/map.html" rel="noopener noreferrer">the map'
        '</a> <img src="https://cdn.example/assets/line.png" alt="Line"></p>'
    )
    assert seoul.link == "https://blog.example/news/2026/seoul.html"
    assert seoul.image == Image("https://blog.example/news/2026/seoul.jpg", "image/jpeg", 2048)


def test_no_guid_and_no_link_uses_a_content_hash() -> None:
    first, second = run(entry(title="A"), entry(title="B"))
    assert first.origin_id.startswith("sha256:") and len(first.origin_id) == 71
    assert first.origin_id != second.origin_id
    assert one(title="A").origin_id == first.origin_id  # stable across fetches


def test_same_guid_twice_keeps_the_first() -> None:
    items = run(entry(id="g", title="first"), entry(id="g", title="second"))
    assert [item.title for item in items] == ["first"]


def test_guid_switching_http_to_https_is_one_identity() -> None:
    old = one(id="http://Wire.example/story/1?x=Y")
    new = one(id="https://wire.example/story/1?x=Y")
    assert old.origin_id == new.origin_id == "https://wire.example/story/1?x=Y"
    assert one(id="tag:wire.example,2026:1").origin_id == "tag:wire.example,2026:1"
    assert identity_url("https://x.example/Path") != identity_url("https://x.example/path")
    items = run(entry(id="http://x.example/1", title="old"), entry(id="https://x.example/1"))
    assert [item.title for item in items] == ["old"]


@pytest.mark.parametrize(
    "raw",
    ["2024-02-30T10:00:00Z", "Fri, 30 Feb 2024 10:00:00 GMT", "2024-01-01T10:00:00+25:00",
     "Mon, 01 Jan 2024 10:00:00 +2500", "2024-13-01T00:00:00Z", "2024-01-01T24:30:00Z"],
)  # fmt: skip
def test_invalid_dates_fall_back_to_the_fetch_time(raw: str) -> None:
    rolled = datetime(2024, 3, 1, 10, tzinfo=UTC)  # what feedparser makes of Feb 30
    item = one(published=DateValue(rolled, raw))
    assert item.published_at == FETCHED and item.original_date == raw
    assert trusted_date(DateValue(rolled, raw)) is None


def test_valid_dates_are_trusted() -> None:
    value = datetime(2024, 2, 29, 10, tzinfo=UTC)
    for raw in ("2024-02-29T10:00:00Z", "Thu, 29 Feb 2024 10:00:00 +0000", "29 Feb 24 10:00 GMT",
                "2024-02-29T19:00:00+09:00", "some format only feedparser knows"):  # fmt: skip
        assert trusted_date(DateValue(value, raw)) == value, raw


@pytest.mark.parametrize(
    ("value", "raw"),
    [(datetime(1, 1, 1, tzinfo=UTC), "Mon, 01 Jan 0001 00:00:00 GMT"),
     (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
     (datetime(1970, 1, 1, tzinfo=UTC), "Thu, 01 Jan 1970 00:00:00 GMT"),
     (datetime(1969, 12, 31, 19, tzinfo=UTC), "1970-01-01T00:00:00+05:00")],
)  # fmt: skip
def test_no_date_placeholders_count_as_missing(value: datetime, raw: str) -> None:
    assert trusted_date(DateValue(value, raw)) is None
    item = one(published=DateValue(value, raw))
    assert item.published_at == item.updated_at == FETCHED and item.original_date == raw
    real = datetime(1970, 1, 2, tzinfo=UTC)
    assert trusted_date(DateValue(real, "1970-01-02T00:00:00Z")) == real


def test_undated_entries_get_distinct_decreasing_dates_in_document_order() -> None:
    dated = DateValue(datetime(2026, 1, 10, tzinfo=UTC), "2026-01-10T00:00:00Z")
    year_one = DateValue(datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z")
    entries = [entry(id="a"), entry(id="b", published=dated), entry(id="c"),
               entry(id="d", published=year_one)]  # fmt: skip
    feed = ParsedFeed(title="F", link=None, version="rss20", entries=tuple(entries))
    fetched = FETCHED + timedelta(microseconds=250)  # whole seconds, like every writer
    items = [i for i in normalize(feed, SOURCE, fetched) if isinstance(i, IngestedItem)]
    dates = {i.origin_id: (i.published_at, i.updated_at, i.dated) for i in items}
    second = timedelta(seconds=1)
    assert dates == {
        "a": (FETCHED, FETCHED, False),
        "b": (dated.value, dated.value, True),
        "c": (FETCHED - second, FETCHED - second, False),
        "d": (FETCHED - 2 * second, FETCHED - 2 * second, False),
    }
    # Stable: the same document fetched later gives the same identities and hashes, so
    # nothing looks changed; the dates a store already holds are kept (see test_plan).
    again = [i for i in normalize(feed, SOURCE, FETCHED + timedelta(hours=1))]
    assert [i.content_hash for i in again] == [i.content_hash for i in items]  # type: ignore[union-attr]


def test_missing_dates_are_the_fetch_time() -> None:
    item = one()
    assert (item.published_at, item.updated_at, item.original_date) == (FETCHED, FETCHED, None)


def test_dates_ten_years_ahead_are_clamped() -> None:
    ahead = FETCHED + timedelta(days=3650)
    item = one(published=DateValue(ahead, "2036-01-10T12:00:00Z"))
    assert item.published_at == FETCHED and item.original_date == "2036-01-10T12:00:00Z"
    near = FETCHED + timedelta(minutes=30)  # inside the one-hour window: kept
    assert one(published=DateValue(near, "2026-01-12T12:30:00Z")).published_at == near


def test_updated_only_and_updated_before_published() -> None:
    updated = datetime(2026, 1, 10, tzinfo=UTC)
    item = one(updated=DateValue(updated, "2026-01-10T00:00:00Z"))
    assert item.published_at == item.updated_at == updated
    published = datetime(2026, 1, 11, tzinfo=UTC)
    item = one(published=DateValue(published, "2026-01-11T00:00:00Z"),
               updated=DateValue(updated, "2026-01-10T00:00:00Z"))  # fmt: skip
    assert item.updated_at == published


def test_dates_are_utc_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize(ParsedFeed("F", None, "rss20", ()), SOURCE, datetime(2026, 1, 1))


def test_at_most_max_items_newest_first() -> None:
    entries = [entry(id=str(day), published=DateValue(datetime(2026, 1, day, tzinfo=UTC),
                                                      f"2026-01-{day:02}T00:00:00Z"))
               for day in (3, 9, 1, 7, 5)]  # fmt: skip
    items = run(*entries, source=replace(SOURCE, max_items=3))
    assert [item.origin_id for item in items] == ["9", "7", "5"]


def test_category_modes() -> None:
    cats = ("South Korea", "politics", "!!!", "Asia")
    none = one(categories=cats)
    assert [t.display for t in none.hashtags] == ["Wire"]
    every = replace(SOURCE, categories=CategoryRule(CategoryMode.ALL))
    everything = run(entry(categories=cats), source=every)[0]
    assert [t.display for t in everything.hashtags] == ["Wire", "SouthKorea", "politics", "Asia"]
    rule = CategoryRule(CategoryMode.MAP, (("south korea", "SouthKorea"), ("ASIA", "EastAsia")))
    mapped = run(entry(categories=cats), source=replace(SOURCE, categories=rule))[0]
    assert [t.display for t in mapped.hashtags] == ["Wire", "SouthKorea", "EastAsia"]


def test_image_sources_in_order() -> None:
    thumb = MediaRef("https://wire.example/t.jpg")
    audio = MediaRef("https://wire.example/a.mp3", "audio/mpeg", 5)
    # No length stated: None (unknown), never 0, so writers can leave it out.
    assert one(enclosures=(audio,), media_thumbnails=(thumb,)).image == Image(
        "https://wire.example/t.jpg", "image/jpeg", None
    )
    from_content = one(content_html='<p><img alt="A cat" src="/cat.png"></p>').image
    assert from_content == Image("https://wire.example/cat.png", "image/png", None, "A cat")
    assert one(media_content=(MediaRef("javascript:alert(1)", "image/png"),)).image is None


def test_unsafe_html_and_control_characters_are_cleaned() -> None:
    content = '<a href="JaVaScRiPt&#58;alert(1)" onclick="x">x</a><script>y</script>'
    item = one(title="Bad\x01 <title>", author="A\x02n", content_html=content)
    assert item.content_html == '<a rel="noopener noreferrer">x</a>'
    assert (item.title, item.author) == ("Bad", "An")


def test_titles_and_summaries_are_bounded() -> None:
    item = one(title="word " * 200, summary="<p>" + "long " * 1000 + "</p>")
    assert len(item.title) <= 300 and item.title.endswith("…")
    assert len(item.summary) <= 1000
    assert one(title="", summary="Summary text here").title == "Summary text here"


def test_content_hash_tells_changed_from_unchanged() -> None:
    base = one(id="g")
    assert one(id="g").content_hash == base.content_hash
    assert one(id="g", content_html="<p>Edited</p>").content_hash != base.content_hash
    assert one(id="g", title="New").content_hash != base.content_hash


HOSTILE_TITLES = [
    ("&lt;script&gt;alert(1)&lt;/script&gt;Harbour reopens", "Harbour reopens"),
    ("&lt;img src=x onerror=alert(1)&gt;Ferry &amp;amp; port", "Ferry & port"),
    ("<![CDATA[<b onmouseover=alert(1)>Bold</b> <svg onload=alert(1)>tide]]>", "Bold"),
]


def rss_titled(title: str) -> bytes:
    return (
        "<rss version='2.0'><channel><title>W</title><link>https://wire.example/</link>"
        f"<item><guid>g</guid><title>{title}</title><description>d</description></item>"
        "</channel></rss>"
    ).encode()


def atom_titled(title: str, kind: str) -> bytes:
    return (
        "<feed xmlns='http://www.w3.org/2005/Atom'><title>W</title><id>urn:w</id>"
        "<updated>2026-01-12T00:00:00Z</updated><entry><id>urn:g</id>"
        f"<title type='{kind}'>{title}</title><updated>2026-01-12T00:00:00Z</updated>"
        "</entry></feed>"
    ).encode()


def titles_of(body: bytes) -> list[str]:
    feed = parse_feed(body, base_url=SOURCE.url, content_type=None)
    return [item.title for item in kept(feed)]


@pytest.mark.parametrize(("raw", "expected"), HOSTILE_TITLES)
def test_markup_is_stripped_from_rss_titles_labelled_text(raw: str, expected: str) -> None:
    assert titles_of(rss_titled(raw)) == [expected]


@pytest.mark.parametrize(("raw", "expected"), HOSTILE_TITLES[:2])
@pytest.mark.parametrize("kind", ["text", "html"])
def test_markup_is_stripped_from_atom_titles_of_either_type(
    raw: str, expected: str, kind: str
) -> None:
    if kind == "html":
        # In an HTML title the markup is escaped once more to be markup at all.
        raw = raw.replace("&", "&amp;")
    assert titles_of(atom_titled(raw, kind)) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<script>alert(1)</script>Harbour reopens", "Harbour reopens"),
        ('<img src="x" onerror="alert(1)">Ferry &amp; port', "Ferry & port"),
    ],
)
def test_markup_is_stripped_from_json_feed_titles(raw: str, expected: str) -> None:
    body = {"version": "https://jsonfeed.org/version/1.1", "title": "W",
            "items": [{"id": "g", "title": raw, "content_text": "t"}]}  # fmt: skip
    assert titles_of(json.dumps(body).encode()) == [expected]
