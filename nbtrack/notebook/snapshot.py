"""The notebook's source at the time a tracked cell ran, as jupytext ``py:percent`` text.

Sources, best first: the live notebook the JupyterLab extension sent for the cell (unsaved
edits included), then the file on disk, found through VS Code's ``__vsc_ipynb_file__``,
``JPY_SESSION_NAME`` or ``__session__``. A snapshot from disk says when the saved file does
not hold the code that ran (``stale``).

Taking a snapshot reads plain JSON (cells, ids, which cell runs); rendering its two artifacts
(:meth:`NotebookSnapshot.render`: jupytext for ``notebook.py``, whose import pulls in nbformat
and jsonschema, seconds on some machines) is left to :meth:`NotebookSnapshot.log`, which
``%%track`` runs in the background.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..secrets import redact_source
from .cellsource import same_code, same_source
from .hidden_state import Cell

FORMAT = "py:percent"
ARTIFACT = "notebook.py"
EXACT_ARTIFACT = "notebook.ipynb"  # every cell's exact source, id and metadata (snapshot version 2)
VERSION = 2

_cache_lock = threading.Lock()
_disk_cache: dict[str, tuple[tuple[int, int], Any]] = {}
_text_cache: dict[str, str] = {}


@dataclass
class NotebookSnapshot:
    """What the run records about the notebook it ran in."""

    source: str  # "live", "disk" or "none"
    path: str | None = None
    notebook: dict[str, Any] | None = None  # the notebook as plain nbformat JSON (no outputs needed)
    text: str | None = None
    cells: list[Cell] = field(default_factory=list)
    cell_index: int | None = None
    cell_id: str | None = None
    mtime: float | None = None
    stale: bool = False
    stale_reason: str | None = None
    reason: str | None = None  # why there is no snapshot
    exact: str | None = None  # the notebook as nbformat JSON without outputs (EXACT_ARTIFACT)
    executed_cell: dict[str, Any] | None = None  # where the code that ran replaced the saved cell
    exact_name: str | None = None  # the artifacts' names once stored
    text_name: str | None = None

    def document(self, artifact: str | None, exact_artifact: str | None = None) -> dict[str, Any]:
        """The ``notebook`` document of the run."""
        return {
            "source": self.source, "path": self.path, "format": FORMAT if self.text is not None else None,
            "artifact": artifact, "exact_artifact": exact_artifact, "version": VERSION,
            "cell_index": self.cell_index, "cell_id": self.cell_id,
            "cell_ids": [cell.id for cell in self.cells], "mtime": self.mtime, "stale": self.stale,
            "stale_reason": self.stale_reason, "reason": self.reason, "executed_cell": self.executed_cell,
        }

    def render(self) -> None:
        """Compute the two artifacts' texts (``notebook.ipynb``, then ``notebook.py``)."""
        if self.notebook is not None and self.exact is None:
            self.exact = to_exact(self.notebook)
        if self.notebook is not None and self.text is None:
            self.text = to_percent(self.notebook)

    def log_exact(self, run: Any) -> str | None:
        """Store ``notebook.ipynb`` (quick, no jupytext; what checkout reads); its name."""
        if self.notebook is not None and self.exact is None:
            self.exact = to_exact(self.notebook)
        self.exact_name = run.log_artifact(self.exact, name=EXACT_ARTIFACT) if self.exact is not None else None
        return self.exact_name

    def log_text(self, run: Any) -> str | None:
        """Store ``notebook.py`` (rendered by jupytext); its name."""
        self.render()
        self.text_name = run.log_artifact(self.text, name=ARTIFACT) if self.text is not None else None
        return self.text_name

    def log(self, run: Any) -> dict[str, Any]:
        """Render and store the snapshot's artifacts in ``run``; returns its ``notebook`` document."""
        exact = self.log_exact(run)
        return self.document(self.log_text(run), exact)


