"""nbtrack.mlflow in one process: MLflow's semantics on nbtrack runs, on a real SQLite store."""

from __future__ import annotations

import math
import sqlite3
import time

import pandas as pd
import pytest

import nbtrack
import nbtrack.mlflow as mlflow
from nbtrack.errors import ParamConflictError
from nbtrack.mlflow import targets
from nbtrack.mlflow.entities import Metric, Param, RunTag, ViewType


def test_log_metric_keeps_mlflow_semantics_step_zero_and_milliseconds():
    with mlflow.start_run() as run:
        for value in (3.0, 2.0, 1.0):
            mlflow.log_metric("loss", value)  # MLflow: step 0 each time, every point kept
        mlflow.log_metric("acc", 0.9, step=7, timestamp=1_700_000_000_123)
    history = nbtrack.get_run(run.info.run_id).metric_history("loss")
    assert list(history["step"]) == [0, 0, 0] and sorted(history["value"]) == [1.0, 2.0, 3.0]
    acc = nbtrack.get_run(run.info.run_id).metric_history("acc")
    assert acc["timestamp"][0].timestamp() == pytest.approx(1_700_000_000.123)
    assert mlflow.get_run(run.info.run_id).data.metrics == {"loss": 1.0, "acc": 0.9}


def test_logging_without_a_run_starts_one_that_stays_active_until_end_run():
    mlflow.log_param("alpha", 0.5)
    active = mlflow.active_run()
    assert active is not None and nbtrack.active_run().run_id == active.info.run_id
    mlflow.log_metric("m", 1)
    mlflow.end_run()
    assert mlflow.active_run() is None
    stored = mlflow.get_run(active.info.run_id)
    assert stored.info.status == "FINISHED" and stored.data.params == {"alpha": "0.5"}
    assert mlflow.last_active_run().info.run_id == active.info.run_id
    mlflow.end_run()  # nothing active: nothing to do, as in MLflow


def test_params_take_what_mlflow_takes_and_read_back_as_text():
    with mlflow.start_run() as run:
        assert mlflow.log_param("model", object) is object  # MLflow returns the value and keeps str(value)
        mlflow.log_params({"layers": [64, 32], "flag": True, "lr": 1e-3})
        with pytest.raises(ParamConflictError):
            mlflow.log_param("lr", 0.1)
    assert run.data.params == {"model": "<class 'object'>", "layers": "[64, 32]", "flag": "True", "lr": "0.001"}
    assert nbtrack.get_run(run.info.run_id).params["layers"] == [64, 32]  # nbtrack itself keeps the type


def test_nested_runs_and_the_active_run_error():
    with mlflow.start_run(run_name="outer") as outer:
        with pytest.raises(mlflow.MlflowException, match="is already active"):
            mlflow.start_run()
        with mlflow.start_run(run_name="inner", nested=True) as inner:
            mlflow.log_metric("x", 1)
    assert mlflow.get_run(inner.info.run_id).data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert nbtrack.get_run(inner.info.run_id).parent_run_id == outer.info.run_id


def test_a_failing_block_ends_the_run_failed_with_its_traceback():
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            1 / 0  # noqa: B018
    stored = nbtrack.get_run(run.info.run_id)
    assert stored.status == "FAILED" and stored.error["type"] == "ZeroDivisionError"


def test_resume_continues_a_stored_run():
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("acc", 0.7, step=10)
    before = nbtrack.get_run(run.info.run_id)
    with mlflow.start_run(run_id=run.info.run_id[:8]) as resumed:
        assert resumed.info.run_id == run.info.run_id and resumed.info.status == "RUNNING"
        assert mlflow.get_run(run.info.run_id).info.status == "RUNNING"
        mlflow.log_param("alpha", 0.5)  # the same value is fine
        with pytest.raises(ParamConflictError):
            mlflow.log_param("alpha", 0.6)
        mlflow.log_metric("acc", 0.1, step=3)  # an earlier step: the latest value stays the one at step 10
        mlflow.log_metric("test_acc", 0.8)
    after = nbtrack.get_run(run.info.run_id)
    assert after.status == "FINISHED" and after.name == "first" and after.start_time == before.start_time
    with nbtrack.track("other"):  # refused while another run is active: the stored run is left as it was
        with pytest.raises(mlflow.MlflowException, match="is already active"):
            mlflow.start_run(run_id=run.info.run_id)
        with pytest.raises(nbtrack.errors.ActiveRunError):
            nbtrack.Run(resume=run.info.run_id)
    assert nbtrack.get_run(run.info.run_id).status == "FINISHED"
    assert after.metrics == {"acc": 0.7, "test_acc": 0.8}
    assert after.end_time > before.end_time and after.document_keys == before.document_keys


