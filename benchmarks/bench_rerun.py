"""What ``nbtrack rerun`` adds to the notebook's own execution time (target: under 2 s).

A notebook with a data file, a few cells and a tracked cell of about a second of numpy work is
tracked once; then, alternately, the notebook is executed as ``nbtrack run`` does (a fresh kernel
through nbclient) and re-run with ``nbtrack.runner.rerun.rerun`` (snapshot read and rebuilt, data file
fingerprinted again, the same execution, the comparison and the verdict written). Printed: the
medians of both, their paired difference, and rerun's own work outside the kernel's execution.

    python benchmarks/bench_rerun.py [PAIRS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TRAIN = """%%track experiment=bench metrics=score
seed = 0
rng = np.random.default_rng(seed)
nbtrack.log_dataset("data.csv", "train")
weights = rng.normal(size=(400, 400))
for epoch in range(40):
    weights = np.tanh(weights @ weights.T / 400)
    nbtrack.log_metric("loss", float(np.abs(weights).mean()), step=epoch)
score = float(weights.sum())
"""


def write_notebook(work: Path) -> Path:
    (work / "data.csv").write_text("x,y\n" + "\n".join(f"{i},{i * i % 7}" for i in range(5000)) + "\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Re-run benchmark", id="md"),
                nbformat.v4.new_code_cell("%load_ext nbtrack\nimport nbtrack\nimport numpy as np", id="setup"),
                nbformat.v4.new_code_cell("rows = open('data.csv').read().splitlines()[1:]\nlen(rows)", id="load"),
                nbformat.v4.new_code_cell(TRAIN, id="train")]
    path = work / "bench.ipynb"
    nbformat.write(nb, str(path))
    return path


def main(pairs: int = 3) -> None:
    import nbtrack
    from nbtrack.notebook.runner import run_notebook
    from nbtrack.runner.rerun import rerun

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = write_notebook(work)
        store = f"sqlite:///{work / 'bench.db'}"
        os.environ["NBTRACK_STORE"] = store
        nbtrack.set_store(store)
        run_notebook(path, store)
        original = nbtrack.runs("bench", order_by="start_time ASC")["run_id"][0]
        plain, again, own = [], [], []
        verdicts = set()
        for _ in range(pairs):
            start = time.perf_counter()
            run_notebook(path, store)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = rerun(original)
            again.append(time.perf_counter() - start)
            own.append(again[-1] - result.execution.seconds)
            verdicts.add(result.comparison.verdict)
    load = os.getloadavg()
    differences = [b - a for a, b in zip(plain, again)]
    print(f"load average {load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} cores")
    print(f"notebook: 4 cells, a tracked cell of 40 numpy steps and a 5,000-row data file; {pairs} pairs (s)")
    print(f"  executed as `nbtrack run` does:  median {statistics.median(plain):6.2f}"
          f"   (min {min(plain):.2f}, max {max(plain):.2f})")
    print(f"  re-run with nbtrack rerun:       median {statistics.median(again):6.2f}"
          f"   (min {min(again):.2f}, max {max(again):.2f})   verdicts: {', '.join(sorted(verdicts))}")
    print(f"  added by rerun (paired):         median {statistics.median(differences):+6.2f}"
          f"   (min {min(differences):+.2f}, max {max(differences):+.2f})   target: under 2 s")
    print(f"  rerun's own work outside the kernel's execution (snapshot, data check, compare, verdict): "
          f"median {statistics.median(own):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
