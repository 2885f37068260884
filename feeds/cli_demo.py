"""`feeds demo generate`: fill a store with an invented newsroom of any size."""

from __future__ import annotations

import time
from dataclasses import asdict

import click
from flask.cli import with_appcontext

from feeds.cli_common import FeedsGroup, ProgressLine, emit, progress_option, service


@click.group("demo", cls=FeedsGroup, help="Demo content for trying the service at scale.")
def demo_group() -> None:
    pass


@demo_group.command("generate")
@click.option("--articles", "count", type=int, required=True, help="How many articles to add.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same newsroom.")
@progress_option
@with_appcontext
def generate_command(count: int, seed: int, progress: bool | None) -> None:
    """Add COUNT invented articles over five years (a few scheduled), in one transaction.

    Five sections' worth of stories by a staff of bylines, with hot hashtags, a long tail
    and rare tags, some sponsored, drafts and withdrawn ones. A seed used before in the
    same store is refused: its articles are there already.
    """
    line = ProgressLine(progress)

    def report(done: int, total: int) -> None:
        line.show(f"generated {done} of {total} articles")

    started = time.monotonic()
    result = service().demo.generate(count, seed, report if line.wanted else None)
    seconds = round(time.monotonic() - started, 1)
    line.close()
    tags = [result.examples[kind] for kind in ("hot", "tail", "rare")]
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(result.statuses.items()))
    text = (
        f"generated {result.articles} articles in {seconds} s ({statuses}; "
        f"{result.scheduled} scheduled, {result.sponsored} sponsored), "
        f"ids from {result.first_id}; try the tags {', '.join(tags)} and the author "
        f"{result.examples.get('author', '')}"
    )
    emit(asdict(result) | {"seconds": seconds}, text)
