"""The MLflow-compatible path against nbtrack's own and against MLflow, side by side.

    python benchmarks/bench_mlflow_compat.py [--runs 1000] [--points 1000] [--mlflow-python PATH]

Every contender runs in its own child process of this one (imports measured cold, nothing
shared); MLflow in its own virtualenv (``benchmarks/.venv-mlflow``, as bench_core.py makes it,
or ``--mlflow-python``). Measured:

- ``log_metric`` per call inside a run: ``nbtrack.mlflow``, ``nbtrack`` itself, MLflow (SQLite);
- importing the module: ``nbtrack.mlflow``, ``nbtrack``, ``mlflow`` (median of 5 fresh processes);
- ``nbtrack import mlflow`` of an MLflow SQLite store of RUNS x POINTS metric points (the store
  is written by MLflow: 10 runs through its client, then copied inside its own database), as a
  user runs it (the CLI, wall time), and the same store read back to check every point arrived.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_core import copy_runs, mlflow_python  # noqa: E402  - the same MLflow virtualenv, the same copies


def bench_log_metric(which: str, workdir: str, calls: int) -> dict:
    """Per-call cost of log_metric inside a run (run in a child process)."""
    if which == "mlflow":
        import logging

        logging.getLogger("mlflow").setLevel(logging.ERROR)
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{os.path.join(workdir, 'mlflow.db')}")
        log = mlflow.log_metric
        context = mlflow.start_run
        calls = min(calls, 200)  # ~3 ms a call: 200 are enough
    elif which == "nbtrack.mlflow":
        import nbtrack.mlflow as mlflow

        mlflow.set_tracking_uri(os.path.join(workdir, "shim.db"))
        log = mlflow.log_metric
        context = mlflow.start_run
    else:
        import nbtrack

        nbtrack.set_store(os.path.join(workdir, "nbtrack.db"))
        log = nbtrack.log_metric

        def context():
            return nbtrack.track("bench")
    with context():
        for i in range(100):  # warm: the run is created, the first points written
            log("warm", float(i))
        start = time.perf_counter()
        for i in range(calls):
            log("loss", 1.0 / (i + 1), step=i)
        elapsed = time.perf_counter() - start
    return {"log_metric_us": elapsed / calls * 1e6, "calls": calls}


def make_mlflow_store(path: str, runs: int, points: int) -> dict:
    """An MLflow SQLite store of ``runs`` x ``points`` (run with MLflow's Python)."""
    import logging
    import sqlite3

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    experiment = client.create_experiment("bench", artifact_location=os.path.join(os.path.dirname(path), "mlruns"))
    seeds = min(10, runs)
    start = time.perf_counter()
    for index in range(seeds):
        run = client.create_run(experiment, run_name=f"seed-{index}")
        now = int(time.time() * 1000)
        client.log_batch(run.info.run_id, params=[Param(f"p{k}", str(k * index)) for k in range(10)],
                         tags=[RunTag("team", f"t{index % 3}")])
        for first in range(0, points, 1000):
            client.log_batch(run.info.run_id, metrics=[
                Metric(f"m{step % 5}", 1.0 / (step + 1), now + step, step // 5)
                for step in range(first, min(points, first + 1000))])
        client.set_terminated(run.info.run_id)
    through_api = time.perf_counter() - start
    copy_runs(path, range(1, (runs - seeds) // seeds + 1))  # bench_core's: MLflow's rows, copied with new ids
    connection = sqlite3.connect(path)
    total_runs = connection.execute("select count(*) from runs").fetchone()[0]
    total_points = connection.execute("select count(*) from metrics").fetchone()[0]
    connection.close()
    return {"runs": total_runs, "points": total_points, "seed_runs_through_api_s": through_api}


def child(python: str, function: str, args: list, env: dict) -> dict:
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        import bench_mlflow_compat as bench
        print("RESULT" + json.dumps(bench.{function}(*{args!r})))
    """)
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{function} failed:\n{result.stderr[-3000:]}")
    return json.loads(next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))[6:])


def import_seconds(python: str, module: str, env: dict) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return statistics.median(float(subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                                                  check=True).stdout.strip()) for _ in range(5))


def raw_floor(points: int, runs: int) -> float:
    """The same number of points written with plain sqlite3 into nbtrack's metrics table (one executemany)."""
    import sqlite3
    import uuid

    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(os.path.join(folder, "raw.db"), isolation_level=None)
        connection.execute("pragma journal_mode=wal")
        connection.execute("pragma synchronous=normal")
        connection.execute('create table metrics (run_id varchar(32) not null, "key" varchar(250) not null, '
                           'step bigint not null, value float, is_nan boolean not null, "timestamp" float not null)')
        connection.execute('create index ix_metrics_run_key_step on metrics (run_id, "key", step)')
        per_run = points // runs
        rows = [(run_id, f"m{s % 5}", s // 5, 1.0 / (s + 1), False, 1.7e9 + s)
                for run_id in (uuid.uuid4().hex for _ in range(runs)) for s in range(per_run)]
        start = time.perf_counter()
        connection.execute("begin")
        connection.executemany("insert into metrics values (?, ?, ?, ?, ?, ?)", rows)
        connection.execute("commit")
        elapsed = time.perf_counter() - start
        connection.close()
    return elapsed


def count_points(store: str) -> int:
    import sqlite3

    connection = sqlite3.connect(store)
    try:
        return connection.execute("select count(*) from metrics").fetchone()[0]
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000, help="metric points per run")
    parser.add_argument("--calls", type=int, default=100_000, help="log_metric calls timed (MLflow: 200)")
    parser.add_argument("--mlflow-python", help="a Python interpreter with mlflow installed")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("NBTRACK_STORE", None)
    python = mlflow_python(args.mlflow_python)
    mlflow_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    mlflow_env["PYTHONPATH"] = str(HERE)
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for which in ("nbtrack", "nbtrack.mlflow"):
            os.makedirs(os.path.join(workdir, which))
            results[which] = child(sys.executable, "bench_log_metric", [which, os.path.join(workdir, which),
                                                                        args.calls], env)
            results[which]["import_s"] = import_seconds(sys.executable, which, env)
        if python:
            os.makedirs(os.path.join(workdir, "mlflow"))
            results["mlflow"] = child(python, "bench_log_metric", ["mlflow", os.path.join(workdir, "mlflow"),
                                                                    args.calls], mlflow_env)
            results["mlflow"]["import_s"] = import_seconds(python, "mlflow", mlflow_env)
            store = os.path.join(workdir, "store", "mlflow.db")
            os.makedirs(os.path.dirname(store))
            print(f"writing an MLflow store of {args.runs} x {args.points} points with MLflow ...", file=sys.stderr)
            made = child(python, "make_mlflow_store", [store, args.runs, args.points], mlflow_env)
            target = os.path.join(workdir, "imported.db")
            start = time.perf_counter()
            imported = subprocess.run([sys.executable, "-m", "nbtrack.cli", "--store", target, "import", "mlflow",
                                       f"sqlite:///{store}", "--no-artifacts"], capture_output=True, text=True,
                                      env=env)
            elapsed = time.perf_counter() - start
            if imported.returncode != 0:
                raise RuntimeError(imported.stderr)
            results["import"] = {**made, "seconds": elapsed, "imported_points": count_points(target),
                                 "output": imported.stdout.strip(), "floor": raw_floor(made["points"], made["runs"])}
    report(results, load_before, os.getloadavg(), python is not None)


def report(results: dict, load_before: tuple, load_after: tuple, with_mlflow: bool) -> None:
    shim, own, real = results["nbtrack.mlflow"], results["nbtrack"], results.get("mlflow", {})
    print(f"\nnbtrack.mlflow benchmark (python {sys.version.split()[0]}; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; 2-core machine)\n")
    print(f"{'measure':<42} {'nbtrack.mlflow':>15} {'nbtrack':>10} {'MLflow':>12} {'MLflow/shim':>12}  target")
    print("-" * 104)

    def row(label, key, unit, target):
        a, b, c = shim.get(key), own.get(key), real.get(key)

        def shown(v):
            if v is None:
                return "-"
            return f"{v:.2f} µs" if unit == "us" else f"{v * 1000:.1f} ms"

        ratio = f"{c / a:,.0f}x" if a and c else "-"
        print(f"{label:<42} {shown(a):>15} {shown(b):>10} {shown(c):>12} {ratio:>12}  {target}")

    row("log_metric, per call inside a run", "log_metric_us", "us", "< 5 µs")
    row("import the module (median of 5 processes)", "import_s", "s", "< 0.1 s")
    if with_mlflow:
        imported = results["import"]
        print(f"\nnbtrack import mlflow: {imported['runs']:,} runs x {imported['points'] // imported['runs']:,} points "
              f"= {imported['points']:,} points in {imported['seconds']:.1f} s wall (CLI, target < 30 s); "
              f"{imported['imported_points']:,} points in the nbtrack store "
              f"({imported['points'] / imported['seconds']:,.0f} points/s)")
        print(f"  raw floor: the same points inserted by plain sqlite3 into nbtrack's metrics table (one executemany): "
              f"{imported['floor']:.1f} s ({imported['seconds'] / imported['floor']:.1f}x)")
        print(f"  (MLflow wrote {imported['seed_runs_through_api_s']:.1f} s for its 10 seed runs through its client; "
              "the rest are copies inside its database)")
        print(f"  {imported['output']}")


if __name__ == "__main__":
    main()
