"""Start and stop a real ``nbtrack ui`` server in a child process (tests and benchmarks).

``start_ui(store_uri, ...)`` runs ``python -m nbtrack.cli --store URI ui --port P`` with this
checkout first on PYTHONPATH, waits for the line with the URL and returns a ``UiServer``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import nbtrack
from nbtrack import config

REPO_ROOT = Path(__file__).resolve().parents[2]
EVIL = "<img src=x onerror=alert(1)>"
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class UiServer:
    base: str  # http://127.0.0.1:PORT
    port: int
    token: str
    process: subprocess.Popen
    stdout_path: Path
    stderr_path: Path
    started_at: float  # time.perf_counter() just before the process started

    @property
    def url(self) -> str:
        """The page's URL with the token, as a teammate gets it."""
        return f"{self.base}/?token={self.token}"

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def errors(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def ui_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    for name in ("NBTRACK_STORE", "NBTRACK_READ_ONLY", "NBTRACK_UI_TOKEN", "JUPYTER_TOKEN"):
        env.pop(name, None)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def start_ui(store_uri: str, *args: str, token: str | None = None, port: int | None = None) -> Iterator[UiServer]:
    """A running ``nbtrack ui`` on ``store_uri`` (token given through $NBTRACK_UI_TOKEN, else generated)."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="nbtrack-ui-test-"))
    stdout_path, stderr_path = workdir / "stdout", workdir / "stderr"
    env = ui_environment({"NBTRACK_UI_TOKEN": token} if token else None)
    command = [sys.executable, "-m", "nbtrack.cli", "--store", store_uri, "ui", "--port", str(port), *args]
    started = time.perf_counter()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=workdir)
    server = UiServer(f"http://127.0.0.1:{port}", port, token or "", process, stdout_path, stderr_path, started)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "Ctrl-C" not in server.output():
            if process.poll() is not None:
                raise RuntimeError(f"nbtrack ui exited with {process.returncode}:\n"
                                   f"{server.output()}\n{server.errors()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nbtrack ui printed no URL in {START_TIMEOUT:.0f}s:\n{server.errors()}")
            time.sleep(0.05)
        if not token:
            match = re.search(r"open (http://\S+)", server.output())
            server.token = parse_qs(urlsplit(match.group(1)).query)["token"][0]
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def write_runs(uri: str, n: int = 12, experiment: str = "review") -> list[str]:
    """``n`` finished runs in ``uri``: lr and model vary, acc and val_loss over 3 steps; run 5 is
    named like an XSS payload."""
    nbtrack.set_store(uri)
    ids = []
    try:
        for i in range(n):
            name = EVIL if i == 5 else f"run-{i:02d}"
            with nbtrack.track(experiment, name=name,
                               params={"lr": [0.1, 0.01, 0.001][i % 3], "model": ["rf", "lin"][i % 2]}) as run:
                for step in range(3):
                    nbtrack.log_metrics({"acc": round(0.5 + i / 40 + step / 100, 4),
                                         "val_loss": round(1.0 - i / 20 - step / 100, 4)}, step=step)
                ids.append(run.run_id)
    finally:
        nbtrack.set_store(None)
        for key in [k for k in config._stores if k[0] == uri]:  # the server reads it; this process is done
            config._stores.pop(key).close()
    return ids


def screenshot(page, name: str) -> Path:
    """A PNG under test-artifacts/screenshots/ (copied to docs/images/ with NBTRACK_UPDATE_DOCS_IMAGES=1)."""
    folder = REPO_ROOT / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("NBTRACK_UPDATE_DOCS_IMAGES"):
        shutil.copyfile(path, REPO_ROOT / "docs" / "images" / f"{name}.png")
    return path