def test_search_runs_returns_mlflow_columns_in_mlflow_order():
    experiment = mlflow.set_experiment("search")
    for index in range(3):
        with mlflow.start_run(run_name=f"r{index}"):
            mlflow.log_params({"i": index, "kind": "even" if index % 2 == 0 else "odd"})
            mlflow.log_metric("score", index / 10)
            mlflow.set_tag("team", "a")
    frame = mlflow.search_runs(filter_string="params.kind = 'even'", order_by=["metrics.score DESC"])
    assert list(frame.columns[:6]) == ["run_id", "experiment_id", "status", "artifact_uri", "start_time",
                                       "end_time"]
    groups = [c.split(".")[0] for c in frame.columns[6:]]
    assert groups == sorted(groups, key=["metrics", "params", "tags"].index)
    assert list(frame["tags.mlflow.runName"]) == ["r2", "r0"] and list(frame["params.i"]) == ["2", "0"]
    assert set(frame["experiment_id"]) == {experiment.experiment_id}
    assert str(frame["start_time"].dtype).startswith("datetime64") and frame["start_time"].dt.tz is not None
    as_list = mlflow.search_runs(experiment_ids=[experiment.experiment_id], output_format="list", max_results=2)
    assert [r.info.run_name for r in as_list] == ["r2", "r1"] and as_list[0].data.params["kind"] == "even"
    with pytest.raises(mlflow.MlflowException, match="not both"):
        mlflow.search_runs(experiment_ids=["1"], experiment_names=["search"])
    nbtrack.delete_run(frame["run_id"][0])
    deleted = mlflow.search_runs(run_view_type=ViewType.DELETED_ONLY)
    assert list(deleted["run_id"]) == [frame["run_id"][0]]
    assert len(mlflow.search_runs(run_view_type=ViewType.ALL)) == 3 and len(mlflow.search_runs()) == 2


def test_set_tracking_uri_takes_nbtrack_stores_and_refuses_mlflow_ones(tmp_path):
    mlflow.set_tracking_uri(tmp_path / "folder")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'folder' / 'nbtrack.db'}"
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'runs.db'}")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'runs.db'}"
    with pytest.raises(mlflow.MlflowException, match="MLflow tracking server.*nbtrack import mlflow"):
        mlflow.set_tracking_uri("http://localhost:5000")
    fake = tmp_path / "mlflow.db"
    connection = sqlite3.connect(fake)
    connection.execute("create table alembic_version (version_num text)")
    connection.close()
    with pytest.raises(mlflow.MlflowException, match="that database is an MLflow store"):
        mlflow.set_tracking_uri(f"sqlite:///{fake}")
    (tmp_path / "mlruns" / "0").mkdir(parents=True)
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
    with pytest.raises(mlflow.MlflowException, match="MLflow file store"):
        mlflow.set_tracking_uri(tmp_path / "mlruns")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'runs.db'}"  # a refusal changes nothing


def test_unsupported_calls_raise_and_say_what_to_use():
    with pytest.raises(mlflow.MlflowException, match="nbtrack registers a run's artifact"):  # the registry is
        mlflow.register_model("s3://bucket/model", "name")  # mapped: tests/interop/test_mlflow_registry.py
    with pytest.raises(NotImplementedError, match=r"mlflow.sklearn.log_model.*model.skops"):
        mlflow.sklearn.log_model(object(), "model")
    with pytest.raises(NotImplementedError, match="MlflowClient.transition_model_version_stage"):
        mlflow.MlflowClient().transition_model_version_stage("m", 1, "Production")
    with pytest.raises(AttributeError, match="no attribute 'not_an_mlflow_call'"):
        mlflow.not_an_mlflow_call  # noqa: B018
    with pytest.raises(NotImplementedError, match="log_system_metrics"):
        mlflow.start_run(log_system_metrics=True)
    with pytest.raises(NotImplementedError, match="model_id"):
        with mlflow.start_run():
            mlflow.log_metric("m", 1, model_id="m-1")


def test_autolog_delegates_to_nbtrack_autolog_or_says_it_is_missing():
    import importlib.util

    if importlib.util.find_spec("nbtrack.autolog") is None:
        with pytest.raises(NotImplementedError, match="needs nbtrack.autolog"):
            mlflow.autolog()
    else:  # the autolog layer is here: MLflow's switch reaches it
        mlflow.autolog(disable=True)
    with pytest.raises(TypeError, match="unexpected arguments: no_such_option"):
        mlflow.autolog(no_such_option=1)
    if importlib.util.find_spec("nbtrack.autolog") is None:
        with pytest.raises(NotImplementedError, match=r"mlflow.sklearn.autolog\(\) needs nbtrack.autolog"):
            mlflow.sklearn.autolog()
    else:  # a flavour's autolog is that framework's switch
        mlflow.sklearn.autolog(disable=True)
    with pytest.raises(NotImplementedError):  # autolog does not register models
        mlflow.sklearn.autolog(registered_model_name="churn-model")
    with pytest.raises(NotImplementedError, match="mlflow.prophet.autolog is not supported"):
        mlflow.prophet.autolog()


