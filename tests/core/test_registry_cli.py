"""`nbtrack models ...` and `nbtrack datasets` as a user runs them (the console script in a subprocess)."""

from __future__ import annotations

import json

import pandas as pd
from cli_helpers import run_cli
from registry_helpers import logistic

import nbtrack

EVIL = "x\x1b]0;owned\x07\x1b[2J\u202e"


def _assert_clean(text: str) -> None:
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 or c == "\u202e"]
    assert not bad, repr(text)


def test_models_commands(isolated):
    with nbtrack.track("churn") as run:
        nbtrack.log_artifact(logistic(0), "model.skops")
        nbtrack.log_artifact(logistic(1), "m" + EVIL + ".skops")
        nbtrack.log_dataset(pd.DataFrame({"a": [1, 2]}), "train")
    registered = run_cli("models", "register", run.run_id[:8], "model.skops", "churn", "--alias", "champion",
                         "--description", "first " + EVIL)
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.startswith("registered churn v1 @champion (models:/churn/1)")
    nbtrack.register_model(run, "m" + EVIL + ".skops", "churn", tags={"k": EVIL})
    assert run_cli("models", "alias", "churn", "2", "staging").stdout.strip() == "churn @staging -> v2"

    listed = run_cli("models", "ls")
    assert listed.returncode == 0 and "churn" in listed.stdout and "champion=v1, staging=v2" in listed.stdout
    shown = run_cli("models", "show", "churn", "--types")
    assert shown.returncode == 0, shown.stderr
    for text in ("model churn  (2 versions", "aliases: @champion -> v1, @staging -> v2", "v2 needs trust for: nothing",
                 "x\\x1b]0;owned\\x07"):
        assert text in shown.stdout
    _assert_clean(listed.stdout + shown.stdout)
    as_json = json.loads(run_cli("models", "show", "churn", "--json").stdout)
    assert [v["version"] for v in as_json["versions"]] == [1, 2] and as_json["aliases"] == {"champion": 1, "staging": 2}

    lineage = json.loads(run_cli("show", run.run_id, "--json").stdout)["lineage"]
    assert [(m["name"], m["version"]) for m in lineage["models_produced"]] == [("churn", 1), ("churn", 2)]
    assert [(d["name"], d["stored"]) for d in lineage["datasets"]] == [("train", True)]
    shown_run = run_cli("show", run.run_id)
    assert "registered as churn v1 @champion (model.skops)" in shown_run.stdout
    _assert_clean(shown_run.stdout)

    assert run_cli("models", "unalias", "churn", "staging").returncode == 0
    assert run_cli("models", "delete", "churn", "1").stdout.strip() == "deleted churn v1"
    assert nbtrack.get_model("churn").aliases == {}
    assert run_cli("models", "delete", "churn").stdout.strip() == "deleted model churn (1 version)"
    assert "no registered models" in run_cli("models", "ls").stdout

    datasets = run_cli("datasets")
    assert datasets.returncode == 0 and "train" in datasets.stdout and "parquet" in datasets.stdout


def test_models_errors_are_one_line_and_readers_create_no_store(isolated, tmp_path):
    with nbtrack.track("churn") as run:
        nbtrack.log_artifact(logistic(0), "model.skops")
    nbtrack.register_model(run, "model.skops", "churn")
    for argv, expected in ((["models", "show", "churm"], "no registered model named 'churm'"),
                           (["models", "alias", "churn", "9", "champion"], "has no version 9: its versions: 1"),
                           (["models", "alias", "churn", "1", "latest"], "would read as a version"),
                           (["models", "alias", "churn", "one", "champion"], "a model version is a positive integer"),
                           (["models", "register", run.run_id, "nope.skops", "churn"], "no artifact 'nope.skops'"),
                           (["models", "delete", "churn" + EVIL], "holds a control character")):
        result = run_cli(*argv)
        assert result.returncode == 1 and expected in result.stderr, (argv, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        _assert_clean(result.stderr)
    missing = tmp_path / "none.db"
    for argv in (["models", "ls"], ["models", "show", "churn"], ["datasets"]):
        result = run_cli("--store", str(missing), *argv)
        assert result.returncode == 1 and "no nbtrack store at" in result.stderr
    assert not missing.exists()
