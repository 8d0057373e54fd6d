"""A notebook in the MLflow course style, run with the real MLflow and, with only its import line
changed, through ``nbtrack.mlflow`` in a real kernel (nbclient), with and without ``%%track`` on
its training cells: nbtrack records the same params, metrics and artifacts MLflow does, plus the
notebook snapshot MLflow does not have.
"""

from __future__ import annotations

import hashlib
import re

import nbformat
import pytest
from interop_helpers import nbtrack_cli, run_mlflow_script

from nbtrack import config
from nbtrack.mlflow.entities import param_text
from nbtrack.notebook.runner import run_notebook
from nbtrack.store.query import metric_histories, search_runs
from nbtrack.store.records import load_run

IMPORT = "import mlflow"
SETUP = """import json
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

mlflow.set_tracking_uri("sqlite:///mlflow.db")
mlflow.set_experiment("wine-quality")"""
DATA = """rng = np.random.default_rng(42)
X = rng.normal(size=(200, 4))
y = X @ np.array([1.5, -2.0, 0.0, 0.7]) + rng.normal(scale=0.3, size=200)
X_train, X_test, y_train, y_test = X[:150], X[150:], y[:150], y[150:]"""
TRAIN = """def train(alpha, l1_ratio, epochs=25, run_name=None):
    with mlflow.start_run(run_name=run_name):
        mlflow.log_param("alpha", alpha)
        mlflow.log_params({"l1_ratio": l1_ratio, "epochs": epochs, "features": ["a", "b", "c", "d"]})
        mlflow.set_tag("model", "elasticnet-gd")
        w = np.zeros(X.shape[1])
        for epoch in range(epochs):
            penalty = alpha * (l1_ratio * np.sign(w) + (1 - l1_ratio) * w)
            w -= 0.1 * (X_train.T @ (X_train @ w - y_train) / len(y_train) + penalty)
            mlflow.log_metric("train_rmse", float(np.sqrt(np.mean((X_train @ w - y_train) ** 2))), step=epoch)
        error = X_test @ w - y_test
        rmse = float(np.sqrt(np.mean(error ** 2)))
        mlflow.log_metrics({"rmse": rmse, "mae": float(np.mean(np.abs(error)))})
        with open("coefficients.json", "w") as f:
            json.dump({"w": [round(float(v), 6) for v in w]}, f)
        mlflow.log_artifact("coefficients.json", artifact_path="model")
        mlflow.log_dict({"alpha": alpha, "l1_ratio": l1_ratio}, "config.yaml")
        mlflow.log_text(f"alpha={alpha}\\n", "notes.txt")
        mlflow.log_table({"true": [round(float(v), 6) for v in y_test[:5]],
                          "predicted": [round(float(v), 6) for v in (X_test @ w)[:5]]}, "predictions.json")
        fig, ax = plt.subplots()
        ax.scatter(y_test, X_test @ w)
        mlflow.log_figure(fig, "plots/predicted_vs_true.png")
        plt.close(fig)
        return rmse"""
RUNS = [
    'rmse_a = train(0.01, 0.5, run_name="baseline")\nprint(f"baseline rmse {rmse_a:.4f}")',
    'rmse_b = train(0.3, 0.2, run_name="regularized")',
    """with mlflow.start_run(run_name="sweep"):
    mlflow.log_param("grid", "l1_ratio")
    for l1 in [0.0, 1.0]:
        with mlflow.start_run(run_name=f"l1={l1}", nested=True):
            mlflow.log_param("l1_ratio", l1)
            for i in range(3):
                mlflow.log_metric("loss", 1.0 / (i + 1 + l1))""",
]
SEARCH = """runs = mlflow.search_runs(experiment_names=["wine-quality"], order_by=["metrics.rmse ASC"])
best = runs.iloc[0]
print("BEST", best["tags.mlflow.runName"], best["params.alpha"], round(best["metrics.rmse"], 9))
print("COLUMNS", sorted(c for c in runs.columns if not c.startswith("tags.")))"""


def course_notebook(import_line: str, tracked: bool) -> nbformat.NotebookNode:
    """The course notebook; ``tracked`` puts %%track on its training cells (and loads the extension)."""
    cells = [nbformat.v4.new_markdown_cell("# Wine quality: an elastic net, tracked with MLflow")]
    if tracked:
        cells.append(nbformat.v4.new_code_cell("%load_ext nbtrack"))
    cells += [nbformat.v4.new_code_cell(import_line + "\n" + SETUP), nbformat.v4.new_code_cell(DATA),
              nbformat.v4.new_code_cell(TRAIN)]
    cells += [nbformat.v4.new_code_cell(("%%track\n" if tracked else "") + source) for source in RUNS]
    cells.append(nbformat.v4.new_code_cell(SEARCH))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _script(notebook: nbformat.NotebookNode) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


