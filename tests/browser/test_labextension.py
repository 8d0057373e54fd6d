"""The nbtrack labextension in a real JupyterLab + headless Chromium.

One notebook session covers the channel end to end: the live (unsaved) notebook reaches
the kernel before the %%track cell runs (checked on the kernel websocket's frames and in
the stored snapshot), the badge appears and survives save + reload, the Runs panel lists
the run, the details dialog renders run strings as text, and the palette's dashboard
command inserts and runs a cell. A second test runs the same path in Notebook 7 (skipped
when the `notebook` package is not installed).
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from conftest import (
    cell,
    cell_output_text,
    open_notebook,
    run_cell,
    run_palette_command,
    save_screenshot,
    set_cell_source,
    wait_for_idle,
    wait_for_kernel_idle,
    write_notebook,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "lab_track.ipynb"
SAVED_TRACK_CELL = "%%track experiment=lab\nprint('saved version')"
UNSAVED_TRACK_CELL = (
    "%%track experiment=lab\n"
    "import nbtrack\n"
    "nbtrack.log_param('label', '<b>bold</b>')\n"
    "nbtrack.log_metric('acc', 0.875)\n"
    "print('unsaved edit 42')"
)
TIMEOUT_MS = 60_000


class ShellFrames:
    """Kernel websocket frames sent by the page, in order (JSON or v1 binary protocol)."""

    def __init__(self, page):
        self.frames: list[bytes] = []
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws):
        if "/api/kernels/" in ws.url:
            ws.on("framesent", self._on_frame)

    def _on_frame(self, payload):
        self.frames.append(payload.encode() if isinstance(payload, str) else bytes(payload))

    def index(self, *needles: bytes) -> int:
        for i, frame in enumerate(self.frames):
            if all(n in frame for n in needles):
                return i
        return -1


def badge(page, index: int):
    return cell(page, index).locator(".nbtrack-badge")


def wait_for_badge(page, index: int, text: str):
    b = badge(page, index)
    b.wait_for(state="visible", timeout=TIMEOUT_MS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while text not in (b.text_content() or "") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert text in (b.text_content() or ""), b.text_content()
    return b


def test_track_cell_live_snapshot_badge_runs_panel(browser_page, lab_server):
    import nbtrack

    page = browser_page
    frames = ShellFrames(page)
    path = lab_server.root / NOTEBOOK
    open_notebook(page, lab_server, NOTEBOOK, ["%load_ext nbtrack", SAVED_TRACK_CELL, ""])
    track_cell_id = nbformat.read(str(path), as_version=4).cells[1].id

    run_cell(page, 0)
    assert "Error" not in cell_output_text(page, 0)

    # Edit the %%track cell without saving, then run it.
    set_cell_source(page, 1, UNSAVED_TRACK_CELL)
    run_cell(page, 1)
    assert "unsaved edit 42" in cell_output_text(page, 1)
    assert "unsaved edit 42" not in path.read_text(), "the edit must not be on disk"

    # Ordering on the wire: cell_scheduled (with the unsaved source) before execute_request.
    cell_id = track_cell_id.encode()
    scheduled = frames.index(b'"cell_scheduled"', cell_id, b"unsaved edit 42")
    executed = frames.index(b'"execute_request"', b"unsaved edit 42")
    assert scheduled >= 0, "no cell_scheduled frame was sent"
    assert executed >= 0, "no execute_request frame was seen"
    assert scheduled < executed, (scheduled, executed)

    # The badge: run id prefix, status and headline metric.
    b = wait_for_badge(page, 1, "FINISHED")
    run_id = b.get_attribute("data-run-id")
    assert run_id and run_id[:8] in b.text_content()
    assert "acc=0.875" in b.text_content()
    save_screenshot(page, "labextension-badge")

    # The stored run holds the live notebook, unsaved edit included.
    nbtrack.set_store(lab_server.store_uri)
    record = nbtrack.get_run(run_id)
    assert record.experiment == "lab"
    assert record.tags.get("nbtrack.cell") == track_cell_id
    assert record.tags.get("nbtrack.notebook", "").endswith(NOTEBOOK)
    document = record.document("notebook")
    assert document["source"] == "live", document
    assert "unsaved edit 42" in record.artifact("notebook.py").read_text()

    # The Runs panel lists the run.
    page.locator('.jp-SideBar.jp-mod-left [data-id="nbtrack-runs-panel"]').click()
    item = page.locator(f'#nbtrack-runs-panel .nbtrack-run[data-run-id="{run_id}"]')
    item.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "FINISHED" in item.inner_text() and "acc=0.875" in item.inner_text()

    # It refreshes by itself when a run finishes, newest first.
    run_cell(page, 1)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        newest = badge(page, 1).get_attribute("data-run-id")
        if newest != run_id and "FINISHED" in (badge(page, 1).text_content() or ""):
            break
        time.sleep(0.1)
    assert newest != run_id
    items = page.locator("#nbtrack-runs-panel .nbtrack-run")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while items.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [items.nth(i).get_attribute("data-run-id") for i in range(items.count())] == [
        newest, run_id]
    run_id = newest
    save_screenshot(page, "labextension-runs-panel")

    # The badge opens the run's details; run strings are text, never HTML.
    badge(page, 1).click()
    dialog = page.locator(".jp-Dialog .nbtrack-details")
    dialog.locator(".nbtrack-details-table").first.wait_for(timeout=TIMEOUT_MS)
    assert run_id in dialog.inner_text() and "0.875" in dialog.inner_text()
    assert "<b>bold</b>" in dialog.inner_text()
    assert dialog.locator("b").count() == 0
    save_screenshot(page, "labextension-run-details")
    page.locator(".jp-Dialog .jp-mod-accept").click()

    # "nbtrack: Open dashboard" inserts a nbtrack.dashboard() cell below and runs it.
    cell(page, 1).locator(".jp-InputPrompt").click()
    run_palette_command(page, "nbtrack: Open dashboard")
    inserted = cell(page, 2)
    inserted.get_by_text("nbtrack.dashboard()").wait_for(timeout=TIMEOUT_MS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        prompt = inserted.locator(".jp-InputArea-prompt").inner_text().strip()
        if re.fullmatch(r"\[\d+\]:", prompt):
            break
        time.sleep(0.2)
    assert re.fullmatch(r"\[\d+\]:", prompt), prompt
    assert "Traceback" not in cell_output_text(page, 2)
    save_screenshot(page, "labextension-dashboard-command")

    # Save, reload: the badge comes back from the cell metadata.
    cell(page, 1).locator(".jp-InputPrompt").click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.keyboard.press("Control+s")
        time.sleep(1)
        saved = nbformat.read(str(path), as_version=4)
        if saved.cells[1].metadata.get("nbtrack", {}).get("status") == "FINISHED":
            break
    meta = saved.cells[1].metadata.get("nbtrack")
    assert meta and meta["run_id"] == run_id and meta["headline"]["key"] == "acc", meta
    page.reload()
    cell(page, 0).wait_for(timeout=TIMEOUT_MS)
    wait_for_idle(page)
    assert run_id[:8] in wait_for_badge(page, 1, "FINISHED").text_content()


def test_notebook7_live_snapshot_and_badge(browser_page, lab_server):
    """The same extension in Notebook 7 (served by the same server when `notebook` is installed)."""
    import urllib.error
    import urllib.request

    pytest.importorskip("notebook", reason="Notebook 7 is not installed (pip install 'notebook>=7')")
    import nbtrack

    name = "nb7_track.ipynb"
    path = lab_server.root / name
    write_notebook(lab_server.root, name, ["%load_ext nbtrack", SAVED_TRACK_CELL])
    try:
        urllib.request.urlopen(f"{lab_server.url}/notebooks/{name}", timeout=10)
    except urllib.error.HTTPError as exc:
        pytest.skip(f"this server does not serve Notebook 7 pages ({exc.code})")

    page = browser_page
    page.goto(f"{lab_server.url}/notebooks/{name}")
    cell(page, 1).wait_for(timeout=TIMEOUT_MS)
    wait_for_kernel_idle(lab_server, name)
    run_cell(page, 0)
    set_cell_source(page, 1, UNSAVED_TRACK_CELL)
    run_cell(page, 1)
    b = wait_for_badge(page, 1, "FINISHED")
    run_id = b.get_attribute("data-run-id")
    assert "acc=0.875" in b.text_content()
    assert "unsaved edit 42" not in path.read_text()
    nbtrack.set_store(lab_server.store_uri)
    record = nbtrack.get_run(run_id)
    assert record.document("notebook")["source"] == "live"
    assert "unsaved edit 42" in record.artifact("notebook.py").read_text()

    run_palette_command(page, "nbtrack: Show runs")
    page.locator(f'#nbtrack-runs-panel .nbtrack-run[data-run-id="{run_id}"]').wait_for(
        timeout=TIMEOUT_MS)
    save_screenshot(page, "notebook7-badge-runs-panel")
