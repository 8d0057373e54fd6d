"""LightGBM: ``lightgbm.train`` (the native API, and under ``LGBMClassifier``/``LGBMRegressor``/...).

Per-iteration evaluation metrics come from a callback (``<data>-<metric>``, e.g.
``valid_0-multi_logloss``, at step = iteration); ``best_iteration`` and the best scores with
early stopping; the booster as ``models/lightgbm-booster.txt`` (``lightgbm.Booster(model_file=...)``);
gain importances as ``feature_importance_gain.json``. See ``boosting`` for the run rules.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, Callable

import lightgbm

from ..session import Session
from .boosting import TrainPlan, log_iteration, patch_train

FRAMEWORK = "lightgbm"


def _metrics_callback(session: Session) -> Callable[[Any], None]:
    def nbtrack_autolog(env: Any) -> None:
        results = [(item[0], item[1], item[2]) for item in (env.evaluation_result_list or [])]
        session.step("logging iteration metrics", lambda: log_iteration(session, results, env.iteration))
    nbtrack_autolog.order = 25  # after record_evaluation (20), before early_stopping (30) stops
    return nbtrack_autolog


class LightGBMPlan(TrainPlan):
    framework = FRAMEWORK
    booster_file = "lightgbm-booster.txt"

    def metrics_callback(self, session: Session) -> Any:
        return _metrics_callback(session)

    def best(self, booster: Any) -> dict[str, float]:
        found: dict[str, float] = {}
        if getattr(booster, "best_iteration", 0) > 0:  # 0: no early stopping
            found["best_iteration"] = float(booster.best_iteration)
            for data, scores in (booster.best_score or {}).items():
                for metric, value in scores.items():
                    found[f"best_{data}-{metric}"] = float(value)
        return found

    def importance(self, booster: Any) -> dict[str, float]:
        names = booster.feature_name()
        gains = booster.feature_importance(importance_type="gain")
        return {str(name): float(gain) for name, gain in zip(names, gains)}

    def booster_bytes(self, booster: Any) -> str:
        return booster.model_to_string()


def install(module: ModuleType) -> None:
    modules = [lightgbm, sys.modules.get("lightgbm.engine"), sys.modules.get("lightgbm.sklearn")]
    patch_train(FRAMEWORK, LightGBMPlan, [m for m in modules if m is not None])
