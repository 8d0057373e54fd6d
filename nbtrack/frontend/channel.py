"""The kernel end of the ``nbtrack`` comm: open comms, live notebook snapshots, notify.

One ``Channel`` per kernel process (module-level ``CHANNEL``). The frontend opens a new comm
right before each tracked cell's execute_request and pushes ``cell_scheduled`` on it, so by
the time the cell runs its snapshot is here, keyed by cell id. A snapshot counts only for
the execution that follows it: it is stamped with the shell's execution count when it
arrives, and an older one is never taken for a later run. Each frontend (``hello.client``)
keeps one open comm: a newer one closes the older. Nothing here raises into user code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

log = logging.getLogger("nbtrack.frontend")

TARGET = "nbtrack"
PROTOCOL_VERSION = 2  # 2: hello.client (one comm per frontend); snapshots for the next execution only
MAX_SNAPSHOTS = 32  # bounded: one per recently scheduled %%track cell

Handler = Callable[["Channel", Any, dict], None]
Counter = Callable[[], Any]  # the shell's execution count (the next or the running cell's)


class Channel:
    """Open comms and the snapshots they delivered. Thread-safe; never raises to callers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._comms: dict[str, Any] = {}  # comm_id -> comm
        self._paths: dict[str, str] = {}  # comm_id -> notebook path from `hello`
        self._clients: dict[str, str] = {}  # comm_id -> frontend client id from `hello`
        self._snapshots: OrderedDict[str, dict] = OrderedDict()  # cell_id -> snapshot
        self._manager: Any = None
        self._handler: Handler | None = None
        self._counter: Counter | None = None

    # ------------------------------------------------------------------ registration
    def register(self, manager: Any, handler: Handler, execution_count: Counter | None = None) -> None:
        """Listen on the comm target. ``execution_count`` (the shell's) ties each snapshot to
        the execution that follows it; without it a cell's last snapshot is always used."""
        self._handler = handler
        self._counter = execution_count
        self._manager = manager
        manager.register_target(TARGET, self._on_open)

    def unregister(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            try:
                manager.unregister_target(TARGET, self._on_open)
            except Exception:  # already gone
                log.debug("nbtrack: unregister_target failed", exc_info=True)
        with self._lock:
            comms = list(self._comms.values())
            self._comms.clear()
            self._paths.clear()
            self._clients.clear()
            self._snapshots.clear()
        for comm in comms:
            try:
                comm.close()
            except Exception:
                log.debug("nbtrack: closing comm failed", exc_info=True)

    @property
    def registered(self) -> bool:
        return self._manager is not None

    # ------------------------------------------------------------------ comm events
    def _on_open(self, comm: Any, msg: dict) -> None:
        with self._lock:
            self._comms[comm.comm_id] = comm
        comm.on_msg(lambda m, c=comm: self._on_msg(c, m))
        comm.on_close(lambda m, c=comm: self._on_close(c))
        data = _data(msg)
        if data:  # the open message may carry a `hello`
            self._dispatch(comm, data)

    def _on_msg(self, comm: Any, msg: dict) -> None:
        self._dispatch(comm, _data(msg))

    def _on_close(self, comm: Any) -> None:
        with self._lock:
            self._comms.pop(comm.comm_id, None)
            self._paths.pop(comm.comm_id, None)
            self._clients.pop(comm.comm_id, None)

    def _dispatch(self, comm: Any, data: dict) -> None:
        try:
            if self._handler is not None:
                self._handler(self, comm, data)
        except Exception as exc:  # a handler bug must never reach the user's cell
            log.warning("nbtrack: frontend message %r failed: %s", data.get("type"), exc,
                        exc_info=True)

    # ------------------------------------------------------------------ state used by handlers
    def set_path(self, comm: Any, path: str) -> None:
        with self._lock:
            self._paths[comm.comm_id] = path

    def path_of(self, comm: Any) -> str | None:
        with self._lock:
            return self._paths.get(comm.comm_id)

    def claim(self, comm: Any, client: str) -> None:
        """``comm`` is now ``client``'s channel: close that client's older comms (whatever they
        carried was handled before this comm's open, which the shell processes in order)."""
        with self._lock:
            self._clients[comm.comm_id] = client
            older = [self._comms[cid] for cid, owner in self._clients.items()
                     if owner == client and cid != comm.comm_id and cid in self._comms]
        for old in older:
            try:
                old.close()  # its on_close callback forgets it
            except Exception:
                log.debug("nbtrack: closing a superseded comm failed", exc_info=True)
            self._on_close(old)

    def _execution_count(self) -> Any:
        try:
            return self._counter() if self._counter is not None else None
        except Exception:
            return None

    def store_snapshot(self, cell_id: str, path: str, notebook: dict) -> None:
        snapshot = {"path": path, "cell_id": cell_id, "notebook": notebook,
                    "received": time.time(), "execution_count": self._execution_count()}
        with self._lock:
            self._snapshots.pop(cell_id, None)
            self._snapshots[cell_id] = snapshot
            while len(self._snapshots) > MAX_SNAPSHOTS:
                self._snapshots.popitem(last=False)

    # ------------------------------------------------------------------ public API
    def connected(self) -> bool:
        with self._lock:
            return bool(self._comms)

    def live_notebook(self, cell_id: str | None) -> dict | None:
        """The snapshot pushed for ``cell_id`` right before the execution now running, or None
        (none pushed, or pushed before an earlier execution: that one is not this run's)."""
        if not cell_id:
            return None
        with self._lock:
            snap = self._snapshots.get(cell_id)
        if snap is None:
            return None
        stamped, now = snap["execution_count"], self._execution_count()
        if stamped is not None and now is not None and stamped != now:
            return None
        return {"path": snap["path"], "cell_id": snap["cell_id"], "notebook": snap["notebook"]}

    def notify(self, message: dict) -> None:
        with self._lock:
            comms = list(self._comms.values())
        for comm in comms:
            send(comm, message)


def send(comm: Any, message: dict) -> None:
    """Send one envelope on one comm; a failed send is logged, never raised."""
    try:
        comm.send(message)
    except Exception:
        log.debug("nbtrack: comm send failed", exc_info=True)


def _data(msg: Any) -> dict:
    try:
        data = msg["content"]["data"]
    except (KeyError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


CHANNEL = Channel()
