"""Write-path speed: logging, run creation, and the journal (spill and replay).

    python benchmarks/bench_store.py [--points 100000] [--postgres URI] [--json FILE]

Figures (SQLite store in a temporary directory; with ``--postgres`` also a PostgreSQL one):

- ``log_metric`` per call inside a run (in memory; the flusher thread writes in the background)
- flush: storing buffered points, per point
- creating 1,000 runs with 10 params, 5 metrics and 3 tags each (the shape bench_core.py uses)
- journal spill: points per second written to the local journal while the store is unreachable
- journal replay: the time to replay a journal of ``--points`` points into the store, and points/s

Each figure comes from a child process of this one (cold imports, nothing shared), and the
machine's load is printed with them. The raw floor for a flush is sqlite3's ``executemany``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

LOGGING = """
import time, nbtrack
from benchmarks.bench_core import run_fields
nbtrack.set_store(STORE)
from nbtrack.run import Run
out = {}
with Run("calls", capture_environment=False) as run:  # no capture thread competing for the GIL
    n, best, best_cpu = 100_000, float("inf"), float("inf")
    for repeat in range(5):  # the best of 5: the machine is shared
        start, start_cpu = time.perf_counter(), time.thread_time()
        for i in range(n):
            nbtrack.log_metric("loss", 1.0 / (i + 1))
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.thread_time() - start_cpu)  # this thread's CPU: less hit by the load
        run.flush()
    out["log_metric_us"] = best / n * 1e6
    out["log_metric_cpu_us"] = best_cpu / n * 1e6
    for i in range(n):
        nbtrack.log_metric("loss", 1.0 / (i + 1))
    start = time.perf_counter()
    run.flush()
    out["flush_us_per_point"] = (time.perf_counter() - start) / n * 1e6
for warm in range(20):
    with nbtrack.track("warm"):
        pass
start = time.perf_counter()
for i in range(1000):
    params, metrics, tags = run_fields(i)
    with nbtrack.track("bench", params=params, tags=tags):
        nbtrack.log_metrics(metrics)
out["create_1000_runs_s"] = time.perf_counter() - start
print(json.dumps(out))
"""

SPILL = """
import time, nbtrack
from nbtrack.flusher import FLUSHER
nbtrack.set_store(STORE)
run = nbtrack.track("journal")
for i in range(POINTS):
    nbtrack.log_metric("loss", 1.0 / (i + 1), step=i)
while not FLUSHER.reporter.failing:  # the flusher has met the outage (as it would have long before a spill)
    time.sleep(0.05)
start = time.perf_counter()
FLUSHER.spill_all()  # what the flusher does when the store stays unreachable
spilled = time.perf_counter() - start
run.end()
FLUSHER.spill_all()
print(json.dumps({"spill_points_per_s": POINTS / spilled, "points": POINTS, "run_id": run.run_id}))
"""

REPLAY = """
import time
from nbtrack import journal
from nbtrack.store.sql import SqlStore
store = SqlStore(STORE)
start = time.perf_counter()
applied = journal.replay_pending(DOWN, store.write_batch)
print(json.dumps({"replay_s": time.perf_counter() - start, "replayed_points": applied}))
"""

COUNT = """
from sqlalchemy import text
from nbtrack.store.sql import SqlStore
store = SqlStore(STORE)
with store.read() as connection:
    points = connection.execute(text("select count(*) from metrics where run_id = :r"), {"r": RUN}).scalar()
    status = connection.execute(text("select status from runs where run_id = :r"), {"r": RUN}).scalar()
print(json.dumps({"stored_points": points, "status": status}))
"""


def child(code: str, env: dict, **names) -> dict:
    prelude = "import json\n" + "".join(f"{k} = {v!r}\n" for k, v in names.items())
    result = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True,
                            text=True, env=env, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def raw_floor(workdir: str, n: int = 200_000) -> float:
    """sqlite3 executemany of n metric rows, per row (µs)."""
    connection = sqlite3.connect(os.path.join(workdir, "raw.db"))
    connection.execute("create table metrics (run_id text, key text, step integer, value real, "
                       "is_nan integer, timestamp real)")
    rows = [("r" * 32, "loss", i, 1.0 / (i + 1), 0, time.time()) for i in range(n)]
    start = time.perf_counter()
    with connection:
        connection.executemany("insert into metrics values (?, ?, ?, ?, ?, ?)", rows)
    connection.close()
    return (time.perf_counter() - start) / n * 1e6


def bench_backend(label: str, store: str, points: int, env: dict, workdir: str) -> dict:
    out = child(LOGGING, env, STORE=store)
    # The journal: a store that cannot be reached (a file where its directory should be, or a
    # PostgreSQL port nobody listens on) spills, then the real store replays.
    down = (f"sqlite:///{os.path.join(workdir, label + '-blocked', 'store.db')}" if store.startswith("sqlite")
            else "postgresql+psycopg://nobody@127.0.0.1:9/none")
    if store.startswith("sqlite"):
        Path(workdir, label + "-blocked").write_text("not a directory")
    # the spill is timed on its own: the flusher must not spill first (after 10 s or 100,000 points)
    spill_env = {**env, "NBTRACK_CONNECT_TIMEOUT": "1", "NBTRACK_JOURNAL_AFTER": "3600",
                 "NBTRACK_JOURNAL_POINTS": str(10**9)}
    spilled = child(SPILL, spill_env, STORE=down, POINTS=points)
    replayed = child(REPLAY, spill_env, STORE=store, DOWN=down)
    counted = child(COUNT, env, STORE=store, RUN=spilled["run_id"])
    out.update(spilled)
    out.update(replayed)
    out.update(counted)
    out["replay_points_per_s"] = spilled["points"] / replayed["replay_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000, help="points in the replayed journal")
    parser.add_argument("--postgres", metavar="URI", help="also measure a PostgreSQL store (an empty database)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as workdir:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               "XDG_CACHE_HOME": os.path.join(workdir, "cache")}
        env.pop("NBTRACK_STORE", None)
        load_before = os.getloadavg()
        backends = {"sqlite": f"sqlite:///{os.path.join(workdir, 'nbtrack.db')}"}
        if args.postgres:
            backends["postgres"] = args.postgres
        for label, store in backends.items():
            print(f"running {label} ...", file=sys.stderr)
            results[label] = bench_backend(label, store, args.points, env, workdir)
        results["raw_flush_us_per_point"] = raw_floor(workdir)  # type: ignore[assignment]
        load_after = os.getloadavg()
    print(f"\nnbtrack write-path benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load {load_before[0]:.2f} before / {load_after[0]:.2f} after)\n")
    for label in backends:
        r = results[label]
        print(f"[{label}]")
        print(f"  log_metric, per call                       {r['log_metric_us']:8.2f} µs"
              f"   ({r['log_metric_cpu_us']:.2f} µs of the thread's CPU)")
        print(f"  flush, per point                           {r['flush_us_per_point']:8.2f} µs"
              f"   (raw sqlite3 executemany: {results['raw_flush_us_per_point']:.2f} µs)")
        print(f"  create 1,000 runs (10 params/5 metrics/3 tags) {r['create_1000_runs_s']:8.2f} s")
        print(f"  journal spill                              {r['spill_points_per_s']:>10,.0f} points/s")
        print(f"  journal replay of {r['points']:,} points    {r['replay_s']:8.2f} s "
              f"({r['replay_points_per_s']:,.0f} points/s; stored {r['stored_points']:,}, status {r['status']})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
