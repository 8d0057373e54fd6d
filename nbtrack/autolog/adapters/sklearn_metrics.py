"""Training metrics of a fitted scikit-learn estimator, named as MLflow names them.

Classifiers: ``training_accuracy_score``, ``training_precision_score``, ``training_recall_score``,
``training_f1_score`` (weighted averages, 0 where undefined), ``training_log_loss`` and
``training_roc_auc`` (with ``predict_proba``; one-vs-rest weighted by prevalence for more than
two classes), ``training_score``.
Regressors: ``training_mean_squared_error``, ``training_root_mean_squared_error``,
``training_mean_absolute_error``, ``training_r2_score``, ``training_score``.

The values are those of ``sklearn.metrics`` (tests compare them), computed with numpy from one
``predict`` (and one ``predict_proba``): sklearn's functions each re-validate their inputs,
which on 1,000 rows cost more than the fit. Multi-output targets go through ``sklearn.metrics``.
Each metric that cannot be computed is left out; the others are still returned.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

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
    except Exception:  # this metric does not apply (one class, no proba, odd labels): skip it
        return
    if math.isfinite(value):
        found[PREFIX + name] = value


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    weights = np.asarray(sample_weight, dtype=float).ravel()
    if weights.shape != (n,):
        raise ValueError("sample_weight does not match y")
    return weights


def _own_score(estimator: Any, mixin: type) -> bool:
    """Whether ``estimator.score`` is the mixin's (accuracy, R²), so it need not predict again."""
    return getattr(type(estimator), "score", None) is getattr(mixin, "score", None)


def _score(estimator: Any, X: Any, y: Any, sample_weight: Any) -> float:
    if sample_weight is None:
        return estimator.score(X, y)
    return estimator.score(X, y, sample_weight=sample_weight)


# --- classifiers -------------------------------------------------------------------------------------

def _classifier(estimator: Any, X: Any, y: Any, sample_weight: Any) -> dict[str, float]:
    from sklearn.base import ClassifierMixin

    found: dict[str, float] = {}
    y_true = np.asarray(y)
    y_pred = np.asarray(estimator.predict(X))
    if y_true.ndim != 1 or y_pred.shape != y_true.shape:
        return _classifier_by_sklearn(estimator, X, y, y_pred, sample_weight)
    weights = _weights(sample_weight, len(y_true))
    total = weights.sum()
    correct = (y_pred == y_true)
    _collect(found, "accuracy_score", lambda: (weights * correct).sum() / total)
    try:
        precision, recall, f1 = _weighted_prf(y_true, y_pred, weights)
    except Exception:
        pass
    else:
        found.update({PREFIX + "precision_score": precision, PREFIX + "recall_score": recall,
                      PREFIX + "f1_score": f1})
    proba = _proba(estimator, X)
    classes = getattr(estimator, "classes_", None)
    index = _class_index(classes, y_true) if proba is not None and classes is not None else None
    if index is not None and proba.shape == (len(y_true), len(classes)):
        _collect(found, "log_loss", lambda: _log_loss(proba, index, weights))
        _collect(found, "roc_auc", lambda: _roc_auc(proba, index, sample_weight is None))
    if _own_score(estimator, ClassifierMixin):
        if PREFIX + "accuracy_score" in found:
            found[PREFIX + "score"] = found[PREFIX + "accuracy_score"]
    else:
        _collect(found, "score", lambda: _score(estimator, X, y, sample_weight))
    return found


def _class_index(classes: Any, y_true: np.ndarray) -> np.ndarray | None:
    """Each label's column in ``predict_proba`` (``classes_`` is sorted), or None when a label is
    not among the classes."""
    classes = np.asarray(classes)
    try:
        if len(classes) == 0 or not np.all(classes[:-1] < classes[1:]):
            return None
        index = np.searchsorted(classes, y_true)
    except TypeError:
        return None
    if np.any(index >= len(classes)) or not np.array_equal(classes[index], y_true):
        return None
    return index


def _proba(estimator: Any, X: Any) -> np.ndarray | None:
    if not hasattr(estimator, "predict_proba"):
        return None
    try:
        return np.asarray(estimator.predict_proba(X), dtype=float)
    except Exception:
        return None


