"""The dashboard in a real JupyterLab + headless Chromium, and the HTML report opened offline.

One notebook session: a cell creates runs (one named like an XSS payload), the next shows
``nbtrack.dashboard``; the test types a filter (and a bad one), sorts by a metric from its
header, selects two runs and checks the rows and the plotly figure in the page. Screenshots
go to ``test-artifacts/screenshots/`` (the best one is copied to docs/images/dashboard.png
when ``NBTRACK_UPDATE_DOCS_IMAGES=1``).
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest
from conftest import REPO_ROOT, SCREENSHOT_DIR, open_notebook, run_cell, save_screenshot

pytestmark = pytest.mark.browser

EVIL = "<img src=x onerror=alert(1)>"
EXPERIMENT = "dash-browser"
MAKE_RUNS = f"""
import nbtrack
for i in range(8):
    name = {EVIL!r} if i == 5 else f"run-{{i}}"
    with nbtrack.track({EXPERIMENT!r}, name=name,
                       params={{"lr": [0.1, 0.01, 0.001, 0.0001][i % 4], "model": ["rf", "lin"][i % 2]}}):
        for step in range(5):
            nbtrack.log_metrics({{"acc": round(0.6 + i / 40 + step / 50, 4),
                                 "val_loss": round(1.2 - i / 10 - step / 20, 4)}}, step=step)
