"""A team store on PostgreSQL with an owner, a writer and a read-only role, passwords required, no
superuser at run time: each role can do its part, a reader's writes fail clearly, and no password is
ever printed or stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
from cli_helpers import run_cli
from conftest import IN_CI
from pgcluster import PostgresCluster, postgres_bin
from sqlalchemy import create_engine, text

import nbtrack
from nbtrack import config
from nbtrack.dashboards.state import DashboardState
from nbtrack.errors import StoreReadOnlyError
from nbtrack.roles import grant_statements, setup_statements

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORDS = {role: f"pw-{role}-{uuid.uuid4().hex[:12]}" for role in ("nbt_owner", "nbt_writer", "nbt_reader")}

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster():
    """A cluster of its own where 127.0.0.1 needs a password (the superuser keeps trust, for the set-up)."""
    bindir = postgres_bin()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    server = PostgresCluster(bindir)
    hba = server.data / "pg_hba.conf"
    hba.write_text("host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
                   "local all all trust\n")
    subprocess.run(server.as_user + [f"{bindir}/pg_ctl", "-D", str(server.data), "reload"], check=True,
                   capture_output=True)
    admin = create_engine(server.uri, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in setup_statements("nbt_owner", "nbt_writer", "nbt_reader", "team"):
            connection.execute(text(statement))
        for role, password in PASSWORDS.items():
            connection.execute(text(f"ALTER ROLE {role} PASSWORD '{password}'"))
    try:
        yield server, admin
    finally:
        admin.dispose()
        server.remove()


def _uri(server, role: str) -> str:
    return f"postgresql://{role}:{PASSWORDS[role]}@127.0.0.1:{server.port}/team"


def _forget() -> None:
    for store in config._stores.values():
        store.close()
    config._stores.clear()


SCRIPT = textwrap.dedent("""
    import nbtrack
    with nbtrack.track("roles", params={"lr": 0.1}) as run:
        for step in range(50):
            nbtrack.log_metric("loss", 1 / (step + 1), step=step)
        nbtrack.log_artifact(b"weights", name="model.bin")
        print(f"store: {nbtrack.get_store().display_uri}")
    print("finished", run.run_id)
