"""The ingest plan: a pure decision for every entry of a document, with no store at all."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from feeds.hashtags import hashtag
from feeds.ingest.normalize import IngestedItem, Refusal
from feeds.ingest.plan import plan_refresh, unsized_written
from feeds.models import Article, Image, Origin, Source, Status
from feeds.refresh_plan import RefreshPlan, SkipReason, StoredEntry

NOW = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
SOURCE = Source(
    url="https://wire.example/rss", name="Wire", section="world", max_items=3, id=7,
    retention_days=30,
)  # fmt: skip
FIXED = uuid.UUID("12345678-1234-5678-1234-567812345678")


def unsized_images(plan: RefreshPlan) -> list[str]:
    """What unsized_written must answer: the URLs of the images a made plan writes
    without a length, in the plan's order."""
    written = [i.article for i in plan.inserts] + [u.new for u in plan.updates]
    return list(dict.fromkeys(a.image.url for a in written if a.image and a.image.length is None))


def item(origin_id: str, *, hours: float = 1, content: str = "", **fields: object) -> IngestedItem:
    when = NOW - timedelta(hours=hours)
    values: dict[str, object] = {
        "origin_id": origin_id, "title": f"Story {origin_id}", "summary": "S",
        "content_html": content or f"<p>{origin_id}</p>", "author": "", "link": None,
        "published_at": when, "updated_at": when, "original_date": None,
        "hashtags": (hashtag("Wire"),), "image": None, "content_hash": f"h-{origin_id}-{content}",
    }  # fmt: skip
    values.update(fields)
    return IngestedItem(**values)  # type: ignore[arg-type]


def stored_article(origin_id: str, article_id: int) -> Article:
    return Article(
        guid=f"tag:x:{origin_id}", slug=f"story-{origin_id}", title="Old", summary="",
        content_html="<p>old</p>", author="Wire", section="world", hashtags=(),
        published_at=NOW - timedelta(days=2), updated_at=NOW - timedelta(days=2),
        status=Status.WITHDRAWN, views=12, id=article_id,
        origin=Origin(source_id=7, source_title="Wire", feed_url=SOURCE.url, origin_id=origin_id),
    )  # fmt: skip


def plan(entries: list[IngestedItem | Refusal], stored: dict[str, StoredEntry]) -> RefreshPlan:
    return plan_refresh(
        SOURCE, entries, stored, now=NOW, language="en", guid_authority="x.example,2026",
        new_id=lambda: FIXED,
    )  # fmt: skip


def accounted(result: RefreshPlan) -> int:
    return len(result.inserts) + len(result.updates) + result.unchanged + len(result.skipped)


def test_every_entry_gets_exactly_one_fate() -> None:
    entries: list[IngestedItem | Refusal] = [
        item("new"),
        item("same"),
        item("changed", content="edited"),
        Refusal("Broken entry", "cannot be read: bad"),
        item("new", title="a second copy"),
        item("ancient", hours=24 * 40),
        item("older", hours=5),
    ]
    stored = {
        "same": StoredEntry(1, "h-same-"),
        "changed": StoredEntry(2, "h-changed-", stored_article("changed", 2)),
    }
    result = plan(entries, stored)
    # max_items=3: new, same and changed are the newest three; older and ancient are cut.
    assert [i.article.origin.origin_id for i in result.inserts if i.article.origin] == ["new"]
    assert [u.old.id for u in result.updates] == [2]
    assert result.unchanged == 1
    reasons = {(s.entry, s.reason) for s in result.skipped}
    assert reasons == {
        ("Broken entry", SkipReason.REFUSED),
        ("a second copy", SkipReason.DUPLICATE),
        ("Story ancient", SkipReason.OVER_LIMIT),
        ("Story older", SkipReason.OVER_LIMIT),
    }
    assert result.entries == len(entries) == accounted(result)


def test_entries_older_than_retention_are_skipped_with_their_date_unless_stored() -> None:
    entries: list[IngestedItem | Refusal] = [
        item("old", hours=24 * 31),
        item("kept", hours=24 * 31),
    ]
    stored = {"kept": StoredEntry(3, "stale", stored_article("kept", 3))}
    result = plan(entries, stored)
    (skip,) = result.skipped
    assert (skip.entry, skip.reason) == ("Story old", SkipReason.TOO_OLD)
    assert "30-day retention" in skip.detail and "2025-12-12" in skip.detail
    assert [u.old.id for u in result.updates] == [3]  # stored: changes still reach readers
    assert result.count(SkipReason.TOO_OLD) == 1 and accounted(result) == 2


