"""Core speed: nbtrack against MLflow (SQLite store) and raw sqlite3, side by side.

    python benchmarks/bench_core.py [--runs 10000] [--mlflow-python PATH]

Each contender runs in its own child process of this one (so imports are measured
cold and nothing is shared); MLflow lives in its own virtual environment
(``benchmarks/.venv-mlflow``, created with ``pip install mlflow`` on first use, or the
interpreter given by ``--mlflow-python`` / ``NBTRACK_BENCH_MLFLOW_PYTHON``), because it pins
versions the project does not. The raw floor is plain ``sqlite3`` with ``executemany``.

Data: runs with 10 params, 5 metrics and 3 tags each. MLflow's 10,000 runs are 1,000
created through its API and then copied inside its own database (creating 10,000 through
the API takes many minutes); nbtrack's are all created through its API.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

FILTER = "metrics.m0 > 0.5 and params.p0 = 'v3'"
ORDER = "metrics.m1 DESC"


def run_fields(i: int) -> tuple[dict, dict, dict]:
    rng = random.Random(i)
    params = {"p0": f"v{i % 10}", "p1": round(rng.random(), 4)}
    params.update({f"p{k}": rng.randint(0, 1000) for k in range(2, 10)})
    metrics = {f"m{k}": rng.random() for k in range(5)}
    tags = {"t0": f"team{i % 3}", "t1": "bench", "t2": f"batch{i // 100}"}
    return params, metrics, tags


# --- contenders (run in child processes) ------------------------------------------------

def bench_nbtrack(workdir: str, total_runs: int) -> dict:
    import nbtrack

    nbtrack.set_store(os.path.join(workdir, "nbtrack.db"))
    out = {}
    with nbtrack.track("calls") as run:
        n = 100_000
        start = time.perf_counter()
        for i in range(n):
            nbtrack.log_metric("loss", 1.0 / (i + 1))
        out["log_metric_us"] = (time.perf_counter() - start) / n * 1e6
        start = time.perf_counter()
        run.flush()
        out["flush_us_per_point"] = (time.perf_counter() - start) / n * 1e6

    start = time.perf_counter()
    for i in range(1000):
        params, metrics, tags = run_fields(i)
        with nbtrack.track("bench", params=params, tags=tags):
            nbtrack.log_metrics(metrics)
    out["create_1000_runs_s"] = time.perf_counter() - start
    for i in range(1000, total_runs):
        params, metrics, tags = run_fields(i)
        with nbtrack.track("bench", params=params, tags=tags):
            nbtrack.log_metrics(metrics)

    nbtrack.runs("bench", max_results=1)  # warm: pandas imported, store open
    times = []
    for _ in range(3):
        start = time.perf_counter()
        frame = nbtrack.runs("bench")
        times.append(time.perf_counter() - start)
    out["search_all_s"] = min(times)
    out["search_all_rows"] = len(frame)
    out["search_all_columns"] = frame.shape[1]
    times = []
    for _ in range(5):
        start = time.perf_counter()
        top = nbtrack.runs("bench", filter=FILTER, order_by=ORDER, max_results=100)
        times.append(time.perf_counter() - start)
    out["top100_s"] = min(times)
    out["top100_rows"] = len(top)
    out["top100_first"] = float(top["metrics.m1"].iloc[0])
    return out


def bench_mlflow(workdir: str, total_runs: int) -> dict:
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{os.path.join(workdir, 'mlflow.db')}"
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.create_experiment("bench", artifact_location=os.path.join(workdir, "mlruns"))
    calls_experiment = mlflow.create_experiment("calls", artifact_location=os.path.join(workdir, "mlruns"))
    out = {}
    with mlflow.start_run(experiment_id=calls_experiment):
        n = 200
        start = time.perf_counter()
        for i in range(n):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        out["log_metric_us"] = (time.perf_counter() - start) / n * 1e6

    client = MlflowClient()
    start = time.perf_counter()
    for i in range(1000):
        params, metrics, tags = run_fields(i)
        run = client.create_run(experiment_id)
        now = int(time.time() * 1000)
        client.log_batch(run.info.run_id,
                         metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
                         params=[Param(k, str(v)) for k, v in params.items()],
                         tags=[RunTag(k, v) for k, v in tags.items()])
        client.set_terminated(run.info.run_id)
    out["create_1000_runs_s"] = time.perf_counter() - start

    copy_runs(os.path.join(workdir, "mlflow.db"), total_runs // 1000 - 1)

    mlflow.search_runs([experiment_id], max_results=1)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        frame = mlflow.search_runs([experiment_id], max_results=100_000)
        times.append(time.perf_counter() - start)
    out["search_all_s"] = min(times)
    out["search_all_rows"] = len(frame)
    out["search_all_columns"] = frame.shape[1]
    times = []
    for _ in range(5):
        start = time.perf_counter()
        top = mlflow.search_runs([experiment_id], filter_string=FILTER, order_by=[ORDER], max_results=100)
        times.append(time.perf_counter() - start)
    out["top100_s"] = min(times)
    out["top100_rows"] = len(top)
    return out


def copy_runs(path: str, copies: int) -> None:
    """Clone MLflow's runs inside its own database, with new ids (same schema, same shape)."""
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("create temp table originals as select run_uuid from runs where experiment_id = "
                       "(select experiment_id from experiments where name = 'bench')")
    for copy in range(1, copies + 1):
        new_id = f"'x{copy:03d}' || substr(run_uuid, 5)"  # 'x' is not hex: never an original id
        for table in ("runs", "params", "metrics", "latest_metrics", "tags"):
            columns = [row[1] for row in connection.execute(f"pragma table_info({table})")]
            select = ", ".join(new_id if c == "run_uuid" else c for c in columns)
            connection.execute(f"insert into {table} ({', '.join(columns)}) select {select} from {table} "
                               "where run_uuid in (select run_uuid from originals)")
    connection.commit()
    connection.close()


