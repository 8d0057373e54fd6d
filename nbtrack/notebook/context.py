"""Where a run's code comes from, for runs not started by ``%%track``.

The notebook layer registers :func:`capture_source_context` with the core
(:mod:`nbtrack.source_context`), which calls it when a run starts. It records:

- in a notebook kernel: the notebook snapshot (``notebook`` document, ``notebook.py``
  artifact), the kernel's history and the ``nbtrack.notebook`` / ``nbtrack.cell`` tags;
- in the IPython terminal: the session history (``history`` document);
- in a script: nothing itself, the core records its path and source (``script`` document,
  ``source/<file>`` artifact).

``nbtrack.source`` is set to ``notebook``, ``ipython`` or ``script``. ``%%track`` records
all this itself, so the call is a no-op while ``%%track`` starts its run.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Iterator

_local = threading.local()


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """While active (in this thread), :func:`capture_source_context` does nothing."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


def _shell() -> Any | None:
    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import get_ipython

        return get_ipython()
    except Exception:
        return None


def _history_document(shell: Any) -> tuple[dict[str, Any], list]:
    """The ``history`` document and what was redacted from it."""
    from . import extension

    tracker = extension.current_tracker()
    if tracker is not None and tracker.shell is shell:
        return tracker.history.document()
    from ..secrets import redact_cached

    raw = shell.history_manager.input_hist_raw
    executions, redacted = [], []
    for count in range(1, len(raw)):
        source, found = redact_cached(raw[count])
        redacted.extend(found)
        executions.append({"execution_count": count, "source": source, "cell_id": None, "failed": False})
    return {"executions": executions}, redacted


def _notebook(run: Any, shell: Any) -> None:
    from . import extension, frontend_link
    from .snapshot import take_snapshot

    tracker = extension.current_tracker()
    current = tracker.history.current if tracker is not None and tracker.shell is shell else None
    cell_id = current.cell_id if current is not None else None
    raw_cell = current.raw_cell if current is not None else ""
    if tracker is not None and current is not None and current.store_history:
        from .history import current_execution_count

        tracker.history.note_current(current_execution_count(shell), cell_id)
    live = frontend_link.live_notebook(cell_id) if cell_id else None
    snapshot = take_snapshot(cell_id, raw_cell, shell.user_ns, live)
    tags = {"nbtrack.source": "notebook"}
    if snapshot.path:
        tags["nbtrack.notebook"] = snapshot.path
    if snapshot.cell_id:
        tags["nbtrack.cell"] = snapshot.cell_id
    run.set_tags(tags)
    run.set_document("notebook", snapshot.log(run))
    document, redacted = _history_document(shell)
    run.set_document("history", document, redacted=redacted)


def capture_notebook_context(run: Any) -> bool:
    """The notebook layer's source-context hook: record where ``run``'s code comes from in a
    notebook kernel or IPython (see the module docstring). False outside IPython (the core then
    records the script); True when handled or suppressed (``%%track`` records it itself)."""
    if getattr(_local, "depth", 0):
        return True
    shell = _shell()
    if shell is None:
        return False
    try:
        if getattr(shell, "kernel", None) is not None:
            _notebook(run, shell)
        else:
            run.set_tags({"nbtrack.source": "ipython"})
            document, redacted = _history_document(shell)
            run.set_document("history", document, redacted=redacted)
    except Exception as problem:  # the run goes on without its source context
        try:
            run.set_document("source_context_error", {"error": f"{type(problem).__name__}: {problem}"})
        except Exception:  # noqa: BLE001 - a run that cannot take a document still runs
            pass
    return True


def register() -> None:
    """Register :func:`capture_notebook_context` with the core (done when the layer is imported)."""
    from .. import source_context

    source_context.register(capture_notebook_context)


def capture_source_context(run: Any) -> None:
    """Record where ``run``'s code comes from, once per run (what the core does when a run
    starts). Never raises."""
    from .. import source_context

    register()
    source_context.capture(run)
