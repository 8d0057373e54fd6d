"""nbtrack.integrations.optuna with the real optuna on a real SQLite store: trials as nested runs of
the study's run (params, values, intermediate values, pruned and failed trials), parallel trials
through the callback alone, and the refusal of track_in_nbtrack with n_jobs > 1."""

from __future__ import annotations

import time

import optuna  # the `optuna` extra (in `dev`)
import pytest

import nbtrack
from nbtrack.integrations.optuna import NbtrackCallback, optimize

optuna.logging.set_verbosity(optuna.logging.ERROR)


def objective(trial):
    x = trial.suggest_float("x", -2.0, 2.0)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    for step in range(3):
        trial.report(x * step, step)
        nbtrack.log_metric("inner", step)  # lands in the trial's run when it is tracked
    if x > 1.5:
        raise ValueError("x too large")
    if kind == "b" and x < -1.5:
        raise optuna.TrialPruned()
    return (x - 0.5) ** 2


def test_optimize_makes_the_study_a_run_and_each_trial_a_nested_run():
    study = optuna.create_study(study_name="quad", sampler=optuna.samplers.RandomSampler(seed=1))
    study_run = optimize(study, objective, n_trials=25, experiment="tune", catch=(ValueError,), metric_name="loss")
    parent = nbtrack.get_run(study_run.run_id)
    assert parent.status == "FINISHED" and parent.experiment == "tune" and parent.name == "optuna quad"
    assert parent.tags["optuna.study_name"] == "quad" and parent.tags["optuna.direction"] == "minimize"
    trials = nbtrack.runs("tune", filter=f"attributes.parent_run_id = '{parent.run_id}'")
    assert len(trials) == 25
    by_number = {int(row["tags.optuna.trial_number"]): row for _, row in trials.iterrows()}
    states = {t.number: t.state.name for t in study.trials}
    assert {n: row["tags.optuna.state"] for n, row in by_number.items()} == states
    assert {"COMPLETE", "FAIL"} <= set(states.values())
    for trial in study.trials:
        row = by_number[trial.number]
        assert row["params.x"] == trial.params["x"] and row["params.kind"] == trial.params["kind"]
        assert row["status"] == {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}[trial.state.name]
        if trial.state.name == "COMPLETE":
            assert row["metrics.loss"] == trial.value and row["metrics.inner"] == 2
    complete = next(t for t in study.trials if t.state.name == "COMPLETE")
    record = nbtrack.get_run(by_number[complete.number]["run_id"])
    assert list(record.metric_history("loss/intermediate")["value"]) == [complete.intermediate_values[s] for s in
                                                                       range(3)]
    failed = next(t for t in study.trials if t.state.name == "FAIL")
    error = nbtrack.get_run(by_number[failed.number]["run_id"]).error
    assert error["type"] == "ValueError" and "x too large" in error["message"]
    assert parent.metrics["best_loss"] == study.best_value
    assert parent.tags["nbtrack.best_run"] == by_number[study.best_trial.number]["run_id"]


def test_the_callback_alone_in_parallel_and_inside_a_run():
    with nbtrack.track("tune", name="my study") as study_run:  # e.g. a %%track cell: its run is the study's
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=2))
        callback = NbtrackCallback(["score"])
        study.optimize(lambda t: t.suggest_int("n", 1, 100), n_trials=12, n_jobs=3, callbacks=[callback])
        tracked = callback.track_in_nbtrack(lambda t: time.sleep(0.3) or t.suggest_int("n", 1, 100))
        with pytest.raises(RuntimeError, match="one trial at a time"):
            study.optimize(tracked, n_trials=4, n_jobs=2, callbacks=[callback])
    children = nbtrack.runs(filter=f"attributes.parent_run_id = '{study_run.run_id}'")
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert sorted(children["params.n"].dropna()) == sorted(t.params["n"] for t in complete)
    assert set(children["experiment"]) == {"tune"} and len(complete) >= 12
    assert nbtrack.get_run(study_run.run_id).metrics["best_score"] == study.best_value
