"""PostgreSQL roles for a team store: the SQL that gives a writer and a reader role what they need.

Three roles, none a superuser at run time (docs/team.md):

- the **owner** owns the database and its tables; it creates and upgrades the schema
  (``nbtrack db upgrade``), records the artifact location and purges (``nbtrack gc``);
- the **writer** logs runs and edits them (tracked notebooks and scripts, ``nbtrack sync --to``):
  SELECT, INSERT and UPDATE on the tables, USAGE on the sequences; it cannot change the schema
  version, delete rows or create tables;
- the **reader** browses (dashboard, CLI, ``nbtrack.runs()``, ``nbtrack sync --from``): SELECT only.
  Any write it tries fails with ``StoreReadOnlyError``.

``ALTER DEFAULT PRIVILEGES`` makes the tables a later ``nbtrack db upgrade`` creates (as the owner)
carry the same grants.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _identifier(name: str) -> str:
    if not _ROLE.match(name or ""):
        raise ValueError(f"{name!r} is not a plain role name (letters, digits, underscores; at most 63)")
    return f'"{name}"'


def grant_statements(owner: str, writer: str, reader: str, schema: str = "public") -> list[str]:
    """The statements to run as ``owner`` (after ``nbtrack db upgrade`` created the tables)."""
    owner_, writer_, reader_, schema_ = (_identifier(n) for n in (owner, writer, reader, schema))
    return [
        f"GRANT USAGE ON SCHEMA {schema_} TO {writer_}, {reader_}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema_} TO {reader_}",
        f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {schema_} TO {writer_}",
        f"REVOKE INSERT, UPDATE ON TABLE {schema_}.nbtrack_meta FROM {writer_}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_} TO {writer_}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_} IN SCHEMA {schema_} GRANT SELECT ON TABLES TO {reader_}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_} IN SCHEMA {schema_} "
        f"GRANT SELECT, INSERT, UPDATE ON TABLES TO {writer_}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_} IN SCHEMA {schema_} GRANT USAGE, SELECT ON SEQUENCES TO {writer_}",
    ]


def setup_statements(owner: str, writer: str, reader: str, database: str = "nbtrack") -> list[str]:
    """What a superuser runs once, before the owner creates the schema (passwords set separately)."""
    owner_, writer_, reader_, database_ = (_identifier(n) for n in (owner, writer, reader, database))
    return [
        f"CREATE ROLE {owner_} LOGIN",
        f"CREATE ROLE {writer_} LOGIN",
        f"CREATE ROLE {reader_} LOGIN",
        f"CREATE DATABASE {database_} OWNER {owner_}",
        f"REVOKE ALL ON DATABASE {database_} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {database_} TO {writer_}, {reader_}",
    ]
