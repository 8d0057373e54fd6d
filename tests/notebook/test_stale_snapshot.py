"""A cell edited and run without saving (no extension): the run keeps the code that ran, and
the summary line, ``nbtrack show``, the dashboard detail and the checkout say which cells came
from disk. The run detail highlights the tracked cell (jupytext's ``# %%track`` comment is not
a new cell)."""

from __future__ import annotations

import re

import nbformat
from nb_helpers import all_runs, plain, write_notebook

import nbtrack
from nbtrack.cli import main as cli_main
from nbtrack.dashboards.detail import detail_html

SAVED = "%%track experiment=stale\nlr = 0.1\n"
EDITED = "%%track experiment=stale\nlr = 0.5\n"


def test_unsaved_edit_is_kept_in_the_checkout_and_every_view_says_stale(workdir, start_kernel, capsys):
    path = write_notebook(workdir / "s.ipynb", [("markdown", "m", "# notes"), ("code", "load", "%load_ext nbtrack"),
                                              ("code", "t", SAVED), ("code", "after", "y = 1\n")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute("%load_ext nbtrack", "load")
    reply = kernel.execute(EDITED, "t")
    assert reply.status == "ok", reply.text
    (run,) = all_runs()
    assert run.params == {"lr": 0.5}
    assert run.document("notebook")["stale"] is True
    assert "stale snapshot" in plain(reply.text)

    out = nbformat.read(str(nbtrack.checkout(run.run_id, workdir / "c.ipynb")), as_version=4)
    assert [c.source for c in out.cells] == ["# notes", "%load_ext nbtrack", EDITED, "y = 1\n"]
    assert [c.id for c in out.cells] == ["m", "load", "t", "after"]
    assert "stale" in out.metadata["nbtrack"]["snapshot_note"]

    html = detail_html(nbtrack.get_run(run.run_id))
    assert "stale" in html
    tracked = re.findall(r'<pre class="tracked"[^>]*>(.*?)</pre>', html, re.S)
    assert len(tracked) == 1 and "lr = 0.5" in tracked[0]

    capsys.readouterr()
    assert cli_main(["show", run.run_id]) in (0, None)
    assert "notebook snapshot: stale" in capsys.readouterr().out


def test_run_detail_highlights_the_tracked_cell_not_the_one_before(workdir, start_kernel):
    path = write_notebook(workdir / "d.ipynb", [("code", "load", "%load_ext nbtrack"),
                                              ("code", "t", "%%track\nz = 3\n"), ("code", "next", "w = 4\n")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute("%load_ext nbtrack", "load")
    assert kernel.execute("%%track\nz = 3\n", "t").status == "ok"
    (run,) = all_runs()
    html = detail_html(nbtrack.get_run(run.run_id))
    cells = re.findall(r'<pre class="(tracked)?"[^>]*>(.*?)</pre>', html, re.S)
    assert [("tracked" in c[0], c[1].rstrip("\n").split("\n")[-1]) for c in cells] == [
        (False, "%load_ext nbtrack"), (True, "z = 3"), (False, "w = 4")]
