"""What every benchmark shares: side-by-side rounds, ratio rows, and bench/RESULTS.md.

Each figure is a ratio to a baseline measured in the same run: the contenders take turns
(alternating rounds, so machine noise hits both alike) and the median of at least five
rounds of each is compared. A run appends one section to bench/RESULTS.md with the
machine, the command and a row per figure saying whether its target is met.
`BENCH_QUICK=1` makes every benchmark smaller (fewer rounds, smaller stores, shorter
loads) so that `make bench` finishes in under two minutes; its figures are marked quick.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ROUNDS = 5  # the least the medians are taken over, quick or not


def alternate(contenders: dict[str, Callable[[], float]], rounds: int = ROUNDS) -> dict[str, float]:
    """Median of each contender's figure over `rounds` turns taken in alternation.

    A contender returns one figure per call (seconds, requests/s, ...). The order within a
    round flips every round so neither side always runs on a warmer machine.
    """
    figures: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for n in range(max(rounds, ROUNDS)):
        for name in names if n % 2 == 0 else reversed(names):
            figures[name].append(contenders[name]())
    return {name: statistics.median(values) for name, values in figures.items()}


def timed(action: Callable[[], object], repeat: int = 1) -> float:
    """Seconds one call of `action` takes (the mean over `repeat` back-to-back calls)."""
    start = time.perf_counter()
    for _ in range(repeat):
        action()
    return (time.perf_counter() - start) / repeat


@dataclass(frozen=True)
class Row:
    what: str
    baseline: str
    figure: str  # the measured values, as read
    ratio: float | None  # figure / baseline (None for rows that are a bound, not a ratio)
    target: str  # e.g. ">= 0.20", "<= 1.2x", "<= 20 ms"
    met: bool

    def markdown(self) -> str:
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        verdict = "met" if self.met else "**missed**"
        return (
            f"| {self.what} | {self.baseline} | {self.figure} | {ratio} | {self.target} | "
            f"{verdict} |"
        )


def ratio_row(
    what: str,
    baseline: str,
    value: float,
    base: float,
    unit: str,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
) -> Row:
    ratio = value / base if base else float("inf")
    if at_least is not None:
        target, met = f">= {at_least:g}", ratio >= at_least
    else:
        assert at_most is not None
        target, met = f"<= {at_most:g}x", ratio <= at_most
    return Row(what, baseline, f"{value:.4g} vs {base:.4g} {unit}", ratio, target, met)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = ", load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu or platform.machine()}){memory}{load}; "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out


def report(title: str, rows: list[Row], notes: list[str] | None = None) -> str:
    """Print the section and append it to bench/RESULTS.md; return the text."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["python", *[a for a in sys.argv if a]])
    lines = [
        "",
        f"## {title} ({stamp}{', BENCH_QUICK=1' if QUICK else ''})",
        "",
        f"`{'BENCH_QUICK=1 ' if QUICK else ''}{command}` at {commit()}; machine: {machine()}.",
        "",
        "| what | baseline in the same run | figures (medians) | ratio | target | |",
        "|---|---|---|---|---|---|",
        *(row.markdown() for row in rows),
    ]
    if notes:
        lines += ["", *notes]
    text = "\n".join(lines) + "\n"
    print(text)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(text)
    return text
