"""The built-in WebSub hub (https://www.w3.org/TR/websub/) for our own feeds.

A subscriber POSTs `hub.mode=subscribe|unsubscribe`, `hub.topic` (one of our feed URLs)
and `hub.callback`; the hub answers 202 and only records the intent. The scheduler
process then verifies it: a GET to the callback with `hub.challenge`, which must come
back as the body of a 2xx answer; only then does a subscription start, renew or end.
Leases are clamped to `hub_lease_min_seconds`..`hub_lease_max_seconds`; a subscription
whose lease ended is dropped (the subscriber renews by subscribing again).

Content distribution: when a subscribed feed's version moves, the feed's bytes (exactly
what its URL serves) are POSTed to each live subscriber with the feed's Content-Type,
the WebSub `Link` header and, when the subscriber gave `hub.secret`,
`X-Hub-Signature: sha256=<HMAC of the body>`. A failed delivery is retried with
exponential backoff (`hub_retry_seconds`, doubling) and given up after
`hub_delivery_attempts`; the next change is delivered again. At most
`hub_concurrency` requests are in flight, so one slow subscriber holds one slot.
Callbacks are reached under the fetcher's address rules (no loopback or private
targets unless `fetch_allow` admits them). Each verification and each delivery is
claimed in the store before it is sent, so two scheduler processes on one store send it
once; a claim lasts the round's deadline, so one left by a process that died runs out.

What this does not do: send the current content on subscription (WebSub does not ask
for it), or follow redirects from callbacks.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import Field, model_validator

from feeds.errors import FetchError, NotFound, ValidationError
from feeds.hashtags import normalize_key
from feeds.ingest.fetch import FetchOptions
from feeds.ingest.outbound import call
from feeds.models import FeedFormat, FeedKey, FeedKind, HubSubscription
from feeds.service import websub_metrics as metrics
from feeds.service.context import Context
from feeds.service.feeds import FeedService, feed_path, link_header
from feeds.service.payload import Answer, MaybeInstant
from feeds.service.publish import Publisher
from feeds.store import hub as hub_store

log = logging.getLogger(__name__)

MODES = ("subscribe", "unsubscribe")
MAX_URL = 2000
# W3C WebSub 5.1: "hub.secret ... MUST be less than 200 bytes in length".
MAX_SECRET = 199
# Intents verified per run; the rest wait for the next run.
VERIFY_BATCH = 200
# A failed intent stays visible (API, admin) this long before it is dropped.
FAILED_INTENT_KEPT = timedelta(days=1)
# Added to a claim (a delivery or a verification) beyond the sends' own deadlines
# (recording the outcomes).
CLAIM_MARGIN_SECONDS = 30
_FOLDERS = {
    "sections": FeedKind.SECTION,
    "tags": FeedKind.TAG,
    "custom": FeedKind.CUSTOM,
    "authors": FeedKind.AUTHOR,
}
_T = TypeVar("_T")


def parse_feed_path(path: str) -> tuple[FeedKey, FeedFormat] | None:
    """The feed behind a path such as `feeds/tags/서울.atom` (the reverse of feed_path)."""
    stem, dot, ext = path.rpartition(".")
    if not dot or ext not in {f.value for f in FeedFormat}:
        return None
    parts = stem.split("/")
    if parts[0] != "feeds":
        return None
    if len(parts) == 2 and parts[1] in ("all", "trending"):
        return FeedKey(FeedKind(parts[1])), FeedFormat(ext)
    if len(parts) == 3 and parts[1] in _FOLDERS and parts[2]:
        value = unquote(parts[2])
        kind = _FOLDERS[parts[1]]
        if kind is FeedKind.TAG:
            value = normalize_key(value)
        return FeedKey(kind, value), FeedFormat(ext)
    return None


def signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` value for a body: `sha256=<hex HMAC>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscription_state(sub: HubSubscription) -> str:
    """active, retrying (deliveries failing), pending (not verified yet) or failed."""
    if sub.active:
        return "retrying" if sub.failures else "active"
    return "pending" if sub.pending_mode else "failed"


State = Literal["active", "retrying", "pending", "failed"]


class HubSubscriptionAnswer(Answer):
    """A subscriber's state for the API; the secret is never shown, only whether one is set."""

    id: int
    topic: str = Field(description="The feed URL subscribed to")
    callback: str
    state: State = Field(
        description="active; retrying (deliveries failing); pending (intent not verified "
        "yet); failed (verification failed)"
    )
    signed: bool = Field(
        description="Whether deliveries carry X-Hub-Signature (the secret itself is never shown)"
    )
    lease_seconds: int
    verified_at: MaybeInstant
    expires_at: MaybeInstant
    pending: Literal["subscribe", "unsubscribe"] | None
    verify_error: str | None
    last_delivery_at: MaybeInstant
    last_status: int | None
    last_error: str | None
    failures: int = Field(description="Failed attempts at the current delivery")
    next_attempt_at: MaybeInstant

    @model_validator(mode="before")
    @classmethod
    def _derived(cls, sub: Any) -> Any:
        """The state, whether signed and the pending intent, named from the stored row."""
        if not isinstance(sub, HubSubscription):
            return sub
        shown = {f.name: getattr(sub, f.name) for f in fields(sub)}
        shown.update(state=subscription_state(sub), signed=bool(sub.secret))
        return shown | {"pending": sub.pending_mode}


