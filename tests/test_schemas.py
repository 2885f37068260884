"""The validators the feed tests lean on really validate: RELAX NG and RFC 4287's
Schematron rules for Atom, the JSON Feed schema, and a missing schema is a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.schemas import _require, validate_atom, validate_jsonfeed

HEAD = "<feed xmlns='http://www.w3.org/2005/Atom'><id>urn:f</id><title>F</title>"
UPDATED = "<updated>2026-01-01T00:00:00Z</updated>"
AUTHOR = "<author><name>N</name></author>"
ENTRY = "<entry><id>urn:e</id><title>E</title>" + UPDATED + "{inner}</entry>"
LINK = "<link href='http://localhost/a'/>"


def atom(*parts: str) -> bytes:
    return (HEAD + "".join(parts) + "</feed>").encode()


def test_a_valid_atom_document_passes() -> None:
    validate_atom(atom(UPDATED, AUTHOR, ENTRY.format(inner=LINK)))


def test_relax_ng_rejects_a_feed_without_updated() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"invalid against atom\.rng"):
        validate_atom(atom(AUTHOR, ENTRY.format(inner=LINK)))


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        (atom(UPDATED, ENTRY.format(inner=LINK)), "must have an atom:author"),
        (atom(UPDATED, AUTHOR, ENTRY.format(inner="")), "rel attribute of 'alternate'"),
    ],
    ids=["no-author", "no-alternate-link"],
)
def test_schematron_rejects_what_relax_ng_lets_through(document: bytes, rule: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="breaks RFC 4287 rules") as failed:
        validate_atom(document)
    assert rule in str(failed.value)


def test_the_json_feed_schema_rejects_a_document_without_version_or_items() -> None:
    validate_jsonfeed({"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": []})
    with pytest.raises(pytest.fail.Exception, match="JSON Feed is invalid"):
        validate_jsonfeed({"title": "T"})
    with pytest.raises(pytest.fail.Exception, match="JSON Feed is invalid"):
        validate_jsonfeed(b'{"version": "https://jsonfeed.org/version/1.1", "items": [{}]}')


def test_a_missing_schema_fails_the_test_instead_of_skipping_it(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="must sit beside the repository"):
        _require(tmp_path / "atom.rng")
