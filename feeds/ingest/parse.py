"""Bytes -> ParsedFeed. The only module in the project that imports feedparser.

Well-formed RSS 2.0 and Atom 1.0 in UTF-8 are read by xmlfeed.py (lxml, several times
faster) into the same dictionaries feedparser gives; anything it is not sure of is
read by feedparser as below. Both go through the same shaping (`_entry`), and
ParsedFeed.parser says which one ran.

Before feedparser sees a document it is refused when its DTD declares entities
(billion laughs, one big entity used thousands of times, SYSTEM entities reading local
files or internal URLs): feedparser's lenient parser expands flat entities itself.
feedparser is only ever given an in-memory stream: it opens a str, and even bytes, as a path or URL.

Encoding: a document that says (or is assumed to be) UTF-8 but is not valid UTF-8 is
repaired byte by byte: each invalid byte is read as Windows-1252. A cp1252 document
mislabelled UTF-8 then reads right, and a UTF-8 document with one stray byte keeps all
its other characters (feedparser would re-read the whole document as cp1252 and turn
every accented letter into mojibake). The repair lives in decode.py; JSON Feed is read
by jsonfeed.py into the same dataclasses.

feedparser's sanitiser and relative-URI resolver are turned off (together 2-3x slower):
sanitize.py makes HTML safe and absolute later, using the xml:base feedparser records
for each content element. Plain values come out: no sanitising and no date policy here
(normalize.py decides what a bad date means).
"""

from __future__ import annotations

import calendar
import html
import html.entities
import io
import re
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser
from feedparser.datetimes import _parse_date
from feedparser.encodings import RE_XML_PI_ENCODING, convert_to_utf8, lazy_chardet_encoding
from feedparser.exceptions import ThingsNobodyCaresAboutButMe
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import _HTMLSanitizer
from feedparser.urls import _urljoin, make_safe_absolute_uri

from feeds.errors import ParseError
from feeds.ingest import jsonfeed, xmlfeed
from feeds.ingest.decode import repair_utf8
from feeds.ingest.parsed import (
    MAX_HUBS,
    DateValue,
    MediaRef,
    ParsedEntry,
    ParsedFeed,
    SourceRef,
)
from feeds.ingest.sanitize import html_to_text
from feeds.urls import plain_absolute

_ENTITY = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
# feedparser compares each category of an entry with every one before it: 20,000 in one
# entry cost 6 s, and it cannot be interrupted. More than any newsroom files are cut from
# the bytes first (hashtags are capped much lower, later).
MAX_CATEGORIES = 1000
_ENTRY_OR_CATEGORY = re.compile(
    rb"<(?:[\w.-]+:)?(?:item|entry)\b"
    rb"|<((?:[\w.-]+:)?(?:category|subject))\b[^<>]*?"
    rb"(?:/>|>(?:<!\[CDATA\[[^\]]*\]\]>|[^<])*</\1\s*>)"
)
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.IGNORECASE)
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_CHALLENGE = re.compile(
    rb"cf-chl|challenge-platform|just a moment\.\.\.|attention required|captcha|"
    rb"enable javascript and cookies",
    re.IGNORECASE,
)


def _joined(base: str, uri: str) -> str:
    """feedparser's _urljoin, without its two parses of a URL they would hand back as it
    is (tests/test_parse_fast.py checks the two agree): most links in a feed."""
    return uri if plain_absolute(uri) else _urljoin(base, uri)


# feedparser's own rules, shared with the fast reader so both read values alike.
RULES = xmlfeed.Rules(
    parse_date=_parse_date,
    urljoin=_joined,
    safe_absolute_uri=make_safe_absolute_uri,
    cp1252=_cp1252,
    html_elements=frozenset(_HTMLSanitizer.acceptable_elements),
    html_entities=frozenset(html.entities.entitydefs),
    xml_encoding=RE_XML_PI_ENCODING,
    guesses_encoding=lazy_chardet_encoding is not None,
    known_namespaces=frozenset(uri.lower() for uri in _FeedParserMixin.namespaces),
    handlers=frozenset(
        name.lower() for name in dir(_FeedParserMixin) if name.startswith(("_start_", "_end_"))
    ),
)


def parse_feed(body: bytes, *, base_url: str, content_type: str | None) -> ParsedFeed:
    """Parse an RSS, Atom, RDF or JSON Feed document; raise ParseError when it is not one."""
    if not body.strip():
        raise ParseError("not a feed: the response body is empty")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if body.lstrip()[:1] in (b"{", b"[") or media_type.endswith("json"):
        return jsonfeed.parse_json_feed(body, base_url=base_url)
    fast = read_fast(body, base_url=base_url, content_type=content_type)
    if fast is not None:
        return fast
    return parse_with_feedparser(body, base_url=base_url, content_type=content_type)


