"""WebSub subscriber: sources whose feeds advertise a hub are pushed to, not only polled.

A refresh that parses a document naming a hub (Link header or the document's own
rel="hub" / JSON Feed `hubs`) records it (see Ingester._discovered). The scheduler then
asks the hub to subscribe us, with the callback `<public_url>/websub/callback/<token>`,
a secret of our own and `push_lease_seconds`; the hub verifies by GET on the callback,
which echoes the challenge only for the topic and intent we asked for. A delivery
(POST) is accepted only with a valid `X-Hub-Signature`; anything else is refused (403)
and counted on the source. An accepted body is ingested exactly like a fetched one:
the source's lease, the fetch size limit, parse, normalise, plan, one transaction.

While a subscription is live the scheduler polls the source only every
`push_poll_seconds` (a safety net); it renews the subscription when a tenth of the
lease is left, and when the lease lapses or the hub fails, normal polling resumes at
once and the subscription is asked for again later (`push_retry_seconds`, doubling).
Each request to a hub is claimed in the store first, so two scheduler processes on one
store ask once.

What this does not do: subscribe `file:` sources, or unsubscribe (an unwanted lease
simply runs out: the callback stops confirming it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import ConfigDict, Field

from feeds.errors import FetchError
from feeds.ingest.fetch import FetchOptions
from feeds.ingest.outbound import call
from feeds.models import SourcePush
from feeds.service import websub_metrics as metrics
from feeds.service.context import Context
from feeds.service.ingest import Ingester, Pushed
from feeds.service.payload import Answer, MaybeInstant
from feeds.store import push as push_store
from feeds.store import sources as source_store

log = logging.getLogger(__name__)

CALLBACK_PATH = "websub/callback/"
# The hash functions W3C WebSub lets a hub sign with.
SIGNATURE_METHODS = ("sha1", "sha256", "sha384", "sha512")
MAX_CHALLENGE = 1000
# A subscription asked for but never verified is asked for again after this long.
VERIFY_WAIT = timedelta(hours=1)
# Added to a request's claim beyond the request's own deadline (recording the outcome).
CLAIM_MARGIN = timedelta(seconds=30)


class PushService:
    def __init__(self, ctx: Context, ingester: Ingester) -> None:
        self.ctx = ctx
        self.ingester = ingester

    def callback_url(self, token: str) -> str:
        return self.ctx.settings.public_root + CALLBACK_PATH + token

    def state(self, source_id: int) -> SourcePush | None:
        with self.ctx.store.read() as conn:
            return push_store.get(conn, source_id)

    def states(self) -> dict[int, SourcePush]:
        with self.ctx.store.read() as conn:
            return push_store.all_pushes(conn)

    # -- the scheduler's round --------------------------------------------------------

    def run(self) -> dict[str, int]:
        """Mark lapsed leases, then ask hubs for the subscriptions we need."""
        if not self.ctx.settings.push_enabled:
            return {"lapsed": 0, "requested": 0}
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            pushes = push_store.of_enabled_sources(conn)
        lapsed = requested = 0
        for push in pushes:
            if push.state == "active" and push.expires_at is not None and push.expires_at <= now:
                ended = f"the lease ended at {push.expires_at:%Y-%m-%d %H:%M} UTC"
                with self.ctx.store.begin() as conn:
                    if push_store.lapse(conn, push.source_id, now, ended):
                        lapsed += 1
                push = self.state(push.source_id) or push
            if self._needs_request(push, now) and self._claim(push):
                requested += self._subscribe(push, now)
        return {"lapsed": lapsed, "requested": requested}

    def _claim(self, push: SourcePush) -> bool:
        """Whether this process asks the hub: two schedulers (or a scheduler and
        `feeds serve`) on one store read the same rows, and only one may ask. The claim
        lasts the request's deadline (`fetch_timeout`); its outcome clears it, and the
        claim of a process that dies meanwhile runs out, so the next round asks."""
        now = self.ctx.now()
        until = now + timedelta(seconds=self.ctx.settings.fetch_timeout) + CLAIM_MARGIN
        with self.ctx.store.begin() as conn:
            return push_store.claim(conn, push, now, until)

    def _needs_request(self, push: SourcePush, now: datetime) -> bool:
        if push.requesting_until is not None and push.requesting_until > now:
            return False  # another process is asking
        if push.state in ("discovered", "lapsed"):
            return True
        if push.state == "failed":
            return push.next_attempt_at is None or push.next_attempt_at <= now
        if push.state == "subscribing":
            return push.requested_at is None or push.requested_at + VERIFY_WAIT <= now
        if push.state == "active" and push.expires_at is not None:
            lease = push.lease_seconds or self.ctx.settings.push_lease_seconds
            if now < push.expires_at - timedelta(seconds=lease / 10):
                return False
            asked = push.requested_at
            # A renewal asked for and not verified yet is given time before asking again.
            waiting = asked is not None and (push.verified_at is None or asked > push.verified_at)
            return not (waiting and asked is not None and asked + VERIFY_WAIT > now)
        return False

    def _subscribe(self, push: SourcePush, now: datetime) -> int:
        settings = self.ctx.settings
        form = {
            "hub.mode": "subscribe",
            "hub.topic": push.topic,
            "hub.callback": self.callback_url(push.token),
            "hub.secret": push.secret,
            "hub.lease_seconds": str(settings.push_lease_seconds),
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            answer = call(
                "POST", push.hub, FetchOptions.from_settings(settings),
                headers=headers, content=urlencode(form).encode(),
            )  # fmt: skip
            error = None if 200 <= answer.status < 300 else f"the hub answered {answer.status}"
        except FetchError as exc:
            error = f"the hub could not be reached: {exc}"
        if error is None:
            state = "active" if push.state == "active" else "subscribing"
            self._requested(
                push, state, requested_at=now, next_attempt_at=None, requesting_until=None
            )
            return 1
        failures = push.failures + 1
        wait = min(settings.push_retry_seconds * 2 ** (failures - 1), settings.backoff_cap_seconds)
        log.warning("WebSub subscription for source %s: %s", push.source_id, error)
        self._requested(
            push, "active" if push.state == "active" else "failed", failures=failures,
            error=error, requested_at=now, next_attempt_at=now + timedelta(seconds=wait),
            requesting_until=None,
        )  # fmt: skip
        return 0

    def _requested(self, push: SourcePush, state: str, **values: Any) -> None:
        with self.ctx.store.begin() as conn:
            push_store.requested(conn, push, state, **values)

    def _change(self, push: SourcePush, **values: Any) -> None:
        with self.ctx.store.begin() as conn:
            push_store.change_read(conn, push, **values)

    def _count(
        self, push: SourcePush, counter: Literal["pushes", "refused"], **values: Any
    ) -> None:
        with self.ctx.store.begin() as conn:
            push_store.count(conn, push, counter, **values)

    # -- the callback -----------------------------------------------------------------

    def verify(self, token: str, params: Mapping[str, str]) -> str | None:
        """The body that confirms a hub's verification request, or None to deny (404)."""
        with self.ctx.store.read() as conn:
            push = push_store.by_token(conn, token)
        mode = params.get("hub.mode", "")
        challenge = params.get("hub.challenge", "")
        if push is None or params.get("hub.topic") != push.topic:
            return None
        now = self.ctx.now()
        if mode == "denied":
            reason = params.get("hub.reason", "")[:300] or "no reason given"
            retry = timedelta(seconds=self.ctx.settings.push_retry_seconds)
            self._change(push, state="failed", error=f"the hub denied the subscription: {reason}",
                         next_attempt_at=now + retry)  # fmt: skip
            return ""
        if not challenge or len(challenge) > MAX_CHALLENGE:
            return None
        # A hub may verify before its answer to our request reaches us: while a round is
        # asking (its claim), the subscription is wanted as if it were subscribing.
        asking = push.requesting_until is not None and push.requesting_until > now
        held = push.state in ("active", "subscribing") or asking
        if mode == "unsubscribe":
            # Only an unsubscription we want: never one of a subscription we hold.
            return None if held else challenge
        wanted = held and self.ctx.settings.push_enabled
        if mode != "subscribe" or not wanted:
            return None
        raw = params.get("hub.lease_seconds", "")
        lease = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
        lease = lease or self.ctx.settings.push_lease_seconds
        self._change(
            push, state="active", lease_seconds=lease, verified_at=now,
            expires_at=now + timedelta(seconds=lease), failures=0, error=None,
            next_attempt_at=None,
        )  # fmt: skip
        return challenge

    def receive(self, token: str, body: bytes, signature: str, content_type: str | None) -> int:
        """Handle a content distribution; returns the HTTP status to answer with."""
        with self.ctx.store.read() as conn:
            push = push_store.by_token(conn, token)
            source = None if push is None else source_store.get(conn, push.source_id)
        if push is None:
            metrics.RECEIVED.labels("unknown").inc()
            return 404
        if source is None or not source.enabled:
            # A disabled source takes nothing; 410 tells the hub to stop sending.
            metrics.RECEIVED.labels("disabled").inc()
            return 410
        now = self.ctx.now()
        if not signed_by(push.secret, body, signature):
            log.warning("source %s: refused a WebSub delivery with a bad signature", push.source_id)
            self._count(
                push, "refused", last_refused_at=now,
                error="refused a delivery whose X-Hub-Signature is missing or wrong",
            )  # fmt: skip
            metrics.RECEIVED.labels("refused").inc()
            return 403
        outcome = self.ingester.refresh(push.source_id, Pushed(body, content_type))
        if outcome.status == "busy":
            metrics.RECEIVED.labels("busy").inc()
            return 503  # the source is being fetched; the hub retries
        metrics.RECEIVED.labels("ingested").inc()
        self._count(push, "pushes", last_push_at=now)
        return 202


def signed_by(secret: str, body: bytes, signature: str) -> bool:
    """Whether `X-Hub-Signature` (`method=hex`) is the HMAC of the body with our secret."""
    method, _, given = signature.strip().partition("=")
    method = method.lower()
    if method not in SIGNATURE_METHODS or not given:
        return False
    expected = hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


class PushAnswer(Answer):
    """WebSub push state (GET /sources/{id} only): `none` when the feed names no hub."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)
    OMIT_UNSET = True  # `none` is the state alone

    state: Literal["none", "discovered", "subscribing", "active", "failed", "lapsed"]
    hub: str = ""
    topic: str = ""
    expires_at: MaybeInstant = None
    verified_at: MaybeInstant = None
    error: str | None = None
    pushes: int = Field(0, description="Deliveries taken")
    last_push_at: MaybeInstant = None
    refused: int = Field(0, description="Deliveries refused for a missing or wrong signature")
    last_refused_at: MaybeInstant = None
    next_attempt_at: MaybeInstant = None


def push_to_dict(push: SourcePush | None) -> dict[str, Any]:
    """A source's push state for the API (PushAnswer)."""
    return PushAnswer.shown({"state": "none"} if push is None else push)
