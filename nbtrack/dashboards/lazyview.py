"""Views in a tab that is not on screen put their work off until it is shown."""

from __future__ import annotations


class LazyView:
    """Mixin: ``request()`` redraws now when the view is shown (``active``), else when it
    next becomes active. The dashboard sets ``active`` from the selected tab; a view used
    on its own is active from the start."""

    _active = True
    _stale = False

    @property
    def active(self) -> bool:
        return self._active

    @active.setter
    def active(self, value: bool) -> None:
        self._active = bool(value)
        if self._active and self._stale:
            self._stale = False
            self.refresh_view()

    def request(self) -> None:
        """Redraw now if shown, else mark the view stale."""
        if self._active:
            self._stale = False
            self.refresh_view()
        else:
            self._stale = True

    def refresh_view(self) -> None:  # pragma: no cover - every view defines it
        raise NotImplementedError
