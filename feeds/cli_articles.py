"""`feeds articles ...` and `feeds tag-feeds ...`: what the store holds, from the shell."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click
from flask.cli import with_appcontext

from feeds.cli_common import (
    FeedsGroup,
    ProgressLine,
    cli_actor,
    emit,
    progress_option,
    service,
    when,
)
from feeds.models import Article, TagFeed
from feeds.service.article_filter import STATUSES, TYPED_LIST_LIMIT, article_filter
from feeds.service.articles import COPY_BATCH, COPY_BATCH_MAX, CopyReport, article_to_dict
from feeds.service.tagfeed_input import tag_feed_to_dict


def _filter_options(command: Any) -> Any:
    for option in reversed(
        [
            click.option("--section", help="Only this section (slug)."),
            click.option("--hashtag", help="Only articles carrying this hashtag."),
            click.option("--status", type=click.Choice(STATUSES), help="Only this status."),
            click.option(
                "--since",
                metavar="TIME",
                help="Only articles changed at or after TIME (RFC 3339 with an offset).",
            ),
            click.option("-q", "--query", help="Only titles containing this text."),
        ]
    ):
        command = option(command)
    return command


def _line(article: Article) -> str:
    return (
        f"{article.id}\t{article.status.value}\t{when(article.published_at)}\t"
        f"{article.section}\t{article.title}"
    )


def _article(ref: str) -> Article:
    """An article by id (digits) or by slug."""
    articles = service().articles
    return articles.get(int(ref)) if ref.isdigit() else articles.get_by_slug(ref)


@click.group("articles", cls=FeedsGroup, help="The newsroom's and ingested articles.")
def articles_group() -> None:
    pass


@articles_group.command("list")
@_filter_options
@click.option(
    "--limit",
    type=click.IntRange(1, TYPED_LIST_LIMIT),
    default=50,
    show_default=True,
    help="At most this many, newest first.",
)
@click.option("--offset", type=click.IntRange(0, 10**9), default=0, help="Skip this many.")
@with_appcontext
def articles_list(limit: int, offset: int, **filters: Any) -> None:
    """Articles, newest first (id, status, publish time, section, title)."""
    found = service().articles.list(article_filter(limit=limit, offset=offset, **filters))
    emit([article_to_dict(a) for a in found], "\n".join(map(_line, found)) or "no articles")


@articles_group.command("count")
@_filter_options
@with_appcontext
def articles_count(**filters: Any) -> None:
    """How many articles match (all of them without filters)."""
    total = service().articles.count(article_filter(**filters))
    emit({"count": total}, str(total))


@articles_group.command("show")
@click.argument("ref", metavar="ID|SLUG")
@with_appcontext
def articles_show(ref: str) -> None:
    """One article with every field."""
    article = _article(ref)
    origin = article.origin
    lines = [
        f"{article.title} (article {article.id}, {article.status.value})",
        f"  slug:      {article.slug}",
        f"  guid:      {article.guid}",
        f"  author:    {article.author}",
        f"  section:   {article.section}",
        f"  hashtags:  {' '.join('#' + t.display for t in article.hashtags) or '-'}",
        f"  url:       {article.url or '-'}",
        f"  published: {article.published_at.isoformat()}",
        f"  updated:   {article.updated_at.isoformat()}",
        f"  sponsored: {'yes' if article.sponsored else 'no'}",
        f"  origin:    {origin.source_title if origin else 'the newsroom'}",
        f"  summary:   {article.summary or '-'}",
    ]
    emit(article_to_dict(article), "\n".join(lines))


def _status_change(action: str, help_text: str) -> None:
    @articles_group.command(action, help=help_text)
    @click.argument("ref", metavar="ID|SLUG")
    @with_appcontext
    def command(ref: str) -> None:
        svc = service()
        article = _article(ref)
        assert article.id is not None
        change = svc.audit.withdraw_article if action == "withdraw" else svc.audit.restore_article
        changed = change(cli_actor(), article.id)
        emit(article_to_dict(changed), f"{changed.title}: now {changed.status.value}")


_status_change("withdraw", "Take an article out of every feed (it stays in the store).")
_status_change("restore", "Return a withdrawn article to the status it had (a draft stays one).")


@articles_group.command("refresh-copies")
@click.option(
    "--batch",
    type=click.IntRange(1, COPY_BATCH_MAX),
    default=COPY_BATCH,
    show_default=True,
    help="Articles examined per transaction.",
)
@progress_option
@with_appcontext
def articles_refresh_copies(batch: int, progress: bool | None) -> None:
    """Give articles without a feed copy (stored before copies were kept) or with one made
    against another public URL the copy feeds render, a batch per transaction.

    Stopped midway, it keeps what it did; run again, it finds only what is left.
    """
    line = ProgressLine(progress)

    def report(done: CopyReport) -> None:
        line.show(_copies_line(done))

    result = service().articles.refresh_copies(batch, report if line.wanted else None)
    line.close()
    emit(asdict(result), _copies_line(result))


def _copies_line(report: CopyReport) -> str:
    line = (
        f"{report.examined} articles examined: {report.made} copies made, "
        f"{report.remade} made again against the current public URL, {report.current} current"
    )
    if report.changed:
        line += f", {report.changed} written meanwhile (left to that write)"
    return line


@click.group("tag-feeds", cls=FeedsGroup, help="Tag feeds: articles chosen by hashtag rules.")
def tag_feeds_group() -> None:
    pass


def _rule(feed: TagFeed) -> str:
    rule = feed.rule
    parts = [
        f"{label} {' '.join('#' + t for t in tags)}"
        for label, tags in (
            ("any of", rule.any_of),
            ("all of", rule.all_of),
            ("none of", rule.none_of),
        )
        if tags
    ]
    if rule.sections:
        parts.append(f"in {', '.join(rule.sections)}")
    if rule.include_sponsored:
        parts.append("including sponsored")
    return "; ".join(parts)


@tag_feeds_group.command("list")
@with_appcontext
def tag_feeds_list() -> None:
    """Every tag feed with its rule."""
    feeds = service().catalog.tag_feeds()
    lines = [f"{f.slug}\t{f.title}\t{_rule(f)}" for f in feeds]
    emit([tag_feed_to_dict(f) for f in feeds], "\n".join(lines) or "no tag feeds")


@tag_feeds_group.command("show")
@click.argument("slug")
@with_appcontext
def tag_feeds_show(slug: str) -> None:
    """One tag feed: its rule and the articles it holds now."""
    catalog = service().catalog
    feed = catalog.tag_feed(slug)
    items = catalog.preview(feed)
    data = tag_feed_to_dict(feed) | {
        "articles": [
            {"id": a.id, "title": a.title, "published_at": a.published_at.isoformat()}
            for a in items
        ]
    }
    lines = [
        f"{feed.title} (tag feed {feed.slug})",
        f"  rule:       {_rule(feed)}",
        f"  limit:      {feed.limit}",
        f"  managed by: {feed.managed_by or 'admin UI / API'}",
        f"  holds now:  {len(items)} articles",
        *(f"    {a.id}\t{when(a.published_at)}\t{a.title}" for a in items),
    ]
    emit(data, "\n".join(lines))
