"""What the dashboard does to one run (the detail panel's buttons): tag, rename, note, delete,
restore, check out its notebook. Each says how it went in ``message`` and reloads the table;
a failure is said, never raised.
"""

from __future__ import annotations

import os
from typing import Any


def _api() -> Any:
    import nbtrack

    return nbtrack


class RunActions:
    """Mixin of ``DashboardState``: needs ``message``, ``message_is_error``, ``selected`` and ``reload``."""

    def _refuse_if_read_only(self) -> bool:
        """True (and says so) when this dashboard may not change runs or write files."""
        if getattr(self, "read_only", False):
            self.message, self.message_is_error = "this dashboard is read-only: runs cannot be changed here", True
            return True
        return False

    def _act(self, done: str, call: Any, *args: Any) -> bool:
        if self._refuse_if_read_only():
            return False
        try:
            call(*args)
        except Exception as error:  # shown inline; the dashboard keeps working
            self.message, self.message_is_error = f"{type(error).__name__}: {error}", True
            return False
        self.message, self.message_is_error = done, False
        self.reload(full=True)
        return True

    def tag(self, run_id: str, text: str) -> bool:
        """Set tags from ``"key=value, key2=value2"``."""
        tags = {}
        for part in [p.strip() for p in text.split(",") if p.strip()]:
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                self.message = f"tags are key=value pairs separated by commas, not {part!r}"
                self.message_is_error = True
                return False
            tags[key.strip()] = value.strip()
        if not tags:
            self.message, self.message_is_error = "type tags as key=value", True
            return False
        return self._act(f"tagged {run_id[:8]} with {', '.join(tags)}", _api().tag_run, run_id, tags)

    def rename(self, run_id: str, name: str) -> bool:
        if not name.strip():
            self.message, self.message_is_error = "a run name cannot be empty", True
            return False
        return self._act(f"renamed {run_id[:8]} to {name.strip()!r}", _api().rename_run, run_id, name.strip())

    def note(self, run_id: str, text: str) -> bool:
        if not text.strip():
            self.message, self.message_is_error = "the note is empty", True
            return False
        return self._act(f"added a note to {run_id[:8]}", _api().note_run, run_id, text)

    def delete(self, run_id: str) -> bool:
        ok = self._act(f"deleted {run_id[:8]} (restore it with 'show deleted')", _api().delete_run, run_id)
        if ok and run_id in self.selected:
            self.selected = [r for r in self.selected if r != run_id]
        return ok

    def restore(self, run_id: str) -> bool:
        return self._act(f"restored {run_id[:8]}", _api().restore_run, run_id)

    def checkout(self, run_id: str, path: str | None = None) -> bool:
        """Rebuild the run's notebook next to the current one (the notebook layer's checkout)."""
        if self._refuse_if_read_only():
            return False
        try:
            from nbtrack.notebook.checkout import checkout
        except Exception as error:
            self.message, self.message_is_error = f"checkout is not available: {error}", True
            return False
        try:
            written = checkout(run_id, path or _current_notebook_dir())
        except Exception as error:
            self.message, self.message_is_error = f"{type(error).__name__}: {error}", True
            return False
        self.message, self.message_is_error = f"checked out {run_id[:8]} to {written}", False
        return True


def _current_notebook_dir() -> str | None:
    """The directory of the notebook this kernel runs (None when unknown: the current directory)."""
    try:
        from IPython import get_ipython

        from nbtrack.notebook.snapshot import locate_notebook

        shell = get_ipython()
        path, _ = locate_notebook(shell.user_ns if shell is not None else {})
    except Exception:
        return None
    return os.path.dirname(path) if path else None
