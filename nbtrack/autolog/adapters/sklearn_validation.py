"""scikit-learn's model-selection helpers as one training call each (not one run per fold).

``cross_validate`` (and ``cross_val_score``, which calls it): the estimator's params, ``cv`` and
``scoring``; every numeric result per fold as a metric history ``cv_<key>`` (step = fold:
``cv_test_score``, ``cv_train_score``, ``cv_fit_time``, ...) with ``cv_<key>_mean`` and
``cv_<key>_std``. ``learning_curve``: ``learning_curve_test_score`` and ``..._train_score``
(mean over folds) at step = the number of training examples. ``validation_curve``:
``validation_curve_test_score``/``_train_score`` at step = the index in ``param_range`` (the
values are the param ``param_range``). ``cross_val_predict`` and ``permutation_test_score``:
the params; ``permutation_test_score`` also ``permutation_score`` and ``permutation_pvalue``.
The fits inside each run untouched, as a search's candidates do.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np

from .. import patching
from ..params import plain
from ..session import Session, SignaturePlan, traced

FRAMEWORK = "sklearn"
HELPERS = ("cross_validate", "cross_val_predict", "learning_curve", "validation_curve", "permutation_test_score")


class HelperPlan(SignaturePlan):
    framework = FRAMEWORK
    joins_other_frameworks = False

    def __init__(self, name: str, original: Callable) -> None:
        super().__init__(original)
        self.name = name

    def describe(self, args: tuple, kwargs: dict) -> dict:
        from .sklearn import estimator_params

        arguments = self.arguments(args, kwargs, defaults=False)
        estimator = arguments["estimator"]
        params = estimator_params(estimator)
        for key in ("cv", "scoring", "param_name", "param_range", "n_permutations"):
            if arguments.get(key) is not None:
                params[key] = plain(arguments[key])
        cls = type(estimator)
        return {"params": params, "name": f"{cls.__name__} {self.name}",
                "tags": {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
                         "sklearn_helper": self.name}}

    def after(self, session: Session, args: tuple, kwargs: dict, result: Any) -> None:
        arguments = self.arguments(args, kwargs, defaults=False)
        session.log_dataset(arguments.get("X"), "training")
        if self.name == "cross_validate":
            _log_folds(session, result)
        elif self.name == "learning_curve":
            sizes, train, test = result[0], result[1], result[2]
            _log_curve(session, "learning_curve", [int(s) for s in sizes], train, test)
        elif self.name == "validation_curve":
            train, test = result
            _log_curve(session, "validation_curve", list(range(len(test))), train, test)
        elif self.name == "permutation_test_score":
            session.log_metrics({"permutation_score": float(result[0]), "permutation_pvalue": float(result[2])})


def _log_folds(session: Session, result: dict) -> None:
    for key, values in result.items():
        try:
            numbers = np.asarray(values, dtype=float).ravel()
        except (TypeError, ValueError):
            continue  # estimators, indices
        if numbers.size == 0:
            continue
        for fold, value in enumerate(numbers):
            if np.isfinite(value):
                session.log_metrics({f"cv_{key}": float(value)}, step=fold)
        finite = numbers[np.isfinite(numbers)]
        if finite.size:
            session.log_metrics({f"cv_{key}_mean": float(finite.mean()), f"cv_{key}_std": float(finite.std())})


def _log_curve(session: Session, name: str, steps: list[int], train: Any, test: Any) -> None:
    for step, train_scores, test_scores in zip(steps, np.asarray(train, float), np.asarray(test, float)):
        session.log_metrics({f"{name}_train_score": float(np.nanmean(train_scores)),
                             f"{name}_test_score": float(np.nanmean(test_scores))}, step=step)


def install(package: ModuleType) -> None:
    """Patch the helpers in ``sklearn.model_selection._validation`` (where ``cross_val_score``
    finds ``cross_validate``) and in ``sklearn.model_selection`` (where users find them)."""
    import sys

    validation = sys.modules.get("sklearn.model_selection._validation")
    for name in HELPERS:
        original = getattr(validation, name, None)
        if original is None or patching.is_patched(original):
            continue
        plan = HelperPlan(name, original)

        def make(current: Callable, plan: HelperPlan = plan) -> Callable:
            def helper(*args: Any, **kwargs: Any) -> Any:
                return traced(plan, current, args, kwargs)
            return patching.wrap(current, helper)

        for module in (validation, package):
            if getattr(module, name, None) is original:
                patching.patch(FRAMEWORK, module, name, make)
