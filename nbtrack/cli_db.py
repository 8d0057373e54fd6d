"""``nbtrack db``: the store's schema version, and its explicit upgrade."""

from __future__ import annotations

import argparse
import os


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="the store's schema: version, upgrade")
    commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = commands.add_parser(
        "upgrade", help="create or upgrade the store's schema to this nbtrack's version (back it up first)",
        description="Upgrade the store's schema to this nbtrack's version, or create it in an empty database. "
                    "Back up a shared store first: clients on an older nbtrack cannot use it afterwards.")
    upgrade.add_argument("uri", nargs="?", help="store URI or SQLite file (default: --store, $NBTRACK_STORE, "
                                                "else the discovered store)")
    upgrade.add_argument("--artifacts", metavar="URL",
                         help="record where the store's artifact blobs are (e.g. s3://bucket/prefix), for every "
                              "client that sets no NBTRACK_ARTIFACTS (credentials never go in the URL)")
    upgrade.set_defaults(func=cmd_upgrade)
    grants = commands.add_parser(
        "grants", help="print the SQL that lets a writer and a reader role use a PostgreSQL store (docs/team.md)",
        description="Print the GRANT statements to run as the owner role once `nbtrack db upgrade` created the "
                    "tables: the writer logs and edits runs, the reader only browses.")
    grants.add_argument("--owner", required=True, help="the role that owns the tables (runs nbtrack db upgrade)")
    grants.add_argument("--writer", required=True, help="the role notebooks and scripts log runs with")
    grants.add_argument("--reader", required=True, help="the role that may only read runs")
    grants.set_defaults(func=cmd_grants)
    version = commands.add_parser("version", help="the schema version of the store and of this nbtrack")
    version.add_argument("uri", nargs="?", help="store URI or SQLite file (default as for upgrade)")
    version.set_defaults(func=cmd_version)


def _open(uri: str | None):
    """The store named on the command line, opened without the schema check."""
    from . import config
    from .store.sql import SqlStore

    if uri:
        config.set_store(uri if "://" in uri else os.path.abspath(uri))
    return SqlStore(config.existing_store_uri(), check_schema=False)


def cmd_upgrade(args: argparse.Namespace) -> int:
    store = _open(args.uri)
    try:
        found, now = store.upgrade_schema()
        if args.artifacts:
            store.record_artifact_root(args.artifacts)
            print(f"{store.display_uri} keeps its artifacts at {args.artifacts}")
    finally:
        store.close()
    if found is None:
        print(f"created schema v{now} in {store.display_uri}")
    elif found == now:
        print(f"{store.display_uri} is at schema v{now}: nothing to upgrade")
    else:
        print(f"upgraded {store.display_uri} from schema v{found} to v{now}")
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    from .store import schema

    store = _open(args.uri)
    try:
        found = store.schema_version()
    finally:
        store.close()
    print(f"store:   {store.display_uri}")
    print(f"schema:  v{found}" if found else "schema:  none (an empty database)")
    print(f"nbtrack: v{schema.SCHEMA_VERSION}")
    if found:
        recorded = _recorded_artifacts(store)
        print(f"artifacts: {recorded or 'not recorded (clients use NBTRACK_ARTIFACTS)'}")
    if not found:
        advice = f"empty: `nbtrack db upgrade {store.display_uri}` creates the schema (any client would too)"
    elif found < schema.SCHEMA_VERSION:
        advice = f"older: back it up, then run `nbtrack db upgrade {store.display_uri}`"
    elif found > schema.SCHEMA_VERSION:
        advice = "newer: this nbtrack cannot use it; upgrade nbtrack with `pip install -U nbtrack`"
    else:
        advice = "up to date"
    print(f"status:  {advice}")
    return 0


def _recorded_artifacts(store) -> str | None:
    try:
        return store.recorded_artifact_root()
    except Exception:  # an older schema, a table it cannot read: nothing to say
        return None


def cmd_grants(args: argparse.Namespace) -> int:
    from .roles import grant_statements

    for statement in grant_statements(args.owner, args.writer, args.reader):
        print(statement + ";")
    return 0
