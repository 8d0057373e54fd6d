"""Stores as older nbtrack versions made them (frozen table definitions), for migration tests.

Never import nbtrack.store.schema here: these are what v1 and v2 *were*, whatever schema.py
says today.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
)


def _v2_metadata(step_type=BigInteger) -> MetaData:
    metadata = MetaData()
    Table("nbtrack_meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))
    Table("experiments", metadata,
          Column("experiment_id", Integer, primary_key=True, autoincrement=True),
          Column("name", String(250), nullable=False, unique=True),
          Column("created_time", Float, nullable=False))
    Table("runs", metadata,
          Column("run_id", String(32), primary_key=True),
          Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
          Column("name", String(250), nullable=False), Column("status", String(16), nullable=False),
          Column("start_time", Float, nullable=False), Column("end_time", Float), Column("heartbeat_time", Float),
          Column("parent_run_id", String(32)), Column("notes", Text, nullable=False, default=""),
          Column("deleted", Boolean, nullable=False, default=False),
          Index("ix_runs_experiment_start", "experiment_id", "start_time"), Index("ix_runs_status", "status"))
    run_fk = lambda: ForeignKey("runs.run_id", ondelete="CASCADE")  # noqa: E731
    Table("params", metadata,
          Column("run_id", String(32), run_fk(), primary_key=True), Column("key", String(250), primary_key=True),
          Column("kind", String(1), nullable=False), Column("value", Text, nullable=False),
          Column("value_num", Float), Index("ix_params_key", "key"))
    Table("metrics", metadata,
          Column("run_id", String(32), run_fk(), nullable=False), Column("key", String(250), nullable=False),
          Column("step", step_type, nullable=False), Column("value", Float),
          Column("is_nan", Boolean, nullable=False, default=False), Column("timestamp", Float, nullable=False),
          Index("ix_metrics_run_key_step", "run_id", "key", "step"))
    Table("latest_metrics", metadata,
          Column("run_id", String(32), run_fk(), primary_key=True), Column("key", String(250), primary_key=True),
          Column("step", step_type, nullable=False), Column("value", Float),
          Column("is_nan", Boolean, nullable=False, default=False), Column("timestamp", Float, nullable=False),
          Index("ix_latest_metrics_key_value", "key", "value"))
    Table("tags", metadata,
          Column("run_id", String(32), run_fk(), primary_key=True), Column("key", String(250), primary_key=True),
          Column("value", Text, nullable=False))
    Table("artifacts", metadata,
          Column("run_id", String(32), run_fk(), primary_key=True), Column("name", String(1000), primary_key=True),
          Column("sha256", String(64), nullable=False), Column("size", step_type, nullable=False),
          Column("kind", String(32), nullable=False), Column("media_type", String(100), nullable=False),
          Column("created_time", Float, nullable=False), Index("ix_artifacts_sha256", "sha256"))
    Table("datasets", metadata,
          Column("run_id", String(32), run_fk(), primary_key=True), Column("name", String(250), primary_key=True),
          Column("fingerprint", String(64), nullable=False), Column("info", Text, nullable=False),
          Column("created_time", Float, nullable=False), Index("ix_datasets_fingerprint", "fingerprint"))
    Table("documents", metadata, Column("sha256", String(64), primary_key=True), Column("body", Text, nullable=False))
    Table("run_documents", metadata,
          Column("run_id", String(32), run_fk(), primary_key=True), Column("key", String(64), primary_key=True),
          Column("sha256", String(64), ForeignKey("documents.sha256"), nullable=False))
    return metadata


def create_old_store(uri: str, version: int) -> None:
    """An empty store at schema ``version`` (1: 32-bit steps and sizes; 2: 64-bit)."""
    metadata = _v2_metadata(Integer if version == 1 else BigInteger)
    engine = create_engine(uri)
    with engine.begin() as connection:
        metadata.create_all(connection)
        connection.execute(metadata.tables["nbtrack_meta"].insert().values(key="schema_version", value=str(version)))
    engine.dispose()


def add_old_run(uri: str, run_id: str, points: list[tuple], notes: str = "") -> None:
    """A finished run with metric points (key, step, value, timestamp) written as old clients did:
    plain INSERTs, so a retried flush could leave the same point twice."""
    from sqlalchemy import text

    engine = create_engine(uri)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO experiments (name, created_time) SELECT 'old', 1.0 WHERE NOT EXISTS "
                                "(SELECT 1 FROM experiments WHERE name = 'old')"))
        connection.execute(text(
            "INSERT INTO runs (run_id, experiment_id, name, status, start_time, end_time, heartbeat_time, notes, "
            "deleted) SELECT :r, experiment_id, 'old-run', 'FINISHED', 1.0, 2.0, 2.0, :n, false FROM experiments "
            "WHERE name = 'old'"), {"r": run_id, "n": notes})
        for key, step, value, timestamp in points:
            connection.execute(text('INSERT INTO metrics (run_id, "key", step, value, is_nan, "timestamp") '
                                    "VALUES (:r, :k, :s, :v, :nan, :t)"),
                               {"r": run_id, "k": key, "s": step, "v": None if value != value else value,
                                "nan": value != value, "t": timestamp})
        last = {}
        for key, step, value, timestamp in points:
            last[key] = (step, value, timestamp)
        for key, (step, value, timestamp) in last.items():
            connection.execute(text('INSERT INTO latest_metrics (run_id, "key", step, value, is_nan, "timestamp") '
                                    "VALUES (:r, :k, :s, :v, :nan, :t)"),
                               {"r": run_id, "k": key, "s": step, "v": None if value != value else value,
                                "nan": value != value, "t": timestamp})
    engine.dispose()
