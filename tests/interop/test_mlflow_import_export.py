"""nbtrack import/export mlflow against the real MLflow (in its own virtualenv, child processes).

The MLflow stores are made by MLflow itself (``mlflow_scripts/make_store.py``) and what MLflow
sees in a store is dumped by MLflow itself (``dump_store.py``); the nbtrack side is the CLI a
user runs and the store it writes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from interop_helpers import nbtrack_cli, run_mlflow_script

import nbtrack
from nbtrack import config
from nbtrack.store.query import metric_histories, search_runs
from nbtrack.store.records import load_run

DERIVED_TAGS = {"mlflow.runName", "mlflow.parentRunId", "mlflow.note.content"}


@pytest.fixture(scope="module")
def mlflow_stores(mlflow_python, tmp_path_factory):
    """The same runs in an MLflow SQLite database and in an mlruns directory, and MLflow's view of each."""
    root = tmp_path_factory.mktemp("mlflow")
    stores = {}
    for kind in ("sqlite", "mlruns"):
        folder = root / kind
        folder.mkdir()
        uri = f"sqlite:///{folder / 'mlflow.db'}" if kind == "sqlite" else str(folder / "mlruns")
        made = run_mlflow_script(mlflow_python, "make_store.py", uri, cwd=folder)
        seen = run_mlflow_script(mlflow_python, "dump_store.py", uri, cwd=folder)
        stores[kind] = {"uri": uri, "ids": made["ids"], "runs": seen["runs"], "cwd": folder}
    return stores


def _number(value):
    return value if math.isfinite(value) else repr(value)


def _restored(value):
    """MLflow's SQL store keeps infinities as the largest float: nbtrack imports them as infinities."""
    if isinstance(value, float) and abs(value) == 1.7976931348623157e308:
        return repr(math.copysign(math.inf, value))
    return value


def _history(store, run_id: str, key: str) -> list[list]:
    frame = metric_histories(store, [run_id], key)
    return sorted([int(step), _number(float(value)), int(round(moment.timestamp() * 1000))]
                  for step, value, moment in zip(frame["step"], frame["value"], frame["timestamp"]))


def _count_points(store) -> int:
    from sqlalchemy import func, select

    from nbtrack.store import schema as s

    with store.read() as connection:
        return connection.execute(select(func.count()).select_from(s.metric_history)).scalar_one()


@pytest.mark.parametrize("kind", ["sqlite", "mlruns"])
def test_import_carries_everything_mlflow_sees(mlflow_stores, kind, tmp_path, monkeypatch):
    monkeypatch.setenv("NBTRACK_HEARTBEAT_TIMEOUT", "3600")  # the run MLflow left RUNNING stays so here
    source = mlflow_stores[kind]
    target = tmp_path / "imported.db"
    result = nbtrack_cli("--store", str(target), "import", "mlflow", source["uri"], cwd=source["cwd"])
    assert result.returncode == 0, result.stderr
    assert f"imported {len(source['runs'])} runs from mlflow" in result.stdout
    assert "1 deleted runs left out" in result.stdout
    store = config.store_for(f"sqlite:///{target}")
    assert source["ids"]["gone"] not in set(search_runs(store, include_deleted=True)["run_id"])

    _assert_same_as_mlflow(store, source["runs"])
    parent = load_run(store, source["ids"]["parent"])
    assert len(parent.metric_history("noisy")) == 3  # three values at step 0, as MLflow keeps them
    assert parent.metrics["pos_inf"] == math.inf and math.isnan(parent.metrics["nan_metric"])
    assert load_run(store, source["ids"]["broken"]).status == "FAILED"
    assert load_run(store, source["ids"]["still-running"]).status == "RUNNING"

    points = _count_points(store)
    again = nbtrack_cli("--store", str(target), "import", "mlflow", source["uri"], cwd=source["cwd"])
    assert again.returncode == 0, again.stderr
    assert "imported 0 runs" in again.stdout and f"{len(source['runs'])} already imported" in again.stdout
    assert _count_points(store) == points and len(search_runs(store)) == len(source["runs"])


