"""The per-run summary row: a run's params, latest metrics and tags as one JSON text.

``runs()`` reads one ``run_summary`` row per run instead of one row per key (10 params, 5
metrics and 3 tags made 18 rows per run; the row layout itself was the floor). The row is
derived data: :func:`refresh_summaries` rewrites the rows of the given runs from ``params``,
``latest_metrics`` and ``tags`` inside the transaction of the write that changed them, so it is
right by construction whatever the write was (a first write, a batch written twice, a journal
replay, an import, a tag edit). Every write path that changes those tables calls it;
:func:`build_summaries` fills the table for a store made before it existed.

The body is strict JSON, ``{"p": {key: value}, "m": {key: number}, "t": {key: text}}``, parsed by
orjson (2-3x the standard parser; runs() and summarize_runs spend most of their time here):
params keep their Python type (lists and dicts included), a NaN metric is ``null``. What strict
JSON cannot hold exactly (non-finite floats, integers beyond 64 bits, lists holding either) goes
to ``"x"`` as ``{"p:<key>": [kind, text], "m:<key>": text}`` and is decoded by nbtrack.
"""

from __future__ import annotations

import gc
import json
import math
import re
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

import orjson
from sqlalchemy.engine import Connection

from ..values import decode_param
from . import driver
from . import schema as s

REFRESH_CHUNK = 5000  # run ids per statement while refreshing
EMPTY_BODY = '{"p":{},"m":{},"t":{}}'
NAN = float("nan")  # one object for every NaN param: sets count them as one value
_INT64 = 2**63
_NOT_STRICT = re.compile(r"NaN|Infinity|\d{19}")  # in a list/dict param's JSON text (json.dumps allow_nan)


def _param_json(kind: str, text: str) -> str | None:
    """The strict JSON of a stored param (see nbtrack.values.encode_param), or None when it has none."""
    if kind == "s":
        return json.dumps(text)
    if kind == "i":
        return text if -_INT64 < int(text) < _INT64 else None
    if kind == "f":
        return text if math.isfinite(float(text)) else None
    if kind == "b":
        return "true" if text == "True" else "false"
    if kind == "n":
        return "null"
    return None if _NOT_STRICT.search(text) else text


def _object(pairs: list[str]) -> str:
    return "{" + ",".join(pairs) + "}"


def encode_body(params: list[tuple], metrics: list[tuple], tags: list[tuple]) -> str:
    """The JSON body from (key, kind, text), (key, value, is_nan) and (key, value) rows."""
    dumps = json.dumps
    p, m, x = [], [], []
    for key, kind, text in params:
        value = _param_json(kind, text)
        if value is None:
            x.append(dumps("p:" + key) + ":" + dumps([kind, text]))
        else:
            p.append(dumps(key) + ":" + value)
    for key, value, is_nan in metrics:
        if is_nan or value is None or value != value:
            m.append(dumps(key) + ":null")
        elif math.isinf(value):
            x.append(dumps("m:" + key) + ":" + dumps(repr(value)))
        else:
            m.append(dumps(key) + ":" + repr(float(value)))
    t = [dumps(k) + ":" + dumps(v) for k, v in tags]
    body = '{"p":' + _object(p) + ',"m":' + _object(m) + ',"t":' + _object(t)
    return body + (',"x":' + _object(x) + "}" if x else "}")


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Hold off the cyclic collector: hundreds of thousands of new dicts would make it rescan them
    again and again (they hold no cycles: what dies inside the block is freed by reference counts)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def decode_bodies(bodies: Sequence[str | None]) -> list[dict]:
    """Parse many bodies with one call of the JSON parser (a missing row is an empty run).

    A NaN metric comes back as None; values that strict JSON cannot hold come back exactly.
    """
    if not bodies:
        return []
    text = "[" + ",".join(body or EMPTY_BODY for body in bodies) + "]"
    with no_cyclic_gc():
        docs = orjson.loads(text)
    for doc in docs:
        if "x" in doc:
            for where, value in doc.pop("x").items():
                if where.startswith("p:"):
                    param = decode_param(*value)
                    doc["p"][where[2:]] = NAN if isinstance(param, float) and param != param else param
                else:
                    doc["m"][where[2:]] = float(value)
    return docs


def refresh_summaries(connection: Connection, run_ids: Iterable[str]) -> None:
    """Rewrite the summary rows of ``run_ids`` from the params, latest_metrics and tags tables.

    Call it inside the transaction that changed them. Plain driver SQL: this runs on every flush.
    """
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return
    dialect = connection.dialect.name
    where, marker = driver.ids_condition(dialect), driver.marker(dialect)
    with driver.cursor_of(connection) as cursor:
        for start in range(0, len(ids), REFRESH_CHUNK):
            chunk = ids[start:start + REFRESH_CHUNK]
            bound = (driver.ids_parameter(dialect, chunk),)
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
