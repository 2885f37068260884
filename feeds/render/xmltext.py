"""Small XML helpers shared by the RSS, Atom and OPML writers.

They do not escape markup: lxml does that when it serialises. They only remove what lxml
refuses to serialise at all, and finish a document the same way for every writer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from feeds.xmlchars import xml_safe

# feedgen's own output is trusted, but re-parsing must never fetch or expand anything.
_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def clean_text(value: str) -> str:
    """Return *value* without characters XML 1.0 cannot carry."""
    return xml_safe(value)


def feed_datetime(value: datetime) -> datetime:
    """Whole seconds in UTC, so RSS (which has no fractions) and Atom/JSON agree."""
    return value.astimezone(UTC).replace(microsecond=0)


def rfc3339(value: datetime) -> str:
    return feed_datetime(value).isoformat()


def parse_generated(xml: bytes) -> etree._ElementTree:
    """Parse feedgen's serialised output into a properly namespaced tree.

    feedgen builds the Atom root with a literal ``xmlns`` attribute rather than a
    namespace, so elements added to its in-memory tree land in no namespace; a round
    trip through the parser gives every element its real namespace before we edit it.
    """
    return etree.ElementTree(etree.fromstring(xml, _SAFE_PARSER))


def finish_document(tree: etree._ElementTree) -> bytes:
    """Serialise *tree* as UTF-8 with a declaration.

    No xml-stylesheet instruction: browsers are dropping XSLT, and a browser opening a
    feed's URL gets the feed's HTML page from the app instead.
    """
    return etree.tostring(tree, encoding="UTF-8", xml_declaration=True)
