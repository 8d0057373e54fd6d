"""What redaction costs: a 200-cell notebook's sources (first time and cached, as on every
tracked cell), one cell document, and 20 KB of code, through :mod:`nbtrack.secrets`.

    python benchmarks/bench_secrets.py
"""

from __future__ import annotations

import os
import statistics
import time

from nbtrack import secrets


def cells(n: int = 200) -> list[str]:
    body = ("import torch\nlr = 0.1\ntokenizer_name = 'bert-base-uncased'\nfor key in batch:\n"
            "    out = model(**batch[key], pad_token='[PAD]')\nprint(f'loss {{loss:.3f}}')\n")
    return [f"# cell {i}\nv{i} = {i}\n" + body for i in range(n)]


def timed(fn, repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main() -> None:
    os.environ.setdefault("MY_PASSWORD", "bench-" + "value-123")
    sources = cells()
    text = "\n".join(sources)
    document = {"cells": [{"source": s, "id": str(i)} for i, s in enumerate(sources)], "text": text}
    first = time.perf_counter()
    for source in sources:
        secrets.redact_source(source)
    print(f"200 cell sources, first time:      {(time.perf_counter() - first) * 1e3:7.2f} ms")
    print(f"200 cell sources, cached:          {timed(lambda: [secrets.redact_source(s) for s in sources]):7.2f} ms")
    print(f"snapshot document (200 cells):     {timed(lambda: secrets.redact_document(document)):7.2f} ms")
    print(f"one cell text, uncached:           {timed(lambda: secrets.redact_text(sources[7]), 200):7.3f} ms")
    print(f"{len(text) // 1024} KB of code, uncached:        {timed(lambda: secrets.redact_text(text), 5):7.2f} ms")


if __name__ == "__main__":
    main()
