"""What "don't train twice" costs a %%track cell: the identity computed when the cell starts (kernel
main thread) and the look-up of an identical run (background, one indexed query).

1. A warm kernel on a temporary SQLite store, a 30-cell session, a trivial %%track cell run N times
   with the reuse hook and N times with it switched off (interleaved): the wall-time and main-thread
   CPU medians of both, and their difference (what the hook adds to every tracked cell).
2. The look-up query (``finished_runs_with_identity``) on a store of 10,000 runs, each with an
   identity tag and five other tags, against the same query without the partial index.

    python benchmarks/bench_reuse.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "notebook"))
from bench_track_magic import CPU_HOOKS, notebook, percentile  # noqa: E402
from nb_kernel import Kernel  # noqa: E402  (the tests' kernel driver)

SWITCH = """
import nbtrack.notebook.tracker as _bench_tracker
from nbtrack.notebook.reuse import CellReuse as _bench_reuse
class _BenchNoReuse:
    @classmethod
    def start(cls, *args):
        return cls()
    def try_reuse(self, cell_id):
        return False
    def started(self, run):
        pass
    def notice(self, wait=1.0):
        pass
def _bench_switch(on):
    _bench_tracker.CellReuse = _bench_reuse if on else _BenchNoReuse
"""
TRACKED = "%%track experiment=bench\nx = 1"  # the same cell again: an identical run exists (the notice is shown)
UNIQUE = "%%track experiment=bench\nx = {}"  # a new cell each time: nothing identical (the common case)


def cell_costs(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = notebook(work / "bench.ipynb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
        env.update(PYTHONPATH=str(REPO), NBTRACK_STORE=f"sqlite:///{work / 'bench.db'}", JPY_SESSION_NAME=str(path))
        kernel = Kernel(work, env)
        try:
            kernel.execute("%load_ext nbtrack", "load")
            for i in range(30):
                kernel.execute(f"v{i} = {i}\nw{i} = [v{i}] * 3", f"c{i}")
            kernel.execute(SWITCH, "switch")
            for _ in range(5):  # warm up: imports, store creation, environment capture
                kernel.execute(TRACKED, "tracked", settle=False)
            kernel.execute(CPU_HOOKS, "hooks")
            modes = [(f"{case} {switch}", switch) for case in ("identical", "new") for switch in ("on", "off")]
            timings: dict[str, list[float]] = {mode: [] for mode, _ in modes}
            cpu: dict[str, list[float]] = {mode: [] for mode, _ in modes}
            for i in range(n):
                for mode, switch in modes:
                    kernel.execute(f"_bench_switch({switch == 'on'})", "switch", settle=False)
                    code = TRACKED if mode.startswith("identical") else UNIQUE.format(2 * i + (switch == "on"))
                    start = time.perf_counter()
                    reply = kernel.execute(code, "tracked", settle=False)
                    timings[mode].append((time.perf_counter() - start) * 1000)
                    assert reply.status == "ok", reply.text
                    measured = json.loads(kernel.execute("import json; print(json.dumps(_bench_cpu['tracked'][-1]))",
                                                         "read", settle=False).stdout)
                    cpu[mode].append(measured)
            identity = kernel.execute(
                "import timeit\nfrom nbtrack.notebook.reuse import identity_of\n"
                "from nbtrack.notebook.arguments import parse_track_line\n"
                "from nbtrack.notebook.extension import current_tracker\n"
                "_h = current_tracker().history.executions(since_reset=True)\n"
                "_a = parse_track_line('experiment=bench')\n"
                "print(len(_h), min(timeit.repeat(lambda: identity_of(_a, 'x = lr * 2', _h, get_ipython().user_ns), "
                "number=200, repeat=5)) / 200 * 1000)", "identity", settle=False).stdout.split()
        finally:
            kernel.shutdown()
    return {"timings": timings, "cpu": cpu, "identity_ms": float(identity[1]), "history": int(identity[0])}


def lookup_costs(runs: int = 10_000) -> dict:
    import nbtrack
    from nbtrack import config
    from nbtrack.store.identity import finished_runs_with_identity

    with tempfile.TemporaryDirectory() as tmp:
        nbtrack.set_store(f"sqlite:///{Path(tmp) / 'lookup.db'}")
        store = config.get_store()
        from nbtrack.store import schema as s

        identities = [uuid.uuid4().hex * 2 for _ in range(runs)]
        with store.write() as connection:
            experiment = connection.execute(s.experiments.insert().values(name="bench", created_time=time.time())
                                            ).inserted_primary_key[0]
            connection.execute(s.runs.insert(), [
                dict(run_id=uuid.uuid4().hex, experiment_id=experiment, name=f"r{i}", status="FINISHED",
                     start_time=time.time() + i, notes="", deleted=False) for i in range(runs)])
            ids = [row[0] for row in connection.execute(s.runs.select().with_only_columns(s.runs.c.run_id))]
            rows = [dict(run_id=run_id, key=f"k{j}", value=f"value {j}") for run_id in ids for j in range(5)]
            rows += [dict(run_id=run_id, key="nbtrack.identity", value=identity)
                     for run_id, identity in zip(ids, identities)]
            connection.execute(s.tags.insert(), rows)
        target = identities[runs // 2]
        assert len(finished_runs_with_identity(store, target)) == 1

        def timed(repeat: int = 200) -> float:
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                finished_runs_with_identity(store, target)
                samples.append((time.perf_counter() - start) * 1000)
            return statistics.median(samples)

        with_index = timed()
        with store.write() as connection:
            connection.exec_driver_sql("DROP INDEX ix_tags_identity")
        without_index = timed(20)
        nbtrack.set_store(None)
    return {"runs": runs, "with_index_ms": with_index, "without_index_ms": without_index}


def main(n: int = 40) -> None:
    cells = cell_costs(n)
    lookup = lookup_costs()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} cores")
    print(f"trivial %%track cell, warm kernel, {n} runs each (ms)")
    for case, title in (("new", "a cell with no identical run (the common case)"),
                        ("identical", "the same cell again (an identical run exists: the notice is shown)")):
        on, off = cells["timings"][f"{case} on"], cells["timings"][f"{case} off"]
        cpu_on, cpu_off = cells["cpu"][f"{case} on"], cells["cpu"][f"{case} off"]
        print(f"  {title}")
        print(f"    reuse hook off: wall median {statistics.median(off):6.2f} p90 {percentile(off, 0.9):6.2f}"
              f"   main-thread CPU median {statistics.median(cpu_off):5.2f}")
        print(f"    reuse hook on:  wall median {statistics.median(on):6.2f} p90 {percentile(on, 0.9):6.2f}"
              f"   main-thread CPU median {statistics.median(cpu_on):5.2f}")
        print(f"    added by the hook: wall {statistics.median(on) - statistics.median(off):+.2f}"
              f"   main-thread CPU {statistics.median(cpu_on) - statistics.median(cpu_off):+.2f}")
    print(f"  identity of a cell after {cells['history']} executions (kernel, best of 5): "
          f"{cells['identity_ms']:.3f} ms")
    print(f"look-up of an identical run among {lookup['runs']:,} runs (60,000 tags), median:")
    print(f"  with ix_tags_identity: {lookup['with_index_ms']:.2f} ms   without: {lookup['without_index_ms']:.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
