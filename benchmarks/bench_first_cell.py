"""First tracked cell in a fresh kernel: how long the user waits, against the same cell untracked.

For each of N fresh kernels (jupyter_client, as JupyterLab drives them), on a fresh SQLite store:
  1. ``%load_ext nbtrack`` (timed separately: it is a cell of its own in a notebook),
  2. the first ``%%track`` cell (``x = 1``), 3. a second ``%%track`` cell.
The untracked baseline runs ``x = 1`` after ``%load_ext nbtrack`` in its own fresh kernel.
Twice: without a notebook file, and with one (``JPY_SESSION_NAME``: the snapshot path).
Times are wall clock from execute_request to its reply; median and p90 over the kernels, with
the machine's load. ``--pause 0`` (the default) is Run All: the first cell right after the load.

    python benchmarks/bench_first_cell.py [--kernels 5] [--pause 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from jupyter_client import KernelManager

REPO = Path(__file__).resolve().parents[1]


def _execute(client, code: str) -> float:
    started = time.perf_counter()
    msg_id = client.execute(code)
    while True:
        reply = client.get_shell_msg(timeout=120)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    elapsed = time.perf_counter() - started
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {reply['content'].get('evalue')}")
    return elapsed


def _notebook(work: Path, cells: list[str]) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# First cell")]
    nb.cells += [nbformat.v4.new_code_cell(f"v{i} = {i}") for i in range(20)]
    nb.cells += [nbformat.v4.new_code_cell(cell) for cell in cells]
    path = work / "first.ipynb"
    nbformat.write(nb, str(path))
    return path


def _kernel(work: Path, cells: list[str], pause: float = 0.0, notebook: bool = False) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
    env.update(PYTHONPATH=str(REPO), NBTRACK_STORE=str(work / ".nbtrack" / "nbtrack.db"))
    if notebook:
        env["JPY_SESSION_NAME"] = str(_notebook(work, cells))
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(work), env=env)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        times = [_execute(client, cells[0])]
        time.sleep(pause)  # a person reading between cells; 0 is Run All
        return times + [_execute(client, cell) for cell in cells[1:]]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=5)
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds between %%load_ext and the first cell (default 0: Run All)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} cores; "
          f"{args.kernels} fresh kernels each, {args.pause:g} s after %load_ext")
    for notebook in (False, True):
        tracked, untracked = [], []
        for _ in range(args.kernels):
            with tempfile.TemporaryDirectory() as work:
                tracked.append(_kernel(Path(work), ["%load_ext nbtrack", "%%track\nx = 1", "%%track\nx = 2"],
                                       args.pause, notebook))
            with tempfile.TemporaryDirectory() as work:
                untracked.append(_kernel(Path(work), ["%load_ext nbtrack", "x = 1"], args.pause, notebook))
        first = [t[1] for t in tracked]
        baseline = [u[1] for u in untracked]
        print("with a notebook file (snapshot)" if notebook else "without a notebook file")
        print(f"  %load_ext nbtrack          {_ms([t[0] for t in tracked])}")
        print(f"  untracked cell             {_ms(baseline)}")
        print(f"  first %%track cell          {_ms(first)}")
        print(f"  second %%track cell         {_ms([t[2] for t in tracked])}")
        added = (statistics.median(first) - statistics.median(baseline)) * 1000
        print(f"  added by the first %%track  median {added:.1f} ms, p90 {(_p90(first) - _p90(baseline)) * 1000:.1f} ms"
              " (target: under 150 ms on a warm disk)")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f}")


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms  p90 {_p90(values) * 1000:7.1f}  " \
           f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"


if __name__ == "__main__":
    main()
