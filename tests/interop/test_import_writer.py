"""The import writer on a real SQLite store: one batch per chunk, bad runs reported, secrets redacted."""

from __future__ import annotations

import nbtrack
from nbtrack.interop.model import ArtifactSource, ImportedRun, SkippedRun
from nbtrack.interop.writer import write_runs


def _run(index: int, **fields) -> ImportedRun:
    run = ImportedRun("mlflow", f"{index:032x}", f"{index:032x}", "imported", f"run-{index}", "FINISHED",
                      1_700_000_000.0 + index, 1_700_000_100.0 + index)
    run.metrics = [("loss", step, 1 / (step + 1), 1_700_000_000.0 + step) for step in range(10)]
    for key, value in fields.items():
        setattr(run, key, value)
    return run


def test_a_bad_run_is_reported_and_the_others_of_its_chunk_land():
    runs = [_run(1), _run(2, experiment="x" * 300), SkippedRun("mlflow", "broken-id", "ValueError: unreadable"),
            _run(3, artifacts=[ArtifactSource("../escape.txt", read=lambda: b"x")])]
    report = write_runs(nbtrack.get_store(), runs, "mlflow")
    assert sorted(report.imported) == [f"{1:032x}", f"{3:032x}"]
    reasons = dict(report.failed)
    assert "experiment name must be a string of at most 250 characters" in reasons[f"{2:032x}"]
    assert reasons["broken-id"] == "ValueError: unreadable"
    assert any("../escape.txt" in warning for _, warning in report.warnings)  # the file, not the run, is left out
    assert nbtrack.get_run(f"{3:032x}").artifacts == []
    assert len(nbtrack.get_run(f"{1:032x}").metric_history("loss")) == 10


def test_secrets_in_imported_runs_are_redacted_once():
    leaked = _run(4, params={"api_key": "abc123", "lr": 0.1}, tags={"token": "ghp_" + "a" * 36, "ok": "fine"},
                  notes="password = 'hunter2'")
    write_runs(nbtrack.get_store(), [leaked], "mlflow")
    run = nbtrack.get_run(f"{4:032x}")
    assert run.params == {"api_key": "<redacted>", "lr": 0.1} and run.tags["token"] == "<redacted>"
    assert "hunter2" not in run.notes and run.tags["ok"] == "fine"
    assert {row["where"] for row in run.document("redactions")} == {"params.api_key", "tags.token", "notes"}
    again = _run(5, params={"api_key": "<redacted>"}, documents={"redactions": [{"where": "params.api_key",
                                                                                 "pattern": "secret_name",
                                                                                 "count": 1}]})
    write_runs(nbtrack.get_store(), [again], "mlflow")  # redacted before it was exported: not counted twice
    assert nbtrack.get_run(f"{5:032x}").document("redactions") == again.documents["redactions"]
