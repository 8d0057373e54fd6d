"""Core speed: nbtrack (SQLite and PostgreSQL) against MLflow (SQLite) and raw sqlite3, side by side,
at 1,000, 10,000 and 100,000 runs.

    python benchmarks/bench_core.py [--sizes 1000,10000,100000] [--mlflow-python PATH | --no-mlflow]
                                    [--pg URI | --no-pg] [--json FILE]

Each contender runs in its own child process of this one (imports measured cold, nothing
shared). MLflow lives in its own virtual environment (``benchmarks/.venv-mlflow``, created with
``pip install mlflow`` on first use, or the interpreter given by ``--mlflow-python`` /
``NBTRACK_BENCH_MLFLOW_PYTHON``), because it pins versions the project does not. PostgreSQL is
the server named by ``--pg`` / ``NBTRACK_BENCH_PG`` (an admin URI; a database is created and
dropped), else a throw-away cluster started here with Debian's ``initdb``/``pg_ctl`` (default
settings, loopback). The raw floor is plain ``sqlite3`` on normalized tables (runs, params,
metrics, tags): ``executemany`` to write, and fetching the same per-key rows to read, no DataFrame.

How the runs are made: runs have 10 params, 5 metrics and 3 tags. In each contender, 1,000 runs
are created through its API (``nbtrack.track`` / MLflow's ``create_run`` + ``log_batch`` /
``executemany``) and timed; the rest are bulk-loaded, in 1,000-run batches through the store's own
write primitive for nbtrack (``SqlStore.write_batch``: the same transaction, tables and summary
rows as logged runs), by copying the first 1,000 runs inside MLflow's database (creating 100,000
through MLflow's API takes hours), by ``executemany`` for raw. PostgreSQL tables are ANALYZEd after
loading (as autovacuum would); the EXPLAIN of the filtered top-100 is printed for both backends.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

FILTER = "metrics.m0 > 0.5 and params.p0 = 'v3'"
ORDER = "metrics.m1 DESC"
IN_LIST_VALUES = 40_000


def run_fields(i: int) -> tuple[dict, dict, dict]:
    rng = random.Random(i)
    params = {"p0": f"v{i % 10}", "p1": round(rng.random(), 4)}
    params.update({f"p{k}": rng.randint(0, 1000) for k in range(2, 10)})
    metrics = {f"m{k}": rng.random() for k in range(5)}
    tags = {"t0": f"team{i % 3}", "t1": "bench", "t2": f"batch{i // 100}"}
    return params, metrics, tags


CPU_TIMES: dict[str, float] = {}  # measure -> best CPU time of this process (see report())


def best_of(function, repeat: int, name: str | None = None) -> tuple[float, object]:
    """The best wall time of ``repeat`` calls (and, under ``name``, the best CPU time of this process)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if name:
        CPU_TIMES[name] = min(cpu)
    return min(times), result


# --- contenders (run in child processes) ------------------------------------------------

def load_nbtrack_runs(store, experiment: str, start: int, stop: int, chunk: int = 1000) -> None:
    """Runs ``start``..``stop`` through ``SqlStore.write_batch``, 1,000 per transaction."""
    from nbtrack.store.batch import Batch
    from nbtrack.values import encode_param

    now = time.time() - stop
    for base in range(start, stop, chunk):
        batch = Batch()
        for i in range(base, min(stop, base + chunk)):
            run_id = uuid.uuid4().hex
            params, metrics, tags = run_fields(i)
            batch.creates.append((run_id, experiment, f"run-{i}", now + i, None))
            batch.params.extend((run_id, k, *encode_param(v)) for k, v in params.items())
            batch.metrics.extend((run_id, k, 0, v, now + i) for k, v in metrics.items())
            batch.latest.update({(run_id, k): (0, v, now + i) for k, v in metrics.items()})
            batch.tags.extend((run_id, k, v) for k, v in tags.items())
            batch.ends.append((run_id, "FINISHED", now + i + 1))
        store.write_batch(batch)


