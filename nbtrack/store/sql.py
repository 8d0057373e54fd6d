"""SqlStore: the one store implementation, on SQLAlchemy Core, for SQLite and PostgreSQL.

Contract (what the rest of nbtrack relies on):

- ``create_run(...)`` inserts a RUNNING run, creating its experiment if needed.
- ``write_batch(batch)`` is the one write primitive for logged data: params, metric
  points, latest metric values, tags, artifacts, datasets, documents, notes, heartbeats
  and run ends of any number of runs, in one transaction. Every part is idempotent: the
  same batch written twice (a COMMIT whose reply was lost, a replayed journal) stores
  nothing twice. Transient failures raise StoreUnavailableError (nothing was written);
  rows the database refuses for good raise IntegrityError/DataError (see ``salvage``).
- Reads (``nbtrack.store.query``, ``nbtrack.store.records``) first mark runs whose
  heartbeat stopped as KILLED; heartbeats and that check use the database's clock.
- The schema is checked on open: created when empty, upgraded in place for SQLite,
  refused with what to run when older (PostgreSQL: ``nbtrack db upgrade``) or newer.
- Edits of stored runs: ``rename_run``, ``set_tags``, ``append_note``, ``delete_run``,
  ``restore_run``, ``rename_experiment``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Float, cast, create_engine, event, func, literal_column, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, DataError, DBAPIError, IntegrityError

from ..errors import (
    AmbiguousRunIdError,
    ExperimentNotFoundError,
    RunNotFoundError,
    StoreReadOnlyError,
    StoreUnavailableError,
    StoreVersionError,
)
from . import blocks, driver, forkguard, migrations, readonly
from . import schema as s
from .batch import Batch, document_body_or_error
from .blobs import BlobStore
from .summary import refresh_summaries, touched_runs

ARTIFACT_ROOT_KEY = "artifact_root"  # nbtrack_meta: where a team store's artifacts are
_PG_ROWS_PER_INSERT = 500  # 3,000 parameters a statement (the protocol allows 65,535)
HEARTBEAT_TIMEOUT = float(os.environ.get("NBTRACK_HEARTBEAT_TIMEOUT", "60"))
STALE_CHECK_INTERVAL = 2.0

def normalize_uri(uri: str) -> str:
    """Pick the psycopg (v3) driver for plain postgresql:// URIs."""
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    return uri


