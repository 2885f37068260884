"""One request to a URL someone else gave us (a WebSub callback), under the fetch rules.

The address checks, the single deadline and the scheme check are the fetcher's (see
netguard.py): a callback on a loopback, private or otherwise non-public address is
refused unless `fetch_allow` admits it. Redirects are not followed, since a callback
is the address its owner registered, and the answer's body is read only up to a small
cap (a verification answer is a challenge string).

What this module does not do: retry, sign, or decide what an answer means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from feeds.errors import FetchError
from feeds.ingest.fetch import FetchOptions, _checked_url, _client, _translate, read_body
from feeds.ingest.netguard import Deadline


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def call(
    method: str,
    url: str,
    options: FetchOptions,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
    max_body: int = 4096,
) -> Answer:
    """Send one request and read at most `max_body` bytes back; FetchError on failure."""
    deadline = Deadline(options.timeout)
    target = _checked_url(url)
    if params:
        # Keep the callback's own query string: the subscriber may route on it.
        target = target.copy_merge_params(params)
    sent: dict[str, Any] = {"User-Agent": options.user_agent, **(headers or {})}
    with _client(options, deadline) as client:
        try:
            request = client.build_request(
                method, target, headers=sent, content=content,
                timeout=httpx.Timeout(deadline.bound(None)),
            )  # fmt: skip
            response = client.send(request, stream=True)
            try:
                try:
                    body = read_body(response, max_body, deadline)
                except FetchError as exc:
                    if exc.kind != "too_large":
                        raise
                    body = b""  # an answer too large to be a challenge
                return Answer(response.status_code, body)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise _translate(exc, deadline) from exc
