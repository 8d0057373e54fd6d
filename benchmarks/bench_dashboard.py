"""How fast the dashboard opens and reacts with 10,000 runs in one experiment.

Creates 10,000 runs (10 params, 5 metrics, 3 tags) through the public tracking API in a
temp SQLite store (about a minute; ``--db PATH`` keeps and reuses the database), then
prints the Python-side time of opening the dashboard and of filter, sort and page changes:
until the rows are in the table widget (the summary of every matching run follows in a
thread; without a browser the plots redraw in the same call). What a person waits for in
the browser: benchmarks/bench_dashboard_browser.py. Targets: open < 1 s, each change < 0.3 s.

    python benchmarks/bench_dashboard.py [--runs 10000] [--db /tmp/bench.db]
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

import nbtrack  # noqa: E402
from nbtrack.statuses import STATUSES  # noqa: E402

EXPERIMENT = "bench"


def populate(n: int) -> None:
    started = time.perf_counter()
    for i in range(n):
        params = {f"p{k}": (i * (k + 1)) % (k + 2) for k in range(8)}
        params["model"] = ("rf", "lin", "gbm")[i % 3]
        params["seed"] = 42
        with nbtrack.track(EXPERIMENT, name=f"run-{i:05d}", params=params,
                           tags={"stage": ("dev", "prod")[i % 2], "owner": f"u{i % 5}", "batch": str(i // 1000)}):
            nbtrack.log_metrics({"acc": (i % 997) / 997, "f1": (i % 991) / 991, "auc": (i % 983) / 983,
                                 "loss": 1 - (i % 977) / 977, "latency_ms": float(i % 50)})
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1:,} runs ({time.perf_counter() - started:.0f} s)", flush=True)


def timed(label: str, action, repeat: int = 5, settle=None) -> float:
    """Median wall time; CPU time (this process) is printed too, as it is steadier on a busy machine."""
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = action()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if settle is not None:
            settle(result)  # not timed: e.g. the first plot, drawn in the background
    median = statistics.median(times)
    print(f"{label:<40} wall median {median * 1000:6.1f} ms  max {max(times) * 1000:6.1f} ms"
          f"  | cpu median {statistics.median(cpu) * 1000:6.1f} ms")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--db", help="SQLite file to create or reuse (default: a temp file)")
    args = parser.parse_args()
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="nbtrack-bench-")) / "nbtrack.db"
    os.environ.pop("NBTRACK_STORE", None)
    nbtrack.set_store(db)
    have = nbtrack.count_runs(EXPERIMENT) if db.exists() else 0
    if have < args.runs:
        print(f"creating {args.runs - have:,} runs in {db} ...")
        populate(args.runs - have)
    print(f"{nbtrack.count_runs(EXPERIMENT):,} runs in {db}\n")

    start = time.perf_counter()
    from nbtrack.dashboards.widget import Dashboard, dashboard

    imported = time.perf_counter()
    board = dashboard(EXPERIMENT)
    done = time.perf_counter()
    print(f"{'first open in this process':<40} {(done - start) * 1000:6.1f} ms "
          f"(importing ipywidgets/plotly/the dashboard {(imported - start) * 1000:.0f} ms)")
    board.state.wait()
    board.plots.wait()

    def settle(opened):
        opened.state.wait()
        opened.plots.wait()
        opened.close()

    def act(**message):
        """What the table's frontend sends; returns once the rows are in (totals may follow)."""
        board.table.receive(message)

    def settled(_result):
        board.state.wait()

    results = {"open": timed("open (rows in; totals follow)", lambda: Dashboard(EXPERIMENT), settle=settle)}

    filters = iter(["metrics.acc > 0.5", "params.model = 'rf' and metrics.loss < 0.3",
                    "tags.stage = 'prod' or metrics.f1 > 0.9", "params.p3 IN (1, 2)", ""] * 4)
    results["filter"] = timed("filter (type a filter, Enter)",
                              lambda: act(type="filter", text=next(filters)), settle=settled)
    act(type="filter", text="")
    board.state.wait()
    sorts = iter(["metrics.acc", "metrics.acc", "params.p3", "metrics.loss", "name", "params.model"] * 3)
    results["sort"] = timed("sort (click a header)", lambda: act(type="sort", column=next(sorts)), 6)
    results["page"] = timed("page (click next)", lambda: act(type="page", index=board.state.page + 1))
    pages = iter([100, 250, 399, 3, 200])
    results["jump"] = timed("page (jump to a far page)", lambda: act(type="page", index=next(pages)))
    statuses = iter([["RUNNING", "FAILED", "KILLED"], list(STATUSES)] * 2)
    results["status"] = timed("status filter (toggle 'finished')",
                              lambda: act(type="statuses", shown=next(statuses)), 4, settle=settled)
    flts = iter(["metrics.acc > 0.5", "params.model = 'rf' and metrics.loss < 0.3", None, "params.p3 IN (1, 2)"] * 2)
    timed("  nbtrack.summarize_runs (core, after the rows)",
          lambda: nbtrack.summarize_runs(EXPERIMENT, next(flts)))
    offsets = iter([0, 2500, 5000, 9975, 100])
    timed("  of which nbtrack.runs, one page (core)",
          lambda: nbtrack.runs(EXPERIMENT, None, order_by="metrics.acc DESC", max_results=25, offset=next(offsets)))
    ids = board.table.visible_run_ids()
    selections = iter(range(len(ids)))
    results["select"] = timed("select a run (plot updates)",
                              lambda: setattr(board.table, "selected", [ids[next(selections)]]))
    import os as _os
    print(f"\nload average {_os.getloadavg()[0]:.1f} on {_os.cpu_count()} CPUs")
    ok = results["open"] < 1.0 and all(v < 0.3 for k, v in results.items() if k != "open")
    print("targets (open < 1 s, changes < 0.3 s):", "met" if ok else "NOT met")
    board.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
