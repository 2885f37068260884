"""The admin web UI at /admin/: login, dashboard, tag feeds, sources, articles, accounts,
audit log.

Server-rendered with Jinja2; changes go through the service so each one is audited
under the signed-in user's name. One module per feature, each adding its routes to the
blueprint from `base`; importing this package imports them all.
"""

from __future__ import annotations

from feeds.web.admin import (  # noqa: F401  (imported for their routes)
    accounts,
    article_edit,
    articles,
    audit,
    dashboard,
    login,
    sources,
    tagfeeds,
)
from feeds.web.admin.base import blueprint

__all__ = ["blueprint"]
