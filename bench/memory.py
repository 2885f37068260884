"""A web process's memory after it has answered every feed of a big store.

One granian worker on the store `bench/render.py` made (1,000,000 articles; 1,000 with
BENCH_QUICK=1) answers a GET for every feed the OPML lists, in each format asked for;
the worker's resident set size (VmRSS) is read before and after. Target (issue 7): at
most 200 MB after every feed.

    python bench/memory.py [--articles 1000000] [--formats rss,atom,json]
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from bench.common import QUICK, Row, report  # noqa: E402
from bench.render import settings, store  # noqa: E402
from bench.servers import Process, app_environment, server_command  # noqa: E402
from feeds import create_app  # noqa: E402
from feeds.settings import Settings  # noqa: E402
from tests.nginx_server import free_port  # noqa: E402

LIMIT_MB = 200
CACHE_BYTES = next(f.default for f in fields(Settings) if f.name == "cache_bytes")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_pids(parent: int) -> list[int]:
    """The server's worker processes (its children), or the server itself if it has none."""
    children: list[int] = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(pid) for pid in text]
    return children or [parent]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000 if QUICK else 1_000_000)
    parser.add_argument("--formats", default="rss")
    args = parser.parse_args()
    formats = tuple(args.formats.split(","))
    url, _ = store(args.articles)
    # A store made by an older checkout is migrated first (the web process does not).
    create_app(settings(url)).extensions["feeds"].setup.init()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="feeds-bench-") as tmp:
        values = settings(url) | {
            # The default bound of the render cache, which every render fills.
            "cache_bytes": CACHE_BYTES,
            "public_url": f"http://127.0.0.1:{port}/",
            # An empty tree: every feed is rendered by the worker itself, the worst case.
            "publish_dir": str(Path(tmp) / "published"),
        }
        server = Process(
            server_command("granian", port, 1), app_environment(**values), "granian", port
        )
        with server:
            assert server.process is not None
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", "/feeds.opml")
            answer = conn.getresponse()
            opml = answer.read()
            assert answer.status == 200, (answer.status, opml[:300])
            workers = worker_pids(server.process.pid)
            before = max(rss_mb(pid) for pid in workers)
            prefix = f"http://127.0.0.1:{port}"
            urls = [
                o.get("xmlUrl", "")[len(prefix) :]
                for o in etree.fromstring(opml).iter("outline")
                if o.get("xmlUrl", "").startswith(prefix)
            ]
            targets = [u for u in urls if u.rsplit(".", 1)[-1] in formats]
            started = time.monotonic()
            statuses: dict[int, int] = {}
            for n, target in enumerate(targets, 1):
                conn.request("GET", target)
                response = conn.getresponse()
                response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if n % 2000 == 0:
                    print(f"{n} of {len(targets)} feeds", file=sys.stderr)
            conn.close()
            after = max(rss_mb(pid) for pid in workers)
            seconds = time.monotonic() - started
    assert set(statuses) == {200}, statuses
    rows = [
        Row(
            f"web process RSS (one granian worker) after GETs of all {len(targets):,} feeds "
            f"({'/'.join(formats)}) of the {args.articles:,}-article store, nothing published, "
            f"cache_bytes {CACHE_BYTES // 2**20} MiB",
            "-",
            f"{after:.0f} MB (at start {before:.0f} MB); {seconds:.0f} s for the requests",
            None,
            f"<= {LIMIT_MB} MB",
            after <= LIMIT_MB,
        )
    ]
    report("Web process memory", rows)


if __name__ == "__main__":
    main()
