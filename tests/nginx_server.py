"""Real nginx running config/nginx.example.conf, for the nginx test, the soak and the benches.

The example config is an include for nginx's `http {}` block with a few values an
operator changes (marked CHANGE in the file); `render_config` replaces exactly those and
fails if one is missing, so the file under test is the file operators copy. `Nginx`
wraps it in a minimal main config (pid, logs and temp paths in a folder of its own) and
runs Debian's nginx in the foreground.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "config" / "nginx.example.conf"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
INSTALL_HINT = "apt-get install nginx-light libnginx-mod-http-brotli-static (.ci/run installs them)"


class NginxMissing(RuntimeError):
    pass


def nginx_binary() -> str:
    """nginx from PATH or Debian's /usr/sbin, with the brotli_static module beside it."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if found is None:
        raise NginxMissing(f"nginx is not installed: {INSTALL_HINT}")
    if not BROTLI_MODULE.exists():
        raise NginxMissing(f"{BROTLI_MODULE} is missing: {INSTALL_HINT}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Site:
    """The values an operator fills into the example config."""

    port: int  # nginx listens on 127.0.0.1:port
    upstream: str  # host:port of the app
    publish_dir: Path
    public_url: str  # without the final slash
    hub: str  # the one hub feeds announce (the built-in one, by default)
    max_age: int
    archive_max_age: int = 86400


def _replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    if count != 1:
        raise ValueError(f"config/nginx.example.conf: expected {old!r} once, found {count}")
    return text.replace(old, new)


def render_config(site: Site, example: str | None = None) -> str:
    text = EXAMPLE_CONFIG.read_text() if example is None else example
    text = _replace_once(text, "listen 80;", f"listen 127.0.0.1:{site.port};")
    text = _replace_once(text, "server 127.0.0.1:8000;", f"server {site.upstream};")
    text = _replace_once(text, "root /srv/feeds/var/published;", f"root {site.publish_dir};")
    text = _replace_once(
        text,
        '<https://feeds.example.org/websub>; rel="hub", <https://feeds.example.org$request_uri>',
        f'<{site.hub}>; rel="hub", <{site.public_url}$request_uri>',
    )
    text = _replace_once(text, "default 300;", f"default {site.max_age};")
    return _replace_once(text, "1 86400;", f"1 {site.archive_max_age};")


def plain_config(port: int, root: Path) -> str:
    """nginx serving a folder with its defaults: the baseline the example config is held to."""
    return f"server {{ listen 127.0.0.1:{port}; root {root}; }}\n"


# `pcre_jit on` as README's nginx section asks of operators: the example config's
# regular expressions run compiled.
MAIN_CONFIG = """\
load_module {module};
pcre_jit on;
daemon off;
worker_processes {workers};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{extra}
    include {folder}/feeds.conf;
}}
"""


class Background:
    """A child process made by `start`, ended by `stop` (TERM, then KILL); a context manager."""

    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        raise NotImplementedError

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Nginx(Background):
    """nginx in the foreground with the rendered example config; a context manager."""

    def __init__(
        self,
        site: Site,
        folder: Path,
        workers: int = 1,
        extra_http: str = "",
        server_config: str | None = None,
    ) -> None:
        """`server_config` replaces the example config (a baseline such as `plain_config`)."""
        self.site = site
        self.folder = folder
        self.binary = nginx_binary()
        folder.mkdir(parents=True, exist_ok=True)
        config = render_config(site) if server_config is None else server_config
        (folder / "feeds.conf").write_text(config)
        # As root, workers would otherwise run as nobody and could not read a private
        # temporary folder.
        user = "user root;" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            MAIN_CONFIG.format(
                module=BROTLI_MODULE,
                workers=workers,
                folder=folder,
                user=user,
                extra=extra_http,
            )
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.site.port}"

    def start(self) -> None:
        args = [self.binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused the config:\n{check.stderr}")
        self.process = subprocess.Popen(args, stderr=subprocess.PIPE)
        # Waiting for the port is start-up, not a measurement: nothing asserts on time.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"nginx exited at start: {err}")
            try:
                socket.create_connection(("127.0.0.1", self.site.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen within 15 s")
