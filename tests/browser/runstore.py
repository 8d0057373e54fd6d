"""Stores of many runs, written fast through the store's write primitive (``SqlStore.write_batch``).

Used by the dashboard's browser tests and benchmarks/bench_dashboard_browser.py: 10,000 runs
take about 10 s (the tracking API would take minutes). Each run has 10 params, 5 metrics
(``acc``, ``f1``, ``auc``, ``loss``, ``latency_ms``; ``steps`` points each) and 3 tags.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path


def build_store(path: Path | str, n: int, experiment: str = "bench", steps: int = 5, seed: int | None = None,
                nested_every: int = 0) -> list[str]:
    """Write ``n`` finished runs (every 50th FAILED) to the SQLite store at ``path``; their ids.

    With ``nested_every=k`` every k-th run is the parent of the next two runs (nested runs).
    """
    from nbtrack.store.batch import Batch
    from nbtrack.store.sql import SqlStore
    from nbtrack.values import encode_param

    store = SqlStore(f"sqlite:///{path}")
    rng = random.Random(n if seed is None else seed)
    start_time = time.time() - n * 10.0
    ids: list[str] = []
    parent: str | None = None
    try:
        for first in range(0, n, 2000):
            batch = Batch()
            for i in range(first, min(n, first + 2000)):
                run_id = uuid.UUID(int=rng.getrandbits(128)).hex
                ids.append(run_id)
                begin = start_time + i * 10.0
                parent_id = None
                if nested_every and i % nested_every in (1, 2) and parent is not None:
                    parent_id = parent
                if nested_every and i % nested_every == 0:
                    parent = run_id
                batch.creates.append((run_id, experiment, f"run-{i:06d}", begin, parent_id))
                params = {"model": ("rf", "lin", "gbm")[i % 3], "p1": round(rng.random(), 4), "seed": 42}
                params.update({f"p{k}": rng.randint(0, 9) for k in range(2, 9)})
                for key, value in params.items():
                    batch.params.append((run_id, key, *encode_param(value)))
                finals = {"acc": rng.random(), "f1": rng.random(), "auc": rng.random(), "loss": rng.random(),
                          "latency_ms": rng.uniform(1, 50)}
                for key, final in finals.items():
                    for step in range(steps):
                        scale = 0.6 + 0.4 * step / (steps - 1) if steps > 1 else 1.0  # ends at `final`
                        value = final * scale if key != "loss" else final * (2 - scale)
                        batch.metrics.append((run_id, key, step, value, begin + step))
                    batch.latest[(run_id, key)] = (steps - 1, batch.metrics[-1][3], begin + steps - 1)
                for key, value in (("stage", ("dev", "prod")[i % 2]), ("owner", f"u{i % 5}"),
                                   ("batch", str(i // 1000))):
                    batch.tags.append((run_id, key, value))
                batch.ends.append((run_id, "FAILED" if i % 50 == 7 else "FINISHED", begin + 9.0))
            store.write_batch(batch)
    finally:
        store.close()
    return ids
