"""The admin audit log: who changed what, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from flask import request

from feeds.web import service
from feeds.web.admin.base import PAGE, blueprint, page_number, render_page


def changed_fields(before: Any, after: Any) -> list[str]:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@blueprint.get("/audit")
def audit_log() -> str:
    page = page_number(request.args.get("page"))
    entries = service().audit.entries(limit=PAGE + 1, offset=(page - 1) * PAGE)
    return render_page(
        "audit",
        entries=entries[:PAGE],
        more=len(entries) > PAGE,
        page=page,
        changed=changed_fields,
    )
