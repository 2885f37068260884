"""Make outside HTML safe to republish (nh3), with every URL absolute.

This is the one place ingested HTML is made safe: feedparser's own sanitiser is turned
off in parse.py (it lets `JaVaScRiPt&#58;` through without a base URL and costs 4x).
nh3 parses like a browser, so entity-encoded or whitespace-broken schemes are decoded
before the URL check below sees them; the check then works on the resolved URL.

What this module does not do: decide which HTML field to keep or how long it may be
(normalize.py does).
"""

from __future__ import annotations

import contextvars
import functools
import html
import re
from urllib.parse import urlsplit

import nh3

from feeds.urls import absolute_url, parse_srcset, plain_absolute
from feeds.xmlchars import xml_safe

TAGS = frozenset(
    {
        "a", "abbr", "acronym", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite",
        "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
        "kbd", "li", "mark", "ol", "p", "picture", "pre", "q", "rp", "rt", "ruby", "s",
        "samp", "small", "source", "span", "strike", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
    }
)  # fmt: skip
# Removed together with everything inside them: their content is code, not text.
DROP_WITH_CONTENT = frozenset(
    {"script", "style", "template", "svg", "math", "iframe", "object", "embed", "noembed",
     "noframes", "noscript", "textarea", "select", "xmp", "plaintext"}
)  # fmt: skip
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "abbr": set(),
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "img": {"src", "alt", "width", "height", "srcset", "sizes"},
    "source": {"srcset", "sizes", "type", "media"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "time": {"datetime"},
    "details": {"open"},
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
SCHEMES = frozenset({"http", "https"})
LINK_SCHEMES = SCHEMES | {"mailto"}

# Browsers ignore tab and newlines anywhere in a URL and C0 controls/spaces at its ends,
# which is how `java&#x09;script:` hides its scheme from naive checks.
_URL_IGNORED = re.compile("[\t\n\r]")
_URL_EDGES = "".join(chr(c) for c in range(0x21))
# Tags that end a line or a block of text, opening or closing.
_BREAKS = re.compile(
    r"</?(?:address|article|aside|blockquote|br|caption|dd|details|div|dl|dt|figcaption|"
    r"figure|footer|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|td|tfoot|"
    r"th|thead|tbody|tr|ul)\b",
    re.IGNORECASE,
)


# Every tag removed, the content of code-like elements with it (see html_to_text).
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=set(DROP_WITH_CONTENT))


def clean_text(text: str, *, collapse: bool = False) -> str:
    """*text* without XML-invalid characters; with *collapse*, whitespace runs become one space."""
    text = xml_safe(text)
    # str.split() splits at exactly the characters a regex \s matches, in one C call
    # (a substitution cost a Python-level match object per run of spaces).
    return " ".join(text.split()) if collapse else text


def html_to_text(fragment: str) -> str:
    """The plain text of an HTML fragment (tags dropped, entities decoded, spaces collapsed).

    A line break or a block boundary becomes a space first, so "anymore.</p><p>As"
    reads "anymore. As", not "anymore.As"; inline tags ("<b>any</b>more") join as written.
    """
    if "<" not in fragment and "&" not in fragment and "\ufeff" not in fragment:
        # No tag and no reference: what the parser would give back is the text itself
        # (most titles; it drops a leading byte order mark, hence that exception).
        # tests/test_normalize_fast.py checks the two agree.
        return clean_text(fragment, collapse=True)
    return parsed_text(fragment)


def parsed_text(fragment: str) -> str:
    """html_to_text through the HTML parser, whatever the fragment holds."""
    spaced = _BREAKS.sub(_spaced, clean_text(fragment))
    stripped = _TEXT_CLEANER.clean(spaced)
    return clean_text(html.unescape(stripped), collapse=True)


def _spaced(tag: re.Match[str]) -> str:
    # A function, not the template " \g<0>": Python 3.11 expands a template in Python
    # code per match.
    return " " + tag.group()


def safe_url(value: str, base_url: str | None, schemes: frozenset[str] = SCHEMES) -> str | None:
    """*value* made absolute against *base_url*, or None when its scheme is not allowed.

    With *base_url* None (newsroom HTML whose article has no URL of its own) a relative
    reference is kept as written: the feed writers resolve it against the article's
    link. With an empty base it cannot be resolved and is dropped.
    """
    candidate = _URL_IGNORED.sub("", value).strip(_URL_EDGES)
    if not candidate:
        return None
    resolved = candidate if base_url is None else _absolute(candidate, base_url)
    if plain_absolute(resolved):
        # Its scheme is in lower case and a host follows: only the scheme is left to check
        # (most URLs of a feed are such, and each entry has several).
        # tests/test_normalize_fast.py checks this agrees with checked_url.
        return resolved if resolved[: resolved.index(":")] in schemes else None
    return checked_url(resolved, base_url, schemes)


def checked_url(resolved: str, base_url: str | None, schemes: frozenset[str]) -> str | None:
    """safe_url's verdict on a URL already resolved, as urlsplit reads it."""
    try:
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if base_url is None and not parts.scheme:
        return resolved
    if parts.scheme.lower() not in schemes or (
        parts.scheme.lower() in SCHEMES and not parts.netloc
    ):
        return None
    return resolved


# A feed repeats its links (a section page, the site's own images) entry after entry;
# only short ones are kept, so the cache stays small (a data: URL can be megabytes).
_absolute_cached = functools.lru_cache(maxsize=4096)(absolute_url)
_CACHED_URL_MAX = 512


def _absolute(url: str, base: str) -> str:
    if len(url) > _CACHED_URL_MAX or len(base) > _CACHED_URL_MAX:
        return absolute_url(url, base)
    return _absolute_cached(url, base)


def safe_srcset(value: str, base_url: str | None) -> str | None:
    """Each srcset candidate made absolute; unsafe candidates are dropped."""
    kept = []
    for url, descriptor in parse_srcset(value):
        resolved = safe_url(url, base_url)
        if resolved is not None:
            # Commas inside a URL are fine; a trailing one would end the candidate early.
            if resolved.endswith(","):
                resolved = resolved[:-1] + "%2C"
            kept.append(f"{resolved} {descriptor}".strip())
    return ", ".join(kept) or None


# The base URL of the fragment being sanitised, for the attribute filter: one Cleaner
# serves every call (building nh3's allow-lists on each call cost three times the
# cleaning), and a context variable is per thread, where nh3 calls the filter back.
_BASE: contextvars.ContextVar[str | None] = contextvars.ContextVar("sanitize_base")


def _check_attribute(tag: str, attribute: str, value: str) -> str | None:
    base_url = _BASE.get()
    if attribute in URL_ATTRIBUTES:
        return safe_url(value, base_url, LINK_SCHEMES if tag == "a" else SCHEMES)
    if attribute == "srcset":
        return safe_srcset(value, base_url)
    return value


_CLEANER = nh3.Cleaner(
    tags=set(TAGS),
    clean_content_tags=set(DROP_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    attribute_filter=_check_attribute,
    url_schemes=set(LINK_SCHEMES),
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(fragment: str, base_url: str | None) -> str:
    """Allow-listed HTML: no scripts, handlers or unsafe URLs; links get noopener.

    The one policy for every HTML fragment the store keeps, ingested or written through
    the API: what is stored is what is served.
    """
    if not fragment:
        return ""
    token = _BASE.set(base_url)
    try:
        cleaned = _CLEANER.clean(clean_text(fragment))
    finally:
        _BASE.reset(token)
    # A character reference such as &#1; decodes to a control character during parsing.
    return clean_text(cleaned).strip()
