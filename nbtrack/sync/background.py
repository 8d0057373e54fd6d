"""Background mirroring: runs are written to the local store as always; a thread sends them on.

Configured by ``nbtrack.set_sync(uri, artifacts=None)`` or ``NBTRACK_SYNC_TO`` (and
``NBTRACK_SYNC_ARTIFACTS``). The first run started in a process starts one thread per local store,
which runs an incremental sync pass every ``NBTRACK_SYNC_INTERVAL`` seconds (default 5). Nothing of it
runs in the user's thread: a slow or absent team server never slows a cell. An unreachable team store
is reported once (and once when it is back). At exit, after the last local flush, one more pass runs
for at most ``NBTRACK_SYNC_EXIT_TIMEOUT`` seconds (default 10); what it could not send waits in the
local store for the next pass (any process syncing the same pair, or ``nbtrack sync --to``).

This module imports only the standard library at import time (a run's start imports it).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

_lock = threading.Lock()
_explicit: tuple[str, str | None] | None = None
_disabled = False
_syncers: dict[tuple[str, str], "BackgroundSync"] = {}
_hooked = False


def configure(uri: str | None, artifacts: str | None = None) -> None:
    """Mirror to ``uri`` from now on (``None``: stop mirroring in this process, whatever the environment says)."""
    global _explicit, _disabled
    with _lock:
        _explicit = (uri, artifacts) if uri else None
        _disabled = uri is None
        stopping = [s for key, s in _syncers.items() if uri is None or key[1] != uri]
    for syncer in stopping:
        syncer.stop()


def target() -> tuple[str, str | None] | None:
    """(team store URI, artifact URL) this process mirrors to, or None."""
    if _explicit is not None:
        return _explicit
    if _disabled:
        return None
    uri = os.environ.get("NBTRACK_SYNC_TO")
    return (uri, os.environ.get("NBTRACK_SYNC_ARTIFACTS") or None) if uri else None


def notice(local_uri: str) -> None:
    """A run starts on the store ``local_uri``: make sure it is mirrored (cheap when mirroring is off)."""
    wanted = target()
    if wanted is None:
        return
    key = (local_uri, wanted[0])
    with _lock:
        syncer = _syncers.get(key)
        if syncer is None or not syncer.alive():
            syncer = _syncers[key] = BackgroundSync(local_uri, *wanted)
            syncer.start()
    _hook_exit()


def _hook_exit() -> None:
    global _hooked
    if _hooked:
        return
    from ..flusher import FLUSHER

    FLUSHER.exit_hooks.append(finish_all)
    _hooked = True


def finish_all() -> None:
    """At exit, after the last local flush: one bounded pass per mirrored store, then one line if runs wait."""
    deadline = time.monotonic() + float(os.environ.get("NBTRACK_SYNC_EXIT_TIMEOUT", "10"))
    for syncer in list(_syncers.values()):
        syncer.finish(deadline)


class BackgroundSync:
    """One thread mirroring one local store to one team store."""

    def __init__(self, local_uri: str, target_uri: str, artifacts: str | None) -> None:
        self.local_uri, self.target_uri, self.artifacts = local_uri, target_uri, artifacts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.failing = False
        self.passes = 0
        self.last_report: Any = None
        self._stores: tuple[Any, Any] | None = None  # (local, team) stores, kept open between passes

    def _close(self) -> None:
        stores, self._stores = self._stores, None
        for store in stores or ():
            try:
                store.close()
            except Exception:
                pass

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="nbtrack-sync", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        interval = float(os.environ.get("NBTRACK_SYNC_INTERVAL", "5"))
        while not self._stop.wait(interval):
            self.run_once(deadline=None)

    def run_once(self, deadline: float | None) -> bool:
        """One pass; True when everything changed was sent. Failures are reported once, never raised."""
        from . import open_pair, sync_stores

        def should_stop() -> bool:
            return (deadline is not None and time.monotonic() > deadline) or (
                deadline is None and self._stop.is_set())

        try:
            if self._stores is None:
                self._stores = open_pair(self.local_uri, self.target_uri, self.artifacts)
            wait = 0.0 if deadline is None else max(0.0, deadline - time.monotonic())
            report = sync_stores(*self._stores, self.target_uri, wait=wait, should_stop=should_stop)
        except Exception as error:  # noqa: BLE001 - the team store is down, slow, refuses: say so once
            self._failed(error)
            self._close()
            return False
        self.passes += 1
        self.last_report = report
        if self.failing:
            self.failing = False
            print(f"nbtrack: syncing to the team store {report.target} again.", file=sys.stderr)
        return report.complete

    def _failed(self, error: BaseException) -> None:
        if self.failing:
            return
        self.failing = True
        from ..store.sql import redact_uri

        message = (str(error).splitlines() or [type(error).__name__])[0]
        print(f"nbtrack: cannot sync to the team store {redact_uri(self.target_uri)} ({message}). Your code keeps "
              f"running; runs are kept in the local store and sent when it answers.", file=sys.stderr)

    def finish(self, deadline: float) -> None:
        """Stop the thread, then send what the last flush wrote (until ``deadline``)."""
        if self._pid != os.getpid():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() < deadline and self.run_once(deadline):
            return
        from ..store.sql import redact_uri

        print(f"nbtrack: not every run is in the team store {redact_uri(self.target_uri)} yet; they wait in the "
              f"local store and go with the next sync (`nbtrack sync --to {redact_uri(self.target_uri)}`, or any "
              "process started with NBTRACK_SYNC_TO).", file=sys.stderr)


def _after_fork_in_child() -> None:  # threads do not survive a fork; the parent's syncers are not ours
    global _lock
    _lock = threading.Lock()
    _syncers.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
