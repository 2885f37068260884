"""ParsedFeed -> IngestedItems: identity, safe HTML, trusted dates, hashtags, one image.

Identity (`origin_id`) is the entry's id, else its link, else a sha256 of title and
content. URL-shaped ids are compared with the scheme set to https and the host in lower
case: feeds that move to https rewrite their guids from `http://x/1` to `https://x/1`,
and the newsroom prefers missing the rare site serving different articles on http and
https over republishing every article once more. Other ids are kept exactly.

Which dates to trust is dates.py's rule. Untrusted or missing dates become the fetch
time, less a second for each undated entry before it in the document (distinct dates,
in document order). The raw string is kept as `original_date`. The image is chosen by
images.py; HTML is bounded (feeds/htmlbound.py) before it is sanitised.

What this module does not do: touch the store, or decide whether an item is new,
a duplicate, or too old to keep (plan.py compares `content_hash` with what is stored).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from feeds.hashtags import hashtag, merge, normalize_key
from feeds.htmlbound import flatten_deep
from feeds.ingest.dates import entry_dates, trusted_dates
from feeds.ingest.images import pick_image
from feeds.ingest.parsed import ParsedEntry, ParsedFeed
from feeds.ingest.sanitize import clean_text, html_to_text, safe_url, sanitize_html
from feeds.models import CategoryMode, CategoryRule, Hashtag, Image, Source, require_utc
from feeds.settings import Settings

_WORD = re.compile(r"[\w]+")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NormalizeOptions:
    future_window_seconds: int = 3600
    title_max: int = 300
    summary_max: int = 1000
    author_max: int = 200
    # Bounds checked before any HTML is parsed (see feeds/htmlbound.py).
    entry_max_bytes: int = 1024 * 1024
    html_max_depth: int = 100
    max_hashtags: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> NormalizeOptions:
        return cls(
            future_window_seconds=settings.future_date_window_seconds,
            entry_max_bytes=settings.ingest_entry_max_bytes,
            html_max_depth=settings.ingest_html_max_depth,
            max_hashtags=settings.max_hashtags_per_article,
        )


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


class EntryRefused(ValueError):
    """An entry this service will not take, and why (it is skipped; the others go on)."""


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
    check: Callable[[str], None] | None = None,
) -> tuple[IngestedItem | Refusal, ...]:
    """Every entry of the document in document order: an item, or why it was refused.

    Which items are kept (duplicates, `max_items`, retention) is the plan's decision.
    *check* is called before each entry with where the work is; it may raise to stop
    (a refresh out of time).
    """
    fetched_at = require_utc(fetched_at, "fetched_at")
    found: list[IngestedItem | Refusal] = []
    # Undated entries get distinct fallback dates a second apart, decreasing in document
    # order: readers keep the document's order, and no two share an `updated`.
    undated = 0
    first_fallback = fetched_at.replace(microsecond=0)
    for position, entry in enumerate(feed.entries, start=1):
        if check is not None:
            check(f"at entry {position} of {len(feed.entries)}")
        fallback = first_fallback - timedelta(seconds=undated)
        trusted = trusted_dates(entry)
        if trusted == (None, None):
            undated += 1
        try:
            found.append(normalize_entry(entry, source, fetched_at, options, fallback, trusted))
        except EntryRefused as exc:
            found.append(Refusal(entry_label(entry, position), str(exc)))
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
    trusted: tuple[datetime | None, datetime | None] | None = None,
) -> IngestedItem:
    """One entry as an item; *fallback* (default: the fetch time) dates an undated one;
    *trusted* is `trusted_dates(entry)` when the caller has it already.

    EntryRefused when its text is too large to take; markup nested too deep is flattened
    (its text kept) before nh3 sees it, with a warning.
    """
    entry, flattened = bounded(entry, options)
    warnings = []
    if flattened:
        warnings.append(
            f"markup nested deeper than {options.html_max_depth} levels was removed "
            f"({flattened} tags); its text is kept"
        )
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
    trusted = trusted or trusted_dates(entry)
    published, updated = entry_dates(
        entry, fetched_at, options.future_window_seconds, fallback or fetched_at, trusted
    )
    hashtags = merge(source.hashtags, category_hashtags(entry.categories, source.categories))
    if len(hashtags) > options.max_hashtags:
        # The source's own hashtags come first, so they are never the ones cut.
        warnings.append(f"hashtags cut to the first {options.max_hashtags} of {len(hashtags)}")
        hashtags = hashtags[: options.max_hashtags]
    image = pick_image(entry, content_html)
    identity = origin_id(entry, link, title, content_html)
    summary = truncate(summary_text, options.summary_max)
    author = truncate(clean_text(entry.author, collapse=True), options.author_max)
    # Raw date strings, not the resolved datetimes: a missing date resolves to the fetch
    # time, which would make an untouched entry look changed on every fetch.
    fingerprint = [identity, title, summary, content_html, author, link, entry.published.raw,
                   entry.updated.raw, [tag.key for tag in hashtags],
                   image.url if image else None]  # fmt: skip
    digest = hashlib.sha256(json.dumps(fingerprint, ensure_ascii=False).encode()).hexdigest()
    return IngestedItem(
        origin_id=identity,
        title=title,
        summary=summary,
        content_html=content_html,
        author=author,
        link=link,
        published_at=published,
        updated_at=updated,
        original_date=entry.published.raw or entry.updated.raw,
        hashtags=hashtags,
        image=image,
        content_hash=digest,
        dated=trusted != (None, None),
        warnings=tuple(warnings),
    )


def bounded(entry: ParsedEntry, options: NormalizeOptions) -> tuple[ParsedEntry, int]:
    """The entry with its markup nested at most `html_max_depth` deep, and how many tags
    were removed to make it so; EntryRefused when a text field is over `entry_max_bytes`."""
    texts = {"title": entry.title, "summary": entry.summary, "content": entry.content_html}
    for name, text in texts.items():
        if len(text) * 4 <= options.entry_max_bytes:
            continue  # no character takes more than four bytes in UTF-8
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > options.entry_max_bytes:
            raise EntryRefused(
                f"its {name} is {size:,} bytes, over the {options.entry_max_bytes:,}-byte "
                "limit for one entry"
            )
    depth = options.html_max_depth
    (title, cut_title), (summary, cut_summary), (content, cut_content) = (
        flatten_deep(text, depth) for text in texts.values()
    )
    flattened = cut_title + cut_summary + cut_content
    if not flattened:
        return entry, 0
    return replace(entry, title=title, summary=summary, content_html=content), flattened


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


def category_hashtags(categories: tuple[str, ...], rule: CategoryRule) -> tuple[Hashtag, ...]:
    if rule.mode is CategoryMode.NONE:
        return ()
    if rule.mode is CategoryMode.MAP:
        wanted = {normalize_key(outside): display for outside, display in rule.mapping}
        found = (wanted.get(normalize_key(category)) for category in categories)
        return merge(*(_tag(display) for display in found if display))
    return merge(*(_tag(category) for category in categories))


@functools.lru_cache(maxsize=4096)
def _tag(text: str) -> tuple[Hashtag, ...]:
    """A category as one hashtag: "South Korea" -> #SouthKorea; nothing if it has no word.

    Cached: a feed repeats a few categories over hundreds of entries, and the Unicode
    normalisation of each costs more than the rest of the entry's categories.
    """
    words = _WORD.findall(text)
    if not words:
        return ()
    joined = words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])
    try:
        return (hashtag(joined),)
    except ValueError:
        return ()


def truncate(text: str, limit: int) -> str:
    """*text* cut to at most *limit* characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"
