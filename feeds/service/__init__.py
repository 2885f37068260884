"""The one API that the web views, the CLI and the scheduler jobs call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from feeds.feedcache import FeedCache
from feeds.service.archives import ArchiveService
from feeds.service.article_page import ArticlePageService
from feeds.service.articles import ArticleService
from feeds.service.audit import AuditService
from feeds.service.catalog import CatalogService
from feeds.service.context import Context, utcnow
from feeds.service.demo_generate import DemoService
from feeds.service.directory import DirectoryService
from feeds.service.feed_page import FeedPageService
from feeds.service.feeds import FeedService
from feeds.service.health import HealthService
from feeds.service.hub import HubService
from feeds.service.pollers import PollerService
from feeds.service.publish import Publisher
from feeds.service.push import PushService
from feeds.service.ratelimits import limiter_storage
from feeds.service.secret_key import SecretKeyService
from feeds.service.setup import Setup
from feeds.service.sources import SourceService
from feeds.service.tokens import TokenService
from feeds.service.users import UserService
from feeds.service.websub import WebSubPublisher
from feeds.settings import Settings
from feeds.store import Store


class Service:
    def __init__(
        self, settings: Settings, store: Store, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.ctx = Context(
            settings=settings, store=store, cache=FeedCache(settings.cache_bytes), clock=clock
        )
        self.articles = ArticleService(self.ctx)
        self.article_pages = ArticlePageService(self.ctx)
        self.catalog = CatalogService(self.ctx)
        self.feeds = FeedService(self.ctx)
        self.archives = ArchiveService(self.ctx, self.feeds)
        self.feed_pages = FeedPageService(self.ctx, self.feeds)
        self.hub = HubService(self.ctx, self.feeds)
        self.publisher = Publisher(self.ctx, self.feeds, self.archives)
        self.hub.attach(self.publisher)
        self.tokens = TokenService(self.ctx)
        self.pollers = PollerService(self.ctx)
        self.directory = DirectoryService(self.ctx)
        self.users = UserService(self.ctx)
        self.audit = AuditService(self.ctx, self.catalog, self.articles)
        self.sources = SourceService(self.ctx)
        self.push = PushService(self.ctx, self.sources.ingester)
        self.demo = DemoService(self.ctx)
        self.secret_key = SecretKeyService(self.ctx)
        self.setup = Setup(self.ctx, self.catalog, self.articles, self.secret_key)
        # Last: it looks at the other parts, the publisher among them once there is one.
        self.health = HealthService(self.ctx, self.setup, lambda: getattr(self, "publisher", None))

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def cache(self) -> FeedCache:
        """The render cache responses draw their compressed variants from."""
        return self.ctx.cache

    def rate_limit_storage(self) -> tuple[str, dict[str, Any]]:
        """The rate limiter's storage URI and options, shared by every process."""
        return limiter_storage(self.ctx)

    @property
    def closed(self) -> bool:
        """True once the store was disposed: background work should stop."""
        return self.ctx.store.disposed

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every transaction this process commits to the store."""
        self.ctx.store.committed.append(callback)

    def now(self) -> datetime:
        """The service's present (a test's clock when one is set), timezone-aware UTC."""
        return self.ctx.now()

    def websub_publisher(self) -> WebSubPublisher:
        """An announcer of changed feeds to the outside WebSub hub (`websub_hub`); what
        it announced is kept in the store, shared by every process."""
        return WebSubPublisher(self.ctx, self.feeds)

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        self.ctx.clock = clock
