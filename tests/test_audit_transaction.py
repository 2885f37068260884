"""An audited change and its audit entry are one transaction: neither is kept alone.

The audit log is made to refuse every insert with a real database trigger (SQLite and
PostgreSQL), so each admin change below fails at its entry; the change itself must be
gone too: the article keeps its status and title, no tag feed, source or token appears,
and the feeds do not move. The reverse holds as well: a change that fails writes no
entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from feeds.errors import Conflict, NotFound, StorageError, ValidationError
from feeds.models import FeedKey, FeedKind, Status
from feeds.service import Service
from tests.conftest import article_payload

ALICE = "user:alice"
ALL = FeedKey(FeedKind.ALL, "all")


@contextmanager
def audit_log_refusing(service: Service) -> Iterator[None]:
    """While the block runs, every insert into the audit log fails in the database."""
    store = service.ctx.store
    if store.dialect == "postgresql":
        create = [
            "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit log refuses'; END $$",
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_refused()",
        ]
        drop = ["DROP TRIGGER audit_refused ON audit_log", "DROP FUNCTION audit_refused()"]
    else:
        create = [
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'the audit log refuses'); END"
        ]
        drop = ["DROP TRIGGER audit_refused"]
    with store.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        # PostgreSQL's test schema outlives the test: the trigger must not.
        with store.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


def item_ids(client: FlaskClient) -> list[str]:
    return [item["id"] for item in client.get("/feeds/all.json").get_json()["items"]]


def test_the_trigger_refuses_an_entry_and_goes_away(service: Service) -> None:
    # The test's own instrument: without a change around it, the entry alone fails.
    with audit_log_refusing(service), pytest.raises((Conflict, StorageError)):
        service.users.create("bob", "a long enough password", actor=ALICE)
    assert service.users.find("bob") is None
    service.users.create("bob", "a long enough password", actor=ALICE)
    assert [e.action for e in service.audit.entries()] == ["create"]


@pytest.mark.parametrize("action", ["withdraw", "restore", "edit"])
def test_an_article_change_whose_entry_fails_is_undone(
    service: Service, client: FlaskClient, action: str
) -> None:
    article = service.articles.create(article_payload(slug="cranes"))
    assert article.id is not None
    if action == "restore":
        service.articles.withdraw(article.id)
    before = service.articles.get(article.id)
    shown = item_ids(client)
    version = service.feeds.current(ALL)
    change: dict[str, Callable[[], Any]] = {
        "withdraw": lambda: service.audit.withdraw_article(ALICE, article.id, "Legal"),
        "restore": lambda: service.audit.restore_article(ALICE, article.id),
        "edit": lambda: service.audit.edit_article(ALICE, article.id, {"title": "Cranes Stop"}),
    }
    with audit_log_refusing(service), pytest.raises((Conflict, StorageError)):
        change[action]()
    assert service.articles.get(article.id) == before
    assert service.feeds.current(ALL) == version
    assert item_ids(client) == shown
    assert service.audit.entries() == []
    # Once the log takes entries again, the same change goes through with its entry.
    after = change[action]()
    assert after != before
    assert [e.action for e in service.audit.entries()] == [action]


def test_tag_feed_source_and_token_changes_whose_entry_fails_are_undone(
    service: Service,
) -> None:
    feed = {"slug": "harbours", "title": "Harbours", "any_of": ["Shipping"]}
    source = {"name": "Wire", "url": "https://wire.example.com/rss", "section": "world"}
    with audit_log_refusing(service):
        with pytest.raises((Conflict, StorageError)):
            service.audit.create_tag_feed(ALICE, feed)
        with pytest.raises((Conflict, StorageError)):
            service.sources.add(source, actor=ALICE)
        with pytest.raises((Conflict, StorageError)):
            service.tokens.create("desk", ("articles:write",), actor=ALICE)
    assert [f.slug for f in service.catalog.tag_feeds() if f.slug == "harbours"] == []
    assert [s.url for s in service.sources.list() if s.url == source["url"]] == []
    assert [t.name for t in service.tokens.list()] == []
    assert service.audit.entries() == []


def test_a_change_that_fails_writes_no_entry(service: Service) -> None:
    article = service.articles.create(article_payload(slug="cranes"))
    assert article.id is not None
    with pytest.raises(ValidationError):
        service.audit.edit_article(ALICE, article.id, {"title": ""})
    with pytest.raises(NotFound):
        service.audit.withdraw_article(ALICE, article.id + 1)
    with pytest.raises(ValidationError):
        service.audit.create_tag_feed(ALICE, {"slug": "x", "title": "X", "sections": ["nowhere"]})
    assert service.articles.get(article.id).status is Status.PUBLISHED
    assert service.audit.entries() == []
