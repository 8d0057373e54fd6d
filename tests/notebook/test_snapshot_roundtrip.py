"""Every cell of a notebook comes back from a run's snapshot exactly: source (final newline,
blank lines, CRLF, ``# %%`` lines), id and metadata; notebook metadata too. Old snapshots
(jupytext text only) still read. ``checkout`` never overwrites without ``force``."""

from __future__ import annotations

import json

import pytest
from corpus_roundtrip import run_corpus
from nb_helpers import all_runs, write_notebook

import nbtrack
from nbtrack.notebook.errors import CheckoutExistsError
from nbtrack.notebook.stored_snapshot import cells_from_text


def test_corpus_round_trips_every_cell_id_and_metadata(workdir, start_kernel):
    fidelity = run_corpus(start_kernel(), workdir)
    assert fidelity.problems == []
    assert fidelity.identical == fidelity.ids_kept == fidelity.metadata_kept == fidelity.cells > 20
    assert fidelity.notebook_metadata_kept == fidelity.notebooks == 5


def test_checkout_has_no_jupytext_pairing_and_never_overwrites(workdir, start_kernel):
    path = write_notebook(workdir / "w.ipynb", [("code", "t", "%%track\nx = 1\n")])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    kernel.execute("%load_ext nbtrack")
    assert kernel.execute("%%track\nx = 1\n", "t").status == "ok"
    (run,) = all_runs()
    target = workdir / "out.ipynb"
    nbtrack.checkout(run.run_id, target)
    data = json.loads(target.read_text())
    assert "jupytext" not in data["metadata"] and '"jupytext"' not in target.read_text()
    target.write_text("precious")
    with pytest.raises(CheckoutExistsError, match="--force"):
        nbtrack.checkout(run.run_id, target)
    assert target.read_text() == "precious"
    nbtrack.checkout(run.run_id, target, force=True)
    assert "".join(json.loads(target.read_text())["cells"][0]["source"]) == "%%track\nx = 1\n"


def test_old_jupytext_snapshots_still_read():
    text = ("# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n#     display_name: Python 3\n"
            "#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n\n# %%\nimport x\n\n# %% [markdown]\n# notes\n\n"
            "# %%\n# %%track\nfit()\n")
    cells, metadata = cells_from_text(text, ["a", "b", "c"])
    assert [c.source for c in cells] == ["import x", "notes", "%%track\nfit()"]
    assert [c.id for c in cells] == ["a", "b", "c"]
    assert "jupytext" not in metadata and metadata["kernelspec"]["name"] == "python3"
