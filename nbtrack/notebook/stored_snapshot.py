"""The notebook snapshot a run stored, read back: the one reader used by checkout, the source
diff, the dashboard's run detail and its compare view.

A snapshot of version 2 (``notebook`` document ``version: 2``) has the ``notebook.ipynb``
artifact: every cell's exact source (final newlines, blank lines, CRLF and ``# %%`` lines
included), id and metadata, and the notebook's metadata. Older snapshots have only the
jupytext ``py:percent`` text (``notebook.py``); their cells are parsed by jupytext and get
the ids the document lists when they line up.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import SnapshotNotFoundError

_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass
class StoredCell:
    """One cell of a stored snapshot."""

    cell_type: str
    source: str
    id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    attachments: dict[str, Any] | None = None


@dataclass
class StoredSnapshot:
    """A run's snapshot: its cells, the notebook metadata and what the ``notebook`` document says."""

    cells: list[StoredCell]
    metadata: dict[str, Any]
    text: str | None  # the jupytext py:percent text, when stored
    document: dict[str, Any]
    exact: bool  # whether cells come from the exact (version 2) artifact

    @property
    def tracked_index(self) -> int | None:
        index = self.document.get("cell_index")
        executed = self.document.get("executed_cell") or {}
        if isinstance(executed, dict) and isinstance(executed.get("index"), int):
            index = executed["index"]
        return index if isinstance(index, int) and not isinstance(index, bool) else None

    @property
    def tracked_id(self) -> str | None:
        value = self.document.get("cell_id")
        return value if isinstance(value, str) else None

    @property
    def source(self) -> str | None:
        """Where the cells came from: ``live``, ``disk`` or ``none``."""
        return self.document.get("source")

    @property
    def stale(self) -> bool:
        return bool(self.document.get("stale"))

    def disk_note(self) -> str | None:
        """See :func:`snapshot_note`."""
        return snapshot_note(self.document)

    def notebook(self) -> Any:
        """The snapshot as an nbformat notebook (cell ids, cell and notebook metadata kept)."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata = nbformat.from_dict(json.loads(json.dumps(self.metadata)))
        makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                  "raw": nbformat.v4.new_raw_cell}
        ids = [cell.id for cell in self.cells]
        use_ids = all(isinstance(i, str) and _ID.match(i) for i in ids) and len(set(ids)) == len(ids)
        for cell in self.cells:
            maker = makers.get(cell.cell_type, nbformat.v4.new_raw_cell)
            made = maker(cell.source, metadata=nbformat.from_dict(json.loads(json.dumps(cell.metadata))))
            if use_ids:
                made["id"] = cell.id
            if cell.attachments and cell.cell_type in ("markdown", "raw"):
                made["attachments"] = cell.attachments
            nb.cells.append(made)
        return nb


def snapshot_note(document: Any) -> str | None:
    """One sentence saying which cells of a run's snapshot came from the saved file and may
    differ from what ran (``notebook`` document), or None for a live snapshot."""
    if not isinstance(document, dict) or document.get("source") != "disk":
        return None
    where = document.get("path") or "the saved notebook"
    if document.get("stale"):
        executed = document.get("executed_cell") or {}
        index = executed.get("index") if isinstance(executed, dict) else None
        cell = f"cell {index}" if isinstance(index, int) else "the tracked cell"
        return (f"stale: cells come from {where} as saved, which did not hold the code that ran "
                f"({document.get('stale_reason') or 'unsaved edits'}); {cell} holds the code that ran, "
                "the other cells may differ from the notebook in the kernel")
    return (f"cells come from {where} as saved (no JupyterLab extension): cells other than the tracked one "
            "may differ from the notebook in the kernel")


def cells_from_text(text: str, cell_ids: list | None = None) -> tuple[list[StoredCell], dict[str, Any]]:
    """(cells, notebook metadata) of a jupytext py:percent text (snapshots before version 2),
    with ``cell_ids`` when there is one per cell."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    metadata = dict(nb.metadata)
    metadata.pop("jupytext", None)  # no pairing: a checkout must not write a second file when opened
    if text.startswith("# ---\n") and "\n# ---\n" in text:  # a header jupytext did not take as one
        body = text.split("\n# ---\n", 1)[1].lstrip("\n")
        if len(jupytext.reads(body, fmt="py:percent").cells) < len(nb.cells):
            nb = jupytext.reads(body, fmt="py:percent")
    ids = list(cell_ids or [])
    fits = len(ids) == len(nb.cells)
    cells = [StoredCell(cell.cell_type, cell.source, ids[i] if fits else None, dict(cell.get("metadata", {})))
             for i, cell in enumerate(nb.cells)]
    return cells, metadata


def cells_from_exact(text: str) -> tuple[list[StoredCell], dict[str, Any]]:
    """(cells, notebook metadata) of a version 2 ``notebook.ipynb`` artifact."""
    data = json.loads(text)
    cells = []
    for cell in data.get("cells", []):
        source = cell.get("source", "")
        cells.append(StoredCell(cell.get("cell_type", "code"), "".join(source) if isinstance(source, list) else source,
                                cell.get("id"), dict(cell.get("metadata") or {}), cell.get("attachments")))
    return cells, dict(data.get("metadata") or {})


def read_snapshot(run: Any) -> StoredSnapshot:
    """The stored snapshot of ``run`` (a run id, unique prefix or record).

    Raises :class:`SnapshotNotFoundError` when the run has none.
    """
    import nbtrack

    record = nbtrack.get_run(run) if isinstance(run, str) else run
    document = record.document("notebook") or {}
    if not isinstance(document, dict):
        document = {}
    names = {getattr(a, "name", None) for a in getattr(record, "artifacts", []) or []}
    artifact = document.get("artifact") if document.get("artifact") in names else "notebook.py"
    exact = document.get("exact_artifact")
    text = record.artifact(artifact).read_text() if artifact in names else None
    if exact in names:
        cells, metadata = cells_from_exact(record.artifact(exact).read_text())
        return StoredSnapshot(cells, metadata, text, document, True)
    if text is None:
        raise SnapshotNotFoundError(record.run_id)
    cells, metadata = cells_from_text(text, document.get("cell_ids"))
    return StoredSnapshot(cells, metadata, text, document, False)
