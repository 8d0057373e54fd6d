"""Fixtures for the core tests: an isolated working directory and store, and PostgreSQL.

PostgreSQL: ``NBTRACK_TEST_PG`` may name a server (a SQLAlchemy URI to an admin database);
otherwise a throw-away cluster is started with Debian's ``initdb``/``pg_ctl`` on a free
loopback port. Where neither is possible the PostgreSQL tests are skipped and say why,
except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest
from pgcluster import PostgresCluster, postgres_bin

import nbtrack
from nbtrack import config
from nbtrack.run import _active

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets its own cwd and SQLite store, and leaves no active run behind."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBTRACK_STORE", f"sqlite:///{tmp_path / 'store' / 'nbtrack.db'}")
    monkeypatch.delenv("NBTRACK_ARTIFACTS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # journals of remote stores go here
    config.set_store(None)
    config.set_experiment(None)
    yield tmp_path
    for run in list(reversed(_active)):
        run.end()
    config.set_store(None)


def _skip_or_fail(reason: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL tests cannot run under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server():
    """The admin URI of a running PostgreSQL server."""
    configured = os.environ.get("NBTRACK_TEST_PG")
    if configured:
        yield configured
        return
    bindir = postgres_bin()
    if bindir is None:
        _skip_or_fail("PostgreSQL is not installed (apt-get install postgresql, or set NBTRACK_TEST_PG)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _skip_or_fail("psycopg is not installed: pip install 'nbtrack[postgres]'")
    cluster = PostgresCluster(bindir)
    try:
        yield cluster.uri
    finally:
        cluster.remove()


@pytest.fixture
def postgres_uri(postgres_server):
    """A fresh, empty database on the PostgreSQL server."""
    from sqlalchemy import create_engine, text

    name = f"nbtrack_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    uri = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    yield uri
    for store in list(config._stores.values()):
        if store.uri == uri:
            store.close()
    config._stores.clear()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request, tmp_path):
    """Each store test runs on a real SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'backend.db'}"
    else:
        uri = request.getfixturevalue("postgres_uri")
    nbtrack.set_store(uri)
    return uri


@pytest.fixture
def stoppable_postgres():
    """A PostgreSQL cluster of the test's own, which the test may stop and start again."""
    bindir = postgres_bin()
    if bindir is None:
        _skip_or_fail("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = PostgresCluster(bindir)
    try:
        yield cluster
    finally:
        cluster.remove()
