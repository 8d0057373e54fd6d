"""A filter on a key no run has says so and suggests the closest key, instead of a silent 0 runs."""

from __future__ import annotations

import warnings

import pytest
from cli_helpers import run_cli

import nbtrack
from nbtrack.store.keys import UnknownKeyWarning


@pytest.fixture
def churn(store_uri):
    for i in range(3):
        with nbtrack.track("churn", params={"learning_rate": 0.1 * i, "model": "rf"}, tags={"stage": "dev"}):
            nbtrack.log_metric("accuracy", 0.7 + i / 10)
            nbtrack.log_metric("val_loss", 1 - i / 10)
    with nbtrack.track("other", params={"only_here": 1}):
        nbtrack.log_metric("precision", 0.5)


def test_unknown_keys_are_named_with_the_closest_existing_key(churn):
    text = "metrics.acuracy > 0.8 or (params.learning_rte < 1 and tags.stage = 'dev') or params.only_here = 1"
    found = nbtrack.check_filter_keys("churn", text)
    assert [(u.field, u.position, u.suggestion) for u in found] == [
        ("metrics.acuracy", 0, "metrics.accuracy"),
        ("params.learning_rte", 26, "params.learning_rate"),
        ("params.only_here", 77, "params.only_here"),  # it exists, in another experiment only
    ]
    assert found[0].message == "no run in experiment 'churn' has metrics.acuracy; did you mean metrics.accuracy?"
    assert nbtrack.check_filter_keys(None, "params.only_here = 1") == []
    assert nbtrack.check_filter_keys("churn", "metrics.zzzzzz > 1")[0].suggestion is None
    assert nbtrack.check_filter_keys("churn", "metrics.accuracy > 0.8 and status = 'FINISHED'") == []
    assert nbtrack.check_filter_keys("churn", None) == []
    assert nbtrack.check_filter_keys("churn", "metrics.missing IS NULL or not params.gone IS NOT NULL") == []
    assert [u.field for u in nbtrack.check_filter_keys("churn", "not metrics.missing IS NULL")] == ["metrics.missing"]


def test_runs_warns_and_the_cli_prints_one_note(churn):
    with pytest.warns(UnknownKeyWarning, match="did you mean metrics.accuracy"):
        assert nbtrack.runs("churn", filter="metrics.acuracy > 0.8").empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(nbtrack.runs("churn", filter="metrics.accuracy > 0.8")) == 1
    listed = run_cli("--store", nbtrack.get_store().uri, "ls", "-e", "churn", "--filter", "metrics.acuracy > 0.8")
    assert listed.returncode == 0 and "no runs match the filter" in listed.stdout
    assert listed.stderr.strip() == ("nbtrack ls: note: no run in experiment 'churn' has metrics.acuracy; "
                                     "did you mean metrics.accuracy?")


def test_the_closest_key_breaks_ties_by_the_shared_start():
    from nbtrack.store.keys import closest_key

    assert closest_key("acuracy", ["auc", "acc", "f1"]) == "acc"  # difflib scores auc and acc alike
    assert closest_key("acuracy", ["accuracy", "val_accuracy", "loss"]) == "accuracy"
    assert closest_key("modle", ["model", "seed"]) == "model"
    assert closest_key("Learning_Rate", ["learning_rate"]) == "learning_rate"
    assert closest_key("zzz", ["model", "seed"]) is None
