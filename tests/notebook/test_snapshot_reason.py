"""The snapshot's reason names a notebook file that does not exist."""

from __future__ import annotations


def test_snapshot_reason_names_a_notebook_file_that_does_not_exist(tmp_path):
    from nbtrack.notebook.snapshot import take_snapshot

    missing = str(tmp_path / "Untitled.ipynb")
    snapshot = take_snapshot("c1", "%%track\nx = 1", {}, None, {"JPY_SESSION_NAME": missing})
    assert snapshot.source == "none"
    assert snapshot.reason == (f"the notebook file {missing} does not exist "
                               "(not saved yet, or renamed since the kernel started)")
    snapshot = take_snapshot("c1", "%%track\nx = 1", {}, None, {})
    assert snapshot.reason.startswith("no notebook file known to this kernel")
