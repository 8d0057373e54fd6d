"""XGBoost and LightGBM: native train() and the scikit-learn wrappers, on data made here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from autolog_helpers import require

import nbtrack

RNG = np.random.default_rng(0)
X = RNG.normal(size=(240, 4))
Y = (X[:, 0] + 0.5 * RNG.normal(size=240) > 0).astype(int)
TRAIN, VALID = slice(0, 160), slice(160, None)


def test_xgboost_train_logs_params_every_iteration_early_stopping_and_the_booster(runs, no_autolog_warnings):
    xgb = require("xgboost")
    nbtrack.autolog()
    train, valid = xgb.DMatrix(X[TRAIN], label=Y[TRAIN]), xgb.DMatrix(X[VALID], label=Y[VALID])
    evals_result: dict = {}
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "eval_metric": ["logloss", "auc"]},
                        train, num_boost_round=30, evals=[(train, "train"), (valid, "valid")],
                        early_stopping_rounds=3, evals_result=evals_result, verbose_eval=False)

    [run] = runs()
    assert run.name == "xgboost" and run.tags["nbtrack.autolog"] == "xgboost"
    assert run.params == {"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "eval_metric": ["logloss", "auc"],
                          "num_boost_round": 30, "early_stopping_rounds": 3}
    history = run.metric_history("valid-logloss")
    assert list(history["step"]) == list(range(len(evals_result["valid"]["logloss"])))
    assert list(history["value"]) == pytest.approx(evals_result["valid"]["logloss"])
    assert run.metrics["train-auc"] == pytest.approx(evals_result["train"]["auc"][-1])
    assert run.metrics["best_iteration"] == booster.best_iteration
    loaded = xgb.Booster()
    loaded.load_model(bytearray(run.artifact("models/xgboost-booster.ubj").read_bytes()))
    assert np.allclose(loaded.predict(valid), booster.predict(valid))
    importance = json.loads(run.artifact("feature_importance_gain.json").read_text())
    assert set(importance) <= {"f0", "f1", "f2", "f3"} and "f0" in importance


def test_xgboost_sklearn_wrapper_joins_the_sklearn_run(runs, no_autolog_warnings):
    xgb = require("xgboost")
    nbtrack.autolog()
    model = xgb.XGBClassifier(n_estimators=6, max_depth=2, learning_rate=0.3)
    model.fit(X[TRAIN], Y[TRAIN], eval_set=[(X[VALID], Y[VALID])], verbose=False)

    [run] = runs()  # one run: the booster's train() joined the wrapper's fit
    assert run.name == "XGBClassifier" and run.params["n_estimators"] == 6 and run.params["max_depth"] == 2
    assert len(run.metric_history("validation_0-logloss")) == 6
    assert "training_accuracy_score" in run.metrics and "training_roc_auc" in run.metrics
    assert "models/xgboost-booster.ubj" in [a.name for a in run.artifacts]


def test_lightgbm_train_and_the_sklearn_wrapper(runs, no_autolog_warnings):
    lgb = require("lightgbm")
    nbtrack.autolog()
    booster = lgb.train({"objective": "binary", "num_leaves": 4, "verbose": -1, "metric": ["binary_logloss", "auc"]},
                        lgb.Dataset(X[TRAIN], Y[TRAIN]), num_boost_round=40,
                        valid_sets=[lgb.Dataset(X[VALID], Y[VALID])], valid_names=["valid"],
                        callbacks=[lgb.early_stopping(3, verbose=False)])
    model = lgb.LGBMRegressor(n_estimators=5, num_leaves=4, verbose=-1).fit(X[TRAIN], X[TRAIN, 0])

    native, wrapper = runs()
    assert native.name == "lightgbm" and native.params["num_leaves"] == 4 and native.params["num_boost_round"] == 40
    history = native.metric_history("valid-auc")
    assert list(history["step"]) == list(range(len(history)))
    assert len(history) == booster.best_iteration + 3  # every iteration evaluated, to the one that stopped it
    assert native.metrics["best_iteration"] == booster.best_iteration
    assert native.metrics["best_valid-auc"] == pytest.approx(booster.best_score["valid"]["auc"])
    text = native.artifact("models/lightgbm-booster.txt").read_text()
    assert np.allclose(lgb.Booster(model_str=text).predict(X[VALID]), booster.predict(X[VALID]))

    assert wrapper.name == "LGBMRegressor" and wrapper.params["n_estimators"] == 5
    assert wrapper.metrics["training_r2_score"] == pytest.approx(model.score(X[TRAIN], X[TRAIN, 0]))


def test_a_search_over_xgboost_logs_the_search_not_each_candidates_boosters(runs, no_autolog_warnings):
    xgb = require("xgboost")
    from sklearn.model_selection import GridSearchCV

    nbtrack.autolog(log_models=False)
    GridSearchCV(xgb.XGBClassifier(n_estimators=3, max_depth=2), {"learning_rate": [0.1, 0.5]}, cv=2).fit(X, Y)

    search, *children = runs()
    assert search.name == "GridSearchCV" and len(children) == 2
    assert not any("-" in key for key in search.metrics), search.metrics  # no candidate's iteration metrics
    assert "objective" not in search.params  # nor its booster's params
    assert "feature_importance_gain.json" not in [a.name for a in search.artifacts]
