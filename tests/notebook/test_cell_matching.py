"""The tracked cell is recognised as the cell being run, whatever IPython did to its body."""

from __future__ import annotations

from nb_helpers import all_runs, write_notebook

from nbtrack.notebook.cellsource import normalize, same_code

LOAD = "%load_ext nbtrack"

# a whitespace-only line inside the cell: IPython empties it before the magic sees the body
# IPython 9 empties whitespace-only lines of a cell magic's body (the IPython 8 installed here
# does not): the same transformation, installed the way IPython installs its own cleanups.
EMPTY_WHITESPACE_LINES = """
def _empty_whitespace_lines(lines):
    return [line if line.strip() else "\\n" for line in lines]
get_ipython().input_transformers_cleanup.append(_empty_whitespace_lines)
"""
WHITESPACE = "%%track experiment=ws\nx = 1\n    \nfor i in range(2):\n    y = i\n    \t\nz = 2\n"


def test_whitespace_only_lines_keep_the_cell_id_snapshot_and_previous_run(workdir, start_kernel):
    path = write_notebook(workdir / "ws.ipynb", [
        ("code", "load", LOAD),
        ("code", "tracked", WHITESPACE),
    ])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(EMPTY_WHITESPACE_LINES).status == "ok"
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute(WHITESPACE, "tracked").status == "ok"
    reply = kernel.execute(WHITESPACE, "tracked")
    assert reply.status == "ok", reply.text
    first, second = all_runs()
    assert first.tags.get("nbtrack.cell") == "tracked"
    assert second.tags.get("nbtrack.cell") == "tracked"
    assert second.tags.get("nbtrack.previous_run") == first.run_id
    notebook = second.document("notebook")
    assert notebook["cell_id"] == "tracked" and notebook["cell_index"] == 1
    assert notebook["stale"] is False, notebook["stale_reason"]
    assert second.document("cell")["source"] == WHITESPACE
    report = second.document("hidden_state") or {}
    assert "never run" not in " ".join(report.get("warnings", []))


def test_normalize_is_what_ipython_does_to_a_cell_magic_body():
    assert normalize("x = 1\n    \ny = 2") == normalize("x = 1\n\ny = 2")
    assert normalize("x = 1\r\n\r\ny = 2\r\n") == normalize("x = 1\n\ny = 2")
    assert normalize("x = 1\n  y = 2") != normalize("x = 1\ny = 2"), "indentation of code lines counts"
    assert same_code("%%track a=1\nx = 1\n  \n", "x = 1\n\n")
    assert same_code("%%time\n%%track\nx = 1\n", "x = 1")
    assert not same_code("%%track\nx = 1\n", "x = 2\n")
