"""Write statements compiled once per store and executed as driver SQL.

A run's write transaction is a dozen small statements; going through SQLAlchemy's Core execution
for each (building the statement, its cache key, per-row parameter processing) cost more than
SQLite itself. Each statement here is compiled once for the store's dialect and run with
``exec_driver_sql``, which still wraps driver errors (an ``IntegrityError`` stays one: salvage
relies on it). A statement whose compiled form needs a value the rows do not carry (a column
default SQLAlchemy would fill in) is refused here, and the caller uses SQLAlchemy instead.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


class CompiledWrite:
    """One DML statement compiled for a dialect, with the row keys its parameters take."""

    def __init__(self, statement: Any, dialect: Any, column_keys: Sequence[str]) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys))
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ()) if self.positional else \
            tuple(compiled.binds)
        self.usable = set(self.names) <= set(column_keys) and not compiled.literal_execute_params

    def execute(self, connection: Connection, rows: list[dict]) -> None:
        """Run the statement once per row (one executemany); rows of another shape go through SQLAlchemy."""
        names = self.names
        try:
            if not self.usable:
                raise KeyError(names)
            if self.positional:
                parameters: list = [tuple(row[name] for name in names) for row in rows]
            else:
                parameters = [{name: row[name] for name in names} for row in rows]
        except KeyError:
            connection.execute(self.statement, rows)
            return
        connection.exec_driver_sql(self.sql, parameters)


@contextmanager
def cursor_of(connection: Connection) -> Iterator[Any]:
    """The driver's own cursor on ``connection`` (for hot paths), whose errors are raised as
    SQLAlchemy's, as ``exec_driver_sql`` raises them: the store and salvage tell a transient error
    (``OperationalError``: kept and written later) from a permanent one (``IntegrityError``) by them."""
    dialect = connection.dialect
    base = dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except base as error:
        statement = getattr(cursor, "query", None) or getattr(error, "statement", None)
        raise DBAPIError.instance(statement if isinstance(statement, str) else None, None, error, base,
                                  dialect=dialect) from error
    finally:
        cursor.close()


def now_sql(dialect: str) -> str:
    """The database's clock as seconds since the epoch (the SQL of ``SqlStore.now``)."""
    if dialect == "postgresql":
        return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS FLOAT)"
    return "((julianday('now') - 2440587.5) * 86400.0)"


def marker(dialect: str) -> str:
    """The driver's parameter marker."""
    return "%s" if dialect == "postgresql" else "?"


def ids_condition(dialect: str) -> str:
    """A WHERE fragment matching run_id against one bound list (see :func:`ids_parameter`)."""
    if dialect == "postgresql":
        return "run_id = ANY(%s)"
    return "run_id IN (SELECT value FROM json_each(?))"


def ids_parameter(dialect: str, run_ids: list[str]) -> Any:
    """The one bound value of :func:`ids_condition` (an array, or a JSON list for SQLite)."""
    return run_ids if dialect == "postgresql" else json.dumps(run_ids)
