"""nbtrack import trackio / wandb, from files the real Trackio and wandb wrote (in the trackers' virtualenv)."""

from __future__ import annotations

import math

import pytest
from interop_helpers import nbtrack_cli, run_mlflow_script

from nbtrack import config
from nbtrack.store.query import search_runs
from nbtrack.store.records import load_run


@pytest.fixture(scope="module")
def written(mlflow_python, tmp_path_factory):
    folder = tmp_path_factory.mktemp("trackers")
    return run_mlflow_script(mlflow_python, "make_trackio_wandb.py", str(folder), cwd=folder)


def _runs(store) -> dict:
    frame = search_runs(store)
    return {name: load_run(store, run_id) for name, run_id in zip(frame["name"], frame["run_id"])}


def test_trackio_project_imports_once_with_params_metrics_and_media(written, tmp_path):
    target = tmp_path / "t.db"
    result = nbtrack_cli("--store", str(target), "import", "trackio", "demo", "--trackio-dir", written["trackio_dir"])
    assert result.returncode == 0, result.stderr
    assert "imported 2 runs from trackio" in result.stdout
    store = config.store_for(f"sqlite:///{target}")
    runs = _runs(store)
    first = runs["first"]
    assert first.experiment == "demo" and first.status == "FINISHED"
    assert first.params == {"lr": 0.01, "layers": [64, 32], "opt": "adam"}  # Trackio's config keeps types
    loss = first.metric_history("loss")
    assert list(loss["step"]) == [0, 1, 2, 3, 4] and list(loss["value"]) == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert first.metrics["diverged"] == math.inf
    image = first.artifact("media/sample/step_5.png")
    assert image.read_bytes().startswith(b"\x89PNG")
    assert first.end_time >= first.start_time and runs["second"].params == {"lr": 0.1}
    again = nbtrack_cli("--store", str(target), "import", "trackio", "demo", "--trackio-dir", written["trackio_dir"])
    assert "imported 0 runs" in again.stdout and "2 already imported" in again.stdout
    missing = nbtrack_cli("--store", str(target), "import", "trackio", "nope", "--trackio-dir", written["trackio_dir"])
    assert missing.returncode == 1 and "no Trackio project 'nope'" in missing.stderr


def test_wandb_offline_runs_import_through_wandbs_record_schema(written, mlflow_python, tmp_path):
    import shutil

    folder = tmp_path / "wandb"
    shutil.copytree(written["wandb_dir"], folder)
    (folder / "offline-run-20200101_000000-broken").mkdir()
    (folder / "offline-run-20200101_000000-broken" / "run-broken.wandb").write_bytes(b"not a W&B file at all")
    target = tmp_path / "w.db"
    result = nbtrack_cli("--store", str(target), "import", "wandb", str(folder), "--wandb-python", mlflow_python)
    assert result.returncode == 0, result.stderr
    assert "imported 1 runs from wandb" in result.stdout and "1 could not be imported" in result.stdout
    assert "run-broken.wandb: ValueError: " in result.stderr and "is not a W&B run file" in result.stderr
    run = _runs(config.store_for(f"sqlite:///{target}"))["finished"]
    assert run.experiment == "demo" and run.status == "FINISHED" and run.notes == "first try\n"
    assert run.params == {"lr": 0.01, "layers": [1, 2]}
    assert run.tags["wandb.tags"] == "baseline, cpu" and run.tags["wandb.group"] == "sweep-1"
    loss = run.metric_history("loss")
    assert list(loss["step"]) == [0, 1, 2, 3, 4] and list(loss["value"]) == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert list(run.metric_history("final")["step"]) == [10]
    assert list(run.metric_history("best")["step"]) == [10]  # a summary value never logged: at the last step
    assert any(a.name.startswith("files/") for a in run.artifacts)  # the files W&B saved with the run
    again = nbtrack_cli("--store", str(target), "import", "wandb", str(folder), "--wandb-python", mlflow_python)
    assert "imported 0 runs" in again.stdout and "1 already imported" in again.stdout


def test_wandb_without_wandb_says_how_to_get_it(written, tmp_path):
    import importlib.util

    if importlib.util.find_spec("wandb") is not None:
        pytest.skip("wandb is installed in this environment: the message is for environments without it")
    result = nbtrack_cli("--store", str(tmp_path / "w.db"), "import", "wandb", written["wandb_dir"])
    assert result.returncode == 1
    assert "nbtrack import wandb needs wandb: pip install 'nbtrack[wandb]'" in result.stderr
