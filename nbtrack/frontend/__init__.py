"""Kernel side of the nbtrack JupyterLab extension's channel (comm target ``nbtrack``).

Used by the notebook layer:

- ``register(ip)`` / ``unregister(ip)``: from ``%load_ext`` / ``%unload_ext nbtrack``; a
  harmless no-op outside a Jupyter kernel (plain IPython, scripts).
- ``connected() -> bool``: a frontend with the extension has opened the channel.
- ``live_notebook(cell_id) -> dict | None``: ``{"path", "cell_id", "notebook"}`` pushed by
  the frontend right before the execution now running (unsaved edits included), else None.
- ``notify(message)``: send an envelope (``run_started`` / ``run_finished``) to every open
  frontend; a no-op without one.
- ``headline_metric(metrics) -> {"key", "value"} | None``: the metric badges show.

See docs/design.md ("Kernel <-> frontend channel") and docs/labextension.md.
"""

from __future__ import annotations

import logging
from typing import Any

from .channel import CHANNEL, PROTOCOL_VERSION, TARGET
from .handlers import handle
from .messages import headline_metric

__all__ = ["register", "unregister", "connected", "live_notebook", "notify", "headline_metric",
           "TARGET", "PROTOCOL_VERSION"]

log = logging.getLogger("nbtrack.frontend")


def _comm_manager(ip: Any) -> Any | None:
    """The kernel's comm manager, or None outside ipykernel (no kernel, no frontend)."""
    kernel = getattr(ip, "kernel", None)
    if kernel is None:
        return None
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        try:
            import comm

            manager = comm.get_comm_manager()
        except Exception:
            return None
    return manager if hasattr(manager, "register_target") else None


class _FinishedCells:
    """How many cells finished since the channel was registered (IPython's ``post_run_cell``).

    A snapshot carries this number when it arrives between two executions and counts only
    while it is unchanged: for the one execution that follows. ``shell.execution_count``
    cannot serve: IPython 8 moves it on after a cell, IPython 9 before.
    """

    def __init__(self) -> None:
        self.value = 0

    def __call__(self, *_: Any) -> None:
        self.value += 1


_COUNTERS: list[tuple[Any, _FinishedCells]] = []


def register(ip: Any = None) -> bool:
    """Register the ``nbtrack`` comm target; True when registered. Never raises."""
    try:
        if CHANNEL.registered:
            return True
        if ip is None:
            from IPython import get_ipython

            ip = get_ipython()
        manager = _comm_manager(ip)
        if manager is None:
            return False
        counter = _FinishedCells()
        events = getattr(ip, "events", None)
        if events is not None:
            events.register("post_run_cell", counter)
            _COUNTERS.append((events, counter))
        CHANNEL.register(manager, handle, (lambda: counter.value) if events is not None else None)
        return True
    except Exception:
        log.debug("nbtrack: could not register the frontend channel", exc_info=True)
        return False


def unregister(ip: Any = None) -> None:
    """Close open comms and remove the comm target. Never raises."""
    try:
        CHANNEL.unregister()
        while _COUNTERS:
            events, counter = _COUNTERS.pop()
            events.unregister("post_run_cell", counter)
    except Exception:
        log.debug("nbtrack: could not unregister the frontend channel", exc_info=True)


def connected() -> bool:
    return CHANNEL.connected()


def live_notebook(cell_id: str | None) -> dict | None:
    try:
        return CHANNEL.live_notebook(cell_id)
    except Exception:
        return None


def notify(message: dict) -> None:
    try:
        CHANNEL.notify(message)
    except Exception:
        log.debug("nbtrack: notify failed", exc_info=True)
