"""RunRecord and ArtifactRecord: one stored run, read back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..errors import ArtifactNotFoundError
from ..values import decode_param
from . import schema as s

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..registry.lineage import Lineage
    from .sql import SqlStore


@dataclass(frozen=True)
class ArtifactRecord:
    """A stored artifact: its name in the run, content hash, size and kind."""

    run_id: str
    name: str
    sha256: str
    size: int
    kind: str
    media_type: str
    created_time: float
    store: "SqlStore" = field(repr=False, compare=False)

    def read_bytes(self) -> bytes:
        return self.store.blobs.read_bytes(self.sha256)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def open(self):
        """The content as a binary file object, read as it goes (for large artifacts on object storage)."""
        return self.store.blobs.open(self.sha256)

    def local_path(self) -> str | None:
        """Path of the content on this machine (None when artifacts live on a remote file system)."""
        return self.store.blobs.local_path(self.sha256)

    def load(self) -> Any:
        """Load the artifact as an object: unpickles pickled objects, so only load what you trust."""
        from ..artifact_kinds import artifact_kind

        return artifact_kind(self.kind).load(self.read_bytes(), self.name, self.media_type)


@dataclass
class RunRecord:
    """Everything recorded about one run. Documents and metric histories load on demand."""

    run_id: str
    experiment: str
    name: str
    status: str
    start_time: float
    end_time: float | None
    parent_run_id: str | None
    deleted: bool
    notes: str
    params: dict[str, Any]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifacts: list[ArtifactRecord]
    datasets: list[dict]
    document_keys: list[str]
    store: "SqlStore" = field(repr=False)
    _documents: dict[str, Any] = field(default_factory=dict, repr=False)
    user: str | None = None  # who started the run, on which host (None for runs of before schema v6)
    host: str | None = None

    @property
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.start_time

    def document(self, key: str, default: Any = None) -> Any:
        """A JSON document attached to the run (``environment``, ``notebook``, ``history``, ...)."""
        if key not in self._documents:
            with self.store.read() as connection:
                body = connection.execute(select(s.documents.c.body).select_from(
                    s.run_documents.join(s.documents, s.run_documents.c.sha256 == s.documents.c.sha256)
                ).where(s.run_documents.c.run_id == self.run_id, s.run_documents.c.key == key)).scalar()
            self._documents[key] = None if body is None else json.loads(body)
        value = self._documents[key]
        return default if value is None else value

    @property
    def environment(self) -> dict:
        return self.document("environment", {})

    @property
    def error(self) -> dict | None:
        return self.document("error")

    @property
    def lineage(self) -> "Lineage":
        """Datasets and models this run used, model versions it produced, parents, children
        (:class:`nbtrack.registry.lineage.Lineage`)."""
        from ..registry.lineage import lineage_of

        return lineage_of(self)

    def metric_history(self, key: str) -> "pd.DataFrame":
        """Every point logged for ``key``: step, value, timestamp (UTC)."""
        from .query import metric_histories

        return metric_histories(self.store, [self.run_id], key).drop(columns="run_id")

    def artifact(self, name: str) -> ArtifactRecord:
        for record in self.artifacts:
            if record.name == name:
                return record
        raise ArtifactNotFoundError(self.run_id, name, [a.name for a in self.artifacts])

    def to_dict(self) -> dict:
        """A JSON-able summary (no documents, no artifact contents)."""
        return {
            "run_id": self.run_id, "experiment": self.experiment, "name": self.name,
            "status": self.status, "start_time": self.start_time, "end_time": self.end_time,
            "duration": self.duration, "parent_run_id": self.parent_run_id, "deleted": self.deleted,
            "user": self.user, "host": self.host,
            "notes": self.notes, "params": self.params, "metrics": self.metrics, "tags": self.tags,
            "datasets": self.datasets,
            "artifacts": [{"name": a.name, "sha256": a.sha256, "size": a.size, "kind": a.kind,
                           "media_type": a.media_type} for a in self.artifacts],
        }


def load_run(store: "SqlStore", run_id: str) -> RunRecord:
    """Read one run (``run_id`` may be a unique prefix)."""
    store.mark_stale_runs()
    with store.read() as connection:
        full = store.resolve_run_id(run_id, connection)
        row = connection.execute(select(
            s.runs.c.run_id, s.experiments.c.name, s.runs.c.name, s.runs.c.status, s.runs.c.start_time,
            s.runs.c.end_time, s.runs.c.parent_run_id, s.runs.c.deleted, s.runs.c.notes,
            s.runs.c.user_name, s.runs.c.host_name,
        ).select_from(s.runs.join(s.experiments, s.runs.c.experiment_id == s.experiments.c.experiment_id))
            .where(s.runs.c.run_id == full)).one()
        params = {key: decode_param(kind, value) for key, kind, value in connection.execute(
            select(s.params.c.key, s.params.c.kind, s.params.c.value).where(s.params.c.run_id == full)
            .order_by(s.params.c.key))}
        metrics = {key: (float("nan") if is_nan or value is None else value) for key, value, is_nan in
                   connection.execute(select(s.latest_metrics.c.key, s.latest_metrics.c.value,
                                             s.latest_metrics.c.is_nan)
                                      .where(s.latest_metrics.c.run_id == full).order_by(s.latest_metrics.c.key))}
        tags = dict(connection.execute(select(s.tags.c.key, s.tags.c.value).where(s.tags.c.run_id == full)
                                       .order_by(s.tags.c.key)).all())
        artifacts = [ArtifactRecord(full, r.name, r.sha256, r.size, r.kind, r.media_type, r.created_time, store)
                     for r in connection.execute(select(s.artifacts).where(s.artifacts.c.run_id == full)
                                                 .order_by(s.artifacts.c.created_time, s.artifacts.c.name))]
        datasets = [dict(json.loads(r.info), name=r.name, fingerprint=r.fingerprint)
                    for r in connection.execute(select(s.datasets).where(s.datasets.c.run_id == full)
                                                .order_by(s.datasets.c.created_time))]
        keys = list(connection.execute(select(s.run_documents.c.key).where(s.run_documents.c.run_id == full)
                                       .order_by(s.run_documents.c.key)).scalars())
    return RunRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8] or "",
                     params, metrics, tags, artifacts, datasets, keys, store, user=row[9], host=row[10])