def test_an_insert_gets_a_tag_guid_slug_candidates_and_its_origin() -> None:
    (insert,) = plan([item("g-1", author="Ann")], {}).inserts
    article = insert.article
    assert article.guid == f"tag:x.example,2026:source/7/{FIXED}"
    assert insert.slugs[0].startswith("story-g-1-") and insert.slugs[-1] == f"story-g-1-{FIXED.hex}"
    assert len(set(insert.slugs)) == 4 and article.slug == insert.slugs[0]
    assert (article.author, article.section, article.status) == ("Ann", "world", Status.PUBLISHED)
    assert article.origin == Origin(7, "Wire", SOURCE.url, "g-1")
    assert insert.content_hash == "h-g-1-"


def test_an_update_keeps_guid_slug_status_and_views_and_moves_updated() -> None:
    old = stored_article("g", 4)
    (update,) = plan([item("g", content="new")], {"g": StoredEntry(4, "x", old)}).updates
    new = update.new
    assert (new.guid, new.slug, new.status, new.views, new.id) == (
        old.guid, old.slug, Status.WITHDRAWN, 12, 4,
    )  # fmt: skip
    assert new.content_html == "new" and new.updated_at > old.updated_at
    # The entry's own date is older than what is stored: readers still see it change.
    assert new.updated_at == NOW - timedelta(hours=1)
    older = replace(item("g", content="newer"), updated_at=old.updated_at - timedelta(days=1))
    (again,) = plan([older], {"g": StoredEntry(4, "x", old)}).updates
    assert again.new.updated_at == NOW


def test_warnings_of_kept_entries_are_kept_with_the_entry_named() -> None:
    noted = replace(item("w"), warnings=("hashtags cut to 2",))
    same = replace(item("s"), warnings=("cut too",))  # unchanged: the stored copy lacks it
    dropped = replace(item("d", hours=24 * 60), warnings=("never shown",))
    result = plan([noted, same, dropped], {"s": StoredEntry(9, "h-s-")})
    assert result.warnings == ("Story w: hashtags cut to 2", "Story s: cut too")
    assert result.counts().warnings == result.warnings


def test_counts_keep_the_first_refusals_and_warnings_and_say_how_many_more() -> None:
    refusals: list[IngestedItem | Refusal] = [Refusal(f"e{n}", "bad") for n in range(25)]
    noted = [replace(item(f"w{n}"), warnings=("cut",)) for n in range(3)]
    counts = plan([*refusals, *noted], {}).counts()
    assert (
        counts.refused == 25 and len(counts.refusals) == 20 and counts.refusals[0] == ("e0", "bad")
    )
    assert counts.new == 3 and counts.entries == 28 and len(counts.warnings) == 3


def test_an_undated_entry_keeps_its_stored_date_and_a_learned_image_length() -> None:
    old = replace(
        stored_article("u", 5), image=Image("https://img.example/u.jpg", "image/jpeg", 900)
    )
    changed = item(
        "u", content="edited", dated=False, published_at=NOW, updated_at=NOW,
        image=Image("https://img.example/u.jpg", "image/jpeg", None),
    )  # fmt: skip
    (update,) = plan([changed], {"u": StoredEntry(5, "x", old)}).updates
    assert update.new.published_at == old.published_at  # keeps its place in feeds
    assert update.new.updated_at == NOW and update.new.image is not None
    assert update.new.image.length == 900
    other = replace(changed, image=Image("https://img.example/new.jpg", "image/jpeg", None))
    (update,) = plan([other], {"u": StoredEntry(5, "x", old)}).updates
    assert update.new.image is not None and update.new.image.length is None
    assert unsized_images(plan([other], {"u": StoredEntry(5, "x", old)})) == [
        "https://img.example/new.jpg"
    ]


def test_the_images_to_size_are_those_the_plan_writes_without_a_length() -> None:
    """unsized_written answers what unsized_images(plan) answers, without a plan."""
    known = Image("https://img.example/known.jpg", "image/jpeg", None)
    old = replace(stored_article("kept", 5), image=replace(known, length=900))
    unsized = [
        item(name, hours=hours, image=Image(f"https://img.example/{name}.jpg", "image/jpeg", None))
        for name, hours in (("a", 1), ("b", 2), ("c", 3), ("d", 4), ("old", 24 * 40))
    ]
    entries: list[IngestedItem | Refusal] = [
        *unsized,
        item("sized", image=Image("https://img.example/s.jpg", "image/jpeg", 10)),
        item("kept", content="edited", image=known),
        item("moved", content="edited", image=unsized[0].image),
        Refusal("bad", "too large"),
    ]
    stored = {
        "kept": StoredEntry(5, "x", old),
        "moved": StoredEntry(6, "x", stored_article("moved", 6)),
        "b": StoredEntry(7, "h-b-"),
    }
    for source in (SOURCE, replace(SOURCE, max_items=10)):
        made = plan_refresh(
            source, entries, stored, now=NOW, language="en", guid_authority="x", new_id=uuid.uuid4
        )
        assert unsized_written(source, entries, stored, NOW) == unsized_images(made)
    assert unsized_written(SOURCE, entries, stored, NOW) == ["https://img.example/a.jpg"]
