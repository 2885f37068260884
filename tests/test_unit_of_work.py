"""Context.unit_of_work: service calls inside one block are one transaction.

Each public write method opens its own unit of work; opened inside another, it joins it,
so composing calls (a config apply, a change and its audit entry) is all or nothing.
"""

from __future__ import annotations

import pytest

from feeds.errors import Conflict
from feeds.models import Section
from feeds.service import Service
from feeds.service.audit import note
from tests.conftest import article_payload


def slugs(service: Service) -> set[str]:
    return {s.slug for s in service.catalog.sections()}


def test_calls_inside_one_unit_commit_together(service: Service) -> None:
    with service.ctx.unit_of_work():
        service.catalog.save_section(Section("harbours", "Harbours"))
        article = service.articles.create(article_payload(section="harbours", slug="cranes"))
        # A read inside the unit sees what the unit wrote so far.
        assert article.id is not None
        assert service.articles.get(article.id).section == "harbours"
    assert "harbours" in slugs(service)
    assert service.articles.get_by_slug("cranes").section == "harbours"


def test_an_exception_leaving_the_unit_undoes_every_call(service: Service) -> None:
    with pytest.raises(Conflict), service.ctx.unit_of_work():
        service.catalog.save_section(Section("harbours", "Harbours"))
        service.articles.create(article_payload(slug="cranes"))
        service.articles.create(article_payload(slug="cranes"))  # the slug is taken
    assert "harbours" not in slugs(service)
    assert service.articles.count() == 0


def test_a_failed_call_caught_inside_the_unit_still_undoes_it(service: Service) -> None:
    # A joined call that failed may have written half of itself: the unit cannot commit.
    feeds = service.catalog.tag_feeds()
    feed = service.audit.parse_tag_feed(
        {"slug": "harbours", "title": "Harbours", "any_of": ["Shipping"]}
    )
    with pytest.raises(RuntimeError, match="failed"), service.ctx.unit_of_work():
        service.catalog.save_section(Section("harbours", "Harbours"))
        service.catalog.create_tag_feed(feed)
        with pytest.raises(Conflict):
            service.catalog.create_tag_feed(feed)
    assert "harbours" not in slugs(service)
    assert service.catalog.tag_feeds() == feeds


def test_an_audit_entry_needs_the_change_it_belongs_to(service: Service) -> None:
    with pytest.raises(RuntimeError, match="no unit of work"):
        note(service.ctx, "user:alice", "create", ("article", "1"))
    assert service.audit.entries() == []


def test_reads_inside_a_read_share_its_connection(service: Service) -> None:
    with service.ctx.read() as outer, service.ctx.read() as inner:
        assert inner is outer
    with service.ctx.unit_of_work() as unit, service.ctx.read() as inside:
        assert inside is unit
    with service.ctx.read() as later:
        assert later is not outer
