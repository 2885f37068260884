"""Fixtures: an app on a fresh store per test (SQLite, or PostgreSQL when asked).

Set FEEDS_TEST_DATABASE_URL=postgresql+psycopg://... to run the whole suite on
PostgreSQL: the session gets a schema of its own, and each test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from werkzeug.serving import BaseWSGIServer, make_server

from feeds import create_app
from feeds.service import Service
from feeds.store import Store
from feeds.store.schema import metadata

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
PG_URL = os.environ.get("FEEDS_TEST_DATABASE_URL", "")


@dataclass
class FakeClock:
    """A clock the test moves by hand; starts at the real present."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextmanager
def pg_schema(prefix: str, base_url: str = PG_URL) -> Iterator[str]:
    """A URL whose connections work in a new PostgreSQL schema, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# Apps a test made and did not close: their poller flusher writes once more at exit
# (atexit), which on PostgreSQL would land in a schema this session already dropped.
_open_apps: weakref.WeakSet[Service] = weakref.WeakSet()


def _close_open_apps() -> None:
    for svc in list(_open_apps):
        if not svc.closed:
            svc.ctx.store.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database that each test copies (SQLite) or empties (PostgreSQL)."""
    if PG_URL:
        with pg_schema("feeds_test") as url:
            store = Store.from_url(url)
            store.migrate()
            store.dispose()
            yield url
            _close_open_apps()
    else:
        path = tmp_path_factory.mktemp("template") / "feeds.db"
        store = Store.from_url(f"sqlite:///{path}")
        store.migrate()
        store.dispose()
        yield str(path)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database (a schema of its own on PostgreSQL), for upgrades."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    with pg_schema("feeds_empty") as url:
        yield url


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if PG_URL:
        engine = create_engine(database_template)
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return database_template
    copy = tmp_path / "feeds.db"
    shutil.copy(database_template, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def make_app(database_url: str, clock: FakeClock, **overrides: Any) -> Flask:
    settings: dict[str, Any] = {
        "database_url": database_url,
        "config_dir": str(CONFIG),
        "media_dir": str(CONFIG / "demo" / "media"),
        "load_demo": False,
        "secret_key": "test-secret",
        "scheduler_enabled": False,
        # The test client's own address, so absolute URLs in feeds match the requests.
        "public_url": "http://localhost/",
        # Never the checkout's var/published: each app publishes into a tree of its own.
        "publish_dir": tempfile.mkdtemp(prefix="feeds-published-"),
    }
    settings.update(overrides)
    app = create_app(settings)
    app.config["TESTING"] = True
    svc: Service = app.extensions["feeds"]
    _open_apps.add(svc)
    svc.set_clock(clock)
    svc.setup.init()
    return app


def bare_app(database_url: str, clock: FakeClock, **overrides: Any) -> Flask:
    """An app as a web worker starts it: no `feeds init`, so nothing is made or migrated."""
    settings: dict[str, Any] = {
        "database_url": database_url,
        "config_dir": str(CONFIG),
        "load_demo": False,
        "secret_key": "test-secret",
        "scheduler_enabled": False,
        "public_url": "http://localhost/",
        "publish_dir": tempfile.mkdtemp(prefix="feeds-published-"),
    }
    app = create_app(settings | overrides)
    _open_apps.add(app.extensions["feeds"])
    app.extensions["feeds"].set_clock(clock)
    return app


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    app = make_app(database_url, clock)
    yield app
    app.extensions["feeds"].ctx.store.dispose()


@pytest.fixture
def demo_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    app = make_app(database_url, clock, load_demo=True)
    yield app
    app.extensions["feeds"].ctx.store.dispose()


def _not_ready(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"not ready"]


@pytest.fixture
def listener() -> Iterator[BaseWSGIServer]:
    """A server bound to a free port on 127.0.0.1 before its app exists.

    Absolute URLs come from the `public_url` setting, so an app served for real needs
    its address before it is built: bind first, build the app, then `serving()` it.
    """
    server = make_server("127.0.0.1", 0, _not_ready, threaded=True)
    yield server
    server.server_close()


def address(server: BaseWSGIServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


@contextmanager
def serving(app: Callable[..., Any], server: BaseWSGIServer | None = None) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 from a thread; stopped when the block ends."""
    server = server or make_server("127.0.0.1", 0, app, threaded=True)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield address(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def live_demo_app(database_url: str, clock: FakeClock, listener: BaseWSGIServer) -> Iterator[Flask]:
    """The demo app, configured with the public URL `live_url` serves it on."""
    app = make_app(database_url, clock, load_demo=True, public_url=address(listener) + "/")
    yield app
    app.extensions["feeds"].ctx.store.dispose()


@pytest.fixture
def live_app(database_url: str, clock: FakeClock, listener: BaseWSGIServer) -> Iterator[Flask]:
    """An app without the demo, configured with the public URL `listener` will serve."""
    app = make_app(database_url, clock, public_url=address(listener) + "/")
    yield app
    app.extensions["feeds"].ctx.store.dispose()


@pytest.fixture
def live_url(live_demo_app: Flask, listener: BaseWSGIServer) -> Iterator[str]:
    with serving(live_demo_app, listener) as url:
        yield url


@pytest.fixture
def service(app: Flask) -> Service:
    svc: Service = app.extensions["feeds"]
    return svc


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo_client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def writer_token(service: Service) -> dict[str, str]:
    raw = service.tokens.create("newsroom", ("articles:write",))
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def admin_token(service: Service) -> dict[str, str]:
    raw = service.tokens.create("admin", ("articles:write", "admin"))
    return {"Authorization": f"Bearer {raw}"}


def article_payload(**changes: Any) -> dict[str, Any]:
    """A valid article payload for the API; keyword arguments replace fields."""
    payload: dict[str, Any] = {
        "title": "Harbour Cranes Return to Work",
        "author": "Min-ji Park",
        "section": "world",
        "summary": "Cranes moved again after a three-day stoppage.",
        "content_html": '<p>Work resumed. <a href="/more">More</a> <img src="pic.jpg"></p>',
        "hashtags": ["SouthKorea", "Shipping"],
        "published_at": "2026-01-12T17:23:00+09:00",
        "url": "https://news.example.com/world/harbour-cranes",
        "image": {
            "url": "https://img.example.com/cranes.jpg",
            "mime_type": "image/jpeg",
            "length": 48213,
            "alt": "Cranes",
        },
    }
    payload.update(changes)
    return payload
