"""ParsedFeed -> IngestedItems: identity, safe HTML, trusted dates, hashtags, one image.

Identity (`origin_id`) is the entry's id, else its link, else a sha256 of title and
content. URL-shaped ids are compared with the scheme set to https and the host in lower
case: feeds that move to https rewrite their guids from `http://x/1` to `https://x/1`,
and the newsroom prefers missing the rare site serving different articles on http and
https over republishing every article once more. Other ids are kept exactly.

Dates are trusted only when the raw string describes a real instant: feedparser turns
2024-02-30 into 1 March and accepts a +2500 offset, so the raw text is checked here.
Placeholders for "no date" (`Mon, 01 Jan 0001`, Unix time 0) count as missing.
Untrusted or missing dates become the fetch time, less a second for each undated entry
before it in the document (distinct dates, in document order); dates further ahead than
the window are clamped to the fetch time. The raw string is kept as `original_date`.

What this module does not do: touch the store, or decide whether an item is new,
a duplicate, or too old to keep (plan.py compares `content_hash` with what is stored).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import mimetypes
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from feeds.hashtags import hashtag, merge, normalize_key
from feeds.ingest.parsed import DateValue, MediaRef, ParsedEntry, ParsedFeed
from feeds.ingest.sanitize import clean_text, html_to_text, safe_url, sanitize_html
from feeds.models import CategoryMode, CategoryRule, Hashtag, Image, Source, require_utc
from feeds.settings import Settings

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_RFC822 = re.compile(
    r"(\d{1,2})[\s-]+([A-Za-z]{3})[a-z]*\.?[\s-]+(\d{2,4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\s*$")
# Sanitised HTML always quotes attribute values with ", so plain patterns can read it.
_IMG = re.compile(r"<img\b[^>]*>")
_SRC = re.compile(r'\ssrc="([^"]+)"')
_ALT = re.compile(r'\salt="([^"]*)"')
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg")
_WORD = re.compile(r"[\w]+")
# Dates before this are placeholders for "no date", not news: .NET's DateTime.MinValue
# and Hugo's zero time (`Mon, 01 Jan 0001`), Unix time 0 and its time-zone shifts.
NO_DATE_BEFORE = datetime(1970, 1, 2, tzinfo=UTC)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NormalizeOptions:
    future_window_seconds: int = 3600
    title_max: int = 300
    summary_max: int = 1000
    author_max: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> NormalizeOptions:
        return cls(future_window_seconds=settings.future_date_window_seconds)


@dataclass(frozen=True)
class IngestedItem:
    origin_id: str
    title: str
    summary: str  # plain text
    content_html: str  # sanitised, absolute URLs
    author: str
    link: str | None
    published_at: datetime
    updated_at: datetime
    original_date: str | None
    hashtags: tuple[Hashtag, ...]
    image: Image | None
    content_hash: str
    # What was cut from the entry to make it fit (recorded on the source, not fatal).
    warnings: tuple[str, ...] = ()
    # False when the entry has no usable date and its dates are a fallback.
    dated: bool = True


@dataclass(frozen=True)
class Refusal:
    """An entry that could not be made into an item, and why; the other entries go on."""

    entry: str
    reason: str


def normalize(
    feed: ParsedFeed,
    source: Source,
    fetched_at: datetime,
    options: NormalizeOptions = NormalizeOptions(),
) -> tuple[IngestedItem | Refusal, ...]:
    """Every entry of the document in document order: an item, or why it was refused.

    Which items are kept (duplicates, `max_items`, retention) is the plan's decision.
    """
    fetched_at = require_utc(fetched_at, "fetched_at")
    found: list[IngestedItem | Refusal] = []
    # Undated entries get distinct fallback dates a second apart, decreasing in document
    # order: readers keep the document's order, and no two share an `updated`.
    undated = 0
    first_fallback = fetched_at.replace(microsecond=0)
    for position, entry in enumerate(feed.entries, start=1):
        fallback = first_fallback - timedelta(seconds=undated)
        if trusted_date(entry.published) is None and trusted_date(entry.updated) is None:
            undated += 1
        try:
            found.append(normalize_entry(entry, source, fetched_at, options, fallback))
        except Exception as exc:  # one unreadable entry must not cost the others
            log.warning("source %s: entry %d refused", source.id, position, exc_info=True)
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            found.append(Refusal(entry_label(entry, position), f"cannot be read: {reason}"))
    return tuple(found)


def entry_label(entry: ParsedEntry, position: int) -> str:
    """How an admin finds an entry in the document: its title, id or link, or its place."""
    title = " ".join(clean_text(entry.title).split())
    if title:
        return truncate(title, 80)
    return truncate(clean_text(entry.id or entry.link or "", collapse=True), 120) or (
        f"entry {position}"
    )


UNTITLED = "(untitled)"


def normalize_entry(
    entry: ParsedEntry,
    source: Source,
    fetched_at: datetime,
    options: NormalizeOptions,
    fallback: datetime | None = None,
) -> IngestedItem:
    """One entry as an item; *fallback* (default: the fetch time) dates an undated one."""
    content_html = sanitize_html(
        entry.content_html or entry.summary,
        entry.content_base if entry.content_html else entry.summary_base,
    )
    summary_text = html_to_text(entry.summary) or html_to_text(content_html)
    # Every writer needs a title (feedgen refuses an Atom entry without one). Titles are
    # text: markup is stripped whatever type the feed declared, because feeds label
    # `<script>…` titles as plain text and many readers show RSS titles as HTML.
    title = (
        truncate(html_to_text(entry.title), options.title_max)
        or truncate(summary_text, 100)
        or UNTITLED
    )
    link = safe_url(entry.link, source.url) if entry.link else None
    published, updated = entry_dates(
        entry, fetched_at, options.future_window_seconds, fallback or fetched_at
    )
    hashtags = merge(source.hashtags, category_hashtags(entry.categories, source.categories))
    image = pick_image(entry, content_html)
    item = IngestedItem(
        origin_id=origin_id(entry, link, title, content_html),
        title=title,
        summary=truncate(summary_text, options.summary_max),
        content_html=content_html,
        author=truncate(clean_text(entry.author, collapse=True), options.author_max),
        link=link,
        published_at=published,
        updated_at=updated,
        original_date=entry.published.raw or entry.updated.raw,
        hashtags=hashtags,
        image=image,
        content_hash="",
        dated=trusted_date(entry.published) is not None or trusted_date(entry.updated) is not None,
    )
    # Raw date strings, not the resolved datetimes: a missing date resolves to the fetch
    # time, which would make an untouched entry look changed on every fetch.
    fingerprint = [item.origin_id, item.title, item.summary, item.content_html, item.author,
                   item.link, entry.published.raw, entry.updated.raw,
                   [tag.key for tag in hashtags], image.url if image else None]  # fmt: skip
    digest = hashlib.sha256(json.dumps(fingerprint, ensure_ascii=False).encode()).hexdigest()
    return replace(item, content_hash=digest)


def origin_id(entry: ParsedEntry, link: str | None, title: str, content_html: str) -> str:
    raw = clean_text(entry.id or "", collapse=True)
    if raw:
        return identity_url(raw)
    if link:
        return identity_url(link)
    return "sha256:" + hashlib.sha256(f"{title}\n{content_html}".encode()).hexdigest()


def identity_url(value: str) -> str:
    """http and https forms of a URL-shaped id are one identity (see the module docstring)."""
    if not re.match(r"(?i)https?://", value):
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    rest = value[len(parts.scheme) + 3 + len(parts.netloc) :]
    return f"https://{parts.netloc.lower()}{rest}"


def trusted_date(date: DateValue) -> datetime | None:
    """feedparser's value, unless the raw string shows it rolled over or is out of range,
    or it is a "no date" placeholder (see NO_DATE_BEFORE)."""
    if date.value is None or date.value < NO_DATE_BEFORE:
        return None
    raw = date.raw or ""
    offset = _OFFSET.search(raw)
    if offset and (int(offset.group(2)) > 14 or int(offset.group(3)) > 59):
        return None
    iso, rfc = _ISO.search(raw), _RFC822.search(raw)
    if iso:
        year, month, day = (int(g) for g in iso.group(1, 2, 3))
        clock = iso.group(4, 5, 6)
    elif rfc and rfc.group(2).lower() in _MONTHS:
        year, month, day = int(rfc.group(3)), _MONTHS[rfc.group(2).lower()], int(rfc.group(1))
        year += (2000 if year < 50 else 1900) if year < 100 else 0
        clock = rfc.group(4, 5, 6)
    else:
        return date.value
    hour, minute, second = (int(part or 0) for part in clock)
    try:
        datetime(year, month, day, hour, minute, min(second, 59))  # noqa: DTZ001 (validity only)
    except ValueError:
        return None
    return date.value


def entry_dates(
    entry: ParsedEntry, fetched_at: datetime, window_seconds: int, fallback: datetime
) -> tuple[datetime, datetime]:
    limit = fetched_at + timedelta(seconds=window_seconds)

    def settle(value: datetime | None) -> datetime | None:
        return None if value is None else (fetched_at if value > limit else value)

    published = settle(trusted_date(entry.published))
    updated = settle(trusted_date(entry.updated))
    published = published or updated or fallback
    return published, max(updated or published, published)


def category_hashtags(categories: tuple[str, ...], rule: CategoryRule) -> tuple[Hashtag, ...]:
    if rule.mode is CategoryMode.NONE:
        return ()
    if rule.mode is CategoryMode.MAP:
        wanted = {normalize_key(outside): display for outside, display in rule.mapping}
        found = (wanted.get(normalize_key(category)) for category in categories)
        return merge(*(_tag(display) for display in found if display))
    return merge(*(_tag(category) for category in categories))


def _tag(text: str) -> tuple[Hashtag, ...]:
    """A category as one hashtag: "South Korea" -> #SouthKorea; nothing if it has no word."""
    words = _WORD.findall(text)
    if not words:
        return ()
    joined = words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])
    try:
        return (hashtag(joined),)
    except ValueError:
        return ()


