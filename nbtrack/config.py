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


STORE_DIR = ".nbtrack"
STORE_FILE = "nbtrack.db"


def _ceilings() -> list[str]:
    """Directories the upward search never enters (``NBTRACK_CEILING_DIRECTORIES``, like git's)."""
    value = os.environ.get("NBTRACK_CEILING_DIRECTORIES", "")
    return [os.path.realpath(p) for p in value.split(os.pathsep) if p]


def _parents(start: str):
    """``start`` and its parents, stopping at the filesystem root, a mount point or a ceiling."""
    ceilings = _ceilings()
    path = os.path.realpath(start)
    while True:
        yield path
        parent = os.path.dirname(path)
        if parent == path or os.path.ismount(path) or parent in ceilings:
            return
        path = parent


def find_store_dir(start: str | None = None) -> str | None:
    """The nearest ``.nbtrack/`` at or above ``start`` (default: cwd), or None.

    The search stops at the git root (a store outside the repository belongs to another project)
    and skips ``~/.nbtrack`` unless ``start`` is the home directory itself: a store made once in
    the home directory would otherwise swallow every project below it.
    """
    start = os.path.realpath(start or os.getcwd())
    home = os.path.realpath(os.path.expanduser("~"))
    for path in _parents(start):
        if os.path.isdir(os.path.join(path, STORE_DIR)) and (path != home or start == home):
            return os.path.join(path, STORE_DIR)
        if os.path.exists(os.path.join(path, ".git")):
            return None
    return None


def project_root(start: str | None = None) -> str:
    """Where a new store goes: the nearest git root at or above ``start``, else ``start`` itself."""
    start = os.path.realpath(start or os.getcwd())
    for path in _parents(start):
        if os.path.exists(os.path.join(path, ".git")):
            return path
    return _jupyter_root(start) or start


def _jupyter_root(cwd: str) -> str | None:
    """The Jupyter server's root directory, when a kernel can tell it.

    A kernel runs in its notebook's folder; jupyter_server passes the notebook path as
    ``JPY_SESSION_NAME``. Only a path relative to the server root reveals the root (strip the
    notebook's folder from the cwd); an absolute path or none (nbclient) tells nothing.
    """
    session = os.environ.get("JPY_SESSION_NAME") or ""
    if not session or os.path.isabs(session) or "://" in session:
        return None
    folder = os.path.dirname(os.path.normpath(session))
    if not folder or folder.startswith(".."):
        return None
    suffix = os.sep + folder
    return cwd[: -len(suffix)] if cwd.endswith(suffix) else None


def default_store_uri() -> str:
    """The discovered store (nearest ``.nbtrack/`` upwards), else one at the project root."""
    found = find_store_dir()
    directory = found or os.path.join(project_root(), STORE_DIR)
    return f"sqlite:///{os.path.join(directory, STORE_FILE)}"


def store_is_configured() -> bool:
    """Whether the store was chosen explicitly (``set_store`` or ``NBTRACK_STORE``), not discovered."""
    return bool(_explicit_uri or os.environ.get("NBTRACK_STORE"))


def store_uri() -> str:
    """The URI of the store this process writes to and reads from."""
    configured = os.environ.get("NBTRACK_STORE")
    if configured and "://" not in configured:  # a plain path is a SQLite file
        configured = f"sqlite:///{os.path.abspath(configured)}"
    return _explicit_uri or configured or default_store_uri()


def existing_store_uri() -> str:
    """``store_uri()`` for a reader: raises StoreUnavailableError instead of creating a new SQLite file."""
    from .errors import StoreUnavailableError

    uri = store_uri()
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        path = uri[len("sqlite:///"):].split("?", 1)[0]
        if not os.path.isfile(path):
            if store_is_configured():
                raise StoreUnavailableError(f"no nbtrack store at {path} (nothing recorded there yet)")
            raise StoreUnavailableError(
                f"no nbtrack store found: looked for {STORE_DIR}/{STORE_FILE} in {os.getcwd()} and its parents; "
                "run a tracked cell or script first, or pass --store / set NBTRACK_STORE")
    return uri


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
        if store is not None:
            return store
        store = _stores[key] = SqlStore(uri)
    from .flusher import FLUSHER

    if not store.read_only:  # a read-only client leaves the journals to a writer
        FLUSHER.replay_journals(store)  # what earlier processes left in the local journal
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
