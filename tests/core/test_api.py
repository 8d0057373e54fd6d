"""The tracking API on a real SQLite store: lifecycles, values, errors."""

from __future__ import annotations

import math
import sqlite3
import time

import numpy as np
import pytest

import nbtrack
from nbtrack.errors import (
    ActiveRunError,
    MetricTypeError,
    NoActiveRunError,
    ParamConflictError,
    ParamTypeError,
    RunEndedError,
)


def test_context_manager_records_everything_and_finishes():
    with nbtrack.track("churn", name="first", tags={"stage": "dev"}, params={"C": 0.5}, notes="baseline") as run:
        nbtrack.log_param("model", "logreg")
        nbtrack.log_metric("acc", 0.8)
        nbtrack.log_metric("acc", 0.9)
        nbtrack.set_tag("owner", "ana")
        nbtrack.log_note("second thought")
        assert nbtrack.active_run() is run
    assert nbtrack.active_run() is None
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.name == "first" and record.experiment == "churn"
    assert record.params == {"C": 0.5, "model": "logreg"}
    assert record.metrics == {"acc": 0.9}
    assert record.tags == {"stage": "dev", "owner": "ana", "nbtrack.source": "script"}
    assert record.notes == "baseline\nsecond thought\n"
    assert record.end_time >= record.start_time and record.duration >= 0
    history = record.metric_history("acc")
    assert list(history["step"]) == [0, 1] and list(history["value"]) == [0.8, 0.9]


def test_plain_call_and_end():
    run = nbtrack.track("plain")
    nbtrack.log_metric("loss", 1.5)
    run.end()
    assert nbtrack.get_run(run.run_id).status == "FINISHED"
    run.end()  # ending twice does nothing
    with pytest.raises(RunEndedError):
        run.log_metric("loss", 1.0)


def test_decorator_tracks_each_call_as_a_run():
    @nbtrack.track("decorated", tags={"kind": "fn"})
    def train(lr):
        nbtrack.log_param("lr", lr)
        nbtrack.log_metric("score", lr * 10)
        return lr * 2

    assert nbtrack.active_run() is None
    assert train(0.1) == 0.2
    assert train(0.3) == 0.6
    frame = nbtrack.runs("decorated", order_by="params.lr")
    assert list(frame["params.lr"]) == [0.1, 0.3]
    assert list(frame["tags.kind"]) == ["fn", "fn"]
    assert set(frame["status"]) == {"FINISHED"}


def test_second_run_needs_nested_and_links_parent():
    with nbtrack.track("n") as parent:
        with pytest.raises(ActiveRunError, match="nested=True"):
            nbtrack.track("n")
        with nbtrack.track("n", nested=True) as child:
            nbtrack.log_metric("inner", 1)
        nbtrack.log_metric("outer", 2)
    assert nbtrack.get_run(child.run_id).parent_run_id == parent.run_id
    assert nbtrack.get_run(child.run_id).experiment == "n"  # children inherit the experiment
    assert nbtrack.get_run(parent.run_id).metrics == {"outer": 2.0}
    assert nbtrack.get_run(child.run_id).metrics == {"inner": 1.0}


def test_params_keep_their_types():
    values = {"i": 3, "f": 0.25, "b": True, "s": "rf", "n": None, "l": [1, "a", None], "d": {"k": [1.5, False]},
              "t": (1, 2), "np_int": np.int64(7), "np_float": np.float32(0.5)}
    with nbtrack.track("types") as run:
        nbtrack.log_params(values)
    params = nbtrack.get_run(run.run_id).params
    assert params["i"] == 3 and type(params["i"]) is int
    assert params["f"] == 0.25 and type(params["f"]) is float
    assert params["b"] is True and params["n"] is None and params["s"] == "rf"
    assert params["l"] == [1, "a", None] and params["d"] == {"k": [1.5, False]}
    assert params["t"] == [1, 2]
    assert params["np_int"] == 7 and type(params["np_int"]) is int
    assert params["np_float"] == 0.5


def test_relogging_a_param_with_another_value_names_both_values():
    with nbtrack.track("conflict") as run:
        nbtrack.log_param("C", 0.5)
        nbtrack.log_param("C", 0.5)  # the same value again is fine
        with pytest.raises(ParamConflictError) as caught:
            nbtrack.log_param("C", 1.0)
        assert "'C'" in str(caught.value) and "0.5" in str(caught.value) and "1.0" in str(caught.value)
        with pytest.raises(ParamTypeError, match="object"):
            nbtrack.log_param("obj", object())
    assert nbtrack.get_run(run.run_id).params == {"C": 0.5}


