"""The kernel's execution history: every stored code cell executed since the kernel started.

IPython keeps the sources (``history_manager.input_hist_raw``, indexed by execution count);
:class:`KernelHistory` adds what IPython does not keep: the cell id of each execution
(sent by JupyterLab with the execute request) and whether it raised. It also remembers the
execution in progress, which ``%%track`` needs (its cell id and raw source).

IPython 8 and 9 differ in when ``shell.execution_count`` moves on (after the cell in 8,
before it in 9), so the count of the cell in progress is read from its ExecutionResult.

``%reset -f`` empties the namespace but not the history: a hidden marker in the namespace
tells when that happened, and the hidden-state report only looks at what ran since. A cell
that raised is recorded with the line it raised at (what comes after never ran).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..secrets import redact_cached
from .hidden_state import Execution

_MARKER = "__nbtrack_namespace__"  # hidden from %who; gone after %reset


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
        self.failed_lines: dict[int, int] = {}
        self.current: CurrentCell | None = None
        self.reset_after = 0  # executions up to this count ran before the namespace was last reset
        self._reset_pending = False  # reset by a cell not stored in the history (a silent execution)
        self._token = object()
        self._registered = False
        self._entries: dict[int, tuple[str, str | None, bool, dict, list]] = {}
        self._executions: dict[int, Execution] = {}

    def register(self) -> None:
        """Start recording; the cell running now (``%load_ext nbtrack``) is recorded too."""
        if not self._registered:
            cell_id = self._parent_cell_id()
            count = current_execution_count(self.shell)
            if cell_id and count is not None:
                self.cell_ids[count] = cell_id
            if self.shell.user_ns.get(_MARKER) is not self._token:
                self._plant_marker()
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

    def _plant_marker(self) -> None:
        self.shell.user_ns[_MARKER] = self._token
        self.shell.user_ns_hidden[_MARKER] = self._token

    def _namespace_was_reset(self) -> bool:
        return self.shell.user_ns.get(_MARKER) is not self._token

    def pre_run_cell(self, info: Any) -> None:
        if self._namespace_was_reset():  # by an execution not in the history: what ran before is gone
            self._reset_pending = True
            self._plant_marker()
        self.current = CurrentCell(getattr(info, "cell_id", None) or None, getattr(info, "raw_cell", "") or "",
                                   bool(getattr(info, "store_history", False)), time.time())

    def post_run_cell(self, result: Any) -> None:
        count = getattr(result, "execution_count", None)
        if not isinstance(count, int):
            return
        current = self.current
        if current is not None and current.cell_id and current.store_history:
            self.cell_ids.setdefault(count, current.cell_id)
        if self._namespace_was_reset():  # this cell ran %reset
            self.reset_after, self._reset_pending = count, False
            self._plant_marker()
        elif self._reset_pending:
            self.reset_after, self._reset_pending = count - 1, False
        if not getattr(result, "success", True):
            self.failed.add(count)
            line = _failed_line(getattr(result, "error_in_exec", None))
            if line is not None:
                self.failed_lines[count] = line

    def note_current(self, count: int | None, cell_id: str | None) -> None:
        """Record the id of the cell in progress now (its post_run_cell comes after the run)."""
        if count is not None and cell_id:
            self.cell_ids[count] = cell_id

    def executions(self, before: int | None = None, since_reset: bool = False) -> list[Execution]:
        """Executions in order (optionally only those with a count below ``before``, and only
        those since the namespace was last reset)."""
        raw = self.shell.history_manager.input_hist_raw
        end = len(raw) if before is None else min(before, len(raw))
        start = 1
        if since_reset:
            start = max(1, (end - 1 if self._reset_pending else self.reset_after) + 1)
        out = []
        for count in range(start, end):  # the same Execution objects from one tracked cell to the next
            source, cell_id, line = raw[count], self.cell_ids.get(count), self.failed_lines.get(count)
            cached = self._executions.get(count)
            if cached is None or cached.source is not source or cached.cell_id != cell_id \
                    or cached.failed_line != line:
                cached = self._executions[count] = Execution(count, source, cell_id, line)
            out.append(cached)
        return out

    def document(self, before: int | None = None) -> tuple[dict[str, Any], list]:
        """The ``history`` document (executions with count, source with secrets redacted, cell
        id and outcome) and what was redacted (:class:`nbtrack.secrets.Finding`s). Each
        execution is redacted once per kernel."""
        entries, findings = [], []
        for execution in self.executions(before):
            count, failed = execution.execution_count, execution.execution_count in self.failed
            cached = self._entries.get(count)
            if cached is None or cached[0] is not execution.source or cached[1] != execution.cell_id \
                    or cached[2] != failed:
                source, found = redact_cached(execution.source)
                entry = {"execution_count": count, "source": source, "cell_id": execution.cell_id, "failed": failed}
                if count in self.failed_lines:
                    entry["failed_line"] = self.failed_lines[count]
                cached = self._entries[count] = (execution.source, execution.cell_id, failed, entry, found)
            entries.append(cached[3])
            findings.extend(cached[4])
        document: dict[str, Any] = {"executions": entries}
        if self.reset_after:
            document["namespace_reset_after"] = self.reset_after
        return document, findings


def _failed_line(error: BaseException | None) -> int | None:
    """The line of the cell an exception came from: the first module-level frame of its
    traceback (IPython's own frames are functions; the cell's code runs as a module)."""
    traceback = getattr(error, "__traceback__", None)
    while traceback is not None:
        if traceback.tb_frame.f_code.co_name == "<module>":
            return traceback.tb_lineno
        traceback = traceback.tb_next
    return None
