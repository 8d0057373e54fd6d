"""Unloading and reloading the extension keeps the kernel's history and each cell's previous run."""

from __future__ import annotations

from nb_helpers import all_runs, plain, write_notebook

LOAD = "%load_ext nbtrack\nimport nbtrack"
TRACKED = "%%track experiment=qa\ny = x + 1"


def test_unload_and_load_again_keeps_the_kernel_history(workdir, start_kernel):
    path = write_notebook(workdir / "reload.ipynb", [
        ("code", "load", LOAD),
        ("code", "data", "x = 1"),
        ("code", "tracked", TRACKED),
    ])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute("x = 1", "data").status == "ok"
    assert kernel.execute("1 / 0", "scratch").status == "error"
    assert kernel.execute("%unload_ext nbtrack", "unload").status == "ok"
    assert kernel.execute("%load_ext nbtrack", "reload").status == "ok"
    reply = kernel.execute(TRACKED, "tracked")
    assert reply.status == "ok", plain(reply.text)
    (run,) = all_runs()
    executions = run.document("history")["executions"]
    assert [(e["execution_count"], e["cell_id"], e["failed"]) for e in executions] == [
        (1, "load", False), (2, "data", False), (3, "scratch", True), (4, "unload", False),
        (5, "reload", False), (6, "tracked", False)]
    hidden = run.document("hidden_state")
    assert hidden["never_executed"] == [] and hidden["warnings"] == []


def test_reload_ext_keeps_the_previous_run_of_a_cell(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    assert kernel.execute("x = 1").status == "ok"
    assert kernel.execute(TRACKED).status == "ok"
    assert kernel.execute("%reload_ext nbtrack").status == "ok"
    assert kernel.execute(TRACKED).status == "ok"
    first, second = all_runs()
    assert second.tags.get("nbtrack.previous_run") == first.run_id