def _assert_same_as_mlflow(store, runs: list[dict]) -> None:
    """Every run MLflow showed is in the nbtrack store with the same fields, points and artifact bytes."""
    for seen in runs:
        run = load_run(store, seen["run_id"])  # MLflow's run ids are kept
        assert (run.experiment, run.name, run.status) == (seen["experiment"], seen["name"], seen["status"])
        assert run.start_time == seen["start_time"] / 1000
        assert run.end_time == (None if seen["end_time"] is None else seen["end_time"] / 1000)
        assert run.params == seen["params"]  # MLflow's params are text, and stay so
        assert run.parent_run_id == seen["tags"].get("mlflow.parentRunId")
        assert run.notes.rstrip("\n") == seen["tags"].get("mlflow.note.content", "")
        expected_tags = {k: v for k, v in seen["tags"].items() if k not in DERIVED_TAGS}
        expected_tags["nbtrack.imported_from"] = f"mlflow:{seen['run_id']}"
        assert run.tags == expected_tags
        assert {k: _number(v) for k, v in run.metrics.items()} == {k: _restored(v) for k, v in seen["metrics"].items()}
        for key, points in seen["history"].items():
            assert _history(store, run.run_id, key) == [[s, _restored(v), t] for s, v, t in points], key
        assert {a.name: a.sha256 for a in run.artifacts} == seen["artifacts"]
        assert sorted([d["name"].split(" (")[0], d["fingerprint"], d.get("kind")] for d in run.datasets) \
            == sorted([name, digest, "mlflow"] for name, digest, _ in seen["datasets"])
        for name, _digest, context in seen["datasets"]:
            assert any(d["name"] == f"{name} ({context})" for d in run.datasets)


