"""Read transactions for queries that come from a user: bounded in time, with nbtrack's errors.

Every statement of a ``user_query`` stops after ``NBTRACK_QUERY_TIMEOUT`` seconds (default 30;
0 means no limit): PostgreSQL through ``SET LOCAL statement_timeout``, SQLite through a progress
handler that interrupts the statement. Expiry is a :class:`QueryTimeoutError`; any other driver
error (a damaged file, a dropped connection) is a :class:`StoreUnavailableError` naming the store,
never a raw ``sqlite3``/``psycopg`` exception.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ..errors import QueryTimeoutError, StoreUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    from .sql import SqlStore

DEFAULT_QUERY_TIMEOUT = 30.0
PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between two looks at the clock


def query_timeout() -> float:
    """Seconds a user's query may run (``NBTRACK_QUERY_TIMEOUT``; 0 or less: no limit)."""
    text = os.environ.get("NBTRACK_QUERY_TIMEOUT", "").strip()
    try:
        return float(text) if text else DEFAULT_QUERY_TIMEOUT
    except ValueError:
        raise ValueError(f"NBTRACK_QUERY_TIMEOUT must be a number of seconds, got {text!r}") from None


def _driver_error(error: BaseException) -> BaseException | None:
    """The driver's exception behind ``error`` when it is one (SQLAlchemy wraps some, raw cursors don't)."""
    if isinstance(error, DBAPIError):
        return error.orig or error
    sqlite3 = sys.modules.get("sqlite3")
    psycopg = sys.modules.get("psycopg")
    if (sqlite3 and isinstance(error, sqlite3.Error)) or (psycopg and isinstance(error, psycopg.Error)):
        return error
    return None


def _message(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@contextmanager
def user_query(store: "SqlStore") -> Iterator[Connection]:
    """A read transaction whose statements are bounded by the query timeout."""
    seconds = query_timeout()
    expired = [False]
    with store.read() as connection:
        try:
            with _bounded(connection, seconds, expired):
                yield connection
        except Exception as error:
            driver = _driver_error(error)
            if driver is None:
                raise
            if expired[0] or getattr(driver, "sqlstate", None) == "57014":  # query_canceled
                raise QueryTimeoutError(seconds) from None
            raise StoreUnavailableError(f"cannot read {store.display_uri}: {_message(driver)}") from error


@contextmanager
def _bounded(connection: Connection, seconds: float, expired: list) -> Iterator[None]:
    if seconds <= 0:
        yield
        return
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
        yield
        return
    raw = connection.connection.driver_connection
    deadline = time.monotonic() + seconds

    def interrupt() -> int:
        if time.monotonic() > deadline:
            expired[0] = True
            return 1
        return 0

    raw.set_progress_handler(interrupt, PROGRESS_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)
