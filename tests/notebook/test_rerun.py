"""nbtrack rerun on real kernels (nbclient) and a real SQLite store: a seeded cell is verified, an
unseeded one diverges with the difference named, a changed data file diverges with the data
named, and a re-run with -p is a "rerun with changes" that leaves the original's verdict alone.
One notebook, tracked once, re-run four times."""

from __future__ import annotations

import pytest
from nb_helpers import all_runs, write_notebook
from test_notebooks_cli import cli

import nbtrack
from nbtrack.runner.rerun import RERUN_DOCUMENT, RerunError, rerun

SEEDED = """%%track experiment=verify metrics=acc
# %% a percent line inside the cell
seed = 3
rng = random.Random(seed)
nbtrack.log_dataset("data.txt", "train")
    
for epoch in range(3):
    nbtrack.log_metric("loss", round(1 / (epoch + 1 + rng.random()), 12))
acc = round(sum(values) / len(values) / 10 + rng.random() / 100, 12)
"""

UNSEEDED = """%%track experiment=verify metrics=acc
noise = random.random()
acc = 0.5 + noise / 10
"""


@pytest.fixture
def tracked(workdir, store_uri):
    """The notebook tracked once by `nbtrack run`: (path, seeded run, unseeded run)."""
    (workdir / "data.txt").write_text("1\n2\n3\n")
    path = write_notebook(workdir / "verify.ipynb", [
        ("markdown", "intro", "# Verify me"),
        ("code", "setup", "%load_ext nbtrack\nimport random\nimport nbtrack"),
        ("code", "load", 'with open("data.txt") as f:\r\n    values = [float(line) for line in f]\r\nvalues[:2]'),
        ("code", "seeded", SEEDED),
        ("code", "unseeded", UNSEEDED),
    ])
    result = cli("run", str(path), cwd=workdir, store=store_uri)
    assert result.returncode == 0, result.stderr
    seeded, unseeded = all_runs()
    assert seeded.tags["nbtrack.cell"] == "seeded" and unseeded.tags["nbtrack.cell"] == "unseeded"
    return path, seeded, unseeded


def test_rerun_verifies_diverges_and_names_the_cause(tracked, workdir, store_uri):
    path, seeded, unseeded = tracked

    # a seeded cell: verified, through the CLI
    result = cli("rerun", seeded.run_id[:10], cwd=workdir, store=store_uri)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified: 2 metrics equal (exactly)" in result.stdout
    original = nbtrack.get_run(seeded.run_id)
    assert original.tags["nbtrack.verdict"] == "verified"
    again = nbtrack.get_run(original.tags["nbtrack.verdict_run"])
    assert again.run_id != seeded.run_id and again.tags["nbtrack.rerun_of"] == seeded.run_id
    assert again.tags["nbtrack.rerun_verdict"] == "verified" and again.tags["nbtrack.cell"] == "seeded"
    assert again.params == seeded.params and again.metrics == seeded.metrics
    assert list(again.metric_history("loss")["value"]) == list(seeded.metric_history("loss")["value"])
    assert again.document(RERUN_DOCUMENT)["verdict"] == "verified"
    assert again.tags["nbtrack.notebook"] != str(path)  # executed from the snapshot, not the file
    shown = cli("show", seeded.run_id, cwd=workdir, store=store_uri).stdout
    assert f"verified by re-run {again.run_id[:8]}: 2 metrics equal (exactly)" in shown
    assert f"re-run of {seeded.run_id[:8]}: verified" in cli("show", again.run_id, cwd=workdir, store=store_uri).stdout

    # unseeded randomness: diverged, the metric and the difference named
    outcome = rerun(unseeded.run_id)
    comparison = outcome.comparison
    assert comparison.verdict == "diverged" and comparison.differences[0].key == "acc"
    first = comparison.differences[0]
    assert first.original == unseeded.metrics["acc"] and first.rerun == outcome.rerun.metrics["acc"] != first.original
    assert comparison.headline().startswith(f"diverged: acc {first.text().split(' ', 1)[1]}")
    assert "not deterministic" in comparison.causes[0] and not comparison.data_changes
    assert nbtrack.get_run(unseeded.run_id).tags["nbtrack.verdict"] == "diverged"

    # the data file changed: diverged, the data named as the likely cause (checked before the run too)
    (workdir / "data.txt").write_text("1\n2\n3\n10\n")
    result = cli("rerun", seeded.run_id, cwd=workdir, store=store_uri)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "data 'train':" in result.stderr and "6 -> 9 bytes" in result.stderr  # said before the kernel started
    assert "diverged: acc" in result.stdout
    assert "likely cause: data 'train' changed (6 -> 9 bytes; fingerprint" in result.stdout
    original = nbtrack.get_run(seeded.run_id)
    assert original.tags["nbtrack.verdict"] == "diverged" and "data 'train' changed" in original.tags[
        "nbtrack.verdict_detail"]

    # -p: a rerun with changes; the original keeps its verdict
    outcome = rerun(seeded.run_id, {"seed": 4})
    assert outcome.comparison.verdict == "changed" and outcome.rerun.params["seed"] == 4
    assert outcome.comparison.headline().startswith("rerun with changes: ")
    assert outcome.rerun.tags["nbtrack.rerun_verdict"] == "changed"
    assert nbtrack.get_run(seeded.run_id).tags["nbtrack.verdict"] == "diverged"
    assert "seed = 4" in outcome.rerun.document("cell")["source"]


def test_rerun_refuses_what_it_cannot_rerun(workdir, store_uri):
    with nbtrack.track("plain") as run:  # a script run: no notebook snapshot
        nbtrack.log_metric("acc", 1.0)
    result = cli("rerun", run.run_id, cwd=workdir, store=store_uri)
    assert result.returncode == 2 and "has no notebook snapshot" in result.stderr  # trouble, not a verdict
    with pytest.raises(RerunError, match="--rtol and --atol"):
        rerun(run.run_id, rtol=-1)
    assert "nbtrack.verdict" not in nbtrack.get_run(run.run_id).tags