def test_metrics_accept_real_numbers_and_keep_nan_and_infinities():
    with nbtrack.track("metrics") as run:
        nbtrack.log_metric("int", 3)
        nbtrack.log_metric("bool", True)
        nbtrack.log_metric("np", np.float32(0.5))
        nbtrack.log_metric("npint", np.int64(4))
        nbtrack.log_metric("nan", float("nan"))
        nbtrack.log_metric("inf", float("inf"))
        nbtrack.log_metric("ninf", -math.inf)
        for bad in ("0.5", None, [1], complex(1, 2)):
            with pytest.raises(MetricTypeError) as caught:
                nbtrack.log_metric("bad", bad)
            assert "'bad'" in str(caught.value) and type(bad).__name__ in str(caught.value)
    metrics = nbtrack.get_run(run.run_id).metrics
    assert metrics["int"] == 3.0 and metrics["bool"] == 1.0 and metrics["np"] == 0.5 and metrics["npint"] == 4.0
    assert math.isnan(metrics["nan"]) and metrics["inf"] == math.inf and metrics["ninf"] == -math.inf
    assert "bad" not in metrics
    frame = nbtrack.runs("metrics")
    assert math.isnan(frame.loc[0, "metrics.nan"]) and frame.loc[0, "metrics.inf"] == math.inf


def test_steps_explicit_and_automatic_and_latest_is_highest_step():
    with nbtrack.track("steps") as run:
        nbtrack.log_metric("loss", 0.9, step=10)
        nbtrack.log_metric("loss", 0.5, step=5)   # an older step does not become the latest
        nbtrack.log_metric("loss", 0.4)           # next automatic step is 11
        nbtrack.log_metrics({"a": 1, "b": 2}, step=3)
        with pytest.raises(TypeError, match="step"):
            nbtrack.log_metric("loss", 0.1, step=1.5)
    record = nbtrack.get_run(run.run_id)
    assert record.metrics == {"loss": 0.4, "a": 1.0, "b": 2.0}
    assert sorted(record.metric_history("loss")["step"]) == [5, 10, 11]
    assert list(record.metric_history("a")["step"]) == [3]


def test_failing_block_marks_failed_with_traceback_and_reraises():
    with pytest.raises(ZeroDivisionError):
        with nbtrack.track("fail") as run:
            nbtrack.log_metric("before", 1)
            1 / 0  # noqa: B018 - the failure under test
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FAILED"
    assert record.metrics == {"before": 1.0}
    assert record.error["type"] == "ZeroDivisionError"
    assert "1 / 0" in record.error["traceback"]


def test_keyboard_interrupt_marks_killed():
    with pytest.raises(KeyboardInterrupt):
        with nbtrack.track("kill") as run:
            raise KeyboardInterrupt
    assert nbtrack.get_run(run.run_id).status == "KILLED"


def test_module_functions_without_a_run_say_how_to_start_one():
    with pytest.raises(NoActiveRunError, match="nbtrack.track"):
        nbtrack.log_metric("acc", 1)
    with pytest.raises(NoActiveRunError, match="log_param"):
        nbtrack.log_param("a", 1)


def test_points_reach_the_disk_within_a_second_without_ending(isolated):
    run = nbtrack.track("live")
    nbtrack.log_metric("acc", 0.7)
    db = isolated / "store" / "nbtrack.db"

    def on_disk():
        if not db.exists():
            return False
        try:
            with sqlite3.connect(db) as connection:
                return connection.execute("select count(*) from metrics where run_id = ?",
                                          (run.run_id,)).fetchone()[0]
        except sqlite3.OperationalError:  # the schema is still being created
            return False

    deadline = time.time() + 3.0
    while not on_disk() and time.time() < deadline:
        time.sleep(0.05)
    assert on_disk() == 1
    run.end()


def test_environment_is_recorded_without_secrets(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-record-me")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_abcdefghijklmnop1234")
    monkeypatch.setenv("VIRTUAL_ENV", "https://user:hunter2@example.invalid/venv")
    with nbtrack.track("env") as run:
        import json  # noqa: F401
    environment = nbtrack.get_run(run.run_id).environment
    assert environment["python"]["version"].count(".") == 2
    assert environment["machine"]["cpu_count"] >= 1
    assert "pandas" in {name.lower() for name in environment["packages"]}
    assert environment["variables"]["OMP_NUM_THREADS"] == "4"
    assert "VIRTUAL_ENV" not in environment["variables"]
    text = repr(environment)
    assert "do-not-record-me" not in text and "ghp_abcdefghijklmnop1234" not in text and "hunter2" not in text
    imported = nbtrack.get_run(run.run_id).document("imported_packages")
    assert any(name.lower() == "pandas" for name in imported)
