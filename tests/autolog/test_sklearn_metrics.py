"""Autolog's training metrics equal sklearn.metrics' on real estimators (its numpy fast path)."""

from __future__ import annotations

import numpy as np
import pytest
from autolog_helpers import require

require("sklearn")
from sklearn import metrics  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from nbtrack.autolog.adapters.sklearn_metrics import training_metrics  # noqa: E402


def expected_classifier(model, X, y, weights=None, auc=True):
    pred, proba = model.predict(X), model.predict_proba(X)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(y, pred, average="weighted",
                                                                      sample_weight=weights, zero_division=0)
    found = {"training_accuracy_score": metrics.accuracy_score(y, pred, sample_weight=weights),
             "training_precision_score": precision, "training_recall_score": recall, "training_f1_score": f1,
             "training_log_loss": metrics.log_loss(y, proba, labels=model.classes_, sample_weight=weights),
             "training_score": model.score(X, y, sample_weight=weights)}
    if auc:
        found["training_roc_auc"] = (metrics.roc_auc_score(y, proba[:, 1]) if proba.shape[1] == 2 else
                                     metrics.roc_auc_score(y, proba, multi_class="ovr", average="weighted"))
    return found


@pytest.mark.parametrize("case", ["binary", "multiclass-strings", "weighted", "ties"])
def test_classifier_metrics_equal_sklearns(case):
    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=3 if "multi" in case else 2,
                               random_state=1)
    weights = None
    model = LogisticRegression(max_iter=500)
    if case == "multiclass-strings":
        y = np.array(["cat", "dog", "emu"])[y]
    if case == "weighted":
        weights = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    if case == "ties":  # a shallow tree: many equal probabilities
        model = DecisionTreeClassifier(max_depth=2, random_state=0)
    model.fit(X, y, sample_weight=weights)
    found = training_metrics(model, X, y, weights)
    wanted = expected_classifier(model, X, y, weights, auc=weights is None)
    assert found.keys() == wanted.keys()
    for key, value in wanted.items():
        assert found[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_a_class_predicted_but_never_true_and_no_predict_proba():
    X, y = make_classification(n_samples=120, n_features=4, random_state=2)
    model = SVC().fit(X, y)
    y_other = y.copy()
    y_other[:5] = 7  # labels the model never saw: precision/recall over the union of labels, as sklearn's
    found = training_metrics(model, X, y_other)
    pred = model.predict(X)
    p, r, f, _ = metrics.precision_recall_fscore_support(y_other, pred, average="weighted", zero_division=0)
    assert found["training_precision_score"] == pytest.approx(p)
    assert found["training_recall_score"] == pytest.approx(r)
    assert found["training_f1_score"] == pytest.approx(f)
    assert "training_log_loss" not in found and "training_roc_auc" not in found  # no predict_proba


def test_a_class_missing_from_y_leaves_multiclass_auc_out_like_sklearn():
    X, y = make_classification(n_samples=300, n_features=5, n_informative=3, n_classes=3, random_state=3)
    model = GaussianNB().fit(X, y)
    keep = y != 2
    found = training_metrics(model, X[keep], y[keep])
    with pytest.raises(ValueError):
        metrics.roc_auc_score(y[keep], model.predict_proba(X[keep]), multi_class="ovr", average="weighted")
    assert "training_roc_auc" not in found
    assert found["training_log_loss"] == pytest.approx(
        metrics.log_loss(y[keep], model.predict_proba(X[keep]), labels=model.classes_))


@pytest.mark.parametrize("weighted", [False, True])
def test_regressor_metrics_equal_sklearns(weighted):
    X, y = make_regression(n_samples=300, n_features=5, noise=3.0, random_state=0)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y)) if weighted else None
    model = Ridge(alpha=3.0).fit(X, y, sample_weight=weights)
    pred = model.predict(X)
    found = training_metrics(model, X, y, weights)
    mse = metrics.mean_squared_error(y, pred, sample_weight=weights)
    assert found == pytest.approx({
        "training_mean_squared_error": mse, "training_root_mean_squared_error": np.sqrt(mse),
        "training_mean_absolute_error": metrics.mean_absolute_error(y, pred, sample_weight=weights),
        "training_r2_score": metrics.r2_score(y, pred, sample_weight=weights),
        "training_score": model.score(X, y, sample_weight=weights)})
