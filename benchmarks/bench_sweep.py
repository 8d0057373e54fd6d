"""A sweep of 8 combinations with ``--jobs 2`` against the same 8 one after another (target: at most
0.6x the time).

The notebook's tracked cell does about a second of single-threaded numpy work per combination
(BLAS limited to one thread, as a sweep of N kernels on N cores should be). Both sweeps run
through ``nbtrack.runner.sweep.run_sweep`` in this process, alternately ``--jobs 1`` and ``--jobs 2``;
the ratio of the medians is printed with the machine's load: on a shared machine whose load
is above its core count the second kernel competes with other work, so the ratio is worse
than on an idle one.

    python benchmarks/bench_sweep.py [ROUNDS]
"""

from __future__ import annotations

import io
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
lr = 0.1
depth = 2
rng = np.random.default_rng(depth)
weights = rng.normal(size=(300, 300))
for epoch in range(60):
    weights = np.tanh(weights @ weights.T * lr / 300)
score = float(np.abs(weights).mean())
"""


def main(rounds: int = 2) -> None:
    import nbtrack
    from nbtrack.runner.sweep import run_sweep

    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")  # kernels inherit it
    grid = ["lr=0.1,0.05,0.02,0.01", "depth=2,3"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell("%load_ext nbtrack\nimport numpy as np", id="setup"),
                    nbformat.v4.new_code_cell(TRAIN, id="train")]
        path = work / "sweep.ipynb"
        nbformat.write(nb, str(path))
        store = f"sqlite:///{work / 'bench.db'}"
        os.environ["NBTRACK_STORE"] = store
        nbtrack.set_store(store)
        times: dict[int, list[float]] = {1: [], 2: []}
        loads = []
        for _ in range(rounds):
            for jobs in (1, 2):
                loads.append(os.getloadavg()[0])
                start = time.perf_counter()
                outcome = run_sweep(str(path), grid, jobs=jobs, out=io.StringIO(), progress_stream=io.StringIO())
                times[jobs].append(time.perf_counter() - start)
                assert not outcome.failed, [c.error for c in outcome.failed]
    sequential, parallel = statistics.median(times[1]), statistics.median(times[2])
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} cores "
          f"(1-min load at the start of each sweep: {', '.join(f'{x:.1f}' for x in loads)})")
    print(f"sweep of 8 combinations, each a fresh kernel with ~60 steps of 300x300 numpy work, {rounds} rounds (s)")
    print(f"  --jobs 1 (one after another): median {sequential:6.1f}   {', '.join(f'{t:.1f}' for t in times[1])}")
    print(f"  --jobs 2:                     median {parallel:6.1f}   {', '.join(f'{t:.1f}' for t in times[2])}")
    print(f"  ratio --jobs 2 / --jobs 1:    {parallel / sequential:.2f}   (target: at most 0.6)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
