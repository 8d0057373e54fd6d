"""v1 -> v2: 64-bit metric steps and artifact sizes (SQLite integers already are)."""

from sqlalchemy.engine import Connection

FROM_VERSION = 1


def upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        for table, column in (("metrics", "step"), ("latest_metrics", "step"), ("artifacts", "size")):
            connection.exec_driver_sql(f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE BIGINT')
