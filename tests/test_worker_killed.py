"""A web worker killed with SIGKILL is replaced, and the server keeps answering.

A real granian with 2 workers, started with the README's command line, serves the app on
127.0.0.1 while a client polls the feed directory. Each original worker in turn is killed;
the master respawns it (`--respawn-failed-workers`: granian leaves a dead worker dead
otherwise). No request ever gets a 5xx; after each respawn every request answers 200.
Killing the second original worker after the first was replaced proves the replacement
serves. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.ingest_helpers import config_without_sources
from tests.test_ingest_leases import wait_for

GRANIAN = Path(sys.executable).parent / "granian"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def workers(master: int) -> set[int]:
    """The master's child processes (granian's workers), from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        # The name in parentheses may hold spaces; the parent pid follows the state.
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            found.add(int(entry.name))
    return found


def stop(server: subprocess.Popen[bytes]) -> None:
    """End granian and its workers; its shutdown sometimes waits on a respawned worker."""
    children = workers(server.pid)
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)
    for child in children:
        with contextlib.suppress(ProcessLookupError):  # it ended with its master
            os.kill(child, signal.SIGKILL)


def test_a_killed_web_worker_is_respawned_and_no_request_gets_a_5xx(database_url: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    env |= {
        "FEEDS_DATABASE_URL": database_url,
        "FEEDS_CONFIG_DIR": str(config_without_sources()),
        "FEEDS_LOAD_DEMO": "false",
        "FEEDS_SECRET_KEY": "test",
    }
    command = [
        str(GRANIAN), "--interface", "wsgi", "--factory", "--workers", "2",
        "--respawn-failed-workers", "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "feeds:create_app",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/feeds/"
    outcomes: list[int | str] = []  # every request in order: its status, or the error
    stopping = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=30) as client:
            while not stopping.is_set():
                try:
                    outcomes.append(client.get(url).status_code)
                except httpx.TransportError as error:
                    # Connections the dead worker held, or that the kernel hands to its
                    # listening socket before the replacement takes it over.
                    outcomes.append(type(error).__name__)

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=30).status_code == 200
        except httpx.TransportError:
            return False

    poller = threading.Thread(target=poll)
    try:
        wait_for(answers)
        wait_for(lambda: len(workers(server.pid)) == 2)
        originals = sorted(workers(server.pid))
        poller.start()
        for victim in originals:
            wait_for(lambda: outcomes[-20:] == [200] * 20)
            os.kill(victim, signal.SIGKILL)
            killed_at, before = time.monotonic(), len(outcomes)
            wait_for(lambda v=victim: v not in workers(server.pid))
            wait_for(lambda: len(workers(server.pid)) == 2)
            # The replacement serves: 100 requests in a row answered 200.
            wait_for(lambda n=before: outcomes[n:][-100:] == [200] * 100)
            recovered = time.monotonic() - killed_at
            window = outcomes[before:]
            failed = len([o for o in window if o != 200])
            assert server.poll() is None
            print(f"worker {victim} killed: served again in {recovered:.1f} s, "
                  f"{len(window)} requests meanwhile, {failed} dropped")  # fmt: skip
    finally:
        stopping.set()
        if poller.is_alive():
            poller.join(60)
        stop(server)
    # Never a 5xx: a request is answered by a live worker or not at all.
    assert {o for o in outcomes if isinstance(o, int)} == {200}
    print(f"{len(outcomes)} requests, {outcomes.count(200)} answered 200")
