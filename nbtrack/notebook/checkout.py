"""Rebuild a run's notebook from its snapshot as an ``.ipynb`` file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import CheckoutExistsError
from .stored_snapshot import read_snapshot


def snapshot_of(run: Any) -> tuple[Any, str, dict]:
    """(run record, snapshot text, ``notebook`` document) of a run id, prefix or record.

    Kept for callers of the text form; :func:`nbtrack.notebook.stored_snapshot.read_snapshot`
    gives the cells."""
    import nbtrack

    record = nbtrack.get_run(run) if isinstance(run, str) else run
    snapshot = read_snapshot(record)
    return record, snapshot.text or "", snapshot.document


def build_notebook(text: str, cell_ids: list | None = None, metadata: dict | None = None) -> Any:
    """An nbformat notebook from py:percent text (a snapshot before version 2), with the recorded
    cell ids when they fit."""
    from .stored_snapshot import StoredSnapshot, cells_from_text

    cells, nb_metadata = cells_from_text(text, cell_ids)
    nb = StoredSnapshot(cells, nb_metadata, text, {}, False).notebook()
    if metadata:
        nb.metadata["nbtrack"] = metadata
    return nb


def checkout(run_id: str, path: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Write the notebook of run ``run_id`` (an id or unique prefix) as an ``.ipynb``.

    ``path`` is a file, or a directory (an existing one, or a new path without a suffix);
    by default ``<notebook>-<run8>.ipynb`` in the current directory. Cell sources, ids and
    metadata and the notebook's metadata are those of the snapshot; the tracked cell holds the
    code that ran. An existing file is overwritten only with ``force=True``
    (:class:`CheckoutExistsError` otherwise). Returns the path written.
    """
    import nbformat

    import nbtrack

    record = nbtrack.get_run(run_id) if isinstance(run_id, str) else run_id
    snapshot = read_snapshot(record)
    nb = snapshot.notebook()
    info = {"run_id": record.run_id, "experiment": record.experiment, "name": record.name,
            "notebook": snapshot.document.get("path"), "cell_index": snapshot.tracked_index,
            "snapshot_source": snapshot.source}
    note = snapshot.disk_note()
    if note:
        info["snapshot_note"] = note
    nb.metadata["nbtrack"] = info
    stem = Path(snapshot.document.get("path") or "notebook").stem
    default_name = f"{stem}-{record.run_id[:8]}.ipynb"
    target = Path(path) if path is not None else Path.cwd() / default_name
    if target.is_dir() or (not target.exists() and not target.suffix):
        target = target / default_name
    if target.exists() and not force:
        raise CheckoutExistsError(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target))
    return target.resolve()
