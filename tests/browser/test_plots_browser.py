"""Plots that select runs, and the media slider, in a real JupyterLab + headless Chromium;
the report with its media view opened offline.

One notebook session: a lasso drawn with the mouse on the scatter selects those runs in the
dashboard's state (what the table shows as selected); a click on a bar adds its run; the
run the table hovers is drawn thicker; the Media tab shows two runs side by side and one
slider moves both to another step.
"""

from __future__ import annotations

import re
import sys
import time

import pytest
from conftest import REPO_ROOT, open_notebook, run_cell, save_screenshot, wait_until

pytestmark = pytest.mark.browser

EXPERIMENT = "plots-browser"
MAKE_RUNS = f"""
import nbtrack, numpy as np
ids = []
for i in range(8):
    params = {{"lr": 10.0 ** -(i % 4), "model": ["rf", "lin"][i % 2], **({{"dropout": i / 10}} if i % 3 else {{}})}}
    with nbtrack.track({EXPERIMENT!r}, name=f"run-{{i}}", params=params) as run:
        for step in range(5):
            acc, loss = 0.6 + i / 40 + step / 50, 1.2 - i / 10 - step / 20 + (i % 3) / 7
            nbtrack.log_metrics({{"acc": round(acc, 4), "val_loss": round(loss, 4)}}, step=step)
            if i < 2:
                nbtrack.log_image(np.full((24, 24), step * 50 + i * 5, np.uint8), "confusion", step=step)
        ids.append(run.run_id)
board = nbtrack.dashboard({EXPERIMENT!r})
"""
SHOW = "board"
TIMEOUT_MS = 60_000


def kernel_value(page, index: int, expression: str) -> str:
    """Run ``print(expression)`` in cell ``index`` and return what it printed."""
    run_cell(page, index, f"print({expression})")
    return page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea-output").last.inner_text().strip()


def overlaps(plot) -> list[tuple[str, str]]:
    """Pairs of a plot's title, legend, colour bar and axis titles whose boxes intersect."""
    boxes = {}
    for name, selector in (("title", ".gtitle"), ("legend", ".legend"), ("colorbar", ".colorbar"),
                           ("x title", ".g-xtitle"), ("y title", ".g-ytitle")):
        found = plot.locator(selector)
        if found.count():
            boxes[name] = found.first.bounding_box()
    def hit(a, b):
        return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
            a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]
    names = sorted(boxes)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if boxes[a] and boxes[b] and hit(boxes[a], boxes[b])]


