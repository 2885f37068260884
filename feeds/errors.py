"""One exception tree; driver and library errors are translated at their boundary."""

from __future__ import annotations

from datetime import datetime


class FeedsError(Exception):
    """Base of every error the service raises on purpose."""


class ConfigError(FeedsError):
    """A setting or config file is invalid; the message names the file, line or field."""


class NotFound(FeedsError):
    """The thing asked for does not exist."""


class Conflict(FeedsError):
    """The request clashes with what is stored (duplicate slug, file-managed entry...)."""


class ValidationError(FeedsError):
    """Input failed validation. `errors` maps a field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str], *, line: int | None = None) -> None:
        self.errors = dict(errors)
        self.line = line
        where = f"line {line}: " if line is not None else ""
        detail = "; ".join(f"{name}: {problem}" for name, problem in self.errors.items())
        super().__init__(where + detail)


class InvalidValue(FeedsError):
    """The database refused a value (text with NUL, a number past its column's range).

    Validation should refuse such values first, naming the field; this is the store's
    answer to any that slip past, so a bad value is a client error and never a crash.
    """


class StorageError(FeedsError):
    """The database failed in a way the caller cannot fix by changing its input."""


class FetchError(FeedsError):
    """Fetching an outside feed failed; `kind` is a short machine-readable reason."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: datetime | None = None,
    ) -> None:
        self.kind = kind
        self.status = status
        # When the server said to come back (429/503 Retry-After), tz-aware UTC.
        self.retry_after = retry_after
        super().__init__(message)


class ParseError(FeedsError):
    """An outside document is not a feed we accept."""


class BudgetExceeded(FeedsError):
    """A refresh used up its time budget; it stops, writes nothing, and says where."""
