"""Which store this process uses: ``set_store(uri)``, else ``NBTRACK_STORE``, else a SQLite file."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .store.sql import SqlStore

DEFAULT_EXPERIMENT = "default"

_lock = threading.Lock()
_explicit_uri: str | None = None
_stores: dict[tuple[str, str | None, int], "SqlStore"] = {}


def _after_fork_in_child() -> None:  # a lock held by another thread at fork time would never be released
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def default_store_uri() -> str:
    return f"sqlite:///{os.path.join(os.getcwd(), '.nbtrack', 'nbtrack.db')}"


def store_uri() -> str:
    """The URI of the store this process writes to and reads from."""
    configured = os.environ.get("NBTRACK_STORE")
    if configured and "://" not in configured:  # a plain path is a SQLite file
        configured = f"sqlite:///{os.path.abspath(configured)}"
    return _explicit_uri or configured or default_store_uri()


def set_store(uri: str | os.PathLike | None) -> None:
    """Use the store at ``uri`` from now on (``None`` goes back to NBTRACK_STORE or the default).

    A path to a file is taken as a SQLite database.
    """
    global _explicit_uri
    if uri is not None:
        uri = os.fspath(uri)
        if "://" not in uri:
            uri = f"sqlite:///{os.path.abspath(uri)}"
    with _lock:
        _explicit_uri = uri


def get_store() -> "SqlStore":
    """The (cached) store object for the current URI and artifact root."""
    return store_for(store_uri())


def store_is_open(uri: str) -> bool:
    """Whether ``store_for(uri)`` would return at once (the store was opened before)."""
    return (uri, os.environ.get("NBTRACK_ARTIFACTS"), os.getpid()) in _stores


def store_for(uri: str) -> "SqlStore":
    """The (cached) store object for ``uri``; raises StoreUnavailableError if it cannot be opened."""
    from .store.sql import SqlStore

    # per process: a forked child must not use the connections it inherited from its parent
    key = (uri, os.environ.get("NBTRACK_ARTIFACTS"), os.getpid())
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = SqlStore(uri)
        return store


_default_experiment: str | None = None


def set_experiment(name: str | None) -> None:
    """Runs started without an experiment go to ``name`` (``None``: NBTRACK_EXPERIMENT or 'default')."""
    global _default_experiment
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError(f"experiment name must be a non-empty string, got {name!r}")
    if name is not None:
        from .values import check_name

        check_name("experiment name", name.strip())
    _default_experiment = name.strip() if name else None


def default_experiment() -> str:
    return _default_experiment or os.environ.get("NBTRACK_EXPERIMENT") or DEFAULT_EXPERIMENT
