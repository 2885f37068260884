"""The query plan of every feed query on a real store (the check the test suite makes on
a small one), printed for reading.

    FEEDS_DATABASE_URL=... python bench/plans.py --hot latest --tail katu --rare jukornes2002 \
        --author mina-park

The tags and the author are those `feeds demo generate` reports. Each statement is printed with its
plan (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN (FORMAT JSON)` nodes with their
index conditions and estimated rows) and anything that would make its cost grow with the
store; the exit status is 1 when there is any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds import create_app  # noqa: E402
from tests import plans  # noqa: E402


def _pg_lines(node: dict[str, Any], depth: int = 0) -> list[str]:
    parts = [node["Node Type"], node.get("Relation Name", ""), node.get("Index Name", "")]
    for detail in ("Index Cond", "Filter", "Sort Key"):
        if detail in node:
            parts.append(f"{detail}: {node[detail]}")
    parts.append(f"rows={node.get('Plan Rows')}")
    lines = ["  " * depth + " ".join(str(p) for p in parts if p)]
    for child in node.get("Plans", ()):
        lines.extend(_pg_lines(child, depth + 1))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("hot", "tail", "rare"):
        parser.add_argument(f"--{name}", required=True, help=f"a {name} hashtag key")
    parser.add_argument("--author", required=True, help="an author feed's slug")
    args = parser.parse_args()
    svc = create_app({"scheduler_enabled": False, "load_demo": False}).extensions["feeds"]
    tags = {"hot": args.hot, "tail": args.tail, "rare": args.rare, "author": args.author}
    failed = 0
    with svc.ctx.store.read() as conn:
        for statement in plans.issued(svc, tags):
            found = plans.plan(conn, statement)
            lines = found if isinstance(found, list) else _pg_lines(found)
            print(f"== {statement.case}: {' '.join(statement.sql.split())[:160]}")
            for line in lines:
                print(f"     {line}")
            for problem in plans.problems(conn, statement):
                failed += 1
                print(f"  !! {problem}")
    print(f"{failed} problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
