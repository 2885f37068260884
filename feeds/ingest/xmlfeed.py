"""A fast reader for well-formed RSS 2.0 and Atom 1.0: lxml instead of feedparser.

feedparser's strict parser is a SAX state machine in Python, most of the cost of an
ingest. This module reads the same documents with lxml and gives the feed and its
entries as the same dictionaries feedparser gives (the keys parse.py reads), following
feedparser's rules where they matter to a value: which of two titles wins, when a
guid becomes the link, how a link or id is resolved against xml:base, what an author's
name is, how categories merge, when a summary is copied from the content, the
"looks like HTML" guess for RSS titles, its repair of double-encoded UTF-8 and of
Windows-1252 code points. parse.py turns either result into the same ParsedFeed, and
tests/test_parse_fast.py checks the two agree on every document we have and on
generated ones.

It reads only what it knows: any element, attribute or namespace outside the grammar
below (an RSS 1.0 or Atom 0.3 document, iTunes or Dublin Core terms feedparser maps
onto fields in ways not mirrored here, xhtml content, a second description, an
out-of-line content), a document that is not well-formed or not UTF-8, and any DTD
make it answer None, and the caller parses with feedparser as before: behaviour never
gets worse, only the common case gets faster. Extension elements of namespaces
feedparser does not know are skipped, where feedparser too keeps them out of every
field parse.py reads (`ignorable`).

The parser is hardened: no network, no DTD loading, no entity resolution (a document
with a DOCTYPE never reaches it), lxml's default depth and node-size limits
(huge_tree off); the body was already bounded by `fetch_max_bytes`.

What this module does not do: decide anything about the values (parse.py shapes them,
normalize.py applies policy), or import feedparser: the few feedparser rules it needs
(date parsing, URL joining, the Windows-1252 table, the HTML element list) are handed
in as `Rules`, so both paths use the same code for them.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
_CONTENT = "http://purl.org/rss/1.0/modules/content/"
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_DCTERMS_DATES = {"modified": "updated", "issued": "published"}
_XML = "http://www.w3.org/XML/1998/namespace"
_XML_BASE = f"{{{_XML}}}base"
_XML_LANG = f"{{{_XML}}}lang"
# Namespaces feedparser knows but maps onto nothing parse.py reads: their elements are
# skipped when they hold only text (feedparser matches URIs case-insensitively).
_IGNORED = frozenset(
    {
        "http://wellformedweb.org/commentapi/",
        "http://purl.org/rss/1.0/modules/slash/",
        "http://purl.org/rss/1.0/modules/syndication/",
        "http://rssnamespace.org/feedburner/ext/1.0",
    }
)
_MEDIA = frozenset({"http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss"})
# Declaring one of these on the root makes feedparser call the document RSS 1.0/0.90.
_OTHER_VERSIONS = frozenset({"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html"})
_TEXT_TYPES = frozenset({"text/plain", "text/html"})
# More category elements in one entry than this go to feedparser, whose caller cuts
# them first (parse.MAX_CATEGORIES).
MAX_CATEGORIES = 1000
_AMP_REF = re.compile(r"&([A-Za-z0-9_]+);")
_CLOSE_TAG = re.compile(r"</(\w+)>")
_ANY_REF = re.compile(r"&#?\w+;")
_TAG_NAME = re.compile(r"</?(\w+)")
_ENTITY_NAME = re.compile(r"&(\w+);")
_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)


@dataclass(frozen=True)
class Rules:
    """The feedparser rules both paths share (parse.py hands in feedparser's own)."""

    parse_date: Callable[[str], time.struct_time | None]
    urljoin: Callable[[str, str], str]
    safe_absolute_uri: Callable[[str, str], str]
    cp1252: Mapping[int, str]
    html_elements: frozenset[str]
    html_entities: frozenset[str]
    # How feedparser finds the XML declaration's encoding, and whether it may guess one
    # (chardet installed).
    xml_encoding: re.Pattern[bytes]
    guesses_encoding: bool
    # The namespace URIs feedparser knows (lowercased) and the names of its element
    # handlers (`_start_dc_creator`, ...): an element of any other namespace is skipped
    # when its prefix can reach no handler (see `_Reader.ignorable`).
    known_namespaces: frozenset[str] = frozenset()
    handlers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RawFeed:
    """The document as feedparser would give it: `feed` and `entries` hold the keys
    parse.py reads, with feedparser's meaning."""

    version: str
    feed: dict[str, Any]
    entries: list[dict[str, Any]]


class Unsure(Exception):
    """The document holds something this reader does not mirror feedparser on."""


_local = threading.local()


def _parser() -> etree.XMLParser:
    # One parser per thread: refreshes run in several threads at once.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


_UTF8 = frozenset({"utf-8", "utf8", "utf_8"})
# Encodings that read ASCII bytes as ASCII: an ASCII document reads the same in any.
_ASCII_SAFE = _UTF8 | {"", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1",
                       "windows-1252", "cp1252", "iso-8859-15"}  # fmt: skip
_ANY_XML_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]*)", re.IGNORECASE)


