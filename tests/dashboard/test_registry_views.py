"""The dashboard's registry hooks on a real store: the rows' ``models`` field and the detail's lineage."""

from __future__ import annotations

import numpy as np
import pandas as pd

import nbtrack
from nbtrack.dashboards.detail import detail_html
from nbtrack.dashboards.panels import DetailView
from nbtrack.dashboards.state import DashboardState

EVIL_TEXT = "<script>alert(1)</script>"


def _model_run(name: str) -> nbtrack.Run:
    from sklearn.linear_model import LogisticRegression

    features = np.arange(20.0).reshape(10, 2)
    with nbtrack.track("exp", name=name) as run:
        nbtrack.log_dataset(pd.DataFrame(features, columns=["a", "b"]), "train")
        nbtrack.log_artifact(LogisticRegression().fit(features, [0, 1] * 5), EVIL_TEXT + ".skops")
    return run


def test_rows_carry_the_registered_versions_of_each_run(store):
    registered, plain = _model_run("registered"), _model_run("plain")
    nbtrack.register_model(registered, EVIL_TEXT + ".skops", "churn", alias="champion")
    nbtrack.register_model(registered, EVIL_TEXT + ".skops", "churn")
    state = DashboardState("exp")
    models = {row["name"]: row["models"] for row in state.rows}
    assert models == {"registered": ["churn v1 @champion", "churn v2"], "plain": []}
    assert plain.run_id in {row["run_id"] for row in state.rows}


def test_the_detail_view_shows_lineage_escaped(store):
    run = _model_run("registered")
    nbtrack.register_model(run, EVIL_TEXT + ".skops", "churn", alias="champion")
    html = detail_html(nbtrack.get_run(run.run_id))
    assert "Lineage" in html and "churn v1 @champion" in html
    assert "dataset train" in html and "stored, first logged by" in html
    assert EVIL_TEXT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;.skops" in html
    state = DashboardState("exp")
    view = DetailView(state)
    state.detail_run_id = run.run_id
    assert "churn v1 @champion" in view.html.value
