"""Every setting, declared once with its default and help.

Values are layered: the defaults below, then the TOML file named by `FEEDS_CONFIG`
(default `config/feeds.toml`, optional), then `FEEDS_<NAME>` environment variables, then
the overrides passed to `create_app()`. Errors name the file, the key or the variable.
"""

from __future__ import annotations

import os
import secrets
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from feeds.errors import ConfigError


def setting(default: Any, help: str, *, minimum: float | None = None) -> Any:
    return field(default=default, metadata={"help": help, "minimum": minimum})


@dataclass(frozen=True)
class Settings:
    # Where things live
    database_url: str = setting(
        "sqlite:///var/feeds.db",
        "SQLAlchemy URL of the store. SQLite by default (WAL mode); "
        "`postgresql+psycopg://user@host/db` for PostgreSQL.",
    )
    config_dir: str = setting("config", "Folder holding tag_feeds.toml, sources.toml and demo/.")
    load_demo: bool = setting(
        True, "Load the demo articles from `<config_dir>/demo/` when the store is empty."
    )
    media_dir: str = setting(
        "config/demo/media",
        "Folder served at `/media/`; image URLs given as paths (`/media/x.png`) point here.",
    )
    secret_key: str = setting(
        "", "Key signing admin sessions and CSRF tokens. Empty: a random key per process."
    )
    # Serving
    host: str = setting("127.0.0.1", "Address `feeds serve` (and `make run`) listens on.")
    port: int = setting(8000, "Port `feeds serve` (and `make run`) listens on.", minimum=1)
    public_url: str = setting(
        "",
        "The service's public base URL (`https://feeds.example.org/`): every absolute URL "
        "in feeds, OPML, the directory and the API is built on it, never on the request's "
        "Host header. Empty: `http://<host>:<port>/`.",
    )
    proxy_hops: int = setting(
        0,
        "How many reverse proxies sit in front of the app; their X-Forwarded-* headers "
        "are trusted for the client's address and scheme.",
        minimum=0,
    )
    # Identity of the publication
    site_title: str = setting("The Daily Ledger", "Publication name used in feed titles.")
    site_url: str = setting("", "Newsroom home page. Empty: the service's own `/feeds/` directory.")
    site_description: str = setting(
        "News, analysis and features from the newsroom.", "Description of the `all` feed."
    )
    language: str = setting("en", "Default language of articles and feeds (BCP 47).")
    guid_authority: str = setting(
        "feeds.example.org,2026",
        "The `authority,date` part of `tag:` URIs minted as article GUIDs (RFC 4151). "
        "Never change it once feeds are public: every id would change.",
    )
    # Feeds
    feed_limit: int = setting(50, "Items in a feed when `?limit=` is not given.", minimum=1)
    feed_limit_max: int = setting(200, "Largest `?limit=` accepted.", minimum=1)
    trending_window_hours: int = setting(
        48,
        "Trending holds the most viewed articles published within this many hours.",
        minimum=1,
    )
    trending_refresh_seconds: int = setting(
        300, "How often the trending feed may change as its window slides.", minimum=1
    )
    include_sponsored: bool = setting(
        False, "Include sponsored articles in section and hashtag feeds."
    )
    cache_max_age: int = setting(
        300, "Seconds in `Cache-Control: max-age`; RSS `ttl` is this in minutes.", minimum=0
    )
    cache_bytes: int = setting(
        64 * 1024 * 1024, "Upper bound of the in-memory cache of rendered feeds.", minimum=0
    )
    max_hashtags_per_article: int = setting(
        30,
        "Most hashtags one article may carry: the API and `feeds import` refuse more "
        "(naming the field and line); ingest keeps the first ones and warns on the source.",
        minimum=1,
    )
    websub_hub: str = setting(
        "", "WebSub hub URL announced in every feed (`rel=hub`); empty: none."
    )
    # Ingest
    scheduler_enabled: bool = setting(
        True, "Run the scheduler inside `feeds serve`; `feeds scheduler` always runs it."
    )
    scheduler_tick_seconds: int = setting(
        30, "How often the scheduler looks for sources due a fetch.", minimum=1
    )
    scheduler_metrics_port: int = setting(
        0, "Port where `feeds scheduler` serves its Prometheus metrics; 0: none.", minimum=0
    )
    scheduler_metrics_host: str = setting(
        "127.0.0.1", "Address `feeds scheduler` serves its metrics on."
    )
    ingest_concurrency: int = setting(4, "Sources fetched at once.", minimum=1)
    ingest_per_host: int = setting(2, "Sources on one host fetched at once.", minimum=1)
    fetch_timeout: float = setting(
        20.0, "Total seconds for one fetch: connect, redirects and whole body.", minimum=0.1
    )
    fetch_max_bytes: int = setting(
        10 * 1024 * 1024,
        "Largest response body accepted, counted after decompression.",
        minimum=1,
    )
    fetch_max_redirects: int = setting(5, "Redirect hops followed per fetch.", minimum=0)
    fetch_allow: tuple[str, ...] = setting(
        (),
        "Host names or networks (CIDR) that outside sources may reach even though they are "
        "private or loopback. A name admits connections made to that name only.",
    )
    fetch_user_agent: str = setting(
        "",
        "User-Agent for outside fetches and WebSub hub notifications. "
        "Empty: `Feeds/<version> (+<site_url>)`.",
    )
    fetch_image_probes: int = setting(
        20,
        "Images per refresh whose unstated size is learned with a HEAD request (under the "
        "fetch rules and one `fetch_timeout` for them all), so RSS can carry them as "
        "enclosures; 0: none.",
        minimum=0,
    )
    backoff_cap_seconds: int = setting(
        24 * 3600, "Longest wait between retries of a failing source.", minimum=60
    )
    future_date_window_seconds: int = setting(
        3600,
        "Ingested dates further ahead than this are clamped to the fetch time.",
        minimum=0,
    )
    permanent_redirect_confirmations: int = setting(
        3,
        "Consecutive fetches that must see a 301/308 before the stored URL changes.",
        minimum=1,
    )
    # Admin
    login_max_failures: int = setting(
        5, "Failed logins from one address before logins are throttled.", minimum=1
    )
    login_lockout_seconds: int = setting(300, "How long a throttled address must wait.", minimum=1)
    log_level: str = setting("INFO", "Python logging level.")

    def with_overrides(self, values: Mapping[str, Any]) -> Settings:
        return replace(self, **_coerce_all(values, origin="overrides"))

    @property
    def public_root(self) -> str:
        """The base every absolute URL is built on, ending in a slash."""
        if self.public_url:
            return self.public_url.rstrip("/") + "/"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def setting_docs() -> list[tuple[str, Any, str]]:
    """(name, default, help) for every setting, in declaration order."""
    return [(f.name, f.default, f.metadata["help"]) for f in fields(Settings)]


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_path = Path(env.get("FEEDS_CONFIG", "config/feeds.toml"))
    if config_path.exists():
        values.update(_read_toml(config_path))
    elif "FEEDS_CONFIG" in env:
        raise ConfigError(f"{config_path}: FEEDS_CONFIG names a file that does not exist")
    known = {f.name for f in fields(Settings)}
    for var, raw in env.items():
        if not var.startswith("FEEDS_") or var in ("FEEDS_CONFIG", "FEEDS_TEST_DATABASE_URL"):
            continue
        name = var.removeprefix("FEEDS_").lower()
        if name not in known:
            raise ConfigError(f"{var}: unknown setting")
        values[name] = _from_string(name, raw, origin=var)
    settings = Settings(**_coerce_all(values, origin=str(config_path)))
    if overrides:
        settings = settings.with_overrides(overrides)
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
    problem = _public_url_problem(settings.public_url)
    if problem:
        raise ConfigError(f"public_url {problem}")
    if not settings.secret_key:
        settings = replace(settings, secret_key=secrets.token_hex(32))
    return settings


