"""The built-in WebSub hub, against a real subscriber: an HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from prometheus_client import REGISTRY
from werkzeug import Request, Response

from feeds.jobs import Jobs
from feeds.models import FeedFormat, FeedKey, FeedKind
from feeds.service import Service
from feeds.service import hub as hub_module
from feeds.service.hub import CLAIM_MARGIN_SECONDS
from feeds.store import hub as hub_store
from tests.admin_helpers import login
from tests.conftest import FakeClock, article_payload, make_app, serving
from tests.together import read_by_both, run_together

TOPIC = "http://localhost/feeds/sections/world.atom"


@dataclass
class Subscriber:
    """A WebSub subscriber: answers verifications and records deliveries.

    `secret` is what it believes its secret is; `echo` whether it confirms intents;
    `fail` how many deliveries to refuse with a 500 before accepting.
    """

    secret: str | None = None
    echo: bool = True
    fail: int = 0
    verifications: list[dict[str, str]] = field(default_factory=list)
    deliveries: list[tuple[bytes, dict[str, str], bool]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            if request.method == "GET":
                params = {k: v[0] for k, v in parse_qs(request.query_string.decode()).items()}
                self.verifications.append(params)
                body = params.get("hub.challenge", "") if self.echo else "no"
                return Response(body)(environ, start_response)
            data = request.get_data()
            headers = dict(request.headers)
            self.deliveries.append((data, headers, self.signature_ok(data, headers)))
            if self.fail:
                self.fail -= 1
                return Response("busy", status=500)(environ, start_response)
            return Response(status=204)(environ, start_response)

    def signature_ok(self, body: bytes, headers: dict[str, str]) -> bool:
        """The subscriber's own check of X-Hub-Signature (W3C WebSub 8)."""
        given = headers.get("X-Hub-Signature", "")
        if self.secret is None:
            return not given
        expected = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given, f"sha256={expected}")


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    with serving(sub) as url:
        sub.url = url + "/callback?id=7"
        yield sub


@pytest.fixture
def hub_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    # The subscriber lives on loopback, which the fetch rules refuse unless allowed.
    app = make_app(database_url, clock, load_demo=True, fetch_allow=("127.0.0.1",))
    yield app
    app.extensions["feeds"].ctx.store.dispose()


@pytest.fixture
def svc(hub_app: Flask) -> Service:
    service: Service = hub_app.extensions["feeds"]
    return service


@pytest.fixture
def client(hub_app: Flask) -> FlaskClient:
    return hub_app.test_client()


@pytest.fixture
def token(svc: Service) -> dict[str, str]:
    return {"Authorization": f"Bearer {svc.tokens.create('desk', ('articles:write', 'admin'))}"}


def deliveries(outcome: str) -> float:
    value = REGISTRY.get_sample_value("feeds_websub_hub_deliveries_total", {"outcome": outcome})
    return value or 0.0


def subscribe(client: FlaskClient, callback: str, **extra: str) -> Any:
    form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": callback, **extra}
    return client.post("/websub", data=form)