def test_artifacts_land_under_mlflow_paths(tmp_path):
    folder = tmp_path / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    with mlflow.start_run() as run:
        mlflow.log_artifact(folder / "a.txt")
        mlflow.log_artifact(folder / "a.txt", artifact_path="copies")
        mlflow.log_artifacts(folder, artifact_path="all")
        mlflow.log_dict({"k": [1, 2]}, "conf/settings.json")
        mlflow.log_image(__import__("numpy").zeros((4, 4, 3), dtype="uint8"), "images/black.png")
        mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="train"), context="training")
    record = nbtrack.get_run(run.info.run_id)
    assert {a.name for a in record.artifacts} >= {"a.txt", "copies/a.txt", "all/a.txt", "all/sub/b.txt",
                                                  "conf/settings.json", "images/black.png"}
    assert record.artifact("conf/settings.json").read_text() == '{\n  "k": [\n    1,\n    2\n  ]\n}'
    assert record.artifact("images/black.png").read_bytes().startswith(b"\x89PNG")
    assert [d["name"] for d in record.datasets] == ["train (training)"] and record.datasets[0]["shape"] == [2, 1]
    client = mlflow.MlflowClient()
    assert [f.path for f in client.list_artifacts(run.info.run_id, "all")] == ["all/a.txt", "all/sub"]
    local = client.download_artifacts(run.info.run_id, "all", str(tmp_path / "down"))
    assert (tmp_path / "down" / "all" / "sub" / "b.txt").read_text() == "b" and local.endswith("all")


def test_client_runs_batches_and_histories():
    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment("client")
    with pytest.raises(mlflow.MlflowException, match="already exists"):
        client.create_experiment("client")
    created = client.create_run(experiment_id, run_name="by-client", tags={"k": "v"})
    assert mlflow.active_run() is None  # a client's run is not the active one
    now = int(time.time() * 1000)
    client.log_batch(created.info.run_id, metrics=[Metric("loss", 1 / (s + 1), now + s, s) for s in range(5)],
                     params=[Param("p", "1")], tags=[RunTag("t", "x")])
    client.log_metric(created.info.run_id, "loss", math.nan, step=9)
    client.set_terminated(created.info.run_id)
    history = client.get_metric_history(created.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4, 9] and history[1].timestamp == now + 1
    stored = client.get_run(created.info.run_id)
    assert stored.info.status == "FINISHED" and stored.info.run_name == "by-client"
    assert stored.data.params == {"p": "1"} and (stored.data.tags["k"], stored.data.tags["t"]) == ("v", "x")
    assert math.isnan(stored.data.metrics["loss"])
    # a stored, finished run written by id: same rules as a live one
    client.log_metric(created.info.run_id, "loss", 0.5, step=2)
    assert math.isnan(client.get_run(created.info.run_id).data.metrics["loss"])  # step 9 stays the latest
    with pytest.raises(ParamConflictError):
        client.log_param(created.info.run_id, "p", "2")
    with pytest.raises(mlflow.MlflowException, match="at most 1000 metrics"):
        client.log_batch(created.info.run_id, metrics=[Metric("m", 1.0, now, s) for s in range(1001)])
    names = [e.name for e in client.search_experiments(filter_string="name LIKE 'cli%'")]
    assert names == ["client"] and [e.name for e in client.list_experiments()][:1] == ["client"]
    found = client.search_runs([experiment_id], "tags.t = 'x'")
    assert [r.info.run_id for r in found] == [created.info.run_id] and found.token is None


def test_mlflow_filters_on_run_name_parent_and_millisecond_times():
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child's run", nested=True) as child:
            pass
    started = mlflow.get_run(child.info.run_id).info.start_time  # milliseconds, as MLflow code has them
    by_name = mlflow.search_runs(filter_string="tags.mlflow.runName = 'child''s run'")
    assert list(by_name["run_id"]) == [child.info.run_id]
    by_parent = mlflow.search_runs(filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert list(by_parent["run_id"]) == [child.info.run_id]
    recent = mlflow.search_runs(filter_string=f"attributes.start_time >= {started} and run_name LIKE 'child%'")
    assert list(recent["run_id"]) == [child.info.run_id]
    for condition in (f"= {started}", f"<= {started}", f"IN ({started}, 1)"):  # whole milliseconds, as MLflow's
        same = mlflow.search_runs(filter_string=f"attributes.start_time {condition} and run_name LIKE 'child%'")
        assert list(same["run_id"]) == [child.info.run_id], condition
    assert mlflow.search_runs(filter_string=f"attributes.start_time > {started} and run_name LIKE 'child%'").empty
    ordered = mlflow.search_runs(order_by=["tags.mlflow.runName DESC"])
    assert list(ordered["tags.mlflow.runName"]) == ["parent", "child's run"]
    with pytest.raises(nbtrack.errors.FilterSyntaxError):
        mlflow.search_runs(filter_string="metrics.acc >")


def test_a_note_on_a_stored_run_is_appended_once_per_call():
    with mlflow.start_run() as run:
        pass
    stored = targets.target(run.info.run_id)  # finished: written through the store at once
    assert isinstance(stored, targets.StoredRun)
    stored.log_note("first look")
    stored.log_note("token ghp_" + "a" * 36)
    notes = nbtrack.get_run(run.info.run_id).notes
    assert notes.startswith("first look\ntoken ") and notes.endswith("\n") and "ghp_" + "a" * 36 not in notes
