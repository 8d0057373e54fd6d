"""%%track under %%time, sys.exit(0) inside a tracked cell, and the traceback of a tracked cell."""

from __future__ import annotations

from nb_helpers import all_runs, plain, write_notebook

LOAD = "%load_ext nbtrack"


def test_time_above_track_keeps_the_cell_id(workdir, start_kernel):
    source = "%%time\n%%track experiment=timed\nx = 1\n"
    path = write_notebook(workdir / "t.ipynb", [("code", "load", LOAD), ("code", "timed", source)])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute(LOAD, "load")
    reply = kernel.execute(source, "timed")
    assert reply.status == "ok", reply.text
    assert "Wall time" in reply.text
    (run,) = all_runs()
    assert run.tags.get("nbtrack.cell") == "timed"
    assert run.document("notebook")["stale"] is False


def test_sys_exit_zero_finishes_the_run_as_with_track(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    kernel.execute("%%track experiment=exit\nimport sys\nx = 1\nsys.exit(0)\n")
    kernel.execute("import nbtrack, sys\ntry:\n    with nbtrack.track('exit'):\n        sys.exit(0)\n"
                   "except SystemExit:\n    pass\n")
    kernel.execute("%%track experiment=exit\nimport sys\nsys.exit(3)\n")
    assert [run.status for run in all_runs()] == ["FINISHED", "FINISHED", "FAILED"]


def test_traceback_shows_the_track_line_not_a_blank_line_1(workdir, start_kernel):
    kernel = start_kernel()
    kernel.execute(LOAD)
    reply = kernel.execute("%%track experiment=tb\nraise ValueError('boom')\n")
    assert reply.status == "error"
    text = plain("\n".join(reply.traceback))
    assert "%%track experiment=tb" in text, text
    assert "----> 2 raise ValueError('boom')" in text and "Cell In[2], line 2" in text, text
