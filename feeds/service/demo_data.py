"""The invented newsroom `feeds demo generate` writes: names, hashtags and text.

Everything comes from one seeded random generator, so a seed always gives the same
newsroom. The shape is a real newsroom's: a few hot hashtags most stories carry, a long
tail whose use falls off with rank (Zipf), rare tags about one story in 10,000 carries,
a staff of bylines of which a few write most, and summaries and bodies of the lengths
news sites publish (a sentence or two; three to eight paragraphs).
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect
from dataclasses import dataclass

# (display form, share of stories carrying it)
HOT_TAGS = (
    ("latest", 0.30), ("SouthKorea", 0.05), ("Economy", 0.05), ("Breaking", 0.03),
    ("Climate", 0.03), ("Japan", 0.025), ("China", 0.025), ("Shipping", 0.02),
    ("Elections", 0.02), ("서울", 0.01), ("東京", 0.008),
)  # fmt: skip
SPONSORED_TAG = "Sponsored"
TAIL_SIZE = 20_000
TAIL_EXPONENT = 1.07
# Tail tags per story, drawn uniformly from this list (mean 1.5).
TAIL_PER_STORY = (0, 1, 1, 2, 2, 3)
RARE_COUNT = 20
RARE_SHARE = 1 / 10_000  # of stories, for each rare tag
STAFF = 60

FIRST = (
    "Min-ji", "Wei", "Haruto", "Amara", "Lucía", "Ingrid", "Tunde", "Mai", "Saif", "Ji-ho",
    "Chen", "Yuki", "Kwame", "Sofia", "Mateo", "Leila", "Arjun", "Nadia", "Tomás", "Hana",
)  # fmt: skip
LAST = (
    "Park", "Chen", "Tanaka", "Okafor", "Quispe", "Berg", "Adeyemi", "Nguyen", "Rahman",
    "Kim", "Liu", "Sato", "Mensah", "Rossi", "Flores", "Haddad", "Iyer", "Novak", "Silva",
)  # fmt: skip
PLACES = (
    "Busan", "Incheon", "Seoul", "Osaka", "Nara", "Ningbo", "Rotterdam", "Lagos", "Lima",
    "Oslo", "Hanoi", "Manila", "Daejeon", "Sapporo", "Taipei", "Perth", "Quito", "Accra",
)  # fmt: skip
SUBJECTS = (
    "Port workers", "The city council", "Chipmakers", "The central bank", "Rail operators",
    "Fishing crews", "Startup founders", "Museum curators", "The national team", "Farmers",
    "Regulators", "Hospital staff", "A ferry company", "Opposition leaders", "Teachers",
    "Wind farm builders", "The airline", "The orchestra", "Coaches", "Residents",
)  # fmt: skip
VERBS = (
    "agree on", "push back against", "unveil", "delay", "approve", "rethink", "celebrate",
    "weigh", "cut", "expand", "reject", "launch", "review", "win", "postpone", "defend",
)  # fmt: skip
OBJECTS = (
    "new port fees", "a four-day week", "record exports", "a battery plant", "night trains",
    "the budget", "fishing quotas", "an AI lab", "a rare exhibition", "the cup final",
    "school lunches", "flood defences", "fare rises", "a merger", "festival plans",
    "rent controls", "a heat plan", "green shipping lanes", "a late-night market",
)  # fmt: skip
CLAUSES = (
    "talks would resume next month", "the plan had been years in the making",
    "costs had risen faster than expected", "the first results were encouraging",
    "nothing would change before the spring", "the vote was closer than forecast",
    "a second phase would follow", "local businesses had asked for it",
    "officials were still counting the damage", "the numbers surprised even insiders",
    "the decision could be appealed", "similar schemes had worked elsewhere",
)  # fmt: skip
WHEN = ("on Monday", "on Tuesday", "on Wednesday", "late on Thursday", "on Friday",
        "at the weekend", "this week", "in a statement", "at a briefing", "overnight")  # fmt: skip
SYLLABLES = (
    "ka", "ro", "mi", "ten", "sa", "lo", "vin", "da", "kor", "el", "an", "tu", "nes", "ba",
    "ri", "mar", "zo", "li", "pen", "ho", "ju", "quen", "ta", "vel", "su", "dor", "ne",
)  # fmt: skip
CAPTIONS = ("The scene on Monday.", "A view from the harbour.", "Preparations under way.")


@dataclass(frozen=True)
class Newsroom:
    """The invented staff, hashtags and text of one seed."""

    authors: tuple[str, ...]
    author_weights: tuple[float, ...]  # cumulative
    tail_tags: tuple[str, ...]
    tail_weights: tuple[float, ...]  # cumulative
    rare_tags: tuple[str, ...]
    sentences: tuple[str, ...]
    paragraphs: tuple[str, ...]  # each with its <p> element

    def author(self, rng: random.Random) -> str:
        return self.authors[bisect(self.author_weights, rng.random() * self.author_weights[-1])]

    def tail_tag(self, rng: random.Random) -> str:
        return self.tail_tags[bisect(self.tail_weights, rng.random() * self.tail_weights[-1])]

    def hashtags(self, rng: random.Random, sponsored: bool) -> list[str]:
        tags = [name for name, share in HOT_TAGS if rng.random() < share]
        tags.extend(self.tail_tag(rng) for _ in range(rng.choice(TAIL_PER_STORY)))
        if rng.random() < RARE_SHARE * len(self.rare_tags):
            tags.append(rng.choice(self.rare_tags))
        if sponsored:
            tags.append(SPONSORED_TAG)
        return list(dict.fromkeys(tags))

    def title(self, rng: random.Random) -> str:
        return (
            f"{rng.choice(SUBJECTS)} in {rng.choice(PLACES)} "
            f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        )

    def summary(self, rng: random.Random) -> str:
        return " ".join(rng.choices(self.sentences, k=1 if rng.random() < 0.33 else 2))

    def body(self, rng: random.Random, figure: str | None) -> str:
        parts = rng.choices(self.paragraphs, k=3 + int(rng.random() * 6))
        if figure is not None:
            parts.insert(1, figure)
        return "".join(parts)


def _cumulative(weights: list[float]) -> tuple[float, ...]:
    return tuple(itertools.accumulate(weights))


def _invented_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Distinct CamelCase words such as `Korvinda`, none of them in `taken` (by key)."""
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        if word.casefold() not in taken:
            taken.add(word.casefold())
            words.append(word)
    return words