def pick_image(entry: ParsedEntry, content_html: str) -> Image | None:
    """Enclosure, then media:content, then media:thumbnail, then the first <img>."""
    candidates = [m for m in entry.enclosures if _is_image(m)]
    candidates += [m for m in entry.media_content if _is_image(m)]
    candidates += list(entry.media_thumbnails)
    for media in candidates:
        url = safe_url(media.url, entry.content_base)
        if url:
            mime = media.type or _guess_type(url)
            return Image(url=url, mime_type=mime, length=media.length or None)
    for tag in _IMG.findall(content_html):
        src, alt = _SRC.search(tag), _ALT.search(tag)
        if src:
            url = html.unescape(src.group(1))
            alt_text = html.unescape(alt.group(1)) if alt else ""
            return Image(url=url, mime_type=_guess_type(url), length=None, alt=alt_text)
    return None


def _is_image(media: MediaRef) -> bool:
    if media.medium or media.type:
        return media.medium == "image" or media.type.startswith("image/")
    return urlsplit(media.url).path.lower().endswith(_IMAGE_EXTENSIONS)


def _guess_type(url: str) -> str:
    # An image whose type nobody stated: JPEG is by far the most common, and readers sniff.
    return mimetypes.guess_type(urlsplit(url).path)[0] or "image/jpeg"


def truncate(text: str, limit: int) -> str:
    """*text* cut to at most *limit* characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"
