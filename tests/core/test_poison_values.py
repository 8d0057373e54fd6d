"""Values a store cannot keep are refused when logged, and never block the rest of a run.

Before: a key or value holding a lone surrogate ("\\udcff", as os.fsdecode makes for a
non-UTF-8 file name) was accepted by log_*, then every later flush of the run failed: the
run stayed RUNNING with half its points. Params nested 1,000 deep raised RecursionError,
log_metric("m", 10**400) an OverflowError, and numpy's bool was refused as a metric.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbtrack
from nbtrack.errors import KeyNameError, MetricValueError, NbtrackError, ParamValueError

LONE = "caf\udcff.csv"


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


POISON_CALLS = {
    "param value": lambda run: run.log_param("file", LONE),
    "param key": lambda run: run.log_param(LONE, 1),
    "param dict key": lambda run: run.log_param("files", {LONE: 1}),
    "param list item": lambda run: run.log_param("files", ["ok", LONE]),
    "tag value": lambda run: run.set_tag("file", LONE),
    "tag key": lambda run: run.set_tag(LONE, "x"),
    "metric key": lambda run: run.log_metric(LONE, 1.0),
    "metrics key": lambda run: run.log_metrics({"ok": 1.0, LONE: 2.0}),
    "note": lambda run: run.log_note(f"read {LONE}"),
    "artifact name": lambda run: run.log_artifact(b"data", name=LONE),
    "dataset name": lambda run: run.log_dataset(np.arange(3), name=LONE),
}


@pytest.mark.parametrize("what", sorted(POISON_CALLS))
def test_a_lone_surrogate_is_refused_when_logged_and_the_run_is_written(store_uri, what):
    with nbtrack.track("poison", params={"lr": 0.1}) as run:
        for step in range(50):
            run.log_metric("loss", 1.0 / (step + 1))
        with pytest.raises(ValueError) as caught:
            POISON_CALLS[what](run)
        assert "surrogate" in str(caught.value)
        nbtrack.flush()
        for step in range(50, 100):
            run.log_metric("loss", 1.0 / (step + 1))
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED"
    assert record.params == {"lr": 0.1}
    assert len(record.metric_history("loss")) == 100
    assert set(record.metrics) == {"loss"}


def test_a_surrogate_in_a_key_names_the_key(store_uri):
    with nbtrack.track("poison") as run:
        with pytest.raises(KeyNameError) as caught:
            run.log_metric(LONE, 1.0)
    assert repr(LONE) in str(caught.value)


def test_run_and_experiment_names_with_a_surrogate_are_refused(store_uri):
    with pytest.raises(ValueError, match="surrogate"):
        nbtrack.track("poison", name=LONE)
    with pytest.raises(ValueError, match="surrogate"):
        nbtrack.track(LONE)


def test_params_nested_1000_deep_are_a_param_value_error_not_recursion(store_uri):
    with nbtrack.track("deep") as run:
        with pytest.raises(ParamValueError) as caught:
            run.log_param("tree", _deep(1000))
        assert "nested" in str(caught.value) and "'tree'" in str(caught.value)
        run.log_param("shallow", _deep(50))
    assert nbtrack.get_run(run.run_id).params["shallow"] == _deep(50)


def test_a_huge_integer_param_is_a_param_value_error(store_uri):
    with nbtrack.track("huge") as run:
        with pytest.raises(ParamValueError):
            run.log_param("n", 10**5000)
        run.log_param("big", 10**400)
    assert nbtrack.get_run(run.run_id).params["big"] == 10**400


def test_a_metric_beyond_the_float_range_is_a_metric_value_error(store_uri):
    with nbtrack.track("overflow") as run:
        with pytest.raises(MetricValueError) as caught:
            run.log_metric("m", 10**400)
        assert isinstance(caught.value, NbtrackError) and "'m'" in str(caught.value)
        with pytest.raises(MetricValueError):
            run.log_metrics({"m": -(10**400)})
        run.log_metric("m", 10**300)
    assert nbtrack.get_run(run.run_id).metrics == {"m": float(10**300)}


def test_numpy_bool_is_a_metric_like_bool(store_uri):
    with nbtrack.track("bools") as run:
        run.log_metric("converged", np.bool_(True))
        run.log_metrics({"diverged": np.bool_(False)})
        run.log_metric("plain", True)
    assert nbtrack.get_run(run.run_id).metrics == {"converged": 1.0, "diverged": 0.0, "plain": 1.0}
