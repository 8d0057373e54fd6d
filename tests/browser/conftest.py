"""Shared fixtures for real-browser tests: JupyterLab on localhost + headless Chromium.

Fixtures
- ``lab_server`` (session): a ``jupyter lab`` server in a temp dir. Attributes:
  ``.url`` (no trailing slash), ``.root`` (Path, the server's root_dir),
  ``.store_uri`` (the SQLite URI the kernels get as ``NBTRACK_STORE``),
  ``.log_path`` (server stdout/stderr).
- ``browser_page`` (function): a Playwright (sync API) page in Debian's Chromium,
  viewport 1400x900, a fresh browser context per test; Chromium is started per test module
  and stopped after it (a sync Playwright marks an asyncio loop running in the main thread).
- ``lab`` (function): ``LabPage(browser_page, lab_server)``, the helpers below bound.

Helpers (import with ``from conftest import open_notebook, run_cell, ...`` or use ``lab``)
- ``write_notebook(root, name, cells)``: create a notebook file (list of code sources).
- ``open_notebook(page, lab_server, name, cells=None)``: open it, wait for ``| Idle``.
- ``set_cell_source(page, index, source)``, ``run_cell(page, index, source=None)``:
  edit (without saving) and run a cell, waiting until its prompt shows a new count.
- ``run_palette_command(page, label)``: run a command through the command palette.
- ``cell_output_text(page, index)``, ``save_screenshot(page, name)`` (PNG under
  ``test-artifacts/screenshots/`` at the repo root).

Every browser test carries ``@pytest.mark.browser``. Without /usr/bin/chromium the
tests are skipped, except with ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_TIMEOUT = 90.0
KERNEL_IDLE_TIMEOUT_MS = 60_000
CELL_TIMEOUT_MS = 60_000

# Lab settings that keep the UI quiet and deterministic in tests.
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _missing(reason: str) -> None:
    """Skip locally; fail in CI, where the browser must be there."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- server


@dataclass
class LabServer:
    url: str
    root: Path
    store_uri: str
    base: Path
    log_path: Path
    process: subprocess.Popen

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/api/status", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f}s:\n{server.log_tail()}")


