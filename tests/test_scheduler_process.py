"""`feeds scheduler` as its own process: it ingests, and serves its own metrics."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import CONFIG, FakeClock, make_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def entries(atom: Path) -> int:
    try:
        return atom.read_bytes().count(b"<entry")
    except FileNotFoundError:
        return 0


def test_scheduler_process_ingests_and_serves_metrics(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    make_app(database_url, clock)  # migrated, config applied
    port = free_port()
    env = {
        **os.environ,
        "FEEDS_DATABASE_URL": database_url,
        "FEEDS_CONFIG_DIR": str(CONFIG),
        "FEEDS_LOAD_DEMO": "false",
        "FEEDS_SCHEDULER_METRICS_PORT": str(port),
        "FEEDS_SECRET_KEY": "test",
        "FEEDS_PUBLISH_DIR": str(tmp_path / "published"),
    }
    env.pop("FEEDS_TEST_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "feeds", "scheduler"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    published = tmp_path / "published" / "feeds" / "all.atom"
    try:
        text = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if 'feeds_ingest_items_total{kind="new"} 5.0' in text and entries(published) == 5:
                break
            time.sleep(0.2)
        # The demo wire source (five stories) was ingested by this process's first tick.
        assert 'feeds_ingest_items_total{kind="new"} 5.0' in text
        assert "feeds_ingest_fetch_seconds_count" in text
        # ... and published the feeds it changed.
        assert entries(published) == 5
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
