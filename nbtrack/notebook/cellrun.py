"""The per-cell state of one ``%%track`` cell's run (held by the tracker, never on the Run)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CellRun:
    """A run started by a tracked cell: the run, the cell's execution count, the key that
    links re-runs of the same cell, and the previous run of that cell.

    The previous run is known at once when this kernel ran the cell before; otherwise a store
    look-up finds it in the background, and whichever of the look-up and the cell's end comes
    last records it (the ``nbtrack.previous_run`` tag and the ``cell`` document)."""

    run: Any
    count: int | None
    key: str
    previous: str | None = None
    end_status: str = "FINISHED"  # how the run ends when the cell succeeds (nbtrack.mlflow's end_run may say FAILED)
    document: dict | None = None  # the final ``cell`` document, once recorded
    snapshot: Any = None  # the notebook snapshot taken for the cell
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def found_previous(self, run_id: str | None) -> None:
        """The look-up's answer (from the background, maybe after the cell ended)."""
        with self._lock:  # the writes too: the last ``cell`` document set must be the complete one
            self.previous = run_id
            if run_id and self.document is not None:
                self._record_previous(run_id, dict(self.document, previous_run=run_id), [])

    def recorded(self, document: dict, redacted: list) -> None:
        """Record the final ``cell`` document (already redacted; ``redacted``: what was found),
        with the previous run if it is known by now."""
        with self._lock:
            self.document = document
            if self.previous:
                self._record_previous(self.previous, dict(document, previous_run=self.previous), redacted)
            else:
                self.run.set_document("cell", document, redacted=redacted)

    def _record_previous(self, run_id: str, document: dict, redacted: list) -> None:
        self.run.set_tag("nbtrack.previous_run", run_id)
        self.run.set_document("cell", document, redacted=redacted)
