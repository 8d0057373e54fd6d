"""Training metrics of a fitted scikit-learn estimator, named as MLflow names them.

Classifiers: ``training_accuracy_score``, ``training_precision_score``, ``training_recall_score``,
``training_f1_score`` (weighted averages), ``training_log_loss`` and ``training_roc_auc``
(with ``predict_proba``; one-vs-rest weighted for more than two classes), ``training_score``.
Regressors: ``training_mean_squared_error``, ``training_root_mean_squared_error``,
``training_mean_absolute_error``, ``training_r2_score``, ``training_score``.
Each metric that cannot be computed is left out; the others are still returned.
"""

from __future__ import annotations

import math
from typing import Any, Callable

PREFIX = "training_"


def training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return _classifier(estimator, X, y, sample_weight)
    if is_regressor(estimator):
        return _regressor(estimator, X, y, sample_weight)
    return {}


def _collect(found: dict[str, float], name: str, compute: Callable[[], Any]) -> None:
    try:
        value = float(compute())
    except Exception:  # this metric does not apply (multi-output, one class, no proba): skip it
        return
    if math.isfinite(value):
        found[PREFIX + name] = value


def _score(estimator: Any, X: Any, y: Any, sample_weight: Any) -> float:
    if sample_weight is None:
        return estimator.score(X, y)
    return estimator.score(X, y, sample_weight=sample_weight)


def _classifier(estimator: Any, X: Any, y: Any, sample_weight: Any) -> dict[str, float]:
    from sklearn import metrics

    found: dict[str, float] = {}
    y_pred = estimator.predict(X)
    _collect(found, "accuracy_score", lambda: metrics.accuracy_score(y, y_pred, sample_weight=sample_weight))
    try:
        precision, recall, f1, _ = metrics.precision_recall_fscore_support(
            y, y_pred, average="weighted", sample_weight=sample_weight, zero_division=0)
    except Exception:
        pass
    else:
        for name, value in (("precision_score", precision), ("recall_score", recall), ("f1_score", f1)):
            _collect(found, name, lambda value=value: value)
    proba = None
    if hasattr(estimator, "predict_proba"):
        try:
            proba = estimator.predict_proba(X)
        except Exception:
            proba = None
    if proba is not None:
        classes = getattr(estimator, "classes_", None)
        _collect(found, "log_loss", lambda: metrics.log_loss(y, proba, labels=classes, sample_weight=sample_weight))
        _collect(found, "roc_auc", lambda: _roc_auc(metrics, y, proba, classes, sample_weight))
    _collect(found, "score", lambda: _score(estimator, X, y, sample_weight))
    return found


def _roc_auc(metrics: Any, y: Any, proba: Any, classes: Any, sample_weight: Any) -> float:
    if proba.ndim == 2 and proba.shape[1] == 2:
        return metrics.roc_auc_score(y, proba[:, 1], sample_weight=sample_weight)
    return metrics.roc_auc_score(y, proba, multi_class="ovr", average="weighted", labels=classes,
                                 sample_weight=sample_weight)


def _regressor(estimator: Any, X: Any, y: Any, sample_weight: Any) -> dict[str, float]:
    from sklearn import metrics

    found: dict[str, float] = {}
    y_pred = estimator.predict(X)
    _collect(found, "mean_squared_error", lambda: metrics.mean_squared_error(y, y_pred, sample_weight=sample_weight))
    if PREFIX + "mean_squared_error" in found:
        found[PREFIX + "root_mean_squared_error"] = math.sqrt(found[PREFIX + "mean_squared_error"])
    _collect(found, "mean_absolute_error", lambda: metrics.mean_absolute_error(y, y_pred, sample_weight=sample_weight))
    _collect(found, "r2_score", lambda: metrics.r2_score(y, y_pred, sample_weight=sample_weight))
    _collect(found, "score", lambda: _score(estimator, X, y, sample_weight))
    return found
