"""XGBoost: ``xgboost.train`` (the native API, and under ``XGBClassifier``/``XGBRegressor``/...).

Per-iteration evaluation metrics come from a ``TrainingCallback`` (``<data>-<metric>``, e.g.
``validation_0-logloss``, at step = iteration); ``best_iteration`` and ``best_score`` with early
stopping; the booster as ``models/xgboost-booster.ubj`` (load it with ``Booster().load_model``);
gain importances as ``feature_importance_gain.json``. See ``boosting`` for the run rules.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import xgboost
from xgboost.callback import TrainingCallback

from ..session import Session
from .boosting import TrainPlan, log_iteration, patch_train

FRAMEWORK = "xgboost"


class _Metrics(TrainingCallback):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
        results = []
        for data, metrics in evals_log.items():
            for metric, values in metrics.items():
                value = values[-1]
                results.append((data, metric, value[0] if isinstance(value, tuple) else value))
        self.session.step("logging iteration metrics", lambda: log_iteration(self.session, results, epoch))
        return False  # never stops training


class XGBoostPlan(TrainPlan):
    framework = FRAMEWORK
    logged_arguments = ("num_boost_round", "early_stopping_rounds", "maximize")
    booster_file = "xgboost-booster.ubj"

    def metrics_callback(self, session: Session) -> Any:
        return _Metrics(session)

    def best(self, booster: Any) -> dict[str, float]:
        found = {}
        for name in ("best_iteration", "best_score"):
            value = booster.attr(name)
            if value is not None:
                found[name] = float(value)
        return found

    def importance(self, booster: Any) -> dict[str, float]:
        return {k: float(v) for k, v in booster.get_score(importance_type="gain").items()}

    def booster_bytes(self, booster: Any) -> bytes:
        return bytes(booster.save_raw(raw_format="ubj"))


def install(module: ModuleType) -> None:
    modules = [xgboost, sys.modules.get("xgboost.training"), sys.modules.get("xgboost.sklearn")]
    patch_train(FRAMEWORK, XGBoostPlan, [m for m in modules if m is not None])
