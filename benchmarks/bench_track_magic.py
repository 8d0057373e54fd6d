"""How much %%track adds to a trivial cell in a warm kernel (snapshot and history included).

Starts a real kernel on a temporary SQLite store with a 30-cell notebook as its session,
executes a trivial cell N times with and without ``%%track`` (interleaved, so drift hits
both alike) and prints the median and p90 wall time of each and the overhead; also the CPU
time the kernel's main thread spent on each cell (``time.thread_time`` between IPython's
pre/post_run_cell hooks): the work %%track adds to the user's cell, which a loaded machine's
scheduling noise does not blur (background threads excluded).

    python benchmarks/bench_track_magic.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "notebook"))
from nb_kernel import Kernel  # noqa: E402  (the tests' kernel driver)


def notebook(path: Path, cells: int = 30) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Benchmark notebook", id="md")]
    nb.cells += [nbformat.v4.new_code_cell(f"v{i} = {i}\nw{i} = [v{i}] * 3", id=f"c{i}") for i in range(cells)]
    nb.cells.append(nbformat.v4.new_code_cell("%%track experiment=bench\nx = 1", id="tracked"))
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", id="plain"))
    nbformat.write(nb, str(path))
    return path


CPU_HOOKS = """
import time as _bench_time
_bench_cpu = {"plain": [], "tracked": []}
def _bench_pre(info):
    global _bench_started, _bench_kind
    _bench_kind = "tracked" if info.raw_cell.startswith("%%track") else "plain"
    _bench_started = _bench_time.thread_time()
def _bench_post(result):
    _bench_cpu[_bench_kind].append((_bench_time.thread_time() - _bench_started) * 1000)
get_ipython().events.register("pre_run_cell", _bench_pre)
get_ipython().events.register("post_run_cell", _bench_post)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(n: int = 60) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = notebook(work / "bench.ipynb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
        env.update(PYTHONPATH=str(REPO), NBTRACK_STORE=f"sqlite:///{work / 'bench.db'}",
                   JPY_SESSION_NAME=str(path))
        kernel = Kernel(work, env)
        try:
            kernel.execute("%load_ext nbtrack", "load")
            for i in range(30):
                kernel.execute(f"v{i} = {i}\nw{i} = [v{i}] * 3", f"c{i}")
            start = time.perf_counter()
            kernel.execute("%%track experiment=bench\nx = 1", "tracked", settle=False)
            first = (time.perf_counter() - start) * 1000
            for _ in range(5):  # warm up: imports, store creation, environment capture
                kernel.execute("%%track experiment=bench\nx = 1", "tracked", settle=False)
                kernel.execute("x = 1", "plain")
            kernel.execute(CPU_HOOKS, "hooks")
            plain, tracked = [], []
            for _ in range(n):
                for code, cell_id, sink in (("x = 1", "plain", plain),
                                            ("%%track experiment=bench\nx = 1", "tracked", tracked)):
                    start = time.perf_counter()
                    reply = kernel.execute(code, cell_id, settle=False)
                    sink.append((time.perf_counter() - start) * 1000)
                    assert reply.status == "ok", reply.text
            cpu = json.loads(kernel.execute("import json; print(json.dumps(_bench_cpu))", "read").stdout)
        finally:
            kernel.shutdown()
    overhead = statistics.median(tracked) - statistics.median(plain)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} cores")
    print(f"trivial cell, warm kernel, {n} runs each (ms, client round trip)")
    print(f"  without %%track: median {statistics.median(plain):6.1f}   p90 {percentile(plain, 0.9):6.1f}")
    print(f"  with    %%track: median {statistics.median(tracked):6.1f}   p90 {percentile(tracked, 0.9):6.1f}")
    print(f"  first %%track cell of the kernel (cold: store, imports): {first:.0f}")
    print(f"  overhead:        median {overhead:6.1f}   p90 {percentile(tracked, 0.9) - percentile(plain, 0.9):6.1f}"
          f"   (target: under 5 ms)")
    cpu_plain, cpu_tracked = cpu["plain"][-n:], cpu["tracked"][-n:]
    print("kernel main-thread CPU per cell (ms)")
    print(f"  without %%track: median {statistics.median(cpu_plain):6.2f}   p90 {percentile(cpu_plain, 0.9):6.2f}")
    print(f"  with    %%track: median {statistics.median(cpu_tracked):6.2f}   p90 {percentile(cpu_tracked, 0.9):6.2f}")
    print(f"  added:           median {statistics.median(cpu_tracked) - statistics.median(cpu_plain):6.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
