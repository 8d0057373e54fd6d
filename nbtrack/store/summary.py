"""The per-run summary row: a run's params, latest metrics and tags as one JSON text.

``runs()`` reads one ``run_summary`` row per run instead of one row per key (10 params, 5
metrics and 3 tags made 18 rows per run; the row layout itself was the floor). The row is
derived data: :func:`refresh_summaries` rewrites the rows of the given runs from ``params``,
``latest_metrics`` and ``tags`` inside the transaction of the write that changed them, so it is
right by construction whatever the write was (a first write, a batch written twice, a journal
replay, an import, a tag edit). Every write path that changes those tables calls it;
:func:`build_summaries` fills the table for a store made before it existed.

The body is ``{"p": {key: value}, "m": {key: number}, "t": {key: text}}``: params keep their
Python type (lists and dicts included), NaN and infinities are written as Python's ``json``
writes them (``NaN``, ``Infinity``), which its parser reads back.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from sqlalchemy.engine import Connection

from . import schema as s

_SPECIAL_FLOATS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_PARAM_JSON = {  # kind -> JSON text of the stored text (see nbtrack.values.encode_param)
    "i": lambda text: text,
    "f": lambda text: _SPECIAL_FLOATS.get(text, text),
    "b": lambda text: "true" if text == "True" else "false",
    "n": lambda text: "null",
    "j": lambda text: text,
}
REFRESH_CHUNK = 5000  # run ids per statement while refreshing


def _number(value: float | None, is_nan: Any) -> str:
    if is_nan or value is None or value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def _object(pairs: list[str]) -> str:
    return "{" + ",".join(pairs) + "}"


def encode_body(params: list[tuple], metrics: list[tuple], tags: list[tuple]) -> str:
    """The JSON body from (key, kind, text), (key, value, is_nan) and (key, value) rows."""
    dumps = json.dumps
    p = [dumps(k) + ":" + (dumps(t) if kind == "s" else _PARAM_JSON[kind](t)) for k, kind, t in params]
    m = [dumps(k) + ":" + _number(v, nan) for k, v, nan in metrics]
    t = [dumps(k) + ":" + dumps(v) for k, v in tags]
    return '{"p":' + _object(p) + ',"m":' + _object(m) + ',"t":' + _object(t) + "}"


def decode_bodies(bodies: Sequence[str | None]) -> list[dict]:
    """Parse many bodies with one call of the JSON parser (a missing row is an empty run)."""
    if not bodies:
        return []
    empty = '{"p":{},"m":{},"t":{}}'
    return json.loads("[" + ",".join(body or empty for body in bodies) + "]")


def _ids_condition(dialect: str) -> tuple[str, str]:
    """A WHERE fragment matching run_id against one bound list, and its parameter marker."""
    if dialect == "postgresql":
        return "run_id = ANY(%s)", "%s"
    return "run_id IN (SELECT value FROM json_each(?))", "?"


def refresh_summaries(connection: Connection, run_ids: Iterable[str]) -> None:
    """Rewrite the summary rows of ``run_ids`` from the params, latest_metrics and tags tables.

    Call it inside the transaction that changed them. Plain driver SQL: this runs on every flush.
    """
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return
    dialect = connection.dialect.name
    where, marker = _ids_condition(dialect)
    cursor = connection.connection.cursor()
    try:
        for start in range(0, len(ids), REFRESH_CHUNK):
            chunk = ids[start:start + REFRESH_CHUNK]
            bound = (chunk if dialect == "postgresql" else json.dumps(chunk),)
            if dialect == "postgresql":
                # Writers of the same run wait here for each other; READ COMMITTED then lets the
                # reads below see what the other committed (else the later writer's row misses it).
                cursor.execute(f"SELECT run_id FROM run_summary WHERE {where} ORDER BY run_id FOR UPDATE", bound)
            rows: dict[str, tuple[list, list, list]] = {run_id: ([], [], []) for run_id in chunk}
            cursor.execute(f'SELECT run_id, "key", kind, value FROM params WHERE {where}', bound)
            for run_id, key, kind, value in cursor.fetchall():
                rows[run_id][0].append((key, kind, value))
            cursor.execute(f'SELECT run_id, "key", value, is_nan FROM latest_metrics WHERE {where}', bound)
            for run_id, key, value, is_nan in cursor.fetchall():
                rows[run_id][1].append((key, value, is_nan))
            cursor.execute(f'SELECT run_id, "key", value FROM tags WHERE {where}', bound)
            for run_id, key, value in cursor.fetchall():
                rows[run_id][2].append((key, value))
            cursor.executemany(
                f"INSERT INTO run_summary (run_id, body) VALUES ({marker}, {marker}) "
                "ON CONFLICT (run_id) DO UPDATE SET body = excluded.body",
                [(run_id, encode_body(*parts)) for run_id, parts in rows.items()])
    finally:
        cursor.close()


def build_summaries(connection: Connection) -> None:
    """Create ``run_summary`` if needed and fill it for every run (the v2 -> v3 migration)."""
    s.run_summary.create(connection, checkfirst=True)
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SELECT run_id FROM runs")
        ids = [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()
    refresh_summaries(connection, ids)


def touched_runs(batch: Any) -> set[str]:
    """The runs whose summary a batch changes: new runs and runs with params, latest metrics or tags."""
    touched = {row[0] for row in batch.creates}
    touched.update(row[0] for row in batch.params)
    touched.update(run_id for run_id, _key in batch.latest)
    touched.update(row[0] for row in batch.tags)
    return touched
