"""v2 -> v3: every write can be repeated.

- metric points get a unique key (run, key, step, timestamp, value; see ``schema.metric_point_index``)
  after removing the duplicates that retried flushes left (the same point stored twice);
- ``run_notes`` records which notes were appended, so a note is appended once.
"""

from sqlalchemy.engine import Connection

from .. import schema as s

FROM_VERSION = 2


def upgrade(connection: Connection) -> None:
    row = "ctid" if connection.dialect.name == "postgresql" else "rowid"
    connection.exec_driver_sql(f"""
        DELETE FROM metrics WHERE {row} IN (
            SELECT {row} FROM (
                SELECT {row}, row_number() OVER (
                    PARTITION BY run_id, "key", step, "timestamp", is_nan, coalesce(value, 0) ORDER BY {row}) AS n
                FROM metrics) AS numbered
            WHERE n > 1)""")
    connection.exec_driver_sql("DROP INDEX IF EXISTS ix_metrics_run_key_step")
    s.metric_point_index.create(connection)
    s.run_notes.create(connection)