def locate_notebook(user_ns: Mapping[str, Any],
                    environ: Mapping[str, str] = os.environ) -> tuple[str | None, str | None]:
    """(path, how it was found) of the notebook this kernel runs, from what the kernel was told.

    ``__vsc_ipynb_file__`` (VS Code) first, then ``JPY_SESSION_NAME`` and ``__session__``
    (Jupyter server; stale after a rename, so only paths that exist are returned).
    """
    candidates = (
        ("__vsc_ipynb_file__", user_ns.get("__vsc_ipynb_file__")),
        ("JPY_SESSION_NAME", environ.get("JPY_SESSION_NAME")),
        ("__session__", user_ns.get("__session__")),
    )
    for how, value in candidates:
        if isinstance(value, str) and value.endswith(".ipynb"):
            path = os.path.abspath(value)
            if os.path.isfile(path):
                return path, how
    return None, None


def _normalized(nb: dict[str, Any]) -> dict[str, Any]:
    """``nb`` (freshly parsed JSON) with nbformat's defaults and string sources, in place."""
    nb.setdefault("metadata", {})
    nb.setdefault("nbformat", 4)
    nb.setdefault("nbformat_minor", 5)
    if not isinstance(nb.get("cells"), list):
        nb["cells"] = []
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell.setdefault("metadata", {})
    return nb


def _as_notebook(data: Mapping[str, Any]) -> dict[str, Any]:
    """A private, normalized copy of a notebook's JSON (plain dicts: no nbformat import)."""
    return _normalized(json.loads(json.dumps(data)))


def read_notebook(path: str) -> dict[str, Any]:
    """The notebook at ``path`` as plain JSON (cached while the file's mtime, size and inode stay
    the same; do not modify it)."""
    stat = os.stat(path)
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns)
    with _cache_lock:
        hit = _disk_cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
    with open(path, encoding="utf-8") as handle:
        nb = _normalized(json.load(handle))
    with _cache_lock:
        _disk_cache[path] = (key, nb)
    return nb


def notebook_cells(nb: Any) -> list[Cell]:
    return [Cell(index, cell.get("cell_type", "code"), cell.get("source", ""), cell.get("id"))
            for index, cell in enumerate(nb.get("cells", []))]


def to_percent(nb: Any) -> str:
    """The notebook as jupytext py:percent text (markdown, code and raw cells; no outputs;
    secret-looking literals redacted)."""
    key = json.dumps({"metadata": nb.get("metadata", {}),
                      "cells": [[c.get("cell_type"), c.get("source"), c.get("metadata", {})] for c in nb["cells"]]},
                     sort_keys=True, default=str)
    with _cache_lock:
        text = _text_cache.get(key)
    if text is None:
        import jupytext
        import nbformat

        text = redact_source(jupytext.writes(nbformat.from_dict(json.loads(json.dumps(nb))), fmt=FORMAT))
        with _cache_lock:
            if len(_text_cache) > 64:
                _text_cache.clear()
            _text_cache[key] = text
    return text


_exact_cache: dict[str, str] = {}


def to_exact(nb: Any) -> str:
    """The notebook as nbformat JSON with every cell's exact source, id and metadata and the
    notebook's metadata (no outputs; secret-looking literals redacted). Cached by content."""
    key = json.dumps({"metadata": nb.get("metadata", {}),
                      "cells": [[c.get("cell_type"), c.get("id"), c.get("source"), c.get("metadata", {})]
                                for c in nb.get("cells", [])]}, sort_keys=True, default=str)
    with _cache_lock:
        text = _exact_cache.get(key)
    if text is None:
        text = _exact_text(nb)
        with _cache_lock:
            if len(_exact_cache) > 64:
                _exact_cache.clear()
            _exact_cache[key] = text
    return text


def _exact_text(nb: Any) -> str:
    cells = []
    for cell in nb.get("cells", []):
        kind = cell.get("cell_type", "code")
        out: dict[str, Any] = {"cell_type": kind, "id": cell.get("id"), "metadata": cell.get("metadata", {}),
                               "source": redact_source(cell.get("source", ""))}
        if kind == "code":
            out["execution_count"] = None
            out["outputs"] = []
        elif cell.get("attachments") and kind == "markdown":
            out["attachments"] = cell["attachments"]
        if out["id"] is None:
            del out["id"]
        cells.append(out)
    document = {"nbformat": nb.get("nbformat", 4), "nbformat_minor": nb.get("nbformat_minor", 5),
                "metadata": nb.get("metadata", {}), "cells": cells}
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n"


