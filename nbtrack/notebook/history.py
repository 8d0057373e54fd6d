"""The kernel's execution history: every stored code cell executed since the kernel started.

IPython keeps the sources (``history_manager.input_hist_raw``, indexed by execution count);
:class:`KernelHistory` adds what IPython does not keep: the cell id of each execution
(sent by JupyterLab with the execute request) and whether it raised. It also remembers the
execution in progress, which ``%%track`` needs (its cell id and raw source).

IPython 8 and 9 differ in when ``shell.execution_count`` moves on (after the cell in 8,
before it in 9), so the count of the cell in progress is read from its ExecutionResult.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..secrets import redact_source
from .hidden_state import Execution


@dataclass(frozen=True)
class CurrentCell:
    """The cell being executed, as ``pre_run_cell`` announced it."""

    cell_id: str | None
    raw_cell: str
    store_history: bool
    started: float


def current_execution_count(shell: Any) -> int | None:
    """The execution count of the cell being executed (None outside a stored execution)."""
    result = getattr(shell.displayhook, "exec_result", None)
    count = getattr(result, "execution_count", None)
    if isinstance(count, int):
        return count
    raw = shell.history_manager.input_hist_raw
    return len(raw) - 1 if len(raw) > 1 else None


class KernelHistory:
    """Hooks ``pre_run_cell``/``post_run_cell`` to record cell ids and failures."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.cell_ids: dict[int, str] = {}
        self.failed: set[int] = set()
        self.current: CurrentCell | None = None
        self._registered = False

    def register(self) -> None:
        """Start recording; the cell running now (``%load_ext nbtrack``) is recorded too."""
        if not self._registered:
            cell_id = self._parent_cell_id()
            count = current_execution_count(self.shell)
            if cell_id and count is not None:
                self.cell_ids[count] = cell_id
            self.shell.events.register("pre_run_cell", self.pre_run_cell)
            self.shell.events.register("post_run_cell", self.post_run_cell)
            self._registered = True

    def _parent_cell_id(self) -> str | None:
        """The cell id in the metadata of the execute request being handled (ipykernel)."""
        try:
            parent = self.shell.kernel.get_parent()
            cell_id = (parent.get("metadata") or {}).get("cellId")
            return cell_id if isinstance(cell_id, str) and cell_id else None
        except Exception:
            return None

    def unregister(self) -> None:
        """Stop recording; the cell running now (``%unload_ext nbtrack``) is recorded too."""
        if self._registered:
            current, count = self.current, current_execution_count(self.shell)
            if current is not None and current.cell_id and current.store_history and count is not None:
                self.cell_ids.setdefault(count, current.cell_id)
            for event, callback in (("pre_run_cell", self.pre_run_cell), ("post_run_cell", self.post_run_cell)):
                try:
                    self.shell.events.unregister(event, callback)
                except ValueError:
                    pass
            self._registered = False
            self.current = None  # its post_run_cell will not come: not the cell of a later execution

    def pre_run_cell(self, info: Any) -> None:
        self.current = CurrentCell(getattr(info, "cell_id", None) or None, getattr(info, "raw_cell", "") or "",
                                   bool(getattr(info, "store_history", False)), time.time())

    def post_run_cell(self, result: Any) -> None:
        count = getattr(result, "execution_count", None)
        if not isinstance(count, int):
            return
        current = self.current
        if current is not None and current.cell_id and current.store_history:
            self.cell_ids.setdefault(count, current.cell_id)
        if not getattr(result, "success", True):
            self.failed.add(count)

    def note_current(self, count: int | None, cell_id: str | None) -> None:
        """Record the id of the cell in progress now (its post_run_cell comes after the run)."""
        if count is not None and cell_id:
            self.cell_ids[count] = cell_id

    def executions(self, before: int | None = None) -> list[Execution]:
        """Executions in order (optionally only those with a count below ``before``)."""
        raw = self.shell.history_manager.input_hist_raw
        end = len(raw) if before is None else min(before, len(raw))
        return [Execution(count, raw[count], self.cell_ids.get(count)) for count in range(1, end)]

    def document(self, before: int | None = None) -> dict[str, Any]:
        """The ``history`` document: executions with count, source (secrets redacted), cell id
        and outcome."""
        return {
            "executions": [
                {"execution_count": e.execution_count, "source": redact_source(e.source), "cell_id": e.cell_id,
                 "failed": e.execution_count in self.failed}
                for e in self.executions(before)
            ],
        }