def read_fast(body: bytes, *, base_url: str, content_type: str | None) -> ParsedFeed | None:
    """The document read by xmlfeed.py, or None when feedparser must read it. A DTD
    anywhere sends it to feedparser, behind `refuse_entities`."""
    if _DOCTYPE.search(body):
        return None
    body = repair_utf8(body, content_type)
    if not xmlfeed.reads_as_utf8(body, content_type, RULES):
        return None
    raw = xmlfeed.read(body, base_url, RULES)
    if raw is None:
        return None
    return _feed(raw.version, raw.feed, raw.entries, base_url, parser="lxml")


def parse_with_feedparser(body: bytes, *, base_url: str, content_type: str | None) -> ParsedFeed:
    """What feedparser reads of an RSS, Atom or RDF document (the fallback path)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    refuse_entities(body, content_type)
    body = repair_utf8(body, content_type)
    body, cut = cut_categories(body, MAX_CATEGORIES)
    headers = {"content-location": base_url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, not bytes: feedparser tries open() on bytes too, so a body that happens
    # to be a local path ("/etc/passwd") would be read from disk.
    result = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    version = result.get("version") or ""
    if not version:
        raise ParseError(f"not a feed: {_describe(body, media_type, result)}")
    feed = result.get("feed", {})
    problem = result.get("bozo_exception") if result.get("bozo") else None
    if isinstance(problem, ThingsNobodyCaresAboutButMe):
        problem = None  # a mislabelled Content-Type or charset, not a broken document
    entries = result.get("entries", [])
    if problem and not entries:
        # The lenient parser gave up before any entry: not an empty feed but a broken one.
        raise ParseError(f"malformed {version} document, no entry readable: {_problem(problem)}")
    notes: tuple[str, ...] = ()
    if cut:
        notes = (f"{cut} categories past the first {MAX_CATEGORIES} of an entry were dropped",)
    return _feed(
        version, feed, entries, base_url, "feedparser", _problem(problem) if problem else None,
        notes,
    )  # fmt: skip


def _feed(
    version: str,
    feed: Any,
    entries: Any,
    base_url: str,
    parser: str,
    problem: str | None = None,
    notes: tuple[str, ...] = (),
) -> ParsedFeed:
    """A ParsedFeed from feedparser's result, or xmlfeed's dictionaries of the same shape."""
    return ParsedFeed(
        title=_text(feed, "title"),
        link=feed.get("link") or None,
        version=version,
        entries=tuple(_entry(entry, base_url) for entry in entries),
        problem=problem,
        language=str(feed.get("language") or "").strip() or None,
        notes=notes,
        hubs=_links(feed, "hub")[:MAX_HUBS],
        self_url=next(iter(_links(feed, "self")), None),
        parser=parser,
    )


def _links(feed: Any, rel: str) -> tuple[str, ...]:
    """The http(s) hrefs of the feed's links with this rel, in document order."""
    found = []
    for link in feed.get("links") or ():
        href = str(link.get("href") or "").strip()
        if link.get("rel") == rel and href.startswith(("http://", "https://")):
            found.append(href)
    return tuple(dict.fromkeys(found))


def cut_categories(body: bytes, limit: int) -> tuple[bytes, int]:
    """*body* without the category elements past the first *limit* of each entry, and
    how many were cut. One pass over the bytes; a category written in a way the pattern
    does not know is left for feedparser, which is slow with many but still correct."""
    kept: list[bytes] = []
    count = cut = kept_to = 0
    for match in _ENTRY_OR_CATEGORY.finditer(body):
        if match.group(1) is None:  # an entry starts
            count = 0
            continue
        count += 1
        if count > limit:
            kept.append(body[kept_to : match.start()])
            kept_to = match.end()
            cut += 1
    if not cut:
        return body, 0
    kept.append(body[kept_to:])
    return b"".join(kept), cut


def _problem(exc: Any) -> str:
    """What the XML parser said, where it was (its own text says "<unknown>:1:82:")."""
    if isinstance(exc, SAXParseException):
        return f"{exc.getMessage()} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    return f"{type(exc).__name__}: {exc}"


