"""Autolog's overhead on a scikit-learn fit of 1,000 rows, beside MLflow's autolog on the same fit.

    python benchmarks/bench_autolog.py [--reps 40] [--rows 1000] [--mlflow-python PATH] [--no-mlflow]

Each contender runs in a child process of this script (nbtrack with this interpreter, MLflow
with the interpreter of bench_core.py's ``benchmarks/.venv-mlflow``, which has scikit-learn)
on the same data: ``LogisticRegression(max_iter=500)`` on 1,000 rows x 20 features, one BLAS
thread. Plain and autologged fits alternate (autolog turned off and on between them, not
timed); the overhead is the median (and p90) of the per-pair differences, after two warm-up pairs.

Cases: the fit inside a run the user started (a ``%%track`` cell: autolog logs into it; the
run's start and end are not timed), and the fit outside any run (autolog starts and ends a
run of its own: timed), with everything on (params, training metrics, dataset fingerprint,
model: skops for nbtrack, MLflow's model format for MLflow) and with models off.
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


def _data(rows: int):
    from sklearn.datasets import make_classification

    return make_classification(n_samples=rows, n_features=20, n_informative=8, random_state=0)


def _timed(fit, around=None) -> float:
    """Milliseconds of one ``fit()``; ``around`` (a context manager factory, a user's run) is
    entered before the clock starts and left after it stops."""
    if around is None:
        start = time.perf_counter()
        fit()
        return (time.perf_counter() - start) * 1000
    with around():
        start = time.perf_counter()
        fit()
        return (time.perf_counter() - start) * 1000


def paired(fit, reps: int, enable, disable, around=None) -> dict:
    """Plain and autologged fits in turn (so the machine's load drifts over both alike); the
    overhead is the median of the per-pair differences. Two warm-up pairs are dropped."""
    plain, logged, overhead = [], [], []
    for index in range(reps + 2):
        disable()
        without = _timed(fit)
        enable()
        with_autolog = _timed(fit, around)
        if index >= 2:
            plain.append(without)
            logged.append(with_autolog)
            overhead.append(with_autolog - without)
    disable()
    ordered = sorted(overhead)
    return {"plain": statistics.median(plain), "autolog": statistics.median(logged),
            "overhead": statistics.median(overhead), "overhead_p90": ordered[int(0.9 * (len(ordered) - 1))]}


def bench_nbtrack(workdir: str, reps: int, rows: int) -> dict:
    os.environ["NBTRACK_STORE"] = f"sqlite:///{os.path.join(workdir, 'nbtrack.db')}"
    from sklearn.linear_model import LogisticRegression

    import nbtrack

    X, y = _data(rows)

    def fit():
        LogisticRegression(max_iter=500).fit(X, y)

    def user_run():
        return nbtrack.track("bench", name="cell")

    def off():
        nbtrack.autolog(disable=True)

    result = {
        "in_run": paired(fit, reps, lambda: nbtrack.autolog(), off, around=user_run),
        "own_run": paired(fit, reps, lambda: nbtrack.autolog(), off),
        "in_run_no_models": paired(fit, reps, lambda: nbtrack.autolog(log_models=False), off, around=user_run),
        "own_run_no_models": paired(fit, reps, lambda: nbtrack.autolog(log_models=False), off),
    }
    result["runs"] = nbtrack.count_runs()
    return result


def bench_mlflow(workdir: str, reps: int, rows: int) -> dict:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(f"sqlite:///{os.path.join(workdir, 'mlflow.db')}")
    mlflow.set_experiment("bench")
    X, y = _data(rows)

    def fit():
        LogisticRegression(max_iter=500).fit(X, y)

    def user_run():
        return mlflow.start_run(run_name="cell")

    def off():
        mlflow.sklearn.autolog(disable=True, silent=True)

    result = {
        "in_run": paired(fit, reps, lambda: mlflow.sklearn.autolog(silent=True), off, around=user_run),
        "own_run": paired(fit, reps, lambda: mlflow.sklearn.autolog(silent=True), off),
        "in_run_no_models": paired(fit, reps, lambda: mlflow.sklearn.autolog(log_models=False, silent=True), off,
                                   around=user_run),
        "own_run_no_models": paired(fit, reps, lambda: mlflow.sklearn.autolog(log_models=False, silent=True), off),
    }
    result["runs"] = len(mlflow.search_runs(search_all_experiments=True))
    return result


def child(python: str, contender: str, workdir: str, reps: int, rows: int, env: dict) -> dict:
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        import bench_autolog
        print("RESULT" + json.dumps(bench_autolog.bench_{contender}({workdir!r}, {reps}, {rows})))
    """)
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, cwd=workdir)
    if result.returncode != 0:
        raise RuntimeError(f"{contender} benchmark failed:\n{result.stderr[-3000:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def _mlflow_python(explicit: str | None) -> str | None:
    sys.path.insert(0, str(HERE))
    from bench_core import mlflow_python

    return mlflow_python(explicit)


CASES = (("in_run", "inside a user's run (%%track), everything on"),
         ("own_run", "outside any run (own run started and ended), everything on"),
         ("in_run_no_models", "inside a user's run, log_models=False"),
         ("own_run_no_models", "outside any run, log_models=False"))


def report(results: dict, rows: int, reps: int) -> None:
    print(f"autolog overhead on LogisticRegression(max_iter=500).fit, {rows} rows x 20 features, one BLAS thread; "
          f"median of {reps} paired fits (p90 of the differences), ms; "
          f"load before/after {results['load_before']} / {results['load_after']}")
    names = [name for name in ("nbtrack", "mlflow") if name in results]
    for name in names:
        print(f"  {name}: plain fit {results[name]['in_run']['plain']:.1f} ms, {results[name]['runs']} runs written")
    header = "".join(f"{name + ' overhead (p90)':>28}" for name in names)
    print(f"  {'case':<62}{header}" + ("   mlflow / nbtrack" if len(names) == 2 else ""))
    for key, label in CASES:
        cells = [f"{results[n][key]['overhead']:.1f} ({results[n][key]['overhead_p90']:.1f})" for n in names]
        overheads = [results[n][key]["overhead"] for n in names]
        ratio = f"   {overheads[1] / overheads[0]:.1f}x" if len(names) == 2 and overheads[0] > 0 else ""
        print(f"  {label:<62}" + "".join(f"{cell:>28}" for cell in cells) + ratio)
    print("  target: nbtrack overhead < 20 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--mlflow-python", help="an interpreter with mlflow and scikit-learn")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE)])
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")  # steadier on a shared machine
    results: dict = {"load_before": tuple(round(x, 2) for x in os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="bench-autolog-") as workdir:
        os.makedirs(os.path.join(workdir, "nbtrack"))
        print("running nbtrack ...", file=sys.stderr)
        results["nbtrack"] = child(sys.executable, "nbtrack", os.path.join(workdir, "nbtrack"), args.reps,
                                   args.rows, env)
        python = None if args.no_mlflow else _mlflow_python(args.mlflow_python)
        if python is not None:
            os.makedirs(os.path.join(workdir, "mlflow"))
            print("running mlflow ...", file=sys.stderr)
            mlflow_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
            mlflow_env["PYTHONPATH"] = str(HERE)
            try:
                results["mlflow"] = child(python, "mlflow", os.path.join(workdir, "mlflow"), args.reps, args.rows,
                                          mlflow_env)
            except RuntimeError as error:
                print(f"MLflow could not run: {error}", file=sys.stderr)
    results["load_after"] = tuple(round(x, 2) for x in os.getloadavg())
    report(results, args.rows, args.reps)


if __name__ == "__main__":
    main()
