"""A category bomb is bounded, and every other feed keeps answering while it is processed.

An outside feed whose items carry 10,000 categories each is ingested from a real local
HTTP server while the app is served for real on 127.0.0.1. The refresh is held still
twice, in the middle of normalising its entries and with its write transaction open;
each time every feed in the OPML answers 200 with exactly the bytes it served before.
Once committed, each bomb item carries the capped hashtags and feeds outside the bomb's
section are unchanged. (API articles with 10,000 hashtags: tests/test_hashtag_cap.py.)
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import httpx
import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from feeds.ingest import normalize as normalize_module
from feeds.service import Service
from feeds.service import ingest as ingest_module
from tests.conftest import FakeClock, address, make_app, serving
from tests.httpservers import RawServer, head_reply, raw_server
from tests.ingest_helpers import INGEST_SETTINGS, Entry, add_source, rss, svc

__all__ = ["raw_server"]  # the fixture, imported for its side effect

ITEMS = 10
CATEGORIES = 10_000
SECTION = "culture"


@pytest.fixture
def bomb_app(database_url: str, clock: FakeClock, listener: BaseWSGIServer) -> Iterator[Flask]:
    """The demo newsroom (feeds of every kind with items), served at `listener`'s address."""
    app = make_app(
        database_url,
        clock,
        load_demo=True,
        public_url=address(listener) + "/",
        # The poller counts' flushing thread outlives the app: it must not write into a
        # later test's store (on PostgreSQL it deadlocked with that test's TRUNCATE).
        poller_flush_seconds=86_400,
        **INGEST_SETTINGS,
    )
    yield app
    svc(app).ctx.store.dispose()


def bomb() -> bytes:
    categories = tuple(f"Topic{n}" for n in range(CATEGORIES))
    return rss([Entry(f"bomb-{n}", f"Bomb {n}", categories=categories) for n in range(ITEMS)])


def every_feed(base: str) -> dict[str, bytes]:
    """The bytes of every feed the OPML lists, and of the directory, fetched for real."""
    opml = ET.fromstring(httpx.get(f"{base}/feeds.opml").content)
    urls = [f"{base}/feeds/"] + [o.get("xmlUrl") or "" for o in opml.iter("outline")]
    served = {}
    for url in filter(None, urls):
        response = httpx.get(url)
        assert response.status_code == 200, url
        served[urlsplit(url).path] = response.content
    return served


class Hold:
    """Stops the thread that calls it until the test lets it go."""

    def __init__(self) -> None:
        self.reached, self.released = threading.Event(), threading.Event()

    def __call__(self, *_: Any) -> None:
        self.reached.set()
        assert self.released.wait(120), "never released"


def test_a_category_bomb_is_bounded_and_other_feeds_keep_answering(
    bomb_app: Flask,
    listener: BaseWSGIServer,
    raw_server: Callable[..., RawServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service: Service = svc(bomb_app)
    body = bomb()

    def reply(_head: bytes, sock: socket.socket) -> None:
        headers = {"Content-Type": "application/rss+xml", "Content-Length": str(len(body))}
        sock.sendall(head_reply("200 OK", headers, body))

    source_id = add_source(
        service, raw_server(reply).url("/bomb.xml"), section=SECTION, hashtags=["Wire"]
    )
    mid_entries, before_commit = Hold(), Hold()
    real_entry = normalize_module.normalize_entry
    calls = 0

    def held_entry(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == ITEMS // 2:
            mid_entries()
        return real_entry(*args, **kwargs)

    monkeypatch.setattr(normalize_module, "normalize_entry", held_entry)
    monkeypatch.setattr(ingest_module, "before_commit", before_commit)

    with serving(bomb_app, listener) as base:
        before = every_feed(base)
        outcome: list[Any] = []
        worker = threading.Thread(target=lambda: outcome.append(service.sources.refresh(source_id)))
        worker.start()
        try:
            for hold in (mid_entries, before_commit):
                assert hold.reached.wait(120), "the refresh never got there"
                assert every_feed(base) == before
                hold.released.set()
        finally:
            mid_entries.released.set()
            before_commit.released.set()
            worker.join(120)

        (done,) = outcome
        assert (done.status, done.new) == ("fetched", ITEMS)
        cap = service.settings.max_hashtags_per_article
        warnings = " | ".join(done.counts.warnings)
        assert "categories past the first 1000 of an entry were dropped" in warnings
        assert f"hashtags cut to the first {cap} of 1001" in warnings

        section_feed = ET.fromstring(httpx.get(f"{base}/feeds/sections/{SECTION}.rss").content)
        bombs = [
            i for i in section_feed.iter("item") if (i.findtext("title") or "").startswith("Bomb ")
        ]
        assert len(bombs) == ITEMS
        for item in bombs:
            # The section's title, then the source's hashtag and the first categories.
            categories = [c.text for c in item.iter("category")]
            assert len(categories) == cap + 1
            assert categories[1:3] == ["Wire", "Topic0"]

        after = every_feed(base)
        untouched = [p for p in before if p.startswith(("/feeds/tags/", "/feeds/sections/"))]
        untouched = [p for p in untouched if not p.startswith(f"/feeds/sections/{SECTION}.")]
        assert untouched
        assert {p: after[p] for p in untouched} == {p: before[p] for p in untouched}
