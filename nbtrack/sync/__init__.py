"""Local first, then the team store: copy runs between two stores, once or in the background.

- ``sync_to(uri)``: the local store's runs (SQLite and its artifact blobs) into a team store;
- ``sync_from(uri, experiments=, filter=)``: a team store's runs into the local store, for offline work;
- ``set_sync(uri)`` / ``NBTRACK_SYNC_TO``: runs are written locally as usual and mirrored to ``uri`` by a
  background thread, so a slow or absent team server never slows the code being tracked.

Incremental: each pair of stores has a cursor in the local store (see ``cursor``), and a pass sends
only runs changed since, and of those only the points, edits, documents and blobs the other store
lacks. Resumable: every write is idempotent and the cursor moves after each committed chunk, so a
pass killed at any point is completed by the next one, with nothing stored twice. Safe from many
machines at once: a run is written by the machine that ran it; edits of names and the deleted flag
carry their time and the later one wins everywhere, tags too (each tag value carries the time it was
set); notes are appended once each. What is not synced: experiment renames (runs keep the experiment
name they had when first sent) and ``nbtrack gc`` purges (each store purges its own deleted runs).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:  # pragma: no cover - imported on first use: a run's start imports nbtrack.sync.background
    from .engine import SyncReport

__all__ = ["sync_to", "sync_from", "set_sync", "SyncReport"]


def __getattr__(name: str) -> Any:
    if name == "SyncReport":
        from .engine import SyncReport

        return SyncReport
    raise AttributeError(f"module 'nbtrack.sync' has no attribute {name!r}")


def _open(uri: str, artifacts: str | None = None):
    from ..store.sql import SqlStore

    if "://" not in uri:
        uri = f"sqlite:///{os.path.abspath(uri)}"
    return SqlStore(uri, artifact_root=artifacts)


def _local_store(uri: str | None):
    from .. import config

    return _open(uri or config.existing_store_uri())


def sync_to(uri: str, *, artifacts: str | None = None, experiments: Sequence[str] | None = None,
            filter: str | None = None, local: str | None = None, wait: float | None = None,
            should_stop: Callable[[], bool] = lambda: False,
            progress: Callable[["SyncReport"], None] | None = None) -> "SyncReport":
    """Copy the local store's runs (those changed since the last sync to ``uri``) into the store at ``uri``.

    ``artifacts`` is where the target keeps artifact blobs (recorded in it for every client when it
    records none); ``experiments``/``filter`` restrict which runs go; ``local`` names the local store
    (default: the current one); ``wait``: seconds to wait for another sync of the same pair on this
    machine (None: as long as it takes). Returns a SyncReport.
    """
    source, target = open_pair(local, uri, artifacts)
    try:
        return sync_stores(source, target, uri, experiments=experiments, filter=filter, wait=wait,
                           should_stop=should_stop, progress=progress)
    finally:
        target.close()
        source.close()


def open_pair(local: str | None, uri: str, artifacts: str | None):
    """(local store, team store) for ``sync_to``; the team store's artifact location checked."""
    source = _local_store(local)
    try:
        target = _open(uri, _target_artifacts(uri, artifacts))
    except BaseException:
        source.close()
        raise
    try:
        _check_artifact_location(source, target, artifacts)
    except BaseException:
        source.close()
        target.close()
        raise
    return source, target


def sync_stores(source, target, uri: str, *, experiments: Sequence[str] | None = None, filter: str | None = None,
                wait: float | None = None, should_stop: Callable[[], bool] = lambda: False,
                progress: Callable[["SyncReport"], None] | None = None) -> "SyncReport":
    """``sync_to`` on stores already open (the background thread keeps them open)."""
    return _pass(source, target, source, "to", uri, experiments, filter, wait, should_stop, progress)


def sync_from(uri: str, *, artifacts: str | None = None, experiments: Sequence[str] | None = None,
              filter: str | None = None, local: str | None = None, wait: float | None = None,
              should_stop: Callable[[], bool] = lambda: False,
              progress: Callable[["SyncReport"], None] | None = None) -> "SyncReport":
    """Copy the runs of the store at ``uri`` (those of ``experiments`` matching ``filter``, changed since
    the last sync from it) into the local store, artifacts included, for offline work."""
    source = _open(uri, artifacts)
    target = _local_store(local) if local or _local_exists() else _open(_new_local_uri())
    try:
        return _pass(source, target, target, "from", uri, experiments, filter, wait, should_stop, progress)
    finally:
        target.close()
        source.close()


def _pass(source, target, local, direction, peer, experiments, filter, wait, should_stop, progress) -> "SyncReport":
    from . import cursor
    from .engine import SyncReport, run_pass

    experiments = list(experiments) if experiments else None
    key = cursor.peer_key(direction, peer, (experiments or [], filter or ""))
    with cursor.exclusive(key, local.uri, wait) as mine:
        if not mine:
            report = SyncReport(source.display_uri, target.display_uri)
            report.complete = False
            return report
        return run_pass(source, target, local, key, experiments=experiments, filter=filter,
                        should_stop=should_stop, progress=progress)


def _target_artifacts(uri: str, artifacts: str | None) -> str | None:
    return artifacts or os.environ.get("NBTRACK_ARTIFACTS") or None


def _check_artifact_location(source, target, artifacts: str | None) -> None:
    """A team store keeps its artifacts where it says; blobs must not land in this machine's cwd."""
    recorded = target.recorded_artifact_root()
    if artifacts and recorded and artifacts.rstrip("/") != recorded.rstrip("/"):
        from ..objectstore import redact_url

        raise ValueError(f"{target.display_uri} keeps its artifacts at {redact_url(recorded)}, not "
                         f"{redact_url(artifacts)}: leave out --artifacts, or pass that URL")
    if artifacts and not recorded:
        from ..errors import StoreReadOnlyError

        try:
            target.record_artifact_root(artifacts)
        except StoreReadOnlyError:  # the owner records it (nbtrack db upgrade --artifacts); this sync goes on
            pass
        return
    if target.dialect != "sqlite" and not (artifacts or recorded or os.environ.get("NBTRACK_ARTIFACTS")):
        from sqlalchemy import select

        from ..store import schema as s

        with source.read() as connection:
            if connection.execute(select(s.artifacts.c.run_id).limit(1)).first() is not None:
                raise ValueError(
                    f"{target.display_uri} records no artifact location and the runs have artifacts: pass "
                    "--artifacts URL (e.g. s3://bucket/prefix; recorded in the store for every teammate) "
                    "or set NBTRACK_ARTIFACTS")


def _local_exists() -> bool:
    from .. import config
    from ..errors import StoreUnavailableError

    try:
        config.existing_store_uri()
        return True
    except StoreUnavailableError:
        return False


def _new_local_uri() -> str:
    from .. import config

    return config.store_uri()


def set_sync(uri: str | None, artifacts: str | None = None) -> None:
    """Mirror this process's local store to ``uri`` in the background (``None`` stops it).

    Same as setting ``NBTRACK_SYNC_TO`` (and ``NBTRACK_SYNC_ARTIFACTS``) before starting Python.
    """
    from . import background

    background.configure(uri, artifacts)
