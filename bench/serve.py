"""Serving a cached feed: the app under real WSGI servers against nginx, side by side.

On one store holding a 50-item `all` feed, with wrk -c50 from 127.0.0.1, alternating
contenders in rounds:

1. a 200 for `/feeds/all.rss` from the app under granian and under gunicorn, against
   nginx serving the same bytes from a plain file (target: the app >= 0.20 of nginx);
2. a 304 (If-None-Match) from the faster server against nginx's 304 (>= 0.15);
3. the faster server's p99 at 50 connections (<= 20 ms);
4. the published file through config/nginx.example.conf against nginx's defaults on the
   same file, both under one main config (one worker, no access log, `pcre_jit on` as
   README asks) and sending the same identity bytes (>= 0.90);
5. the faster server's hit throughput while the API writes 5 articles/s against the same
   without writes (>= 0.9).

    python bench/serve.py [--seconds 5] [--workers 2]

BENCH_QUICK=1 runs each load for 1 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import QUICK, Row, alternate, ratio_row, report  # noqa: E402
from bench.servers import (  # noqa: E402
    KNOWN_SETTINGS,
    Load,
    Process,
    Writer,
    app_environment,
    get,
    server_command,
    wrk,
)
from feeds import create_app  # noqa: E402
from tests.nginx_server import Nginx, Site, free_port, plain_config  # noqa: E402

FEED = "/feeds/all.rss"
PUBLIC = "https://feeds.example.org"
# Quick runs skip gunicorn (slower in every full run) to stay within their time.
SERVERS = ("granian",) if QUICK else ("granian", "gunicorn")
PARAGRAPH = (
    "<p>Port authorities said the new schedule would cut waiting times for container "
    "ships by a third, and that pilots would be on call through the night. "
    'Analysts at <a href="/markets">the markets desk</a> expect rivals to follow.</p>'
)


def article(n: int) -> dict[str, Any]:
    return {
        "title": f"Benchmark story number {n}: harbour schedules change again",
        "author": "Bench Writer",
        "section": "business",
        "summary": "A summary long enough to look like a real one in a feed reader.",
        "content_html": PARAGRAPH * 3,
        "hashtags": ["Shipping", "Bench"],
        "image": {
            "url": f"https://img.example.com/{n}.jpg",
            "mime_type": "image/jpeg",
            "length": 40000 + n,
            "alt": "",
        },
    }


def prepare(folder: Path) -> tuple[dict[str, object], str]:
    """A store with a 50-item `all` feed, its published tree, and a write token."""
    settings: dict[str, object] = {
        "database_url": f"sqlite:///{folder}/bench.db",
        "config_dir": str(ROOT / "config"),
        "media_dir": str(ROOT / "config" / "demo" / "media"),
        "load_demo": False,
        "scheduler_enabled": False,
        "secret_key": "bench",
        "log_level": "WARNING",
        "public_url": PUBLIC + "/",
        "publish_dir": str(folder / "published"),
    }
    known = {k: v for k, v in settings.items() if k in KNOWN_SETTINGS}
    svc = create_app(known).extensions["feeds"]
    svc.setup.init()
    for n in range(60):
        svc.articles.create(
            article(n) | {"published_at": f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:00:00+00:00"}
        )
    token = svc.tokens.create("bench-writer", ("articles:write",))
    svc.publisher.run(everything=True)
    svc.ctx.store.dispose()
    return settings, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1 if QUICK else 5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seconds = args.seconds
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="feeds-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        settings, token = prepare(folder)
        print(f"store ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        env = app_environment(**settings)
        ports = {name: free_port() for name in SERVERS}
        apps = {
            name: Process(server_command(name, ports[name], args.workers), env, name, ports[name])
            for name in SERVERS
        }
        # The baseline's file has the published one's URL and depth: both nginx servers
        # parse the same request line and walk as many folders to the file.
        plain_dir = folder / "plain"
        (plain_dir / "feeds").mkdir(parents=True)
        for app in apps.values():
            app.start()
        print(f"servers up at {time.perf_counter() - started:.1f} s", file=sys.stderr)
        try:
            status, headers, body = get(ports["granian"], FEED)
            assert status == 200, status
            (plain_dir / FEED.lstrip("/")).write_bytes(body)
            for name in SERVERS:
                assert get(ports[name], FEED)[2] == body, f"{name} serves other bytes"
            app_etag = headers["etag"]
            plain_port, edge_port = free_port(), free_port()
            site = Site(
                port=edge_port,
                upstream=f"127.0.0.1:{ports['granian']}",
                publish_dir=folder / "published",
                public_url=PUBLIC,
                hub=PUBLIC + "/websub",
                max_age=300,
            )
            plain_site = Site(plain_port, "", plain_dir, PUBLIC, "", 300)
            with (
                Nginx(plain_site, folder / "nginx-plain", server_config=plain_config(
                    plain_port, plain_dir)) as plain,
                Nginx(site, folder / "nginx-edge") as edge,
            ):  # fmt: skip
                plain_etag = get(plain_port, FEED)[1]["etag"]
                # Both sides send the same identity bytes (wrk asks for no coding).
                for port in (plain_port, edge_port):
                    _, sent, sent_body = get(port, FEED)
                    assert sent_body == body and "content-encoding" not in sent, port
                loads: dict[str, list[Load]] = {}

                def run(name: str, url: str, headers: dict[str, str] | None = None) -> Any:
                    def once() -> float:
                        load = wrk(url, seconds, 50, headers)
                        assert load.non_2xx_3xx == 0 and load.socket_errors == 0, (name, load)
                        loads.setdefault(name, []).append(load)
                        return load.rate

                    return once

                served = alternate(
                    {
                        "nginx": run("nginx", f"{plain.url}{FEED}"),
                        **{n: run(n, f"http://127.0.0.1:{ports[n]}{FEED}") for n in SERVERS},
                    }
                )
                fastest = max(SERVERS, key=lambda n: served[n])
                for name in SERVERS:
                    rows.append(
                        ratio_row(
                            f"cached 200, `{FEED}` (50 items, {len(body) // 1024} KiB), the app "
                            f"under {name} ({args.workers} workers), wrk -c50",
                            "nginx serving the same bytes from a file",
                            served[name],
                            served["nginx"],
                            "req/s",
                            at_least=0.20,
                        )
                    )
                command = " ".join(server_command(fastest, 8000, args.workers)[1:])
                notes.append(f"Fastest server here: {fastest}: `{fastest} {command}`.")
                conditional = alternate(
                    {
                        "app": run(
                            "app-304",
                            f"http://127.0.0.1:{ports[fastest]}{FEED}",
                            {"If-None-Match": app_etag},
                        ),
                        "nginx": run(
                            "nginx-304", f"{plain.url}{FEED}", {"If-None-Match": plain_etag}
                        ),
                    }
                )
                rows.append(
                    ratio_row(
                        f"cached 304 (If-None-Match), the app under {fastest}",
                        "nginx answering 304",
                        conditional["app"],
                        conditional["nginx"],
                        "req/s",
                        at_least=0.15,
                    )
                )
                p99 = sorted(load.p99_ms for load in loads[fastest])[len(loads[fastest]) // 2]
                rows.append(
                    Row(
                        f"p99 at 50 connections, cached 200, the app under {fastest}",
                        "-",
                        f"{p99:.1f} ms",
                        None,
                        "<= 20 ms",
                        p99 <= 20,
                    )
                )
                through = alternate(
                    {
                        "edge": run("edge", f"{edge.url}{FEED}"),
                        "plain": run("plain", f"{plain.url}{FEED}"),
                    }
                )
                rows.append(
                    ratio_row(
                        "published bytes through config/nginx.example.conf",
                        "nginx's defaults on the same file",
                        through["edge"],
                        through["plain"],
                        "req/s",
                        at_least=0.90,
                    )
                )
                writers: list[Writer] = []

                def with_writes() -> float:
                    writer = Writer(ports[fastest], token, 5.0, lambda n: article(10_000 + n))
                    writers.append(writer)
                    writer.start()
                    try:
                        return run("writes", f"http://127.0.0.1:{ports[fastest]}{FEED}")()
                    finally:
                        writer.stop.set()
                        writer.join()

                writing = alternate(
                    {
                        "writes": with_writes,
                        "quiet": run("quiet", f"http://127.0.0.1:{ports[fastest]}{FEED}"),
                    }
                )
                created = sum(w.created for w in writers)
                failed = sum(w.failed for w in writers)
                rows.append(
                    ratio_row(
                        f"hit throughput under {fastest} while the API writes 5 articles/s "
                        f"({created} written, {failed} failed)",
                        "the same without writes",
                        writing["writes"],
                        writing["quiet"],
                        "req/s",
                        at_least=0.9,
                    )
                )
        finally:
            for app in apps.values():
                app.stop()
    report("Serving", rows, notes)


if __name__ == "__main__":
    main()
