"""Pure helpers of the channel's kernel side (no kernel needed)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from nbtrack.frontend import messages as m


def test_headline_prefers_known_metrics_then_the_first_by_name():
    assert m.headline_metric({"loss": 0.3, "acc": 0.9}) == {"key": "acc", "value": 0.9}
    assert m.headline_metric({"Accuracy": 1}) == {"key": "Accuracy", "value": 1.0}
    assert m.headline_metric({"zeta": 2.0, "beta": 1.0}) == {"key": "beta", "value": 1.0}
    assert m.headline_metric({"acc": math.nan, "b": np.float64(0.5)}) == {"key": "b", "value": 0.5}
    assert m.headline_metric({"flag": True}) is None
    assert m.headline_metric({}) is None and m.headline_metric(None) is None


def test_json_value_makes_frame_values_json_safe():
    assert m.json_value(np.int64(3)) == 3 and isinstance(m.json_value(np.int64(3)), int)
    assert m.json_value(np.float64("nan")) is None
    assert m.json_value(math.inf) is None
    assert m.json_value(pd.NaT) is None
    assert m.json_value(pd.Timestamp("2024-01-01", tz="UTC")) == 1704067200.0
    assert m.json_value(dt.timedelta(seconds=90)) == 90.0
    assert m.json_value({"a": [np.float32(0.5), None, "x"]}) == {"a": [0.5, None, "x"]}
    assert m.json_value(object.__new__(type("Odd", (), {"__repr__": lambda s: "odd"}))) == "odd"


def test_path_candidates_cover_relative_absolute_and_session_paths():
    got = m.path_candidates("sub/nb.ipynb", session="/srv/sub/nb.ipynb", cwd="/srv/sub")
    assert got == ["sub/nb.ipynb", "/srv/sub/nb.ipynb"]
    got = m.path_candidates("sub/nb.ipynb", session="/old/nb.ipynb", cwd="/work")
    assert got == ["sub/nb.ipynb", "/work/nb.ipynb", "/old/nb.ipynb"]
    assert m.path_candidates("x.ipynb", session="/other/y.ipynb", cwd="/w") == ["x.ipynb", "/w/x.ipynb"]
    assert m.path_candidates("") == [] and m.path_candidates(None) == []


def test_run_summaries_from_a_runs_frame():
    frame = pd.DataFrame([{
        "run_id": "r1", "name": "n", "experiment": "e", "status": "FINISHED",
        "start_time": pd.Timestamp("2024-01-01", tz="UTC"), "end_time": pd.NaT,
        "duration": np.float64(1.5), "metrics.acc": 0.9, "metrics.loss": np.nan,
        "tags.nbtrack.cell": "c1",
    }])
    (row,) = m.run_summaries(frame)
    assert row == {"run_id": "r1", "name": "n", "experiment": "e", "status": "FINISHED",
                   "start_time": 1704067200.0, "end_time": None, "duration": 1.5,
                   "cell_id": "c1", "headline": {"key": "acc", "value": 0.9}}
    assert m.run_summaries(pd.DataFrame()) == []
