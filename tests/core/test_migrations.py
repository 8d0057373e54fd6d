"""Versioned migrations: SQLite stores upgrade themselves, PostgreSQL stores only by `nbtrack db upgrade`."""

from __future__ import annotations

import warnings

import pytest
from cli_helpers import run_cli
from old_schemas import add_old_run, create_old_store
from sqlalchemy import create_engine, inspect

import nbtrack
from nbtrack import config
from nbtrack.errors import StoreVersionError
from nbtrack.store import migrations
from nbtrack.store import schema as s
from nbtrack.store.sql import SqlStore, redact_uri


def _forget_stores() -> None:
    for store in config._stores.values():
        store.close()
    config._stores.clear()


def _shape(uri: str) -> dict:
    """Tables, columns (name, type, nullable), primary keys, foreign keys and indexes of a store."""
    engine = create_engine(uri)
    inspector = inspect(engine)
    shape = {}
    affinity = {"BIGINT": "INTEGER"} if engine.dialect.name == "sqlite" else {}  # SQLite integers are 64-bit
    for table in sorted(inspector.get_table_names()):
        columns = [(c["name"], affinity.get(str(c["type"]).split("(")[0], str(c["type"]).split("(")[0]), c["nullable"])
                   for c in inspector.get_columns(table)]
        with warnings.catch_warnings():  # SQLite's expression indexes are compared by their DDL below
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            found = inspector.get_indexes(table)
        indexes = sorted((i["name"], tuple(str(c) for c in i["column_names"]), bool(i["unique"]),
                          tuple(i.get("expressions") or ())) for i in found)
        foreign = sorted((tuple(f["constrained_columns"]), f["referred_table"])
                         for f in inspector.get_foreign_keys(table))
        shape[table] = {"columns": sorted(columns), "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                        "fk": foreign, "indexes": indexes}
    if engine.dialect.name == "sqlite":  # SQLAlchemy does not reflect SQLite's expression indexes: their DDL
        with engine.connect() as connection:
            shape["sqlite_index_ddl"] = sorted(connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall())
    engine.dispose()
    return shape


# As retried flushes of old clients left them: the same point stored twice (also a NaN one), and two
# values at one step (kept: MLflow allows several values at one step).
OLD_POINTS = [("loss", 1, 0.5, 10.0), ("loss", 1, 0.5, 10.0), ("loss", 2, 0.25, 11.0), ("loss", 2, 0.3, 11.0),
              ("loss", 3, float("nan"), 12.0), ("loss", 3, float("nan"), 12.0), ("loss", 4, 0.1, 13.0)]


def _assert_duplicates_removed(record) -> None:
    history = record.metric_history("loss")
    assert list(history["step"]) == [1, 2, 2, 3, 4]
    assert sorted(history["value"].fillna(-1))[:3] == [-1, 0.1, 0.25]


def test_the_migrations_form_one_chain_to_the_current_version():
    chain = migrations.all_migrations()
    assert chain[0].from_version == 1 and chain[-1].to_version == s.SCHEMA_VERSION
    assert [m.from_version for m in chain] == list(range(1, s.SCHEMA_VERSION))
    assert all(m.name.startswith(f"v{m.to_version:04d}_") for m in chain)


def test_a_sqlite_store_of_version_1_upgrades_itself_when_opened(tmp_path, capfd):
    uri = f"sqlite:///{tmp_path / 'old.db'}"
    create_old_store(uri, 1)
    add_old_run(uri, "a" * 32, OLD_POINTS, notes="kept\n")
    nbtrack.set_store(uri)
    record = nbtrack.get_run("a" * 32)
    assert record.notes == "kept\n"
    _assert_duplicates_removed(record)
    assert nbtrack.get_store().schema_version() == s.SCHEMA_VERSION
    assert f"from schema v1 to v{s.SCHEMA_VERSION}" in capfd.readouterr().err
    with nbtrack.track("new") as run:
        nbtrack.log_metric("m", 1.0, step=2**40)
    assert list(nbtrack.get_run(run.run_id).metric_history("m")["step"]) == [2**40]


@pytest.mark.postgres
def test_an_older_postgres_store_is_refused_until_db_upgrade(postgres_uri):
    """A client used to migrate a shared store silently on open, locking out every teammate on the
    older version: now it refuses with what to run, and `nbtrack db upgrade URI` upgrades."""
    create_old_store(postgres_uri, 1)
    add_old_run(postgres_uri, "b" * 32, OLD_POINTS)
    shown = redact_uri(postgres_uri)
    nbtrack.set_store(postgres_uri)
    with pytest.raises(StoreVersionError, match="has schema v1") as refused:
        nbtrack.runs()
    assert f"nbtrack db upgrade {shown}" in str(refused.value) and "back up" in str(refused.value)
    assert SqlStore(postgres_uri, check_schema=False).schema_version() == 1  # nothing was changed

    listed = run_cli("--store", postgres_uri, "ls")
    assert listed.returncode == 1 and "nbtrack db upgrade" in listed.stderr and "Traceback" not in listed.stderr
    version = run_cli("db", "version", postgres_uri)
    assert version.returncode == 0 and "schema:  v1" in version.stdout and "older" in version.stdout

    upgraded = run_cli("db", "upgrade", postgres_uri)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"upgraded {shown} from schema v1 to v{s.SCHEMA_VERSION}"
    again = run_cli("--store", postgres_uri, "db", "upgrade")
    assert "nothing to upgrade" in again.stdout
    assert "up to date" in run_cli("db", "version", postgres_uri).stdout

    _forget_stores()
    _assert_duplicates_removed(nbtrack.get_run("b" * 32))
    with nbtrack.track("after") as run:
        nbtrack.log_metric("m", 1.0, step=2**40)  # v2 made steps 64-bit
    assert list(nbtrack.get_run(run.run_id).metric_history("m")["step"]) == [2**40]


@pytest.mark.postgres
def test_db_upgrade_creates_the_schema_in_an_empty_postgres_database(postgres_uri):
    created = run_cli("db", "upgrade", postgres_uri)
    assert created.returncode == 0 and f"created schema v{s.SCHEMA_VERSION}" in created.stdout
    assert SqlStore(postgres_uri, check_schema=False).schema_version() == s.SCHEMA_VERSION


def test_db_commands_on_a_missing_sqlite_store_say_where_they_looked(tmp_path):
    result = run_cli("db", "upgrade", str(tmp_path / "none.db"))
    assert result.returncode == 1 and "no nbtrack store at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_store_upgraded_from_version_1_has_the_schema_of_a_new_store(store_uri, tmp_path):
    """Each migration must leave exactly the tables, columns and indexes that schema.py creates."""
    _forget_stores()
    postgres = store_uri.startswith("postgresql")
    fresh = _fresh_postgres_database(store_uri) if postgres else f"sqlite:///{tmp_path / 'new.db'}"
    try:
        create_old_store(store_uri, 1)
        add_old_run(store_uri, "c" * 32, [("loss", 1, 0.5, 10.0)])
        SqlStore(store_uri, check_schema=False).upgrade_schema()
        SqlStore(fresh).close()
        assert _shape(store_uri) == _shape(fresh)
    finally:
        if postgres:
            _drop_postgres_database(store_uri, fresh)


def _fresh_postgres_database(like: str) -> str:
    import uuid

    from sqlalchemy import text

    admin = create_engine(like.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = f"nbtrack_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return like.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(like: str, uri: str) -> None:
    from sqlalchemy import text

    admin = create_engine(like.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{uri.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
