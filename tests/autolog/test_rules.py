"""How autolog behaves around the user's code: which run, switches, nesting, errors, imports.

scikit-learn is the framework under test here; the rules are the same for every adapter.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from autolog_helpers import require

import nbtrack
from nbtrack.autolog import AutologWarning, registry

require("sklearn")
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
X = np.random.default_rng(0).normal(size=(120, 3))
Y = (X[:, 0] > 0).astype(int)


def test_autolog_before_the_framework_is_imported_and_nothing_heavy_imported_by_nbtrack(tmp_path):
    script = textwrap.dedent("""
        import json, sys
        import nbtrack
        before = "nbtrack.autolog" in sys.modules
        nbtrack.autolog()
        heavy = sorted(m for m in ("sklearn", "xgboost", "lightgbm", "torch", "lightning", "keras",
                                   "transformers", "pandas", "sqlalchemy") if m in sys.modules)
        waiting = nbtrack.autolog.status()["sklearn"]["waiting"]
        from sklearn.linear_model import LogisticRegression
        import sklearn.base
        LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        print(json.dumps({"imported_autolog_on_import": before, "heavy": heavy, "waiting": waiting,
                          "loader": type(sklearn.base.__spec__.loader).__name__,
                          "installed": nbtrack.autolog.status()["sklearn"]["installed"],
                          "runs": len(nbtrack.runs())}))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": f"sqlite:///{tmp_path / 'nbtrack.db'}"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found == {"imported_autolog_on_import": False, "heavy": [], "waiting": True,
                     "loader": "SourceFileLoader", "installed": True, "runs": 1}


def test_disable_puts_the_framework_back_as_it_was(runs):
    from sklearn.base import BaseEstimator as Base

    original_fit = LogisticRegression.__dict__["fit"]
    had_hook = "__init_subclass__" in Base.__dict__
    nbtrack.autolog()
    assert LogisticRegression.__dict__["fit"] is not original_fit
    nbtrack.autolog(disable=True)
    assert LogisticRegression.__dict__["fit"] is original_fit
    assert ("__init_subclass__" in Base.__dict__) == had_hook
    LogisticRegression().fit(X, Y)
    assert runs() == [] and not nbtrack.autolog.status()["sklearn"]["enabled"]


def test_per_framework_switches(runs):
    nbtrack.autolog(sklearn=False)
    LogisticRegression().fit(X, Y)
    assert runs() == []
    assert nbtrack.autolog.status()["xgboost"]["enabled"] and not nbtrack.autolog.status()["sklearn"]["enabled"]
    nbtrack.autolog.sklearn()
    LogisticRegression().fit(X, Y)
    assert len(runs()) == 1
    nbtrack.autolog.sklearn(disable=True)
    LogisticRegression().fit(X, Y)
    assert len(runs()) == 1


def test_bad_settings_say_what_is_valid():
    with pytest.raises(TypeError, match="max_tuning_runs, log_training_metrics"):
        nbtrack.autolog.sklearn(max_tunning_runs=3)
    with pytest.raises(ValueError, match="max_tuning_runs must be None"):
        nbtrack.autolog.sklearn(max_tuning_runs=-1)
    with pytest.raises(TypeError, match="extra_tags must be a dict"):
        nbtrack.autolog(extra_tags=["team"])
    with pytest.raises(TypeError, match="its own options: none"):
        nbtrack.autolog.keras(max_tuning_runs=1)


def test_inside_a_run_fits_land_in_it_and_a_fit_with_other_params_gets_a_child_run(runs, no_autolog_warnings):
    nbtrack.autolog(log_models=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AutologWarning)
        with nbtrack.track("exp", name="cell") as run:
            nbtrack.log_param("note", "mine")
            LogisticRegression(C=1.0).fit(X, Y)
            LogisticRegression(C=1.0).fit(X, Y)  # same params: same run, a second metric point
            LogisticRegression(C=5.0).fit(X, Y)  # C would change: a child run
            assert nbtrack.active_run() is run
    no_autolog_warnings.clear()  # the child-run notice is expected here, checked below
    parent, child = runs()
    assert parent.run_id == run.run_id and parent.status == "FINISHED"
    assert parent.params["C"] == 1.0 and parent.params["note"] == "mine"
    assert "nbtrack.autolog" not in parent.tags  # a user's run, autolog only wrote into it
    assert len(parent.metric_history("training_accuracy_score")) == 2
    assert child.parent_run_id == parent.run_id and child.params["C"] == 5.0 and child.experiment == "exp"
    assert any("child run of cell" in str(w.message) for w in caught)


