"""Renders for the publisher, each in a thread the publisher stops waiting for."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from feeds.errors import FeedsError

T = TypeVar("T")
# The name of the threads feeds render in (the publish loop ignores their commits).
RENDER_THREAD = "feeds-publish-render"


class PublishTimeout(FeedsError):
    """A feed's render took longer than `publish_timeout_seconds`."""


def bounded(work: Callable[[], T], seconds: float, what: str) -> T:
    """Run `work` in a thread and stop waiting for it after `seconds`.

    Python cannot stop a thread: a render that overruns finishes in the background and
    its result is dropped. It only renders; files are written by the publisher itself,
    so an abandoned render never writes anything.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"{RENDER_THREAD} {what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise PublishTimeout(f"rendering {what} took longer than {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
