"""The example notebooks and the CLI (run, demo, checkout, diff --source), each executed in a
real kernel by nbclient, asserted on the SQLite store they wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nb_helpers import all_runs, write_notebook
from nb_kernel import REPO

import nbtrack

EXAMPLES = REPO / "example_notebooks"


def cli(*args: str, cwd: Path, store: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
    env["PYTHONPATH"] = str(REPO)
    if store:
        env["NBTRACK_STORE"] = store
    return subprocess.run([sys.executable, "-m", "nbtrack.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def quickstart(workdir, store_uri):
    """quickstart.ipynb copied into the work dir and executed with ``nbtrack run``."""
    path = workdir / "quickstart.ipynb"
    shutil.copyfile(EXAMPLES / "quickstart.ipynb", path)
    result = cli("run", str(path), "--store", store_uri, "-o", str(workdir / "executed.ipynb"), cwd=workdir)
    assert result.returncode == 0, result.stderr
    return path, result


def test_quickstart_runs_and_records(quickstart, workdir):
    path, result = quickstart
    (run,) = all_runs()
    assert run.run_id[:8] in result.stdout and "quickstart" in result.stdout
    assert run.experiment == "quickstart" and run.status == "FINISHED"
    assert run.params == {"lr": 0.05, "epochs": 5}
    assert run.metrics["accuracy"] == pytest.approx(1 - 0.8 ** 5 / 2, abs=1e-4)
    assert len(run.metric_history("loss")) == 5
    assert run.tags["nbtrack.notebook"] == str(path) and run.tags["nbtrack.cell"] == "train"
    notebook = run.document("notebook")
    assert notebook["source"] == "disk" and notebook["cell_index"] == 3 and not notebook["stale"]
    snapshot = run.artifact("notebook.py").read_text()
    assert "# %%track experiment=quickstart metrics=accuracy\nlr = 0.05" in snapshot
    assert "# # nbtrack quickstart" in snapshot
    executions = run.document("history")["executions"]
    assert [e["source"].splitlines()[0] for e in executions] == [
        "%load_ext nbtrack", "%%track experiment=quickstart metrics=accuracy"]
    executed = nbformat.read(str(workdir / "executed.ipynb"), as_version=4)
    shown = json.dumps([o for c in executed.cells if c.cell_type == "code" for o in c.outputs])
    assert f"nbtrack: run {run.run_id[:8]}" in shown and "final loss 0.328" in shown
    status = [c for c in executed.cells if c.get("id") == "status"][0]
    assert "nbtrack store" in status.outputs[0]["text"]


def test_checkout_rebuilds_the_notebook(quickstart, workdir):
    path, _ = quickstart
    (run,) = all_runs()
    result = cli("checkout", run.run_id[:10], "-o", str(workdir / "out"), cwd=workdir,
                 store=os.environ["NBTRACK_STORE"])
    assert result.returncode == 0, result.stderr
    written = workdir / "out" / f"quickstart-{run.run_id[:8]}.ipynb"
    assert result.stdout.strip() == f"wrote {written}"
    rebuilt = nbformat.read(str(written), as_version=4)
    nbformat.validate(rebuilt)
    original = nbformat.read(str(path), as_version=4)
    assert [(c.id, c.cell_type, c.source) for c in rebuilt.cells] == \
        [(c.id, c.cell_type, c.source) for c in original.cells]
    assert rebuilt.metadata["nbtrack"]["run_id"] == run.run_id
    assert nbtrack.checkout(run.run_id, workdir / "again.ipynb") == (workdir / "again.ipynb").resolve()


def test_source_diff_matches_cells_by_id(quickstart, workdir, store_uri):
    path, _ = quickstart
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[3].source = nb.cells[3].source.replace("lr = 0.05", "lr = 0.1")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("A new note", id="note"))
    nbformat.write(nb, str(path))
    assert cli("run", str(path), "--store", store_uri, cwd=workdir).returncode == 0
    first, second = all_runs()
    text = nbtrack.diff(first.run_id, second.run_id)
    assert "-lr = 0.05\n+lr = 0.1\n" in text
    assert "+# %% [markdown] id=note\n+# A new note\n" in text or "+# %% [markdown] id=note\n+A new note\n" in text
    assert " # %% id=train\n" in text or "# %% id=train" in text
    assert text.startswith(f"--- run {first.run_id[:8]}")
    assert nbtrack.diff(first.run_id, first.run_id) == ""
    shown = cli("diff", first.run_id, second.run_id, "--source", cwd=workdir, store=store_uri)
    assert shown.returncode == 0 and shown.stdout == text


def test_run_without_snapshot_and_missing_notebook_are_one_line_errors(workdir, store_uri):
    with nbtrack.track("plain") as run:
        pass
    nbtrack.flush()
    result = cli("checkout", run.run_id, cwd=workdir, store=store_uri)
    ours = [line for line in result.stderr.splitlines() if line.startswith("nbtrack")]
    assert result.returncode == 1 and len(ours) == 1 and "has no notebook snapshot" in ours[0]
    result = cli("run", "nope.ipynb", cwd=workdir, store=store_uri)
    assert result.returncode == 1 and "no notebook at 'nope.ipynb'" in result.stderr


def test_failing_notebook_reports_the_cell_and_keeps_the_failed_run(workdir, store_uri):
    path = write_notebook(workdir / "bad.ipynb", [
        ("code", "load", "%load_ext nbtrack"),
        ("code", "boom", "%%track experiment=bad\nrate = 3\n1 / 0"),
        ("code", "after", "%%track experiment=bad\nnever = 1"),
    ])
    result = cli("run", str(path), "--store", store_uri, "-o", str(workdir / "out.ipynb"), cwd=workdir)
    assert result.returncode == 1
    ours = [line for line in result.stderr.splitlines() if line.startswith("nbtrack")]
    assert len(ours) == 1 and "cell 1 raised ZeroDivisionError" in ours[0]
    (run,) = all_runs()
    assert run.status == "FAILED" and run.params == {"rate": 3} and run.error["type"] == "ZeroDivisionError"
    out = nbformat.read(str(workdir / "out.ipynb"), as_version=4)
    assert out.cells[1].outputs[0]["output_type"] == "error" or any(
        o["output_type"] == "error" for o in out.cells[1].outputs)


def test_demo_runs_the_churn_notebook(tmp_path, store_uri):
    result = cli("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("baseline", "gbm-sweep", "gbm-lr0.2-d3", "final"):
        assert name in result.stdout
    nbtrack.set_store(str(tmp_path / "demo" / ".nbtrack" / "nbtrack.db"))
    runs = {r.name: r for r in all_runs(experiment="churn")}
    assert len(runs) == 7 and all(r.status == "FINISHED" for r in runs.values())
    baseline, sweep, final = runs["baseline"], runs["gbm-sweep"], runs["final"]
    assert baseline.params == {"C": 1.0, "max_iter": 500}
    assert set(baseline.metrics) == {"accuracy", "f1", "roc_auc"} and baseline.metrics["accuracy"] > 0.7
    assert baseline.datasets[0]["name"] == "train"
    assert sweep.params["learning_rates"] == [0.05, 0.2] and "best_accuracy" in sweep.metrics
    children = [r for r in runs.values() if r.parent_run_id == sweep.run_id]
    assert len(children) == 4
    assert len(children[0].metric_history("accuracy")) == 40
    media = sorted(a.name for a in children[0].artifacts if a.kind == "media")  # a confusion matrix per 5 iterations
    assert media == [f"confusion_matrix/step-{step:09d}.png" for step in range(4, 40, 5)]
    artifacts = {a.name for a in final.artifacts}
    assert {"model.joblib", "confusion_matrix.png", "notebook.py"} <= artifacts
    assert any(name.startswith("outputs/") and name.endswith(".png") for name in artifacts)
    assert final.tags["nbtrack.cell"] == "final"
    assert "# %%track experiment=churn name=final" in final.artifact("notebook.py").read_text()
    assert [e["source"].splitlines()[0] for e in final.document("history")["executions"]][-1].startswith(
        "%%track experiment=churn name=final")


def test_packaged_demo_notebook_is_the_example():
    packaged = REPO / "nbtrack" / "notebook" / "demo" / "churn.ipynb"
    assert packaged.read_bytes() == (EXAMPLES / "churn.ipynb").read_bytes()
