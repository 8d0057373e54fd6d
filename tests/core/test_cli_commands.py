"""The console script's diff, show/export JSON, --store placement and export errors."""

from __future__ import annotations

import pytest
from cli_helpers import run_cli as _cli

import nbtrack


def test_cli_diff_neither_invents_nor_hides_differences(isolated):
    """NaN metrics in both runs were listed as '(none) -> (none)'; a None param vs no param was hidden."""
    with nbtrack.track("d", params={"same": 1, "gone": None, "flag": True}) as a:
        nbtrack.log_metric("loss", float("nan"))
    with nbtrack.track("d", params={"same": 1, "flag": 1}) as b:
        nbtrack.log_metric("loss", float("nan"))
    out = _cli("diff", a.run_id, b.run_id)
    assert out.returncode == 0, out.stderr
    assert "metrics: identical" in out.stdout
    assert "gone  None  ->  (none)" in out.stdout
    assert "flag  True  ->  1" in out.stdout
    assert "same" not in out.stdout


def test_cli_json_output_is_standard_json_and_keeps_infinities(isolated):
    """show --json printed bare NaN/Infinity (not JSON); export --format json turned inf into null."""
    import json

    def strict(text):
        return json.loads(text, parse_constant=lambda constant: pytest.fail(f"non-standard JSON {constant}"))

    with nbtrack.track("j") as run:
        nbtrack.log_metric("up", float("inf"))
        nbtrack.log_metric("down", float("-inf"))
        nbtrack.log_metric("loss", float("nan"))
        nbtrack.log_metric("acc", 0.5)
    shown = _cli("show", "--json", run.run_id)
    assert shown.returncode == 0, shown.stderr
    assert strict(shown.stdout)["metrics"] == {"acc": 0.5, "down": "-Infinity", "loss": "NaN", "up": "Infinity"}
    exported = _cli("export", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    (row,) = strict(exported.stdout)
    assert (row["metrics.up"], row["metrics.down"], row["metrics.acc"]) == ("Infinity", "-Infinity", 0.5)


def test_cli_store_option_after_the_command(isolated):
    """`nbtrack ls --store runs.db` failed with 'unrecognized arguments'."""
    nbtrack.set_store(isolated / "elsewhere.db")
    with nbtrack.track("placed", name="over-there"):
        pass
    listed = _cli("ls", "--store", str(isolated / "elsewhere.db"))
    assert listed.returncode == 0, listed.stderr
    assert "over-there" in listed.stdout
    assert "placed" in _cli("experiments", "--store", "elsewhere.db").stdout


def test_cli_export_to_a_directory_is_one_clear_error(isolated):
    with nbtrack.track("out"):
        pass
    result = _cli("export", "-o", str(isolated))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("nbtrack export: error:") and "Is a directory" in result.stderr
