"""A cell edited in its place is reported as edited, and the summary leads with the edit."""

from __future__ import annotations

from nb_helpers import plain, write_notebook

LOAD = "%load_ext nbtrack\nimport nbtrack"


def test_an_edited_cell_in_its_place_is_reported_as_edited_not_as_out_of_order():
    from nbtrack.notebook.hidden_state import Cell, Execution, analyze

    data = "X_train, X_test = load(1)"
    nb = [Cell(0, "code", data, "data"), Cell(1, "code", "%%track\nfit(X_train, X_test)", "fit")]
    history = [Execution(1, "X_train, X_test = load(0)", "data")]
    report = analyze(nb, history, 1, "%%track\nfit(X_train, X_test)")
    assert report["warnings"] == [
        "cell 0 was edited after it ran (In [1]): the kernel's X_train, X_test come from its old code"]


def test_summary_after_an_edited_data_cell_leads_with_the_edit(workdir, start_kernel, capsys):
    saved = "from sklearn.datasets import make_classification\nX, y = make_classification(200, random_state=1)"
    tracked = ("%%track experiment=qa metrics=acc\nfrom sklearn.linear_model import LogisticRegression\n"
               "C = 1.0\nacc = LogisticRegression(C=C).fit(X, y).score(X, y)")
    path = write_notebook(workdir / "edited.ipynb", [
        ("code", "load", LOAD), ("code", "data", saved), ("code", "fit", tracked)])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    assert kernel.execute(LOAD, "load").status == "ok"
    assert kernel.execute(saved.replace("random_state=1", "random_state=0"), "data").status == "ok"
    reply = kernel.execute(tracked, "fit")
    assert reply.status == "ok", plain(reply.text)
    (summary,) = [t for t in reply.mime("text/plain") if t.startswith("nbtrack: run")]
    assert summary.splitlines()[1] == ("nbtrack: ⚠ hidden state: cell 1 was edited after it ran (In [2]): "
                                       "the kernel's X, y come from its old code"), summary
    assert "notebook order" not in summary

    from nbtrack.cli import main  # nbtrack show leads with the same finding

    (run_id,) = [line.split()[2] for line in summary.splitlines()[:1]]
    assert main(["show", run_id]) == 0
    shown = capsys.readouterr().out
    assert "hidden state: cell 1 was edited after it ran (In [2]): the kernel's X, y come from its old code\n" in shown