def redact_uri(uri: str) -> str:
    """The URI with any password replaced by ***, for messages and records."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(uri)
        secret = {k: "***" for k in url.query if any(w in k.lower() for w in ("pass", "secret", "token", "key"))}
        if secret:  # ?password=... is a password too
            url = url.update_query_dict(secret)
        return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")
    except Exception:
        return uri.split("@")[-1].split("?")[0]


class SqlStore:
    """Runs, params, metrics, tags, artifacts and documents in one SQL database."""

    def __init__(self, uri: str, artifact_root: str | None = None, *, check_schema: bool = True,
                 read_only: bool | None = None) -> None:
        """Open the store at ``uri``; ``check_schema=False`` skips the schema check (``nbtrack db``).

        ``read_only`` (default: ``NBTRACK_READ_ONLY``) makes the database refuse this client's
        writes (store/readonly.py)."""
        self.uri = normalize_uri(uri)
        self.display_uri = redact_uri(self.uri)
        self.read_only = readonly.read_only_requested() if read_only is None else read_only
        _register_password(self.uri)
        self.engine = self._create_engine()
        self.dialect = self.engine.dialect.name
        self._last_stale_check = -STALE_CHECK_INTERVAL
        self._upserts: dict[tuple, Any] = {}
        self._document_bodies: dict[int, tuple] = {}
        self._lock = threading.Lock()
        forkguard.register(self)
        if check_schema:
            self._ensure_schema(upgrade=self.dialect == "sqlite")
        # NBTRACK_ARTIFACTS, else where the store says its artifacts are (a team store), else the default
        self.blobs = BlobStore(artifact_root or os.environ.get("NBTRACK_ARTIFACTS")
                               or (self.recorded_artifact_root() if check_schema else None)
                               or default_artifact_root(self.uri))

    # --- connection -------------------------------------------------------------

    def _create_engine(self) -> Engine:
        if self.uri.startswith("sqlite"):
            path = self.uri.split("///", 1)[-1] if "///" in self.uri else ""
            if self.read_only:  # read-only: the file must exist; SQLite refuses every write
                engine = create_engine(readonly.sqlite_read_only_url(path.split("?", 1)[0]),
                                       connect_args={"timeout": 60})
            else:
                if path and path != ":memory:":
                    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                engine = create_engine(self.uri, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def on_connect(dbapi_connection, _record) -> None:
                dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
                cursor = dbapi_connection.cursor()
                if not self.read_only:
                    cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA busy_timeout=60000")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA case_sensitive_like=ON")
                cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages (default 2 MiB): reads of 100k runs
                cursor.close()

            @event.listens_for(engine, "begin")
            def on_begin(connection: Connection) -> None:
                # Writers take the write lock up front, so two writers wait for each other
                # (busy_timeout) instead of failing with "database is locked".
                connection.exec_driver_sql(connection.info.pop("nbtrack_begin", "BEGIN"))

            return engine
        try:
            connect_args = _pg_connect_args(self.uri)
            if self.read_only:
                connect_args = readonly.postgres_read_only_args(connect_args)
            return create_engine(self.uri, pool_pre_ping=True, connect_args=connect_args)
        except ModuleNotFoundError as error:
            raise StoreUnavailableError(
                f"the PostgreSQL driver is missing ({error.name}): pip install 'nbtrack[postgres]'"
            ) from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on error."""
        if self.read_only:  # refused before the database would refuse it too
            raise readonly.write_refused(self.display_uri)
        try:
            with forkguard.transaction(), self.engine.connect() as connection:
                if self.dialect == "sqlite":
                    connection.info["nbtrack_begin"] = "BEGIN IMMEDIATE"
                with connection.begin():
                    yield connection
        except (IntegrityError, DataError):
            raise  # a row the database refuses for good: the caller isolates it (salvage)
        except DBAPIError as error:  # unreachable, locked, read-only, disk full, permission denied: kept
            if self.dialect == "sqlite":
                # SQLite keeps a connection's read-only handles (database, -shm) for its whole life:
                # after 'attempt to write a readonly database' only a new connection can write.
                self.engine.dispose()
            if _is_read_only(error):
                raise StoreReadOnlyError(
                    f"cannot write to {self.display_uri}: this role may not ({_short(error)}); nothing was "
                    "written. A reader role browses runs; logging and editing runs needs the writer role, "
                    "nbtrack gc the owner (see docs/team.md)") from error
            raise StoreUnavailableError(f"cannot write to {self.display_uri}: {_short(error)}") from error

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (one consistent snapshot)."""
        try:
            with forkguard.transaction(), self.engine.connect() as connection:
                if self.dialect == "postgresql":  # READ COMMITTED gives each statement its own snapshot
                    connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    yield connection
        except DatabaseError as error:  # OperationalError and e.g. 'database disk image is malformed'
            raise StoreUnavailableError(f"cannot read {self.display_uri}: {_short(error)}") from error

    def close(self) -> None:
        self.engine.dispose()

    def close_before_fork(self) -> None:
        """A SQLite connection must not be open across a fork (see :mod:`nbtrack.store.forkguard`)."""
        if self.dialect == "sqlite":
            self.engine.dispose()

    def reset_after_fork_in_child(self) -> None:
        """The parent's connections stay the parent's: this process opens its own."""
        self.engine.dispose(close=False)
        self._lock = threading.Lock()

    # --- schema -----------------------------------------------------------------

    def _ensure_schema(self, upgrade: bool) -> tuple[int | None, int]:
        """Create the schema in an empty database, or check the stored version.

        An older schema is upgraded when ``upgrade`` is true (a local SQLite file; ``nbtrack db
        upgrade``), else refused with what to run: on a shared PostgreSQL store one client's silent
        upgrade would lock out every teammate on the older version. Returns (found, now).
        """
        if self.read_only:
            return readonly.check_schema(self)
        attempts = 5
        for attempt in range(attempts):
            try:
                with self.read() as connection:  # the usual case needs no write (a read-only store opens too)
                    found = migrations.stored_version(connection, self.display_uri)
                if found == s.SCHEMA_VERSION:
                    return found, found
                with self.write() as connection:
                    return self._check_or_create(connection, upgrade)
            except (DatabaseError, StoreUnavailableError) as error:  # e.g. 'file is not a database'
                # Other processes may be creating the same new store right now (tables, WAL mode).
                cause = error.__cause__ if isinstance(error, StoreUnavailableError) and error.__cause__ else error
                text = str(cause).lower()
                racing = any(word in text for word in ("already exists", "unique", "duplicate", "locked"))
                if attempt == attempts - 1 or not racing:
                    raise StoreUnavailableError(f"cannot open {self.display_uri}: {_short(cause)}") from error
                time.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    def _check_or_create(self, connection: Connection, upgrade: bool) -> tuple[int | None, int]:
        version = migrations.stored_version(connection, self.display_uri)
        if version is None:
            migrations.create(connection)
            return None, s.SCHEMA_VERSION
        if version > s.SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.display_uri} was written by a newer nbtrack (schema v{version}; this one "
                f"knows v{s.SCHEMA_VERSION}): upgrade with `pip install -U nbtrack`"
            )
        if version < s.SCHEMA_VERSION:
            if not upgrade:
                raise StoreVersionError(
                    f"{self.display_uri} has schema v{version} and this nbtrack needs v{s.SCHEMA_VERSION}: "
                    f"back up the database, then run `nbtrack db upgrade {self.display_uri}` "
                    "(clients on the older nbtrack must upgrade too: `pip install -U nbtrack`)")
            upgraded = migrations.upgrade(connection, version)
            if upgraded != version and self.dialect == "sqlite":
                print(f"nbtrack: upgraded the store {self.display_uri} from schema v{version} to v{upgraded}",
                      file=sys.stderr)
        return version, s.SCHEMA_VERSION

    def recorded_artifact_root(self) -> str | None:
        """The artifact URL recorded in the store (``nbtrack db upgrade --artifacts``; never with credentials)."""
        with self.read() as connection:
            return connection.execute(select(s.meta.c.value).where(s.meta.c.key == ARTIFACT_ROOT_KEY)).scalar()

    def record_artifact_root(self, url: str) -> None:
        """Record where this store's artifacts are, for every client that sets no ``NBTRACK_ARTIFACTS``."""
        from ..objectstore import redact_url

        shown = redact_url(url)
        if shown != url:
            raise ValueError(f"the artifact URL {shown} holds credentials: give them the usual way "
                             "(environment, ~/.aws, an instance profile), never in the URL")
        with self.write() as connection:
            connection.execute(s.meta.delete().where(s.meta.c.key == ARTIFACT_ROOT_KEY))
            connection.execute(s.meta.insert().values(key=ARTIFACT_ROOT_KEY, value=url))

    def schema_version(self) -> int:
        """The schema version recorded in the store (0 for an empty database)."""
        with self.read() as connection:
            return migrations.stored_version(connection, self.display_uri) or 0

    def upgrade_schema(self) -> tuple[int | None, int]:
        """Create or upgrade the schema to this nbtrack's version: (version found or None, version now)."""
        return self._ensure_schema(upgrade=True)

    # --- writes -----------------------------------------------------------------

    def _experiment_id(self, connection: Connection, name: str) -> int:
        lookup = f"SELECT experiment_id FROM experiments WHERE name = {driver.marker(self.dialect)}"
        found = connection.exec_driver_sql(lookup, (name,)).scalar()
        if found is not None:
            return found
        statement = self._insert(s.experiments).values(name=name, created_time=time.time())
        connection.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
        return connection.exec_driver_sql(lookup, (name,)).scalar_one()

    def create_run(self, run_id: str, experiment: str, name: str, start_time: float,
                   parent_run_id: str | None = None) -> None:
        """Insert a RUNNING run."""
        self.write_batch(Batch(creates=[(run_id, experiment, name, start_time, parent_run_id)]))

    def _create_runs(self, connection: Connection, creates: list[tuple]) -> None:
        experiment_ids: dict[str, int] = {}
        rows = []
        for run_id, experiment, name, start_time, parent_run_id, *who in creates:
            if experiment not in experiment_ids:
                experiment_ids[experiment] = self._experiment_id(connection, experiment)
            user, host = (who + [None, None])[:2]  # (user, host) since v4; a journal of before has none
            rows.append(dict(run_id=run_id, experiment_id=experiment_ids[experiment], name=name,
                             status="RUNNING", start_time=start_time, parent_run_id=parent_run_id, notes="",
                             deleted=False, user_name=user, host_name=host, name_time=start_time))
        # A run already there was created by an earlier attempt whose COMMIT reply was lost.
        now = literal_column(driver.now_sql(self.dialect))  # SqlStore.now as SQL text: no bound constants
        self._execute_many(connection, ("create",), rows, lambda: self._insert(s.runs).values(
            heartbeat_time=now, updated_time=now).on_conflict_do_nothing(index_elements=["run_id"]))

    def _insert(self, table):
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _upsert(self, connection: Connection, table, rows: list[dict], keys: list[str]) -> None:
        """Insert or replace by ``keys``; the last row of a key wins (a statement may not touch a row twice)."""
        if not rows:
            return
        if len(rows) > 1:
            rows = list({tuple(row[k] for k in keys): row for row in rows}.values())
        columns = tuple(c for c in rows[0] if c not in keys)

        def build():  # building ON CONFLICT clauses is costly: build each once
            statement = self._insert(table)
            return statement.on_conflict_do_update(
                index_elements=keys, set_={c: statement.excluded[c] for c in columns},
                where=_NEWER.get(table.name, lambda *_: None)(table, statement.excluded))

        self._execute_many(connection, (table.name, columns, tuple(keys)), rows, build)

    def _execute_many(self, connection: Connection, name: tuple, rows: list[dict], build) -> None:
        """Run the statement ``build()`` makes once per row: compiled once per statement and row
        shape and run as driver SQL (:mod:`nbtrack.store.driver`), else through SQLAlchemy."""
        cache_key = name + tuple(rows[0])
        compiled = self._upserts.get(cache_key)
        if compiled is None:
            compiled = self._upserts[cache_key] = driver.CompiledWrite(build(), self.engine.dialect, tuple(rows[0]))
        compiled.execute(connection, rows)

    def write_batch(self, batch: Batch) -> None:
        """Write a batch in one transaction. Every part is safe to write again (idempotent): a batch
        whose COMMIT reply was lost is retried, and a journal may be replayed more than once."""
        if not batch:
            return
        with self.write() as connection:
            if batch.creates:
                self._create_runs(connection, batch.creates)
            self._touch(connection, batch)
            self._upsert(connection, s.params, [
                dict(run_id=r, key=k, kind=kind, value=v, value_num=n) for r, k, kind, v, n in batch.params
            ], ["run_id", "key"])
            if batch.metrics:
                self._insert_metric_points(connection, batch.metrics)
                self.merge_metric_blocks(connection, batch.metrics)
            self._upsert(connection, s.latest_metrics, [
                dict(run_id=r, key=k, step=step, value=None if v != v else v, is_nan=v != v, timestamp=t)
                for (r, k), (step, v, t) in batch.latest.items()
            ], ["run_id", "key"])
            self._upsert(connection, s.tags, [  # (run_id, key, value, time set); a journal of before v4 has no time
                dict(run_id=row[0], key=row[1], value=row[2], updated_time=row[3] if len(row) > 3 else None)
                for row in batch.tags], ["run_id", "key"])
            self._upsert(connection, s.artifacts, batch.artifacts, ["run_id", "name"])
            self._upsert(connection, s.datasets, batch.datasets, ["run_id", "name"])
            if batch.documents:
                self._write_documents(connection, batch.documents)
            if batch.notes:
                self._append_notes(connection, batch.notes)
            mark, now = driver.marker(self.dialect), driver.now_sql(self.dialect)
            if batch.heartbeats:
                # The database's clock: a client whose clock is behind must not look dead. A run a
                # reader marked KILLED while this process could not reach the store is alive again.
                connection.exec_driver_sql(
                    f"UPDATE runs SET heartbeat_time = {now}, status = 'RUNNING', end_time = NULL "
                    f"WHERE run_id = {mark} AND status IN ('RUNNING', 'KILLED')",
                    [(run_id,) for run_id, _client_time in batch.heartbeats])
            if batch.ends:
                connection.exec_driver_sql(
                    f"UPDATE runs SET status = {mark}, end_time = {mark}, heartbeat_time = {now} WHERE run_id = {mark}",
                    [(status, end_time, run_id) for run_id, status, end_time in batch.ends])
            refresh_summaries(connection, touched_runs(batch))  # the summary row follows, same transaction

    def _touch(self, connection: Connection, batch: Batch) -> None:
        """Stamp the runs a batch writes with the database clock (``runs.updated_time``: sync's cursor). First
        in the transaction and in id order, so concurrent writers lock the runs' rows in one order."""
        run_ids = sorted(batch.run_ids())
        statement = f"UPDATE runs SET updated_time = {driver.now_sql(self.dialect)} " \
                    f"WHERE {driver.ids_condition(self.dialect)}"
        for start in range(0, len(run_ids), 500):
            connection.exec_driver_sql(statement, (driver.ids_parameter(self.dialect, run_ids[start:start + 500]),))

    def _insert_metric_points(self, connection: Connection, points: list[tuple]) -> None:
        # The hot path: a constant statement and plain tuples straight to the driver (SQLAlchemy's
        # per-row parameter processing costs ~5 us a row). A point already stored (same run, key,
        # step, time and value) is skipped.
        rows = [(r, k, step, None if v != v else v, v != v, t) for r, k, step, v, t in points]
        head = 'INSERT INTO metrics (run_id, "key", step, value, is_nan, "timestamp") VALUES '
        if self.dialect == "sqlite":
            connection.exec_driver_sql(head + "(?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)
            return
        # PostgreSQL executes an executemany row by row: multi-row VALUES are several times faster.
        full = len(rows) - len(rows) % _PG_ROWS_PER_INSERT
        if full:
            statement = head + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * _PG_ROWS_PER_INSERT) + " ON CONFLICT DO NOTHING"
            connection.exec_driver_sql(statement, [
                tuple(value for row in rows[start:start + _PG_ROWS_PER_INSERT] for value in row)
                for start in range(0, full, _PG_ROWS_PER_INSERT)])
        if full < len(rows):
            statement = head + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * (len(rows) - full)) + " ON CONFLICT DO NOTHING"
            connection.exec_driver_sql(statement, tuple(value for row in rows[full:] for value in row))

    def merge_metric_blocks(self, connection: Connection, points: list[tuple]) -> None:
        """Merge the per-block extremes of ``points`` (run_id, key, step, value, timestamp) into
        ``metric_blocks``, in the caller's transaction; a point merged again changes nothing. Every
        writer of metric points calls it (``write_batch`` does)."""
        rows = blocks.summarize(points)
        if rows:  # unique by (run, key, level, block): one statement may not touch a row twice
            self._execute_many(connection, ("metric_blocks",), rows,
                               lambda: blocks.merge_statement(self._insert(s.metric_blocks)))

    def _append_notes(self, connection: Connection, notes: list[tuple]) -> None:
        """Append each note to its run once: its id goes into run_notes in the same transaction."""
        record = self._insert(s.run_notes).on_conflict_do_nothing(index_elements=["run_id", "note_id"])
        for run_id, note_id, text, *when in notes:  # (run_id, note_id, text[, time written])
            seen = select(s.run_notes.c.note_id).where(s.run_notes.c.run_id == run_id,
                                                       s.run_notes.c.note_id == note_id).exists()
            connection.execute(update(s.runs).where(s.runs.c.run_id == run_id, ~seen).values(
                notes=func.coalesce(s.runs.c.notes, "") + text))
            connection.execute(record, dict(run_id=run_id, note_id=note_id, text=text,
                                            created_time=when[0] if when else time.time()))

    def _write_documents(self, connection: Connection, documents: list[tuple]) -> None:
        bodies: dict[str, str] = {}
        links = []
        for run_id, key, value in documents:
            cached = self._document_bodies.get(id(value))
            if cached is not None and cached[0] is value:  # the same object, e.g. a shared environment
                digest, body = cached[1], cached[2]
            else:
                digest, body = document_body_or_error(key, value)
                if len(self._document_bodies) > 32:
                    self._document_bodies.clear()
                self._document_bodies[id(value)] = (value, digest, body)
            bodies[digest] = body
            links.append(dict(run_id=run_id, key=key, sha256=digest))
        self._execute_many(connection, ("documents",), [dict(sha256=d, body=b) for d, b in bodies.items()],
                           lambda: self._insert(s.documents).on_conflict_do_nothing(index_elements=["sha256"]))
        self._upsert(connection, s.run_documents, links, ["run_id", "key"])

    def existing_run_ids(self, run_ids: set[str]) -> set[str]:
        """Which of ``run_ids`` are in the store."""
        found: set[str] = set()
        ids = sorted(run_ids)
        with self.read() as connection:
            for start in range(0, len(ids), 500):
                found.update(connection.execute(select(s.runs.c.run_id).where(
                    s.runs.c.run_id.in_(ids[start:start + 500]))).scalars())
        return found

    # --- run lookup and edits --------------------------------------------------------

    def resolve_run_id(self, run_id: str, connection: Connection | None = None) -> str:
        """The full id of the run ``run_id`` names (a unique prefix is enough)."""
        if not isinstance(run_id, str) or not run_id.strip():
            raise RunNotFoundError(str(run_id))
        run_id = run_id.strip()
        if connection is None:
            with self.read() as connection:
                return self.resolve_run_id(run_id, connection)
        exact = connection.execute(select(s.runs.c.run_id).where(s.runs.c.run_id == run_id)).scalar()
        if exact:
            return exact
        pattern = run_id.replace("\\", "").replace("%", "").replace("_", "")
        if pattern != run_id:
            raise RunNotFoundError(run_id)
        matches = list(connection.execute(
            select(s.runs.c.run_id).where(s.runs.c.run_id.like(run_id + "%")).limit(6)).scalars())
        if not matches:
            raise RunNotFoundError(run_id)
        if len(matches) > 1:
            raise AmbiguousRunIdError(run_id, matches)
        return matches[0]

    def rename_run(self, run_id: str, name: str) -> None:
        with self.write() as connection:
            full = self.resolve_run_id(run_id, connection)
            connection.execute(update(s.runs).where(s.runs.c.run_id == full).values(
                name=str(name), name_time=time.time(), updated_time=self.now()))

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        full = self.resolve_run_id(run_id)
        moment = time.time()
        self.write_batch(Batch(tags=[(full, k, v, moment) for k, v in tags.items()]))

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.write() as connection:
            full = self.resolve_run_id(run_id, connection)
            connection.execute(s.tags.delete().where(s.tags.c.run_id == full, s.tags.c.key == key))
            refresh_summaries(connection, [full])

    def append_note(self, run_id: str, text: str) -> None:
        full = self.resolve_run_id(run_id)
        self.write_batch(Batch(notes=[(full, uuid.uuid4().hex, text)]))

    def _set_deleted(self, run_id: str, deleted: bool) -> None:
        with self.write() as connection:
            full = self.resolve_run_id(run_id, connection)
            connection.execute(update(s.runs).where(s.runs.c.run_id == full).values(
                deleted=deleted, deleted_time=time.time(), updated_time=self.now()))

    def delete_run(self, run_id: str) -> None:
        """Soft-delete: hidden from queries until restored or removed by gc."""
        self._set_deleted(run_id, True)

    def restore_run(self, run_id: str) -> None:
        self._set_deleted(run_id, False)

    def rename_experiment(self, old: str, new: str) -> None:
        with self.write() as connection:
            found = connection.execute(
                select(s.experiments.c.experiment_id).where(s.experiments.c.name == old)).scalar()
            if found is None:
                raise ExperimentNotFoundError(old)
            taken = connection.execute(
                select(s.experiments.c.experiment_id).where(s.experiments.c.name == new)).scalar()
            if taken is not None:
                raise ValueError(f"an experiment named {new!r} already exists; pick another name")
            connection.execute(update(s.experiments).where(
                s.experiments.c.experiment_id == found).values(name=new))

    # --- liveness ---------------------------------------------------------------

    def now(self):
        """The database's clock as seconds since the epoch (a SQL expression): heartbeats and the
        stale-run check compare times from one clock, whatever each client's clock says. SQLite is
        local, so its clock is the machine's (read by SQLite, not through Python's time.time)."""
        if self.dialect == "postgresql":
            return cast(func.extract("epoch", func.clock_timestamp()), Float)
        return (func.julianday("now") - 2440587.5) * 86400.0

    def mark_stale_runs(self, force: bool = False) -> int:
        """Mark RUNNING runs whose heartbeat stopped as KILLED (their data stays)."""
        if self.read_only:  # a read-only client browses the runs as they are: a writer marks them
            return 0
        moment = time.monotonic()
        if not force and moment - self._last_stale_check < STALE_CHECK_INTERVAL:
            return 0
        self._last_stale_check = moment
        timeout = float(os.environ.get("NBTRACK_HEARTBEAT_TIMEOUT", HEARTBEAT_TIMEOUT))
        stale = (s.runs.c.status == "RUNNING") & (s.runs.c.heartbeat_time < self.now() - timeout)
        with self.read() as connection:
            if connection.execute(select(s.runs.c.run_id).where(stale).limit(1)).first() is None:
                return 0
        try:
            with self.write() as connection:
                result = connection.execute(update(s.runs).where(stale).values(
                    status="KILLED", end_time=s.runs.c.heartbeat_time, updated_time=self.now()))
                return result.rowcount or 0
        except StoreReadOnlyError:  # a read-only client browses the runs as they are: a writer marks them
            return 0

    # --- garbage collection --------------------------------------------------------

    def collect_garbage(self, grace_seconds: float = 3600.0, dry_run: bool = False) -> dict[str, int]:
        """Purge soft-deleted runs, then blobs that no remaining run references, and the temporary
        files of unfinished blob writes.

        Blobs and temporary files younger than ``grace_seconds`` are kept: a run may be about to
        reference them, a writer may still be writing.
        """
        with self.read() as connection:
            deleted = list(connection.execute(select(s.runs.c.run_id).where(s.runs.c.deleted)).scalars())
        if deleted and not dry_run:
            with self.write() as connection:
                for table in (s.params, s.metric_history, s.metric_blocks, s.latest_metrics, s.tags, s.artifacts,
                              s.datasets, s.run_documents, s.run_notes, s.run_summary):
                    connection.execute(table.delete().where(table.c.run_id.in_(deleted)))
                connection.execute(s.runs.delete().where(s.runs.c.run_id.in_(deleted)))
                used_documents = select(s.run_documents.c.sha256)
                connection.execute(s.documents.delete().where(s.documents.c.sha256.not_in(used_documents)))
        with self.read() as connection:
            query = select(s.artifacts.c.sha256).distinct()
            if dry_run and deleted:
                query = query.where(s.artifacts.c.run_id.not_in(deleted))
            referenced = set(connection.execute(query).scalars())
            from ..registry.catalog import referenced_blobs  # registered models and stored datasets

            referenced |= referenced_blobs(self, connection, deleted if dry_run else ())
        removed = freed = 0
        cutoff = time.time() - grace_seconds
        for sha, mtime in list(self.blobs.iter_blobs()):
            if sha in referenced or mtime > cutoff:
                continue
            try:
                freed += self.blobs.fs.size(self.blobs.path(sha)) or 0
                if not dry_run:
                    self.blobs.delete(sha)
                removed += 1
            except FileNotFoundError:
                pass
        temporary = 0
        for path, mtime in list(self.blobs.iter_temporary()):  # left by writers killed mid-write
            if mtime > cutoff:
                continue
            try:
                if not dry_run:
                    self.blobs.fs.rm_file(path)
                temporary += 1
            except FileNotFoundError:
                pass
        return {"runs_purged": len(deleted), "blobs_removed": removed, "bytes_freed": int(freed),
                "temporary_files_removed": temporary}