def states(client: FlaskClient, token: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/websub/subscriptions", headers=token)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def write(client: FlaskClient, token: dict[str, str], number: int) -> None:
    payload = article_payload(
        title=f"Pushed {number}", url=f"https://news.example.com/p{number}", published_at=None
    )
    assert client.post("/api/v1/articles", json=payload, headers=token).status_code == 201


def test_every_feed_announces_the_hub_in_documents_and_link_headers(client: FlaskClient) -> None:
    response = client.get("/feeds/sections/world.json")
    assert json.loads(response.data)["hubs"] == [
        {"type": "WebSub", "url": "http://localhost/websub"}
    ]
    assert response.headers["Link"] == (
        '<http://localhost/websub>; rel="hub", '
        '<http://localhost/feeds/sections/world.json>; rel="self"'
    )
    assert client.get("/websub").status_code == 200


def test_an_outside_hub_is_announced_besides_ours(database_url: str, clock: FakeClock) -> None:
    app = make_app(database_url, clock, load_demo=True, websub_hub="https://hub.example/")
    try:
        response = app.test_client().get("/feeds/all.json")
        hubs = [hub["url"] for hub in json.loads(response.data)["hubs"]]
        assert hubs == ["http://localhost/websub", "https://hub.example/"]
        assert response.headers["Link"].startswith(
            '<http://localhost/websub>; rel="hub", <https://hub.example/>; rel="hub", '
        )
    finally:
        app.extensions["feeds"].ctx.store.dispose()


def test_subscribe_verify_deliver_signed_then_unsubscribe(
    client: FlaskClient, svc: Service, token: dict[str, str], subscriber: Subscriber
) -> None:
    subscriber.secret = "correct horse"
    answer = subscribe(client, subscriber.url, **{"hub.secret": "correct horse"})
    assert answer.status_code == 202
    assert [s["state"] for s in states(client, token)] == ["pending"]
    assert subscriber.verifications == []  # verification is asynchronous

    assert svc.hub.run()["verified"] == 1
    (check,) = subscriber.verifications
    assert check["hub.mode"] == "subscribe" and check["hub.topic"] == TOPIC
    assert check["id"] == "7"  # the callback's own query string is kept
    assert check["hub.lease_seconds"] == str(svc.settings.hub_lease_seconds)
    (state,) = states(client, token)
    assert state["state"] == "active" and state["signed"] is True
    assert "secret" not in state

    assert svc.hub.run()["delivered"] == 0  # nothing changed since
    write(client, token, 1)
    assert svc.hub.run()["delivered"] == 1
    (delivered,) = subscriber.deliveries
    body, headers, signature_ok = delivered
    assert signature_ok
    served = client.get("/feeds/sections/world.atom")
    assert body == served.data  # exactly what the feed's URL serves
    assert headers["Content-Type"] == served.headers["Content-Type"]
    assert headers["Link"] == served.headers["Link"]
    assert b"Pushed 1" in body
    assert states(client, token)[0]["last_status"] == 204

    unsubscribe = {"hub.mode": "unsubscribe", "hub.topic": TOPIC, "hub.callback": subscriber.url}
    assert client.post("/websub", data=unsubscribe).status_code == 202
    svc.hub.run()
    assert subscriber.verifications[-1]["hub.mode"] == "unsubscribe"
    assert states(client, token) == []
    write(client, token, 2)
    assert svc.hub.run()["delivered"] == 0
    assert len(subscriber.deliveries) == 1


def test_a_subscriber_with_the_wrong_secret_detects_the_signature(
    client: FlaskClient, svc: Service, token: dict[str, str], subscriber: Subscriber
) -> None:
    subscribe(client, subscriber.url, **{"hub.secret": "what the hub was told"})
    subscriber.secret = "something else"
    svc.hub.run()
    write(client, token, 1)
    svc.hub.run()
    (delivered,) = subscriber.deliveries
    assert delivered[1]["X-Hub-Signature"].startswith("sha256=")
    assert delivered[2] is False


def test_a_callback_that_does_not_echo_the_challenge_is_not_subscribed(
    client: FlaskClient, svc: Service, token: dict[str, str], subscriber: Subscriber
) -> None:
    subscriber.echo = False
    assert subscribe(client, subscriber.url).status_code == 202
    assert svc.hub.run()["verified"] == 0
    (state,) = states(client, token)
    assert state["state"] == "failed"
    assert "did not echo hub.challenge" in state["verify_error"]
    write(client, token, 1)
    svc.hub.run()
    assert subscriber.deliveries == []


def test_callbacks_obey_the_fetch_address_rules(
    database_url: str, clock: FakeClock, subscriber: Subscriber
) -> None:
    app = make_app(database_url, clock, load_demo=True)  # no fetch_allow: loopback refused
    svc: Service = app.extensions["feeds"]
    try:
        assert subscribe(app.test_client(), subscriber.url).status_code == 202
        svc.hub.run()
        (sub,) = svc.hub.subscriptions()
        assert sub.verify_error is not None and "127.0.0.1" in sub.verify_error
        assert subscriber.verifications == []
    finally:
        svc.ctx.store.dispose()


def test_failed_deliveries_are_retried_with_backoff_then_given_up(
    client: FlaskClient,
    svc: Service,
    token: dict[str, str],
    subscriber: Subscriber,
    clock: FakeClock,
) -> None:
    subscribe(client, subscriber.url)
    svc.hub.run()
    subscriber.fail = 1
    write(client, token, 1)
    assert svc.hub.run()["delivered"] == 0
    (state,) = states(client, token)
    assert state["state"] == "retrying" and state["failures"] == 1
    assert state["last_status"] == 500
    retry = svc.settings.hub_retry_seconds
    assert state["next_attempt_at"] == (clock.now + timedelta(seconds=retry)).isoformat()
    assert svc.hub.run()["delivered"] == 0  # not before the backoff
    assert len(subscriber.deliveries) == 1
    clock.advance(seconds=retry)
    assert svc.hub.run()["delivered"] == 1
    assert states(client, token)[0]["failures"] == 0

    # Every attempt fails: the hub stops after hub_delivery_attempts, waiting twice as
    # long each time, and delivers the next change again.
    subscriber.fail = 100
    write(client, token, 2)
    gave_up = deliveries("gave_up")
    attempts = svc.settings.hub_delivery_attempts
    for attempt in range(attempts):
        svc.hub.run()
        clock.advance(seconds=retry * 2**attempt)
    assert len(subscriber.deliveries) == 2 + attempts
    (state,) = states(client, token)
    assert state["last_error"].startswith(f"gave up after {attempts} attempts")
    assert deliveries("gave_up") == gave_up + 1  # counted for /metrics
    svc.hub.run()
    assert len(subscriber.deliveries) == 2 + attempts  # nothing new to deliver
    subscriber.fail = 0
    write(client, token, 3)
    assert svc.hub.run()["delivered"] == 1


def test_leases_are_bounded_renewed_and_expire(
    client: FlaskClient,
    svc: Service,
    token: dict[str, str],
    subscriber: Subscriber,
    clock: FakeClock,
) -> None:
    subscribe(client, subscriber.url, **{"hub.lease_seconds": "5"})
    svc.hub.run()
    minimum = svc.settings.hub_lease_min_seconds
    assert subscriber.verifications[-1]["hub.lease_seconds"] == str(minimum)
    clock.advance(seconds=minimum - 10)
    subscribe(client, subscriber.url, **{"hub.lease_seconds": str(10**9)})  # renewal
    svc.hub.run()
    maximum = svc.settings.hub_lease_max_seconds
    (state,) = states(client, token)
    assert state["lease_seconds"] == maximum
    assert state["expires_at"] == (clock.now + timedelta(seconds=maximum)).isoformat()

    clock.advance(seconds=maximum)
    assert svc.hub.run()["expired"] == 1
    assert states(client, token) == []
    write(client, token, 1)
    svc.hub.run()
    assert subscriber.deliveries == []


@pytest.mark.parametrize(
    ("form", "field_name"),
    [
        ({"hub.mode": "publish"}, "hub.mode"),
        ({"hub.callback": ""}, "hub.callback"),
        ({"hub.callback": "ftp://example.org/x"}, "hub.callback"),
        ({"hub.topic": "http://elsewhere.example/feeds/all.atom"}, "hub.topic"),
        ({"hub.topic": "http://localhost/feeds/sections/nowhere.atom"}, "hub.topic"),
        ({"hub.topic": "http://localhost/feeds/tags/SouthKorea.atom"}, "hub.topic"),
        ({"hub.lease_seconds": "soon"}, "hub.lease_seconds"),
        ({"hub.secret": "x" * 200}, "hub.secret"),
    ],
)
def test_bad_requests_are_400_naming_the_field(
    client: FlaskClient, form: dict[str, str], field_name: str
) -> None:
    base = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": "https://sub.example/cb"}
    response = client.post("/websub", data={**base, **form})
    assert response.status_code == 400
    assert field_name in response.get_data(as_text=True)


def test_the_scheduler_runs_the_hub(
    client: FlaskClient, svc: Service, token: dict[str, str], subscriber: Subscriber
) -> None:
    subscribe(client, subscriber.url)
    jobs = Jobs(svc)
    assert jobs.hub_round()["verified"] == 1
    write(client, token, 1)
    assert jobs.hub_round()["delivered"] == 1
    assert urlsplit(subscriber.url).path == "/callback"


def test_the_admin_dashboard_shows_each_subscriber(
    client: FlaskClient, svc: Service, token: dict[str, str], subscriber: Subscriber
) -> None:
    subscriber.fail = 1
    subscribe(client, subscriber.url)
    svc.hub.run()
    write(client, token, 1)
    svc.hub.run()
    login(client, svc)
    page = etree.HTML(client.get("/admin/").data)
    (row,) = page.xpath("//section[@id='websub']//tr[@data-subscription]")
    text = " ".join(row.itertext())
    assert TOPIC in text and subscriber.url in text
    assert row.xpath("string(td[@class='state'])").strip().startswith("retrying")
    assert "the callback answered 500" in text


def test_deliveries_are_the_published_bytes_and_a_publish_wakes_the_hub(
    client: FlaskClient, svc: Service, token: dict[str, str], subscriber: Subscriber
) -> None:
    woken: list[bool] = []
    svc.hub.listeners.append(lambda: woken.append(True))
    subscribe(client, subscriber.url)
    svc.hub.run()
    write(client, token, 1)
    svc.publisher.run()
    assert woken  # the publish hook told the hub
    path = svc.publisher.tree.path(FeedKey(FeedKind.SECTION, "world"), FeedFormat.ATOM)
    assert path is not None
    published = path.read_bytes()
    key = FeedKey(FeedKind.SECTION, "world")
    assert svc.publisher.current(key, FeedFormat.ATOM) == published
    assert svc.hub.run()["delivered"] == 1
    (delivered,) = subscriber.deliveries
    assert delivered[0] == published
    assert b"Pushed 1" in published


def test_a_slow_subscriber_does_not_hold_up_the_others(
    client: FlaskClient, svc: Service, token: dict[str, str]
) -> None:
    """The slow callback answers only once the fast one has its delivery: with deliveries
    in flight side by side that happens; one after the other, the slow one would wait out
    its own deadline first and find nothing delivered."""
    fast_got_it = threading.Event()
    waited_for: list[bool] = []

    def slow(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "GET":
            return Response(request.args["hub.challenge"])(environ, start_response)
        waited_for.append(fast_got_it.wait(timeout=10))
        return Response(status=204)(environ, start_response)

    fast = Subscriber()

    def fast_then_signal(environ: dict[str, Any], start_response: Any) -> Any:
        answer = fast(environ, start_response)
        if environ["REQUEST_METHOD"] == "POST":
            fast_got_it.set()
        return answer

    with serving(slow) as slow_url, serving(fast_then_signal) as fast_url:
        fast.url = fast_url + "/fast"
        # The slow one subscribed first, so it is sent first.
        for callback in (slow_url + "/slow", fast.url):
            subscribe(client, callback)
        svc.hub.run()
        write(client, token, 1)
        assert svc.hub.run()["delivered"] == 2
    assert waited_for == [True]
    assert len(fast.deliveries) == 1


def test_trending_subscribers_get_a_delivery_each_time_its_ranking_moves(
    client: FlaskClient, svc: Service, token: dict[str, str], subscriber: Subscriber,
    clock: FakeClock,
) -> None:  # fmt: skip
    trending = "http://localhost/feeds/trending.atom"
    assert subscribe(client, subscriber.url, **{"hub.topic": trending}).status_code == 202
    svc.hub.run()
    svc.publisher.run()
    assert svc.hub.run()["delivered"] == 0

    def post(title: str, views: int, published_at: str | None) -> int:
        payload = article_payload(title=title, url=f"https://news.example.com/{views}",
                                  published_at=published_at, views=views)  # fmt: skip
        response = client.post("/api/v1/articles", json=payload, headers=token)
        assert response.status_code == 201
        ident: int = response.get_json()["id"]
        return ident

    def ranked(body: bytes) -> list[str]:
        atom = "{http://www.w3.org/2005/Atom}"
        root = etree.fromstring(body)
        return [e.findtext(f"{atom}title") or "" for e in root.iter(f"{atom}entry")]

    hour_ago = (clock.now - timedelta(hours=1)).isoformat()
    before = svc.feeds.settle(FeedKey(FeedKind.TRENDING)).version
    post("Most read today", 10**6, hour_ago)
    assert svc.feeds.settle(FeedKey(FeedKind.TRENDING)).version > before
    assert svc.hub.run()["delivered"] == 1
    (first,) = subscriber.deliveries
    assert ranked(first[0])[0] == "Most read today"
    assert first[1]["Link"].endswith(f'<{trending}>; rel="self"')

    # Views that reorder the ranking move trending again: one more delivery, in order.
    runner_up = post("Read a lot", 10**6 - 1, hour_ago)
    assert svc.hub.run()["delivered"] == 1
    response = client.patch(f"/api/v1/articles/{runner_up}", json={"views": 2 * 10**6},
                            headers=token)  # fmt: skip
    assert response.status_code == 200
    assert svc.hub.run()["delivered"] == 1
    assert ranked(subscriber.deliveries[-1][0])[:2] == ["Read a lot", "Most read today"]
    # Views that keep the order move nothing, and nothing is sent.
    client.patch(f"/api/v1/articles/{runner_up}", json={"views": 2 * 10**6 + 1}, headers=token)
    assert svc.hub.run()["delivered"] == 0 and len(subscriber.deliveries) == 3

    # An article published now ranks once trending's window reaches it (the window is
    # pinned to `trending_refresh_seconds`): when the publisher renders the slid window,
    # trending's version moves and the new ranking is delivered.
    svc.publisher.run()
    post("Breaking and read", 3 * 10**6, None)
    svc.hub.run()
    clock.advance(seconds=svc.settings.trending_refresh_seconds)
    report = svc.publisher.run()
    assert FeedKey(FeedKind.TRENDING) in report.published
    assert svc.hub.run()["delivered"] == 1
    assert ranked(subscriber.deliveries[-1][0])[0] == "Breaking and read"
    published = svc.publisher.tree.path(FeedKey(FeedKind.TRENDING), FeedFormat.ATOM)
    assert published is not None and subscriber.deliveries[-1][0] == published.read_bytes()
    assert svc.hub.run()["delivered"] == 0


def test_two_schedulers_on_one_store_deliver_each_version_once(
    database_url: str, clock: FakeClock, client: FlaskClient, svc: Service,
    token: dict[str, str], subscriber: Subscriber,
) -> None:  # fmt: skip
    """Two delivery loops on two engines, started together on every round: each move
    of the feed's version reaches the subscriber exactly once."""
    other_app = make_app(database_url, clock, fetch_allow=("127.0.0.1",))
    other: Service = other_app.extensions["feeds"]
    try:
        subscribe(client, subscriber.url)
        svc.hub.run()
        moves = 6
        for number in range(moves):
            write(client, token, number)
            sent = run_together(svc.hub.deliver, other.hub.deliver)
            assert sorted(sent) == [0, 1], number
            assert len(subscriber.deliveries) == number + 1
        bodies = [body for body, _, _ in subscriber.deliveries]
        assert [f"Pushed {n}".encode() in body for n, body in enumerate(bodies)] == [True] * moves
        # Nothing left for either: no further round sends anything.
        assert svc.hub.deliver() == other.hub.deliver() == 0
        assert len(subscriber.deliveries) == moves
    finally:
        other.ctx.store.dispose()


def verifications(outcome: str) -> float:
    value = REGISTRY.get_sample_value("feeds_websub_hub_verifications_total", {"outcome": outcome})
    return value or 0.0


def test_two_schedulers_on_one_store_verify_each_intent_once(
    database_url: str, clock: FakeClock, client: FlaskClient, svc: Service,
    token: dict[str, str], subscriber: Subscriber, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Two verification rounds on two engines that both read the same pending intents
    before either sends: each intent reaches its callback once and is settled once."""
    other_app = make_app(database_url, clock, fetch_allow=("127.0.0.1",))
    other: Service = other_app.extensions["feeds"]
    read_by_both(monkeypatch, hub_store, "pending")
    base = subscriber.url.partition("?")[0]
    ids = [str(n) for n in range(5)]
    try:
        for mode in ("subscribe", "unsubscribe"):
            for n in ids:
                form = {"hub.mode": mode, "hub.topic": TOPIC, "hub.callback": f"{base}?id={n}"}
                assert client.post("/websub", data=form).status_code == 202
            confirmed_before = verifications("confirmed")
            confirmed = run_together(svc.hub.verify_pending, other.hub.verify_pending)
            assert sum(confirmed) == len(ids), mode
            sent = sorted(v["id"] for v in subscriber.verifications if v["hub.mode"] == mode)
            assert sent == ids, mode  # one GET per callback
            assert verifications("confirmed") == confirmed_before + len(ids)  # settled once
            if mode == "subscribe":
                shown = states(client, token)
                assert [s["state"] for s in shown] == ["active"] * len(ids)
                assert {s["verified_at"] for s in shown} == {clock.now.isoformat()}
                assert [s["pending"] for s in shown] == [None] * len(ids)
        assert states(client, token) == []
    finally:
        other.ctx.store.dispose()


def test_a_verification_claimed_by_a_process_that_died_waits_only_for_its_deadline(
    database_url: str, clock: FakeClock, client: FlaskClient, svc: Service,
    subscriber: Subscriber, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    other_app = make_app(database_url, clock, fetch_allow=("127.0.0.1",))
    other: Service = other_app.extensions["feeds"]
    try:
        assert subscribe(client, subscriber.url).status_code == 202

        def died(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the process died before sending")

        # The other scheduler claims the intent and dies before its GET goes out.
        monkeypatch.setattr(hub_module, "call", died)
        with pytest.raises(RuntimeError):
            other.hub.verify_pending()
        monkeypatch.undo()
        (claimed,) = svc.hub.subscriptions()
        until = claimed.verifying_until
        # One verification in the round: two turns of at most fetch_timeout, and the margin.
        longest = timedelta(seconds=svc.settings.fetch_timeout * 2 + CLAIM_MARGIN_SECONDS)
        assert until is not None and clock.now < until <= clock.now + longest

        assert svc.hub.verify_pending() == 0  # the claim holds while its taker may live
        clock.now = until - timedelta(seconds=1)
        assert svc.hub.verify_pending() == 0
        assert subscriber.verifications == []
        clock.now = until
        assert svc.hub.verify_pending() == 1
        assert len(subscriber.verifications) == 1
        (verified,) = svc.hub.subscriptions()
        assert verified.active and verified.pending_mode is None
        assert verified.verifying_until is None  # the outcome replaced the claim
    finally:
        other.ctx.store.dispose()


def test_an_intent_asked_again_is_not_held_back_by_the_claim_on_the_one_before(
    client: FlaskClient, svc: Service, subscriber: Subscriber, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The subscriber asks again while the first intent's GET is in flight: that GET's
    outcome is not recorded, and the new intent is verified by the next round."""
    assert subscribe(client, subscriber.url, **{"hub.lease_seconds": "5"}).status_code == 202
    sending = hub_module.call

    def asked_again_meanwhile(*args: Any, **kwargs: Any) -> Any:
        clock.advance(seconds=1)
        lease = str(svc.settings.hub_lease_max_seconds)
        assert subscribe(client, subscriber.url, **{"hub.lease_seconds": lease}).status_code == 202
        return sending(*args, **kwargs)

    monkeypatch.setattr(hub_module, "call", asked_again_meanwhile)
    svc.hub.verify_pending()
    monkeypatch.undo()
    (sub,) = svc.hub.subscriptions()
    assert not sub.active and sub.pending_mode == "subscribe"
    assert sub.verifying_until is None
    assert svc.hub.verify_pending() == 1
    (sub,) = svc.hub.subscriptions()
    assert sub.active and sub.lease_seconds == svc.settings.hub_lease_max_seconds
    leases = [v["hub.lease_seconds"] for v in subscriber.verifications]
    assert leases == [str(svc.settings.hub_lease_min_seconds), str(sub.lease_seconds)]
