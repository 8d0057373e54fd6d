"""The per-cell state of one ``%%track`` cell's run (held by the tracker, never on the Run)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class CellRun:
    """A run started by a tracked cell: the run, the cell's execution count, the key that
    links re-runs of the same cell, and the look-up of the previous run of that cell."""

    run: Any
    count: int | None
    key: str
    lookup: threading.Thread | None = None
    previous: str | None = None
    end_status: str = "FINISHED"  # how the run ends when the cell succeeds (nbtrack.mlflow's end_run may say FAILED)

    def previous_run(self, timeout: float = 2.0) -> str | None:
        """The previous run of the same cell (waits up to ``timeout`` s for the store look-up)."""
        if self.lookup is not None:
            self.lookup.join(timeout)
        return self.previous
