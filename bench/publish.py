"""The cost of publishing monthly archives, against the writers alone on the same months.

A first publish (a new feed, `feeds publish --all`) renders every month of a feed: the
month's articles, its neighbours and its Last-Modified read from the store, then three
writers. This puts the publisher's archive step for a set of feeds (every month of each,
into an empty tree: reads, renders, compressed variants, atomic writes) against the
three writers alone turning the same month documents into bytes, in alternation, and
counts the SQL statements a month costs (a figure no machine load changes).

    python bench/publish.py [--articles 10000] [--feeds 40]

The store comes from `feeds demo generate` (seed 0, kept in var/bench/ like
bench/render.py's). BENCH_QUICK=1 uses 1,000 articles and 3 feeds.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import QUICK, Row, alternate, report  # noqa: E402
from bench.render import settings, store  # noqa: E402
from feeds import create_app  # noqa: E402
from feeds.models import FeedFormat, FeedKey, FeedKind  # noqa: E402
from feeds.published import PublishedTree  # noqa: E402
from feeds.render.document import FeedDocument  # noqa: E402
from feeds.service.archive_publish import ArchivePublisher  # noqa: E402
from feeds.service.archives import month_range  # noqa: E402
from feeds.service.feeds import WRITERS  # noqa: E402


def chosen(svc: Any, count: int) -> list[FeedKey]:
    """The everything feed, then a hashtag, an author and a section in turn (hashtags and
    authors are most of a store's feeds), `count` in all."""
    now = svc.ctx.now()
    keys = svc.publisher._existing(now)
    kinds = (FeedKind.TAG, FeedKind.AUTHOR, FeedKind.SECTION)
    each = [[k for k in keys if k.kind is kind] for kind in kinds]
    mixed = [k for turn in zip(*each, strict=False) for k in turn]
    return [FeedKey(FeedKind.ALL), *mixed][:count]


def cpu(action: Callable[[], object]) -> float:
    """CPU seconds of the process (every thread: months render in threads of their own)
    one call of `action` takes. On a 2-core machine shared with other work, wall time
    mostly measures the neighbours; the publisher's work is CPU and SQLite, in-process."""
    start = time.process_time()
    action()
    return time.process_time() - start


def documents(svc: Any, keys: list[FeedKey]) -> list[tuple[FeedFormat, FeedDocument]]:
    """Every month document of the feeds, in each format (what the writers are given)."""
    now = svc.ctx.now()
    found = []
    for key in keys:
        for month in svc.archives.months(key):
            start, end = month_range(month)
            for fmt in FeedFormat:
                found.append((fmt, svc.archives.document(key, fmt, month, start, end, now)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000 if QUICK else 10_000)
    parser.add_argument("--feeds", type=int, default=3 if QUICK else 40)
    args = parser.parse_args()
    url, _ = store(args.articles)
    trees = Path(tempfile.mkdtemp(prefix="feeds-bench-publish-"))
    svc = create_app({**settings(url), "publish_dir": str(trees / "tree")}).extensions["feeds"]
    keys = chosen(svc, args.feeds)
    docs = documents(svc, keys)
    months = len(docs) // len(FeedFormat)
    rounds = [0]

    def publish() -> float:
        # Every round into an empty tree: a first publish writes every month.
        rounds[0] += 1
        tree = PublishedTree(trees / f"round-{rounds[0]}")
        step = ArchivePublisher(svc.ctx, svc.archives, tree)
        seconds = cpu(lambda: step.run(keys, keys))
        shutil.rmtree(tree.root, ignore_errors=True)
        return seconds

    def writers() -> float:
        return cpu(lambda: [WRITERS[fmt](document) for fmt, document in docs])

    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    engine = svc.ctx.store.engine
    event.listen(engine, "before_cursor_execute", count)
    publish()  # also warms the statement cache
    event.remove(engine, "before_cursor_execute", count)
    medians = alternate({"publish": publish, "writers": writers})
    shutil.rmtree(trees, ignore_errors=True)
    per_month = medians["publish"] / months * 1000
    spent, floor = medians["publish"] * 1000, medians["writers"] * 1000
    rows: list[Row] = [
        Row(
            f"archive publish of {len(keys)} feeds ({', '.join(k.kind.value for k in keys)}), "
            f"every month ({months:,} months), {args.articles:,}-article store (SQLite)",
            "the three writers alone on the same month documents",
            f"{spent:.4g} vs {floor:.4g} ms CPU",
            spent / floor,
            "-",
            True,
        ),
        Row(
            "the same, per month",
            "-",
            f"{per_month:.2f} ms CPU, {statements[0] / months:.1f} SQL statements",
            None,
            "-",
            True,
        ),
    ]
    report(
        "Archive publish",
        rows,
        [
            "A month published is its reads (articles, neighbours, Last-Modified), three "
            "writers, gzip and brotli variants and atomic writes, in a thread bounded by "
            "publish_timeout_seconds; the writers alone are its floor. No target: an "
            "info row for the first publish of a store (`feeds publish --all`)."
        ],
    )


if __name__ == "__main__":
    main()