def refuse_entities(body: bytes, content_type: str | None) -> None:
    """Raise ParseError when a DTD may declare entities, in any encoding feedparser reads."""
    converted = convert_to_utf8({"content-type": content_type or ""}, body, {})
    # UTF-16/32 put NUL bytes between the ASCII of `<!ENTITY`; dropping them finds it.
    for view in (body.replace(b"\x00", b""), converted):
        if _DOCTYPE.search(view) and _ENTITY.search(view):
            raise ParseError(
                "refused: the document's DTD declares XML entities (<!ENTITY>), which can "
                "expand without limit or read local files and internal URLs"
            )


def _describe(body: bytes, media_type: str, result: Any) -> str:
    head = body[:4096]
    if "html" in media_type or _HTML_START.match(head):
        if _CHALLENGE.search(body[:65536]):
            return "an HTML bot-challenge page (the site blocks automated readers)"
        return "an HTML page, not RSS, Atom or JSON Feed (is the URL the site's home page?)"
    reason = result.get("bozo_exception")
    return "no RSS, Atom or RDF root element" + (f" ({reason})" if reason else "")


def _mapping(value: Any) -> Any:
    """*value* when it is a mapping, else an empty one. An extension element `<p:l>`
    feedparser does not know is stored under `p_l`: `<author:detail>` puts a string where
    `author_detail` should be, and one such element must not fail the document."""
    return value if isinstance(value, dict) else {}


def _mappings(value: Any) -> list[Any]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(node: Any, key: str) -> str:
    """A text construct as plain text, whatever type the feed declared."""
    detail = _mapping(node.get(f"{key}_detail"))
    value = node.get(key) or ""
    if "html" in (detail.get("type") or ""):
        return html_to_text(value)
    return " ".join(str(value).split())


def _as_html(detail: Any, value: str) -> str:
    kind = (detail or {}).get("type") or "text/html"
    return value if "html" in kind else html.escape(value)


def _entry(entry: Any, base_url: str) -> ParsedEntry:
    summary_detail = _mapping(entry.get("summary_detail"))
    summary = _as_html(summary_detail, entry.get("summary") or "")
    contents = entry.get("content") or []
    # Prefer an HTML body when a feed offers several alternatives.
    chosen = next((c for c in contents if "html" in (c.get("type") or "")), None) or (
        contents[0] if contents else None
    )
    author = _mapping(entry.get("author_detail")).get("name") or entry.get("author") or ""
    source = entry.get("source") or {}
    return ParsedEntry(
        id=(str(entry.get("id")).strip() or None) if entry.get("id") else None,
        link=entry.get("link") or None,
        title=_text(entry, "title"),
        summary=summary,
        summary_base=summary_detail.get("base") or base_url,
        content_html=_as_html(chosen, chosen.get("value") or "") if chosen else "",
        content_base=(chosen.get("base") if chosen else None) or base_url,
        author=" ".join(str(author).split()),
        categories=tuple(
            dict.fromkeys(
                str(tag.get("term") or tag.get("label") or "").strip()
                for tag in entry.get("tags") or []
                if (tag.get("term") or tag.get("label"))
            )
        ),
        published=_date(entry, "published"),
        updated=_date(entry, "updated"),
        enclosures=tuple(_media(e, "href", "length") for e in entry.get("enclosures") or []),
        media_content=tuple(
            _media(m, "url", "filesize") for m in _mappings(entry.get("media_content"))
        ),
        media_thumbnails=tuple(
            _media(m, "url", "") for m in _mappings(entry.get("media_thumbnail"))
        ),
        source=SourceRef(str(source.get("title") or ""), str(source.get("href") or ""))
        if source.get("title") or source.get("href")
        else None,
    )


def _date(entry: Any, key: str) -> DateValue:
    # dict.get: feedparser's own get() falls back from `updated` to `published`, warning.
    raw = dict.get(entry, key)
    parsed = dict.get(entry, f"{key}_parsed")
    if not isinstance(parsed, tuple):  # a time.struct_time, unless an element clobbered it
        parsed = None
    try:
        value = datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None
    except (OverflowError, ValueError, OSError):
        value = None  # 9999-12-31T23:59:59-12:00 is past datetime's range in UTC
    return DateValue(value, str(raw).strip() if raw else None)


def _media(node: Any, url_key: str, length_key: str) -> MediaRef:
    length = str(node.get(length_key) or "").strip() if length_key else ""
    return MediaRef(
        url=str(node.get(url_key) or "").strip(),
        type=str(node.get("type") or "").strip().lower(),
        length=int(length) if length.isdigit() else 0,
        medium=str(node.get("medium") or "").strip().lower(),
    )
