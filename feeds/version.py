"""The package version, and the User-Agent every outgoing request sends."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("feeds")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"


def user_agent(site_url: str = "", configured: str = "") -> str:
    """The configured User-Agent, else `Feeds/<version> (+<site_url>)`."""
    if configured:
        return configured
    return f"Feeds/{__version__} (+{site_url})" if site_url else f"Feeds/{__version__}"
