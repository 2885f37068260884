"""docs/ARCHITECTURE.md traces a feed request and an ingest tick through real code: the
files it names exist, and the functions and methods it names are defined where it says.

A rename that leaves the walk-through behind fails here, so the map stays a map.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
STEP = re.compile(r"^(\d+)\. `(feeds/[\w/]+\.py)` — (.*)$")


def _steps() -> list[tuple[str, Path, str]]:
    """(number, file, text) of every numbered step, its text joined over its lines."""
    found: list[tuple[str, Path, str]] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = STEP.match(line)
        if match:
            found.append((match[1], ROOT / match[2], match[3]))
        elif found and line.startswith("   ") and line.strip():
            number, path, text = found[-1]
            found[-1] = (number, path, f"{text} {line.strip()}")
        elif not line.strip() and found:
            found.append(("", Path(), ""))  # a blank line ends the step
    return [step for step in found if step[0]]


def _defines(tree: ast.AST, name: str) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def _classes() -> dict[str, list[ast.ClassDef]]:
    found: dict[str, list[ast.ClassDef]] = {}
    for path in (ROOT / "feeds").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).append(node)
    return found


def test_the_doc_has_both_walks() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "## A feed request" in text and "## An ingest tick" in text
    assert len(_steps()) >= 15


def test_every_step_names_code_that_exists() -> None:
    classes = _classes()
    problems = []
    for number, path, text in _steps():
        if not path.is_file():
            problems.append(f"step {number}: no file {path.relative_to(ROOT)}")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = re.findall(r"`([A-Za-z_][\w.]*)`", text)
        # The step's lead name (right after the dash) lives in the step's own file.
        lead = re.match(r"`([A-Za-z_][\w.]*)`", text)
        if lead and "." not in lead[1] and not _defines(tree, lead[1]):
            problems.append(f"step {number}: {lead[1]} is not in {path.name}")
        for name in names:
            owner, _, member = name.partition(".")
            if not member or owner not in classes or "." in member:
                continue  # a module's function, a setting or a header: not a method
            if not any(_defines(cls, member) for cls in classes[owner]):
                problems.append(f"step {number}: {name} does not exist")
    assert problems == []
