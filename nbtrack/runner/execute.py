"""Execute one notebook in a fresh kernel for ``nbtrack sweep`` and ``nbtrack rerun``, and find
the runs it tracked (by the launch tag every run of the kernel gets, see :mod:`nbtrack.sweep_launch`)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sweep_launch import VARIABLE, LaunchContext

LAUNCH_TAG = "nbtrack.launch"


@dataclass
class ExecutionResult:
    """How one execution went: ``error`` is None when every cell ran."""

    launch_id: str
    path: Path
    seconds: float
    error: str | None = None
    error_cell: int | None = None
    run_ids: list[str] = field(default_factory=list)  # every run it tracked, in start order

    @property
    def ok(self) -> bool:
        return self.error is None


def new_launch_id() -> str:
    return uuid.uuid4().hex


def execute_notebook(nb: Any, path: Path, store: str, launch: LaunchContext, *, launch_id: str,
                     cwd: str | os.PathLike | None = None, timeout: int = 600, output: str | os.PathLike | None = None,
                     env: dict[str, str] | None = None) -> ExecutionResult:
    """Write ``nb`` to ``path`` and execute it in a fresh kernel working in ``cwd``, its runs
    writing to ``store`` with the launch context ``launch`` (whose tags must include
    ``nbtrack.launch = launch_id``). A cell that raises, a timeout or a dead kernel is the
    result's ``error``; nothing is raised for them."""
    import nbformat

    from ..notebook.errors import NotebookExecutionError
    from ..notebook.runner import run_notebook

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    started = time.perf_counter()
    result = ExecutionResult(launch_id, path, 0.0)
    kernel_env = {VARIABLE: launch.to_env(), **(env or {})}
    try:
        run_notebook(path, store, output, timeout=timeout, cwd=cwd, env=kernel_env)
    except NotebookExecutionError as error:
        result.error, result.error_cell = f"cell {error.cell_index} raised {error.ename}: {error.evalue}", \
            error.cell_index
    except Exception as error:  # noqa: BLE001 - a timeout, a dead kernel: this execution failed, not the caller
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        result.error = (f"a cell did not finish within {timeout} s (--timeout)" if isinstance(error, TimeoutError)
                        else f"the kernel stopped: {type(error).__name__}" + (f": {text}" if text else ""))
    result.seconds = time.perf_counter() - started
    result.run_ids = launched_runs(launch_id)
    return result


def launched_runs(launch_id: str) -> list[str]:
    """The ids of the runs tagged with this launch, oldest first."""
    import nbtrack

    frame = nbtrack.runs(filter=f"tags.`{LAUNCH_TAG}` = '{launch_id}'", order_by="start_time ASC")
    return [str(run_id) for run_id in frame["run_id"]]
