"""Deciding what one fetch writes: a pure function of the entries and the stored index.

Given the source, the document's entries (normalised, in document order) and the stored
index (origin id -> what the store holds for it), `plan_refresh` gives every entry one
fate: insert, update, unchanged, or skipped with a reason (a duplicate within the
document, beyond the source's `max_items`, older than its retention, refused by the
normaliser). The counts of the plan add up to the entries of the document.

What this module does not do: read or write the store (the service reads the index,
the store applies the plan in one transaction), fetch, or decide which feeds move.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from feeds.absolutize import article_link, feed_copy, with_feed_copy
from feeds.ingest.normalize import IngestedItem, Refusal, truncate
from feeds.models import Article, FeedContent, Image, Origin, Source, Status
from feeds.refresh_plan import Insert, RefreshPlan, Skipped, SkipReason, StoredEntry, Update
from feeds.slugs import slugify


def select(
    entries: Sequence[IngestedItem | Refusal], max_items: int
) -> tuple[list[IngestedItem], list[Skipped]]:
    """The newest `max_items` distinct entries (first occurrence of each identity kept),
    newest first, and every other entry with the reason it was left out."""
    skipped: list[Skipped] = []
    seen: dict[str, int] = {}
    unique: list[IngestedItem] = []
    for position, entry in enumerate(entries, start=1):
        if isinstance(entry, Refusal):
            skipped.append(Skipped(entry.entry, SkipReason.REFUSED, entry.reason))
        elif entry.origin_id in seen:
            detail = f"same id as entry {seen[entry.origin_id]} of the document"
            skipped.append(Skipped(label(entry), SkipReason.DUPLICATE, detail))
        else:
            seen[entry.origin_id] = position
            unique.append(entry)
    newest = sorted(unique, key=lambda item: item.published_at, reverse=True)
    limit = max(max_items, 0)
    for item in newest[limit:]:
        detail = f"beyond the newest {limit} entries the source takes (max_items)"
        skipped.append(Skipped(label(item), SkipReason.OVER_LIMIT, detail))
    return newest[:limit], skipped


def plan_refresh(
    source: Source,
    entries: Sequence[IngestedItem | Refusal],
    stored: Mapping[str, StoredEntry],
    *,
    now: datetime,
    language: str,
    guid_authority: str,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    document_warnings: Sequence[str] = (),
    taken: Collection[datetime] = (),
    root: str | None = None,
) -> RefreshPlan:
    """Insert, update or skip every entry; `new_id` makes GUIDs (random by default).

    Warnings are the document's own (*document_warnings*) and those of every entry kept,
    changed or not: they describe what the stored article lacks. *taken* holds the whole
    seconds stored articles already show near the undated entries' fallback dates. With
    the public base *root*, each new article carries its feed copy against its first
    slug already, which `settle` keeps unless that slug is taken.
    """
    assert source.id is not None
    kept, skipped = select(entries, source.max_items)
    cutoff = now - timedelta(days=source.retention_days)
    inserts: list[Insert] = []
    updates: list[Update] = []
    warnings = list(document_warnings)
    unchanged = 0
    spare = FallbackDates(taken)
    for item in kept:
        found = stored.get(item.origin_id)
        fate = _fate(item, found, cutoff)
        if fate == "unchanged":
            unchanged += 1
            warnings.extend(f"{label(item)}: {note}" for note in item.warnings)
            continue
        if fate == "too_old":
            # Housekeeping would prune it at once, and the next fetch bring it back.
            detail = (
                f"last changed {item.updated_at:%Y-%m-%d}, older than the source's "
                f"{source.retention_days}-day retention"
            )
            skipped.append(Skipped(label(item), SkipReason.TOO_OLD, detail))
            continue
        if found is None:
            unique = new_id()
            guid = f"tag:{guid_authority}:source/{source.id}/{unique}"
            slugs = slug_candidates(item.title, f"{source.id}:{item.origin_id}", unique.hex)
            copy = None
            if root is not None:
                link = article_link(item.link, slugs[0], root)
                copy = feed_copy(item.content_html, link, absolute=True)
            article = new_article(
                source, item, guid=guid, slug=slugs[0], language=language, feed_content=copy
            )
            if not item.dated:
                moment = spare(item.updated_at)
                article = replace(article, published_at=moment, updated_at=moment)
            inserts.append(Insert(article, slugs, item.content_hash))
        else:
            old = found.article
            if old is None or old.id is None:
                raise ValueError(f"the stored index holds no article for {item.origin_id!r}")
            new = changed_article(old, source, item, now)
            if not item.dated:
                moment = spare(new.updated_at)
                if moment > old.updated_at:
                    new = replace(new, updated_at=moment)
            updates.append(Update(old, new, item.content_hash))
        warnings.extend(f"{label(item)}: {note}" for note in item.warnings)
    return RefreshPlan(
        entries=len(entries),
        inserts=tuple(inserts),
        updates=tuple(updates),
        unchanged=unchanged,
        skipped=tuple(skipped),
        warnings=tuple(warnings),
    )


def settle(plan: RefreshPlan, taken: Collection[str], root: str) -> RefreshPlan:
    """The plan as it is written: each new article with its slug, the first of its
    candidates that is not `taken` (by a stored article, as the store said in the
    writing transaction) nor kept by an earlier insert of the plan, and every article
    with its feed copy (against its link, which is its page under the public base
    `root` when the entry has no link, so the slug must be known first). Entries'
    content was sanitised against their base, so its URLs are absolute already."""
    used = set(taken)
    inserts = []
    for insert in plan.inserts:
        # The last candidate is unique by construction; the others may be taken.
        slug = next((s for s in insert.slugs[:-1] if s not in used), insert.slugs[-1])
        used.add(slug)
        article, link = insert.article, article_link(insert.article.url, slug, root)
        planned = article.feed_content
        # Kept as planned when the plan made its copy against the link it has now (a
        # copy of an article, made hundreds of times in a first fetch, costs more than
        # the rest of settling it).
        if not (planned and article.slug == slug and planned.base == link):
            article = with_feed_copy(article, root, absolute=True, slug=slug)
            insert = replace(insert, article=article)
        inserts.append(insert)
    updates = [
        replace(update, new=with_feed_copy(update.new, root, absolute=True, stored=update.old))
        for update in plan.updates
    ]
    return replace(plan, inserts=tuple(inserts), updates=tuple(updates))


def slug_candidates_of(plan: RefreshPlan) -> list[str]:
    """The slugs the plan's new articles may take but might find taken."""
    return [slug for insert in plan.inserts for slug in insert.slugs[:-1]]


