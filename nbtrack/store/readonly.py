"""Opening a store read-only: the database itself refuses every write of this client.

``NBTRACK_READ_ONLY=1`` (or ``SqlStore(uri, read_only=True)``) opens SQLite with
``mode=ro`` and starts every PostgreSQL session with ``default_transaction_read_only=on``, so
an edit, a logged point or a schema change fails in the database, whatever code asked for it.
``nbtrack ui`` sets it for the kernels that serve its page. A read-only client neither creates
nor upgrades a schema, and leaves marking stale runs KILLED to the writers. On a shared
PostgreSQL store a role without write grants (docs/team.md) is the stronger guarantee: a
session can turn ``default_transaction_read_only`` off again, a role cannot grant itself rights.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

READ_ONLY_ENV = "NBTRACK_READ_ONLY"
PG_READ_ONLY_OPTION = "-c default_transaction_read_only=on"


def read_only_requested() -> bool:
    """Whether ``NBTRACK_READ_ONLY`` asks this process to open its stores read-only."""
    return os.environ.get(READ_ONLY_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def sqlite_read_only_url(path: str) -> str:
    """The SQLAlchemy URL that opens the SQLite file at ``path`` with ``mode=ro``.

    SQLite still creates the WAL's ``-shm``/``-wal`` beside the file when they are missing and
    the directory is writable; it never writes the database.
    """
    return f"sqlite:///file:{quote(os.path.abspath(path))}?mode=ro&uri=true"


def postgres_read_only_args(connect_args: dict[str, Any]) -> dict[str, Any]:
    """``connect_args`` for psycopg with every transaction of the session read-only."""
    options = str(connect_args.get("options", "")).strip()
    return {**connect_args, "options": f"{options} {PG_READ_ONLY_OPTION}".strip()}


def write_refused(display_uri: str) -> Exception:
    """The error of a write through a store opened read-only."""
    from ..errors import StoreReadOnlyError

    return StoreReadOnlyError(f"cannot write to {display_uri}: this client opened it read-only "
                                 f"({READ_ONLY_ENV}=1 or read_only=True); nothing was written")


def check_schema(store: Any) -> tuple[int, int]:
    """The read-only open: the store must exist with this nbtrack's schema (nothing is created or
    upgraded). Returns (version found, version now), as ``SqlStore._ensure_schema`` does."""
    from ..errors import StoreUnavailableError, StoreVersionError
    from . import migrations
    from . import schema as s

    with store.read() as connection:
        version = migrations.stored_version(connection, store.display_uri)
    if version is None:
        raise StoreUnavailableError(f"{store.display_uri} holds no nbtrack store (opened read-only: "
                                    "nothing is created)")
    if version > s.SCHEMA_VERSION:
        raise StoreVersionError(f"{store.display_uri} was written by a newer nbtrack (schema v{version}; this one "
                                f"knows v{s.SCHEMA_VERSION}): upgrade with `pip install -U nbtrack`")
    if version < s.SCHEMA_VERSION:
        raise StoreVersionError(f"{store.display_uri} has schema v{version} and this nbtrack needs "
                                f"v{s.SCHEMA_VERSION}; a read-only client cannot upgrade it: run "
                                f"`nbtrack db upgrade {store.display_uri}` with a role that may write")
    return version, version
