"""What every dashboard view shares: guarded callbacks and quiet programmatic updates."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator


class ViewHelpers:
    """Mixin for views that set ``self._report_error`` (a callable taking the error)."""

    _syncing = False

    def _guard(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a widget callback: an error is shown in the view, never crashes the widget."""
        def guarded(*args: Any) -> Any:
            try:
                return callback(*args)
            except Exception as error:
                self._report_error(error)
        return guarded

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Programmatic widget updates: their observers must not write back to the state."""
        previous, self._syncing = self._syncing, True
        try:
            yield
        finally:
            self._syncing = previous
