"""docs/SECURITY.md names real tests: every `tests/file.py::name` (and each `::name`
after it, which is in the same file) is a test function in that file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?::(\w+)`|`(tests/[\w/]+\.py)`")


def test_every_test_named_in_security_md_exists() -> None:
    text = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    current: str | None = None
    named: list[tuple[str, str | None]] = []
    for match in REFERENCE.finditer(text):
        if match.group(3):
            named.append((match.group(3), None))
            continue
        current = match.group(1) or current
        assert current, f"::{match.group(2)} comes before any file"
        named.append((current, match.group(2)))
    assert len(named) > 40
    missing = []
    for path, name in named:
        source = ROOT / path
        if not source.exists():
            missing.append(path)
            continue
        if name is None:
            continue
        functions = {
            node.name
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef)
        }
        if name not in functions:
            missing.append(f"{path}::{name}")
    assert not missing, missing
