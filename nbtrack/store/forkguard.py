"""Store connections across ``fork()`` (multiprocessing's fork start method, ``os.fork``).

SQLite keeps the lock state of every open database file (which connection holds which lock, in
the file and in the WAL index) in process memory that a forked child inherits, and the child's
own new connections share it. A child forked while a thread of the parent was inside a write
transaction sees that write lock held for ever: its ``BEGIN IMMEDIATE`` waits out the busy
timeout (60 s), then fails. A child forked while connections were merely open believes it holds
locks it does not hold, so the parent's last close may checkpoint and remove the WAL under it
(SQLite's "How to corrupt": never carry an open connection across a fork). So before a fork the
parent waits for the transactions its other threads have open (holding new ones back meanwhile,
at most :data:`WAIT_SECONDS`) and closes its idle SQLite connections; they reopen on next use.

A PostgreSQL connection is a socket shared with the child after the fork: the child must
neither use it (two processes on one session) nor close it (that ends the parent's session). In
the child every inherited store drops its pool without closing it (SQLAlchemy's
``engine.dispose(close=False)``), so a store object the child inherited opens its own
connections. Stores opened through :mod:`nbtrack.config` are per process anyway.

This module imports nothing heavy: the core imports it early so that its before-fork hook runs
after every other one (hooks run in the reverse order of registration), once background work
that may still read the store has finished.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Iterator, Protocol


class ForkAware(Protocol):
    def close_before_fork(self) -> None: ...

    def reset_after_fork_in_child(self) -> None: ...


WAIT_SECONDS = 10.0

_stores: "weakref.WeakSet[ForkAware]" = weakref.WeakSet()
_condition = threading.Condition()
_open = 0  # transactions open in this process, all threads
_forking = False
_depth = threading.local()  # .value: transactions open in this thread


def register(store: ForkAware) -> None:
    """Have ``store`` closed before and reset after each fork of this process."""
    _stores.add(store)


@contextmanager
def transaction() -> Iterator[None]:
    """Around each use of a store connection: a fork waits until it is over."""
    global _open
    depth = getattr(_depth, "value", 0)
    with _condition:
        while _forking and depth == 0:  # a thread already inside one finishes it first
            _condition.wait()
        _open += 1
    _depth.value = depth + 1
    try:
        yield
    finally:
        _depth.value = depth
        with _condition:
            _open -= 1
            _condition.notify_all()


def _before_fork() -> None:
    global _forking
    mine = getattr(_depth, "value", 0)
    deadline = time.monotonic() + WAIT_SECONDS
    with _condition:
        _forking = True
        while _open > mine and time.monotonic() < deadline:
            _condition.wait(deadline - time.monotonic())
        busy = _open - mine
    if busy:
        print(f"nbtrack: forking while {busy} store transaction(s) of other threads are still open after "
              f"{WAIT_SECONDS:.0f} s; the child may wait for locks it inherited.", file=sys.stderr)
    for store in list(_stores):
        store.close_before_fork()


def _after_fork_in_parent() -> None:
    global _forking
    with _condition:
        _forking = False
        _condition.notify_all()


def _after_fork_in_child() -> None:
    global _condition, _forking, _open
    _condition = threading.Condition()  # another thread may have held it at the fork
    _forking = False
    _open = getattr(_depth, "value", 0)  # only this thread exists here
    for store in list(_stores):
        store.reset_after_fork_in_child()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child)
