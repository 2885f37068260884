"""The soak: the production shape under load, then a count of what was written and ingested.

Web workers (granian), `feeds scheduler` and nginx running config/nginx.example.conf, on
one store, for `--seconds` under `wrk -c100` cycling over at least 200 feed URLs (a third
of the requests conditional, with the ETag each URL last gave), while the API (through
nginx) writes 5 articles/s and 20 outside sources, served from 127.0.0.1 and growing
every 20 s, are ingested by the scheduler. Then:

- it prints the requests, 5xx answers, socket errors and p99 latency;
- it checks every article the API acknowledged (201) is in the store, and nothing more;
- it waits (bounded) for the scheduler to have taken each source's last document and
  checks each source holds exactly the entries of that document;
- and exits 1 when any answer was a 5xx, any socket failed, any write failed, a count
  differs or a process died.

    python bench/soak.py [--seconds 60] [--database sqlite|postgresql+psycopg://...]

`make soak` runs it on SQLite and, when FEEDS_TEST_DATABASE_URL names a PostgreSQL
database, there too (in a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.servers import (  # noqa: E402
    BIN,
    KNOWN_SETTINGS,
    Process,
    Writer,
    app_environment,
    get,
    server_command,
    wrk,
)
from feeds import create_app  # noqa: E402
from tests.conftest import pg_schema  # noqa: E402
from tests.nginx_server import Nginx, Site, free_port  # noqa: E402

SOURCES = 20
GROWTH_SECONDS = 20
FIRST_ENTRIES = 10
AUTHOR = "Soak Writer"
WRK_SCRIPT = """
local requests = {}
local i = 0
errors5xx = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines("%(list)s") do
    local path, etag = line:match("^(%%S+)%%s*(.*)$")
    local headers = {}
    if etag ~= "" then headers["If-None-Match"] = etag end
    table.insert(requests, wrk.format("GET", path, headers))
  end
  i = math.random(#requests) - 1
end

function request()
  i = i %% #requests + 1
  return requests[i]
end

function response(status, headers, body)
  if status >= 500 then errors5xx = errors5xx + 1 end
end

function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + thread:get("errors5xx") end
  io.write(string.format("5xx: %%d\\n", n))
end
"""


class OutsideFeeds:
    """20 RSS feeds on 127.0.0.1 that gain an entry every GROWTH_SECONDS.

    Each document holds every entry so far, so the last one a source fetched is the whole
    of what it should hold; the server remembers what it last sent each source.
    """

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.epoch = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        self.frozen: int | None = None
        self.last_sent: dict[int, tuple[str, int]] = {}  # source -> (sha256, entries)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                number = int(self.path.rsplit("/", 1)[1].split(".")[0])
                body, entries = outer.document(number)
                with outer.lock:
                    outer.last_sent[number] = (hashlib.sha256(body).hexdigest(), entries)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.port}/sources/{number}.xml"

    def entries_now(self) -> int:
        if self.frozen is not None:
            return self.frozen
        return FIRST_ENTRIES + int((time.monotonic() - self.started) // GROWTH_SECONDS)

    def document(self, number: int) -> tuple[bytes, int]:
        count = self.entries_now()
        items = []
        for k in range(count):
            date = format_datetime(self.epoch + timedelta(seconds=10 * k), usegmt=True)
            items.append(
                f"<item><guid isPermaLink='false'>soak-{number}-{k}</guid>"
                f"<title>Wire story {k} from source {number}</title>"
                f"<link>https://wire{number}.example.com/stories/{k}</link>"
                f"<description>Story {k}: the harbour reopened.</description>"
                f"<pubDate>{date}</pubDate></item>"
            )
        body = (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Soak wire {number}</title><link>https://wire{number}.example.com/</link>"
            f"{''.join(items)}</channel></rss>"
        ).encode()
        return body, count

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def database(choice: str, folder: Path) -> Iterator[str]:
    if choice == "sqlite":
        yield f"sqlite:///{folder}/soak.db"
        return
    with pg_schema("soak", choice) as url:
        yield url


def soak_article(n: int) -> dict[str, Any]:
    return {
        "title": f"Soak story {n}: the harbour reopens",
        "author": AUTHOR,
        "section": "world",
        "summary": "Ships are moving again.",
        "content_html": "<p>Ships are moving again after the storm.</p>",
        "hashtags": ["Soak", f"Soak{n % 50}"],
    }


def prepare(settings: dict[str, object], feeds: OutsideFeeds) -> tuple[str, list[int]]:
    """Migrate, load the demo plus a generated newsroom, add the sources, publish every
    feed; a write token."""
    app = create_app({k: v for k, v in settings.items() if k in KNOWN_SETTINGS})
    svc = app.extensions["feeds"]
    svc.setup.init()
    svc.demo.generate(1500, seed=7)
    ids = []
    for number in range(SOURCES):
        source = svc.sources.add(
            {
                "url": feeds.url(number),
                "name": f"Soak wire {number}",
                "section": "world",
                "interval_minutes": 1,
                "max_items": 1000,
            }
        )
        ids.append(int(source.id))
    token = svc.tokens.create("soak-writer", ("articles:write",))
    # As a deploy leaves it: every feed published before readers arrive (the scheduler
    # then republishes what changes).
    svc.publisher.run(everything=True)
    svc.ctx.store.dispose()
    return token, ids


def feed_requests(nginx_port: int, public: str, minimum: int) -> list[str]:
    """Lines `<path> [etag]` for wrk: every feed of the OPML, a third conditional."""
    status, _, body = get(nginx_port, "/feeds.opml")
    assert status == 200, status
    urls = [o.get("xmlUrl") for o in etree.fromstring(body).iter("outline") if o.get("xmlUrl")]
    paths = [u[len(public) :] for u in urls if u and u.startswith(public)]
    if len(paths) < minimum:
        raise SystemExit(f"soak: only {len(paths)} feed URLs in the OPML, {minimum} wanted")
    lines = []
    for n, path in enumerate(paths):
        if n % 3 == 2:
            status, headers, _ = get(nginx_port, path)
            assert status == 200, (path, status)
            lines.append(f"{path} {headers['etag']}")
        else:
            lines.append(path)
    return lines


def wait_for_sources(url: str, feeds: OutsideFeeds, ids: list[int], seconds: float) -> list[str]:
    """Wait until the store holds each source's last document; the mismatches left."""
    engine = create_engine(url)
    deadline = time.monotonic() + seconds
    problems: list[str] = []
    try:
        while True:
            problems = []
            with engine.connect() as conn:
                for number, source_id in enumerate(ids):
                    sent = feeds.last_sent.get(number)
                    row = conn.execute(
                        text("SELECT body_hash FROM sources WHERE id = :id"), {"id": source_id}
                    ).one()
                    held = conn.execute(
                        text("SELECT count(*) FROM articles WHERE source_id = :id"),
                        {"id": source_id},
                    ).scalar_one()
                    if sent is None:
                        problems.append(f"source {number} was never fetched")
                    elif row.body_hash != sent[0]:
                        problems.append(f"source {number}: its last document is not stored yet")
                    elif held != sent[1]:
                        problems.append(f"source {number}: {held} articles, {sent[1]} entries sent")
            if not problems or time.monotonic() > deadline:
                return problems
            time.sleep(0.5)
    finally:
        engine.dispose()


def written_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM articles WHERE author = :a AND source_id IS NULL"),
                    {"a": AUTHOR},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL URL")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--min-urls", type=int, default=200)
    args = parser.parse_args()
    kind = "SQLite" if args.database == "sqlite" else "PostgreSQL"
    failures: list[str] = []
    feeds = OutsideFeeds()
    with tempfile.TemporaryDirectory(prefix="feeds-soak-") as tmp:
        folder = Path(tmp)
        with database(args.database, folder) as url:
            nginx_port, web_port = free_port(), free_port()
            public = f"http://127.0.0.1:{nginx_port}"
            settings: dict[str, object] = {
                "database_url": url,
                "config_dir": str(ROOT / "config"),
                "media_dir": str(ROOT / "config" / "demo" / "media"),
                "load_demo": True,
                "secret_key": "soak",
                "log_level": "WARNING",
                "public_url": public + "/",
                "proxy_hops": 1,
                "publish_dir": str(folder / "published"),
                "scheduler_tick_seconds": 1,
                "fetch_allow": ["127.0.0.0/8"],
                "ingest_per_host": 4,
            }
            token, ids = prepare(settings, feeds)
            env = app_environment(**settings)
            web = Process(server_command("granian", web_port, args.workers), env, "web", web_port)
            scheduler = Process([str(BIN / "feeds"), "scheduler"], env, "scheduler")
            site = Site(
                port=nginx_port,
                upstream=f"127.0.0.1:{web_port}",
                publish_dir=folder / "published",
                public_url=public,
                hub=public + "/websub",
                max_age=300,
            )
            with web, scheduler, Nginx(site, folder / "nginx", workers=2) as nginx:
                lines = feed_requests(nginx_port, public, args.min_urls)
                listing = folder / "requests.txt"
                listing.write_text("\n".join(lines) + "\n")
                script = folder / "soak.lua"
                script.write_text(WRK_SCRIPT % {"list": listing})
                writer = Writer(nginx_port, token, 5.0, soak_article)
                writer.start()
                try:
                    load = wrk(nginx.url + "/", args.seconds, 100, script=script)
                finally:
                    writer.stop.set()
                    writer.join()
                feeds.frozen = feeds.entries_now()
                for process in (web, scheduler):
                    if not process.alive():
                        failures.append(f"{process.name} died during the soak")
                fives = (
                    int(load.output.split("5xx:")[1].split()[0]) if "5xx:" in load.output else -1
                )
                print(
                    f"soak on {kind}, {args.seconds:g} s, wrk -c100 over {len(lines)} feed URLs "
                    f"({sum(1 for x in lines if ' ' in x)} conditional): "
                    f"{load.requests} requests, {load.rate:.0f} req/s, 5xx {fives}, "
                    f"socket errors {load.socket_errors}, p99 {load.p99_ms:.1f} ms; "
                    f"API writes {writer.created} acknowledged, {writer.failed} failed"
                )
                if fives != 0:
                    failures.append(f"{fives} answers were 5xx")
                if load.socket_errors:
                    failures.append(f"{load.socket_errors} socket errors")
                if writer.failed:
                    kinds = sorted(set(writer.failures))
                    failures.append(f"{writer.failed} API writes failed: {', '.join(kinds)}")
                stored = written_count(url)
                if stored != writer.created:
                    failures.append(f"{writer.created} writes acknowledged, {stored} stored")
                # Bounded wait for the scheduler to take each source's last document.
                problems = wait_for_sources(url, feeds, ids, 90)
                failures += problems
                entries = sum(count for _, count in feeds.last_sent.values())
                print(
                    f"ingest: {len(feeds.last_sent)} of {SOURCES} sources fetched, "
                    f"{entries} entries in their last documents, "
                    f"{'all stored' if not problems else 'MISMATCH'}"
                )
    feeds.stop()
    for failure in failures:
        print(f"soak FAILED: {failure}")
    if not failures:
        print(f"soak on {kind} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
