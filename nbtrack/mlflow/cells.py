"""``start_run`` inside a ``%%track`` cell: the rule (docs/mlflow.md, "Inside a %%track cell").

The code of a tracked cell sees what it would see under MLflow, with the cell's run standing
in for the first run it starts:

1. The first ``start_run()`` of the cell (without ``run_id``) adopts the cell's run instead of
   starting one: ``run_name`` renames it, ``tags`` and ``description`` are added, and an
   experiment chosen with ``mlflow.set_experiment`` / ``experiment_id`` moves it there unless
   the ``%%track`` line (or ``%nbtrack experiment``) named one.
2. Leaving that ``with`` block (or ``end_run()``) does not end the cell's run: the cell does,
   when it finishes. A block left by an exception, or ``end_run(status="FAILED"|"KILLED")``,
   makes the run end with that status even if the cell catches the exception.
3. Every later ``start_run()`` in the cell, and any ``start_run(nested=True)`` inside the
   adopted block, starts a child run of the cell's run. ``start_run()`` without
   ``nested=True`` inside the adopted block raises, as MLflow does.
4. ``start_run(run_id=...)`` continues that stored run (not the cell's).
5. Logging calls with no run of their own land in the cell's run.
"""

from __future__ import annotations

import sys
from typing import Any

OPEN, RELEASED = "open", "released"
_claims: dict[str, str] = {}  # cell run id -> OPEN | RELEASED


def current_cell() -> Any | None:
    """The tracked cell whose body is running now (its ``CellRun``), or None."""
    extension = sys.modules.get("nbtrack.notebook.extension")
    if extension is None:
        return None
    tracker = extension.current_tracker()
    cell = getattr(tracker, "current_cell", None) if tracker is not None else None
    if cell is None or cell.run.status != "RUNNING":
        return None
    return cell


def cell_of(run: Any) -> Any | None:
    """The running tracked cell whose run is ``run``, or None."""
    cell = current_cell()
    return cell if cell is not None and cell.run is run else None


def claim_state(run: Any) -> str | None:
    return _claims.get(run.run_id)


def claim(run: Any) -> None:
    _claims[run.run_id] = OPEN


def release(run: Any) -> None:
    if run.run_id in _claims:
        _claims[run.run_id] = RELEASED


def end_with(cell: Any, status: str) -> None:
    """Make the cell's run end with ``status`` when the cell finishes (FAILED/KILLED win over FINISHED)."""
    if status != "FINISHED":
        cell.end_status = status