def bench_raw(workdir: str, total_runs: int) -> dict:
    import sqlite3

    connection = sqlite3.connect(os.path.join(workdir, "raw.db"))
    connection.execute("pragma journal_mode=wal")
    connection.execute("pragma synchronous=normal")
    connection.executescript("""
        create table runs (run_id text primary key, experiment text, name text, status text, start real);
        create table params (run_id text, key text, value text, primary key (run_id, key));
        create table metrics (run_id text, key text, step int, value real, ts real);
        create table tags (run_id text, key text, value text, primary key (run_id, key));
    """)
    out = {}
    n = 100_000
    rows = [("calls", "loss", i, 1.0 / (i + 1), time.time()) for i in range(n)]
    start = time.perf_counter()
    with connection:
        connection.executemany("insert into metrics values (?, ?, ?, ?, ?)", rows)
    out["log_metric_us"] = (time.perf_counter() - start) / n * 1e6

    def create(i: int) -> None:
        params, metrics, tags = run_fields(i)
        run_id = f"{i:032x}"
        with connection:
            connection.execute("insert into runs values (?, 'bench', ?, 'FINISHED', ?)", (run_id, str(i), time.time()))
            connection.executemany("insert into params values (?, ?, ?)", [(run_id, k, str(v)) for k, v in params.items()])
            connection.executemany("insert into metrics values (?, ?, 0, ?, ?)",
                                   [(run_id, k, v, time.time()) for k, v in metrics.items()])
            connection.executemany("insert into tags values (?, ?, ?)", [(run_id, k, v) for k, v in tags.items()])

    start = time.perf_counter()
    for i in range(1000):
        create(i)
    out["create_1000_runs_s"] = time.perf_counter() - start
    for i in range(1000, total_runs):
        create(i)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fetched = 0
        for table in ("runs", "params", "metrics", "tags"):
            fetched += len(connection.execute(f"select * from {table} where run_id in "
                                              "(select run_id from runs where experiment = 'bench')").fetchall())
        times.append(time.perf_counter() - start)
    out["search_all_s"] = min(times)
    out["search_all_rows"] = total_runs
    return out


def measure_import(python: str, module: str, env: dict) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = [float(subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                                    check=True).stdout.strip()) for _ in range(5)]
    return statistics.median(samples)


# --- orchestration --------------------------------------------------------------------