@pytest.fixture(scope="module")
def with_mlflow(mlflow_python, tmp_path_factory) -> dict:
    """The original notebook's code run by the real MLflow; what MLflow recorded, and what it printed."""
    import subprocess

    from interop_helpers import mlflow_env

    folder = tmp_path_factory.mktemp("original")
    (folder / "course.py").write_text(_script(course_notebook(IMPORT, tracked=False)))
    result = subprocess.run([mlflow_python, "course.py"], cwd=folder, capture_output=True, text=True,
                            env=mlflow_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = run_mlflow_script(mlflow_python, "dump_store.py", f"sqlite:///{folder / 'mlflow.db'}")
    return {"runs": {run["name"]: run for run in seen["runs"]}, "stdout": result.stdout}


def _printed(notebook: nbformat.NotebookNode, marker: str) -> str:
    text = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")
    return next(line for line in text.splitlines() if line.startswith(marker))


def _history(store, run_id: str, key: str) -> list[tuple[int, float]]:
    frame = metric_histories(store, [run_id], key)
    return sorted(zip(frame["step"].tolist(), frame["value"].tolist()))


@pytest.mark.parametrize("tracked", [False, True], ids=["plain", "tracked"])
def test_course_notebook_records_what_mlflow_records(with_mlflow, tracked, tmp_path):
    path = tmp_path / "course.ipynb"
    nbformat.write(course_notebook("import nbtrack.mlflow as mlflow", tracked), str(path))
    executed = run_notebook(path, store=tmp_path / "unused.db")
    store = config.store_for(f"sqlite:///{tmp_path / 'mlflow.db'}")  # set_tracking_uri made it an nbtrack store
    frame = search_runs(store)
    by_name = {name: run_id for name, run_id in zip(frame["name"], frame["run_id"])}
    expected = with_mlflow["runs"]
    assert set(by_name) == set(expected)

    for name, seen in expected.items():
        run = load_run(store, by_name[name])
        assert run.experiment == "wine-quality" and run.status == "FINISHED"
        assert {k: param_text(v) for k, v in run.params.items()} == seen["params"], name
        parent = seen["tags"].get("mlflow.parentRunId")
        names = {v["run_id"]: k for k, v in expected.items()}
        assert (run.parent_run_id and load_run(store, run.parent_run_id).name) == (parent and names[parent])
        assert set(run.metrics) == set(seen["history"]), name
        for key, points in seen["history"].items():
            stored = _history(store, run.run_id, key)
            assert [s for s, _ in stored] == [s for s, _, _ in points], (name, key)
            assert [v for _, v in stored] == pytest.approx([v for _, v, _ in points], rel=1e-9), (name, key)
        artifacts = {a.name: a for a in run.artifacts}
        assert set(seen["artifacts"]) <= set(artifacts), name
        extra = set(artifacts) - set(seen["artifacts"])
        assert all(n in ("notebook.py", "notebook.ipynb") or n.startswith("outputs/") for n in extra), extra
        for artifact_name, digest in seen["artifacts"].items():
            content = artifacts[artifact_name].read_bytes()
            if artifact_name.endswith(".png"):  # matplotlib versions differ: same kind of file
                assert content.startswith(b"\x89PNG")
            else:  # the same bytes MLflow wrote
                assert hashlib.sha256(content).hexdigest() == digest, artifact_name
        if run.parent_run_id is None:  # what MLflow does not have: the notebook the run came from
            snapshot = run.document("notebook")
            assert snapshot and snapshot["source"] in ("disk", "live")
            text = run.artifact("notebook.py").read_text()
            assert "import nbtrack.mlflow as mlflow" in text and "def train(alpha, l1_ratio" in text
            if tracked:  # the cell's run is the one start_run made
                cell = {"baseline": RUNS[0], "regularized": RUNS[1], "sweep": RUNS[2]}[name]
                assert run.tags["nbtrack.cell"] and run.document("cell")["source"] == "%%track\n" + cell

    assert _printed(executed, "BEST") == next(line for line in with_mlflow["stdout"].splitlines()
                                             if line.startswith("BEST"))
    assert _printed(executed, "COLUMNS") == next(line for line in with_mlflow["stdout"].splitlines()
                                                if line.startswith("COLUMNS"))
    assert re.search(r"baseline rmse \d\.\d{4}", _printed(executed, "baseline rmse"))


def test_a_tracked_notebook_exports_to_mlflow_with_its_source(with_mlflow, mlflow_python, tmp_path):
    """Exported, the cell runs show in MLflow as notebook runs: source tags, the cell, the snapshot."""
    path = tmp_path / "course.ipynb"
    nbformat.write(course_notebook("import nbtrack.mlflow as mlflow", tracked=True), str(path))
    run_notebook(path, store=tmp_path / "unused.db")
    target = tmp_path / "exported" / "mlflow.db"
    target.parent.mkdir()
    result = nbtrack_cli("--store", str(tmp_path / "mlflow.db"), "export", "mlflow", str(target),
                         "--mlflow-python", mlflow_python)
    assert result.returncode == 0, result.stderr
    seen = {r["name"]: r for r in run_mlflow_script(mlflow_python, "dump_store.py", f"sqlite:///{target}")["runs"]}
    assert set(seen) == set(with_mlflow["runs"])
    for name, cell in (("baseline", RUNS[0]), ("regularized", RUNS[1]), ("sweep", RUNS[2])):
        tags = seen[name]["tags"]
        assert tags["mlflow.source.type"] == "NOTEBOOK" and tags["mlflow.source.name"] == str(path)
        assert tags["mlflow.source.cell"] == "%%track\n" + cell
        assert {"notebook.py", "notebook.ipynb", "nbtrack/run.json"} <= set(seen[name]["artifacts"])
        assert seen[name]["params"] == with_mlflow["runs"][name]["params"]

