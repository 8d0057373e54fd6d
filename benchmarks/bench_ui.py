"""What a reviewer waits for with ``nbtrack ui`` (Voilà + Debian's Chromium through Playwright),
on 10,000 runs (10 params, 5 metrics, 3 tags; the store of bench_dashboard.py):

1. from starting ``nbtrack ui`` to the page showing rows (the server up, the first visit's
   kernel started and the dashboard open, the rows drawn), and to the first plot;
2. a later visit to the running server (a new kernel per visit) until the rows show;
3. a filter typed in the page: from Enter to the matching rows and count on screen;

beside the floor: the same server (Voilà, same configuration) serving a page with one widget,
and the Python side of the dashboard in this process. Prints the load average.

    python benchmarks/bench_ui.py [--runs 10000] [--db /tmp/bench10k.db] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from bench_dashboard import EXPERIMENT, populate  # noqa: E402
from uiserver import free_port, start_ui, ui_environment  # noqa: E402

import nbtrack  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
FILTERS = ["metrics.acc > 0.5", "params.model = 'rf' and metrics.loss < 0.3", "tags.stage = 'prod' or metrics.f1 > 0.9",
           "params.p3 IN (1, 2)"]
TIMEOUT_MS = 300_000
# A row of the interactive table; the page also holds the dashboard's hidden static copy of the table
# (shown only where anywidget cannot run), whose rows come first and never change.
ROW = ".nbtrack-runtable .nbtrack-row"


def report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    spread = f"min {min(times):6.2f} s  max {max(times):6.2f} s  n={len(times)}" if len(times) > 1 else ""
    print(f"{label:<62} {median:6.2f} s   {spread}", flush=True)
    return median


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def visit(browser, url: str) -> tuple[float, object, object]:
    """A new browser context opens ``url``: (seconds until the first row shows, context, page)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, timeout=TIMEOUT_MS)
    page.locator(ROW).first.wait_for(state="visible", timeout=TIMEOUT_MS)
    return time.perf_counter() - start, context, page


def floor_visit(browser, workdir: Path) -> tuple[float, float]:
    """Voilà alone, configured as nbtrack ui is, serving one widget: (start to served, start to widget)."""
    import nbformat

    notebook_dir = workdir / "floor"
    notebook_dir.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import ipywidgets as w\nw.Label('floor-ready')")]
    path = notebook_dir / "floor.ipynb"
    nbformat.write(notebook, path)
    port, token = free_port(), "floor-token-0123456789"
    script = ("import sys; from voila.app import Voila; from nbtrack.ui.server import voila_config; "
              f"app = Voila(config=voila_config(__import__('pathlib').Path({str(path)!r}), '127.0.0.1', {port}, "
              f"{token!r})); app.initialize([]); app.start()")
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", script], env=ui_environment(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        import urllib.request

        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        served = time.perf_counter() - start
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/?token={token}", timeout=TIMEOUT_MS)
        page.get_by_text("floor-ready").wait_for(state="visible", timeout=TIMEOUT_MS)
        shown = time.perf_counter() - start
        context.close()
        return served, shown
    finally:
        process.terminate()
        process.wait(timeout=30)


def filter_steps(page, repeat: int) -> list[float]:
    """Type each filter, press Enter, wait for its count and its first row on screen."""
    expected = {}
    for text in FILTERS:
        first = nbtrack.runs(EXPERIMENT, text, order_by="start_time DESC", max_results=1)["name"].iloc[0]
        expected[text] = (nbtrack.count_runs(EXPERIMENT, text), first)
    box = page.locator(".nbtrack-filter input")
    times = []
    for step in range(repeat * len(FILTERS)):
        text = FILTERS[step % len(FILTERS)]
        count, first = expected[text]
        box.fill(text)
        start = time.perf_counter()
        box.press("Enter")
        page.wait_for_function(
            """([count, first]) => {
                const label = document.querySelector('.nbtrack-page');
                const name = document.querySelector('.nbtrack-runtable .nbtrack-row [data-column="name"]');
                return label && label.textContent.includes(count + ' runs') && name && name.textContent === first;
            }""", arg=[f"{count:,}", first], timeout=TIMEOUT_MS, polling="raf")
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--db", help="SQLite file to create or reuse (default: a temp file)")
    parser.add_argument("--repeat", type=int, default=5, help="cold starts, later visits and filter rounds")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="nbtrack-bench-ui-"))
    db = Path(args.db) if args.db else workdir / "nbtrack.db"
    os.environ.pop("NBTRACK_STORE", None)
    nbtrack.set_store(db)
    have = nbtrack.count_runs(EXPERIMENT) if db.exists() else 0
    if have < args.runs:
        print(f"creating {args.runs - have:,} runs in {db} ...", flush=True)
        populate(args.runs - have)
    uri = f"sqlite:///{db}"
    print(f"{nbtrack.count_runs(EXPERIMENT):,} runs in {db}; {load()}\n", flush=True)

    from nbtrack.dashboards.widget import Dashboard

    python_side = []
    for _ in range(3):
        start = time.perf_counter()
        Dashboard(EXPERIMENT, read_only=True).close()
        python_side.append(time.perf_counter() - start)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        up, to_rows, to_plot, later, filters = [], [], [], [], []
        for round_ in range(args.repeat):
            with start_ui(uri) as server:
                up.append(time.perf_counter() - server.started_at)
                seconds, context, page = visit(browser, server.url)
                to_rows.append(time.perf_counter() - server.started_at)
                page.locator(".nbtrack-plot .js-plotly-plot").first.wait_for(state="visible", timeout=TIMEOUT_MS)
                to_plot.append(time.perf_counter() - server.started_at)
                if round_ == 0:
                    filters = filter_steps(page, args.repeat)
                context.close()
                seconds, context, _page = visit(browser, server.url)
                later.append(seconds)
                context.close()
        floors = [floor_visit(browser, workdir / f"floor{i}") for i in range(min(3, args.repeat))]
        browser.close()

    print(f"{args.runs:,} runs, medians over {args.repeat} server starts (Chromium already running):")
    report("nbtrack ui start -> server listening (URL printed)", up)
    rows = report("nbtrack ui start -> the page shows rows (first visit)", to_rows)
    report("nbtrack ui start -> first plot on screen", to_plot)
    report("a later visit (new kernel) -> rows", later)
    report("filter typed, Enter -> its count and first row on screen", filters)
    floor_served = report("floor: Voila alone, same config, one-widget page: start -> listening",
                          [f[0] for f in floors])
    floor_shown = report("floor: ... start -> the widget on screen", [f[1] for f in floors])
    report("Python side: Dashboard(read_only=True) over these runs (this process)", python_side)
    print(f"\nstart -> rows is {rows / floor_shown:.1f}x the floor ({rows - floor_shown:+.2f} s: importing nbtrack "
          f"and the dashboard in the kernel, its queries, the table's widgets); server start {floor_served:.2f} s "
          "of it is Voila's own")
    print(load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
