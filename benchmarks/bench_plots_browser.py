"""What a person waits for in the browser (JupyterLab + Debian's Chromium through Playwright):

1. with 10,000 runs (10 params, 5 metrics, one of them with 50 steps, 3 tags): ticking a
   run in the table until the history plot shows only that run's curve, and unticking it
   until the page's curves are back (target < 0.2 s);
2. a run with 1,000,000 points of one metric: from selecting it to its curve on screen
   (target < 0.5 s);
3. two runs with 500 steps of one image series: the Media tab's slider moved one step, until
   both images show the new step.

Stores: ``--db`` (10,000 runs; created if missing, a few minutes) and ``--long`` (a store made
by ``bench_plots.py --keep DIR``: its 1,000,000-point run and its media runs).

    python benchmarks/bench_plots_browser.py --db /tmp/bench10k.db --long /tmp/benchplots/nbtrack.db
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import nbtrack  # noqa: E402

EXPERIMENT = "bench"


def populate(n: int) -> None:
    started = time.perf_counter()
    for i in range(n):
        params = {f"p{k}": (i * (k + 1)) % (k + 2) for k in range(8)}
        params.update(model=("rf", "lin", "gbm")[i % 3], seed=42)
        with nbtrack.track(EXPERIMENT, name=f"run-{i:05d}", params=params, system_metrics=False,
                           tags={"stage": ("dev", "prod")[i % 2], "owner": f"u{i % 5}", "batch": str(i // 1000)}):
            for step in range(50):
                nbtrack.log_metric("acc", (i % 997) / 997 * (step + 1) / 50, step=step)
            nbtrack.log_metrics({"f1": (i % 991) / 991, "auc": (i % 983) / 983, "loss": 1 - (i % 977) / 977,
                                 "latency_ms": float(i % 50)})
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1:,} runs ({time.perf_counter() - started:.0f} s)", flush=True)


def start_lab(base: Path, store: Path):
    from conftest import LAB_OVERRIDES, LabServer, _free_port, _wait_for_server

    dirs = {name: base / name for name in ("root", "config", "runtime", "settings", "user", "workspaces")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    (dirs["settings"] / "overrides.json").write_text(json.dumps(LAB_OVERRIDES))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
           "NBTRACK_STORE": f"sqlite:///{store}", "PYTHONPATH": str(ROOT)}
    env.pop("JUPYTER_TOKEN", None)
    port = _free_port()
    log = open(base / "lab.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.allow_root=True", "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",
         f"--ServerApp.root_dir={dirs['root']}", f"--LabApp.app_settings_dir={dirs['settings']}",
         f"--LabApp.user_settings_dir={dirs['user']}", f"--LabApp.workspaces_dir={dirs['workspaces']}"],
        cwd=dirs["root"], env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", dirs["root"], env["NBTRACK_STORE"], base, base / "lab.log", process)
    _wait_for_server(server, 120)
    return server


def report(label: str, times: list[float], target: float | None = None) -> None:
    median = statistics.median(times)
    p90 = sorted(times)[max(0, int(round(0.9 * len(times))) - 1)]
    goal = f"   (target < {target * 1000:.0f} ms)" if target else ""
    print(f"{label:<58} median {median * 1000:7.0f} ms   p90 {p90 * 1000:7.0f} ms   n={len(times)}{goal}")


def legend_count(page) -> int:
    return page.locator(".nbtrack-plots .js-plotly-plot .legend .traces").count()


def wait_for(page, predicate, timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            shot = Path(tempfile.gettempdir()) / "bench_plots_browser-timeout.png"
            page.screenshot(path=str(shot))
            raise TimeoutError(f"the page did not change in time (screenshot: {shot})")
        page.wait_for_timeout(5)
    return time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "nbtrack-bench-10k.db"))
    parser.add_argument("--long", help="the store of bench_plots.py --keep (1M points, media runs)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from conftest import CHROMIUM, CHROMIUM_ARGS, open_notebook, run_cell
    from playwright.sync_api import sync_playwright

    db = Path(args.db)
    nbtrack.set_store(db)
    have = nbtrack.count_runs(EXPERIMENT) if db.exists() else 0
    if have < 10_000:
        print(f"creating {10_000 - have:,} runs in {db} ...")
        populate(10_000 - have)
    nbtrack.set_store(None)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} CPUs)")
    base = Path(tempfile.mkdtemp(prefix="nbtrack-bench-lab-"))
    server = start_lab(base, db)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            cells = ["import nbtrack\nboard = nbtrack.dashboard('bench')\nboard", "", ""]
            open_notebook(page, server, "bench.ipynb", cells)
            start = time.perf_counter()
            run_cell(page, 0)
            rows = page.locator(".nbtrack-row:visible")
            shown = wait_for(page, lambda: rows.count() == 25, 240) - start
            page.locator(".nbtrack-plots").first.scroll_into_view_if_needed()  # a plot is drawn when on screen
            drawn = wait_for(page, lambda: legend_count(page) == 25, 240) - start
            print(f"{'10,000 runs: open (rows; first plot, a cold plotly widget)':<58} {shown:7.1f} s; {drawn:.1f} s")
            select, unselect, floor = [], [], []
            label = page.locator(".nbtrack-selection").first  # the table's own "1 selected": the round trip
            for index in range(args.repeat):
                box = rows.nth(index).locator(".nbtrack-select input")
                start = time.perf_counter()
                box.check()
                floor.append(wait_for(page, lambda: "1 selected" in (label.text_content() or "")) - start)
                select.append(wait_for(page, lambda: legend_count(page) == 1) - start)
                start = time.perf_counter()
                box.uncheck()
                unselect.append(wait_for(page, lambda: legend_count(page) == 25) - start)
            report("10,000 runs: tick a run -> the table says '1 selected'", floor)
            report("10,000 runs: tick a run -> only its curve on screen", select, 0.2)
            report("10,000 runs: untick it -> the page's 25 curves back", unselect)
            if args.long:
                long_store = Path(args.long)
                run_cell(page, 1, f"nbtrack.set_store({str(long_store)!r})\n"
                                  "long = nbtrack.dashboard('long')\nlong.plots.metric.value = 'loss'\nlong")
                plot = page.locator(".jp-Cell").nth(1).locator(".nbtrack-plots .js-plotly-plot")
                plot.first.scroll_into_view_if_needed()
                plot.first.wait_for(state="visible", timeout=120_000)
                cell = page.locator(".jp-Cell").nth(1)
                million = cell.locator(".nbtrack-row:visible", has=page.locator('[data-column="name"]',
                                                                                   has_text="1,000,000 points"))
                box = million.locator(".nbtrack-select input")
                legend = plot.first.locator(".legend .legendtext")
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    box.check()
                    times.append(wait_for(page, lambda legend=legend: legend.count() == 1
                                          and "1,000,000" in (legend.first.text_content() or ""), 60) - start)
                    box.uncheck()
                    wait_for(page, lambda legend=legend: legend.count() > 1, 60)
                report("1,000,000 points: select the run -> its curve on screen", times, 0.5)
                run_cell(page, 2, "long.state.selected = list(nbtrack.runs('media')['run_id'])[:2]\n"
                                  "long.tabs.selected_index = 3")
                media_cells = page.locator(".jp-Cell").nth(1).locator(".nbtrack-media-cell")
                wait_for(page, lambda: media_cells.count() == 2, 60)
                media_cells.first.scroll_into_view_if_needed()
                steps = lambda: [media_cells.nth(i).get_attribute("data-step") for i in range(2)]  # noqa: E731
                wait_for(page, lambda: steps() == ["499", "499"], 60)
                handle = page.locator(".jp-Cell").nth(1).locator(".nbtrack-media-slider .noUi-handle").first
                times = []
                for move in range(args.repeat):
                    handle.focus()
                    expected = str(498 - move)
                    start = time.perf_counter()
                    page.keyboard.press("ArrowLeft")
                    times.append(wait_for(page, lambda expected=expected: steps() == [expected] * 2, 30) - start)
                report("media, 2 runs x 500 steps: slider one step -> both images", times)
            browser.close()
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
