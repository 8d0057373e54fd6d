"""Rebuild a run's notebook from its snapshot as an ``.ipynb`` file (jupytext -> nbformat)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .errors import SnapshotNotFoundError

_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def snapshot_of(run: Any) -> tuple[Any, str, dict]:
    """(run record, snapshot text, ``notebook`` document) of a run id, prefix or record."""
    import nbtrack

    record = nbtrack.get_run(run) if isinstance(run, str) else run
    document = record.document("notebook") or {}
    artifact = document.get("artifact")
    if not artifact or artifact not in {a.name for a in record.artifacts}:
        raise SnapshotNotFoundError(record.run_id)
    return record, record.artifact(artifact).read_text(), document


def build_notebook(text: str, cell_ids: list | None = None, metadata: dict | None = None) -> Any:
    """An nbformat notebook from py:percent text, with the recorded cell ids when they fit."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    ids = cell_ids or []
    if len(ids) == len(nb.cells) and all(isinstance(i, str) and _ID.match(i) for i in ids) \
            and len(set(ids)) == len(ids):
        for cell, cell_id in zip(nb.cells, ids):
            cell["id"] = cell_id
    if metadata:
        nb.metadata["nbtrack"] = metadata
    return nb


def checkout(run_id: str, path: str | os.PathLike | None = None) -> Path:
    """Write the notebook of run ``run_id`` (an id or unique prefix) as an ``.ipynb``.

    ``path`` is a file, or a directory (an existing one, or a new path without a suffix);
    by default ``<notebook>-<run8>.ipynb`` in the current directory. Returns the path written.
    """
    import nbformat

    record, text, document = snapshot_of(run_id)
    nb = build_notebook(text, document.get("cell_ids"), {
        "run_id": record.run_id, "experiment": record.experiment, "name": record.name,
        "notebook": document.get("path"), "cell_index": document.get("cell_index"),
    })
    stem = Path(document.get("path") or "notebook").stem
    default_name = f"{stem}-{record.run_id[:8]}.ipynb"
    target = Path(path) if path is not None else Path.cwd() / default_name
    if target.is_dir() or (not target.exists() and not target.suffix):
        target = target / default_name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target))
    return target.resolve()
