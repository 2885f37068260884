"""Make the URLs inside article HTML absolute.

Feed readers show content away from our pages, where a relative ``src`` or ``href``
resolves against the reader, not against the article. This module only rewrites URL
attributes: it does not sanitise (the ingest normaliser does that) and does not touch
URLs in inline CSS. It depends on lxml and the standard library only, because both the
service and the ingest normaliser import it.
"""

from __future__ import annotations

from urllib.parse import urljoin

from lxml import html

# Attributes that hold exactly one URL; srcset is handled on its own.
URL_ATTRIBUTES = ("href", "src", "poster", "cite")
_SRCSET_ATTRIBUTES = ("srcset",)
_WRAPPER = "div"


def absolute_url(url: str, base: str) -> str:
    """Resolve *url* against *base* per RFC 3986; absolute URLs come back unchanged.

    An empty reference stays empty (an ``<img src="">`` should not become the article
    page), and a reference that urljoin cannot parse is returned as given.
    """
    stripped = url.strip()
    if not stripped:
        return url
    try:
        return urljoin(base, stripped)
    except ValueError:
        return url


def absolutize_srcset(srcset: str, base: str) -> str:
    """Resolve each image candidate of a ``srcset`` value, keeping its descriptor."""
    candidates = []
    for url, descriptor in _parse_srcset(srcset):
        resolved = absolute_url(url, base)
        candidates.append(f"{resolved} {descriptor}" if descriptor else resolved)
    return ", ".join(candidates)


def _parse_srcset(value: str) -> list[tuple[str, str]]:
    """Split a srcset into (url, descriptor) pairs, following the WHATWG outline.

    A URL is a run of non-space characters and may itself contain commas; trailing
    commas end the candidate. Descriptors run to the next comma outside parentheses.
    """
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < end and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if not url:
            break
        if url.endswith(","):
            pairs.append((url.rstrip(","), ""))
            continue
        depth, start = 0, pos
        while pos < end and not (value[pos] == "," and depth == 0):
            depth += {"(": 1, ")": -1}.get(value[pos], 0)
            pos += 1
        pairs.append((url, " ".join(value[start:pos].split())))
        pos += 1
    return pairs


def absolutize_html(content: str, base_url: str) -> str:
    """Return *content* with every relative URL attribute resolved against *base_url*.

    The fragment is parsed with lxml's HTML parser and serialised again, so markup may
    be normalised (quotes, entity forms, closed tags), but no html/body wrapper is
    added and the same input always gives the same output.
    """
    if not content.strip():
        return content
    wrapper = html.fragment_fromstring(content, create_parent=_WRAPPER)
    for element in wrapper.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions carry no attributes
        for name in URL_ATTRIBUTES:
            value = element.get(name)
            if value is not None:
                element.set(name, absolute_url(value, base_url))
        for name in _SRCSET_ATTRIBUTES:
            value = element.get(name)
            if value is not None:
                element.set(name, absolutize_srcset(value, base_url))
    serialised = html.tostring(wrapper, encoding="unicode", method="html")
    opening, closing = f"<{_WRAPPER}>", f"</{_WRAPPER}>"
    if not (serialised.startswith(opening) and serialised.endswith(closing)):
        raise RuntimeError("unexpected serialisation of the content wrapper")
    return serialised[len(opening) : -len(closing)]
