"""The app under real WSGI servers, and wrk, for the serving benchmarks and the soak.

`app.py` (the checkout's `app = create_app()`) is the application; settings reach each
server process through `FEEDS_*` variables, so what runs is what an operator runs.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from feeds.settings import Settings
from tests.nginx_server import Background

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KNOWN_SETTINGS = {f.name for f in fields(Settings)}


def server_command(name: str, port: int, workers: int) -> list[str]:
    """The command line of each server compared; the README documents the fastest."""
    if name == "granian":
        return [
            str(BIN / "granian"), "--interface", "wsgi", "--workers", str(workers),
            "--respawn-failed-workers", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "app:app",
        ]  # fmt: skip
    if name == "gunicorn":
        return [
            str(BIN / "gunicorn"), "--workers", str(workers), "--worker-class", "gthread",
            "--threads", "8", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "app:app",
        ]  # fmt: skip
    raise ValueError(f"unknown server {name!r}")


def app_environment(**settings: object) -> dict[str, str]:
    """FEEDS_* variables for the given settings; ones this checkout lacks are left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    for name, value in settings.items():
        if name not in KNOWN_SETTINGS:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list | tuple):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        env[f"FEEDS_{name.upper()}"] = text
    return env


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str) -> None:
    # Start-up wait, not a measurement.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited at start with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within 60 s")


class Process(Background):
    """A command in the background (a WSGI server, the scheduler), waited for on its port."""

    def __init__(
        self, command: list[str], env: dict[str, str], name: str, port: int | None = None
    ) -> None:
        self.command, self.env, self.name, self.port = command, env, name, port

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL
        )
        if self.port is not None:
            wait_for_port(self.port, self.process, self.name)


def get(port: int, target: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", target, headers=headers or {})
        response = conn.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


@dataclass(frozen=True)
class Load:
    """What wrk reported for one run."""

    rate: float  # requests/s
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    output: str  # wrk's report, with whatever a script's done() printed


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    assert match, text
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    seconds: float,
    connections: int = 50,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    threads: int = 2,
) -> Load:
    """Run Debian's wrk against a 127.0.0.1 URL and read its report."""
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
        "--timeout", "10s",
    ]  # fmt: skip
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    total = re.search(r"(\d+) requests in", out)
    assert rate and p99 and total, out
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        rate=float(rate.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx_3xx=int(bad.group(1)) if bad else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        output=out,
    )


class Writer(threading.Thread):
    """POSTs articles to the API at a steady rate until stopped; counts the answers.

    Each write goes out on its own connection from a small pool, on schedule, so a slow
    answer does not lower the rate; `failed` holds every answer but 201 (with its status).
    """

    def __init__(
        self,
        port: int,
        token: str,
        per_second: float,
        article: Callable[[int], dict[str, Any]],
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.interval = port, token, 1.0 / per_second
        self.article = article
        self.stop = threading.Event()
        self.created = 0
        self.failures: list[str] = []
        self._lock = threading.Lock()

    @property
    def failed(self) -> int:
        return len(self.failures)

    def _post(self, n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                "POST",
                "/api/v1/articles",
                body=json.dumps(self.article(n)),
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
            )
            response = conn.getresponse()
            response.read()
            outcome = "" if response.status == 201 else f"status {response.status}"
        except OSError as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        with self._lock:
            if outcome:
                self.failures.append(outcome)
            else:
                self.created += 1

    def run(self) -> None:
        with ThreadPoolExecutor(max_workers=16) as pool:
            n = 0
            next_at = time.monotonic()
            while not self.stop.is_set():
                n += 1
                pool.submit(self._post, n)
                next_at += self.interval
                self.stop.wait(max(0.0, next_at - time.monotonic()))