def _weighted_prf(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 per label, averaged with the labels' (weighted) support."""
    labels = np.unique(np.concatenate([y_true, y_pred]))
    precision = recall = f1 = support_total = 0.0
    for label in labels:
        is_true, is_pred = y_true == label, y_pred == label
        tp = weights[is_true & is_pred].sum()
        predicted, support = weights[is_pred].sum(), weights[is_true].sum()
        p = tp / predicted if predicted > 0 else 0.0
        r = tp / support if support > 0 else 0.0
        f = 2 * p * r / (p + r) if p + r > 0 else 0.0
        precision, recall, f1 = precision + p * support, recall + r * support, f1 + f * support
        support_total += support
    if support_total == 0:
        raise ValueError("no support")
    return precision / support_total, recall / support_total, f1 / support_total


def _log_loss(proba: np.ndarray, index: np.ndarray, weights: np.ndarray) -> float:
    eps = np.finfo(proba.dtype).eps
    picked = np.clip(proba[np.arange(len(index)), index], eps, 1 - eps)
    return float(-(weights * np.log(picked)).sum() / weights.sum())


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic with average ranks for ties."""
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("only one class present")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _roc_auc(proba: np.ndarray, index: np.ndarray, unweighted: bool) -> float:
    if not unweighted:
        raise ValueError("AUC with sample weights is left out")
    if proba.shape[1] == 2:
        return _binary_auc(index == 1, proba[:, 1])
    aucs, prevalence = [], []
    for k in range(proba.shape[1]):  # one-vs-rest, each class weighted by its prevalence (as sklearn's)
        positive = index == k
        aucs.append(_binary_auc(positive, proba[:, k]))  # raises when a class is absent, as sklearn does
        prevalence.append(positive.sum())
    return float(np.average(aucs, weights=prevalence))


def _classifier_by_sklearn(estimator: Any, X: Any, y: Any, y_pred: Any, sample_weight: Any) -> dict[str, float]:
    """Multi-output and other unusual targets: sklearn's own functions."""
    from sklearn import metrics

    found: dict[str, float] = {}
    _collect(found, "accuracy_score", lambda: metrics.accuracy_score(y, y_pred, sample_weight=sample_weight))
    _collect(found, "score", lambda: _score(estimator, X, y, sample_weight))
    return found


# --- regressors --------------------------------------------------------------------------------------

def _regressor(estimator: Any, X: Any, y: Any, sample_weight: Any) -> dict[str, float]:
    from sklearn.base import RegressorMixin

    found: dict[str, float] = {}
    y_true = np.asarray(y, dtype=float)
    y_pred = np.asarray(estimator.predict(X), dtype=float)
    if y_true.ndim != 1 or y_pred.shape != y_true.shape:
        return _regressor_by_sklearn(estimator, X, y, y_pred, sample_weight)
    weights = _weights(sample_weight, len(y_true))
    error = y_true - y_pred
    mse = float(np.average(error ** 2, weights=weights))
    found[PREFIX + "mean_squared_error"] = mse
    found[PREFIX + "root_mean_squared_error"] = math.sqrt(mse)
    found[PREFIX + "mean_absolute_error"] = float(np.average(np.abs(error), weights=weights))
    total = float(np.average((y_true - np.average(y_true, weights=weights)) ** 2, weights=weights))
    if total > 0:
        found[PREFIX + "r2_score"] = 1 - mse / total
    if _own_score(estimator, RegressorMixin):
        if PREFIX + "r2_score" in found:
            found[PREFIX + "score"] = found[PREFIX + "r2_score"]
    else:
        _collect(found, "score", lambda: _score(estimator, X, y, sample_weight))
    return {key: value for key, value in found.items() if math.isfinite(value)}


def _regressor_by_sklearn(estimator: Any, X: Any, y: Any, y_pred: Any, sample_weight: Any) -> dict[str, float]:
    from sklearn import metrics

    found: dict[str, float] = {}
    _collect(found, "mean_squared_error", lambda: metrics.mean_squared_error(y, y_pred, sample_weight=sample_weight))
    if PREFIX + "mean_squared_error" in found:
        found[PREFIX + "root_mean_squared_error"] = math.sqrt(found[PREFIX + "mean_squared_error"])
    _collect(found, "mean_absolute_error", lambda: metrics.mean_absolute_error(y, y_pred, sample_weight=sample_weight))
    _collect(found, "r2_score", lambda: metrics.r2_score(y, y_pred, sample_weight=sample_weight))
    _collect(found, "score", lambda: _score(estimator, X, y, sample_weight))
    return found