""")


def _script(uri: str, tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env={
        **os.environ, "PYTHONPATH": REPO, "NBTRACK_STORE": uri, "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NBTRACK_JOURNAL_AFTER": "1", **env})


def test_owner_writer_and_reader_each_do_their_part_and_no_password_shows(cluster, tmp_path, monkeypatch):
    server, admin = cluster
    owner, writer, reader = (_uri(server, r) for r in ("nbt_owner", "nbt_writer", "nbt_reader"))
    artifacts = str(tmp_path / "team-artifacts")
    outputs: list[str] = []

    def cli(*argv):
        result = run_cli(*argv)
        outputs.extend((result.stdout, result.stderr))
        return result

    wrong = cli("--store", owner.replace(PASSWORDS["nbt_owner"], "not-the-password"), "ls")
    assert wrong.returncode == 1 and "password authentication failed" in wrong.stderr  # passwords are checked

    # the owner creates the schema, records where artifacts go, and grants the two roles their part
    created = cli("db", "upgrade", owner, "--artifacts", artifacts)
    assert created.returncode == 0 and "created schema" in created.stdout, created.stderr
    assert "nbt_owner:***@" in created.stdout
    printed = cli("db", "grants", "--owner", "nbt_owner", "--writer", "nbt_writer", "--reader", "nbt_reader")
    assert printed.stdout.splitlines() == [s + ";" for s in grant_statements("nbt_owner", "nbt_writer", "nbt_reader")]
    engine = create_engine(owner.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in printed.stdout.splitlines():
            connection.execute(text(statement))
    engine.dispose()

    # the writer logs runs (no superuser, no owner) and edits them; sync to the team store works too
    written = _script(writer, tmp_path, NBTRACK_USER="ana")
    outputs += [written.stdout, written.stderr]
    assert written.returncode == 0 and "finished" in written.stdout and "nbtrack:" not in written.stderr, written.stderr
    run_id = written.stdout.split()[-1]
    monkeypatch.setenv("NBTRACK_STORE", writer)
    _forget()
    nbtrack.tag_run(run_id, {"reviewed": "yes"})
    local = f"sqlite:///{tmp_path / 'laptop.db'}"
    nbtrack.set_store(local)
    with nbtrack.track("roles", name="offline"):
        nbtrack.log_metric("loss", 0.5)
    nbtrack.set_store(None)
    synced = cli("--store", local, "sync", "--to", writer)
    assert synced.returncode == 0 and "1 runs (1 new)" in synced.stdout, synced.stderr
    offline = nbtrack.runs("roles", filter="run_name = 'offline'")["run_id"][0]
    nbtrack.delete_run(offline)
    purge = cli("--store", writer, "gc")
    assert purge.returncode == 1 and "this role may not" in purge.stderr  # purging is the owner's
    nbtrack.restore_run(offline)

    # the reader browses: runs(), get_run, the dashboard's queries, the CLI
    monkeypatch.setenv("NBTRACK_STORE", reader)
    _forget()
    frame = nbtrack.runs("roles")
    assert set(frame["name"]) >= {"offline"} and len(frame) == 2
    record = nbtrack.get_run(run_id)
    assert record.tags["reviewed"] == "yes" and record.user == "ana"
    assert record.artifact("model.bin").read_bytes() == b"weights" and len(record.metric_history("loss")) == 50
    state = DashboardState("roles")
    state.reload()
    assert state.total == 2 and len(state.rows) == 2
    listed = cli("--store", reader, "ls", "-e", "roles", "--filter", "attributes.user = 'ana'")
    assert listed.returncode == 0 and run_id[:8] in listed.stdout, listed.stderr
    shown = cli("--store", reader, "show", run_id)
    assert shown.returncode == 0 and "by ana on" in shown.stdout
    down = cli("--store", str(tmp_path / "offline.db"), "sync", "--from", reader)
    assert down.returncode == 0 and "2 runs (2 new)" in down.stdout, down.stderr

    # ... and every write it tries fails with one clear error
    with pytest.raises(StoreReadOnlyError, match="this role may not") as refused:
        nbtrack.tag_run(run_id, {"reviewed": "no"})
    outputs.append(str(refused.value))
    assert "nbt_reader:***@" in str(refused.value)
    for edit in (lambda: nbtrack.rename_run(run_id, "x"), lambda: nbtrack.note_run(run_id, "x"),
                 lambda: nbtrack.delete_run(run_id)):
        with pytest.raises(StoreReadOnlyError):
            edit()
    nbtrack.set_store(local)
    with nbtrack.track("roles", name="not for readers"):
        nbtrack.log_metric("loss", 0.25)
    nbtrack.set_store(None)
    up = cli("--store", local, "sync", "--to", reader)
    assert up.returncode == 1 and "this role may not" in up.stderr and "Traceback" not in up.stderr
    tracked = _script(reader, tmp_path)
    outputs += [tracked.stdout, tracked.stderr]
    assert tracked.returncode == 0 and "finished" in tracked.stdout  # the user's script runs to its end
    said = [line for line in tracked.stderr.splitlines() if line.startswith("nbtrack:")]
    assert "this role may not" in said[0] and "Your code keeps running" in said[0], tracked.stderr
    assert len([line for line in said if "cannot write" in line]) == 1 and "Traceback" not in tracked.stderr
    assert "refuses this role's writes; waiting in the journal" in said[-1]  # the last line: where the data waits

    # no password anywhere: what was printed, error messages, records, documents, journals, the database
    _forget()
    nbtrack.set_store(writer)
    recorded = []
    for run in nbtrack.runs(include_deleted=True)["run_id"]:
        record = nbtrack.get_run(run)
        recorded.append(json.dumps([record.to_dict(), {k: record.document(k) for k in record.document_keys}],
                                   default=str))
    everything = "\n".join(outputs + recorded + [_database_text(admin), _files_text(tmp_path)])
    assert "nbt_writer:***@" in everything or "nbt_reader:***@" in everything
    for password in PASSWORDS.values():
        assert password not in everything


def _database_text(admin) -> str:
    """Every value of every table of the team database, as text (read as the superuser)."""
    engine = create_engine(admin.url.set(database="team"))
    parts = []
    with engine.connect() as connection:
        tables = connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for table in tables:
            parts += [str(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))]
    engine.dispose()
    assert any("roles" in part for part in parts)
    return "\n".join(parts)


def _files_text(root) -> str:
    """Every file the clients left (local stores, journals, artifacts), as text."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            found.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(found)
