"""Make the URLs inside article HTML absolute.

Feed readers show content away from our pages, where a relative ``src`` or ``href``
resolves against the reader, not against the article. This module only rewrites URL
attributes: it does not sanitise (the ingest normaliser does that) and does not touch
URLs in inline CSS. URL resolution itself lives in feeds/urls.py, shared with the ingest
sanitiser. Markup nested deeper than MAX_DEPTH is flattened (text kept) first.

A leaf beside the models: whoever builds an Article to write it gives it its feed copy
(`with_feed_copy`), the content made absolute against the article's link, which the
store keeps so that a feed render does not parse every item's HTML again; the feed
writers' service makes it at render time for rows written before that or against
another public URL (until `feeds articles refresh-copies` gives them theirs).
"""

from __future__ import annotations

from dataclasses import replace

from lxml import html

from feeds.htmlbound import FEED_MAX_DEPTH, flatten_deep, within_depth
from feeds.models import Article, FeedContent
from feeds.urls import absolute_url, absolutize_srcset
from feeds.xmlchars import xml_safe

# Attributes that hold exactly one URL; srcset is handled on its own.
URL_ATTRIBUTES = ("href", "src", "poster", "cite")
_SRCSET_ATTRIBUTES = ("srcset",)
_WRAPPER = "div"
MAX_DEPTH = FEED_MAX_DEPTH


def absolutize_html(content: str, base_url: str) -> str:
    """Return *content* with every relative URL attribute resolved against *base_url*.

    The fragment is parsed with lxml's HTML parser and serialised again, so markup may
    be normalised (quotes, entity forms, closed tags), but no html/body wrapper is
    added and the same input always gives the same output.
    """
    if not content.strip():
        return content
    # lxml would silently drop whatever is nested deeper than ~255 levels (and the text
    # after it); flattened first, the markup keeps all its text.
    if not within_depth(content, MAX_DEPTH):  # stored HTML is sanitised
        content, _ = flatten_deep(content, MAX_DEPTH)
    wrapper = html.fragment_fromstring(content, create_parent=_WRAPPER)
    for element in wrapper.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions carry no attributes
        for name in URL_ATTRIBUTES:
            value = element.get(name)
            if value is not None:
                # A character reference such as &#1; parses to a character lxml refuses
                # to set; one odd attribute must not take the whole feed down.
                element.set(name, xml_safe(absolute_url(value, base_url)))
        for name in _SRCSET_ATTRIBUTES:
            value = element.get(name)
            if value is not None:
                element.set(name, xml_safe(absolutize_srcset(value, base_url)))
    serialised = html.tostring(wrapper, encoding="unicode", method="html")
    opening, closing = f"<{_WRAPPER}>", f"</{_WRAPPER}>"
    if not (serialised.startswith(opening) and serialised.endswith(closing)):
        raise RuntimeError("unexpected serialisation of the content wrapper")
    return serialised[len(opening) : -len(closing)]


def article_link(url: str | None, slug: str, root: str) -> str:
    """An article's link in feeds: its canonical URL, or our own article page under the
    public base `root` when the newsroom gave none. Its content's relative URLs resolve
    against it."""
    return url or f"{root}articles/{slug}"


def with_feed_copy(
    article: Article,
    root: str,
    *,
    absolute: bool = False,
    stored: Article | None = None,
    slug: str | None = None,
) -> Article:
    """`article` with its feed copy: its content made absolute against its link (its
    canonical URL, or its page under the public base `root`); with `slug`, under that
    slug (one copy of the article made, not two: a first fetch settles hundreds).

    `absolute` says the content went through `sanitize_html` with a base URL, which left
    every URL in it absolute (it drops those it cannot resolve): made absolute again it
    would only be parsed and serialised anew, which readers cannot tell apart
    (tests/test_feed_content.py) but where lxml's parser rearranges markup that breaks
    HTML's content model, so it is the copy as it is. `stored` is the article as
    the store holds it before this write: its copy is kept when the content and the link
    are the same (a status change, a new view count).
    """
    slug = article.slug if slug is None else slug
    link = article_link(article.url, slug, root)
    if stored is not None and stored.feed_content is not None:
        kept = stored.feed_content
        if kept.base == link and stored.content_html == article.content_html:
            return replace(article, slug=slug, feed_content=kept)
    copy = feed_copy(article.content_html, link, absolute=absolute)
    return replace(article, slug=slug, feed_content=copy)


def feed_copy(content_html: str, link: str, *, absolute: bool = False) -> FeedContent:
    """The feed copy of `content_html` against `link` (see with_feed_copy)."""
    # Deeper markup is flattened as absolutize_html does, so every copy nests alike.
    if absolute and within_depth(content_html, MAX_DEPTH):
        return FeedContent(link, content_html)
    return FeedContent(link, absolutize_html(content_html, link))
