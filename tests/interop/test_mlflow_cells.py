"""The %%track rule of nbtrack.mlflow in a real kernel (docs/mlflow.md, "Inside a %%track cell")."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebook"))
from nb_kernel import Kernel, kernel_env  # noqa: E402

from nbtrack import config  # noqa: E402
from nbtrack.store.query import search_runs  # noqa: E402
from nbtrack.store.records import load_run  # noqa: E402


@pytest.fixture
def kernel(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store' / 'nbtrack.db'}"
    started = Kernel(tmp_path, kernel_env(uri))
    yield started, config.store_for(uri)
    started.shutdown()


def _ok(reply):
    assert reply.status == "ok", reply.text
    return reply


def test_start_run_in_a_tracked_cell_follows_the_rule(kernel):
    k, store = kernel
    _ok(k.execute('%load_ext nbtrack\nimport nbtrack.mlflow as mlflow\nmlflow.set_experiment("cells")'))
    first = _ok(k.execute('''%%track
with mlflow.start_run(run_name="adopted") as run:
    mlflow.log_param("a", 1)
    try:
        mlflow.start_run()
    except Exception as error:
        print("REFUSED", type(error).__name__)
    with mlflow.start_run(run_name="inner", nested=True):
        mlflow.log_metric("m", 1)
with mlflow.start_run(run_name="second"):
    mlflow.log_metric("m", 2)
mlflow.log_metric("after", 3)
print("CELL RUN", mlflow.active_run().info.run_id == run.info.run_id)''', cell_id="c-first"))
    assert "REFUSED MlflowException" in first.stdout and "CELL RUN True" in first.stdout
    frame = search_runs(store)
    ids = dict(zip(frame["name"], frame["run_id"]))
    adopted = load_run(store, ids["adopted"])
    assert adopted.tags["nbtrack.cell"] == "c-first" and adopted.experiment == "cells"
    assert adopted.params == {"a": 1} and adopted.metrics == {"after": 3.0} and adopted.status == "FINISHED"
    for child in ("inner", "second"):  # runs the cell starts after the first are its children
        assert load_run(store, ids[child]).parent_run_id == adopted.run_id
    assert len(frame) == 3  # no run besides the cell's own and its two children

    explicit = _ok(k.execute('''%%track experiment=explicit
mlflow.set_experiment("other")
with mlflow.start_run(run_name="kept"):
    mlflow.log_param("x", 1)''', cell_id="c-explicit"))
    assert "stays in experiment 'explicit'" in explicit.stderr
    _ok(k.execute('''%%track
mlflow.set_experiment("moved")
with mlflow.start_run(run_name="moved-run"):
    mlflow.log_param("x", 1)''', cell_id="c-moved"))
    _ok(k.execute('''%%track
try:
    with mlflow.start_run(run_name="caught"):
        raise ValueError("inside the block")
except ValueError:
    print("caught")''', cell_id="c-caught"))
    _ok(k.execute('''%%track
with mlflow.start_run(run_name="ended"):
    mlflow.end_run(status="KILLED")''', cell_id="c-ended"))
    _ok(k.execute(f'''%%track
with mlflow.start_run(run_id="{adopted.run_id}"):
    mlflow.log_metric("resumed", 1)''', cell_id="c-resume"))

    frame = search_runs(store)
    ids = dict(zip(frame["name"], frame["run_id"]))
    assert load_run(store, ids["kept"]).experiment == "explicit"  # named by %%track: it wins
    assert load_run(store, ids["moved-run"]).experiment == "moved"  # set_experiment in the cell moves the run
    caught = load_run(store, ids["caught"])
    assert caught.status == "FAILED" and caught.error["message"] == "inside the block"
    assert load_run(store, ids["ended"]).status == "KILLED"
    resumed = load_run(store, adopted.run_id)
    assert resumed.metrics["resumed"] == 1.0 and resumed.status == "FINISHED" and resumed.name == "adopted"
    cell_run = frame[frame["tags.nbtrack.cell"] == "c-resume"]
    assert len(cell_run) == 1 and cell_run["status"].iloc[0] == "FINISHED"  # the cell's own run, empty


def test_a_plain_notebook_cell_records_the_notebook_and_keeps_mlflow_semantics(kernel):
    k, store = kernel
    _ok(k.execute("import nbtrack.mlflow as mlflow"))
    reply = _ok(k.execute('''with mlflow.start_run(run_name="plain") as run:
    mlflow.log_metric("m", 1)
print(mlflow.get_run(run.info.run_id).info.status)''', cell_id="c-plain"))
    assert "FINISHED" in reply.stdout
    frame = search_runs(store)
    run = load_run(store, frame["run_id"][0])
    assert run.tags["nbtrack.source"] == "notebook" and run.document("history")  # the kernel's history