def measure_nbtrack_reads(store, size: int, explain: bool) -> dict:
    import nbtrack

    out: dict = {}
    nbtrack.runs("bench", max_results=1)  # warm: pandas imported, store open
    CPU_TIMES.clear()
    out["search_all_s"], frame = best_of(lambda: nbtrack.runs("bench"), 3, "search_all_s")
    out["search_all_shape"] = list(frame.shape)
    out["top100_s"], top = best_of(lambda: nbtrack.runs("bench", filter=FILTER, order_by=ORDER, max_results=100), 7,
                                   "top100_s")
    out["top100_rows"] = len(top)
    out["summarize_s"], summary = best_of(lambda: nbtrack.summarize_runs("bench"), 5, "summarize_s")
    out["summarize_count"] = summary.count
    out["count_s"], _ = best_of(lambda: nbtrack.count_runs("bench", filter=FILTER), 5, "count_s")
    if size == 10_000:
        ids = frame["run_id"].tolist()[:20] + [uuid.uuid4().hex for _ in range(IN_LIST_VALUES - 20)]
        text = "run_id IN (" + ", ".join(f"'{i}'" for i in ids) + ")"
        out["in_list_s"], found = best_of(lambda: nbtrack.runs("bench", filter=text), 3, "in_list_s")
        out["in_list_rows"] = len(found)
    out["cpu"] = dict(CPU_TIMES)
    if explain:
        out["explain"] = explain_top100(store)
    return out


