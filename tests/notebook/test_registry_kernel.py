"""The registry and stored datasets from %%track cells in a real kernel: a training cell registers its
model and data, a scoring cell loads them by alias, and the store links the two runs."""

from __future__ import annotations

from nb_helpers import all_runs, plain, write_notebook

LOAD = "%load_ext nbtrack"
IMPORTS = ("import nbtrack\nimport numpy as np\nimport pandas as pd\n   \n"  # a whitespace-only line
           "from sklearn.linear_model import LogisticRegression")
TRAIN = """%%track experiment=churn
frame = pd.DataFrame({"tenure": np.arange(40) % 7, "spend": np.linspace(0, 1, 40)})
labels = (frame["spend"] > 0.5).astype(int)
nbtrack.log_dataset(frame, "train")

for C in (0.1, 1.0):   # the loop rebinds C and model; the last ones are logged
    model = LogisticRegression(C=C).fit(frame, labels)
nbtrack.log_artifact(model, "model.skops")
nbtrack.log_artifact(model, "model.pkl")
version = nbtrack.register_model(nbtrack.active_run(), "model.skops", "churn", alias="champion")
print(version.uri)"""
SCORE = """%%track experiment=scoring
champion = nbtrack.load_model("models:/churn@champion")
source = nbtrack.get_model_version("models:/churn@champion").run_id
data = nbtrack.load_dataset(source, "train")
nbtrack.log_metric("acc", float((champion.predict(data) == (data["spend"] > 0.5)).mean()))"""
UNTRUSTED = "nbtrack.load_model(source, 'model.pkl')"


def test_train_register_then_score_by_alias_links_the_runs(workdir, start_kernel):
    path = write_notebook(workdir / "churn.ipynb", [
        ("code", "load", LOAD), ("code", "imports", IMPORTS), ("code", "train", TRAIN),
        ("code", "score", SCORE), ("code", "untrusted", UNTRUSTED)])
    kernel = start_kernel(JPY_SESSION_NAME=str(path))
    for code, cell_id in ((LOAD, "load"), (IMPORTS, "imports")):
        assert kernel.execute(code, cell_id).status == "ok"
    trained = kernel.execute(TRAIN, "train", timeout=120)
    assert trained.status == "ok", trained.text
    assert "models:/churn/1" in trained.stdout
    scored = kernel.execute(SCORE, "score", timeout=120)
    assert scored.status == "ok", scored.text
    refused = kernel.execute(UNTRUSTED, "untrusted")  # a failing cell shows its normal traceback
    assert refused.status == "error" and "UntrustedModelError" in plain(refused.text)
    assert "trust=True" in plain(refused.text)

    train_run, score_run = all_runs()
    assert (train_run.experiment, score_run.experiment) == ("churn", "scoring") and score_run.metrics["acc"] > 0.9
    produced = train_run.lineage
    assert [v.label for v in produced.models_produced] == ["churn v1 @champion"]
    assert produced.used_by == (score_run.run_id,)
    used = score_run.lineage
    assert [(m.name, m.version) for m in used.models_used] == [("churn", 1)]
    assert [(d.name, d.loaded_from, d.stored) for d in used.datasets] == [("train", train_run.run_id, True)]
    assert used.upstream == [train_run.run_id]
