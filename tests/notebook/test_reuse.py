"""Don't train twice, in real kernels on a real SQLite store: the summary names an identical run,
%%track --reuse skips the body and restores plain values, and a changed dependency, input value,
local module or data file makes a cell not identical; a restarted kernel running the notebook again
finds the runs of the first. Two kernels, one pass each."""

from __future__ import annotations

from nb_helpers import all_runs, plain

from nbtrack.notebook.hidden_state import Execution
from nbtrack.notebook.reuse import dependencies

TRAIN = """%%track metrics=acc
epochs = 3
nbtrack.log_dataset("data.txt", "train")
nbtrack.log_dataset(arr, "values")
print("training")
time.sleep(0.5)  # training takes time: the look-up for an identical run finishes meanwhile
model = helpers.Model(lr)
acc = round(model.fit(values) / epochs, 6)
"""
REUSE = TRAIN.replace("%%track", "%%track --reuse")
SETUP = "%load_ext nbtrack\nimport nbtrack\nimport numpy as np\nimport helpers\nimport time"
LOAD = "lr = 0.1\r\n    \r\nvalues = [float(x) for x in open('data.txt')]\r\narr = np.array(values)"


def test_identical_runs_are_found_and_reused(start_kernel, workdir):
    (workdir / "data.txt").write_text("1\n2\n3\n")
    (workdir / "helpers.py").write_text("class Model:\n    def __init__(self, lr):\n        self.lr = lr\n"
                                        "    def fit(self, values):\n        return sum(values) * self.lr\n")
    kernel = start_kernel()

    def run(code: str, cell_id: str):
        reply = kernel.execute(code, cell_id=cell_id, timeout=120)
        assert reply.status == "ok", reply.text
        return plain(reply.text)

    run(SETUP, "setup")
    run(LOAD, "load")
    first = run(TRAIN, "train")
    assert "training" in first and "identical to run" not in first
    run("unrelated = 1", "other")  # not a dependency of the cell
    second = run(TRAIN, "train")
    runs = all_runs()
    assert "training" in second and f"identical to run {runs[0].run_id[:8]}… acc=0.2 (same code, inputs and data)" \
        in second
    assert runs[0].tags["nbtrack.identity"] == runs[1].tags["nbtrack.identity"]

    reused = run(REUSE + "\n", "train")  # --reuse, a trailing blank line: the same cell
    assert "training" not in reused and f"reused run {runs[1].run_id[:8]}" in reused
    assert "restored acc, epochs" in reused and "not restored: model" in reused
    assert "artifacts are not restored" in reused
    assert len(all_runs()) == 2  # no run for a reused cell
    assert run("del acc, epochs, model", "x") == ""  # what the reuse restores comes from the store:
    reused = run(REUSE, "train")
    assert "reused run" in reused and run("print(repr(acc), repr(epochs), 'model' in dir())", "y").strip() == \
        "0.2 3 False"

    # each kind of change makes the cell not identical: a dependency, a value, a local module, the data
    for code, cell_id in (("lr = 0.2", "load"), ("values.append(4.0)", "more")):
        run(code, cell_id)
        text = run(REUSE, "train")
        assert "training" in text and "nothing to reuse (no finished run of the same cell" in text, text
    count = len(all_runs())
    reused = run(REUSE, "train")  # the state of the last run: identical to it
    assert "reused run" in reused and len(all_runs()) == count
    (workdir / "helpers.py").write_text((workdir / "helpers.py").read_text() + "\n# edited\n")
    assert "nothing to reuse" in run(REUSE, "train")
    (workdir / "data.txt").write_text("1\n2\n3\n5\n")
    text = run(REUSE, "train")
    assert "nothing to reuse (run" in text and "its dataset 'train'" in text and "changed" in text

    # a fresh kernel running the notebook as it reads now finds the run of the same state
    (workdir / "data.txt").write_text("1\n2\n3\n")
    fresh = start_kernel()
    for code, cell_id in ((SETUP, "setup"), (LOAD, "load")):
        assert fresh.execute(code, cell_id=cell_id, timeout=120).status == "ok"
    text = plain(fresh.execute(REUSE, cell_id="train", timeout=120).text)
    assert "nothing to reuse" in text  # helpers.py was edited since the runs of that state
    (workdir / "helpers.py").write_text((workdir / "helpers.py").read_text().replace("\n# edited\n", ""))
    text = plain(fresh.execute(REUSE, cell_id="train", timeout=120).text)
    assert f"reused run {runs[1].run_id[:8]}" in text or f"reused run {runs[0].run_id[:8]}" in text, text


def test_the_cells_a_cell_depends_on():
    history = [Execution(1, "import numpy as np"), Execution(2, "lr = 0.1\nprint(lr)"),
               Execution(3, "def scale(x):\n    return x * factor"), Execution(4, "factor = 2"),
               Execution(5, "data = np.arange(3)"), Execution(6, "data.sort()"),
               Execution(7, "unused = 1"), Execution(8, "lr = 0.2"),
               Execution(9, "other = scale(1)")]
    tracked = "%%track\nresult = scale(data) * lr"
    assert [history[p].execution_count for p in dependencies(history, tracked)] == [1, 3, 4, 5, 6, 8]
    assert [history[p].execution_count for p in dependencies(history[:4], "%%track\ny = lr")] == [2]
