"""Cached feed serving against regenerating the feed on every request, side by side.

Both apps are the same code on the same store; the only difference is the render
cache's size (0 bytes disables it). Requests go through the full WSGI stack (routing,
version lookup, conditional-GET logic, headers) in this process, alternating between
the two apps in rounds so that machine noise hits both alike.

    python bench/serve.py [--seconds 2] [--rounds 3] [--wrk]

With --wrk (and Debian's `wrk` installed) both apps are also served over real sockets
on 127.0.0.1 by werkzeug's threaded server and loaded with wrk, alternating the same way.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds import create_app  # noqa: E402


def build_app(database_url: str, cache_bytes: int) -> Any:
    return create_app(
        {
            "database_url": database_url,
            "config_dir": str(ROOT / "config"),
            "media_dir": str(ROOT / "config" / "demo" / "media"),
            "load_demo": True,
            "cache_bytes": cache_bytes,
            "secret_key": "bench",
            "log_level": "WARNING",
        }
    )


def fill(app: Any, count: int) -> None:
    """Add articles until the `all` feed is about the size of a real one (~150 KB)."""
    service = app.extensions["feeds"]
    paragraph = (
        "<p>Port authorities said the new schedule would cut waiting times for container "
        "ships by a third, and that pilots would be on call through the night. "
        'Analysts at <a href="/markets">the markets desk</a> expect rivals to follow.</p>'
    )
    for n in range(count):
        service.articles.create(
            {
                "title": f"Benchmark story number {n}: harbour schedules change again",
                "author": "Bench Writer",
                "section": "business",
                "summary": "A summary long enough to look like a real one in a feed reader.",
                "content_html": paragraph * 10,
                "hashtags": ["Shipping", "Bench"],
                "published_at": f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:00:00+00:00",
                "image": {
                    "url": f"https://img.example.com/{n}.jpg",
                    "mime_type": "image/jpeg",
                    "length": 40000 + n,
                    "alt": "",
                },
            }
        )


def measure(client: Any, path: str, seconds: float) -> float:
    """Requests per second for `seconds` of back-to-back GETs."""
    done = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        response = client.get(path)
        assert response.status_code == 200
        done += 1
    return done / (time.perf_counter() - start)


def wrk_rate(port: int, path: str, seconds: float) -> float:
    """Requests per second reported by wrk against 127.0.0.1 only."""
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{max(1, int(seconds))}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def serve_in_thread(app: Any) -> int:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return int(server.server_port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", default="/feeds/all.rss?limit=50")
    parser.add_argument("--wrk", action="store_true", help="also measure over HTTP with wrk")
    args = parser.parse_args()
    wrk_rates: dict[str, list[float]] = {"cached": [], "regenerating": []}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        cached_app = build_app(url, 64 * 1024 * 1024)
        cached_app.extensions["feeds"].setup.init()
        fill(cached_app, 60)
        fresh_app = build_app(url, 0)
        cached, fresh = cached_app.test_client(), fresh_app.test_client()
        size = len(cached.get(args.path).data)
        fresh.get(args.path)
        cached_rates, fresh_rates = [], []
        for _ in range(args.rounds):
            cached_rates.append(measure(cached, args.path, args.seconds))
            fresh_rates.append(measure(fresh, args.path, args.seconds))
        if args.wrk and shutil.which("wrk"):
            ports = {
                "cached": serve_in_thread(cached_app),
                "regenerating": serve_in_thread(fresh_app),
            }
            for _ in range(args.rounds):
                for label, port in ports.items():
                    wrk_rates[label].append(wrk_rate(port, args.path, args.seconds))
    cached_rate = statistics.median(cached_rates)
    fresh_rate = statistics.median(fresh_rates)
    print(f"feed: {args.path} ({size / 1024:.0f} KiB, 50 items)")
    for label, rate, rounds in (
        ("cached", cached_rate, cached_rates),
        ("regenerating", fresh_rate, fresh_rates),
    ):
        shown = ", ".join(f"{r:.0f}" for r in rounds)
        print(f"{label + ':':14}{rate:8.0f} req/s  (rounds: {shown})")
    print(f"ratio cached/regenerating: {cached_rate / fresh_rate:.1f}x")
    if wrk_rates["cached"]:
        over_http = {k: statistics.median(v) for k, v in wrk_rates.items()}
        print("over HTTP (werkzeug threaded server, wrk -t2 -c16):")
        for label, rate in over_http.items():
            shown = ", ".join(f"{r:.0f}" for r in wrk_rates[label])
            print(f"  {label + ':':14}{rate:8.0f} req/s  (rounds: {shown})")
        print(f"  ratio: {over_http['cached'] / over_http['regenerating']:.1f}x")


if __name__ == "__main__":
    main()
