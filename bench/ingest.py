"""Ingest costs, side by side on the same bytes.

1. A generated 500-entry RSS feed: raw `feedparser.parse` against our full first ingest
   of it (fetch from a local server, parse, normalise, sanitise, size images, store 500
   articles and move the feed versions, in one transaction), each on a fresh store in a
   service that has refreshed one other (one-entry) source first, as the scheduler's
   process has: the first refresh a process makes also compiles its SQL statements and
   opens its connections, which is shown on a row of its own. Beside them, the fast
   reader alone (feeds/ingest/xmlfeed.py, through `read_fast`) and our whole parse +
   normalise + sanitise, each against the same `feedparser.parse`.
2. The cost of an unchanged poll against a local server: a 304 (validators matched), and
   a 200 whose body hashes the same as last time (neither is parsed).

    python bench/ingest.py [--rounds 5] [--polls 50]

Figures are printed and appended to bench/RESULTS.md. Target (issue 7): the first
ingest costs at most what `feedparser.parse` alone costs on the same bytes.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402

from bench.common import QUICK, ROUNDS, Row, alternate, ratio_row, report, timed  # noqa: E402
from feeds import create_app  # noqa: E402
from feeds.ingest.normalize import NormalizeOptions, normalize  # noqa: E402
from feeds.ingest.parse import parse_feed, read_fast  # noqa: E402
from feeds.models import CategoryMode, CategoryRule, Source  # noqa: E402

ENTRIES = 500


def make_feed(count: int) -> bytes:
    now = datetime.now(UTC)
    items = []
    for n in range(count):
        date = format_datetime(now - timedelta(minutes=n))
        body = (
            f"<p>Story {n}: port authorities said the new schedule would cut waiting times "
            'for container ships by a third. <a href="/markets">Markets desk</a> '
            f'<img src="/img/{n}.jpg" alt="Cranes"></p><p>Second paragraph of story {n}.</p>'
        )
        items.append(
            f"<item><guid isPermaLink='false'>bench-{n}</guid>"
            f"<title>Benchmark story {n}: harbour schedules change</title>"
            f"<link>https://wire.example.com/stories/{n}</link>"
            f"<description><![CDATA[{body}]]></description><pubDate>{date}</pubDate>"
            f"<category>Shipping</category><category>Region {n % 7}</category></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        "<title>Bench Wire</title><link>https://wire.example.com/</link>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


IMAGE_BYTES = 48_213


class FeedServer:
    """Serves one body with an ETag (a 304 to a matching If-None-Match), and answers a
    HEAD for any other path as an image host would (200 with a Content-Length).

    It runs in a child process, so its own Python work is not counted as ours; the
    bench switches its ETag off through a pipe (`honour_etag`).
    """

    def __init__(self, body: bytes) -> None:
        here, there = multiprocessing.get_context("fork").Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(body, there), daemon=True
        )
        self.process.start()
        self.control = here
        self.url = f"http://localhost:{here.recv()}/feed.xml"

    def honour_etag(self, value: bool) -> None:
        self.control.send(value)
        self.control.recv()

    def close(self) -> None:
        self.process.terminate()
        self.process.join()


def _serve(body: bytes, control: Any) -> None:
    state = {"etag": True}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as image hosts and CDNs answer

        def do_GET(self) -> None:
            if state["etag"] and self.headers.get("If-None-Match") == '"bench"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            if state["etag"]:
                self.send_header("ETag", '"bench"')
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(IMAGE_BYTES))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    control.send(server.server_address[1])
    while True:
        state["etag"] = control.recv()
        control.send(None)


def fresh_service(folder: Path, n: int) -> Any:
    config = folder / f"config{n}"
    config.mkdir()
    for name in ("sections.toml", "tag_feeds.toml"):
        shutil.copy(ROOT / "config" / name, config / name)
    app = create_app(
        {
            "database_url": f"sqlite:///{folder / f'bench{n}.db'}",
            "config_dir": str(config),
            "load_demo": False,
            "scheduler_enabled": False,
            "fetch_allow": ("localhost",),
            "secret_key": "bench",
            "log_level": "WARNING",
        }
    )
    service = app.extensions["feeds"]
    service.setup.init()
    return service


def add(service: Any, url: str, name: str = "Bench Wire") -> int:
    payload = {"url": url, "name": name, "section": "world", "categories": "all"}
    source = service.sources.add(payload | {"max_items": 1000})
    return int(source.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--polls", type=int, default=10 if QUICK else 50)
    args = parser.parse_args()
    body = make_feed(ENTRIES)
    server = FeedServer(body)
    warm_server = FeedServer(make_feed(1))
    folder = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    source = Source(
        id=1, url=server.url, name="Bench", section="world",
        categories=CategoryRule(CategoryMode.ALL), max_items=1000,
    )  # fmt: skip
    counts: list[int] = []
    stores = iter(range(10**6))

    def parse_and_normalise() -> None:
        parsed = parse_feed(body, base_url=server.url, content_type=None)
        normalize(parsed, source, datetime.now(UTC), NormalizeOptions())

    def first_ingest(warm: bool = True) -> float:
        # The fresh store is made outside the timed part: only the refresh counts.
        service = fresh_service(folder, next(stores))
        if warm:
            service.sources.refresh(add(service, warm_server.url, "Warm-up"))
        source_id = add(service, server.url)
        started = time.perf_counter()
        outcome = service.sources.refresh(source_id)
        elapsed = time.perf_counter() - started
        counts.append(outcome.new)
        service.ctx.store.dispose()
        return elapsed

    def fast_read() -> None:
        assert read_fast(body, base_url=server.url, content_type=None) is not None

    try:
        medians = alternate(
            {
                "raw": lambda: timed(lambda: feedparser.parse(io.BytesIO(body))),
                "fast": lambda: timed(fast_read),
                "parse": lambda: timed(parse_and_normalise),
                "ours": first_ingest,
                "cold": lambda: first_ingest(warm=False),
            },
            args.rounds,
        )
        service = fresh_service(folder, next(stores))
        source_id = add(service, server.url)
        service.sources.refresh(source_id)
        polls_304 = [timed(lambda: service.sources.refresh(source_id)) for _ in range(args.polls)]
        server.honour_etag(False)
        service.sources.refresh(source_id)  # stores the validator-less state
        polls_same = [timed(lambda: service.sources.refresh(source_id)) for _ in range(args.polls)]
        statuses = {service.sources.refresh(source_id).status}
        service.ctx.store.dispose()
    finally:
        server.close()
        warm_server.close()
        shutil.rmtree(folder, ignore_errors=True)
    assert set(counts) == {ENTRIES} and statuses == {"unchanged"}, (counts, statuses)
    raw, parse, ours = medians["raw"], medians["parse"], medians["ours"]
    fast, cold = medians["fast"], medians["cold"]
    med = statistics.median
    size = f"{ENTRIES}-entry RSS feed ({len(body) // 1024} KiB)"
    rows = [
        ratio_row(
            f"first ingest of a {size}: fetch from 127.0.0.1, parse, normalise, sanitise, "
            "size images, store and move feed versions in one transaction (SQLite), in a "
            "service that has made one refresh before",
            "`feedparser.parse` on the same bytes",
            ours * 1000,
            raw * 1000,
            "ms",
            at_most=1.0,
        ),
        Row(
            "the same first ingest as the process's very first refresh (SQL statements "
            "compiled, connections opened)",
            "`feedparser.parse` on the same bytes",
            f"{cold * 1000:.4g} vs {raw * 1000:.4g} ms",
            cold / raw,
            "-",
            True,
        ),
        Row(
            "the fast reader alone (lxml, feeds/ingest/xmlfeed.py): bytes to ParsedFeed",
            "`feedparser.parse` on the same bytes",
            f"{fast * 1000:.4g} vs {raw * 1000:.4g} ms",
            fast / raw,
            "-",
            True,
        ),
        Row(
            "our parse + normalise + sanitise alone (no fetch, no store)",
            "`feedparser.parse` on the same bytes",
            f"{parse * 1000:.4g} vs {raw * 1000:.4g} ms",
            parse / raw,
            "-",
            True,
        ),
        Row(
            "unchanged poll answered 304 / answered 200 with the same body hash (not parsed)",
            "-",
            f"{med(polls_304) * 1000:.2f} / {med(polls_same) * 1000:.2f} ms",
            None,
            "-",
            True,
        ),
    ]
    report("Ingest", rows)


if __name__ == "__main__":
    main()
