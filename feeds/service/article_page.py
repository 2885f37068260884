"""What the public article page shows: the article, its safe HTML, and the feeds it is in.

The page names the feeds a reader may want to follow from it (its section, its author,
each hashtag) as links and as `<link rel="alternate">` autodiscovery; it does not render
anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from feeds.errors import NotFound
from feeds.ingest.sanitize import sanitize_html
from feeds.models import Article, FeedFormat, FeedKey, FeedKind, Status
from feeds.service.context import Context
from feeds.service.feeds import feed_path
from feeds.settings import Settings
from feeds.store import articles as article_store
from feeds.store import sections as section_store


class Gone(NotFound):
    """The article was withdrawn: the page answers 410 rather than 404."""


@dataclass(frozen=True)
class FeedLink:
    """A feed a page links to: its title, a short label for the link, its URLs."""

    title: str
    label: str
    rss: str
    atom: str
    json: str


@dataclass(frozen=True)
class ArticlePage:
    article: Article
    url: str
    content_html: str
    # False when the content already shows the lead image: a reader sees it once.
    show_image: bool
    section: FeedLink
    author: FeedLink | None
    tags: tuple[FeedLink, ...]

    @property
    def feeds(self) -> tuple[FeedLink, ...]:
        """Every feed the page announces for autodiscovery, most specific last."""
        found = [self.section]
        if self.author is not None:
            found.append(self.author)
        return (*found, *self.tags)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.extend(value for name, value in attrs if name == "src" and value)


def _same_image(a: str, b: str) -> bool:
    """The same picture: host and path agree (a CDN's size or format query aside)."""
    one, other = urlsplit(a), urlsplit(b)
    return (one.netloc.lower(), one.path) == (other.netloc.lower(), other.path)


def shows_image(content_html: str, image_url: str, base: str) -> bool:
    """Whether the HTML already holds the image (URLs resolved against `base`)."""
    parser = _Images()
    parser.feed(content_html)
    parser.close()
    wanted = urljoin(base, image_url)
    return any(_same_image(urljoin(base, src), wanted) for src in parser.sources)


def feed_link(settings: Settings, key: FeedKey, label: str, title: str = "") -> FeedLink:
    """The feed's URLs on the public base URL; titled "<site>: <label>" unless given."""
    root = settings.public_root
    urls = {fmt: root + feed_path(key, fmt) for fmt in FeedFormat}
    return FeedLink(
        title or f"{settings.site_title}: {label}",
        label,
        urls[FeedFormat.RSS],
        urls[FeedFormat.ATOM],
        urls[FeedFormat.JSON],
    )


class ArticlePageService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def link(self, key: FeedKey, label: str) -> FeedLink:
        return feed_link(self.ctx.settings, key, label)

    def get(self, slug: str) -> ArticlePage:
        """The page of a visible article; NotFound otherwise (Gone once withdrawn)."""
        with self.ctx.store.read() as conn:
            article = article_store.get_by(conn, slug=slug)
            if article is None or not article.visible_at(self.ctx.now()):
                if article is not None and article.status is Status.WITHDRAWN:
                    raise Gone(f"article {slug!r} was withdrawn")
                raise NotFound(f"no article {slug!r}")
            section = section_store.get(conn, article.section)
        url = f"{self.ctx.settings.public_root}articles/{article.slug}"
        base = article.url or url
        # Stored HTML is sanitised on write; sanitising again costs little and protects
        # the page, which shares an origin with the admin UI, from any row that reached
        # the store another way.
        content = sanitize_html(article.content_html, base)
        image = article.image
        author = None
        # A sponsor's byline has no feed while author feeds leave sponsored articles out.
        if article.author_slug and (self.ctx.settings.include_sponsored or not article.sponsored):
            key = FeedKey(FeedKind.AUTHOR, article.author_slug)
            author = self.link(key, article.author)
        section_title = section.title if section is not None else article.section
        return ArticlePage(
            article=article,
            url=url,
            content_html=content,
            show_image=image is not None and not shows_image(content, image.url, base),
            section=self.link(FeedKey(FeedKind.SECTION, article.section), section_title),
            author=author,
            tags=tuple(
                self.link(FeedKey(FeedKind.TAG, tag.key), f"#{tag.display}")
                for tag in article.hashtags
            ),
        )
