"""Snapshot round trip over the corpus: each notebook's tracked cell is run in a real kernel,
the run is checked out, and the checkout is compared with the notebook cell by cell.
Used by ``test_snapshot_roundtrip.py`` and ``benchmarks/bench_snapshot_fidelity.py``."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

import nbtrack

CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass
class Fidelity:
    notebooks: int = 0
    cells: int = 0
    identical: int = 0
    ids_kept: int = 0
    metadata_kept: int = 0
    notebook_metadata_kept: int = 0
    problems: list[str] = field(default_factory=list)


def corpus_paths() -> list[Path]:
    return sorted(CORPUS.glob("*.ipynb"))


def run_corpus(kernel, workdir: Path, fidelity: Fidelity | None = None) -> Fidelity:
    """Run the tracked cell of every corpus notebook (copied into ``workdir``) in ``kernel``
    and compare each checkout with its notebook."""
    fidelity = fidelity or Fidelity()
    reply = kernel.execute("%load_ext nbtrack")
    assert reply.status == "ok", reply.text
    for source in corpus_paths():
        path = workdir / source.name
        shutil.copy(source, path)
        original = nbformat.read(str(path), as_version=4)
        tracked = next(c for c in original.cells if c.get("id") == "tracked")
        kernel.execute(f"__vsc_ipynb_file__ = {str(path)!r}")
        reply = kernel.execute(tracked.source, "tracked")
        assert reply.status == "ok", reply.text
        run_id = str(nbtrack.runs(order_by="start_time DESC", max_results=1)["run_id"][0])
        out = nbtrack.checkout(run_id, workdir / f"{path.stem}-checkout.ipynb", force=True)
        back = nbformat.read(str(out), as_version=4)
        fidelity.notebooks += 1
        meta = {k: v for k, v in back.metadata.items() if k != "nbtrack"}
        if meta == dict(original.metadata):
            fidelity.notebook_metadata_kept += 1
        else:
            fidelity.problems.append(f"{source.name}: notebook metadata {meta} != {dict(original.metadata)}")
        for index, cell in enumerate(original.cells):
            fidelity.cells += 1
            got = back.cells[index] if index < len(back.cells) else None
            if got is not None and got.cell_type == cell.cell_type and got.source == cell.source:
                fidelity.identical += 1
            else:
                fidelity.problems.append(f"{source.name} cell {index}: {cell.source!r} -> "
                                         f"{got.source if got is not None else None!r}")
            if got is not None and got.get("id") == cell.get("id"):
                fidelity.ids_kept += 1
            if got is not None and dict(got.metadata) == dict(cell.metadata):
                fidelity.metadata_kept += 1
            elif got is not None:
                fidelity.problems.append(f"{source.name} cell {index}: metadata {dict(got.metadata)}")
        if len(back.cells) != len(original.cells):
            fidelity.problems.append(f"{source.name}: {len(original.cells)} cells -> {len(back.cells)}")
    return fidelity
