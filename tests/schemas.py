"""Validators for the shared Atom and JSON Feed schemas, kept outside the project.

The schemas live beside the repository in ``../shared/schemas`` (CI has them). Where a
schema is absent the check fails with the path it looked for: a validity test that
skipped would pass CI without having validated anything.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"
ATOM_RNG = SCHEMAS / "atom.rng"
ATOM_SCHEMATRON = SCHEMAS / "atom-rfc4287.sch"
JSONFEED_SCHEMA = SCHEMAS / "jsonfeed-schema-v1.1.json"


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(
            f"schema {path.name} not found at {path}: the shared schemas folder must sit"
            " beside the repository (../shared/schemas) for the validity tests to run",
            pytrace=False,
        )
    return path


@cache
def _atom_relaxng() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(_require(ATOM_RNG))))


@cache
def _atom_schematron() -> Any:
    # RFC 4287's co-occurrence rules (author, alternate link) are not expressible in
    # RELAX NG; the RNG's embedded Schematron is shipped beside it as a separate file.
    rules = etree.parse(str(_require(ATOM_SCHEMATRON)))
    with warnings.catch_warnings():
        # lxml deprecates the pre-ISO Schematron that RFC 4287's rules are written in.
        warnings.simplefilter("ignore", DeprecationWarning)
        # types-lxml omits the deprecated class, hence the getattr.
        schematron = getattr(etree, "Schematron")  # noqa: B009
        return schematron(rules)


@cache
def _jsonfeed_validator() -> Any:
    import jsonschema

    schema = json.loads(_require(JSONFEED_SCHEMA).read_text(encoding="utf-8"))
    # Use whichever draft the schema declares ($schema), with format checking on.
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_atom(document: bytes) -> None:
    """Fail the test unless *document* is valid against atom.rng and its Schematron rules."""
    relaxng = _atom_relaxng()
    tree = etree.fromstring(document)
    if not relaxng.validate(tree):
        pytest.fail(f"Atom is invalid against {ATOM_RNG.name}: {relaxng.error_log}")
    schematron = _atom_schematron()
    if not schematron.validate(tree):
        pytest.fail(f"Atom breaks RFC 4287 rules: {schematron.error_log}")


def validate_jsonfeed(document: bytes | dict[str, Any]) -> None:
    """Fail the test unless *document* is valid against the JSON Feed 1.1 schema."""
    validator = _jsonfeed_validator()
    data = json.loads(document) if isinstance(document, bytes) else document
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        pytest.fail(
            "JSON Feed is invalid: "
            + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
        )