def reads_as_utf8(body: bytes, content_type: str | None, rules: Rules) -> bool:
    """True when feedparser would decode *body* as lxml does (UTF-8, or ASCII either
    way), following feedparser's RFC 3023 rules: a `text/*` type without a charset means
    US-ASCII, no Content-Type at all means ISO-8859-1 unless the XML declaration says
    otherwise, and each next guess is taken when one fails."""
    if b"\x00" in body[:4] or body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return False
    bom = body.startswith(b"\xef\xbb\xbf")
    head = body[3:512] if bom else body[:512]
    declared = rules.xml_encoding.match(head)
    xml_encoding = declared.group(1).decode("latin-1").lower() if declared else ""
    written = _ANY_XML_ENCODING.match(body[:512])
    if (written.group(1).decode("latin-1").lower() if written else "") != xml_encoding:
        return False  # lxml and feedparser would read the declaration differently
    mime, _, params = (content_type or "").partition(";")
    mime = mime.strip().lower()
    charset_match = _CHARSET.search(params)
    charset = charset_match.group(1).lower() if charset_match else ""
    if body.isascii():
        return xml_encoding in _ASCII_SAFE and charset in _ASCII_SAFE
    if xml_encoding not in _UTF8 | {""}:
        return False
    if mime in ("application/xml", "application/xml-dtd",
                "application/xml-external-parsed-entity") or (
        mime.startswith("application/") and mime.endswith("+xml")
    ):  # fmt: skip
        first = charset or xml_encoding or "utf-8"
    elif mime.startswith("text/"):
        first = charset or "us-ascii"
    elif not content_type:
        first = xml_encoding or "iso-8859-1"
    else:
        first = xml_encoding or "utf-8"
    for candidate in (first, xml_encoding, "utf-8" if bom else "", "chardet", "utf-8"):
        if candidate in ("", "us-ascii", "ascii"):
            continue  # nothing proposed, or a proposal a non-ASCII body fails
        if candidate == "chardet":
            if rules.guesses_encoding:
                return False
            continue
        if candidate not in _UTF8:
            return False
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return False


