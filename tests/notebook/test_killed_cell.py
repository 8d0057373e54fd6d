"""A kernel killed (SIGKILL) in the middle of a %%track cell keeps the cell's code."""

from __future__ import annotations

import os
import signal
import time

from nb_helpers import write_notebook

import nbtrack

LOAD = "%load_ext nbtrack"
SLOW = """%%track experiment=killed
lr = 0.1
epochs = 1000
import time
for epoch in range(epochs):
    nbtrack.log_metric("loss", 1.0 / (epoch + 1))
    time.sleep(0.01)
"""


def _wait_for_metric_and_snapshot(timeout: float = 60.0) -> str:
    """The run id once the cell logged a point and its snapshot (the exact ``.ipynb``, stored in
    the background while the cell runs; ``notebook.py`` follows the cell) landed."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            frame = nbtrack.runs(experiment="killed")
        except Exception:  # the store file may not exist yet
            frame = None
        if frame is not None and len(frame) and "metrics.loss" in frame.columns \
                and frame["metrics.loss"].notna().all():
            run_id = str(frame["run_id"][0])
            if (nbtrack.get_run(run_id).document("notebook") or {}).get("exact_artifact"):  # named once stored
                return run_id
        time.sleep(0.2)
    raise AssertionError("the tracked cell never logged a point and its snapshot")


def test_killed_cell_keeps_params_source_snapshot_and_history(workdir, start_kernel):
    path = write_notebook(workdir / "k.ipynb", [
        ("code", "load", LOAD),
        ("code", "imports", "import nbtrack"),
        ("code", "slow", SLOW),
    ])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute("import nbtrack", "imports").status == "ok"
    kernel.send(SLOW, "slow")
    run_id = _wait_for_metric_and_snapshot()
    os.kill(kernel.km.provisioner.process.pid, signal.SIGKILL)
    kernel.km.provisioner.process.wait()

    run = nbtrack.get_run(run_id)
    assert run.document("cell")["params_as_written"] == {"lr": 0.1, "epochs": 1000}
    assert run.tags["nbtrack.cell"] == "slow"
    assert run.document("cell")["source"] == SLOW
    assert run.document("cell")["id"] == "slow"
    notebook = run.document("notebook")
    assert notebook is not None, (run.document_keys, [a.name for a in run.artifacts])
    assert notebook["cell_id"] == "slow" and notebook["cell_index"] == 2
    assert "for epoch in range(epochs):" in run.artifact(notebook["exact_artifact"]).read_text()
    sources = [e["source"] for e in run.document("history")["executions"]]
    assert sources[-1] == SLOW.rstrip("\n") and LOAD in sources  # IPython keeps no final newline
