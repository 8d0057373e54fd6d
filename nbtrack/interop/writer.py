"""Write imported runs into the nbtrack store: one batch per run, idempotently.

A run whose id is already in the store is skipped (importing twice adds nothing); each run
records where it came from in the ``nbtrack.imported_from`` tag and the ``imported``
document. A run that cannot be written is reported with its reason and the others go on.
"""

from __future__ import annotations

import mimetypes
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from ..store.batch import Batch
from .model import IMPORTED_FROM_TAG, ImportedRun, SkippedRun
from .progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    from ..store.sql import SqlStore

CHUNK = 50  # runs looked up at once for idempotence, and written in one transaction
CHUNK_POINTS = 100_000  # ... unless they hold more metric points than this


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source id, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (source id, what was left out)
    points: int = 0
    artifacts: int = 0

    def summary(self, system: str) -> str:
        parts = [f"imported {len(self.imported)} runs from {system} ({self.points:,} metric points, "
                 f"{self.artifacts} artifacts)"]
        if self.already:
            parts.append(f"{len(self.already)} already imported (unchanged)")
        if self.failed:
            parts.append(f"{len(self.failed)} could not be imported")
        return "; ".join(parts)


def _existing(store: "SqlStore", run_ids: list[str]) -> set[str]:
    from sqlalchemy import select

    from ..store import schema as s

    with store.read() as connection:
        return set(connection.execute(select(s.runs.c.run_id).where(s.runs.c.run_id.in_(run_ids))).scalars())


def _latest(run_id: str, points: list[tuple[str, int, float, float]]) -> dict[tuple, tuple]:
    """The latest point of each key: highest step, then latest time, then largest value (MLflow's rule)."""
    best: dict[str, tuple] = {}
    for key, step, value, moment in points:
        rank = (step, moment, -1e308 if value != value else value)
        current = best.get(key)
        if current is None or rank >= current[0]:
            best[key] = (rank, (step, value, moment))
    return {(run_id, key): point for key, (_, point) in best.items()}


def _artifact_rows(store: "SqlStore", run: ImportedRun, report: ImportReport) -> list[dict]:
    from ..store.blobs import safe_artifact_name

    rows = []
    for artifact in run.artifacts:
        try:
            name = safe_artifact_name(artifact.name)
            if artifact.path is not None:
                digest, size = store.blobs.put_file(artifact.path)
            else:
                digest, size = store.blobs.put_bytes(artifact.read())
        except Exception as error:  # noqa: BLE001 - one unreadable file does not lose the run
            report.warnings.append((run.source_id, f"artifact {artifact.name!r} not copied: {error}"))
            continue
        media_type = artifact.media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        rows.append({"run_id": run.run_id, "name": name, "sha256": digest, "size": size, "kind": artifact.kind,
                     "media_type": media_type, "created_time": artifact.created_time or time.time()})
    return rows


def _redacted(run: ImportedRun) -> None:
    """Secrets in another tracker's params, tags, notes and documents are redacted as nbtrack's own
    are when logged (nbtrack.secrets), and listed in the run's ``redactions`` document."""
    from .. import secrets

    rows: list[dict] = list(run.documents.get("redactions") or [])

    def clean(where: str, value, name=None):
        findings: list = []
        redacted = secrets.redact_value(value, name, findings)
        if redacted != value:  # a value redacted before (by nbtrack, then exported) is not counted again
            rows.extend(secrets.summarize(where, findings))
        return redacted

    run.params = {k: clean(f"params.{k}", v, k) for k, v in run.params.items()}
    run.tags = {k: clean(f"tags.{k}", v, k) for k, v in run.tags.items()}
    run.notes = clean("notes", run.notes)
    for key, value in list(run.documents.items()):
        if key != "redactions":
            findings: list = []
            redacted = secrets.redact_document(value, findings)
            if redacted != value:
                run.documents[key] = redacted
                rows.extend(secrets.summarize(f"documents.{key}", findings))
    if rows:
        run.documents["redactions"] = rows