def read(body: bytes, base_url: str, rules: Rules) -> RawFeed | None:
    """The feed and entries of a well-formed RSS 2.0 or Atom 1.0 document in UTF-8 with
    no DTD, or None when feedparser must read it (see the module docstring)."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        return None
    if root.getroottree().docinfo.doctype:
        return None
    try:
        return _Reader(rules, base_url, _known_prefixes(body, rules)).document(root)
    except Unsure:
        return None


_DECLARATION = re.compile(rb"""xmlns:([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _known_prefixes(body: bytes, rules: Rules) -> frozenset[str]:
    """Prefixes the document binds, anywhere, to a namespace feedparser knows: feedparser
    keeps mapping such a prefix to its own name for that namespace, even where the
    document binds it to another."""
    if b"xmlns:" not in body:
        return frozenset()
    found = set()
    for prefix, double, single in _DECLARATION.findall(body):
        uri = (double or single).decode("utf-8", "replace").lower()
        if uri in rules.known_namespaces or "backend.userland.com/rss" in uri:
            found.add(prefix.decode("utf-8", "replace").lower())
    return frozenset(found)


@functools.lru_cache(maxsize=512)
def _name(tag: str) -> tuple[str, str]:
    """(namespace lowercased, local name lowercased), as feedparser matches them."""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace.lower(), local.lower()
    return "", tag.lower()


def _attrs(el: Any) -> dict[str, str]:
    """Attributes as feedparser's strict parser gives them: names lowercased, the values
    of rel and type lowercased, xml:* kept with their prefix; other namespaces: Unsure."""
    found: dict[str, str] = {}
    for key, value in el.items():
        if key[:1] == "{":
            namespace, _, local = key[1:].partition("}")
            if namespace != _XML:
                raise Unsure(key)
            key = "xml:" + local
        key = key.lower()
        found[key] = value.lower() if key in ("rel", "type") else value
    return found


def _plain(el: Any, allowed: frozenset[str] = frozenset()) -> dict[str, str]:
    """The attributes of a text element, which may carry only *allowed* and xml:*."""
    if len(el):
        raise Unsure("an element inside a text element")
    attrs = _attrs(el) if el.attrib else {}
    for key in attrs:
        if key not in allowed and not key.startswith("xml:"):
            raise Unsure(f"attribute {key}")
    return attrs


def _map_type(value: str) -> str:
    value = value.lower()
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html"}.get(
        value, "application/xhtml+xml" if value == "xhtml" else value
    )


def _text_type(el: Any, what: str) -> str:
    """An Atom text construct's type as feedparser names it; Unsure for one that is not
    text or HTML (xhtml and the rest go to feedparser)."""
    kind = _map_type(_plain(el, _TYPE_ONLY).get("type", "text"))
    if kind not in _TEXT_TYPES:
        raise Unsure(f"{what} type {kind}")
    return kind


_NO_ATTRS: frozenset[str] = frozenset()
_TYPE_ONLY = frozenset({"type"})
_CATEGORY_ATTRS = frozenset({"term", "scheme", "domain", "label"})
_GUID_ATTRS = frozenset({"ispermalink"})
_SOURCE_ATTRS = frozenset({"url"})
_IMAGE_PARTS = frozenset({"url", "title", "link", "width", "height", "description"})
_TEXTINPUT_PARTS = frozenset({"title", "description", "name", "link"})
_PERSON_PARTS = frozenset({"name", "email", "uri"})
# Channel or feed children that change nothing parse.py reads, taken when they hold text.
_RSS_CHANNEL_TEXT = frozenset(
    {"description", "lastbuilddate", "pubdate", "generator", "docs", "ttl", "copyright",
     "managingeditor", "webmaster", "rating", "cloud", "category"}
)  # fmt: skip
_ATOM_FEED_TEXT = frozenset(
    {"subtitle", "updated", "published", "generator", "icon", "logo", "rights", "category"}
)
_DC_FEED_TEXT = frozenset({"creator", "date", "rights", "publisher", "subject"})


class _Reader:
    """feedparser's state, kept only as far as the grammar needs it."""

    def __init__(self, rules: Rules, base_url: str, known_prefixes: frozenset[str]) -> None:
        self.rules = rules
        self.known_prefixes = known_prefixes
        # As feedparser.api: the Content-Location as given.
        self.base = base_url or ""
        self.bases: list[str] = []
        self.joined: dict[tuple[str, str], str] = {}
        self.title_depth = -1
        self.guidislink = False
        self.atom = False
        # Category elements since the last entry began, counted as parse.cut_categories
        # counts them (feed-level ones after an entry count towards it).
        self.categories = 0
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []

    # -- feedparser's bookkeeping -------------------------------------------------

    def enter(self, el: Any) -> None:
        """xml:base (or a plain `base` attribute) as feedparser tracks it."""
        attr = el.get(_XML_BASE) or el.get("base") or self.base
        key = (self.base, attr)
        new = self.joined.get(key)
        if new is None:
            if self.base:
                new = self.rules.safe_absolute_uri(self.base, attr) or self.base
            else:
                new = self.rules.urljoin(self.base, attr)
            self.joined[key] = new
        self.base = new
        self.bases.append(new)

    def leave(self) -> None:
        self.bases.pop()
        if self.bases and self.bases[-1]:
            self.base = self.bases[-1]

    def finish(self, text: str | None, resolve: bool = False) -> str:
        """feedparser's pop() for a text element: stripped, resolved when the element
        holds a URI, double-encoded UTF-8 repaired, Windows-1252 code points mapped."""
        out = (text or "").strip()
        if resolve and out:
            out = self.rules.urljoin(self.base or "", out)
        return self.repair(out)

    def repair(self, out: str) -> str:
        if out.isascii():
            return out
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            out = out.encode("iso-8859-1").decode("utf-8")
        return out.translate(self.rules.cp1252)

    def looks_like_html(self, text: str) -> bool:
        """feedparser's guess that a nominally plain RSS text holds HTML."""
        if not (_CLOSE_TAG.search(text) or _ANY_REF.search(text)):
            return False
        if any(t.lower() not in self.rules.html_elements for t in _TAG_NAME.findall(text)):
            return False
        return all(e in self.rules.html_entities for e in _ENTITY_NAME.findall(text))

    def children(self, el: Any, depth: int, handle: Callable[[Any, str, str, int], None]) -> None:
        for child in el:
            namespace, local = _name(child.tag)
            self.enter(child)
            handle(child, namespace, local, depth)
            self.leave()

    # -- documents ----------------------------------------------------------------

    def document(self, root: Any) -> RawFeed:
        namespace, local = _name(root.tag)
        if any(uri.lower() in _OTHER_VERSIONS for uri in root.nsmap.values()):
            raise Unsure("declares an RSS 1.0 or 0.90 namespace")
        attrs = _attrs(root)
        if set(attrs) - {"version", "xml:lang", "xml:base", "lang"}:
            raise Unsure("root attributes")
        lang = attrs.get("xml:lang", attrs.get("lang"))
        if namespace == "" and local == "rss" and attrs.get("version", "").startswith("2."):
            version = "rss20"
        elif namespace == ATOM.lower() and local == "feed":
            version, self.atom = "atom10", True
        else:
            raise Unsure("not RSS 2.0 or Atom 1.0")
        if lang:
            self.feed["language"] = lang.replace("_", "-")
        self.enter(root)
        if self.atom:
            self.children(root, 2, self.atom_feed)
        else:
            self.children(root, 2, self.rss_root)
        return RawFeed(version, self.feed, self.entries)

    def rss_root(self, el: Any, namespace: str, local: str, depth: int) -> None:
        if namespace or local != "channel" or set(_attrs(el)) - {"xml:base", "xml:lang"}:
            raise Unsure(local)
        self.children(el, depth + 1, self.rss_channel)

    # -- feed level -----------------------------------------------------------------

    def count_category(self) -> None:
        self.categories += 1
        if self.categories > MAX_CATEGORIES:
            raise Unsure("too many categories")

    def rss_channel(self, el: Any, namespace: str, local: str, depth: int) -> None:
        feed = self.feed
        if local in ("category", "subject"):
            self.count_category()
        if namespace == "":
            if local == "item":
                self.entry(el, depth)
            elif local == "title":
                self.title(el, depth, feed)
            elif local == "link":
                _plain(el)
                feed["link"] = _AMP_REF.sub(r"&\g<1>", self.finish(el.text, resolve=True))
            elif local == "language":
                _plain(el)
                feed["language"] = self.finish(el.text)
            elif local == "image":
                self.framed(el, depth, _IMAGE_PARTS)
            elif local == "textinput":
                self.framed(el, depth, _TEXTINPUT_PARTS)
            elif local in ("skiphours", "skipdays"):
                for part in el:
                    _plain(part)
            elif local in _RSS_CHANNEL_TEXT:
                _plain(el, frozenset(_attrs(el)))
            else:
                raise Unsure(local)
        elif namespace == ATOM.lower() and local == "link":
            self.link(el, feed, feed_level=True)
        elif namespace == _DC and local == "language":
            _plain(el)
            feed["language"] = self.finish(el.text)
        elif namespace == _DC and local in _DC_FEED_TEXT:
            _plain(el)
        else:
            self.ignorable(el, namespace)

    def atom_feed(self, el: Any, namespace: str, local: str, depth: int) -> None:
        feed = self.feed
        if local in ("category", "subject"):
            self.count_category()
        if namespace == ATOM.lower():
            if local == "entry":
                self.entry(el, depth)
            elif local == "title":
                self.title(el, depth, feed)
            elif local == "link":
                self.link(el, feed, feed_level=True)
            elif local == "id":
                # feedparser treats an Atom id as a guid: a permalink unless it says
                # otherwise, so it becomes the feed's link when none came before.
                attrs = _plain(el, _GUID_ATTRS)
                guidislink = attrs.get("ispermalink", "true") == "true"
                value = self.finish(el.text, resolve=guidislink)
                feed["id"] = value
                if guidislink:
                    feed.setdefault("link", value)
            elif local in ("author", "contributor"):
                self.person_parts(el)
            elif local in _ATOM_FEED_TEXT:
                _plain(el, frozenset(_attrs(el)))
            else:
                raise Unsure(local)
        elif namespace == _DC and local in _DC_FEED_TEXT:
            _plain(el)
        else:
            self.ignorable(el, namespace)

    def framed(self, el: Any, depth: int, parts: frozenset[str]) -> None:
        """An RSS image or textInput: its title moves feedparser's title marker, the
        rest stays inside it (only the parts feedparser keeps inside are taken)."""
        self.title_depth = -1
        for part in el:
            namespace, local = _name(part.tag)
            if namespace or local not in parts:
                raise Unsure(f"{local} in {el.tag}")
            self.enter(part)
            if local == "title":
                self.title(part, depth + 1, None)
            else:
                _plain(part, frozenset(_attrs(part)))
            self.leave()

    def ignorable(self, el: Any, namespace: str) -> None:
        """An element feedparser keeps under a name of its own that parse.py never reads
        (`wfw_commentrss`, `opensearch_totalresults`): one of a namespace it knows and
        maps onto nothing, holding only text; or one of a namespace it does not know,
        whose prefix leads to no handler of feedparser's and to no key parse.py reads,
        as its children do. Anything else: Unsure."""
        if namespace in _IGNORED:
            if len(el):
                raise Unsure(f"elements inside {el.tag}")
            return
        for node in el.iter():
            if not self.unknown_and_inert(node):
                raise Unsure(node.tag)

    def unknown_and_inert(self, el: Any) -> bool:
        prefix = (el.prefix or "").lower()
        if not prefix or prefix in self.known_prefixes:
            return False  # feedparser reads it as a plain or a known element
        namespace, local = _name(el.tag)
        if namespace in self.rules.known_namespaces or "backend.userland.com/rss" in namespace:
            return False
        if f"{prefix}_{local}" in _READ_KEYS:
            return False
        return _inert_prefix(prefix, self.rules.handlers)

    # -- shared elements ------------------------------------------------------------

    def title(
        self, el: Any, depth: int, target: dict[str, Any] | None,
        state: _EntryState | None = None, *, media: bool = False,
    ) -> None:  # fmt: skip
        """feedparser keeps the first non-empty title at a depth (a source, image or
        textInput, or a new entry, starts again), and in an entry the shallowest; a
        media:title takes part without moving the marker (*media*)."""
        if self.atom or media:
            kind = _text_type(el, "title")
        else:
            _plain(el)
            kind = "text/plain"
        out = (el.text or "").strip()
        if not self.atom and kind == "text/plain" and self.looks_like_html(out):
            kind = "text/html"
        out = self.repair(out)
        if target is not None and not (-1 < self.title_depth <= depth):
            stored = state.title_depth if state is not None else None
            if stored is None or depth <= stored:
                target["title"] = out
                if state is not None:
                    state.title_depth = depth
            # feedparser replaces the detail even when the shallower title stays.
            target["title_detail"] = {"type": kind, "base": self.base}
        if out and not media:
            self.title_depth = depth

    def link(self, el: Any, target: dict[str, Any], *, feed_level: bool) -> dict[str, str]:
        """An Atom link (also atom:link in RSS): feedparser's defaults for rel and type,
        the href resolved; an alternate HTML link becomes the link."""
        attrs = _plain(el, frozenset(_attrs(el)))
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        _enforce_href(attrs)
        if "href" not in attrs:
            raise Unsure("a link without href")
        attrs["href"] = self.rules.urljoin(self.base or "", attrs["href"])
        if feed_level:
            target.setdefault("links", []).append(attrs)
        if attrs["rel"] == "alternate" and _map_type(attrs["type"]) in _HTML_TYPES:
            target["link"] = attrs["href"]
        return attrs

    def person_parts(self, el: Any) -> list[tuple[str, str]]:
        """An Atom person's name, email and uri as feedparser reads them."""
        parts = []
        for part in el:
            namespace, local = _name(part.tag)
            if namespace != ATOM.lower():
                self.ignorable(part, namespace)  # such as Blogger's gd:image
                continue
            if local not in _PERSON_PARTS:
                raise Unsure(f"{local} in a person")
            _plain(part)
            self.enter(part)
            if local == "uri":
                parts.append(("href", self.finish(part.text, resolve=True)))
            else:  # feedparser takes name and email without its text repairs
                parts.append((local, (part.text or "").strip()))
            self.leave()
        return parts

    # -- entries --------------------------------------------------------------------

    def entry(self, el: Any, depth: int) -> None:
        if set(_attrs(el)) - {"xml:base", "xml:lang"}:
            raise Unsure("entry attributes")
        self.title_depth = -1
        self.guidislink = False
        self.categories = 0
        entry: dict[str, Any] = {}
        state = _EntryState()
        self.entries.append(entry)
        for child in el:
            namespace, local = _name(child.tag)
            self.enter(child)
            self.entry_child(child, namespace, local, depth + 1, entry, state)
            self.leave()

    def entry_child(
        self, el: Any, namespace: str, local: str, depth: int, entry: dict[str, Any],
        state: _EntryState,
    ) -> None:  # fmt: skip
        main = ATOM.lower() if self.atom else ""
        if namespace == main:
            if local == "title":
                self.title(el, depth, entry, state)
            elif local in ("guid", "id") and (local == "id") == self.atom:
                self.guid(el, entry)
            elif local == "link":
                if self.atom:
                    self.entry_link(el, entry, state)
                else:
                    _plain(el)
                    out = self.finish(el.text, resolve=True).replace("&amp;", "&")
                    entry["link"] = _AMP_REF.sub(r"&\g<1>", out)
            elif local in ("description", "summary") and (local == "summary") == self.atom:
                self.summary(el, entry, state)
            elif local == "content" and self.atom:
                attrs = _plain(el, _TYPE_ONLY)
                self.content(el, _map_type(attrs.get("type", "text/plain")), entry, state)
            elif local in ("author", "contributor") and self.atom:
                self.person(el, entry, local == "author")
            elif local == "author":
                _plain(el)
                self.author(el.text or "", [], entry)
            elif local == "category":
                self.category(el, entry, state)
            elif local in ("pubdate", "published") and (local == "published") == self.atom:
                self.date(el, "published", entry)
            elif local == "updated" and self.atom:
                self.date(el, "updated", entry)
            elif local == "enclosure" and not self.atom:
                if len(el):
                    raise Unsure("elements inside an enclosure")
                attrs = _enforce_href(_attrs(el))
                attrs["rel"] = "enclosure"
                entry.setdefault("enclosures", []).append(attrs)
            elif local == "source" and not self.atom:
                attrs = _plain(el, _SOURCE_ATTRS)
                self.title_depth = -1
                source = {"href": attrs["url"]} if "url" in attrs else {}
                title = self.finish(el.text)
                if title:
                    source["title"] = title
                entry["source"] = source
            elif local == "comments" and not self.atom:
                _plain(el)
            elif local == "rights" and self.atom:
                _text_type(el, "rights")
            else:
                raise Unsure(local)
        elif namespace == ATOM.lower() and local == "link":
            self.entry_link(el, entry, state)
        elif namespace == ATOM.lower() and local in ("updated", "published"):
            self.date(el, local, entry)  # atom:updated in RSS items (Medium)
        elif namespace == _DCTERMS and local in _DCTERMS_DATES:
            self.date(el, _DCTERMS_DATES[local], entry)
        elif namespace == _CONTENT and local == "encoded":
            _plain(el)
            self.content(el, "text/html", entry, state)
        elif namespace == _DC:
            if local in ("creator", "author"):
                _plain(el)
                self.author(el.text or "", [], entry)
            elif local == "date":
                self.date(el, "updated", entry)
            elif local == "subject":
                self.category(el, entry, state)
            else:
                raise Unsure(f"dc:{local}")
        elif namespace in _MEDIA:
            self.media(el, local, depth, entry, state, in_group=False)
        else:
            self.ignorable(el, namespace)

    def guid(self, el: Any, entry: dict[str, Any]) -> None:
        attrs = _plain(el, _GUID_ATTRS)
        self.guidislink = attrs.get("ispermalink", "true") == "true"
        value = self.finish(el.text, resolve=self.guidislink)
        entry["id"] = value
        if self.guidislink:
            # A permalink guid is the link when no link came before it.
            entry.setdefault("link", value)

    def entry_link(self, el: Any, entry: dict[str, Any], state: _EntryState) -> None:
        attrs = self.link(el, entry, feed_level=False)
        if attrs["rel"] == "enclosure":
            entry.setdefault("enclosures", []).append(attrs)

    def summary(self, el: Any, entry: dict[str, Any], state: _EntryState) -> None:
        if "summary" in entry and not state.has_content:
            # feedparser takes a second summary as content, through a path that
            # leaves its element stack unbalanced: not mirrored.
            raise Unsure("a second summary")
        if self.atom:
            kind = _text_type(el, "summary")
        else:
            _plain(el)
            kind = "text/html"
        entry["summary"] = self.finish(el.text)
        entry["summary_detail"] = {"type": kind, "base": self.base}

    def content(self, el: Any, kind: str, entry: dict[str, Any], state: _EntryState) -> None:
        if kind not in _TEXT_TYPES:
            raise Unsure(f"content type {kind}")
        state.has_content = True
        value = self.finish(el.text)
        entry.setdefault("content", []).append({"type": kind, "base": self.base, "value": value})
        # feedparser copies a text or HTML content into a summary not yet given.
        entry.setdefault("summary", value)

    def person(self, el: Any, entry: dict[str, Any], author: bool) -> None:
        parts = self.person_parts(el)
        if author:
            text = (el.text or "") + "".join(part.tail or "" for part in el)
            self.author(text, parts, entry)

    def author(self, text: str, parts: list[tuple[str, str]], entry: dict[str, Any]) -> None:
        """feedparser's author bookkeeping, step by step: `author_detail` is the first
        detail made, `author` the last element's text or name."""
        entry.setdefault("authors", []).append({})
        for key, value in parts:
            _save_author(entry, key, value)
        entry["author"] = self.finish(text)
        _sync_author_detail(entry)

    def category(self, el: Any, entry: dict[str, Any], state: _EntryState) -> None:
        self.count_category()
        attrs = _plain(el, _CATEGORY_ATTRS)
        tags = entry.setdefault("tags", [])
        _add_tag(
            tags, attrs.get("term"), attrs.get("scheme", attrs.get("domain")), attrs.get("label")
        )
        value = self.finish(el.text)
        if not value:
            return
        if tags and not tags[-1]["term"]:
            tags[-1]["term"] = value
        else:
            _add_tag(tags, value, None, None)

    def date(self, el: Any, key: str, entry: dict[str, Any]) -> None:
        _plain(el)
        value = self.finish(el.text)
        entry[key] = value
        entry[f"{key}_parsed"] = self.rules.parse_date(value)

    def media(
        self, el: Any, local: str, depth: int, entry: dict[str, Any], state: _EntryState,
        *, in_group: bool,
    ) -> None:  # fmt: skip
        if local == "content":
            entry.setdefault("media_content", []).append(_attrs(el))
            self.media_parts(el, ("thumbnail", "credit", "title"), depth, entry, state)
        elif local == "thumbnail":
            if len(el):
                raise Unsure("elements inside media:thumbnail")
            attrs = _attrs(el)
            entry.setdefault("media_thumbnail", []).append(attrs)
            url = self.finish(el.text, resolve=True)
            if url.strip() and "url" not in attrs:
                attrs["url"] = url
        elif local == "credit":
            _plain(el, frozenset(_attrs(el)))
        elif local == "title":
            self.title(el, depth, entry, state, media=True)
        elif local == "group" and not in_group:
            parts = ("content", "thumbnail", "credit", "title")
            self.media_parts(el, parts, depth, entry, state)
        else:
            raise Unsure(f"media:{local}")

    def media_parts(
        self, el: Any, allowed: tuple[str, ...], depth: int, entry: dict[str, Any],
        state: _EntryState,
    ) -> None:  # fmt: skip
        for part in el:
            namespace, name = _name(part.tag)
            if namespace not in _MEDIA or name not in allowed:
                raise Unsure(f"media:{name} in {el.tag}")
            self.enter(part)
            self.media(part, name, depth + 1, entry, state, in_group=True)
            self.leave()


# Keys of feedparser's result that parse.py reads and whose names hold an underscore
# (an unknown element `<p:l>` is stored under `p_l`).
_READ_KEYS = frozenset(
    {"title_detail", "summary_detail", "author_detail", "published_parsed", "updated_parsed",
     "media_content", "media_thumbnail"}
)  # fmt: skip


@functools.lru_cache(maxsize=256)
def _inert_prefix(prefix: str, handlers: frozenset[str]) -> bool:
    """No handler of feedparser's starts with this prefix (`_start_<prefix>_...`)."""
    return not any(name.startswith((f"_start_{prefix}_", f"_end_{prefix}_")) for name in handlers)


class _EntryState:
    __slots__ = ("has_content", "title_depth")

    def __init__(self) -> None:
        self.has_content = False
        # The depth of the title stored so far (feedparser keeps the shallowest).
        self.title_depth: int | None = None


def _enforce_href(attrs: dict[str, str]) -> dict[str, str]:
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs.pop("url", None)
        attrs.pop("uri", None)
        attrs["href"] = href
    return attrs


def _add_tag(tags: list[dict[str, Any]], term: Any, scheme: Any, label: Any) -> None:
    if not term and not scheme and not label:
        return
    value = {"term": term, "scheme": scheme, "label": label}
    if value not in tags:
        tags.append(value)


def _save_author(entry: dict[str, Any], key: str, value: str) -> None:
    entry.setdefault("author_detail", {})[key] = value
    _sync_author_detail(entry)
    entry.setdefault("authors", [{}])[-1][key] = value


def _sync_author_detail(entry: dict[str, Any]) -> None:
    """feedparser's: the name and email of the last author, or the author text split."""
    detail = entry.get("authors", [{}])[-1]
    if detail:
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            entry["author"] = f"{name} ({email})"
        elif name:
            entry["author"] = name
        elif email:
            entry["author"] = email
        return
    author, email = entry.get("author"), None
    if not author:
        return
    match = _EMAIL.search(author)
    if match:
        email = match.group(0)
        author = author.replace(email, "").replace("()", "").replace("<>", "")
        author = author.replace("&lt;&gt;", "").strip()
        if author and author[0] == "(":
            author = author[1:]
        if author and author[-1] == ")":
            author = author[:-1]
        author = author.strip()
    if author or email:
        entry.setdefault("author_detail", detail)
    if author:
        detail["name"] = author
    if email:
        detail["email"] = email
