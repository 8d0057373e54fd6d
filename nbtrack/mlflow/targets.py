"""Where a call with a ``run_id`` logs: the live Run of this process, else the stored run.

A live run (started here by ``start_run`` / ``MlflowClient.create_run``, or the active nbtrack
run) buffers as usual. Any other stored run is written at once through the store's batch
primitive, with the rules of a live run: a param cannot change, the latest value of a metric
is the one at the highest step (then the latest timestamp), secrets are redacted.
"""

from __future__ import annotations

import time
import uuid
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore

_live: "weakref.WeakValueDictionary[str, Any]" = weakref.WeakValueDictionary()


def remember(run: Any) -> Any:
    """Register a Run started through nbtrack.mlflow so that calls naming its id reach it."""
    _live[run.run_id] = run
    return run


def live_run(run_id: str) -> Any | None:
    from ..run import active_run

    run = _live.get(run_id)
    if run is not None and run.status == "RUNNING":
        return run
    active = active_run()
    if active is not None and active.run_id == run_id:
        return active
    return None


def target(run_id: str, store: "SqlStore | None" = None) -> Any:
    """A live Run, or a :class:`StoredRun` writing to the stored run ``run_id`` (a unique prefix is enough)."""
    from .. import config

    run = live_run(run_id)
    if run is not None:
        return run
    store = store or config.get_store()
    return StoredRun(store, store.resolve_run_id(run_id))


class StoredRun:
    """Synchronous writes to a stored run, with the same methods as a Run."""

    def __init__(self, store: "SqlStore", run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self.store_uri = store.uri  # what nbtrack.artifacts needs to find the blob store

    def _write(self, **rows: Any) -> None:
        from ..store.batch import Batch

        self.store.write_batch(Batch(**rows))

    def log_params(self, params: dict[str, Any]) -> None:
        from sqlalchemy import select

        from ..errors import ParamConflictError
        from ..store import schema as s
        from ..values import check_key, decode_param, encode_param, normalize_param

        values = {check_key("param", k): _redacted(k, normalize_param(k, v)) for k, v in params.items()}
        with self.store.read() as connection:
            stored = {key: decode_param(kind, text) for key, kind, text in connection.execute(
                select(s.params.c.key, s.params.c.kind, s.params.c.value)
                .where(s.params.c.run_id == self.run_id, s.params.c.key.in_(list(values))))}
        for key, value in values.items():
            if key in stored and stored[key] != value:
                raise ParamConflictError(key, stored[key], value)
        self._write(params=[(self.run_id, k, *encode_param(v)) for k, v in values.items() if k not in stored])

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        from ..values import check_key, tag_value

        self._write(tags=[(self.run_id, check_key("tag", k), _redacted(k, tag_value(k, v))) for k, v in tags.items()])

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def log_points(self, points: list[tuple[str, Any, int, float]]) -> None:
        """Write metric points ``(key, value, step, timestamp seconds)`` and move each key's latest value on."""
        from sqlalchemy import select

        from ..store import schema as s
        from ..values import check_key, metric_value

        rows = [(self.run_id, check_key("metric", k), int(step), metric_value(k, v), float(moment))
                for k, v, step, moment in points]
        if not rows:
            return
        latest = s.latest_metrics
        with self.store.read() as connection:
            current = {key: (step, moment) for key, step, moment in connection.execute(
                select(latest.c.key, latest.c.step, latest.c.timestamp)
                .where(latest.c.run_id == self.run_id, latest.c.key.in_({r[1] for r in rows})))}
        newest: dict[tuple, tuple] = {}
        for _, key, step, value, moment in rows:
            prior = current.get(key)
            if prior is None or (step, moment) >= prior:
                current[key] = (step, moment)
                newest[(self.run_id, key)] = (step, value, moment)
        self._write(metrics=rows, latest=newest)

    def log_metric(self, key: str, value: Any, step: int | None = None, timestamp: float | None = None) -> None:
        self.log_points([(key, value, step or 0, time.time() if timestamp is None else timestamp)])

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None, timestamp: float | None = None) -> None:
        moment = time.time() if timestamp is None else timestamp
        self.log_points([(key, value, step or 0, moment) for key, value in metrics.items()])

    def log_artifact(self, obj: Any, name: str | None = None) -> str:
        from ..artifacts import prepare_artifacts

        rows, shown = prepare_artifacts(self, obj, name)
        self._write(artifacts=rows)
        return shown

    def log_dataset(self, data: Any, name: str) -> dict:
        import json

        from ..datasets import fingerprint
        from ..values import check_key

        info = fingerprint(data)
        self._write(datasets=[{"run_id": self.run_id, "name": check_key("dataset", name),
                               "fingerprint": info["fingerprint"], "info": json.dumps(info, default=str),
                               "created_time": time.time()}])
        return info

    def log_note(self, text: str) -> None:
        from ..secrets import redact

        self._write(notes=[(self.run_id, uuid.uuid4().hex, redact(text) + ("" if text.endswith("\n") else "\n"))])


def _redacted(name: str, value: Any) -> Any:
    from ..secrets import redact_value

    return redact_value(value, name, []) if isinstance(value, (str, dict, list)) else value