print("made", nbtrack.count_runs({EXPERIMENT!r}), "runs")
"""
SHOW = f"board = nbtrack.dashboard({EXPERIMENT!r})\nboard"
TIMEOUT_MS = 60_000


def wait_until(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def column_texts(page, column: str) -> list[str]:
    return page.locator(f'.nbtrack-row:visible [data-column="{column}"]').all_inner_texts()


def test_dashboard_filter_sort_select_plot(browser_page, lab_server):
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_notebook(page, lab_server, "dashboard.ipynb", [MAKE_RUNS, SHOW])
    run_cell(page, 0)
    run_cell(page, 1)

    dashboard = page.locator(".nbtrack-dashboard")
    dashboard.wait_for(state="visible", timeout=TIMEOUT_MS)
    rows = page.locator(".nbtrack-row:visible")
    wait_until(lambda: rows.count() == 8, what="8 rows")
    # the run named like an XSS payload is text, not an element, and nothing ran
    names = column_texts(page, "name")
    assert EVIL in names
    assert page.locator('img[src="x"]').count() == 0
    page.locator(".nbtrack-plot .js-plotly-plot").first.wait_for(state="visible", timeout=TIMEOUT_MS)

    # a filter, typed and applied with Enter
    box = page.locator(".nbtrack-filter input")
    box.fill("params.model = 'rf'")
    box.press("Enter")
    wait_until(lambda: rows.count() == 4, what="4 rf rows")
    assert set(column_texts(page, "name")) == {"run-0", "run-2", "run-4", "run-6"}

    # a bad filter: its error and position inline, the rows stay
    box.fill("params.model = 'rf' and metrics.acc >> 1")
    box.press("Enter")
    error = page.locator(".nbtrack-filter-error")
    wait_until(lambda: "position" in error.inner_text(), what="the filter error")
    assert "at position 37" in error.inner_text() and rows.count() == 4
    box.fill("")
    box.press("Enter")
    wait_until(lambda: rows.count() == 8 and error.inner_text().strip() == "", what="all rows back")

    # sort by a metric from its header, then the other way
    header = page.locator("button.nbtrack-col-metrics-acc")
    header.click()
    wait_until(lambda: "▼" in header.inner_text(), what="descending arrow")

    def accs() -> list[float]:
        return [float(t) for t in column_texts(page, "metrics.acc")]

    wait_until(lambda: accs() == sorted(accs(), reverse=True) and len(accs()) == 8, what="acc descending")
    best_cell = page.locator('.nbtrack-row:visible [data-column="metrics.acc"] .nbtrack-best')
    assert best_cell.count() == 1 and float(best_cell.inner_text()) == max(accs())
    header.click()
    wait_until(lambda: "▲" in header.inner_text() and accs() == sorted(accs()), what="acc ascending")
    header.click()
    wait_until(lambda: accs() == sorted(accs(), reverse=True), what="acc descending again")

    # select the two best runs: the history plot shows exactly their curves
    chosen = column_texts(page, "name")[:2]
    for index in range(2):
        rows.nth(index).locator(".nbtrack-select input").check()
    wait_until(lambda: "2 selected" in page.locator(".nbtrack-selection").inner_text(), what="2 selected")
    plot = page.locator(".nbtrack-plot .js-plotly-plot")

    def legend() -> list[str]:
        return plot.locator(".legend .legendtext").all_text_contents()

    wait_until(lambda: len(legend()) == 2, what="two curves")
    assert [text.split(" (")[0] for text in legend()] == chosen
    assert plot.locator(".scatterlayer .trace").count() == 2
    save_screenshot(page, "dashboard-history-two-selected")

    # the bar chart of the same two runs
    page.locator(".nbtrack-plot-kind button", has_text="bar").click()
    # the page's bars, the two selected ones opaque (plots that select runs show the others too)
    wait_until(lambda: plot.locator(".barlayer .point").count() == 8, what="the page's bars")

    # compare the two selected runs side by side
    page.locator(".lm-TabBar-tab", has_text="Compare").first.click()
    compare = page.locator(".nbtrack-compare-html")
    wait_until(lambda: compare.locator("tr.nbtrack-differs").count() >= 2, what="differing rows")
    assert compare.locator('tr.nbtrack-differs[data-key="params.lr"]').count() == 1
    compare.scroll_into_view_if_needed()
    save_screenshot(page, "dashboard-compare")

    # the detail of the payload-named run shows its name as text
    evil_row = page.locator(".nbtrack-row:visible", has=page.locator('[data-column="name"]', has_text=EVIL))
    evil_row.locator(".nbtrack-open").click()
    detail = page.locator(".nbtrack-detail-html")
    wait_until(lambda: EVIL in detail.inner_text(), what="detail of the payload run")
    assert page.locator('img[src="x"]').count() == 0 and dialogs == []
    detail.scroll_into_view_if_needed()
    save_screenshot(page, "dashboard-detail")
    page.locator(".lm-TabBar-tab", has_text="Plots").first.click()
    bars = plot.locator(".barlayer .point")
    wait_until(lambda: bars.count() == 8 and bars.first.is_visible(), what="the bar chart back after switching tabs")
    # a tall viewport so the whole dashboard (table and plot) is on screen for the picture
    page.set_viewport_size({"width": 1400, "height": 1500})
    dashboard.scroll_into_view_if_needed()
    page.locator(".jp-Cell").nth(1).evaluate("cell => cell.scrollIntoView({block: 'start'})")
    wait_until(lambda: bars.first.is_visible(), what="the bars on screen")
    page.locator(".nbtrack-plot-kind button", has_text="history").click()
    wait_until(lambda: len(legend()) == 2 and plot.locator(".scatterlayer .trace").count() == 2,
               what="the two curves again")
    time.sleep(1.0)  # let plotly finish resizing before the picture
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOT_DIR / "dashboard.png"
    dashboard.screenshot(path=str(shot))
    if os.environ.get("NBTRACK_UPDATE_DOCS_IMAGES"):
        target = REPO_ROOT / "docs" / "images" / "dashboard.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def test_report_renders_offline_and_escaped(browser_page, tmp_path, monkeypatch):
    """The HTML report in Chromium with every network request refused."""
    sys.path.insert(0, str(REPO_ROOT))
    import nbtrack
    from nbtrack.dashboards.report import write_report

    monkeypatch.chdir(tmp_path)
    nbtrack.set_store(tmp_path / "report.db")
    try:
        for i in range(6):
            with nbtrack.track("offline", name=EVIL if i == 2 else f"r{i}",
                               params={"lr": 10 ** -i, "model": ["rf", "lin"][i % 2]}):
                for step in range(3):
                    nbtrack.log_metric("acc", 0.5 + i / 20 + step / 100, step=step)
        path = write_report("offline", tmp_path / "report.html")
    finally:
        nbtrack.set_store(None)
    page = browser_page
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def refuse(route):
        if not route.request.url.startswith("file://"):
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", refuse)
    page.goto(path.as_uri())
    page.locator(".js-plotly-plot").nth(3).wait_for(state="visible", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 4
    assert page.locator("tr.nbtrack-row").count() == 6
    assert EVIL in page.locator("table.nbtrack-table").inner_text()
    assert page.locator('img[src="x"]').count() == 0 and dialogs == [] and requests == []
    # the table sorts by a header click without any server
    headers = [page.locator("table.nbtrack-table th").nth(i).get_attribute("data-column")
               for i in range(page.locator("table.nbtrack-table th").count())]
    position = headers.index("metrics.acc") + 1
    page.locator('th[data-column="metrics.acc"]').click()
    values = [float(t) for t in page.locator(f"tr.nbtrack-row td:nth-child({position})").all_inner_texts()]
    assert values == sorted(values, reverse=True)
    save_screenshot(page, "report")
