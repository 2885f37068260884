"""Two scheduler rounds at once, as two processes on one store run them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

_T = TypeVar("_T")
# A round that never reaches the barrier fails the test instead of hanging it.
WAIT_SECONDS = 60


def run_together(*calls: Callable[[], _T]) -> list[_T]:
    """Each call in a thread of its own, all released at once; their results in order.
    An exception in a call is raised here."""
    start = threading.Barrier(len(calls), timeout=WAIT_SECONDS)
    results: dict[int, _T] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = calls[index]()
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [results[i] for i in range(len(calls))]


def read_by_both(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, parties: int = 2) -> None:
    """Make the store read `module.name` wait, once it has read, until `parties` callers
    have read: every round then starts from the same rows, which is the race two
    scheduler processes run (both read before either claims)."""
    read = threading.Barrier(parties, timeout=WAIT_SECONDS)
    reading = getattr(module, name)

    def read_then_wait(*args: Any, **kwargs: Any) -> Any:
        rows = reading(*args, **kwargs)
        read.wait()
        return rows

    monkeypatch.setattr(module, name, read_then_wait)
