"""v5 -> v6: who and where, and what sync needs.

- ``runs.user_name``, ``runs.host_name``: who started the run, on which machine (NULL for older runs);
- ``runs.updated_time``: the database clock at the last write touching the run (indexed: sync's cursor),
  filled from the heartbeat (else the end, else the start) of existing runs;
- ``runs.name_time``, ``runs.deleted_time``, ``tags.updated_time``: when each was last set, so the later
  of two edits wins when runs are synced (existing names count as set at the run's start);
- ``run_notes.text``, ``run_notes.created_time``: each note itself, so sync can send it once; the notes of
  an existing run become one note (``legacy``) holding their text.
"""

from sqlalchemy import Float, String, Text, inspect
from sqlalchemy.engine import Connection

from .. import schema as s

FROM_VERSION = 5

_COLUMNS = (("runs", "user_name", String(250)), ("runs", "host_name", String(250)), ("runs", "updated_time", Float()),
            ("runs", "name_time", Float()), ("runs", "deleted_time", Float()), ("tags", "updated_time", Float()),
            ("run_notes", "text", Text()), ("run_notes", "created_time", Float()))


def upgrade(connection: Connection) -> None:
    dialect = connection.dialect
    for table, column, kind in _COLUMNS:
        # v0003 creates run_notes from schema.py, which already has the v6 columns
        if column in {c["name"] for c in inspect(connection).get_columns(table)}:
            continue
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD COLUMN "{column}" {kind.compile(dialect=dialect)}')
    connection.exec_driver_sql(
        "UPDATE runs SET updated_time = coalesce(heartbeat_time, end_time, start_time), name_time = start_time")
    connection.exec_driver_sql(
        "INSERT INTO run_notes (run_id, note_id, text, created_time) "
        "SELECT run_id, 'legacy', notes, start_time FROM runs WHERE notes IS NOT NULL AND notes <> ''")
    next(i for i in s.runs.indexes if i.name == "ix_runs_updated_time").create(connection)
