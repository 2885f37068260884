"""Settings: declared once, documented in the README, validated wherever they come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.settings import load_settings, markdown_table, setting_docs

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [name for name, _, _ in setting_docs() if f"`FEEDS_{name.upper()}`" not in readme]
    assert missing == []
    # The table in the README is the generated one, so defaults and help are current.
    assert markdown_table() in readme


def test_layering_defaults_file_env_overrides(tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text('[feeds]\nsite_title = "From file"\nport = 9000\n', encoding="utf-8")
    env = {"FEEDS_CONFIG": str(config), "FEEDS_PORT": "9100", "FEEDS_FETCH_ALLOW": "a, b"}
    settings = load_settings({"cache_max_age": 60}, environ=env)
    assert settings.site_title == "From file"
    assert settings.port == 9100
    assert settings.fetch_allow == ("a", "b")
    assert settings.cache_max_age == 60
    assert settings.feed_limit == 50
    # Empty: the service reads the shared key from the store (tests/test_secret_key.py).
    assert settings.secret_key == ""


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FEEDS_PORT": "eighty"}, "FEEDS_PORT: cannot read 'eighty' as int"),
        ({"FEEDS_NO_SUCH": "1"}, "FEEDS_NO_SUCH: unknown setting"),
        ({"FEEDS_FEED_LIMIT": "0"}, "feed_limit must be at least 1"),
        ({"FEEDS_LOAD_DEMO": "maybe"}, "FEEDS_LOAD_DEMO: cannot read 'maybe' as bool"),
        ({"FEEDS_CONFIG": "/nonexistent/feeds.toml"}, "names a file that does not exist"),
        ({"FEEDS_LOG_LEVEL": "LOUD"}, "log_level must be one of DEBUG"),
        ({"FEEDS_PUBLIC_URL": "feeds.example.org"}, "public_url must be an absolute http"),
        ({"FEEDS_PUBLIC_URL": "ftp://feeds.example.org/"}, "public_url must be an absolute"),
        ({"FEEDS_PUBLIC_URL": "https://x.example/?a=1"}, "public_url must have no query"),
        ({"FEEDS_PUBLIC_URL": "https://x.example:99999/"}, "public_url 'https://x.example:9"),
    ],
)
def test_bad_environment_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ=env)


def test_bad_config_file_names_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text("port = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{config}: port must be an integer"):
        load_settings(environ={"FEEDS_CONFIG": str(config)})
    config.write_text("port = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 1"):
        load_settings(environ={"FEEDS_CONFIG": str(config)})


@pytest.mark.parametrize(
    ("public_url", "root"),
    [
        ("", "http://127.0.0.1:8000/"),
        ("https://feeds.example.org", "https://feeds.example.org/"),
        ("https://example.org/news/", "https://example.org/news/"),
    ],
)
def test_public_root_ends_in_one_slash(public_url: str, root: str) -> None:
    assert load_settings({"public_url": public_url}, environ={}).public_root == root


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense://", "FEEDS_DATABASE_URL: Can't load plugin"),
        ("postgresql+nodriver://h/db", "FEEDS_DATABASE_URL: Can't load plugin"),
        ("::::", "FEEDS_DATABASE_URL: not a database URL"),
    ],
)
def test_bad_database_url_is_named(url: str, message: str) -> None:
    from feeds.store import Store

    with pytest.raises(ConfigError, match=message):
        Store.from_url(url)


def test_sqlite_file_under_a_file_is_named(tmp_path: Path) -> None:
    # Before: FileExistsError from pathlib, a traceback instead of the setting's name.
    from feeds.store import Store

    (tmp_path / "afile").write_text("")
    url = f"sqlite:///{tmp_path}/afile/feeds.db"
    with pytest.raises(ConfigError, match=r"FEEDS_DATABASE_URL: .*afile is a file, not a folder"):
        Store.from_url(url)
    assert (tmp_path / "afile").read_text() == ""
