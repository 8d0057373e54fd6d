"""Serve the read-only dashboard with Voilà: settings, token, configuration, ``serve()``.

Each page visit starts a kernel (this Python, a clean IPython profile) that runs one hidden
cell, ``nbtrack.ui.page.show()``; the browser talks to it only through widget comms (Voilà
accepts nothing else from a page: no code runs on request). The server binds 127.0.0.1 unless
told otherwise, and every request needs the token (in the URL once, then a cookie).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from ..store.readonly import READ_ONLY_ENV
from .page import EXPERIMENTS_ENV, FILTER_ENV

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866  # Voilà's; the next free one is taken when it is busy and --port was not given
PORT_TRIES = 50
TOKEN_ENV = "NBTRACK_UI_TOKEN"
MIN_TOKEN_LENGTH = 16
KERNEL_NAME = "nbtrack-ui"
NOTEBOOK_NAME = "nbtrack.ipynb"
# The page's JavaScript: Voilà's and ipywidgets' widget managers, anywidget (the run table and
# plotly's FigureWidget) and plotly's renderer (figures logged as artifacts). Other installed
# JupyterLab extensions, written for a notebook editor, are not loaded.
PAGE_EXTENSIONS = ["@voila-dashboards/widgets-manager8", "@jupyter-widgets/jupyterlab-manager", "anywidget",
                   "jupyterlab-plotly"]
# The page loads nothing from elsewhere and sends nothing elsewhere (Voilà's template links a
# CDN stylesheet: refused); scripts need inline code, eval and blob: modules (anywidget, plotly).
PAGE_HEADERS = {
    "Content-Security-Policy": "; ".join((
        "default-src 'self'", "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob: data:",
        "style-src 'self' 'unsafe-inline' blob: data:", "img-src 'self' data: blob:", "font-src 'self' data:",
        "connect-src 'self' ws: wss:", "frame-ancestors 'self'", "base-uri 'self'", "form-action 'self'")),
    "Referrer-Policy": "no-referrer",  # the token in the URL goes nowhere else
    "X-Content-Type-Options": "nosniff",
}
# A kernel no page is connected to (the tab was closed) is shut down after this many idle seconds;
# one a page is connected to is never culled. (Voilà's own shutdown on closing the tab is refused
# for a visit that came with ?token=: it lacks the _xsrf cookie.)
IDLE_KERNEL_TIMEOUT = 300
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass
class UiSettings:
    """What ``nbtrack ui`` serves and where."""

    store_uri: str
    experiments: list[str] = field(default_factory=list)
    filter: str | None = None
    host: str = DEFAULT_HOST
    port: int | None = None
    token: str | None = None


def resolve_token(token: str | None) -> tuple[str, bool]:
    """The token to require, and whether it was generated (``--token``, else $NBTRACK_UI_TOKEN, else new)."""
    given = token if token is not None else os.environ.get(TOKEN_ENV)
    if given is None:
        return secrets.token_urlsafe(32), True
    if not given.strip():
        raise ValueError("the token cannot be empty: the page is protected by one. Leave --token out "
                         "to get a generated one")
    return given, False


def page_url(host: str, port: int, token: str | None = None) -> str:
    """``http://host:port/`` (with ``?token=`` when given); a wildcard host shows this machine's name."""
    shown = socket.gethostname() if host in ("", "0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    query = f"?token={quote(token, safe='')}" if token else ""
    return f"http://{shown}:{port}/{query}"


def _free(host: str, port: int) -> bool:
    bind_host = "" if host in ("0.0.0.0", "::") else host
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((bind_host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def pick_port(host: str, wanted: int | None) -> int:
    """``wanted`` if it is free (else an error saying so), or the first free port from 8866."""
    if wanted is not None:
        if not _free(host, wanted):
            raise OSError(f"port {wanted} on {host} is taken (or needs privileges): choose another with --port, "
                          "or leave --port out for the first free one")
        return wanted
    for port in range(DEFAULT_PORT, DEFAULT_PORT + PORT_TRIES):
        if _free(host, port):
            return port
    raise OSError(f"no free port in {DEFAULT_PORT}-{DEFAULT_PORT + PORT_TRIES - 1}: choose one with --port")


def check_store(settings: UiSettings) -> int:
    """Open the store read-only as the page's kernels will; returns how many runs the page starts
    with (a bad filter or an unreachable store fails here, before anything is served)."""
    from ..store.query import count_runs
    from ..store.sql import SqlStore

    store = SqlStore(settings.store_uri, read_only=True)
    try:
        return count_runs(store, settings.experiments or None, settings.filter or None)
    finally:
        store.close()


def write_page_files(workdir: Path) -> Path:
    """The page's notebook (one hidden cell) and the kernel spec it names; returns the notebook."""
    import nbformat

    spec_dir = workdir / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "nbtrack ui", "language": "python", "metadata": {"debugger": False}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    (workdir / "ipython").mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "nbtrack ui", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("from nbtrack.ui.page import show\nshow();")]
    path = workdir / "pages" / NOTEBOOK_NAME
    path.parent.mkdir()
    nbformat.write(notebook, path)
    return path


def kernel_environment(settings: UiSettings, workdir: Path) -> dict[str, str]:
    """What the page's kernels find in their environment (Voilà hands them the server's)."""
    jupyter_path = os.pathsep.join(p for p in (str(workdir / "jupyter"), os.environ.get("JUPYTER_PATH", "")) if p)
    return {
        "NBTRACK_STORE": settings.store_uri,
        READ_ONLY_ENV: "1",
        EXPERIMENTS_ENV: json.dumps(settings.experiments),
        FILTER_ENV: settings.filter or "",
        "JUPYTER_PATH": jupyter_path,
        "IPYTHONDIR": str(workdir / "ipython"),
    }


def voila_config(notebook: Path, host: str, port: int, token: str) -> Any:
    """The Voilà configuration: bound to ``host``, token required, nothing served but the page."""
    from traitlets.config import Config

    config = Config()
    config.Voila.notebook_path = str(notebook)
    config.Voila.root_dir = str(notebook.parent)
    config.Voila.config_file_paths = []  # no voila.json from the working directory can loosen this
    config.Voila.ip = host
    config.Voila.port = port
    config.Voila.port_retries = 0
    config.Voila.open_browser = False
    config.Voila.token = token
    config.Voila.log_level = "WARN"
    config.Voila.tornado_settings = {"headers": dict(PAGE_HEADERS)}
    config.VoilaConfiguration.file_allowlist = []  # /voila/files/ serves nothing
    config.VoilaConfiguration.extension_allowlist = list(PAGE_EXTENSIONS)
    config.VoilaConfiguration.show_tracebacks = False
    config.VoilaConfiguration.strip_sources = True
    config.KernelManager.transport = "ipc"  # kernel sockets are files only this user can open
    config.MappingKernelManager.cull_idle_timeout = IDLE_KERNEL_TIMEOUT
    config.MappingKernelManager.cull_interval = 60
    config.MappingKernelManager.cull_connected = False
    return config


class _QuietTrust(logging.Filter):
    """Drops 'Notebook nbtrack.ipynb is not trusted': the page's notebook is ours, its outputs fresh."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "is not trusted" not in record.getMessage()


def _voila_app() -> Any:
    from ..errors import MissingDependencyError

    try:
        from voila.app import Voila
    except ImportError as error:
        raise MissingDependencyError("voila", "ui", "nbtrack ui", detail=str(error)) from None
    return Voila


def serve(settings: UiSettings, out: TextIO | None = None) -> int:
    """Serve the read-only dashboard until interrupted (Ctrl-C or SIGTERM); returns 0.

    Checks the store first (read-only, as the page will), then prints the URL with its token.
    """
    from ..store.sql import redact_uri

    out = out or sys.stdout
    voila = _voila_app()
    token, generated = resolve_token(settings.token)
    runs = check_store(settings)
    port = pick_port(settings.host, settings.port)
    workdir = Path(tempfile.mkdtemp(prefix="nbtrack-ui-"))
    try:
        notebook = write_page_files(workdir)
        os.environ.update(kernel_environment(settings, workdir))
        os.environ.pop(TOKEN_ENV, None)  # the kernels need not know it
        app = voila(config=voila_config(notebook, settings.host, port, token))
        app.initialize([])
        app.log.addFilter(_QuietTrust())

        def announce() -> None:  # runs once the server listens
            url = page_url(settings.host, port, token if generated else None)
            lines = [f"nbtrack ui: {runs:,} runs in {redact_uri(settings.store_uri)}, read-only",
                     f"  open {url}" if generated else f"  open {url}?token=…  (the token you gave)"]
            if settings.host not in LOOPBACK:
                lines.append(f"  listening on {settings.host}: anyone who can reach this machine and has the "
                             "link can browse these runs, over plain HTTP (put TLS in front, or use an SSH tunnel)")
            if not generated and len(token) < MIN_TOKEN_LENGTH:
                lines.append(f"  warning: a token shorter than {MIN_TOKEN_LENGTH} characters is easy to guess")
            lines.append("  Ctrl-C stops the server")
            print("\n".join(lines), file=out, flush=True)

        import tornado.ioloop

        tornado.ioloop.IOLoop.current().add_callback(announce)
        app.start()  # returns when stopped; Voilà shuts its kernels down
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