def _with_executed_cell(nb: dict[str, Any], index: int | None, executed: str) -> tuple[dict, dict[str, Any]]:
    """A copy of ``nb`` whose tracked cell holds ``executed`` (the code that ran), appended as a
    new code cell when the saved notebook does not have the cell."""
    import uuid

    copied = dict(nb, cells=list(nb["cells"]))
    if index is not None:
        copied["cells"][index] = dict(copied["cells"][index], source=executed)
        return copied, {"index": index, "appended": False}
    copied["cells"].append({"cell_type": "code", "id": uuid.uuid4().hex[:8], "metadata": {}, "source": executed,
                            "outputs": [], "execution_count": None})
    return copied, {"index": len(copied["cells"]) - 1, "appended": True}


def find_cell(cells: list[Cell], cell_id: str | None, executed: str) -> tuple[int | None, bool]:
    """(index of the tracked cell, whether it was found by id)."""
    if cell_id:
        for cell in cells:
            if cell.id == cell_id:
                return cell.index, True
    for cell in cells:
        if cell.cell_type == "code" and same_source(cell.source, executed):
            return cell.index, False
    for cell in cells:  # the same code under different magic arguments counts as the cell
        if cell.cell_type == "code" and same_code(cell.source, executed):
            return cell.index, False
    return None, False


def take_snapshot(cell_id: str | None, executed: str, user_ns: Mapping[str, Any],
                  live: Mapping[str, Any] | None = None, environ: Mapping[str, str] = os.environ) -> NotebookSnapshot:
    """Snapshot the notebook for the cell ``cell_id`` that ran ``executed`` (its raw source).

    ``live`` is what ``nbtrack.frontend.live_notebook(cell_id)`` returned
    (``{"path", "cell_id", "notebook"}``), if anything.
    """
    if live and isinstance(live.get("notebook"), Mapping) and live["notebook"].get("cells") is not None:
        nb = _as_notebook(live["notebook"])
        cells = notebook_cells(nb)
        index, _ = find_cell(cells, cell_id, executed)
        path = live.get("path")
        if isinstance(path, str) and path and not os.path.isabs(path):
            located, _ = locate_notebook(user_ns, environ)
            beside = os.path.join(os.getcwd(), os.path.basename(path))
            if located and located.endswith(path):
                path = located
            elif os.path.isfile(beside):
                path = beside
        return NotebookSnapshot("live", path, nb, cells=cells, cell_index=index, cell_id=cell_id)

    path, how = locate_notebook(user_ns, environ)
    if path is None:
        named = next((value for value in (user_ns.get("__vsc_ipynb_file__"), environ.get("JPY_SESSION_NAME"),
                                          user_ns.get("__session__"))
                      if isinstance(value, str) and value.endswith(".ipynb")), None)
        if named is not None:  # told a path, but there is no such file: not saved yet, or renamed
            return NotebookSnapshot("none", reason=f"the notebook file {named} does not exist "
                                                   "(not saved yet, or renamed since the kernel started)")
        return NotebookSnapshot("none", reason="no notebook file known to this kernel "
                                               "(no JupyterLab extension, JPY_SESSION_NAME, __session__ "
                                               "or __vsc_ipynb_file__)")
    nb = read_notebook(path)
    cells = notebook_cells(nb)
    index, by_id = find_cell(cells, cell_id, executed)
    snapshot = NotebookSnapshot("disk", path, nb, cells=cells, cell_index=index, cell_id=cell_id or (
        cells[index].id if index is not None else None), mtime=os.stat(path).st_mtime)
    if index is None and executed.strip():
        snapshot.stale, snapshot.stale_reason = True, "the saved notebook does not contain the tracked cell (unsaved?)"
    elif index is not None and not same_source(cells[index].source, executed):
        snapshot.stale, snapshot.stale_reason = True, "the saved notebook has another version of the tracked cell"
    if snapshot.stale:  # the code that ran is known: the snapshot keeps it, the other cells are as saved
        snapshot.notebook, snapshot.executed_cell = _with_executed_cell(nb, index, executed)
    return snapshot
