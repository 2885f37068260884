"""A forged Host header changes nothing: absolute URLs come from `public_url`, so random
hosts with a valid `before=` cursor neither render per request nor evict real entries."""

from __future__ import annotations

import random
import string
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from feeds.service import Service


def random_host(rng: random.Random) -> str:
    name = "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))
    return f"{name}.example.net:{rng.randint(1, 65535)}"


def test_random_hosts_with_a_cursor_render_once(demo_client: FlaskClient, demo_app: object) -> None:
    svc: Service = demo_app.extensions["feeds"]  # type: ignore[attr-defined]
    first = demo_client.get("/feeds/all.json?limit=2").get_json()
    cursor = parse_qs(urlsplit(first["next_url"]).query)["before"][0]
    path = f"/feeds/all.rss?limit=2&before={cursor}"

    reference = demo_client.get(path)
    assert reference.status_code == 200
    cache = svc.cache
    misses, hits, used = cache.misses, cache.hits, cache.bytes_used

    rng = random.Random(8)
    for _ in range(60):
        host = random_host(rng)
        answer = demo_client.get(path, headers={"Host": host})
        assert answer.status_code == 200
        assert answer.data == reference.data
        assert host.split(":")[0] not in answer.get_data(as_text=True)
    assert cache.misses == misses, "a forged Host made the feed render again"
    assert cache.hits == hits + 60
    assert cache.bytes_used == used, "a forged Host added or evicted cache entries"
