"""``nbtrack rerun``: execute a run's notebook snapshot again in a fresh kernel and verify it.

1. The run's snapshot is read (:func:`nbtrack.notebook.stored_snapshot.read_snapshot`, the one
   reader) and rebuilt as a notebook; ``-p`` overrides are injected (:mod:`nbtrack.runner.params`).
2. Before anything runs, every file or directory dataset the original logged is fingerprinted
   again at its recorded path (a changed or missing file is recorded, and the re-run goes on:
   how much the result moves with the data is what the user wants to know).
3. The whole notebook is executed by nbclient in a fresh kernel, in the original's working
   directory, each of its runs tagged with this launch; the run of the original's cell (tag
   ``nbtrack.cell``; the same name and params when the cell started several) is the re-run.
   A dataset it logs under a name the original used is compared with the original's fingerprint.
4. :func:`nbtrack.runner.compare.compare` gives the verdict; the original is tagged with it
   (``nbtrack.verdict``, ``nbtrack.verdict_run``, ``nbtrack.verdict_detail``; not for a re-run
   with ``-p``), the re-run links to it (``nbtrack.rerun_of``, ``nbtrack.rerun_verdict``) and
   keeps the whole comparison as its ``rerun`` document.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import NbtrackError
from ..sweep_launch import LaunchContext
from .compare import CHANGED, Comparison, compare
from .execute import LAUNCH_TAG, ExecutionResult, execute_notebook, new_launch_id

VERDICT_TAG = "nbtrack.verdict"  # on the original: verified | diverged
VERDICT_RUN_TAG = "nbtrack.verdict_run"  # on the original: the re-run that gave the verdict
VERDICT_DETAIL_TAG = "nbtrack.verdict_detail"  # on the original: the verdict in one line
RERUN_OF_TAG = "nbtrack.rerun_of"  # on the re-run: the original's id
RERUN_VERDICT_TAG = "nbtrack.rerun_verdict"  # on the re-run: verified | diverged | changed
RERUN_DOCUMENT = "rerun"  # on the re-run: Comparison.to_document()


class RerunError(NbtrackError, ValueError):
    """A run that cannot be re-run (still running, no snapshot, no tracked cell)."""


@dataclass
class RerunResult:
    """What ``rerun`` did: the two runs, the comparison and the execution."""

    original: Any
    rerun: Any | None
    comparison: Comparison
    execution: ExecutionResult
    workdir: str
    notebook: Path | None  # the executed notebook, when kept (``output``)


def check_data_files(original: Any) -> list[dict]:
    """File and directory datasets of ``original`` whose content differs now (or that are gone)."""
    from ..datasets import fingerprint
    from .compare import describe_data_change

    changes = []
    for dataset in original.datasets:
        path = dataset.get("path")
        if dataset.get("kind") not in ("file", "directory") or not path:
            continue
        if not os.path.exists(path):
            changes.append({"name": dataset["name"], "original": dataset["fingerprint"], "rerun": None,
                            "detail": f"{path} is gone"})
            continue
        now = fingerprint(path)
        if now["fingerprint"] != dataset["fingerprint"]:
            changes.append({"name": dataset["name"], "original": dataset["fingerprint"], "rerun": now["fingerprint"],
                            "detail": f"{path} changed: {describe_data_change(dataset, now)}"})
    return changes


def working_directory(original: Any, snapshot_path: str | None) -> str:
    """Where the original ran (its environment's cwd), else its notebook's directory, else here."""
    for candidate in ((original.environment or {}).get("cwd"), os.path.dirname(snapshot_path or "")):
        if candidate and os.path.isdir(candidate):
            return candidate
    return os.getcwd()


def _score(candidate: Any, original: Any) -> tuple:
    same_level = bool(candidate.parent_run_id) == bool(original.parent_run_id)
    same_params = sum(1 for k, v in original.params.items() if candidate.params.get(k) == v)
    return same_level, candidate.name == original.name, same_params


def find_rerun_of_cell(run_ids: list[str], original: Any, cell_id: str | None, cell_index: int | None) -> Any | None:
    """The run among ``run_ids`` that the original's cell started: same cell id (else the same
    cell index in its notebook document); among several, the same nesting, name and params."""
    import nbtrack

    records = [nbtrack.get_run(run_id) for run_id in run_ids]
    if cell_id:
        matches = [r for r in records if r.tags.get("nbtrack.cell") == cell_id]
    else:
        matches = [r for r in records if (r.document("notebook") or {}).get("cell_index") == cell_index]
    if not matches:
        return None
    return max(matches, key=lambda r: _score(r, original))  # max keeps the first of equals: the earliest


def rerun(run: str, overrides: dict[str, Any] | None = None, *, timeout: int = 600, rtol: float = 0.0,
          atol: float = 0.0, output: str | os.PathLike | None = None,
          say: Callable[[str], None] = lambda line: None) -> RerunResult:
    """Re-execute the notebook of run ``run`` (an id or unique prefix) and compare (see the module
    docstring). ``say`` receives progress lines. Raises :class:`RerunError` for a run that
    cannot be re-run; a notebook that fails is a ``diverged`` verdict, not an exception."""
    import nbtrack

    from ..notebook.runner import store_uri
    from ..notebook.stored_snapshot import read_snapshot
    from .params import inject, injected_values

    if rtol < 0 or atol < 0:
        raise RerunError("--rtol and --atol must be zero or positive")
    original = nbtrack.get_run(run)
    if original.status == "RUNNING":
        raise RerunError(f"run {original.run_id[:8]} is still RUNNING: re-run it once it has ended")
    snapshot = read_snapshot(original)
    cell_id = original.tags.get("nbtrack.cell") or snapshot.tracked_id
    if not cell_id and snapshot.tracked_index is None:
        raise RerunError(f"run {original.run_id[:8]} does not say which cell of its notebook started it")
    nb = snapshot.notebook()
    nb.metadata.pop("nbtrack", None)
    cell_index = snapshot.tracked_index
    if overrides:
        for warning in inject(nb, overrides, note=f"nbtrack rerun {original.run_id[:8]}").warnings:
            say(f"warning: {warning}")
        if cell_index is not None and cell_id:
            cell_index = next((i for i, c in enumerate(nb.cells) if c.get("id") == cell_id), cell_index)

    preflight = check_data_files(original)
    for change in preflight:
        say(f"data {change['name']!r}: {change['detail']}")
    notebook_path = snapshot.document.get("path")
    workdir = working_directory(original, notebook_path)
    launch_id = new_launch_id()
    # the values injected into the notebook are recorded as params, as the sweep that ran it did
    launched = {name: value for name, value in {**injected_values(nb), **(overrides or {})}.items()
                if _json_safe(value)}
    context = LaunchContext(tags={LAUNCH_TAG: launch_id}, reuse=False, params=launched)
    stem = Path(notebook_path or "notebook").stem
    where = f"cell {cell_index}" if cell_index is not None else f"cell {cell_id}"
    say(f"re-running {original.run_id[:8]} ({original.experiment} · {original.name}): the whole notebook "
        f"{stem}.ipynb from its snapshot, {where} is the run's; working directory {workdir}")
    with tempfile.TemporaryDirectory(prefix="nbtrack-rerun-") as scratch:
        path = Path(output).resolve() if output is not None else Path(scratch) / f"{stem}.ipynb"
        execution = execute_notebook(nb, path, store_uri(None), context, launch_id=launch_id, cwd=workdir,
                                     timeout=timeout, output=path if output is not None else None,
                                     env={"NBTRACK_EXPERIMENT": original.experiment})
    say(f"executed in {execution.seconds:.1f} s" + (f"; {execution.error}" if execution.error else ""))
    new = find_rerun_of_cell(execution.run_ids, original, cell_id, cell_index)
    comparison = compare(original, new, rtol=rtol, atol=atol, overrides=overrides, preflight=preflight,
                         error=execution.error, stale_note=snapshot.disk_note() if snapshot.stale else None)
    record_verdict(original, new, comparison)
    original = nbtrack.get_run(original.run_id)  # with the tags just set
    new = nbtrack.get_run(new.run_id) if new is not None else None
    return RerunResult(original, new, comparison, execution, workdir, path if output is not None else None)


def _json_safe(value: Any) -> bool:
    """Whether a value survives the kernel's launch context (JSON) as itself."""
    import json

    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False


def record_verdict(original: Any, new: Any | None, comparison: Comparison) -> None:
    """Tag the original with the verdict (not for a re-run with changes) and link the re-run to it."""
    import nbtrack

    from ..store.batch import Batch

    headline = comparison.headline()
    if new is not None:
        nbtrack.tag_run(new.run_id, {RERUN_OF_TAG: original.run_id, RERUN_VERDICT_TAG: comparison.verdict})
        nbtrack.get_store().write_batch(Batch(documents=[(new.run_id, RERUN_DOCUMENT, comparison.to_document())]))
    if comparison.verdict != CHANGED:
        nbtrack.tag_run(original.run_id, {VERDICT_TAG: comparison.verdict, VERDICT_DETAIL_TAG: headline,
                                          VERDICT_RUN_TAG: new.run_id if new is not None else ""})