def batch_for(store: "SqlStore", run: ImportedRun, report: ImportReport) -> Batch:
    """Everything about one imported run as one batch (params, every metric point, tags, artifacts, ...)."""
    import json

    from ..values import check_key, check_name, encode_param, normalize_param, tag_value

    _redacted(run)

    check_name("experiment name", run.experiment)
    check_name("run name", run.name)
    run_id = run.run_id
    batch = Batch(creates=[(run_id, run.experiment, run.name, run.start_time, run.parent_run_id)])
    batch.params = [(run_id, check_key("param", k), *encode_param(normalize_param(k, v)))
                    for k, v in run.params.items()]
    batch.metrics = [(run_id, key, step, value, moment) for key, step, value, moment in run.metrics]
    batch.latest = _latest(run_id, run.metrics)
    points = {(key, step, value) for key, step, value, _ in run.metrics} if run.latest else set()
    for key, (step, value, moment) in run.latest.items():  # the source knew better (e.g. ties within a ms)
        if (key, step, value) in points:
            batch.latest[(run_id, key)] = (step, value, moment)
    tags = dict(run.tags)
    if run.provenance:
        tags[IMPORTED_FROM_TAG] = run.imported_from
    batch.tags = [(run_id, check_key("tag", k), tag_value(k, v)) for k, v in tags.items()]
    batch.artifacts = _artifact_rows(store, run, report)
    batch.datasets = [{"run_id": run_id, "name": d["name"], "fingerprint": d["fingerprint"][:64],
                       "info": json.dumps(d.get("info", {}), default=str), "created_time": run.start_time}
                      for d in run.datasets]
    documents = dict(run.documents)
    if run.provenance:
        documents["imported"] = {"system": run.system, "source_id": run.source_id, "imported_at": time.time(),
                                 "warnings": list(run.warnings)}
    batch.documents = [(run_id, key, value) for key, value in documents.items()]
    if run.notes:
        batch.notes = [(run_id, uuid.uuid4().hex, run.notes if run.notes.endswith("\n") else run.notes + "\n")]
    if run.status != "RUNNING":
        end = run.end_time if run.end_time is not None else run.start_time
        batch.ends = [(run_id, run.status, end)]
    return batch


def _merged(batches: list[Batch]) -> Batch:
    merged = Batch()
    for batch in batches:
        merged.extend(batch)
    return merged


def write_runs(store: "SqlStore", runs: Iterable[ImportedRun | SkippedRun], system: str,
               total: int | None = None, progress: Progress | None = None) -> ImportReport:
    """Write ``runs`` into ``store``; returns what was imported, skipped and why.

    The runs of a chunk go in one transaction (one ``write_batch``); when it fails, each run is
    written alone, so that one bad run is reported and the others still land.
    """
    report = ImportReport()
    progress = progress or Progress(total, f"importing from {system}")
    pending: list[ImportedRun | SkippedRun] = []

    def written(run: ImportedRun) -> None:
        report.imported.append(run.run_id)
        report.points += len(run.metrics)
        report.artifacts += len(run.artifacts)
        report.warnings.extend((run.source_id, warning) for warning in run.warnings)

    def flush() -> None:
        wanted = [r.run_id for r in pending if isinstance(r, ImportedRun)]
        present = _existing(store, wanted) if wanted else set()
        ready: list[tuple[ImportedRun, Batch]] = []
        for run in pending:
            progress.advance()
            if isinstance(run, SkippedRun):
                report.failed.append((run.source_id, run.reason))
            elif run.run_id in present:
                report.already.append(run.run_id)
            else:
                try:
                    ready.append((run, batch_for(store, run, report)))
                    present.add(run.run_id)
                except Exception as error:  # noqa: BLE001 - reported; the other runs go on
                    report.failed.append((run.source_id, f"{type(error).__name__}: {error}"))
        pending.clear()
        if not ready:
            return
        try:
            store.write_batch(_merged([batch for _, batch in ready]))
        except Exception:  # noqa: BLE001 - find the run that fails, write the others
            for run, batch in ready:
                try:
                    store.write_batch(batch)
                except Exception as error:  # noqa: BLE001 - reported; the other runs go on
                    report.failed.append((run.source_id, f"{type(error).__name__}: {error}"))
                    continue
                written(run)
            return
        for run, _ in ready:
            written(run)

    points = 0
    try:
        for run in runs:
            pending.append(run)
            points += len(run.metrics) if isinstance(run, ImportedRun) else 0
            if len(pending) >= CHUNK or points >= CHUNK_POINTS:
                flush()
                points = 0
        flush()
    finally:
        progress.close()
    return report
