"""What the XGBoost and LightGBM adapters share: their native ``train()`` as one training call.

Both patch ``train`` where their scikit-learn wrappers find it too (``xgboost.train``,
``xgboost.training.train``, ``xgboost.sklearn.train``; the same for LightGBM), so the native
API and the wrappers go through one place. Outside a scikit-learn fit, ``train`` is its own
training call: its params, ``num_boost_round``, per-iteration evaluation metrics, the booster
and its feature importances. Inside one (``XGBClassifier.fit``), it joins that fit's run and
adds the per-iteration metrics and the booster to what scikit-learn logs.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any, Callable

from .. import patching
from ..params import flatten, plain
from ..session import Session, SignaturePlan, traced

MODELS = "models"


class TrainPlan(SignaturePlan):
    """``train(params, data, num_boost_round, ..., callbacks=...)`` of a boosting library."""

    #: the train() arguments logged as params besides ``params`` itself
    logged_arguments: tuple[str, ...] = ("num_boost_round",)
    callbacks_argument = "callbacks"

    def describe(self, args: tuple, kwargs: dict) -> dict:
        arguments = self.arguments(args, kwargs)
        params = flatten(dict(arguments.get("params") or {}))
        for name in self.logged_arguments:
            if arguments.get(name) is not None:
                params[name] = plain(arguments[name])
        return {"params": params, "name": self.framework}

    def before(self, session: Session, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        arguments = self.arguments(args, kwargs)
        callbacks = list(arguments.get(self.callbacks_argument) or [])
        callbacks.append(self.metrics_callback(session))
        arguments[self.callbacks_argument] = callbacks
        return (), arguments

    def after(self, session: Session, args: tuple, kwargs: dict, booster: Any) -> None:
        session.step("logging the best iteration", lambda: session.log_metrics(self.best(booster)))
        session.step("logging feature importances", lambda: self.log_importance(session, booster))
        if session.log_models:
            session.step("logging the booster", lambda: session.log_artifact(
                self.booster_bytes(booster), f"{MODELS}/{self.booster_file}", "logging the booster"))

    # --- per library ------------------------------------------------------------------------

    booster_file = "booster"

    def metrics_callback(self, session: Session) -> Any:
        raise NotImplementedError

    def best(self, booster: Any) -> dict[str, float]:
        return {}

    def importance(self, booster: Any) -> dict[str, float]:
        return {}

    def booster_bytes(self, booster: Any) -> Any:
        raise NotImplementedError

    def log_importance(self, session: Session, booster: Any) -> None:
        importance = self.importance(booster)
        if importance:
            ordered = dict(sorted(importance.items(), key=lambda item: -item[1]))
            session.log_artifact(json.dumps(ordered, indent=1), "feature_importance_gain.json",
                                 "logging feature importances")


def patch_train(framework: str, plan_class: type, modules: list[ModuleType]) -> None:
    """Patch ``train`` in each of ``modules`` (where they hold it) with one plan."""
    original = next((m.train for m in modules if hasattr(m, "train") and not patching.is_patched(m.train)), None)
    if original is None:
        return  # installed already
    plan = plan_class(original)

    def make(current: Callable) -> Callable:
        def autologged(*args: Any, **kwargs: Any) -> Any:
            return traced(plan, current, args, kwargs)
        return patching.wrap(current, autologged)

    for module in modules:
        if getattr(module, "train", None) is original:
            patching.patch(framework, module, "train", make)


def log_iteration(session: Session, results: list[tuple[str, str, float]], step: int) -> None:
    """One iteration's evaluation results ``(data, metric, value)`` as ``<data>-<metric>`` at ``step``."""
    session.log_metrics({f"{data}-{metric}": float(value) for data, metric, value in results}, step=step)
