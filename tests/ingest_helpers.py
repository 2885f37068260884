"""Shared pieces of the ingest, sources and scheduler tests: feeds to serve, apps to ingest.

Everything runs against servers on 127.0.0.1; nothing here touches the internet.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feeds.service import Service
from feeds.store.schema import articles, feed_versions
from tests.conftest import CONFIG, FakeClock, make_app

INGEST_SETTINGS: dict[str, Any] = {"fetch_allow": ("localhost",), "fetch_timeout": 5.0}


@dataclass
class Entry:
    guid: str
    title: str
    body: str = "Short wire copy."
    categories: tuple[str, ...] = ()
    date: str = ""  # RFC 822; empty: two hours ago (within every retention window)
    author: str = ""


def hours_ago(hours: float) -> str:
    return format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours))


RECENT = hours_ago(2)


def rss(
    entries: list[Entry], *, title: str = "Test Wire", build: str = "", lang: str = "en"
) -> bytes:
    """An RSS 2.0 document; `build` changes the bytes without changing any entry."""
    items = []
    for e in entries:
        date = e.date or RECENT
        cats = "".join(f"<category>{c}</category>" for c in e.categories)
        author = f"<dc:creator>{e.author}</dc:creator>" if e.author else ""
        items.append(
            f"<item><guid isPermaLink='false'>{e.guid}</guid><title>{e.title}</title>"
            f"<link>https://wire.example.com/{e.guid}</link><description>{e.body}</description>"
            f"<pubDate>{date}</pubDate>{cats}{author}</item>"
        )
    built = f"<lastBuildDate>{build}</lastBuildDate>" if build else ""
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        "<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'><channel>"
        f"<title>{title}</title><link>https://wire.example.com/</link>"
        f"<language>{lang}</language>{built}{''.join(items)}</channel></rss>"
    ).encode()


def config_without_sources() -> Path:
    """The real sections and tag feeds, without the demo source, so tests own every source."""
    folder = Path(tempfile.mkdtemp(prefix="feeds-config-"))
    for name in ("sections.toml", "tag_feeds.toml"):
        shutil.copy(CONFIG / name, folder / name)
    return folder


def ingest_app(database_url: str, clock: FakeClock, **overrides: Any) -> Flask:
    settings = INGEST_SETTINGS | {"config_dir": str(config_without_sources())} | overrides
    return make_app(database_url, clock, **settings)


@pytest.fixture(name="app")
def ingest_app_fixture(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    """The `app` fixture for modules about sources: imported, it replaces conftest's."""
    app = ingest_app(database_url, clock)
    yield app
    svc(app).ctx.store.dispose()


def svc(app: Flask) -> Service:
    service: Service = app.extensions["feeds"]
    return service


def add_source(service: Service, url: str, **fields: Any) -> int:
    payload = {"url": url, "name": "Test Wire", "section": "world", "categories": "all"}
    source = service.sources.add(payload | fields)
    assert source.id is not None
    return source.id


def snapshot(service: Service) -> tuple[list[Any], list[Any]]:
    """Every article row and every feed version: equal snapshots mean nothing was written."""
    with service.ctx.store.read() as conn:
        rows = [tuple(r) for r in conn.execute(select(articles).order_by(articles.c.id))]
        versions = [tuple(r) for r in conn.execute(select(feed_versions).order_by("key"))]
    return rows, versions


def feed_titles(client: FlaskClient, path: str) -> list[str]:
    """Item titles of an RSS or Atom feed served by the app."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    root = ET.fromstring(response.data)
    atom = "{http://www.w3.org/2005/Atom}"
    if root.tag == f"{atom}feed":
        return [e.findtext(f"{atom}title") or "" for e in root.iter(f"{atom}entry")]
    return [i.findtext("title") or "" for i in root.iter("item")]
