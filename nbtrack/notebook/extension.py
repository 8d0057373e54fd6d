"""``%load_ext nbtrack`` / ``%unload_ext nbtrack`` (called from ``nbtrack/__init__.py``)."""

from __future__ import annotations

import threading
from typing import Any

from . import frontend_link
from .magics import TrackMagics
from .tracker import CellTracker

_loaded: dict[int, tuple[TrackMagics, CellTracker]] = {}
# the tracker of each shell outlives %unload_ext / %reload_ext: the cell ids and failures it
# recorded, and the last run of each cell, are still true of this kernel after a reload
_trackers: dict[int, CellTracker] = {}


def current_tracker() -> CellTracker | None:
    """The tracker of the (single) shell nbtrack is loaded in, if any."""
    for _, tracker in _loaded.values():
        return tracker
    return None


def _warm_up(user_ns: dict) -> None:
    """Import what the first tracked cell needs, off the user's critical path. Not jupytext: its
    nbformat import pulls in jsonschema (seconds of CPU on some machines), which would compete
    with the first cells of a Run All; the snapshot's ``notebook.py`` is rendered after the cell,
    in the background. (The package scan and SQLAlchemy are ``nbtrack.environment.prewarm``'s.)"""
    from ..run import _capturing

    try:
        import nbtrack.run  # noqa: F401
    except Exception:
        pass
    finally:
        _capturing.discard(threading.current_thread())


def load(ip: Any) -> None:
    """Register ``%%track`` and ``%nbtrack`` and, when present, the JupyterLab channel."""
    if id(ip) in _loaded:
        return
    tracker = _trackers.get(id(ip))
    if tracker is None or tracker.shell is not ip:
        tracker = _trackers[id(ip)] = CellTracker(ip)
    tracker.start()
    magics = TrackMagics(ip, tracker)
    ip.register_magics(magics)
    _loaded[id(ip)] = (magics, tracker)
    frontend_link.register(ip)
    from ..run import _capturing

    thread = threading.Thread(target=_warm_up, args=(ip.user_ns,), name="nbtrack-warm-up", daemon=True)
    _capturing.add(thread)  # a fork waits for it: a child must not inherit a half-done import
    thread.start()


def unload(ip: Any) -> None:
    """Remove the magics, the hooks, the settings object and the channel."""
    entry = _loaded.pop(id(ip), None)
    if entry is None:
        return
    magics, tracker = entry
    tracker.stop()
    manager = ip.magics_manager
    for kind, name in (("cell", "track"), ("line", "nbtrack")):
        function = manager.magics[kind].get(name)
        if getattr(function, "__self__", None) is magics:
            del manager.magics[kind][name]
    if manager.registry.get(type(magics).__name__) is magics:
        del manager.registry[type(magics).__name__]
    if magics in ip.configurables:
        ip.configurables.remove(magics)
    frontend_link.unregister(ip)
