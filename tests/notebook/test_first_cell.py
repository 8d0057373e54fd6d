"""The first tracked cell of a fresh kernel does not wait for the environment capture, the package
scan or the store; what they record still lands on the run, also when the kernel shuts down
right after the cell (Run All, then close the notebook)."""

from __future__ import annotations

import time

from nb_helpers import all_runs, write_notebook

LOAD = "%load_ext nbtrack"


def test_run_all_then_shutdown_still_records_environment_packages_and_snapshot(workdir, start_kernel):
    cells = [("code", "load", LOAD), ("code", "first", "%%track experiment=first\nimport json\nx = 1"),
             ("code", "second", "%%track experiment=first\ny = 2")]
    path = write_notebook(workdir / "first.ipynb", cells)
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    pending = [kernel.send(source, cell_id) for _, cell_id, source in cells]  # Run All: queued at once
    replies = [kernel.collect(msg_id, timeout=120) for msg_id in pending]
    assert [r.status for r in replies] == ["ok", "ok", "ok"], [r.text for r in replies]
    kernel.shutdown(now=False)  # as JupyterLab shuts a kernel down: no flush asked for

    first, second = all_runs()  # what was in memory was written first
    assert first.params == {"x": 1} and second.params == {"y": 2}
    for run in (first, second):
        assert run.status == "FINISHED"
        assert run.document("cell")["source"].startswith("%%track experiment=first")
        assert run.document("hidden_state")["matters"] is False
        environment = run.environment  # captured in the background: it landed, or the run says it did not
        assert environment.get("python") or environment.get("incomplete") is True, environment
        notebook = run.document("notebook")  # it names only the artifacts that were stored
        names = {a.name for a in run.artifacts}
        assert not notebook["artifact"] or notebook["artifact"] in names, (notebook, names)
        assert not notebook["exact_artifact"] or notebook["exact_artifact"] in names, (notebook, names)


def test_first_cell_background_work_lands_on_the_run(workdir, start_kernel):
    path = write_notebook(workdir / "bg.ipynb", [("code", "load", LOAD), ("code", "first", "%%track\nx = 1")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute("%%track\nx = 1", "first").status == "ok"  # settles: nbtrack.flush() in the kernel
    (run,) = all_runs()
    assert run.environment.get("python") and not run.environment.get("incomplete"), run.environment
    assert run.document("imported_packages")
    deadline = time.time() + 120  # notebook.py waits for jupytext's import (seconds on a loaded machine)
    while not run.document("notebook")["artifact"] and time.time() < deadline:
        kernel.settle()
        (run,) = all_runs()
    notebook = run.document("notebook")
    assert {notebook["artifact"], notebook["exact_artifact"]} == {"notebook.py", "notebook.ipynb"}
    assert {"notebook.py", "notebook.ipynb"} <= {a.name for a in run.artifacts}
