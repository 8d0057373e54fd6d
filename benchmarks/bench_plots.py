"""How fast long histories plot and the media view steps, Python side (the browser side:
bench_plots_browser.py).

1. One run with 10,000 / 100,000 / 1,000,000 points of one metric, logged through the
   public API into a temp SQLite store. Times: the plot's data read (``read_histories``:
   bucketed min/max in the database) plus the figure and its JSON, against two floors: the
   database reading every point once (``SELECT sum(value)`` on the same rows) and the naive
   way (``metric_histories`` of every point, then the same figure). Also a zoom to 1,000
   steps (exact points). Target: 1M points plotted in under 0.5 s.
2. Two runs with 500 steps of one image series: the media index, the first draw of the
   media view and one slider move.

    python benchmarks/bench_plots.py [--sizes 10000,100000,1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import nbtrack  # noqa: E402


def timed(label: str, action, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"  {label:<52} median {median * 1000:8.1f} ms   min {min(times) * 1000:8.1f} ms")
    return median


def long_run(points: int) -> str:
    """The run with ``points`` points of ``loss`` (reused when the store has it: ``--keep``)."""
    existing = nbtrack.runs("long", filter=f"run_name = '{points:,} points'", max_results=1)
    if len(existing):
        return str(existing["run_id"].iloc[0])
    values = np.cumsum(np.random.default_rng(points).normal(size=points)).tolist()
    started = time.perf_counter()
    with nbtrack.track("long", name=f"{points:,} points", system_metrics=False) as run:
        for step, value in enumerate(values):
            run.log_metric("loss", value, step=step)
            if step % 200_000 == 199_999:
                nbtrack.flush()
    print(f"  logged {points:,} points in {time.perf_counter() - started:.1f} s")
    return run.run_id


def bench_history(points: int) -> dict:
    from sqlalchemy import text

    from nbtrack.dashboards import figures
    from nbtrack.dashboards.histories import read_histories

    print(f"\n{points:,} points of one metric")
    run_id = long_run(points)
    store = nbtrack.get_store()

    def plotted() -> None:
        view = read_histories([run_id], "loss")
        figures.history_figure(view.frame, "loss", exact=view.exact).to_json()

    def floor() -> None:
        with store.read() as connection:
            connection.execute(text('SELECT sum(value) FROM metrics WHERE run_id = :r AND "key" = :k'),
                               {"r": run_id, "k": "loss"}).scalar()

    def naive() -> None:
        figures.history_figure(nbtrack.metric_histories([run_id], "loss"), "loss").to_json()

    def zoomed() -> None:
        middle = points // 2
        view = read_histories([run_id], "loss", step_range=(middle, middle + 999))
        figures.history_figure(view.frame, "loss", exact=view.exact).to_json()

    result = {"plot": timed("plot (downsampled in the database + figure JSON)", plotted),
              "floor": timed("floor: the database reads every point once", floor),
              "zoom": timed("zoom to 1,000 steps (every point, exact)", zoomed)}
    if points <= 100_000:
        result["naive"] = timed("naive: every point fetched and drawn", naive, repeat=3)
    print(f"  ratio plot / floor: {result['plot'] / result['floor']:.2f}"
          + (f"   naive / plot: {result['naive'] / result['plot']:.1f}x" if "naive" in result else ""))
    return result


def bench_media(steps: int = 500) -> None:
    from nbtrack.dashboards.media import media_index
    from nbtrack.dashboards.mediaview import MediaView
    from nbtrack.dashboards.state import DashboardState

    print(f"\nmedia: 2 runs x {steps} steps of one 96x96 image series")
    ids = [str(r) for r in nbtrack.runs("media", order_by="start_time ASC")["run_id"]][:2]
    if len(ids) < 2:
        ids = make_media_runs(steps)
    timed("media index of the two runs (names and steps only)", lambda: media_index(ids))
    state = DashboardState("media")
    state.selected = ids
    timed("media view: first draw (index + 2 images)", lambda: MediaView(state), repeat=3)
    view = MediaView(state)
    positions = iter(range(10**6))
    timed("slider move: 2 images read and shown", lambda: view.show_step(next(positions) % steps))


def make_media_runs(steps: int) -> list[str]:
    ids = []
    started = time.perf_counter()
    for r in range(2):
        with nbtrack.track("media", name=f"media-{r}", system_metrics=False) as run:
            for step in range(steps):
                image = np.zeros((96, 96), np.uint8)
                image[: (step % 96) + 1, r * 40:(r * 40) + 40] = 255
                run.log_image(image, "confusion", step=step)
            ids.append(run.run_id)
    print(f"  logged {2 * steps} images in {time.perf_counter() - started:.1f} s")
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--keep", help="directory for the store (default: a temp directory)")
    args = parser.parse_args()
    directory = Path(args.keep or tempfile.mkdtemp(prefix="nbtrack-bench-plots-"))
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.pop("NBTRACK_STORE", None)
    nbtrack.set_store(directory / "nbtrack.db")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} CPUs); store {directory}")
    for size in [int(s) for s in args.sizes.split(",")]:
        bench_history(size)
    bench_media()
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
