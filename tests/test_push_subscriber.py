"""Sources pushed to by WebSub: a second instance of the app on 127.0.0.1 is the hub.

Instance B publishes a feed and runs the built-in hub; instance A has B's feed as a
source. Both are real HTTP servers, so every verification and delivery crosses the
network the way it does in production.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from flask import Flask
from lxml import etree
from prometheus_client import REGISTRY
from werkzeug.serving import make_server

from feeds.jobs import Jobs
from feeds.models import ArticleFilter
from feeds.service import Service
from feeds.service import push as push_module
from feeds.store import Store
from feeds.store import push as push_store
from tests.admin_helpers import login
from tests.conftest import PG_URL, FakeClock, address, article_payload, make_app, pg_schema, serving
from tests.together import read_by_both, run_together


@dataclass
class Instance:
    app: Flask
    service: Service
    url: str
    # Paths of the feed GETs this instance answered.
    feed_gets: list[str]
    # The forms of the WebSub requests (POST /websub) this instance answered, as a hub.
    hub_requests: list[dict[str, str]]

    def token(self) -> dict[str, str]:
        raw = self.service.tokens.create("desk", ("articles:write", "admin"))
        return {"Authorization": f"Bearer {raw}"}


def counting(app: Flask, seen: list[str], hub_requests: list[dict[str, str]]) -> Callable[..., Any]:
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].startswith("/feeds/"):
            seen.append(environ["PATH_INFO"])
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/websub":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)  # the hub reads it again
            hub_requests.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
        return app(environ, start_response)

    return wsgi


@pytest.fixture
def second_database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        with pg_schema("feeds_hub") as url:
            store = Store.from_url(url)
            store.migrate()
            store.dispose()
            yield url
        return
    copy = tmp_path / "hub.db"
    shutil.copy(database_template, copy)
    yield f"sqlite:///{copy}"


def start(
    database_url: str, clock: FakeClock, **settings: Any
) -> tuple[Instance, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, lambda e, r: [], threaded=True)
    url = address(server)
    app = make_app(
        database_url, clock, public_url=url + "/", fetch_allow=("127.0.0.1",), **settings
    )
    seen: list[str] = []
    hub_requests: list[dict[str, str]] = []
    running = serving(counting(app, seen, hub_requests), server)
    running.__enter__()

    def stop() -> None:
        running.__exit__(None, None, None)
        app.extensions["feeds"].ctx.store.dispose()

    return Instance(app, app.extensions["feeds"], url, seen, hub_requests), stop


@pytest.fixture
def hub(second_database_url: str, clock: FakeClock) -> Iterator[Instance]:
    """Instance B: publishes the feed and runs the hub."""
    instance, stop = start(second_database_url, clock, load_demo=True)
    yield instance
    stop()


@pytest.fixture
def subscriber(database_url: str, clock: FakeClock) -> Iterator[Instance]:
    """Instance A: has B's world feed as a source."""
    instance, stop = start(database_url, clock)
    yield instance
    stop()


@pytest.fixture
def source_id(hub: Instance, subscriber: Instance) -> int:
    source = subscriber.service.sources.add(
        {"url": f"{hub.url}/feeds/sections/world.atom", "name": "B world", "section": "world"}
    )
    assert source.id is not None
    return source.id


def subscribed(hub: Instance, subscriber: Instance, source_id: int) -> None:
    """Poll once (which discovers the hub), subscribe, and let the hub verify."""
    outcome = subscriber.service.sources.refresh(source_id)
    assert outcome.status == "fetched", outcome.error
    assert hub.feed_gets == ["/feeds/sections/world.atom"]
    push = subscriber.service.push.state(source_id)
    assert push is not None and push.state == "discovered"
    assert push.hub == f"{hub.url}/websub"
    assert push.topic == f"{hub.url}/feeds/sections/world.atom"
    assert subscriber.service.push.run()["requested"] == 1
    assert subscriber.service.push.state(source_id).state == "subscribing"  # type: ignore[union-attr]
    assert hub.service.hub.run()["verified"] == 1
    push = subscriber.service.push.state(source_id)
    assert push is not None and push.state == "active"


