"""Admin forms as an editor meets them: every problem at once in the form's words, tied
to its field; hashtags shown as articles write them; a slug that follows the title and
a preview that waits for a rule (in Chromium)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html

from feeds.service import Service
from tests.admin_helpers import PASSWORD, login, post
from tests.test_admin_browser import CHROMIUM, browser_page, log_in


def test_tag_feed_form_shows_every_problem_at_once_in_words(
    demo_client: FlaskClient, demo_app: Flask
) -> None:
    svc: Service = demo_app.extensions["feeds"]
    token = login(demo_client, svc)
    response = post(
        demo_client, "/admin/tag-feeds/new", token,
        title="Ferries", slug="Bad Slug", all_of="#Shipping", none_of="#shipping", limit="x",
    )  # fmt: skip
    assert response.status_code == 422
    page = html.fromstring(response.get_data(as_text=True))
    problems = [
        " ".join(li.text_content().split()) for li in page.xpath("//*[@id='form-errors']//li")
    ]
    assert len(problems) == 3, problems
    assert problems[0].startswith("Slug: must be lowercase")
    assert problems[1].startswith("Items in the feed: must be an integer")
    assert problems[2] == (
        "can match nothing: shipping is in both “All of these hashtags” and "
        "“None of these hashtags”"
    )
    assert not any("all_of" in p or "none_of" in p for p in problems)
    for name in ("slug", "limit"):
        [field] = page.xpath(f"//*[@id='field-{name}']")
        assert field.get("aria-invalid") == "true"
        assert f"error-{name}" in field.get("aria-describedby")
    # The sections are one group, named by its legend.
    assert page.xpath("string(//fieldset[@id='field-sections']/legend)").startswith(
        "Only in sections"
    )


def test_hashtags_keep_their_capitals_in_the_forms(
    demo_client: FlaskClient, demo_app: Flask
) -> None:
    svc: Service = demo_app.extensions["feeds"]
    svc.audit.create_tag_feed("user:alice", {"slug": "korea", "title": "Korea",
                                             "any_of": "#SouthKorea"})  # fmt: skip
    login(demo_client, svc)
    form = demo_client.get("/admin/tag-feeds/korea").get_data(as_text=True)
    assert re.search(r'name="any_of" type="text" value="#SouthKorea\s*"', form)
    listing = demo_client.get("/admin/tag-feeds").get_data(as_text=True)
    assert "#SouthKorea" in listing and "#southkorea" not in listing


def test_preview_errors_name_fields_in_words(demo_client: FlaskClient, demo_app: Flask) -> None:
    svc: Service = demo_app.extensions["feeds"]
    token = login(demo_client, svc)
    answer = post(demo_client, "/admin/tag-feeds/preview", token, all_of="#A", none_of="#a")
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {
        "Rule": "can match nothing: a is in both “All of these hashtags” and "
        "“None of these hashtags”"
    }


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_in_chromium_the_slug_follows_the_title_and_the_preview_waits(
    live_demo_app: Flask, live_url: str
) -> None:
    svc: Service = live_demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    with browser_page(live_url) as page:
        p: Any = page
        log_in(p)
        p.goto("/admin/tag-feeds/new")
        status = p.locator("#preview-status")
        status.filter(has_text="type hashtags or tick sections").wait_for()
        assert p.locator("#preview-items li").count() == 0
        p.get_by_label("Title").fill("Ferries & Ports of Öresund")
        assert p.get_by_label("Slug").input_value() == "ferries-ports-of-oresund"
        p.get_by_label("Slug").fill("ports")
        p.get_by_label("Title").fill("Ports")
        assert p.get_by_label("Slug").input_value() == "ports"  # edited: left alone
        p.get_by_label("Any of these hashtags").fill("#Japan")
        status.filter(has_text=re.compile(r"\d+ articles?")).wait_for()


def test_the_source_form_asks_for_a_section_instead_of_picking_one(
    demo_client: FlaskClient, demo_app: Flask
) -> None:
    svc: Service = demo_app.extensions["feeds"]
    token = login(demo_client, svc)
    before = len(svc.sources.list())
    blank = html.fromstring(demo_client.get("/admin/sources/new").get_data(as_text=True))
    [chosen] = blank.xpath("//select[@name='section']/option[@selected]")
    assert (chosen.get("value"), chosen.text) == ("", "Choose a section…")
    response = post(demo_client, "/admin/sources/new", token, url="https://example.com/feed.xml",
                    name="Wire", categories="none", interval_minutes="15",
                    retention_days="30", max_items="100")  # fmt: skip
    assert response.status_code == 422
    page = html.fromstring(response.get_data(as_text=True))
    assert page.xpath("string(//*[@id='error-section'])") == (
        "choose the section this source's items are filed under"
    )
    assert page.xpath("//select[@id='field-section']/@aria-invalid") == ["true"]
    assert len(svc.sources.list()) == before


def test_source_form_errors_are_tied_to_their_fields(
    demo_client: FlaskClient, demo_app: Flask
) -> None:
    svc: Service = demo_app.extensions["feeds"]
    token = login(demo_client, svc)
    response = post(demo_client, "/admin/sources/new", token, url="https://example.com/f.xml",
                    name="Wire", section="world", categories="map", category_map="no equals",
                    interval_minutes="soon", retention_days="30", max_items="0")  # fmt: skip
    assert response.status_code == 422
    page = html.fromstring(response.get_data(as_text=True))
    for name in ("interval_minutes", "max_items", "categories"):
        [field] = page.xpath(f"//*[@id='field-{name}']")
        assert field.get("aria-invalid") == "true", name
        described = field.get("aria-describedby").split()
        assert f"error-{name}" in described
        assert page.xpath(f"string(//*[@id='error-{name}'])"), name
