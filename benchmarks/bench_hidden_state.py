"""Precision and recall of the hidden-state report on the labelled corpus, with and without cell ids.

Replays tests/notebook/hidden_corpus.py (notebooks written for the tests, scripted out-of-order
histories with the findings a person would expect) in real kernels: one driven as JupyterLab
drives it (cell ids), one by nbclient (no ids). Precision: reported findings that are expected;
recall: expected findings that are reported (a finding is a kind and a cell). Also: how often the
summary line's (first) finding is a true one, false alarms on clean cases, and whether each
case's labels agree with a top-to-bottom re-run of the notebook.

    python benchmarks/bench_hidden_state.py [--mode ids|noids] [--case NAME ...] [--verbose]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "notebook"))
from hidden_corpus import CASES  # noqa: E402
from hidden_replay import MODES, misses, replay, summarize  # noqa: E402

TARGETS = {"ids": (0.95, 0.9), "noids": (0.9, None)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, action="append")
    parser.add_argument("--case", action="append", help="only these cases (by name)")
    parser.add_argument("--verbose", action="store_true", help="print every case's findings")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.case or c.name in args.case]
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} cores; {len(cases)} cases, "
          f"{sum(1 for c in cases if c.expect)} with findings, {sum(len(c.expect) for c in cases)} findings expected")
    for mode in args.mode or MODES:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            outcomes = replay(mode, Path(tmp), f"sqlite:///{Path(tmp) / 'store.db'}", cases)
            elapsed = time.perf_counter() - started
        scores = summarize(mode, outcomes)
        precision_target, recall_target = TARGETS[mode]
        targets = f"targets: precision >= {precision_target}"
        targets += f", recall >= {recall_target}" if recall_target else ""
        print(f"{mode:6s} precision {scores.precision:.3f}  recall {scores.recall:.3f}  "
              f"first finding right {scores.top_correct:.3f}  false alarms on clean cases {scores.false_alarms}  "
              f"({targets}; {elapsed:.0f} s)")
        if scores.label_disagreements:
            print(f"       labels disagreeing with a top-to-bottom run: {scores.label_disagreements}")
        for line in misses(outcomes):
            print("       " + line)
        if args.verbose:
            for outcome in outcomes:
                print(f"       {outcome.case.name}: {outcome.reasons}")


if __name__ == "__main__":
    main()
