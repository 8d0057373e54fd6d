"""Batch: everything one flush writes (kept free of SQLAlchemy so logging imports fast).

A batch can also be taken apart into items (one row each, in write order) and rebuilt, which is
how a batch holding a row the store can never accept is split until that row is isolated, and
turned into JSON-able records for the local journal.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from array import array
from collections import Counter
from dataclasses import dataclass, field
from itertools import groupby, repeat
from operator import itemgetter
from typing import Any, Iterable, Iterator

# The parts of a batch in the order write_batch applies them; "latest" items are ((run_id, key), point).
PARTS = ("creates", "params", "metrics", "latest", "tags", "artifacts", "datasets", "documents", "notes",
         "heartbeats", "ends")


@dataclass
class Batch:
    """Everything one flush writes. Rows are tuples in the column order of their table."""

    creates: list[tuple] = field(default_factory=list)  # run_id, experiment, name, start_time, parent_run_id
    params: list[tuple] = field(default_factory=list)  # run_id, key, kind, value, value_num
    metrics: list[tuple] = field(default_factory=list)  # run_id, key, step, value, timestamp
    latest: dict[tuple, tuple] = field(default_factory=dict)  # (run_id, key) -> (step, value, timestamp)
    tags: list[tuple] = field(default_factory=list)  # run_id, key, value
    artifacts: list[dict] = field(default_factory=list)
    datasets: list[dict] = field(default_factory=list)
    documents: list[tuple] = field(default_factory=list)  # run_id, key, json-able value
    notes: list[tuple] = field(default_factory=list)  # run_id, note_id, text to append
    heartbeats: list[tuple] = field(default_factory=list)  # run_id, time
    ends: list[tuple] = field(default_factory=list)  # run_id, status, end_time

    def __bool__(self) -> bool:
        return any((self.creates, self.params, self.metrics, self.latest, self.tags, self.artifacts, self.datasets,
                    self.documents, self.notes, self.heartbeats, self.ends))

    def items(self) -> Iterator[tuple[str, Any]]:
        """(part, row) for every row, in write order."""
        for part in PARTS:
            rows = getattr(self, part)
            yield from ((part, row) for row in (rows.items() if part == "latest" else rows))

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, Any]]) -> "Batch":
        batch = cls()
        for part, row in items:
            if part == "latest":
                batch.latest[row[0]] = row[1]
            else:
                getattr(batch, part).append(row)
        return batch

    def extend(self, later: "Batch") -> None:
        """Append ``later``'s rows after this batch's (what is written last wins, as it would have)."""
        for part in PARTS:
            if part == "latest":
                for key, point in later.latest.items():
                    held = self.latest.get(key)
                    if held is None or (point[0], point[2]) >= (held[0], held[2]):
                        self.latest[key] = point
            else:
                getattr(self, part).extend(getattr(later, part))

    def run_ids(self) -> set[str]:
        found = {run_id for run_id, _ in self.latest}
        for part in PARTS:
            if part != "latest":
                found.update(row_run_id(part, row) for row in _distinct_runs(getattr(self, part)))
        return found

    def count_points(self) -> dict[str, int]:
        """Metric points per run."""
        return dict(Counter(map(itemgetter(0), self.metrics)))

    def to_record(self) -> dict:
        """A JSON-able form (metric points as packed columns, documents as their canonical JSON text)."""
        record: dict[str, Any] = {}
        for part in PARTS:
            rows = getattr(self, part)
            if not rows or part == "heartbeats":  # a replayed heartbeat would claim a dead run is alive
                continue
            if part == "latest":
                record[part] = [[run_id, key, *point] for (run_id, key), point in rows.items()]
            elif part == "metrics":
                record[part] = _pack_points(rows)
            elif part == "documents":
                record[part] = [[run_id, key, document_body_or_error(key, value)[1]] for run_id, key, value in rows]
            else:
                record[part] = [list(row) if isinstance(row, tuple) else row for row in rows]
        return record

    @classmethod
    def from_record(cls, record: dict) -> "Batch":
        batch = cls()
        for part, rows in record.items():
            if part not in PARTS:
                raise ValueError(f"unknown batch part {part!r}")
            if part == "latest":
                batch.latest = {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}
            elif part == "metrics":
                batch.metrics = _unpack_points(rows)
            elif part == "documents":
                batch.documents = [(r[0], r[1], json.loads(r[2])) for r in rows]
            elif part in ("artifacts", "datasets"):
                setattr(batch, part, [dict(row) for row in rows])
            else:
                setattr(batch, part, [tuple(row) for row in rows])
        return batch


def _pack_points(points: list[tuple]) -> list[list]:
    """Metric points as one entry per run and key: [run_id, key, steps, values, timestamps], each
    column a base64 array of little-endian int64/float64 (exact, NaN and infinities included, and
    an order of magnitude faster to write and read than JSON numbers)."""
    series = list(map(itemgetter(0, 1), points))
    order = sorted(range(len(points)), key=series.__getitem__)  # stable: each series keeps its order
    packed = []
    for (run_id, key), indexes in groupby(order, key=series.__getitem__):
        _, _, steps, values, moments = zip(*map(points.__getitem__, indexes))
        packed.append([run_id, key, _column("q", steps), _column("d", values), _column("d", moments)])
    return packed


def _unpack_points(packed: list[list]) -> list[tuple]:
    points: list[tuple] = []
    for run_id, key, steps, values, moments in packed:
        steps, values, moments = _uncolumn("q", steps), _uncolumn("d", values), _uncolumn("d", moments)
        points.extend(zip(repeat(run_id), repeat(key), steps, values, moments))
    return points


def _column(code: str, values: tuple) -> str:
    packed = array(code, values)
    if sys.byteorder == "big":  # pragma: no cover
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _uncolumn(code: str, text: str) -> list:
    packed = array(code)
    packed.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":  # pragma: no cover
        packed.byteswap()
    return packed.tolist()


def _distinct_runs(rows: list) -> list:
    """One row per run of ``rows`` (rows of one run usually come together: cheap to skip)."""
    picked, last = [], None
    for row in rows:
        run_id = row["run_id"] if isinstance(row, dict) else row[0]
        if run_id != last:
            picked.append(row)
            last = run_id
    return picked


def row_run_id(part: str, row: Any) -> str:
    """The run a batch row belongs to."""
    if part == "latest":
        return row[0][0]
    return row["run_id"] if isinstance(row, dict) else row[0]


def row_key(part: str, row: Any) -> str:
    """What a row is about, for messages: a param/metric/tag key, an artifact/dataset name, ..."""
    if part == "latest":
        return row[0][1]
    if part in ("artifacts", "datasets"):
        return row["name"]
    if part in ("params", "metrics", "tags", "documents"):
        return row[1]
    return {"creates": "the run itself", "notes": "a note", "ends": "its end status", "heartbeats": "a heartbeat"}[part]


def document_body(value: Any) -> tuple[str, str]:
    """Canonical JSON of a document and its SHA-256."""
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest(), body


def document_body_or_error(key: str, value: Any) -> tuple[str, str]:
    """``document_body``, or a document saying why the value is not JSON (never blocks the run's other data)."""
    try:
        return document_body(value)
    except (TypeError, ValueError, RecursionError) as error:
        return document_body({"error": f"document {key!r} is not JSON-able: {type(error).__name__}: {error}"})