def _fate(item: IngestedItem, found: StoredEntry | None, cutoff: datetime) -> str:
    """unchanged, too_old (new but past the retention), insert or update."""
    if found is not None:
        return "unchanged" if found.content_hash == item.content_hash else "update"
    return "too_old" if item.updated_at < cutoff else "insert"


def unsized_written(
    source: Source,
    entries: Sequence[IngestedItem | Refusal],
    stored: Mapping[str, StoredEntry],
    now: datetime,
) -> list[str]:
    """URLs of the images the plan these arguments would make writes without a length,
    in the plan's order, without making it (no GUIDs, slugs or articles): the images to
    size before the plan is made for good."""
    kept, _ = select(entries, source.max_items)
    cutoff = now - timedelta(days=source.retention_days)
    inserted: list[str] = []
    updated: list[str] = []
    for item in kept:
        found = stored.get(item.origin_id)
        fate = _fate(item, found, cutoff)
        if fate == "insert" and item.image and item.image.length is None:
            inserted.append(item.image.url)
        elif fate == "update" and found is not None and found.article is not None:
            image = _image_for_update(found.article, item)
            if image and image.length is None:
                updated.append(image.url)
    return list(dict.fromkeys(inserted + updated))


def _image_for_update(old: Article, item: IngestedItem) -> Image | None:
    """The entry's image, with the length the store learned before for the same image."""
    image = item.image
    if image and image.length is None and old.image and old.image.url == image.url:
        return replace(image, length=old.image.length)
    return image