def test_lasso_click_hover_and_media_slider(browser_page, lab_server):
    page = browser_page
    open_notebook(page, lab_server, "plots.ipynb", [MAKE_RUNS, SHOW, "", ""])
    run_cell(page, 0)
    run_cell(page, 1)
    page.locator(".nbtrack-dashboard").wait_for(state="visible", timeout=TIMEOUT_MS)

    # the scatter of acc against val_loss: every run, nothing selected
    run_cell(page, 2, "board.plots.kind.value = 'scatter'\nboard.plots.scatter_color.value = ''\n"
                      "board.plots.scatter_x.value, board.plots.scatter_y.value = 'metrics.acc', 'metrics.val_loss'")
    plot = page.locator(".nbtrack-plots .js-plotly-plot").first
    points = plot.locator(".scatterlayer .trace .points path.point")
    wait_until(lambda: points.count() == 8, timeout=60, what="8 points")  # the first plotly widget: a 5 MB module
    plot.scroll_into_view_if_needed()
    # the widget may be replaced once if its first view came up empty (a slow module load):
    # wait until the kernel has seen the view that is on screen
    wait_until(lambda: kernel_value(page, 3, "board.plots._view_checked") == "True", what="the plot checked")
    wait_until(lambda: points.count() == 8, what="8 points")
    time.sleep(0.5)

    def lasso() -> None:
        """A lasso (with the mouse) around the three points with the lowest acc."""
        centres = sorted((box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                         for box in (points.nth(i).bounding_box() for i in range(8)))
        area = plot.locator(".draglayer .xy .nsewdrag").first.bounding_box()
        right = (centres[2][0] + centres[3][0]) / 2
        corners = [(area["x"] + 2, area["y"] + 2), (right, area["y"] + 2),
                   (right, area["y"] + area["height"] - 2), (area["x"] + 2, area["y"] + area["height"] - 2),
                   (area["x"] + 2, area["y"] + 3)]
        page.mouse.move(*corners[0])
        page.mouse.down()
        for corner in corners[1:]:
            page.mouse.move(*corner, steps=8)
        page.mouse.up()

    lasso()
    try:
        wait_until(lambda: kernel_value(page, 3, "len(board.state.selected)") == "3", what="3 runs selected")
    except AssertionError:  # a gesture made while the page was still settling: once more
        lasso()
        wait_until(lambda: kernel_value(page, 3, "len(board.state.selected)") == "3", what="3 runs selected")
    lowest = kernel_value(page, 3, "sorted(board.state.selected) == sorted(nbtrack.runs("
                                   f"{EXPERIMENT!r}, order_by='metrics.acc ASC', max_results=3)['run_id'])")
    assert lowest == "True"
    wait_until(lambda: "3 selected" in page.locator(".nbtrack-dashboard").inner_text(), what="the table says 3")
    save_screenshot(page, "plots-lasso")

    # runs without dropout sit in the "missing" band; title, legend and axis titles apart
    run_cell(page, 2, "board.plots.scatter_x.value = 'params.dropout'\n"
                      "board.plots.scatter_color.value = 'params.model'")
    wait_until(lambda: "missing" in plot.locator(".x2tick").all_text_contents(), what="the missing band")
    wait_until(lambda: plot.locator(".legend .traces").count() == 2, what="the colour legend")
    assert overlaps(plot) == []
    save_screenshot(page, "plots-missing-band")

    # a click on a bar adds that run
    run_cell(page, 2, "board.plots.kind.value = 'bar'\nboard.plots.metric.value = 'acc'")
    bars = plot.locator(".barlayer .point")
    wait_until(lambda: bars.count() == 8, what="8 bars")
    before = kernel_value(page, 3, "board.state.selected")
    clicked = kernel_value(page, 3, "board.plots.widget.data[0].customdata[0]")
    assert clicked not in before
    box = bars.first.bounding_box()  # plotly takes clicks on its drag layer, above the bars
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_until(lambda: clicked in kernel_value(page, 3, "board.state.selected"), what="the clicked bar's run")
    assert kernel_value(page, 3, "len(board.state.selected)") == "4"  # added to the three, not instead

    # the run the table hovers is drawn thicker on the history plot
    run_cell(page, 2, "board.plots.kind.value = 'history'\nboard.plots.metric.value = 'acc'\n"
                      "board.state.hovered = board.state.selected[0]")
    lines = plot.locator(".scatterlayer .trace path.js-line")
    wait_until(lambda: lines.count() == 4, what="4 curves")
    widths = lambda: sorted(float(re.search(r"stroke-width:\s*([\d.]+)", lines.nth(i).get_attribute("style")).group(1))  # noqa: E731
                            for i in range(lines.count()))
    wait_until(lambda: widths() == [2, 2, 2, 4], what="one curve thicker")
    assert overlaps(plot) == []

    # media: the two runs with images, side by side, one slider for both
    run_cell(page, 2, "board.state.hovered = ''\nboard.state.selected = ids[:2]")
    page.locator(".lm-TabBar-tab", has_text="Media").first.click()
    cells = page.locator(".nbtrack-media-cell")
    wait_until(lambda: cells.count() == 2, what="two media cells")
    steps = lambda: [cells.nth(i).get_attribute("data-step") for i in range(2)]  # noqa: E731
    wait_until(lambda: steps() == ["4", "4"], what="the latest step in both")
    sources = [cells.nth(i).locator("img").get_attribute("src") for i in range(2)]
    handle = page.locator(".nbtrack-media-slider .noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_until(lambda: steps() == ["2", "2"], what="both at step 2")
    assert [cells.nth(i).locator("img").get_attribute("src") for i in range(2)] != sources
    page.locator(".nbtrack-media").scroll_into_view_if_needed()
    save_screenshot(page, "plots-media")


def test_report_with_media_renders_offline(browser_page, tmp_path, monkeypatch):
    """The HTML report in Chromium with every network request refused; its media slider works."""
    sys.path.insert(0, str(REPO_ROOT))
    import numpy as np

    import nbtrack
    from nbtrack.dashboards.report import write_report

    monkeypatch.chdir(tmp_path)
    nbtrack.set_store(tmp_path / "report.db")
    try:
        for i in range(3):
            with nbtrack.track("offline", name=f"r{i}", params={"lr": 10 ** -i}):
                for step in range(6):
                    nbtrack.log_metric("acc", 0.5 + i / 20 + step / 100, step=step)
                    nbtrack.log_image(np.full((16, 16), step * 40 + i, np.uint8), "confusion", step=step)
        path = write_report("offline", tmp_path / "report.html")
    finally:
        nbtrack.set_store(None)
    page = browser_page
    requests: list[str] = []

    def refuse(route):
        if not route.request.url.startswith(("file://", "data:")):
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", refuse)
    page.goto(path.as_uri())
    page.locator(".js-plotly-plot").nth(1).wait_for(state="visible", timeout=30_000)
    section = page.locator(".nbtrack-report-media")
    cells = section.locator(".nbtrack-media-cell")
    assert cells.count() == 3
    steps = lambda: [cells.nth(i).get_attribute("data-step") for i in range(3)]  # noqa: E731
    wait_until(lambda: steps() == ["5", "5", "5"], what="the latest step")
    slider = section.locator("input.nbtrack-media-slider")
    slider.evaluate("s => { s.value = 1; s.dispatchEvent(new Event('input')); }")
    wait_until(lambda: steps() == ["1", "1", "1"], what="step 1 everywhere")
    assert section.locator(".nbtrack-media-slider-step").inner_text() == "1"
    assert all(cells.nth(i).locator("img").get_attribute("src").startswith("data:image/png") for i in range(3))
    assert requests == []
    save_screenshot(page, "report-media")
