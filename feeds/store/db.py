"""Engine, connections, migrations, and translation of driver errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
)

from feeds.errors import ConfigError, Conflict, InvalidValue, StorageError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while the scheduler writes; the busy timeout makes a writer
    # wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; a URL that cannot name a store is a ConfigError naming the setting."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"FEEDS_DATABASE_URL: not a database URL: {exc}") from None
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).parent
            if parent.exists() and not parent.is_dir():
                raise ConfigError(
                    f"FEEDS_DATABASE_URL: {parent} is a file, not a folder for the SQLite file"
                )
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                # A file where the folder should be, or no permission: say which setting
                # points there instead of a traceback from pathlib.
                raise ConfigError(
                    f"FEEDS_DATABASE_URL: cannot create the folder {parent} for the SQLite "
                    f"file: {exc.strerror or exc}"
                ) from None
        kwargs["connect_args"] = {"check_same_thread": False}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"FEEDS_DATABASE_URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """Owns the engine. Every write goes through `begin()`: one transaction, all or nothing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Set by dispose(): background threads (the poller flusher) stop writing when
        # their service is closed rather than reaching a database that has moved on.
        self.disposed = False
        # Called after each transaction `begin()` commits (see Service.on_commit).
        self.committed: list[Callable[[], None]] = []

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest revision (safe to run on every start)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    # Two processes starting together must not both create the tables.
                    conn.execute(text("SELECT pg_advisory_xact_lock(7305512)"))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except DBAPIError as exc:
            raise StorageError(f"migrating the store failed: {exc.orig}") from exc

    def is_migrated(self) -> bool:
        return "alembic_version" in inspect(self.engine).get_table_names()

    def revision(self) -> str | None:
        """The schema revision the store is at (None: never migrated); StorageError when
        it cannot be read."""
        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def file_problem(self) -> str | None:
        """Why an SQLite store's file cannot serve, checked without opening it (opening a
        missing file would create an empty store in its place); None when it can, and
        for every other database."""
        url = self.engine.url
        if self.dialect != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        path = Path(str(url.database))
        if not path.is_file():
            return f"the database file {path} is missing"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"the database file {path} cannot be read and written"
        return None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with _translated(), self.engine.begin() as conn:
            yield conn
        # After the commit, not in SQLAlchemy's commit event (which comes before it):
        # a listener that reads at once must see what was written.
        for listener in self.committed:
            listener()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with _translated(), self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.disposed = True
        self.engine.dispose()


def head_revision() -> str | None:
    """The newest revision among the migrations shipped with this code."""
    return _head()


@cache
def _head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


@contextmanager
def _translated() -> Iterator[None]:
    """Every driver error becomes a domain error here, at the store's edge."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(_integrity_message(exc)) from exc
    except DataError as exc:
        raise InvalidValue(f"the store cannot hold a value given: {_first_line(exc)}") from exc
    except OverflowError as exc:  # sqlite3 refuses integers past 64 bits before sending
        raise InvalidValue(f"the store cannot hold a value given: {exc}") from exc
    except OperationalError as exc:
        raise StorageError(f"the store is unavailable: {exc.orig}") from exc
    except DBAPIError as exc:
        # Programming, internal and interface errors: nothing the caller can fix, and
        # nothing a client should see beyond "try again".
        raise StorageError(f"the store failed: {_first_line(exc)}") from exc


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig if exc.orig is not None else exc).splitlines()[0]


def _integrity_message(exc: IntegrityError) -> str:
    return f"conflicts with stored data: {_first_line(exc)}"