def explain_top100(store) -> list[str]:
    """The plan of the filtered, sorted top-100's first statement (the index walk)."""
    from nbtrack.store.filters import parse_order_by
    from nbtrack.store.order import metric_page_queries
    from nbtrack.store.query import _FROM, _ROW, selection

    conditions = selection("bench", FILTER).conditions(store.dialect)
    statement = metric_page_queries(_ROW, _FROM, conditions, parse_order_by(ORDER))[0].limit(100)
    sql = str(statement.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    with store.read() as connection:
        rows = connection.exec_driver_sql(prefix + sql.replace("%", "%%")).all()
    return [row[-1] if store.dialect == "sqlite" else row[0] for row in rows]


def bench_nbtrack(workdir: str, sizes: list[int], uri: str | None = None) -> dict:
    import nbtrack

    nbtrack.set_store(uri or os.path.join(workdir, "nbtrack.db"))
    store = nbtrack.get_store()
    out: dict = {"sizes": {}}
    with nbtrack.track("calls") as run:
        n = 100_000
        start = time.perf_counter()
        for i in range(n):
            nbtrack.log_metric("loss", 1.0 / (i + 1))
        out["log_metric_us"] = (time.perf_counter() - start) / n * 1e6
        start = time.perf_counter()
        run.flush()
        out["flush_us_per_point"] = (time.perf_counter() - start) / n * 1e6

    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(1000):
        params, metrics, tags = run_fields(i)
        with nbtrack.track("bench", params=params, tags=tags):
            nbtrack.log_metrics(metrics)
    out["create_run_ms"] = (time.perf_counter() - start)
    out["create_run_cpu_ms"] = (time.process_time() - start_cpu)
    made = 1000
    for size in sizes:
        start = time.perf_counter()
        load_nbtrack_runs(store, "bench", made, size)
        out.setdefault("load_s", {})[str(size)] = time.perf_counter() - start
        made = size
        if store.dialect == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
        out["sizes"][str(size)] = measure_nbtrack_reads(store, size, explain=size == sizes[-1])
    return out


def bench_mlflow(workdir: str, sizes: list[int]) -> dict:
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{os.path.join(workdir, 'mlflow.db')}"
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.create_experiment("bench", artifact_location=os.path.join(workdir, "mlruns"))
    calls_experiment = mlflow.create_experiment("calls", artifact_location=os.path.join(workdir, "mlruns"))
    out: dict = {"sizes": {}}
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
    out["create_run_ms"] = time.perf_counter() - start
    copies = 0
    for size in sizes:
        copy_runs(os.path.join(workdir, "mlflow.db"), range(copies + 1, size // 1000))
        copies = size // 1000 - 1
        mlflow.search_runs([experiment_id], max_results=1)
        measured: dict = {}
        CPU_TIMES.clear()
        measured["search_all_s"], frame = best_of(
            lambda: mlflow.search_runs([experiment_id], max_results=size), 2 if size <= 10_000 else 1, "search_all_s")
        measured["search_all_shape"] = list(frame.shape)
        measured["top100_s"], top = best_of(lambda: mlflow.search_runs(
            [experiment_id], filter_string=FILTER, order_by=[ORDER], max_results=100), 3, "top100_s")
        measured["top100_rows"] = len(top)
        measured["cpu"] = dict(CPU_TIMES)
        out["sizes"][str(size)] = measured
    return out


def copy_runs(path: str, copy_numbers) -> None:
    """Clone MLflow's first 1,000 runs inside its own database, with new ids (same schema, same shape)."""
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("create temp table originals as select run_uuid from runs where run_uuid not like 'x%' "
                       "and experiment_id = (select experiment_id from experiments where name = 'bench')")
    for copy in copy_numbers:
        new_id = f"'x{copy:03d}' || substr(run_uuid, 5)"  # 'x' is not hex: never an original id
        for table in ("runs", "params", "metrics", "latest_metrics", "tags"):
            columns = [row[1] for row in connection.execute(f"pragma table_info({table})")]
            select = ", ".join(new_id if c == "run_uuid" else c for c in columns)
            connection.execute(f"insert into {table} ({', '.join(columns)}) select {select} from {table} "
                               "where run_uuid in (select run_uuid from originals)")
    connection.commit()
    connection.close()


def bench_raw(workdir: str, sizes: list[int]) -> dict:
    import sqlite3

    connection = sqlite3.connect(os.path.join(workdir, "raw.db"))
    connection.execute("pragma journal_mode=wal")
    connection.execute("pragma synchronous=normal")
    connection.executescript("""
        create table runs (run_id text primary key, experiment text, name text, status text, start real);
        create index runs_experiment on runs (experiment);
        create table params (run_id text, key text, value text, primary key (run_id, key));
        create table metrics (run_id text, key text, step int, value real, ts real);
        create index metrics_run on metrics (run_id);
        create table tags (run_id text, key text, value text, primary key (run_id, key));
    """)
    out: dict = {"sizes": {}}
    n = 100_000
    rows = [("calls", "loss", i, 1.0 / (i + 1), time.time()) for i in range(n)]
    start = time.perf_counter()
    with connection:
        connection.executemany("insert into metrics values (?, ?, ?, ?, ?)", rows)
    out["log_metric_us"] = (time.perf_counter() - start) / n * 1e6

    def create(indices) -> None:
        with connection:
            for i in indices:
                params, metrics, tags = run_fields(i)
                run_id = f"{i:032x}"
                connection.execute("insert into runs values (?, 'bench', ?, 'FINISHED', ?)",
                                   (run_id, str(i), time.time()))
                connection.executemany("insert into params values (?, ?, ?)",
                                       [(run_id, k, str(v)) for k, v in params.items()])
                connection.executemany("insert into metrics values (?, ?, 0, ?, ?)",
                                       [(run_id, k, v, time.time()) for k, v in metrics.items()])
                connection.executemany("insert into tags values (?, ?, ?)", [(run_id, k, v) for k, v in tags.items()])

    start = time.perf_counter()
    for i in range(1000):
        create([i])  # one transaction per run, as a tracker commits each run
    out["create_run_ms"] = time.perf_counter() - start
    made = 1000
    for size in sizes:
        for base in range(made, size, 1000):
            create(range(base, min(size, base + 1000)))
        made = size

        def fetch() -> int:
            fetched = 0
            for table in ("runs", "params", "metrics", "tags"):
                fetched += len(connection.execute(f"select * from {table} where run_id in "
                                                  "(select run_id from runs where experiment = 'bench')").fetchall())
            return fetched

        CPU_TIMES.clear()
        seconds, _ = best_of(fetch, 3, "search_all_s")
        out["sizes"][str(size)] = {"search_all_s": seconds, "cpu": dict(CPU_TIMES)}
    return out


def measure_import(python: str, module: str, env: dict) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = [float(subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                                    check=True).stdout.strip()) for _ in range(5)]
    return statistics.median(samples)


# --- PostgreSQL -------------------------------------------------------------------------

class Postgres:
    """A database for the run: on the server named by ``admin_uri``, else on a throw-away cluster."""

    def __init__(self, admin_uri: str | None) -> None:
        self.cluster: Path | None = None
        self.as_user: list[str] = []
        if admin_uri is None:
            admin_uri = self._start_cluster()
        self.admin_uri = admin_uri
        self.name = f"nbtrack_bench_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.uri = admin_uri.rsplit("/", 1)[0] + f"/{self.name}"

    def _admin(self, statement: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_uri, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def _start_cluster(self) -> str:
        bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
        if not bindirs:
            raise RuntimeError("no PostgreSQL: install it (apt-get install postgresql), give --pg URI or --no-pg")
        bindir = bindirs[0]
        self.cluster = Path(tempfile.mkdtemp(prefix="nbtrack-bench-pg-"))
        sockets = self.cluster / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.cluster, "postgres")
            shutil.chown(sockets, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        data = self.cluster / "data"
        subprocess.run(self.as_user + [f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust",
                                       "-E", "UTF8"], check=True, capture_output=True)
        subprocess.run(self.as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-l", str(self.cluster / "log"), "-w",
                                       "-o", f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True)
        self.bindir = bindir
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def close(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if self.cluster is not None:
            subprocess.run(self.as_user + [f"{self.bindir}/pg_ctl", "-D", str(self.cluster / "data"), "-m", "fast",
                                           "stop"], capture_output=True)
            shutil.rmtree(self.cluster, ignore_errors=True)


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


def child(python: str, call: str, env: dict) -> dict:
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        import bench_core
        print("RESULT" + json.dumps(bench_core.{call}))
    """)
    started = time.perf_counter()
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{call} failed:\n{result.stderr[-3000:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    print(f"  {call.split('(')[0]} took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return json.loads(line[len("RESULT"):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="run counts, ascending multiples of 1000")
    parser.add_argument("--mlflow-python", help="a Python interpreter with mlflow installed")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--pg", help="PostgreSQL admin URI (default: NBTRACK_BENCH_PG, else a throw-away cluster)")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if any(size % 1000 or size < 1000 for size in sizes):
        parser.error("sizes are multiples of 1000")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("NBTRACK_STORE", None)
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in ("raw", "nbtrack"):
            os.makedirs(os.path.join(workdir, name))
            print(f"running {name} ...", file=sys.stderr)
            results[name] = child(sys.executable, f"bench_{name}({os.path.join(workdir, name)!r}, {sizes})", env)
            _keep(results, args.json)
        results["nbtrack"]["import_s"] = measure_import(sys.executable, "nbtrack", env)
        if not args.no_pg:
            postgres = Postgres(args.pg or os.environ.get("NBTRACK_BENCH_PG"))
            try:
                os.makedirs(os.path.join(workdir, "pg"))
                print("running nbtrack on PostgreSQL ...", file=sys.stderr)
                results["nbtrack_pg"] = child(
                    sys.executable, f"bench_nbtrack({os.path.join(workdir, 'pg')!r}, {sizes}, {postgres.uri!r})", env)
                _keep(results, args.json)
            finally:
                postgres.close()
        python = None if args.no_mlflow else mlflow_python(args.mlflow_python)
        if python:
            os.makedirs(os.path.join(workdir, "mlflow"))
            print("running mlflow ...", file=sys.stderr)
            mlflow_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
            mlflow_env["PYTHONPATH"] = str(HERE)
            results["mlflow"] = child(python, f"bench_mlflow({os.path.join(workdir, 'mlflow')!r}, {sizes})",
                                      mlflow_env)
            results["mlflow"]["import_s"] = measure_import(python, "mlflow", mlflow_env)
            results["mlflow"]["version"] = subprocess.run(
                [python, "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True, text=True,
                env=mlflow_env).stdout.strip()
    results["load"] = {"before": load_before, "after": os.getloadavg(), "cores": os.cpu_count()}
    report(results, sizes)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def _keep(results: dict, path: str | None) -> None:
    """Write what is measured so far (a later contender failing keeps the earlier figures)."""
    if path:
        Path(path).write_text(json.dumps(results, indent=2))


def _fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    if unit == "µs":
        return f"{value:.2f} µs"
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _ratio(a: float | None, b: float | None, digits: int = 0) -> str:
    return f"{b / a:.{digits}f}x" if a and b else "-"


def report(results: dict[str, dict], sizes: list[int]) -> None:
    nb, pg, ml, raw = (results.get(k, {}) for k in ("nbtrack", "nbtrack_pg", "mlflow", "raw"))
    load = results["load"]
    print(f"\nnbtrack core benchmark (python {sys.version.split()[0]}, MLflow {ml.get('version', 'not run')} on "
          f"SQLite; load average {load['before'][0]:.2f} before, {load['after'][0]:.2f} after, "
          f"on {load['cores']} cores)\n")
    header = (f"{'measure':<44} {'nbtrack':>10} {'nbtrack pg':>11} {'MLflow':>10} {'MLflow/nb':>10} "
              f"{'raw':>10} {'nb/raw':>7}  target")
    print(header)
    print("-" * len(header))

    def line(label, a, b, c, d, target, unit="s"):
        print(f"{label:<44} {_fmt(a, unit):>10} {_fmt(b, unit):>11} {_fmt(c, unit):>10} {_ratio(a, c):>10} "
              f"{_fmt(d, unit):>10} {_ratio(d, a, 1):>7}  {target}")

    line("log_metric, per call", nb.get("log_metric_us"), pg.get("log_metric_us"), ml.get("log_metric_us"),
         raw.get("log_metric_us"), "< 10 µs", "µs")
    line("create a run (10 params, 5 metrics, 3 tags)", nb.get("create_run_ms"), pg.get("create_run_ms"),
         ml.get("create_run_ms"), raw.get("create_run_ms"), "< 1 ms", "ms")
    line("import", nb.get("import_s"), None, ml.get("import_s"), None, "< 0.3 s")
    for size in sizes:
        key = str(size)
        n, p, m, r = (d.get("sizes", {}).get(key, {}) for d in (nb, pg, ml, raw))
        targets = {1000: {}, 10_000: {"all": "< 0.2 s, >= 40x MLflow", "top": "< 50 ms", "sum": "< 40 ms"},
                   100_000: {"all": "< 2 s", "top": "< 50 ms (pg < 100 ms)", "sum": "< 0.3 s"}}.get(size, {})
        print(f"-- {size:,} runs")
        line("  runs() into a DataFrame", n.get("search_all_s"), p.get("search_all_s"), m.get("search_all_s"),
             r.get("search_all_s"), targets.get("all", ""))
        line("  filtered, sorted top 100", n.get("top100_s"), p.get("top100_s"), m.get("top100_s"), None,
             targets.get("top", ""))
        line("  summarize_runs", n.get("summarize_s"), p.get("summarize_s"), None, None, targets.get("sum", ""))
        line("  count_runs (filtered)", n.get("count_s"), p.get("count_s"), None, None, "")
        if "in_list_s" in n:
            line(f"  filter run_id IN ({IN_LIST_VALUES:,} values)", n.get("in_list_s"), p.get("in_list_s"), None,
                 None, "< 1 s")
    print("\nCPU time of the measuring process (best run; on a loaded machine wall time is inflated by waiting "
          "for a core, CPU time much less; PostgreSQL's server time is not in its column):")
    header = f"{'measure':<44} {'nbtrack':>10} {'nbtrack pg':>11} {'MLflow':>10} {'MLflow/nb':>10} {'raw':>10}"
    print(header)
    print("-" * len(header))
    created = (nb.get("create_run_cpu_ms"), pg.get("create_run_cpu_ms"))
    print(f"{'create a run':<44} {_fmt(created[0], 'ms'):>10} {_fmt(created[1], 'ms'):>11}")
    for size in sizes:
        n, p, m, r = (d.get("sizes", {}).get(str(size), {}).get("cpu", {}) for d in (nb, pg, ml, raw))
        for label, key in (("runs() into a DataFrame", "search_all_s"), ("filtered, sorted top 100", "top100_s"),
                           ("summarize_runs", "summarize_s"), ("filter run_id IN (40,000 values)", "in_list_s")):
            if key in n:
                print(f"{f'  {size:,}: {label}':<44} {_fmt(n.get(key)):>10} {_fmt(p.get(key)):>11} "
                      f"{_fmt(m.get(key)):>10} {_ratio(n.get(key), m.get(key)):>10} {_fmt(r.get(key)):>10}")
    print()
    for name, data in (("nbtrack", nb), ("nbtrack pg", pg), ("MLflow", ml)):
        if data:
            shapes = {k: v.get("search_all_shape") for k, v in data.get("sizes", {}).items()}
            print(f"{name}: runs() shapes {shapes}; top 100 rows "
                  f"{ {k: v.get('top100_rows') for k, v in data.get('sizes', {}).items()} }")
    for name, data in (("nbtrack", nb), ("nbtrack pg", pg)):
        if data:
            loads = ", ".join(f"{int(k):,}: {v:.1f} s" for k, v in data.get("load_s", {}).items())
            print(f"{name}: bulk load through write_batch (cumulative sizes) {loads}; flush to disk "
                  f"{data['flush_us_per_point']:.2f} µs per metric point")
    print("raw sqlite3: writes with executemany; 'runs()' fetches the same per-key rows, no DataFrame")
    for name, data in (("SQLite", nb), ("PostgreSQL", pg)):
        last = data.get("sizes", {}).get(str(sizes[-1]), {})
        if last.get("explain"):
            print(f"\nEXPLAIN of the filtered top 100 at {sizes[-1]:,} runs, {name}:")
            print("\n".join("  " + row for row in last["explain"]))


if __name__ == "__main__":
    main()
