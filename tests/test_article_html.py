"""Newsroom HTML is sanitised on write with the ingest policy: the store keeps what is served.

Checked through the API, `feeds import`, the feeds built from the store, and the upgrade
that cleans rows stored before this policy (on both databases).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text

from feeds.service import Service
from feeds.store import Store
from tests.conftest import article_payload
from tests.migration_helpers import old_version_row, upgrade_to

API = "/api/v1/articles"
Headers = dict[str, str]

HOSTILE = (
    '<p onclick="steal()">Cranes <b>moved</b>.<script>steal()</script></p>'
    '<img src="pic.jpg" onerror="steal()"><svg onload="steal()"></svg>'
    '<a href="JaVaScRiPt&#58;steal()">a</a><a href="java&#x09;script:steal()">b</a>'
    '<a href="/more">more</a><iframe srcdoc="&lt;script&gt;steal()&lt;/script&gt;"></iframe>'
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">'
    '<p style="background:url(https://evil.example/x)">styled</p>'
)
CLEAN = (
    "<p>Cranes <b>moved</b>.</p>"
    '<img src="pic.jpg"><a rel="noopener noreferrer">a</a><a rel="noopener noreferrer">b</a>'
    '<a href="/more" rel="noopener noreferrer">more</a><p>styled</p>'
)


def created(client: FlaskClient, headers: Headers, **changes: Any) -> dict[str, Any]:
    response = client.post(API, json=article_payload(**changes), headers=headers)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_api_create_stores_sanitised_html_and_feeds_serve_it(
    client: FlaskClient, writer_token: Headers
) -> None:
    article = created(client, writer_token, url=None, slug="cranes", content_html=HOSTILE)
    assert article["content_html"] == CLEAN
    stored = client.get(f"{API}/{article['id']}", headers=writer_token).get_json()
    assert stored["content_html"] == CLEAN
    # Relative URLs stay relative in the store and are resolved against the item's link.
    feed = client.get("/feeds/all.json").get_json()
    (item,) = feed["items"]
    assert "steal" not in item["content_html"] and "evil" not in item["content_html"]
    assert '<img src="http://localhost/articles/pic.jpg">' in item["content_html"]
    assert 'href="http://localhost/more"' in item["content_html"]


def test_relative_urls_resolve_against_the_articles_own_url(
    client: FlaskClient, writer_token: Headers
) -> None:
    article = created(client, writer_token, content_html=HOSTILE)
    assert '<img src="https://news.example.com/world/pic.jpg">' in article["content_html"]
    assert 'href="https://news.example.com/more"' in article["content_html"]
    assert "steal" not in article["content_html"]


def test_put_and_patch_sanitise_too(client: FlaskClient, writer_token: Headers) -> None:
    article = created(client, writer_token, url=None)
    url = f"{API}/{article['id']}"
    replaced = client.put(url, json=article_payload(url=None, content_html=HOSTILE),
                          headers=writer_token)  # fmt: skip
    assert replaced.status_code == 200
    assert replaced.get_json()["content_html"] == CLEAN
    patched = client.patch(url, json={"content_html": "<p>x<script>steal()</script></p>"},
                           headers=writer_token)  # fmt: skip
    assert patched.get_json()["content_html"] == "<p>x</p>"


def test_an_unchanged_patch_of_sanitised_html_writes_nothing(
    client: FlaskClient, writer_token: Headers
) -> None:
    # Sanitising what is already clean changes nothing, so re-sending a stored article
    # moves no feed and no update time.
    article = created(client, writer_token, url=None, content_html=HOSTILE)
    url = f"{API}/{article['id']}"
    patched = client.patch(url, json={"content_html": article["content_html"]},
                           headers=writer_token)  # fmt: skip
    assert patched.get_json()["updated_at"] == article["updated_at"]


def test_import_sanitises_each_record(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = tmp_path / "articles.ndjson"
    path.write_text(
        json.dumps(article_payload(url=None, slug="imported", content_html=HOSTILE)) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["feeds", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert service.articles.get_by_slug("imported").content_html == CLEAN


def test_upgrade_sanitises_newsroom_rows_and_moves_every_feed(empty_database_url: str) -> None:
    store = Store.from_url(empty_database_url)
    upgrade_to(store, "0006")
    ingested = "<p>kept as ingested <b>x</b></p>"
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO sections (slug, title, description) VALUES ('w', 'W', '')"))
        conn.execute(
            text(
                "INSERT INTO sources (id, url, name, section, hashtags, category_mode,"
                " category_map, interval_seconds, enabled, retention_days, max_items, failures,"
                " items_new, items_updated, items_unchanged, redirect_seen) VALUES"
                " (1, 'https://wire.example/feed', 'Wire', 'w', '[]', 'none', '[]', 900, TRUE,"
                " 30, 100, 0, 0, 0, 0, 0)"
            )
        )
        rows = [
            (1, None, HOSTILE, None),
            (2, None, HOSTILE, "https://news.example.com/world/x"),
            (3, 1, ingested, "https://wire.example/1"),
        ]
        for n, source, content, url in rows:
            conn.execute(
                text(
                    "INSERT INTO articles (id, guid, slug, title, summary, content_html, author,"
                    " section, url, views, sponsored, status, language, published_at,"
                    " updated_at, source_id) VALUES (:n, :guid, :slug, 't', '', :content, 'a',"
                    " 'w', :url, 0, FALSE, 'published', 'en', '2020-01-01 00:00:00',"
                    " '2020-01-01 00:00:00', :source)"
                ),
                dict(n=n, guid=f"g{n}", slug=f"s{n}", content=content, url=url, source=source),
            )
        old_version_row(conn, "all", 7, "2020-01-01 00:00:00")
    store.migrate()
    with store.read() as conn:
        stored = dict(conn.execute(text("SELECT id, content_html FROM articles")).all())
        version = conn.execute(text("SELECT version FROM feed_versions")).scalar_one()
    store.dispose()
    assert stored[1] == CLEAN
    assert "steal" not in stored[2]
    assert '<img src="https://news.example.com/world/pic.jpg">' in stored[2]
    assert stored[3] == ingested
    assert version == 8
