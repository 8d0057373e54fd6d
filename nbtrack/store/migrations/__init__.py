"""Versioned schema migrations: one module per step, applied in order inside one transaction.

A module ``vNNNN_<what>.py`` upgrades a store from schema ``NNNN - 1`` to ``NNNN``. It holds

- ``FROM_VERSION``: the version it upgrades from (``NNNN - 1``; checked against the file name),
- ``upgrade(connection)``: the change, on a SQLAlchemy ``Connection`` inside the caller's
  transaction (PostgreSQL and SQLite both roll DDL back with it), for both dialects.

``schema.py`` describes the newest schema (a new store is created from it directly) and
``schema.SCHEMA_VERSION`` is the newest version: the last module's target. To add a step,
see "Schema migrations" in docs/design.md.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ...errors import StoreVersionError
from .. import schema as s

_MODULE_NAME = re.compile(r"^v(\d{4})_[a-z0-9_]+$")


@dataclass(frozen=True)
class Migration:
    """One step: ``upgrade`` takes a store from ``from_version`` to ``from_version + 1``."""

    from_version: int
    name: str
    upgrade: Callable[[Connection], None]

    @property
    def to_version(self) -> int:
        return self.from_version + 1


@lru_cache(maxsize=1)
def all_migrations() -> tuple[Migration, ...]:
    """Every migration of this package, in order; raises if the chain has a gap or a wrong name."""
    found = []
    for module_info in pkgutil.iter_modules(__path__):
        match = _MODULE_NAME.match(module_info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        target = int(match.group(1))
        if module.FROM_VERSION != target - 1:
            raise RuntimeError(f"migration {module_info.name} says FROM_VERSION = {module.FROM_VERSION}; "
                               f"its name says it upgrades from {target - 1}")
        found.append(Migration(module.FROM_VERSION, module_info.name, module.upgrade))
    found.sort(key=lambda m: m.from_version)
    for previous, following in zip(found, found[1:]):
        if following.from_version != previous.to_version:
            raise RuntimeError(f"migrations jump from {previous.name} to {following.name}")
    if found and found[-1].to_version != s.SCHEMA_VERSION:
        raise RuntimeError(f"the last migration ({found[-1].name}) reaches v{found[-1].to_version} but "
                           f"schema.SCHEMA_VERSION is {s.SCHEMA_VERSION}")
    return tuple(found)


def pending(version: int) -> list[Migration]:
    """The migrations that take a store at ``version`` to ``schema.SCHEMA_VERSION``."""
    return [m for m in all_migrations() if m.from_version >= version]


def stored_version(connection: Connection, where: str) -> int | None:
    """The schema version recorded in the database, or None for an empty database.

    ``where`` names the store in messages. Raises StoreVersionError for a database holding
    nbtrack-like tables without a version row.
    """
    tables = set(connection.dialect.get_table_names(connection))
    if s.meta.name not in tables:
        if tables & {"runs", "experiments"}:
            raise StoreVersionError(f"{where} has nbtrack-like tables but no schema version; "
                                    "point nbtrack at an empty database or a store it created")
        return None
    value = connection.execute(select(s.meta.c.value).where(s.meta.c.key == "schema_version")).scalar()
    if value is None or not str(value).isdigit():
        raise StoreVersionError(f"{where} has an nbtrack_meta table without a valid schema_version row "
                                f"({value!r}); restore it from a backup")
    return int(value)


def create(connection: Connection) -> None:
    """Create the newest schema in an empty database."""
    s.metadata.create_all(connection)
    connection.execute(s.meta.insert().values(key="schema_version", value=str(s.SCHEMA_VERSION)))


def upgrade(connection: Connection, version: int) -> int:
    """Apply every pending migration to a store at ``version``; returns the new version."""
    if connection.dialect.name == "postgresql":  # one upgrader at a time; the others wait, then see it done
        locked = connection.execute(select(s.meta.c.value).where(
            s.meta.c.key == "schema_version").with_for_update()).scalar()
        version = int(locked)
    for migration in pending(version):
        migration.upgrade(connection)
        connection.execute(update(s.meta).where(s.meta.c.key == "schema_version").values(
            value=str(migration.to_version)))
        version = migration.to_version
    return version
