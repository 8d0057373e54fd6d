"""Continuing a stored run (``Run(resume=run_id)``, MLflow's ``start_run(run_id=...)``).

The run becomes RUNNING again with a fresh heartbeat; what it already holds is read back so
that the continued run keeps the rules of a live one: a param cannot change, a metric's
next automatic step follows its last one, and its latest value stays the one at the
highest step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .store.sql import SqlStore


@dataclass
class StoredRunState:
    """What a continued run starts from."""

    run_id: str
    experiment: str
    name: str
    start_time: float
    parent_run_id: str | None
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    latest: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # key -> (step, value, timestamp)
    next_step: dict[str, int] = field(default_factory=dict)


def reopen_stored_run(store: "SqlStore", run_id: str) -> StoredRunState:
    """Read the stored run ``run_id`` (a unique prefix is enough) and mark it RUNNING again.

    Raises RunNotFoundError when there is no such run, and refuses a deleted run.
    """
    from sqlalchemy import func, select, update

    from .store import schema as s
    from .values import decode_param

    with store.write() as connection:
        full = store.resolve_run_id(run_id, connection)
        row = connection.execute(select(
            s.experiments.c.name, s.runs.c.name, s.runs.c.start_time, s.runs.c.parent_run_id, s.runs.c.deleted,
        ).select_from(s.runs.join(s.experiments, s.runs.c.experiment_id == s.experiments.c.experiment_id))
            .where(s.runs.c.run_id == full)).one()
        if row.deleted:
            raise ValueError(f"run {full[:8]} is deleted: restore it first (nbtrack.restore_run({full[:8]!r}))")
        state = StoredRunState(full, row[0], row[1], row[2], row[3])
        state.params = {key: decode_param(kind, value) for key, kind, value in connection.execute(
            select(s.params.c.key, s.params.c.kind, s.params.c.value).where(s.params.c.run_id == full))}
        state.tags = dict(connection.execute(
            select(s.tags.c.key, s.tags.c.value).where(s.tags.c.run_id == full)).all())
        latest = s.latest_metrics
        for key, step, value, is_nan, moment in connection.execute(select(
                latest.c.key, latest.c.step, latest.c.value, latest.c.is_nan, latest.c.timestamp)
                .where(latest.c.run_id == full)):
            state.latest[key] = (int(step), float("nan") if is_nan or value is None else value, moment)
        history = s.metric_history
        state.next_step = {key: int(top) + 1 for key, top in connection.execute(
            select(history.c.key, func.max(history.c.step)).where(history.c.run_id == full)
            .group_by(history.c.key))}
        now = time.time()
        connection.execute(update(s.runs).where(s.runs.c.run_id == full).values(
            status="RUNNING", end_time=None, heartbeat_time=now))
    return state
