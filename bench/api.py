"""The API's article list against the article query it makes.

GET /api/v1/articles?limit=500 through the Flask test client (token check, query check,
the two queries, every article written as JSON) against the same two queries called on
the service alone, in alternation on one store; and the answer's JSON alone (the articles
already read) against the same queries. The first ratio is what checking, serialising and
answering add to the queries; the second is the serialisation's share, which the
declared answer model must keep small (it reads and writes in pydantic-core, one call
for the whole list).

    python bench/api.py [--articles 1000] [--limit 500]

The store comes from `feeds demo generate` (seed 0), kept in var/bench/ like
bench/render.py's. BENCH_QUICK=1 takes fewer calls per round.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import QUICK, alternate, ratio_row, report, timed  # noqa: E402
from bench.render import settings, store  # noqa: E402
from feeds import create_app  # noqa: E402
from feeds.service.article_filter import list_query  # noqa: E402
from feeds.service.article_input import ArticleListAnswer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--limit", type=int, default=500)
    args = parser.parse_args()
    repeat = 3 if QUICK else 10
    url, _ = store(args.articles)
    app = create_app(settings(url))
    svc = app.extensions["feeds"]
    token = svc.tokens.create(f"bench-{os.getpid()}", ("articles:write",))  # names are unique
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    path = f"/api/v1/articles?limit={args.limit}"
    flt = list_query({"limit": args.limit}).to_filter()

    def request() -> bytes:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.data[:200]
        return response.data

    shown = json.loads(request())  # also warms: first connection, pydantic's schemas
    assert len(shown["items"]) == min(args.limit, args.articles), shown

    def query() -> None:
        assert len(svc.articles.list(flt)) == min(args.limit, args.articles)
        svc.articles.count(flt)

    items = svc.articles.list(flt)

    def write() -> None:
        ArticleListAnswer.json_bytes({"items": items, "count": len(items), "next": None})

    query()
    medians = alternate(
        {
            "request": lambda: timed(request, repeat),
            "query": lambda: timed(query, repeat),
            "write": lambda: timed(write, repeat),
        },
        rounds=5 if QUICK else 9,
    )
    rows = [
        ratio_row(
            f"GET {path} via the test client ({args.articles}-article store, SQLite)",
            "the same list and count queries on the service alone",
            medians["request"] * 1000,
            medians["query"] * 1000,
            "ms",
            at_most=1.5,
        ),
        ratio_row(
            f"the route's JSON answer for the {len(items)} articles read (ArticleListAnswer)",
            "the same list and count queries on the service alone",
            medians["write"] * 1000,
            medians["query"] * 1000,
            "ms",
            at_most=0.25,
        ),
    ]
    report("API article list", rows)


if __name__ == "__main__":
    main()
