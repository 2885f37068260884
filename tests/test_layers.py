"""The layer contract, read from the source: imports flow one way.

web, cli and jobs (the faces) -> service -> store, render, ingest -> models, errors.
The faces talk to the service only through its methods, never through its parts
(`.ctx`), so what a request or a command may touch is visible in one place.
The test parses every module of the package with `ast`, so an import hidden in a
function body or under TYPE_CHECKING counts as much as one at the top.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "feeds"


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. "feeds.web.api"
    path: Path
    tree: ast.Module


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> list[Module]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic scripts are the store's own history, not a layer
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.append(Module(_module_name(path), path, tree))
    return found


MODULES = _modules()
NAMES = {m.name for m in MODULES}


def _resolve(module: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.name.split(".")
    if module.path.name != "__init__.py":
        package = package[:-1]
    if node.level > 1:
        package = package[: -(node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def imports_of(module: Module) -> set[str]:
    """Every module of ours that `module` imports, as dotted names."""
    out: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "feeds")
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            if base.split(".")[0] != "feeds":
                continue
            for alias in node.names:
                # `from feeds import store` names a module; `from feeds import create_app`
                # names something in the package's __init__ (the app factory).
                candidate = f"{base}.{alias.name}"
                out.add(candidate if candidate in NAMES else base)
    return out


def layer_of(name: str) -> str:
    parts = name.split(".")
    if name == "feeds":
        return "app"
    second = parts[1]
    if second in {"web", "store", "ingest", "render", "service"}:
        return second
    if second.startswith("cli") or second == "__main__":
        return "cli"
    if second in {"jobs", "models", "errors"}:
        return second
    return "shared"  # small leaf helpers (urls, slugs, xmlchars, ...); checked below


FACES = {"web", "cli", "jobs"}
FORBIDDEN: dict[str, set[str]] = {
    "web": {"store", "ingest", "render"},
    "cli": {"store", "ingest", "render"},
    "jobs": {"store", "ingest", "render"},
    "render": {"store", "service", "app", "web", "cli", "jobs", "ingest"},
    "ingest": {"store", "service", "app", "web", "cli", "jobs"},
    "store": {"service", "app", "web", "cli", "jobs"},
    "service": {"app", "web", "cli", "jobs"},
    "models": {"app", "web", "cli", "jobs", "service", "store", "ingest", "render", "shared"},
    "errors": {"app", "web", "cli", "jobs", "service", "store", "ingest", "render", "shared"},
    # The leaf helpers sit beside models: anything may use them, they use no layer.
    "shared": {"app", "web", "cli", "jobs", "service", "store", "ingest", "render"},
}


def _violations() -> list[str]:
    found = []
    for module in MODULES:
        layer = layer_of(module.name)
        banned = FORBIDDEN.get(layer, set())
        for target in sorted(imports_of(module)):
            if target == module.name:
                continue
            target_layer = layer_of(target)
            if layer in {"models", "errors"} and target_layer in {"models", "errors"}:
                if target_layer != layer:
                    found.append(f"{module.name} ({layer}) imports {target}")
                continue
            if target_layer in banned:
                found.append(f"{module.name} ({layer}) imports {target} ({target_layer})")
    return found


def test_imports_flow_one_way() -> None:
    assert _violations() == []


def _ctx_uses() -> list[str]:
    found = []
    for module in MODULES:
        if layer_of(module.name) not in FACES:
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Attribute) and node.attr == "ctx":
                found.append(f"{module.path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def test_faces_never_reach_into_the_service() -> None:
    assert _ctx_uses() == []


def test_faces_hold_no_database_connection() -> None:
    # Connections stay in the service and the store: a face that imported SQLAlchemy
    # could only be about to run SQL or to pass a Connection around.
    found = []
    for module in MODULES:
        if layer_of(module.name) not in FACES:
            continue
        for node in ast.walk(module.tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            found += [f"{module.name} imports {n}" for n in names if n.startswith("sqlalchemy")]
    assert found == []


def _public_signatures_with(annotation: str) -> list[str]:
    """Public functions and methods of the service whose parameters name `annotation`."""
    found = []
    for module in MODULES:
        if layer_of(module.name) != "service":
            continue
        scopes: list[tuple[str, list[ast.stmt]]] = [("", module.tree.body)]
        while scopes:
            owner, body = scopes.pop()
            for node in body:
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    scopes.append((f"{node.name}.", node.body))
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    if node.name.startswith("_"):
                        continue
                    args = node.args
                    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
                    params += [a for a in (args.vararg, args.kwarg) if a is not None]
                    if any(
                        p.annotation is not None and annotation in ast.unparse(p.annotation)
                        for p in params
                    ):
                        found.append(f"{module.name}.{owner}{node.name}")
    return sorted(found)


def test_no_public_service_signature_takes_a_connection() -> None:
    # A public method that takes a Connection hands transactions to whoever calls it;
    # the service opens its own (Context.unit_of_work), and composes calls by nesting
    # them, so connections stay between the service's private helpers and the store.
    assert _public_signatures_with("Connection") == []


def test_the_checker_sees_what_it_checks() -> None:
    # Guards against a test that passes because it parsed nothing.
    layers = {layer_of(m.name) for m in MODULES}
    assert {"web", "cli", "jobs", "service", "store", "ingest", "render"} <= layers
    assert {"models", "errors", "app"} <= layers
    api = next(m for m in MODULES if m.name == "feeds.web.api")
    assert any(layer_of(t) == "service" for t in imports_of(api))
    # The signature check reads annotations: note and record_change take a Context.
    assert _public_signatures_with("Context")


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("from ..store import db", "feeds.web.x", {"feeds.store.db"}),
        ("from feeds import create_app", "feeds.ingest.x", {"feeds"}),
        ("import feeds.render.rss", "feeds.web.x", {"feeds.render.rss"}),
        ("from . import parse", "feeds.ingest.x", {"feeds.ingest.parse"}),
    ],
)
def test_imports_are_resolved(source: str, name: str, expected: set[str]) -> None:
    fake = Module(name, PACKAGE / Path(*name.split(".")[1:]).with_suffix(".py"), ast.parse(source))
    assert imports_of(fake) == expected
