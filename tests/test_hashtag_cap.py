"""The hashtag cap and rendering that stays linear in categories.

A payload with thousands of hashtags is refused whole (API 422, import naming the line);
an article at the cap renders with every category in every format; and the writers hand
each entry's categories to feedgen once, so their work grows with the number of
categories, not with its square.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from feedgen.entry import FeedEntry
from flask.testing import FlaskClient, FlaskCliRunner
from lxml import etree
from sqlalchemy import func, select

from feeds.render.atom import render_atom
from feeds.render.rss import render_rss
from feeds.service import Service
from feeds.store.schema import article_hashtags, hashtags
from tests.conftest import article_payload
from tests.render_factory import make_document, make_item
from tests.test_cli import error_json, record, run, write_ndjson

API = "/api/v1/articles"
ATOM = "{http://www.w3.org/2005/Atom}"


def assert_nothing_stored(service: Service) -> None:
    assert service.articles.count() == 0
    assert stored_hashtag_rows(service) == 0


def stored_hashtag_rows(service: Service) -> int:
    with service.ctx.store.read() as conn:
        tags = conn.execute(select(func.count()).select_from(hashtags)).scalar_one()
        links = conn.execute(select(func.count()).select_from(article_hashtags)).scalar_one()
    return int(tags) + int(links)


def tag_names(count: int) -> list[str]:
    return [f"Topic{n}" for n in range(count)]


@pytest.mark.parametrize(
    "tags",
    [tag_names(10_000), "".join(f"#{name}" for name in tag_names(10_000))],
    ids=["list", "text"],
)
def test_ten_thousand_hashtags_are_refused_and_nothing_is_stored(
    client: FlaskClient, writer_token: dict[str, str], service: Service, tags: Any
) -> None:
    response = client.post(API, json=article_payload(hashtags=tags), headers=writer_token)
    assert response.status_code == 422
    body = response.get_json()
    assert list(body["fields"]) == ["hashtags"]
    assert "at most 30 hashtags" in body["fields"]["hashtags"]
    assert_nothing_stored(service)


def test_the_cap_is_the_setting_and_applies_to_edits(
    client: FlaskClient, writer_token: dict[str, str], service: Service
) -> None:
    cap = service.settings.max_hashtags_per_article
    created = client.post(API, json=article_payload(hashtags=tag_names(cap)), headers=writer_token)
    assert created.status_code == 201
    assert len(created.get_json()["hashtags"]) == cap
    article_id = created.get_json()["id"]
    before = stored_hashtag_rows(service)

    patched = client.patch(
        f"{API}/{article_id}", json={"hashtags": tag_names(cap + 1)}, headers=writer_token
    )
    assert patched.status_code == 422
    assert list(patched.get_json()["fields"]) == ["hashtags"]
    assert stored_hashtag_rows(service) == before
    assert len(service.articles.get(article_id).hashtags) == cap


def test_import_names_the_line_with_too_many_hashtags(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(
        tmp_path / "bomb.ndjson", [record(1), record(2, hashtags=tag_names(10_000)), record(3)]
    )
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert failure["line"] == 2
    assert list(failure["fields"]) == ["hashtags"]
    assert_nothing_stored(service)


def test_an_article_at_the_cap_shows_every_category_in_every_format(
    client: FlaskClient, writer_token: dict[str, str], service: Service
) -> None:
    cap = service.settings.max_hashtags_per_article
    names = tag_names(cap)
    response = client.post(
        API,
        json=article_payload(hashtags=names, published_at="2026-01-12T17:23:00+09:00"),
        headers=writer_token,
    )
    assert response.status_code == 201
    expected = ["World", *names]  # the section's title first, then the hashtags in order

    rss = etree.fromstring(client.get("/feeds/all.rss").data)
    assert [c.text for c in rss.iter("category")] == expected
    atom = etree.fromstring(client.get("/feeds/all.atom").data)
    assert [c.get("term") for c in atom.iter(f"{ATOM}category")] == expected
    feed = json.loads(client.get("/feeds/all.json").data)
    assert feed["items"][0]["tags"] == expected


@pytest.mark.parametrize(
    ("render", "read_back"),
    [
        (render_rss, lambda root: [c.text for c in root.iter("category")]),
        (render_atom, lambda root: [c.get("term") for c in root.iter(f"{ATOM}category")]),
    ],
    ids=["rss", "atom"],
)
def test_writers_pass_each_entrys_categories_to_feedgen_once(
    monkeypatch: pytest.MonkeyPatch, render: Any, read_back: Any
) -> None:
    """feedgen rebuilds an entry's category list on every call: one call keeps it linear."""
    calls: list[int] = []
    real = FeedEntry.category

    def counting(self: FeedEntry, category: Any = None, *args: Any, **kwargs: Any) -> Any:
        if category is not None or kwargs:
            calls.append(len(category) if isinstance(category, list) else 1)
        return real(self, category, *args, **kwargs)

    monkeypatch.setattr(FeedEntry, "category", counting)
    many = tuple(f"tag{n}" for n in range(10_000))
    items = (make_item(1, categories=many), make_item(2), make_item(3, categories=()))
    root = etree.fromstring(render(make_document(items)))

    # One call per entry that has categories, each carrying all of them.
    assert calls == [10_000, 2]
    assert read_back(root) == [*many, "latest", "SouthKorea"]
