"""Accounts in a real headless Chromium: another admin resets a password (the user's
session ends), the user changes it again themselves, and a token is shown once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from feeds.service import Service
from tests.admin_helpers import PASSWORD
from tests.conftest import FakeClock
from tests.test_admin_browser import ARGS, CHROMIUM, browser_page, pytestmark, serving  # noqa: F401

RESET = "reset by alice 2026"
OWN = "bob's own passphrase"


def log_in_as(page: object, name: str, password: str) -> None:
    page.goto("/admin/login")  # type: ignore[attr-defined]
    page.get_by_label("Name").fill(name)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]


def change_own_password(page: object, current: str, new: str) -> None:
    page.get_by_label("Current password").fill(current)  # type: ignore[attr-defined]
    page.get_by_label("New password", exact=True).fill(new)  # type: ignore[attr-defined]
    page.get_by_label("New password again").fill(new)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Change password").click()  # type: ignore[attr-defined]


@contextmanager
def two_browsers(base_url: str) -> Iterator[tuple[object, object]]:
    """Two people at once: one Chromium, two contexts that share no cookies."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        first = browser.new_context(base_url=base_url)
        second = browser.new_context(base_url=base_url)
        yield first.new_page(), second.new_page()
        browser.close()


def test_reset_by_another_admin_then_own_change(demo_app: Flask, clock: FakeClock) -> None:
    svc: Service = demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    svc.users.create("bob", PASSWORD)
    with serving(demo_app) as url, two_browsers(url) as (alice, bob):
        log_in_as(alice, "alice", PASSWORD)
        alice.wait_for_url("**/admin/")  # type: ignore[attr-defined]
        log_in_as(bob, "bob", PASSWORD)
        bob.wait_for_url("**/admin/")  # type: ignore[attr-defined]
        clock.advance(seconds=2)

        alice.get_by_role("link", name="Users").click()  # type: ignore[attr-defined]
        alice.get_by_role("link", name="New password for bob").click()  # type: ignore[attr-defined]
        alice.get_by_label("New password", exact=True).fill(RESET)  # type: ignore[attr-defined]
        alice.get_by_label("New password again").fill(RESET)  # type: ignore[attr-defined]
        alice.get_by_role("button", name="Set password for bob").click()  # type: ignore[attr-defined]
        alice.wait_for_url("**/admin/users")  # type: ignore[attr-defined]
        assert "New password set for bob" in alice.locator(".flash").inner_text()  # type: ignore[attr-defined]

        # Bob's open session ended with the reset: the next page asks him to log in.
        bob.goto("/admin/articles")  # type: ignore[attr-defined]
        assert "/admin/login" in bob.url  # type: ignore[attr-defined]
        log_in_as(bob, "bob", PASSWORD)
        assert "Wrong name or password" in bob.locator("[role=alert]").inner_text()  # type: ignore[attr-defined]
        log_in_as(bob, "bob", RESET)
        bob.wait_for_url("**/admin/")  # type: ignore[attr-defined]

        bob.get_by_role("link", name="bob").click()  # type: ignore[attr-defined]
        change_own_password(bob, "not the one", OWN)
        field = bob.get_by_label("Current password")  # type: ignore[attr-defined]
        assert field.get_attribute("aria-invalid") == "true"
        assert bob.locator("#error-current_password").inner_text() == "is not your current password"  # type: ignore[attr-defined]

        change_own_password(bob, RESET, OWN)
        bob.wait_for_url("**/admin/account")  # type: ignore[attr-defined]
        assert "Your password is changed" in bob.locator(".flash").inner_text()  # type: ignore[attr-defined]
        # His own session goes on.
        bob.goto("/admin/tokens")  # type: ignore[attr-defined]
        assert bob.url.endswith("/admin/tokens")  # type: ignore[attr-defined]

    assert svc.users.authenticate("bob", OWN, "10.9.9.9") is not None
    actions = [(e.actor, e.action) for e in svc.audit.entries(target_kind="user")]
    assert actions == [("user:bob", "change_password"), ("user:alice", "reset_password")]


def test_a_new_token_is_shown_once_and_works(demo_app: Flask) -> None:
    svc: Service = demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    with serving(demo_app) as url, browser_page(url) as page:
        log_in_as(page, "alice", PASSWORD)
        page.wait_for_url("**/admin/")  # type: ignore[attr-defined]
        page.get_by_role("link", name="Tokens").click()  # type: ignore[attr-defined]
        page.get_by_label("Name (who or what uses it)").fill("wire-desk")  # type: ignore[attr-defined]
        page.get_by_role("checkbox", name="admin").uncheck()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Create token").click()  # type: ignore[attr-defined]
        raw = page.get_by_label("Value of token wire-desk").input_value()  # type: ignore[attr-defined]
        assert raw.startswith("feeds_")
        api = page.request.get(  # type: ignore[attr-defined]
            f"{url}/api/v1/articles", headers={"Authorization": f"Bearer {raw}"}
        )
        assert api.status == 200
        page.goto("/admin/tokens")  # type: ignore[attr-defined]
        assert raw not in page.content()  # type: ignore[attr-defined]
        assert "wire-desk" in page.locator("#tokens").inner_text()  # type: ignore[attr-defined]
    (record,) = svc.tokens.list()
    assert record.scopes == ("articles:write",)
