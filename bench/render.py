"""Cold renders on a big store against the same on a small one, and against the writer alone.

1. Every feed kind (all, a section, a hot, a long-tail and a rare hashtag, tag feeds with
   any/none + sections and with all_of, trending, a `before=` page deep in history)
   rendered from nothing (no render cache) on a store of 1,000,000 articles and on one
   of 10,000, in alternation. Target: the big store costs at most 1.2x the small one.
2. A cold render of a 50-item feed on the big store against the writer alone turning the
   same 50 items into RSS. Target: at most 1.5x.

    python bench/render.py [--big 1000000] [--small 10000]

Stores come from `feeds demo generate` (seed 0) and are kept in var/bench/ for the next
run (a 1,000,000-article SQLite store takes several minutes to make and about 4 GB).
BENCH_QUICK=1 uses 10,000 against 1,000 articles.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import QUICK, Row, alternate, ratio_row, report  # noqa: E402
from feeds import create_app  # noqa: E402
from feeds.models import FeedFormat, FeedKey, FeedKind  # noqa: E402
from feeds.service.articles import MAX_ID  # noqa: E402
from feeds.service.feeds import WRITERS, PageCursor  # noqa: E402

STORES = ROOT / "var" / "bench"


def timed(action: Callable[[], object], repeat: int = 1) -> float:
    """CPU seconds of this process one call of `action` takes (the mean over `repeat`).

    A render here is all in this process (SQLite is a library), so its CPU time is its
    cost; wall time would also count whatever else the shared machine runs meanwhile.
    """
    start = time.process_time()
    for _ in range(repeat):
        action()
    return (time.process_time() - start) / repeat


# The public URL the stores are made and read with: articles keep their content made
# absolute against it when written, as a deployment's writers and readers share theirs.
PUBLIC_URL = "https://feeds.example.org/"
FEEDS_BIN = Path(sys.executable).with_name("feeds")


def settings(url: str) -> dict[str, Any]:
    return {
        "database_url": url,
        "config_dir": str(ROOT / "config"),
        "media_dir": str(ROOT / "config" / "demo" / "media"),
        "load_demo": False,
        "scheduler_enabled": False,
        "cache_bytes": 0,  # every get renders: a cold render each time
        "secret_key": "bench",
        "log_level": "WARNING",
        "public_url": PUBLIC_URL,
    }


def store(count: int) -> tuple[str, dict[str, str]]:
    """A generated store of `count` articles (made once, then reused) and its example tags."""
    STORES.mkdir(parents=True, exist_ok=True)
    path = STORES / f"demo-{count}.db"
    sidecar = path.with_suffix(".json")
    url = f"sqlite:///{path}"
    env = {"FEEDS_DATABASE_URL": url, "FEEDS_LOAD_DEMO": "false", "FEEDS_LOG_LEVEL": "WARNING"}
    env["FEEDS_CONFIG_DIR"] = str(ROOT / "config")
    env["FEEDS_PUBLIC_URL"] = PUBLIC_URL
    if not sidecar.exists():
        path.unlink(missing_ok=True)
        print(f"generating a store of {count} articles in {path} ...", file=sys.stderr)
        run = {"env": {**os.environ, **env}, "check": True, "capture_output": True, "text": True}
        subprocess.run([str(FEEDS_BIN), "init"], **run)  # type: ignore[call-overload]
        out = subprocess.run(  # type: ignore[call-overload]
            [str(FEEDS_BIN), "demo", "generate", "--articles", str(count), "--json"], **run
        ).stdout
        sidecar.write_text(json.dumps(json.loads(out)["examples"]))
    return url, json.loads(sidecar.read_text())


def feed_cases(svc: Any, tags: dict[str, str]) -> dict[str, tuple[FeedKey, PageCursor | None]]:
    sections = [s.slug for s in svc.catalog.sections()]
    _tag_feed(svc, "bench-any", any_of=[tags["hot"], tags["tail"]], sections=sections[:2])
    _tag_feed(svc, "bench-all", all_of=[tags["hot"], tags["tail"]])
    deep = PageCursor(datetime.now(UTC) - timedelta(days=4 * 365), MAX_ID)
    return {
        "all": (FeedKey(FeedKind.ALL), None),
        "section": (FeedKey(FeedKind.SECTION, sections[0]), None),
        "hot hashtag": (FeedKey(FeedKind.TAG, tags["hot"]), None),
        "long-tail hashtag": (FeedKey(FeedKind.TAG, tags["tail"]), None),
        "rare hashtag": (FeedKey(FeedKind.TAG, tags["rare"]), None),
        "tag feed (any_of, none_of, sections)": (FeedKey(FeedKind.CUSTOM, "bench-any"), None),
        "tag feed (all_of)": (FeedKey(FeedKind.CUSTOM, "bench-all"), None),
        "author": (FeedKey(FeedKind.AUTHOR, _busiest_author(svc)), None),
        "trending": (FeedKey(FeedKind.TRENDING), None),
        "all, a `before=` page four years back": (FeedKey(FeedKind.ALL), deep),
    }


def _busiest_author(svc: Any) -> str:
    with svc.ctx.store.read() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT author_slug FROM articles WHERE source_id IS NULL "
                    "GROUP BY author_slug ORDER BY count(*) DESC LIMIT 1"
                )
            ).scalar_one()
        )


def _tag_feed(svc: Any, slug: str, **rule: Any) -> None:
    from feeds.service.tagfeed_input import parse_tag_feed

    if any(f.slug == slug for f in svc.catalog.tag_feeds()):
        return
    payload = {"slug": slug, "title": slug, "none_of": ["Sponsored"], **rule}
    svc.catalog.create_tag_feed(parse_tag_feed(payload, max_limit=svc.settings.feed_limit_max))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=10_000 if QUICK else 1_000_000)
    parser.add_argument("--small", type=int, default=1_000 if QUICK else 10_000)
    args = parser.parse_args()
    repeat = 2 if QUICK else 5
    services = {}
    cases = {}
    for label, count in (("big", args.big), ("small", args.small)):
        url, tags = store(count)
        svc = create_app(settings(url)).extensions["feeds"]
        svc.setup.init()
        services[label] = svc
        cases[label] = feed_cases(svc, tags)

    # As in a running service, whose publisher records each feed's version (and when
    # its next scheduled article comes due) before anyone reads it: a cold render then
    # reads one version row. A store just made by `feeds demo generate` has every row
    # due, and a read of a due row also looks for the feed's newest article.
    for label, feeds in cases.items():
        for key, _before in feeds.values():
            services[label].feeds.settle(key)

    def items(label: str, name: str, limit: int | None = None) -> int:
        svc = services[label]
        key, before = cases[label][name]
        body = svc.feeds.get(svc.feeds.request(key, FeedFormat.RSS, limit, before)).body
        return len(etree.fromstring(body).findall("channel/item"))

    def render(label: str, name: str, limit: int) -> float:
        svc = services[label]
        key, before = cases[label][name]
        request = svc.feeds.request(key, FeedFormat.RSS, limit, before)
        return timed(lambda: svc.feeds.get(request), repeat)

    rows: list[Row] = []
    for name in cases["big"]:
        # A feed of the small store may hold fewer items (a long-tail tag has a handful):
        # both sides then render that many, so the ratio is the cost of the store's size.
        limit = max(1, min(items("big", name), items("small", name)))
        medians = alternate(
            {
                "big": lambda n=name, k=limit: render("big", n, k),
                "small": lambda n=name, k=limit: render("small", n, k),
            }
        )
        rows.append(
            ratio_row(
                f"cold render, {name} ({limit} items), {args.big:,} articles",
                f"the same on {args.small:,}",
                medians["big"] * 1000,
                medians["small"] * 1000,
                "ms",
                at_most=1.2,
            )
        )

    big = services["big"]
    request = big.feeds.request(FeedKey(FeedKind.ALL), FeedFormat.RSS)
    now = big.ctx.now()
    document = big.feeds.document(request, now, now)
    assert len(document.items) == 50, len(document.items)
    medians = alternate(
        {
            "cold": lambda: timed(lambda: big.feeds.get(request), repeat),
            "writer": lambda: timed(lambda: WRITERS[FeedFormat.RSS](document), repeat),
        }
    )
    rows.append(
        ratio_row(
            f"cold render of `all.rss` (50 items) on {args.big:,} articles",
            "the RSS writer alone on the same 50 items",
            medians["cold"] * 1000,
            medians["writer"] * 1000,
            "ms",
            at_most=1.5,
        )
    )
    report(
        "Cold renders",
        rows,
        [
            "A cold render is `FeedService.get` with the render cache off: the version read "
            "(the feed's version settled first, as the publisher keeps it), the feed query "
            "with its hashtags, the items (content made absolute when written) and the writer. "
            "SQLite stores made by `feeds demo generate` (seed 0). Figures are CPU time of "
            "the process (everything runs in it), so other work on the machine does not "
            "enter them."
        ],
    )


if __name__ == "__main__":
    main()