def mlflow_python(explicit: str | None) -> str | None:
    candidate = explicit or os.environ.get("NBTRACK_BENCH_MLFLOW_PYTHON")
    if candidate:
        return candidate
    venv = HERE / ".venv-mlflow"
    python = venv / "bin" / "python"
    if not python.exists():
        print("creating benchmarks/.venv-mlflow (pip install mlflow) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", "mlflow"])
        if result.returncode != 0:
            return None
    return str(python)


def child(python: str, contender: str, workdir: str, runs: int, env: dict) -> dict:
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        import bench_core
        print("RESULT" + json.dumps(bench_core.bench_{contender}({workdir!r}, {runs})))
    """)
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{contender} benchmark failed:\n{result.stderr[-3000:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the searched experiment (multiple of 1000)")
    parser.add_argument("--mlflow-python", help="a Python interpreter with mlflow installed")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("NBTRACK_STORE", None)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for contender in ("raw", "nbtrack"):
            os.makedirs(os.path.join(workdir, contender))
            print(f"running {contender} ...", file=sys.stderr)
            results[contender] = child(sys.executable, contender, os.path.join(workdir, contender), args.runs, env)
        results["nbtrack"]["import_s"] = measure_import(sys.executable, "nbtrack", env)
        python = mlflow_python(args.mlflow_python)
        if python:
            os.makedirs(os.path.join(workdir, "mlflow"))
            print("running mlflow ...", file=sys.stderr)
            mlflow_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
            mlflow_env["PYTHONPATH"] = str(HERE)
            results["mlflow"] = child(python, "mlflow", os.path.join(workdir, "mlflow"), args.runs, mlflow_env)
            results["mlflow"]["import_s"] = measure_import(python, "mlflow", mlflow_env)
            results["mlflow"]["version"] = subprocess.run(
                [python, "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True, text=True,
                env=mlflow_env).stdout.strip()
    report(results, args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def report(results: dict[str, dict], runs: int) -> None:
    nb, ml, raw = results["nbtrack"], results.get("mlflow", {}), results["raw"]
    rows = [
        ("log_metric, per call", "log_metric_us", "µs", "< 10 µs"),
        ("create 1,000 runs (10 params, 5 metrics, 3 tags)", "create_1000_runs_s", "s", ""),
        (f"runs() over {runs:,} runs into a DataFrame", "search_all_s", "s", "< 0.3 s, >= 10x MLflow"),
        (f"filtered, sorted top 100 of {runs:,}", "top100_s", "s", "< 50 ms"),
        ("import", "import_s", "s", "< 0.3 s"),
    ]
    print(f"\nnbtrack core benchmark  (python {sys.version.split()[0]}, MLflow {ml.get('version', 'not run')}, "
          f"SQLite stores)\n")
    header = f"{'measure':<50} {'nbtrack':>12} {'MLflow':>12} {'MLflow/nbtrack':>15} {'raw sqlite3':>12} {'nbtrack/raw':>12}  target"
    print(header)
    print("-" * len(header))
    for label, key, unit, target in rows:
        def fmt(value):
            if value is None:
                return "-"
            return f"{value:.2f} {unit}" if unit == "µs" else (f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s")

        a, b, c = nb.get(key), ml.get(key), raw.get(key)
        ratio_ml = f"{b / a:.0f}x" if a and b else "-"
        ratio_raw = f"{a / c:.1f}x" if a and c else "-"
        print(f"{label:<50} {fmt(a):>12} {fmt(b):>12} {ratio_ml:>15} {fmt(c):>12} {ratio_raw:>12}  {target}")
    print(f"\nnbtrack: flush to disk {nb['flush_us_per_point']:.2f} µs per metric point (background thread); "
          f"runs() returned {nb['search_all_rows']} rows x {nb['search_all_columns']} columns; "
          f"top 100 returned {nb['top100_rows']} rows")
    if ml:
        print(f"MLflow: search_runs returned {ml['search_all_rows']} rows x {ml['search_all_columns']} columns; "
              f"top 100 returned {ml['top100_rows']} rows")
    print("raw sqlite3: log_metric is executemany per row; runs() is fetching the same rows, no DataFrame")


if __name__ == "__main__":
    main()
