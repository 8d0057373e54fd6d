"""Checkout from the run detail writes next to the current notebook."""

from __future__ import annotations

import nbtrack


def test_checkout_from_the_detail_goes_next_to_the_current_notebook(store, tmp_path, monkeypatch):
    from dashboard_helpers import SNAPSHOT

    project = tmp_path / "my project ü"
    project.mkdir()
    (project / "train.ipynb").write_text("{}")
    elsewhere = tmp_path / "data"
    elsewhere.mkdir()
    monkeypatch.setenv("JPY_SESSION_NAME", str(project / "train.ipynb"))
    monkeypatch.chdir(elsewhere)  # the notebook did %cd data
    with nbtrack.track("exp", name="snap") as run:
        nbtrack.log_artifact(SNAPSHOT.format(lr=0.3), name="notebook.py")
        run.set_document("notebook", {"artifact": "notebook.py", "path": str(project / "train.ipynb"),
                                      "cell_index": 1, "cell_ids": ["a1", "b2", "c3"]})
    board = nbtrack.dashboard("exp")
    board.table.receive({"type": "open", "run_id": run.run_id})  # the row's i button
    board.detail.checkout_button.click()
    assert not board.state.message_is_error, board.state.message
    written = project / f"train-{run.run_id[:8]}.ipynb"
    assert written.exists() and "fit(lr=0.3)" in written.read_text()
    assert list(elsewhere.iterdir()) == []
