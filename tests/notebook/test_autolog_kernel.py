"""nbtrack.autolog() in a real kernel: a %%track cell's fits land in the cell's run, a search's
candidates become its children, and a fit in an untracked cell gets a run of its own."""

from __future__ import annotations

from nb_helpers import all_runs, write_notebook

SETUP = "%load_ext nbtrack\nimport nbtrack\nnbtrack.autolog()  # before sklearn is imported"
DATA = """import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 4))
y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)"""
TRACKED = """%%track experiment=churn
from sklearn.linear_model import LogisticRegression
C = 0.3
model = LogisticRegression(C=C).fit(X, y)
nbtrack.log_metric("holdout", 0.5)"""
SEARCH = """%%track experiment=churn
from sklearn.model_selection import GridSearchCV
search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(X, y)"""
UNTRACKED = "from sklearn.tree import DecisionTreeClassifier\ntree = DecisionTreeClassifier(max_depth=2).fit(X, y)"


def test_autolog_in_tracked_and_untracked_cells(workdir, start_kernel):
    path = write_notebook(workdir / "autolog.ipynb", [
        ("code", "setup", SETUP), ("code", "data", DATA), ("code", "fit", TRACKED), ("code", "search", SEARCH),
        ("code", "tree", UNTRACKED)])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    for cell_id, source in (("setup", SETUP), ("data", DATA), ("fit", TRACKED), ("search", SEARCH),
                            ("tree", UNTRACKED)):
        reply = kernel.execute(source, cell_id, timeout=180)
        assert reply.status == "ok", reply.text
        assert "AutologWarning" not in reply.text, reply.text

    fit, search, *children, tree = all_runs()
    # the tracked cell's run holds the cell's literal params, autolog's params, metrics and model
    assert fit.tags["nbtrack.cell"] == "fit" and fit.experiment == "churn"
    assert fit.params["C"] == 0.3 and fit.params["solver"] == "lbfgs"
    assert fit.metrics["holdout"] == 0.5 and 0 < fit.metrics["training_accuracy_score"] <= 1
    assert "models/LogisticRegression.skops" in [a.name for a in fit.artifacts]
    assert "nbtrack.autolog" not in fit.tags  # the cell's run, autolog only wrote into it
    assert "model = LogisticRegression(C=C).fit(X, y)" in fit.artifact("notebook.py").read_text()

    assert search.tags["nbtrack.cell"] == "search" and "best_C" in search.params
    assert [c.parent_run_id for c in children] == [search.run_id, search.run_id]
    assert {c.params["C"] for c in children} == {0.1, 1.0} and all(c.experiment == "churn" for c in children)

    # an untracked cell: the fit is a run of its own, with the notebook as its source
    assert tree.name == "DecisionTreeClassifier" and tree.tags["nbtrack.autolog"] == "sklearn"
    assert tree.params["max_depth"] == 2 and tree.status == "FINISHED"
    assert tree.tags["nbtrack.source"] == "notebook"
    assert "DecisionTreeClassifier(max_depth=2)" in tree.artifact("notebook.py").read_text()