def titles(instance: Instance) -> list[str]:
    return [a.title for a in instance.service.articles.list(ArticleFilter(limit=200))]


def test_a_pushed_article_is_ingested_in_one_delivery_without_a_poll(
    hub: Instance, subscriber: Instance, source_id: int, clock: FakeClock
) -> None:
    subscribed(hub, subscriber, source_id)
    clock.advance(minutes=1)
    payload = article_payload(
        title="Pushed From The Hub", url="https://news.example.com/pushed", published_at=None
    )
    created = httpx.post(f"{hub.url}/api/v1/articles", json=payload, headers=hub.token())
    assert created.status_code == 201
    assert "Pushed From The Hub" not in titles(subscriber)

    assert hub.service.hub.run()["delivered"] == 1
    assert "Pushed From The Hub" in titles(subscriber)
    assert hub.feed_gets == ["/feeds/sections/world.atom"]  # still the first poll only
    push = subscriber.service.push.state(source_id)
    assert push is not None and push.pushes == 1

    # While the push is live, the scheduler does not poll the source when it is due.
    clock.advance(hours=1)
    outcomes = Jobs(subscriber.service).tick()
    assert source_id not in [o.source_id for o in outcomes]  # (the demo's file source is)
    assert hub.feed_gets == ["/feeds/sections/world.atom"]
    health = httpx.get(f"{subscriber.url}/api/v1/sources/{source_id}", headers=subscriber.token())
    assert health.json()["push"]["state"] == "active"


def test_a_forged_delivery_is_refused_and_recorded(
    hub: Instance, subscriber: Instance, source_id: int, clock: FakeClock
) -> None:
    subscribed(hub, subscriber, source_id)
    push = subscriber.service.push.state(source_id)
    assert push is not None
    stamp = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    entry = b"<entry><id>urn:x:forged</id><title>Forged</title><updated>%s</updated></entry>"
    served = hub.app.test_client().get("/feeds/sections/world.atom").data
    forged = served.replace(b"</feed>", entry % stamp + b"</feed>")
    callback = subscriber.service.push.callback_url(push.token)
    for signature in ("", "sha256=" + "0" * 64, "md5=abc"):
        answer = httpx.post(
            callback,
            content=forged,
            headers={"X-Hub-Signature": signature, "Content-Type": "application/atom+xml"},
        )
        assert answer.status_code == 403
    push = subscriber.service.push.state(source_id)
    assert push is not None and push.refused == 3 and push.pushes == 0
    refused = REGISTRY.get_sample_value("feeds_websub_received_total", {"outcome": "refused"})
    assert refused is not None and refused >= 3
    assert "X-Hub-Signature" in (push.error or "")
    assert "Forged" not in titles(subscriber)
    # The same body signed with the secret is taken: the check is the signature.
    good = "sha256=" + hmac.new(push.secret.encode(), forged, hashlib.sha256).hexdigest()
    answer = httpx.post(callback, content=forged, headers={"X-Hub-Signature": good})
    assert answer.status_code == 202
    assert "Forged" in titles(subscriber)
    # A disabled source takes nothing, however well signed.
    subscriber.service.sources.disable(source_id)
    answer = httpx.post(callback, content=forged, headers={"X-Hub-Signature": good})
    assert answer.status_code == 410