@pytest.mark.postgres
def test_import_from_an_mlflow_postgresql_store(mlflow_python, mlflow_postgres_uri, tmp_path, monkeypatch):
    monkeypatch.setenv("NBTRACK_HEARTBEAT_TIMEOUT", "3600")
    run_mlflow_script(mlflow_python, "make_store.py", mlflow_postgres_uri, cwd=tmp_path)
    seen = run_mlflow_script(mlflow_python, "dump_store.py", mlflow_postgres_uri, cwd=tmp_path)["runs"]
    target = tmp_path / "imported.db"
    result = nbtrack_cli("--store", str(target), "import", "mlflow", mlflow_postgres_uri, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"imported {len(seen)} runs from mlflow" in result.stdout
    _assert_same_as_mlflow(config.store_for(f"sqlite:///{target}"), seen)
    again = nbtrack_cli("--store", str(target), "import", "mlflow", mlflow_postgres_uri, cwd=tmp_path)
    assert f"{len(seen)} already imported" in again.stdout


def test_import_reports_a_bad_run_and_goes_on(mlflow_stores, tmp_path):
    """A run whose files are broken is reported with its reason; the others are imported."""
    import shutil

    source = mlflow_stores["mlruns"]
    copy = tmp_path / "mlruns"
    shutil.copytree(source["uri"], copy)
    broken = next(copy.glob(f"*/{source['ids']['child-0']}"))
    (broken / "metrics" / "score").write_text("1796540130824 not-a-number 0\n")
    result = nbtrack_cli("--store", str(tmp_path / "x.db"), "import", "mlflow", str(copy))
    assert result.returncode == 0, result.stderr
    assert f"imported {len(source['runs']) - 1} runs" in result.stdout
    assert "1 could not be imported" in result.stdout
    assert f"not imported: {source['ids']['child-0']}: ValueError" in result.stderr


def test_import_refuses_what_is_not_an_mlflow_store(tmp_path):
    nbtrack.set_store(tmp_path / "nb.db")
    with nbtrack.track("x"):
        nbtrack.log_metric("m", 1)
    result = nbtrack_cli("--store", str(tmp_path / "y.db"), "import", "mlflow", f"sqlite:///{tmp_path / 'nb.db'}")
    assert result.returncode == 1 and "is an nbtrack store, not an MLflow one" in result.stderr
    (tmp_path / "empty").mkdir()
    result = nbtrack_cli("--store", str(tmp_path / "y.db"), "import", "mlflow", str(tmp_path / "empty"))
    assert result.returncode == 1 and "is not an mlruns directory" in result.stderr


def _make_nbtrack_runs() -> dict[str, str]:
    """nbtrack runs with what MLflow cannot hold: typed params, documents, datasets, artifact kinds."""
    import pandas as pd

    ids = {}
    with nbtrack.track("roundtrip", name="parent", params={"C": 0.5, "flag": True, "layers": [64, 32],
                                                           "model": "rf", "none": None, "long": "x" * 7000},
                       tags={"stage": "dev", "odd key!": "v"}, notes="first try\nsecond line") as run:
        ids["parent"] = run.run_id
        for step in range(50):
            nbtrack.log_metric("loss", 1 / (step + 1))
        nbtrack.log_metric("loss", 0.001, step=49)  # a second value at the last step
        nbtrack.log_metric("bad value?", math.inf)
        nbtrack.log_metric("diverged", math.nan)
        nbtrack.log_artifact("some text", name="notes/readme.txt")
        nbtrack.log_artifact({"a": [1, 2]}, name="config.json")
        nbtrack.log_artifact(pd.DataFrame({"x": [1, 2]}), name="table.csv")
        nbtrack.log_artifact(b"\x00\x01binary", name="weights.bin")
        nbtrack.log_dataset(pd.DataFrame({"x": [1.0, 2.0]}), "train")
        run.set_document("custom", {"nested": {"values": [1, 2, 3]}})
        with nbtrack.track(name="child", nested=True) as child:
            ids["child"] = child.run_id
            nbtrack.log_metric("score", 0.9)
    try:
        with nbtrack.track("roundtrip", name="broken") as failed:
            ids["broken"] = failed.run_id
            raise ValueError("boom")
    except ValueError:
        pass
    nbtrack.flush()
    return ids


def _comparable(store, run_id: str) -> dict:
    run = load_run(store, run_id)
    return {
        "fields": (run.run_id, run.experiment, run.name, run.status, run.start_time, run.end_time,
                   run.parent_run_id, run.notes, run.deleted),
        "params": run.params, "tags": run.tags, "metrics": {k: _number(v) for k, v in run.metrics.items()},
        "history": {k: _history(store, run_id, k) for k in run.metrics},
        "artifacts": [(a.name, a.sha256, a.size, a.kind, a.media_type) for a in run.artifacts],
        "datasets": run.datasets, "documents": {k: run.document(k) for k in run.document_keys},
    }


def test_round_trip_nbtrack_mlflow_nbtrack_gives_equal_runs(mlflow_python, tmp_path):
    original_uri = f"sqlite:///{tmp_path / 'original.db'}"
    nbtrack.set_store(original_uri)
    ids = _make_nbtrack_runs()
    target = tmp_path / "mlflow" / "mlflow.db"
    target.parent.mkdir()

    exported = nbtrack_cli("--store", original_uri, "export", "mlflow", str(target), "--mlflow-python", mlflow_python)
    assert exported.returncode == 0, exported.stderr
    assert "exported 3 runs to MLflow" in exported.stdout

    seen = {r["tags"]["nbtrack.run_id"]: r for r in run_mlflow_script(
        mlflow_python, "dump_store.py", f"sqlite:///{target}")["runs"]}
    original = config.store_for(original_uri)
    parent = seen[ids["parent"]]
    assert parent["name"] == "parent" and parent["params"]["C"] == "0.5" and parent["params"]["flag"] == "True"
    assert parent["params"]["layers"] == "[64, 32]" and len(parent["params"]["long"]) == 6000  # MLflow's limit
    assert parent["tags"]["mlflow.note.content"] == "first try\nsecond line"
    assert parent["tags"]["odd key_"] == "v"
    assert parent["history"]["loss"] == _history(original, ids["parent"], "loss")
    assert [[s, _restored(v)] for s, v, _ in parent["history"]["bad value_"]] == [[0, "inf"]]
    assert {"notes/readme.txt", "config.json", "table.csv", "weights.bin", "nbtrack/run.json"} <= set(
        parent["artifacts"])
    assert parent["tags"]["mlflow.source.type"] == "LOCAL"  # a script's run: its path is the source
    assert seen[ids["child"]]["tags"]["mlflow.parentRunId"] == parent["run_id"]
    assert seen[ids["broken"]]["status"] == "FAILED"

    again = nbtrack_cli("--store", original_uri, "export", "mlflow", str(target), "--mlflow-python", mlflow_python)
    assert "exported 0 runs" in again.stdout and "3 were there already" in again.stdout

    back_uri = f"sqlite:///{tmp_path / 'back.db'}"
    imported = nbtrack_cli("--store", back_uri, "import", "mlflow", f"sqlite:///{target}")
    assert imported.returncode == 0, imported.stderr
    back = config.store_for(back_uri)
    for run_id in ids.values():
        assert _comparable(back, run_id) == _comparable(original, run_id), run_id
    again = nbtrack_cli("--store", back_uri, "import", "mlflow", f"sqlite:///{target}")
    assert "imported 0 runs" in again.stdout and "3 already imported" in again.stdout


def test_export_without_mlflow_says_how_to_get_it(tmp_path):
    import importlib.util

    if importlib.util.find_spec("mlflow") is not None:
        pytest.skip("mlflow is installed in this environment: the message is for environments without it")
    nbtrack.set_store(tmp_path / "a.db")
    with nbtrack.track("x"):
        nbtrack.log_metric("m", 1)
    nbtrack.flush()
    result = nbtrack_cli("--store", str(tmp_path / "a.db"), "export", "mlflow", str(tmp_path / "ml.db"))
    assert result.returncode == 1
    assert "needs mlflow: pip install 'nbtrack[mlflow]'" in result.stderr
    assert os.path.exists(Path(tmp_path / "ml.db")) is False