def _newer_point(table, excluded):
    """The latest value of a metric is replaced only by a later point (a higher step, or the same
    step logged later): a replayed older batch must not take it back."""
    later = (excluded.step == table.c.step) & (excluded.timestamp >= table.c.timestamp)
    return (excluded.step > table.c.step) | later


def _newer_tag(table, excluded):
    """A tag value is replaced only by one set at the same time or later (a synced or replayed older
    value must not take back a newer edit); a row without a time (written before v4) always gives way."""
    return (table.c.updated_time.is_(None) | excluded.updated_time.is_(None)
            | (excluded.updated_time >= table.c.updated_time))


_NEWER = {"latest_metrics": _newer_point, "tags": _newer_tag}  # conditional upserts, by table


def default_artifact_root(uri: str) -> str:
    """``NBTRACK_ARTIFACTS``, else ``artifacts/`` beside a SQLite file, else ``./.nbtrack/artifacts``."""
    configured = os.environ.get("NBTRACK_ARTIFACTS")
    if configured:
        return configured
    if uri.startswith("sqlite") and "///" in uri:
        path = uri.split("///", 1)[1]
        if path and path != ":memory:":
            return os.path.join(os.path.dirname(os.path.abspath(path)), "artifacts")
    return os.path.join(os.getcwd(), ".nbtrack", "artifacts")


def _pg_connect_args(uri: str) -> dict:
    return {"connect_timeout": int(os.environ.get("NBTRACK_CONNECT_TIMEOUT", "5"))}


def _register_password(uri: str) -> None:
    """The store's password is a known secret: redacted wherever it would be recorded or shown."""
    from sqlalchemy.engine import make_url

    from .. import secrets

    try:
        url = make_url(uri)
    except Exception:
        return
    secrets.add_known_secret(url.password)
    for key, value in url.query.items():
        if any(word in key.lower() for word in ("pass", "secret", "token", "key")):
            secrets.add_known_secret(value if isinstance(value, str) else None)


def _is_read_only(error: DBAPIError) -> bool:
    """Whether the database refused a write for want of rights: PostgreSQL's insufficient_privilege
    (42501) or a read-only transaction (25006), SQLite's 'attempt to write a readonly database'."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in ("42501", "25006") or "readonly database" in str(error.orig).lower()


def _short(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return text[0] if text else type(error).__name__