class HubSubscriptionListAnswer(Answer):
    """Every subscription and pending intent of the built-in hub."""

    items: list[HubSubscriptionAnswer]
    count: int


@dataclass(frozen=True)
class _Delivery:
    subscription: HubSubscription
    version: int
    body: bytes
    headers: dict[str, str]


class HubService:
    def __init__(self, ctx: Context, feeds_service: FeedService) -> None:
        self.ctx = ctx
        self.feeds = feeds_service
        self.publisher: Publisher | None = None
        # The (feed, format) pairs with live subscribers, as the last delivery round saw.
        self._subscribed: set[tuple[FeedKey, FeedFormat]] | None = None
        # Called after the publisher wrote a feed (the scheduler runs a round at once).
        self.listeners: list[Callable[[], None]] = []

    def attach(self, publisher: Publisher) -> None:
        """Deliver what `publisher` writes, and hear about each publish from its hook."""
        self.publisher = publisher
        publisher.add_hook(self._published)

    def _published(
        self, key: FeedKey, fmt: FeedFormat, path: Path, etag: str, last_modified: datetime
    ) -> None:
        # Feeds nobody subscribes to (as of the last round) wake nothing; a subscription
        # verified since is served by the next round anyway.
        if self._subscribed is not None and (key, fmt) not in self._subscribed:
            return
        for listener in self.listeners:
            listener()

    # -- requests from subscribers ----------------------------------------------------

    def request(self, form: Mapping[str, str]) -> None:
        """Record a subscribe or unsubscribe intent; ValidationError names the field."""
        settings = self.ctx.settings
        mode = form.get("hub.mode", "")
        if mode not in MODES:
            raise ValidationError({"hub.mode": "must be subscribe or unsubscribe"})
        callback = self._callback(form.get("hub.callback", ""))
        topic = form.get("hub.topic", "")
        key, fmt = self._topic(topic)
        secret = form.get("hub.secret") or None
        if secret is not None and len(secret.encode()) > MAX_SECRET:
            raise ValidationError({"hub.secret": f"must be under {MAX_SECRET + 1} bytes"})
        lease = self._lease(form.get("hub.lease_seconds"))
        now = self.ctx.now()
        intent: dict[str, Any] = {
            "pending_mode": mode,
            "pending_secret": secret,
            "pending_lease": lease,
            "pending_at": now,
            "verify_error": None,
            # A new intent is verified on its own: a GET in flight for the one it replaces
            # is not recorded (see _settle), so its claim must not hold this one back.
            "verifying_until": None,
        }
        with self.ctx.store.begin() as conn:
            existing = hub_store.get(conn, topic, callback)
            if existing is not None:
                hub_store.change(conn, existing.id, **intent)
                return
            if mode == "unsubscribe":
                return  # nothing to end; the subscriber sees no difference
            if hub_store.count(conn) >= settings.hub_max_subscriptions:
                raise ValidationError({"hub.callback": "the hub holds all it can take"})
            hub_store.add_intent(conn, topic, callback, key, fmt, intent, now)

    def _callback(self, callback: str) -> str:
        if not callback:
            raise ValidationError({"hub.callback": "is required"})
        if len(callback) > MAX_URL:
            raise ValidationError({"hub.callback": f"must be at most {MAX_URL} characters"})
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValidationError({"hub.callback": "must be an http(s) URL without a fragment"})
        return callback

    def _topic(self, topic: str) -> tuple[FeedKey, FeedFormat]:
        root = self.ctx.settings.public_root
        problem = {"hub.topic": f"must be the URL of one of this service's feeds ({root}feeds/...)"}
        if not topic or len(topic) > MAX_URL or not topic.startswith(root):
            raise ValidationError(problem)
        found = parse_feed_path(topic[len(root) :])
        # One URL per feed: other spellings of it are not topics of their own.
        if found is None or feed_path(*found) != topic[len(root) :]:
            raise ValidationError(problem)
        try:
            self.feeds.settle(found[0])  # exists, and has a version to deliver from
        except NotFound:
            raise ValidationError({"hub.topic": "no such feed"}) from None
        return found

    def _lease(self, raw: str | None) -> int:
        settings = self.ctx.settings
        if raw is None or raw == "":
            lease = settings.hub_lease_seconds
        elif raw.isascii() and raw.isdigit() and len(raw) <= 12:
            lease = int(raw)
        else:
            raise ValidationError({"hub.lease_seconds": "must be a whole number of seconds"})
        return max(settings.hub_lease_min_seconds, min(lease, settings.hub_lease_max_seconds))

    # -- scheduler work ---------------------------------------------------------------

    def run(self) -> dict[str, int]:
        """One round of hub work: drop ended leases, verify intents, deliver changes."""
        return {
            "expired": self.expire(),
            "verified": self.verify_pending(),
            "delivered": self.deliver(),
        }

    def expire(self) -> int:
        now = self.ctx.now()
        with self.ctx.store.begin() as conn:
            return hub_store.expire(conn, now, now - FAILED_INTENT_KEPT)

    def _options(self) -> FetchOptions:
        return FetchOptions.from_settings(self.ctx.settings)

    def _parallel(self, work: Callable[[_T], Any], items: list[_T]) -> list[Any]:
        if not items:
            return []
        workers = min(self.ctx.settings.hub_concurrency, len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="websub") as pool:
            return list(pool.map(work, items))

    def verify_pending(self) -> int:
        """Verify waiting intents (GET with hub.challenge); returns how many were confirmed."""
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            intents = hub_store.pending(conn, VERIFY_BATCH, now)
        intents = self._claim_verifications(intents, now)
        options = self._options()

        def verify(sub: HubSubscription) -> str | None:
            challenge = secrets.token_urlsafe(24)
            params = {
                "hub.mode": sub.pending_mode or "",
                "hub.topic": sub.topic,
                "hub.challenge": challenge,
            }
            if sub.pending_mode == "subscribe":
                params["hub.lease_seconds"] = str(sub.pending_lease)
            try:
                answer = call("GET", sub.callback, options, params=params, max_body=1024)
            except FetchError as exc:
                return f"verification failed: {exc}"
            if not 200 <= answer.status < 300:
                return f"verification failed: the callback answered {answer.status}"
            if answer.body.decode("utf-8", "replace").strip() != challenge:
                return "verification failed: the callback did not echo hub.challenge"
            return None

        confirmed = 0
        for sub, error in zip(intents, self._parallel(verify, intents), strict=True):
            self._settle(sub, error)
            confirmed += error is None
            metrics.HUB_VERIFICATIONS.labels("failed" if error else "confirmed").inc()
        return confirmed

    def _claim_verifications(
        self, intents: list[HubSubscription], now: datetime
    ) -> list[HubSubscription]:
        """The intents this process verifies: of two schedulers that read the same
        intents, only one sends each GET. A claim lasts as long as the round can take
        (`_round_end`); the outcome (`_settle`) clears it, and the claims of a process
        that dies mid-round run out, so the next round verifies those intents."""
        if not intents:
            return []
        until = self._round_end(len(intents), now)
        with self.ctx.store.begin() as conn:
            return [sub for sub in intents if hub_store.claim_verification(conn, sub, now, until)]

    def _round_end(self, requests: int, now: datetime) -> datetime:
        """When a round of `requests` sends has surely ended: every send waits its turn
        for one of `hub_concurrency` slots, each at most `fetch_timeout`, and the
        outcomes are recorded within the margin."""
        settings = self.ctx.settings
        turns = -(-requests // max(1, settings.hub_concurrency)) + 1
        return now + timedelta(seconds=settings.fetch_timeout * turns + CLAIM_MARGIN_SECONDS)

    def _settle(self, sub: HubSubscription, error: str | None) -> None:
        now = self.ctx.now()
        starting = error is None and sub.pending_mode == "subscribe" and not sub.active
        # Deliveries start with the next change, not with what is there now.
        start = {"delivered_version": self._version(sub.feed)} if starting else {}
        cleared: dict[str, Any] = {
            "pending_mode": None, "pending_secret": None, "pending_lease": None,
            "verifying_until": None,
        }  # fmt: skip
        with self.ctx.store.begin() as conn:
            current = hub_store.get(conn, sub.topic, sub.callback)
            if current is None or current.pending_at != sub.pending_at:
                return  # dropped or asked again meanwhile: the newer intent decides
            if current.pending_mode is None:
                return  # settled already (by a process that took over a claim run out)
            if error is not None:
                log.info("WebSub intent for %s at %s: %s", sub.topic, sub.callback, error)
                hub_store.change(conn, sub.id, verify_error=error, **cleared)
            elif sub.pending_mode == "unsubscribe":
                hub_store.remove(conn, sub.id)
            else:
                lease = sub.pending_lease or self.ctx.settings.hub_lease_seconds
                hub_store.change(
                    conn, sub.id, active=True, secret=sub.pending_secret, lease_seconds=lease,
                    expires_at=now + timedelta(seconds=lease), verified_at=now,
                    verify_error=None, **start, **cleared,
                )  # fmt: skip

    def _version(self, key: FeedKey) -> int | None:
        try:
            return self.feeds.settle(key).version
        except NotFound:
            return None

    def deliver(self) -> int:
        """Send every changed feed to its live subscribers; returns deliveries accepted."""
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            subscriptions = hub_store.live(conn, now)
        self._subscribed = {(sub.feed, sub.format) for sub in subscriptions}
        versions: dict[FeedKey, int | None] = {}
        bodies: dict[tuple[FeedKey, FeedFormat], tuple[bytes, dict[str, str]]] = {}
        wanted: list[tuple[HubSubscription, int]] = []
        for sub in subscriptions:
            if sub.next_attempt_at is not None and sub.next_attempt_at > now:
                continue
            if sub.feed not in versions:
                versions[sub.feed] = self._version(sub.feed)
            version = versions[sub.feed]
            if version is None or version == sub.delivered_version:
                continue
            wanted.append((sub, version))
        due: list[_Delivery] = []
        for sub, version in self._claim(wanted, now):
            if (sub.feed, sub.format) not in bodies:
                bodies[(sub.feed, sub.format)] = self._content(sub.feed, sub.format)
            body, headers = bodies[(sub.feed, sub.format)]
            if sub.secret:
                headers = {**headers, "X-Hub-Signature": signature(sub.secret, body)}
            due.append(_Delivery(sub, version, body, headers))
        options = self._options()

        def send(delivery: _Delivery) -> tuple[int | None, str | None]:
            try:
                answer = call(
                    "POST", delivery.subscription.callback, options,
                    headers=delivery.headers, content=delivery.body,
                )  # fmt: skip
            except FetchError as exc:
                return None, str(exc)
            if 200 <= answer.status < 300:
                return answer.status, None
            return answer.status, f"the callback answered {answer.status}"

        accepted = 0
        for delivery, (status, error) in zip(due, self._parallel(send, due), strict=True):
            self._record(delivery, status, error)
            accepted += error is None
        return accepted

    def _claim(
        self, wanted: list[tuple[HubSubscription, int]], now: datetime
    ) -> list[tuple[HubSubscription, int]]:
        """The deliveries this process takes: two schedulers (or a scheduler and
        `feeds serve`) on one store each read the same rows, and only one may send.

        A claim holds the subscription's `next_attempt_at` for as long as the round
        can take (every send waits its turn for a slot, each at most `fetch_timeout`);
        the outcome then replaces it. A process that dies mid-round leaves its claims
        to run out, and the next round sends again (at least once, never twice while
        both live).
        """
        if not wanted:
            return []
        until = self._round_end(len(wanted), now)
        taken = []
        with self.ctx.store.begin() as conn:
            for sub, version in wanted:
                if hub_store.claim(conn, sub, now, until):
                    taken.append((sub, version))
        return taken

    def _content(self, key: FeedKey, fmt: FeedFormat) -> tuple[bytes, dict[str, str]]:
        """The feed's bytes as its URL serves them: the published file when it holds the
        current version, else the render the route would make (not published yet)."""
        feed_request = self.feeds.request(key, fmt)
        headers = {
            "Content-Type": fmt.media_type,
            "Link": link_header(self.ctx.settings, feed_request.self_url()),
        }
        published = self.publisher.current(key, fmt) if self.publisher is not None else None
        if published is not None:
            return published, headers
        entry = self.feeds.get(feed_request)
        return entry.body, {**headers, "Content-Type": entry.media_type}

    def _record(self, delivery: _Delivery, status: int | None, error: str | None) -> None:
        sub = delivery.subscription
        now = self.ctx.now()
        settings = self.ctx.settings
        values: dict[str, Any] = {"last_delivery_at": now, "last_status": status}
        outcome = "delivered" if error is None else "retry"
        if error is None:
            values.update(
                delivered_version=delivery.version, failures=0, last_error=None,
                next_attempt_at=None,
            )  # fmt: skip
        else:
            failures = sub.failures + 1
            if failures >= settings.hub_delivery_attempts:
                outcome = "gave_up"
                log.warning("WebSub: giving up delivering %s to %s", sub.topic, sub.callback)
                values.update(
                    delivered_version=delivery.version, failures=0, next_attempt_at=None,
                    last_error=f"gave up after {failures} attempts: {error}",
                )  # fmt: skip
            else:
                wait = settings.hub_retry_seconds * 2 ** (failures - 1)
                values.update(
                    failures=failures, last_error=error,
                    next_attempt_at=now + timedelta(seconds=wait),
                )  # fmt: skip
        metrics.HUB_DELIVERIES.labels(outcome).inc()
        with self.ctx.store.begin() as conn:
            hub_store.change(conn, sub.id, **values)

    def subscriptions(self) -> list[HubSubscription]:
        with self.ctx.store.read() as conn:
            return hub_store.all_subscriptions(conn)