def test_exclusive_logs_nothing_into_a_users_run(runs):
    nbtrack.autolog(exclusive=True, extra_tags={"team": "ml"})
    with nbtrack.track(name="mine"):
        LogisticRegression().fit(X, Y)
    LogisticRegression().fit(X, Y)
    mine, own = runs()
    assert mine.params == {} and mine.metrics == {}
    assert own.tags["team"] == "ml" and own.params["C"] == 1.0


class Exploding(ClassifierMixin, BaseEstimator):
    def __init__(self, error=None):
        self.error = error

    def fit(self, X, y):
        raise self.error


def test_the_users_exception_propagates_unchanged_and_the_own_run_fails(runs):
    error = ValueError("bad input shape")
    nbtrack.autolog()
    with pytest.raises(ValueError) as raised:
        Exploding(error=error).fit(X, Y)
    assert raised.value is error
    [run] = runs()
    assert run.status == "FAILED" and run.document("error")["type"] == "ValueError"
    assert "bad input shape" in run.document("error")["message"]


def test_inside_a_users_run_a_failing_fit_leaves_the_run_to_the_user(runs):
    nbtrack.autolog()
    with nbtrack.track(name="cell") as run:
        with pytest.raises(KeyError):
            Exploding(error=KeyError("x")).fit(X, Y)
        assert run.status == "RUNNING"
        LogisticRegression().fit(X, Y)
    [stored] = runs()
    assert stored.status == "FINISHED" and "C" in stored.params


class BadParams(ClassifierMixin, BaseEstimator):
    def __init__(self, depth=3):
        self.depth = depth

    def get_params(self, deep=True):
        raise RuntimeError("get_params is broken")

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        raise RuntimeError("predict is broken too")


def test_autolog_failures_never_break_the_fit_and_are_said_once(runs):
    nbtrack.autolog(log_models=False)
    model = BadParams()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert model.fit(X, Y) is model
        assert BadParams().fit(X, Y) is not None
    [first, second] = runs()
    assert first.status == "FINISHED" and first.params == {}
    messages = [str(w.message) for w in caught if issubclass(w.category, AutologWarning)]
    assert messages == ["nbtrack autolog (sklearn): computing training metrics failed: RuntimeError: predict is "
                        "broken too; training goes on, this is not recorded"]


def test_silent_says_nothing(runs):
    nbtrack.autolog(log_models=False, silent=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BadParams().fit(X, Y)
    assert [w for w in caught if issubclass(w.category, AutologWarning)] == []
    assert len(runs()) == 1


def test_fits_in_joblibs_threads_inside_a_search_are_inside_it(runs):
    from joblib import parallel_backend

    nbtrack.autolog(log_models=False)
    with parallel_backend("threading", n_jobs=2):
        GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=2, n_jobs=2).fit(X, Y)
    parent, *children = runs()
    assert parent.name == "GridSearchCV" and len(children) == 3


def test_a_version_outside_the_tested_range_warns_or_is_skipped(monkeypatch, runs):
    old = registry.FRAMEWORKS["sklearn"]
    monkeypatch.setitem(registry.FRAMEWORKS, "sklearn", dataclasses.replace(old, minimum="0.1", below="1.0"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nbtrack.autolog.sklearn(disable_for_unsupported_versions=True)
    assert not nbtrack.autolog.status()["sklearn"]["installed"]
    assert any("outside the tested range >=0.1,<1.0: not logged" in str(w.message) for w in caught)
    with pytest.warns(AutologWarning, match="outside the tested range >=0.1,<1.0; logging anyway"):
        nbtrack.autolog.sklearn(log_models=False)
    assert nbtrack.autolog.status()["sklearn"]["installed"]
    LogisticRegression().fit(X, Y)
    assert len(runs()) == 1