def test_polling_resumes_when_the_lease_lapses(
    hub: Instance, subscriber: Instance, source_id: int, clock: FakeClock
) -> None:
    subscribed(hub, subscriber, source_id)
    push = subscriber.service.push.state(source_id)
    assert push is not None and push.expires_at is not None and push.lease_seconds
    # Renewal comes before the lease ends: the hub verifies again and the lease moves.
    clock.now = push.expires_at - timedelta(seconds=push.lease_seconds // 20)
    assert subscriber.service.push.run()["requested"] == 1
    assert hub.service.hub.run()["verified"] == 1
    renewed = subscriber.service.push.state(source_id)
    assert renewed is not None and renewed.expires_at is not None
    assert renewed.expires_at > push.expires_at

    # No renewal in time (the scheduler was down): the lease lapses, polling takes over.
    clock.now = renewed.expires_at + timedelta(seconds=1)
    polls = len(hub.feed_gets)
    result = subscriber.service.push.run()
    assert result["lapsed"] == 1
    state = subscriber.service.push.state(source_id)
    assert state is not None and state.state == "subscribing"  # asked again at once
    assert "lease ended" in (state.error or "")
    outcomes = Jobs(subscriber.service).tick()
    assert source_id in [o.source_id for o in outcomes]
    assert len(hub.feed_gets) == polls + 1


def test_the_dashboard_shows_push_state(
    hub: Instance, subscriber: Instance, source_id: int
) -> None:
    subscribed(hub, subscriber, source_id)
    client = subscriber.app.test_client()
    login(client, subscriber.service)
    page = etree.HTML(client.get("/admin/").data)
    (cell,) = page.xpath(f"//tr[@data-source='{source_id}']//div[@class='push']")
    assert cell.get("data-push") == "active"


def test_two_schedulers_on_one_store_ask_the_hub_once(
    hub: Instance, subscriber: Instance, source_id: int, clock: FakeClock,
    database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Two subscriber rounds on two engines that both read the same subscription before
    either asks the hub: to subscribe, to renew, and after the lease lapsed, the hub gets
    one request each time, and a lapse is counted once."""
    assert subscriber.service.sources.refresh(source_id).status == "fetched"
    other_app = make_app(
        database_url, clock, public_url=subscriber.url + "/", fetch_allow=("127.0.0.1",)
    )
    other: Service = other_app.extensions["feeds"]
    read_by_both(monkeypatch, push_store, "of_enabled_sources")

    def both_rounds() -> list[dict[str, int]]:
        return run_together(subscriber.service.push.run, other.push.run)

    try:
        results = both_rounds()
        assert sum(r["requested"] for r in results) == 1
        assert [form["hub.mode"] for form in hub.hub_requests] == ["subscribe"]
        assert hub.service.hub.run()["verified"] == 1
        push = subscriber.service.push.state(source_id)
        assert push is not None and push.state == "active" and push.expires_at is not None
        assert push.lease_seconds is not None

        # Renewal, when a tenth of the lease is left.
        clock.now = push.expires_at - timedelta(seconds=push.lease_seconds // 20)
        results = both_rounds()
        assert sum(r["requested"] for r in results) == 1
        assert len(hub.hub_requests) == 2
        assert hub.service.hub.run()["verified"] == 1
        renewed = subscriber.service.push.state(source_id)
        assert renewed is not None and renewed.expires_at is not None
        assert renewed.expires_at > push.expires_at

        # The lease lapsed (no renewal in time): marked once, asked for again once.
        clock.now = renewed.expires_at + timedelta(seconds=1)
        results = both_rounds()
        assert sorted(r["lapsed"] for r in results) == [0, 1]
        assert sum(r["requested"] for r in results) == 1
        assert len(hub.hub_requests) == 3
        state = subscriber.service.push.state(source_id)
        assert state is not None and state.state == "subscribing"
    finally:
        other.ctx.store.dispose()


def test_a_request_claimed_by_a_process_that_died_waits_only_for_its_deadline(
    hub: Instance, subscriber: Instance, source_id: int, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    assert subscriber.service.sources.refresh(source_id).status == "fetched"

    def died(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died before asking")

    # A scheduler claims the request and dies before it reaches the hub.
    monkeypatch.setattr(push_module, "call", died)
    with pytest.raises(RuntimeError):
        subscriber.service.push.run()
    monkeypatch.undo()
    claimed = subscriber.service.push.state(source_id)
    assert claimed is not None and claimed.state == "discovered"
    until = claimed.requesting_until
    longest = (
        timedelta(seconds=subscriber.service.settings.fetch_timeout) + push_module.CLAIM_MARGIN
    )
    assert until is not None and clock.now < until <= clock.now + longest

    assert subscriber.service.push.run()["requested"] == 0  # its taker may still live
    clock.now = until - timedelta(seconds=1)
    assert subscriber.service.push.run()["requested"] == 0
    assert hub.hub_requests == []
    clock.now = until
    assert subscriber.service.push.run()["requested"] == 1
    assert [form["hub.mode"] for form in hub.hub_requests] == ["subscribe"]
    asked = subscriber.service.push.state(source_id)
    assert asked is not None and asked.state == "subscribing"
    assert asked.requesting_until is None  # the outcome replaced the claim


def test_deliveries_taken_at_once_each_count(
    hub: Instance, subscriber: Instance, source_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two web processes refusing a delivery each at once, both having read the
    subscription before either wrote: both refusals count."""
    subscribed(hub, subscriber, source_id)
    push = subscriber.service.push.state(source_id)
    assert push is not None
    forged = hub.app.test_client().get("/feeds/sections/world.atom").data
    read_by_both(monkeypatch, push_store, "by_token")

    def forged_delivery() -> int:
        return subscriber.service.push.receive(push.token, forged, "sha256=00", None)

    assert run_together(forged_delivery, forged_delivery) == [403, 403]
    counted = subscriber.service.push.state(source_id)
    assert counted is not None and counted.refused == 2


def test_a_hub_found_anew_while_the_last_one_is_asked_starts_over(
    hub: Instance, subscriber: Instance, source_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh finds another hub while the round asks the old one: the old request's
    outcome is not written over the new subscription, which is asked for next round."""
    assert subscriber.service.sources.refresh(source_id).status == "fetched"
    asking = push_module.call
    other_hub = f"{hub.url}/other-hub"

    def found_anew_meanwhile(*args: Any, **kwargs: Any) -> Any:
        answer = asking(*args, **kwargs)
        fresh = {"token": "new-token", "secret": "new-secret"}
        topic = f"{hub.url}/feeds/sections/world.atom"
        with subscriber.service.ctx.store.begin() as conn:
            push_store.discover(conn, source_id, (other_hub,), topic, fresh)
        return answer

    monkeypatch.setattr(push_module, "call", found_anew_meanwhile)
    assert subscriber.service.push.run()["requested"] == 1
    monkeypatch.undo()
    push = subscriber.service.push.state(source_id)
    assert push is not None and push.hub == other_hub and push.token == "new-token"
    assert push.state == "discovered" and push.requested_at is None


def test_a_hub_that_verifies_before_its_answer_arrives_is_confirmed_and_kept(
    hub: Instance, subscriber: Instance, source_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub verifies the intent between taking our request and our reading its
    answer: the callback confirms it, and the answer does not undo the verification."""
    assert subscriber.service.sources.refresh(source_id).status == "fetched"
    asking = push_module.call
    verified: list[int] = []

    def verified_before_the_answer(*args: Any, **kwargs: Any) -> Any:
        answer = asking(*args, **kwargs)
        verified.append(hub.service.hub.run()["verified"])
        return answer

    monkeypatch.setattr(push_module, "call", verified_before_the_answer)
    assert subscriber.service.push.run()["requested"] == 1
    monkeypatch.undo()
    assert verified == [1]
    push = subscriber.service.push.state(source_id)
    assert push is not None and push.state == "active" and push.verified_at is not None
    assert push.requesting_until is None
    (subscription,) = hub.service.hub.subscriptions()
    assert subscription.active