def _public_url_problem(value: str) -> str | None:
    """Why `value` cannot be the public base URL, or None when it can (or is empty)."""
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return f"{value!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an absolute http or https URL, got {value!r}"
    if parts.query or parts.fragment or any(c.isspace() for c in value):
        return f"must have no query, fragment or spaces, got {value!r}"
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    section = data.get("feeds", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [feeds] must be a table")
    return section


def _field_types() -> dict[str, Any]:
    return get_type_hints(Settings)


def _coerce_all(values: Mapping[str, Any], *, origin: str) -> dict[str, Any]:
    types_ = _field_types()
    by_name = {f.name: f for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in by_name:
            raise ConfigError(f"{origin}: unknown setting {name!r}")
        out[name] = _coerce(name, value, types_[name], origin)
        minimum = by_name[name].metadata["minimum"]
        if minimum is not None and out[name] < minimum:
            raise ConfigError(f"{origin}: {name} must be at least {minimum}, got {out[name]}")
    return out


def _coerce(name: str, value: Any, kind: Any, origin: str) -> Any:
    if get_origin(kind) in (Union, types.UnionType):
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    if get_origin(kind) is tuple:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{origin}: {name} must be a list of strings")
        return tuple(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{origin}: {name} must be true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{origin}: {name} must be an integer")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{origin}: {name} must be a number")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{origin}: {name} must be a string")
    return value


def _from_string(name: str, raw: str, *, origin: str) -> Any:
    kind = _field_types()[name]
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise ConfigError(f"{origin}: cannot read {raw!r} as {kind.__name__}") from None
    return raw


def markdown_table() -> str:
    """The README's settings table, generated from the declarations above."""
    rows = ["| Setting | Environment variable | Default | What it does |", "|---|---|---|---|"]
    for name, default, help_text in setting_docs():
        shown = repr(default)
        if name == "secret_key":
            shown = "(random per process)"
        elif isinstance(default, tuple):
            shown = repr(list(default))
        elif isinstance(default, bool):
            shown = str(default).lower()
        rows.append(f"| `{name}` | `FEEDS_{name.upper()}` | `{shown}` | {help_text} |")
    return "\n".join(rows)


def rewrite_readme(path: Path) -> None:
    """Replace the table between the README's settings markers with the current one."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("<!-- settings:start", 1)
    marker_end = rest.index("-->") + 3
    _, tail = rest.split("<!-- settings:end -->", 1)
    start = "<!-- settings:start" + rest[:marker_end]
    path.write_text(
        f"{head}{start}\n{markdown_table()}\n<!-- settings:end -->{tail}", encoding="utf-8"
    )


if __name__ == "__main__":
    rewrite_readme(Path("README.md"))
