"""scikit-learn autolog on real estimators and small data made here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from autolog_helpers import require

import nbtrack

require("sklearn")
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture
def classification():
    return make_classification(n_samples=300, n_features=6, n_informative=4, random_state=0)


def test_a_fit_outside_any_run_starts_and_ends_its_own_run(classification, runs, no_autolog_warnings):
    X, y = classification
    nbtrack.autolog()
    model = LogisticRegression(C=0.5, max_iter=200).fit(X, y)

    [run] = runs()
    assert run.status == "FINISHED" and run.name == "LogisticRegression"
    assert run.tags["nbtrack.autolog"] == "sklearn"
    assert run.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.params["C"] == 0.5 and run.params["max_iter"] == 200 and run.params["solver"] == "lbfgs"
    accuracy = float(np.mean(model.predict(X) == y))
    assert run.metrics["training_accuracy_score"] == pytest.approx(accuracy)
    assert run.metrics["training_score"] == pytest.approx(accuracy)
    for key in ("training_precision_score", "training_recall_score", "training_f1_score", "training_log_loss",
                "training_roc_auc"):
        assert 0 < run.metrics[key] < 5, key
    assert run.datasets[0]["name"] == "training" and run.datasets[0]["shape"] == [300, 6]
    loaded = run.artifact("models/LogisticRegression.skops").load()
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_a_pipeline_logs_nested_params_once_and_its_steps_make_no_runs(classification, runs):
    X, y = classification
    nbtrack.autolog()
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=2.0))]).fit(X, y)

    [run] = runs()
    assert run.name == "Pipeline"
    assert run.params["clf__C"] == 2.0 and run.params["scale__with_mean"] is True
    assert run.params["clf"] == "LogisticRegression(C=2.0)"
    assert run.params["steps"] == [["scale", "StandardScaler()"], ["clf", "LogisticRegression(C=2.0)"]]
    assert "training_roc_auc" in run.metrics


def test_regressors_get_regression_metrics(runs):
    X, y = make_regression(n_samples=200, n_features=4, noise=5.0, random_state=0)
    nbtrack.autolog()
    model = LinearRegression().fit(X, y)

    [run] = runs()
    residual = y - model.predict(X)
    assert run.metrics["training_mean_squared_error"] == pytest.approx(np.mean(residual ** 2))
    assert run.metrics["training_root_mean_squared_error"] == pytest.approx(np.sqrt(np.mean(residual ** 2)))
    assert run.metrics["training_mean_absolute_error"] == pytest.approx(np.mean(np.abs(residual)))
    assert run.metrics["training_r2_score"] == pytest.approx(model.score(X, y))
    assert "training_accuracy_score" not in run.metrics


def test_a_grid_search_logs_best_params_cv_results_and_the_best_candidates_as_child_runs(classification, runs):
    X, y = classification
    nbtrack.autolog.sklearn(max_tuning_runs=2)
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.01, 0.1, 1.0, 10.0]}, cv=3).fit(X, y)

    parent, *children = runs()
    assert parent.name == "GridSearchCV" and len(children) == 2
    assert parent.params["best_C"] == search.best_params_["C"]
    assert parent.params["estimator"] == "LogisticRegression(max_iter=300)"
    assert parent.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    table = parent.artifact("cv_results.csv").load()
    assert len(table) == 4 and list(table["param_C"]) == [0.01, 0.1, 1.0, 10.0]
    assert [json.loads(p) for p in table["params"]][2] == {"C": 1.0}
    ranks = list(search.cv_results_["rank_test_score"])
    best_two = sorted(range(4), key=lambda i: ranks[i])[:2]
    for child, index in zip(children, best_two):
        assert child.parent_run_id == parent.run_id
        assert child.params == {"C": [0.01, 0.1, 1.0, 10.0][index]}
        assert child.metrics["mean_test_score"] == pytest.approx(search.cv_results_["mean_test_score"][index])
        assert child.metrics["rank_test_score"] == ranks[index]
        assert child.name == f"LogisticRegression rank {ranks[index]}"
    # the search's candidates (12 fits) and its refit are inside the search: no other run
    assert len(runs()) == 3


def test_switches_turn_models_training_metrics_and_children_off(classification, runs):
    X, y = classification
    nbtrack.autolog.sklearn(log_models=False, log_training_metrics=False, max_tuning_runs=0, log_datasets=False)
    GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(X, y)

    [run] = runs()
    assert not any(name.startswith("models/") for name in (a.name for a in run.artifacts))
    assert not any(key.startswith("training_") for key in run.metrics)
    assert "best_cv_score" in run.metrics and run.datasets == []


class ComplexOffset(RegressorMixin, BaseEstimator):
    """Fitted with a complex number, which skops cannot store and pickle can."""

    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y):
        self.offset_ = complex(float(np.mean(y)) + self.shift, 1.0)
        return self

    def predict(self, X):
        return np.full(len(X), self.offset_.real)


def test_an_estimator_skops_cannot_store_is_pickled(runs, no_autolog_warnings):
    nbtrack.autolog()
    ComplexOffset(shift=1.0).fit(np.zeros((4, 1)), np.array([1.0, 2.0, 3.0, 4.0]))

    [run] = runs()
    assert "models/ComplexOffset.skops" not in [a.name for a in run.artifacts]
    assert run.artifact("models/ComplexOffset.pkl").load().offset_ == complex(3.5, 1.0)


def test_estimators_defined_after_autolog_are_patched_and_a_fit_inside_a_fit_logs_once(runs):
    nbtrack.autolog(log_models=False)

    class Majority(ClassifierMixin, BaseEstimator):
        def __init__(self, weight=1.0):
            self.weight = weight

        def fit(self, X, y):
            values, counts = np.unique(y, return_counts=True)
            self.classes_, self.label_ = values, values[np.argmax(counts)]
            return self

        def predict(self, X):
            return np.full(len(X), self.label_)

    class Weighted(Majority):
        def fit(self, X, y):
            return super().fit(X, y)  # the parent's fit is autologged too: inside this one, it logs nothing

    Weighted(weight=2.0).fit(np.zeros((10, 2)), np.array([0, 1, 1, 1, 0, 1, 1, 1, 1, 0]))

    [run] = runs()
    assert run.name == "Weighted" and run.params == {"weight": 2.0}
    assert run.metrics["training_accuracy_score"] == pytest.approx(0.7)


def test_cross_val_score_is_one_run_with_the_scores_of_every_fold(classification, runs):
    from sklearn.model_selection import cross_val_score  # imported before autolog: it calls cross_validate

    X, y = classification
    nbtrack.autolog()
    from sklearn.model_selection import learning_curve  # a function: autolog must come before `from ... import`

    scores = cross_val_score(LogisticRegression(C=0.7), X, y, cv=4)
    sizes, _, test_scores = learning_curve(LogisticRegression(), X, y, cv=3, train_sizes=[0.5, 1.0])

    scored, curve = runs()  # 4 + 6 fits inside: no run of their own
    assert scored.name == "LogisticRegression cross_validate" and scored.params["C"] == 0.7
    assert scored.params["cv"] == 4 and scored.tags["sklearn_helper"] == "cross_validate"
    assert list(scored.metric_history("cv_test_score")["value"]) == pytest.approx(list(scores))
    assert scored.metrics["cv_test_score_mean"] == pytest.approx(scores.mean())
    assert scored.metrics["cv_test_score_std"] == pytest.approx(scores.std())
    assert len(scored.metric_history("cv_fit_time")) == 4
    history = curve.metric_history("learning_curve_test_score")
    assert list(history["step"]) == list(sizes)
    assert list(history["value"]) == pytest.approx(list(test_scores.mean(axis=1)))
