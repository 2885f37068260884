"""Giving freed heap back to the system after a request that built a large document.

The feed directory and the OPML of a big store (20,000 feeds: a 16 MB page, a 5 MB
file) are built from tens of megabytes of short-lived objects. glibc keeps what they
freed for the process's next allocations, so an idle web worker would hold that much
for ever; `malloc_trim` returns it. Where there is no glibc (musl, macOS) this does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

_malloc_trim: Callable[[int], int] | None
try:
    _malloc_trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


def release_freed_memory() -> None:
    """Return the heap that freed objects left behind to the system (glibc only)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
