"""The dashboard in a real JupyterLab + headless Chromium (and Notebook 7), and the HTML report
opened offline.

- A small store: a filter (and a bad one), sort from a header, select two runs, the plotly
  figure, compare and detail, a run named like an XSS payload rendered as text.
- 10,000 runs: the rows show, a filter on a misspelt key suggests the right one, sort, next
  page, header and body stay aligned when the table scrolls both ways, a column resizes and
  hides, and the labextension's Runs panel keeps its own status colours.
- Notebook 7: the table renders, nested runs sit under their parent and fold.

Screenshots go to ``test-artifacts/screenshots/`` (the best one is copied to
docs/images/dashboard.png when ``NBTRACK_UPDATE_DOCS_IMAGES=1``).
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest
from conftest import (
    REPO_ROOT,
    SCREENSHOT_DIR,
    cell,
    open_notebook,
    run_cell,
    save_screenshot,
    start_lab_server,
    wait_for_kernel_idle,
    wait_until,
    write_notebook,
)
from runstore import build_store

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


# --------------------------------------------------------------------------- 10,000 runs

def visible_ids(page) -> list[str]:
    return page.locator(".nbtrack-runtable tr.nbtrack-row:visible").evaluate_all(
        "rows => rows.map(row => row.dataset.runId)")


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, "element not rendered"
    return found


def test_ten_thousand_runs_filter_typo_sort_page_scroll_and_the_runs_panel(browser_page, lab_server, tmp_path):
    import nbtrack

    db = tmp_path / "many.db"
    build_store(db, 10_000, "bench", steps=1)
    nbtrack.set_store(db)

    def expected(filter=None, order="start_time DESC", page=0) -> list[str]:
        frame = nbtrack.runs("bench", filter, order_by=order, max_results=25, offset=25 * page)
        return frame["run_id"].tolist()

    page = browser_page
    open_notebook(page, lab_server, "many.ipynb", [
        f"%load_ext nbtrack\nimport nbtrack\nnbtrack.set_store({str(db)!r})",
        "%%track experiment=lab\nx = 1",
        "board = nbtrack.dashboard('bench')\nboard"])
    for index in range(3):
        run_cell(page, index)
    table = page.locator(".nbtrack-runtable")
    table.wait_for(state="visible", timeout=TIMEOUT_MS)
    wait_until(lambda: visible_ids(page) == expected(), what="the newest 25 of 10,000 runs")
    pager = table.locator(".nbtrack-pager")
    wait_until(lambda: "10,000 runs" in pager.inner_text(), what="the total (counted after the rows show)")
    page.wait_for_timeout(5500)  # past the delay after which a frontend without the table shows its copy
    assert page.locator(".nbtrack-static-fallback").count() == 1
    assert not page.locator(".nbtrack-static-fallback").is_visible()

    # a misspelt key: says no run has it, offers the closest, one click fixes the filter
    box_input = table.locator(".nbtrack-filter input")
    box_input.fill("metrics.acuracy > 0.8")
    box_input.press("Enter")
    hint = table.locator(".nbtrack-filter-hint")
    wait_until(lambda: "no run has metrics.acuracy" in hint.inner_text(), what="the unknown-key hint")
    assert "did you mean metrics.acc?" in hint.inner_text() and visible_ids(page) == []
    assert "no runs match" in table.locator(".nbtrack-empty").inner_text()
    save_screenshot(page, "dashboard-unknown-key")
    hint.locator("button.nbtrack-suggestion", has_text="metrics.acc").click()
    wanted = "metrics.acc > 0.8"
    assert len(expected(wanted)) == 25
    wait_until(lambda: visible_ids(page) == expected(wanted), what="the corrected filter's rows")
    assert box_input.input_value() == wanted and not hint.is_visible()
    total = f"{nbtrack.count_runs('bench', wanted):,} runs"
    wait_until(lambda: total in pager.inner_text(), what="the filtered total")

    # sort by a metric (best first), then the next page
    table.locator("button.nbtrack-col-metrics-loss").click()  # lower is better: ascending first
    wait_until(lambda: visible_ids(page) == expected(wanted, "metrics.loss ASC"), what="loss ascending")
    assert "▲" in table.locator("button.nbtrack-col-metrics-loss").inner_text()
    table.locator(".nbtrack-next").click()
    wait_until(lambda: visible_ids(page) == expected(wanted, "metrics.loss ASC", 1), what="page 2")
    assert table.locator(".nbtrack-page-input").input_value() == "2"

    # scrolling right: the header moves with the body, the rightmost column can be reached,
    # the tick box and name columns stay; scrolling down: the header stays on top
    scroller = table.locator(".nbtrack-scroll")
    columns = table.locator("thead th[data-column]").evaluate_all("ths => ths.map(th => th.dataset.column)")
    assert len(columns) >= 16 and columns[-1] == "metrics.loss"
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth"), "19 columns should not fit in 1,400 px"
    first_row = table.locator("tr.nbtrack-row").first
    name_before = box(first_row.locator('td[data-column="name"]'))
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    page.wait_for_timeout(200)
    view = box(scroller)
    for column in ("metrics.loss", "metrics.f1", "params.p8"):
        head, body = box(table.locator(f'thead th[data-column="{column}"]')), \
            box(first_row.locator(f'td[data-column="{column}"]'))
        assert abs(head["x"] - body["x"]) < 1 and abs(head["width"] - body["width"]) < 1, column
    last = box(table.locator('thead th[data-column="metrics.loss"]'))
    assert view["x"] <= last["x"] and last["x"] + last["width"] <= view["x"] + view["width"] + 1
    name_after = box(first_row.locator('td[data-column="name"]'))
    assert abs(name_after["x"] - name_before["x"]) < 1  # the name column is sticky
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    page.wait_for_timeout(200)
    assert abs(box(table.locator('thead th[data-column="name"]'))["y"] - box(scroller)["y"]) < 2
    save_screenshot(page, "dashboard-scrolled")
    scroller.evaluate("el => { el.scrollLeft = 0; el.scrollTop = 0; }")

    # drag a header's edge: the column widens, header and cells together; × hides a column
    head = table.locator('thead th[data-column="params.model"]')
    head.scroll_into_view_if_needed()
    before = box(head)
    grip = box(head.locator(".nbtrack-resize"))
    page.mouse.move(grip["x"] + 2, grip["y"] + 5)
    page.mouse.down()
    page.mouse.move(grip["x"] + 82, grip["y"] + 5, steps=4)
    page.mouse.up()
    wait_until(lambda: box(head)["width"] > before["width"] + 70, what="a wider column")
    assert abs(box(head)["width"] - box(first_row.locator('td[data-column="params.model"]'))["width"]) < 1
    head.hover()
    head.locator(".nbtrack-hide").click()
    wait_until(lambda: table.locator('thead th[data-column="params.model"]').count() == 0, what="the column hidden")
    assert first_row.locator('td[data-column="params.model"]').count() == 0

    # the labextension's Runs panel keeps its own colours with the dashboard on the page
    page.locator('.jp-SideBar.jp-mod-left [data-id="nbtrack-runs-panel"]').click()
    label = page.locator("#nbtrack-runs-panel .nbtrack-status").first
    label.wait_for(state="visible", timeout=TIMEOUT_MS)
    colours = label.evaluate("""el => {
        const style = getComputedStyle(el);
        let node = el, background = 'rgba(0, 0, 0, 0)';
        while (node && background === 'rgba(0, 0, 0, 0)') {
            background = getComputedStyle(node).backgroundColor; node = node.parentElement;
        }
        return [style.color, background];
    }""")
    assert colours[0] != colours[1] and colours[0] != "rgb(255, 255, 255)", colours
    save_screenshot(page, "dashboard-with-runs-panel")


# --------------------------------------------------------------------------- Notebook 7

def test_notebook7_renders_the_table_with_nested_runs(browser_page, lab_server, tmp_path):
    import urllib.error
    import urllib.request

    pytest.importorskip("notebook", reason="Notebook 7 is not installed (pip install 'notebook>=7')")
    db = tmp_path / "nested.db"
    build_store(db, 30, "sweep", nested_every=10)  # runs 0, 10, 20 are parents of the next two
    name = "nb7_dashboard.ipynb"
    write_notebook(lab_server.root, name, [f"import nbtrack\nnbtrack.set_store({str(db)!r})\n"
                                            "board = nbtrack.dashboard('sweep')\nboard"])
    try:
        urllib.request.urlopen(f"{lab_server.url}/notebooks/{name}", timeout=10)
    except urllib.error.HTTPError as exc:
        pytest.skip(f"this server does not serve Notebook 7 pages ({exc.code})")
    page = browser_page
    page.goto(f"{lab_server.url}/notebooks/{name}")
    cell(page, 0).wait_for(timeout=TIMEOUT_MS)
    wait_for_kernel_idle(lab_server, name)
    run_cell(page, 0)
    table = page.locator(".nbtrack-runtable")
    table.wait_for(state="visible", timeout=TIMEOUT_MS)
    rows = table.locator("tr.nbtrack-row:visible")
    wait_until(lambda: rows.count() == 30, what="24 top-level runs and 6 nested ones")
    assert "24 top-level runs" in table.locator(".nbtrack-status-line").inner_text()
    names = column_texts(page, "name")  # "▾" folds a parent's nested runs, "└" marks a nested run
    parent = names.index("▾run-000020")
    assert names[parent + 1:parent + 3] == ["└ run-000022", "└ run-000021"]
    nested = table.locator("tr.nbtrack-nested:visible")
    assert nested.count() == 6
    table.locator("tr.nbtrack-row", has=page.locator('td[data-column="name"]', has_text="run-000020")).first \
        .locator(".nbtrack-expand").click()
    wait_until(lambda: nested.count() == 4, what="run-000020's nested runs folded")
    table.locator("button.nbtrack-col-name").click()
    wait_until(lambda: column_texts(page, "name")[:3] == ["▾run-000000", "└ run-000001", "└ run-000002"],
               what="sorted by name, nested runs still under their parent")
    save_screenshot(page, "notebook7-dashboard")


# --------------------------------------------------------------------------- no anywidget frontend

def test_a_frontend_without_anywidget_shows_a_static_copy_with_a_note(browser_page, tmp_path):
    """The kernel has anywidget, the page does not (its labextension disabled, as when the
    server's environment lacks it): the table cannot draw, the static copy says why."""
    import nbtrack

    nbtrack.set_store(tmp_path / "small.db")
    for i in range(4):
        with nbtrack.track("small", name=EVIL if i == 1 else f"r{i}", params={"lr": 10 ** -i}):
            nbtrack.log_metric("acc", 0.5 + i / 10)
    nbtrack.set_store(None)
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with start_lab_server(page_config={"disabledExtensions": {"anywidget": True}}) as server:
        open_notebook(page, server, "no_anywidget.ipynb", [
            f"import nbtrack\nnbtrack.set_store({str(tmp_path / 'small.db')!r})\n"
            "board = nbtrack.dashboard('small')\nboard"])
        run_cell(page, 0)
        copy = page.locator(".nbtrack-static-fallback")
        copy.wait_for(state="visible", timeout=TIMEOUT_MS)
        assert "did not load in this frontend" in copy.inner_text()
        assert copy.locator("tr.nbtrack-row").count() == 4 and EVIL in copy.inner_text()
        assert page.locator(".nbtrack-runtable").count() == 0
        assert page.locator('img[src="x"]').count() == 0 and dialogs == []
        save_screenshot(page, "dashboard-without-anywidget-frontend")

