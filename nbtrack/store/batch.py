"""Batch: everything one flush writes (kept free of SQLAlchemy so logging imports fast)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


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
    notes: list[tuple] = field(default_factory=list)  # run_id, text to append
    heartbeats: list[tuple] = field(default_factory=list)  # run_id, time
    ends: list[tuple] = field(default_factory=list)  # run_id, status, end_time

    def __bool__(self) -> bool:
        return any((self.creates, self.params, self.metrics, self.latest, self.tags, self.artifacts, self.datasets,
                    self.documents, self.notes, self.heartbeats, self.ends))


def document_body(value: Any) -> tuple[str, str]:
    """Canonical JSON of a document and its SHA-256."""
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest(), body
