"""nbtrack sweep on real kernels (nbclient, two at a time) and a real SQLite store: the %%track
literals route with a failing combination (CLI: exit status, summary table), and the papermill
route (a cell tagged 'parameters') with -e, whose children keep the injected cell in their snapshot."""

from __future__ import annotations

import io

import nbformat
from nb_helpers import write_notebook
from test_notebooks_cli import cli

import nbtrack
from nbtrack.notebook.stored_snapshot import read_snapshot
from nbtrack.runner.rerun import rerun
from nbtrack.runner.sweep import run_sweep

TRAIN = """%%track experiment=grid metrics=acc
lr = 0.1   # learning rate
depth: int = 2
assert lr < 0.3, f"lr={lr} diverges"
acc = round(1 - lr * depth / 10, 6)
"""


def test_sweep_of_track_literals_with_a_failing_combination(workdir, store_uri):
    path = write_notebook(workdir / "grid.ipynb", [
        ("code", "setup", "%load_ext nbtrack\nimport nbtrack"),
        ("code", "train", TRAIN),
    ])
    result = cli("sweep", str(path), "-p", "lr=0.1,0.5", "-p", "depth=2,3", "--jobs", "2", cwd=workdir,
                 store=store_uri)
    assert result.returncode == 1, result.stdout + result.stderr  # one combination failed
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "lr", "depth", "acc", "status", "run", "error"]
    rows = {tuple(line.split()[1:3]): line for line in lines[2:6]}
    assert "0.98" in rows[("0.1", "2")] and "FINISHED" in rows[("0.1", "2")]
    assert "0.97" in rows[("0.1", "3")] and "FINISHED" in rows[("0.1", "3")]
    for depth in ("2", "3"):
        assert "FAILED" in rows[("0.5", depth)] and "AssertionError: lr=0.5 diverges" in rows[("0.5", depth)]
    assert "4 combinations in" in result.stdout and "1 failed" not in result.stdout and "2 failed" in result.stdout
    assert "4/4 done" in result.stderr  # not a terminal: one line per combination

    parent = nbtrack.runs("grid", filter="tags.`nbtrack.sweep` = 'parent'")
    assert len(parent) == 1
    parent = nbtrack.get_run(parent["run_id"][0])
    assert parent.status == "FINISHED" and parent.metrics == {"combinations": 4, "failed": 2, "best_acc": 0.98}
    assert parent.tags["nbtrack.source"] == "sweep" and parent.artifacts[0].name == "source/grid.ipynb"
    children = nbtrack.runs(parent_run_ids=[parent.run_id], order_by=["params.lr ASC", "params.depth ASC"])
    assert len(children) == 4 and set(children["experiment"]) == {"grid"}
    assert sorted(zip(children["params.lr"], children["params.depth"])) == [(0.1, 2), (0.1, 3), (0.5, 2), (0.5, 3)]
    assert sorted(children["status"]) == ["FAILED", "FAILED", "FINISHED", "FINISHED"]
    sweep = parent.document("sweep")
    assert sweep["grid"] == {"lr": [0.1, 0.5], "depth": [2, 3]} and sweep["jobs"] == 2
    run = nbtrack.get_run(children["run_id"][0])
    assert "lr = 0.1   # learning rate\ndepth: int = 2" in run.document("cell")["source"]  # comments kept


def test_sweep_of_a_parameters_cell(workdir, store_uri):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("%load_ext nbtrack", id="setup"),
                nbformat.v4.new_code_cell("n = 1\nscale = 1.0", id="params", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("%%track experiment=ignored metrics=total\ntotal = n * scale", id="work")]
    path = workdir / "papermill.ipynb"
    nbformat.write(nb, str(path))
    out, progress = io.StringIO(), io.StringIO()
    outcome = run_sweep(str(path), ["n=2,3"], jobs=2, experiment="pm", out=out, progress_stream=progress,
                        output_dir=str(workdir / "executed"))
    assert not outcome.failed and [c.run.metrics["total"] for c in outcome.combinations] == [2.0, 3.0]
    for combination in outcome.combinations:
        run = combination.run
        assert run.experiment == "pm" and run.parent_run_id == outcome.parent_run_id
        assert run.params == {"n": combination.values["n"]}  # recorded though the cell never assigns n
        cells = read_snapshot(run).cells
        assert [c.id for c in cells] == ["setup", "params", "injected-parameters", "work"]
        assert cells[2].metadata["tags"] == ["injected-parameters"]
        assert f"n = {combination.values['n']}" in cells[2].source
        executed = nbformat.read(str(workdir / "executed" / f"papermill-{combination.index}.ipynb"), 4)
        assert any("nbtrack: run" in str(o) for o in executed.cells[3].outputs)
    assert "  3 *  " in out.getvalue() and "error" not in out.getvalue()  # the best row is marked

    # re-running a child records its injected values as params again: nothing "absent"
    child = outcome.combinations[0].run
    again = rerun(child.run_id)
    assert again.comparison.verdict == "verified", again.comparison.headline()
    assert again.rerun.params == {"n": 2} and not any("params differ" in n for n in again.comparison.notes)
    # -p on a child changes that value; the child's other injected values stay
    changed = rerun(child.run_id, {"scale": 10.0})
    assert changed.rerun.params == {"n": 2, "scale": 10.0} and changed.rerun.metrics["total"] == 20.0
