"""Snapshot round-trip fidelity over the test corpus (tests/notebook/corpus/).

Each corpus notebook's ``%%track`` cell runs in one real kernel on a temporary SQLite store;
each run is checked out with ``nbtrack.checkout`` and compared with its notebook: cells
identical (type and exact source), cell ids kept, cell metadata kept, notebook metadata kept.
For comparison it also prints what the jupytext ``py:percent`` text alone (the snapshot
before version 2) gives back for the same notebooks.

    python benchmarks/bench_snapshot_fidelity.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "notebook"))
from corpus_roundtrip import Fidelity, corpus_paths, run_corpus  # noqa: E402
from nb_kernel import Kernel, kernel_env  # noqa: E402


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100.0 * part / whole:.1f} %)" if whole else "0/0"


def jupytext_only() -> Fidelity:
    """What the py:percent text alone gives back (cells parsed by jupytext, ids applied by position)."""
    import jupytext

    from nbtrack.notebook.stored_snapshot import cells_from_text

    out = Fidelity()
    for path in corpus_paths():
        nb = nbformat.read(str(path), as_version=4)
        cells, metadata = cells_from_text(jupytext.writes(nb, fmt="py:percent"), [c.get("id") for c in nb.cells])
        out.notebooks += 1
        out.notebook_metadata_kept += metadata == dict(nb.metadata)
        for index, cell in enumerate(nb.cells):
            out.cells += 1
            got = cells[index] if index < len(cells) and len(cells) == len(nb.cells) else None
            out.identical += got is not None and got.source == cell.source and got.cell_type == cell.cell_type
            out.ids_kept += got is not None and got.id == cell.get("id")
            out.metadata_kept += got is not None and got.metadata == dict(cell.metadata)
    return out


def report(title: str, f: Fidelity) -> None:
    print(f"{title}: {f.notebooks} notebooks, {f.cells} cells")
    print(f"  cells identical      {pct(f.identical, f.cells)}")
    print(f"  cell ids kept        {pct(f.ids_kept, f.cells)}")
    print(f"  cell metadata kept   {pct(f.metadata_kept, f.cells)}")
    print(f"  notebook metadata    {pct(f.notebook_metadata_kept, f.notebooks)}")


def main() -> None:
    import os

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        uri = f"sqlite:///{Path(tmp) / 'nbtrack.db'}"
        os.environ["NBTRACK_STORE"] = uri
        kernel = Kernel(work, kernel_env(uri))
        try:
            fidelity = run_corpus(kernel, work)
        finally:
            kernel.shutdown()
    report("snapshot v2 (checkout)", fidelity)
    for problem in fidelity.problems:
        print("  problem:", problem)
    report("jupytext text only (v1)", jupytext_only())


if __name__ == "__main__":
    main()