class FallbackDates:
    """Undated entries' dates, moved back a second at a time off the seconds stored
    articles already show (another source fetched in the same second, an article
    published then), so no two entries of a feed share an `updated` (whole seconds in
    every format); still decreasing in document order."""

    def __init__(self, taken: Collection[datetime]) -> None:
        self.taken = {moment.replace(microsecond=0) for moment in taken}
        self.last: datetime | None = None

    def __call__(self, fallback: datetime) -> datetime:
        moment = fallback.replace(microsecond=0)
        if self.last is not None:
            moment = min(moment, self.last - timedelta(seconds=1))
        while moment in self.taken:
            moment -= timedelta(seconds=1)
        self.taken.add(moment)
        self.last = moment
        return moment


def fallback_span(entries: Sequence[IngestedItem | Refusal]) -> tuple[datetime, datetime] | None:
    """The seconds the undated entries' dates may take: their fallbacks, and as many
    seconds again below them as there are entries (room to step past taken ones)."""
    undated = [e.updated_at for e in entries if isinstance(e, IngestedItem) and not e.dated]
    if not undated:
        return None
    return min(undated) - timedelta(seconds=len(entries) + 60), max(undated)


def label(item: IngestedItem) -> str:
    return truncate(item.title, 80)


def slug_candidates(title: str, identity: str, fallback: str) -> tuple[str, ...]:
    """The title's slug plus a short suffix derived from the entry's identity, longer
    suffixes should a shorter one be taken, and a random one as the last resort."""
    digest = hashlib.sha256(identity.encode()).hexdigest()
    stem = slugify(title)[:70].strip("-")
    return (*(f"{stem}-{digest[:size]}" for size in (6, 10, 16)), f"{stem}-{fallback}")


def _entry_fields(source: Source, item: IngestedItem) -> dict[str, Any]:
    """The article fields an entry decides, whether it is new or changed."""
    return {
        "title": item.title,
        "summary": item.summary,
        "content_html": item.content_html,
        "author": item.author or source.name,
        "section": source.section,
        "hashtags": item.hashtags,
        "published_at": item.published_at,
        "url": item.link,
        "image": item.image,
    }


def new_article(
    source: Source,
    item: IngestedItem,
    *,
    guid: str,
    slug: str,
    language: str,
    feed_content: FeedContent | None = None,
) -> Article:
    assert source.id is not None
    return Article(
        guid=guid,
        slug=slug,
        feed_content=feed_content,
        updated_at=item.updated_at,
        status=Status.PUBLISHED,
        language=language,
        origin=Origin(
            source_id=source.id,
            source_title=source.name,
            feed_url=source.url,
            origin_id=item.origin_id,
            link=item.link,
            original_date=item.original_date,
        ),
        **_entry_fields(source, item),
    )


def changed_article(old: Article, source: Source, item: IngestedItem, now: datetime) -> Article:
    """The stored article with the entry's new content; GUID, slug, status and views stay
    (an editor who withdrew an ingested article keeps it withdrawn), and so do what the
    store knows better than the entry: the first fallback date of an undated entry (so
    it keeps its place) and an image length learned before for the same image."""
    assert old.origin is not None
    fields = _entry_fields(source, item)
    if not item.dated:
        fields["published_at"] = old.published_at
    fields["image"] = _image_for_update(old, item)
    return replace(
        old,
        # Readers only notice a change when `updated` moves, whatever the feed says.
        updated_at=item.updated_at if item.updated_at > old.updated_at else now,
        origin=replace(old.origin, link=item.link, original_date=item.original_date),
        **fields,
    )


def with_image_lengths(
    entries: Sequence[IngestedItem | Refusal], lengths: Mapping[str, int]
) -> tuple[IngestedItem | Refusal, ...]:
    """*entries* with the image lengths learned since they were normalised."""
    return tuple(
        replace(e, image=replace(e.image, length=lengths[e.image.url]))
        if isinstance(e, IngestedItem) and e.image and e.image.url in lengths
        else e
        for e in entries
    )