def newsroom(seed: int) -> Newsroom:
    rng = random.Random(f"newsroom-{seed}")
    people = [f"{first} {last}" for first in FIRST for last in LAST]
    authors = rng.sample(people, STAFF)
    taken = {name.casefold() for name, _ in HOT_TAGS} | {SPONSORED_TAG.casefold()}
    tail = _invented_words(rng, TAIL_SIZE, taken)
    rare = [f"{word}{rng.randint(1990, 2030)}" for word in _invented_words(rng, RARE_COUNT, taken)]
    sentences = [
        f"{rng.choice(SUBJECTS)} in {rng.choice(PLACES)} said {rng.choice(WHEN)} that "
        f"{rng.choice(CLAUSES)}, and that {rng.choice(CLAUSES)}."
        for _ in range(2000)
    ]
    paragraphs = [
        f"<p>{' '.join(rng.sample(sentences, rng.randint(2, 5)))}</p>" for _ in range(600)
    ]
    return Newsroom(
        authors=tuple(authors),
        author_weights=_cumulative([1 / (rank + 1) ** 0.8 for rank in range(STAFF)]),
        tail_tags=tuple(tail),
        tail_weights=_cumulative([1 / (rank + 1) ** TAIL_EXPONENT for rank in range(TAIL_SIZE)]),
        rare_tags=tuple(rare),
        sentences=tuple(sentences),
        paragraphs=tuple(paragraphs),
    )