@contextlib.contextmanager
def start_lab_server(page_config: dict | None = None):
    """A ``jupyter lab`` server (which also serves Notebook 7) as the ``lab_server`` fixture
    gives it (also used by benchmarks/bench_labextension.py and bench_dashboard_browser.py);
    stopped and its directory removed on exit. ``page_config`` goes to
    ``labconfig/page_config.json`` (e.g. ``{"disabledExtensions": {"anywidget": True}}``)."""
    base = Path(tempfile.mkdtemp(prefix="nbtrack-lab-"))
    root = base / "root"
    dirs = {name: base / name for name in
            ("config", "runtime", "ipython", "app-settings", "user-settings", "workspaces", "store")}
    root.mkdir()
    for d in dirs.values():
        d.mkdir()
    (dirs["app-settings"] / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2))
    if page_config:
        (dirs["config"] / "labconfig").mkdir()
        (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    store_uri = f"sqlite:///{dirs['store'] / 'nbtrack.db'}"
    # The labextension built in this checkout (labextension/ -> nbtrack/labextension) wins
    # over an installed copy, so a `jlpm build:prod` is enough to test TypeScript changes.
    extra_path = base / "jupyter-path"
    built = REPO_ROOT / "nbtrack" / "labextension"
    if (built / "package.json").exists():
        (extra_path / "labextensions").mkdir(parents=True)
        (extra_path / "labextensions" / "nbtrack").symlink_to(built, target_is_directory=True)

    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["user-settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        NBTRACK_STORE=store_uri,
        JUPYTER_PATH=os.pathsep.join(
            p for p in (str(extra_path), env.get("JUPYTER_PATH", "")) if p),
        # Kernels import nbtrack from this checkout even without an install.
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
    )
    env.pop("JUPYTER_TOKEN", None)
    port = _free_port()
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.app_settings_dir={dirs['app-settings']}",
        f"--LabApp.user_settings_dir={dirs['user-settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
    ]
    log_path = base / "jupyter-lab.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", root, store_uri, base, log_path, proc)
    try:
        _wait_for_server(server, SERVER_START_TIMEOUT)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        if os.environ.get("NBTRACK_KEEP_LAB_DIR"):
            print(f"lab server dir kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_server():
    with start_lab_server() as server:
        yield server


# --------------------------------------------------------------------------- browser


# Module scope, not session: while a sync Playwright is open, Playwright marks its event loop as
# the main thread's running loop between calls (playwright/_impl/_greenlets.py, wait_for_future).
# Kept open for the session it broke every later asyncio.run() (tests/ui/test_ui_access.py) and
# every other sync Playwright started after it ("Sync API inside the asyncio loop"): tests/ui
# loads this fixture under its own name, which is a second Playwright.
@pytest.fixture(scope="module")
def _chromium():
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (python) is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(_chromium, request):
    context = _chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            try:
                save_screenshot(page, f"FAILED-{request.node.name}")
            except Exception:  # a screenshot must never hide the real failure
                pass
            print("browser console:\n" + "\n".join(console[-80:]))
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --------------------------------------------------------------------------- helpers


def wait_until(predicate, timeout: float = 20.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something true (returned); fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def save_screenshot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    path = SCREENSHOT_DIR / f"{safe}.png"
    page.screenshot(path=str(path))
    return path


def write_notebook(root: Path, name: str, cells: list[str] | None = None) -> Path:
    """Write a Python 3 notebook with one code cell per source (one empty cell if none)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (cells or [""])]
    path = Path(root) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def open_notebook(page, lab_server: LabServer, name: str, cells: list[str] | None = None):
    """Open ``name`` (created with ``cells`` if given or missing) and wait for ``| Idle``."""
    if cells is not None or not (lab_server.root / name).exists():
        write_notebook(lab_server.root, name, cells)
    # A fresh workspace per open: tabs restored from earlier tests would otherwise share
    # the page (and their cells and kernel status) with this notebook.
    workspace = f"t-{uuid.uuid4().hex[:12]}"
    page.goto(f"{lab_server.url}/lab/workspaces/{workspace}/tree/{name}")
    page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").first.wait_for(
        state="visible", timeout=KERNEL_IDLE_TIMEOUT_MS)
    wait_for_idle(page)
    return page


def wait_for_idle(page, timeout: int = KERNEL_IDLE_TIMEOUT_MS) -> None:
    """Wait for the status bar's kernel status to read ``| Idle``."""
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).first.wait_for(
        state="visible", timeout=timeout)


def wait_for_kernel_idle(lab_server: LabServer, name: str, timeout: float = 60.0) -> None:
    """Wait (through the REST API) until the notebook's session has an idle kernel.

    For pages without JupyterLab's status bar, e.g. Notebook 7.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{lab_server.url}/api/sessions", timeout=5) as r:
                sessions = json.loads(r.read())
        except (urllib.error.URLError, OSError, ValueError):
            sessions = []
        for session in sessions:
            kernel = session.get("kernel") or {}
            if session.get("path", "").endswith(name) and kernel.get("execution_state") == "idle":
                return
        time.sleep(0.25)
    raise AssertionError(f"no idle kernel for {name} within {timeout:.0f}s")


def cell(page, index: int):
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)


def set_cell_source(page, index: int, source: str) -> None:
    """Replace a cell's text in the editor (the file on disk is not saved)."""
    editor = cell(page, index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    # insert_text bypasses key handlers: no auto-closed brackets or auto-indent.
    page.keyboard.insert_text(source)


def _prompt(page, index: int) -> str:
    return (cell(page, index).locator(".jp-InputArea-prompt").inner_text() or "").strip()


def run_cell(page, index: int, source: str | None = None, timeout: int = CELL_TIMEOUT_MS):
    """Optionally set a cell's source, run it in place (Ctrl+Enter), wait for it to finish."""
    if source is not None:
        set_cell_source(page, index, source)
    before = _prompt(page, index)
    cell(page, index).locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    start = time.monotonic()
    deadline = start + timeout / 1000
    retries = 2
    while time.monotonic() < deadline:
        now = _prompt(page, index)
        if re.fullmatch(r"\[\d+\]:", now) and now != before:
            return cell(page, index)
        if now == "[ ]:" == before and retries and time.monotonic() - start > 8:
            # Never queued (the key went nowhere while the page settled): press again.
            retries -= 1
            start = time.monotonic()
            cell(page, index).locator(".cm-content").click()
            page.keyboard.press("Control+Enter")
        time.sleep(0.1)
    raise AssertionError(f"cell {index} did not finish in {timeout} ms (prompt {_prompt(page, index)!r})")


def cell_output_text(page, index: int) -> str:
    outputs = cell(page, index).locator(".jp-OutputArea-output")
    return "\n".join(outputs.all_inner_texts())


def run_palette_command(page, label: str) -> None:
    """Open the command palette, search ``label`` and run the active (first) match."""
    palette = page.locator("#modal-command-palette")
    field = palette.locator("input")
    page.keyboard.press("Control+Shift+c")
    try:
        field.wait_for(state="visible", timeout=5000)
    except Exception:  # the shortcut can go nowhere while Lab restores: use the menu
        page.keyboard.press("Escape")
        page.locator(".lm-MenuBar-itemLabel", has_text="View").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Command Palette").first.click()
        field.wait_for(state="visible", timeout=10_000)
    field.fill(label)
    # The palette re-renders whenever command states change, so a click can hit a detached
    # item: wait for the match to be the active one and press Enter instead.
    palette.locator(".lm-CommandPalette-item.lm-mod-active", has_text=label).wait_for(
        state="attached", timeout=10_000)
    page.keyboard.press("Enter")


class LabPage:
    """The helpers bound to one page and server, for tests that prefer a fixture."""

    def __init__(self, page, server: LabServer):
        self.page, self.server = page, server

    def open(self, name: str, cells: list[str] | None = None):
        return open_notebook(self.page, self.server, name, cells)

    def run_cell(self, index: int, source: str | None = None, timeout: int = CELL_TIMEOUT_MS):
        return run_cell(self.page, index, source, timeout)

    def set_cell_source(self, index: int, source: str) -> None:
        set_cell_source(self.page, index, source)

    def cell(self, index: int):
        return cell(self.page, index)

    def output_text(self, index: int) -> str:
        return cell_output_text(self.page, index)

    def screenshot(self, name: str) -> Path:
        return save_screenshot(self.page, name)


@pytest.fixture
def lab(browser_page, lab_server) -> LabPage:
    return LabPage(browser_page, lab_server)
