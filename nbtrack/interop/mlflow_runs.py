"""One MLflow run, as either MLflow reader found it, into an ImportedRun.

MLflow keeps as tags what nbtrack keeps as fields: ``mlflow.runName`` (the name),
``mlflow.parentRunId`` (the parent) and ``mlflow.note.content`` (the notes); they become
those fields. Every other tag, ``mlflow.user`` and ``mlflow.source.*`` included, stays a tag.

A run that nbtrack exported (tag ``nbtrack.run_id``, artifact ``nbtrack/run.json``) comes
back as it was: its nbtrack id, typed params, documents, datasets and artifact kinds, without
the tags and artifacts the export added for the MLflow UI.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .model import ArtifactSource, ImportedRun, nbtrack_run_id

EXPORT_ID_TAG = "nbtrack.run_id"
EXPORT_RECORD = "nbtrack/run.json"
NAME_TAG, PARENT_TAG, NOTE_TAG = "mlflow.runName", "mlflow.parentRunId", "mlflow.note.content"
STATUSES = {"RUNNING": "RUNNING", "SCHEDULED": "RUNNING", "FINISHED": "FINISHED", "FAILED": "FAILED",
            "KILLED": "KILLED"}
FLOAT_MAX = 1.7976931348623157e308  # MLflow's SQL stores keep infinities as this


@dataclass
class MlflowRun:
    """What both readers find for a run (times in ms, as MLflow keeps them)."""

    run_id: str
    experiment: str
    name: str | None
    status: str
    start_ms: int | None
    end_ms: int | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[tuple[str, int, float, float]] = field(default_factory=list)  # key, step, value, seconds
    artifacts: list[ArtifactSource] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sql_metric_value(value: float, is_nan: bool) -> float:
    if is_nan:
        return math.nan
    if value in (FLOAT_MAX, -FLOAT_MAX):
        return math.copysign(math.inf, value)
    return value


def _exported_record(run: MlflowRun) -> dict | None:
    if EXPORT_ID_TAG not in run.tags:
        return None
    source = next((a for a in run.artifacts if a.name == EXPORT_RECORD), None)
    if source is None:
        return None
    data = source.read() if source.read is not None else open(source.path, "rb").read()
    try:
        record = json.loads(data)
    except ValueError:
        run.warnings.append(f"{EXPORT_RECORD} is not JSON: imported as an MLflow run")
        return None
    return record if isinstance(record, dict) and record.get("format") == 1 else None


def to_imported(run: MlflowRun, id_for: Callable[[str], str]) -> ImportedRun:
    """The ImportedRun of ``run``; ``id_for`` maps an MLflow run id to its nbtrack id (for parents)."""
    from ..values import decode_param

    tags = dict(run.tags)
    name = tags.pop(NAME_TAG, None) or run.name or run.run_id[:8]
    parent = tags.pop(PARENT_TAG, None)
    notes = tags.pop(NOTE_TAG, "")
    start = (run.start_ms or 0) / 1000
    end = None if run.end_ms is None else run.end_ms / 1000
    record = _exported_record(run)
    params: dict[str, Any] = dict(run.params)
    artifacts = run.artifacts
    documents: dict[str, Any] = {}
    datasets = run.datasets
    run_id = id_for(run.run_id)
    metrics = run.metrics
    if record is not None:
        renamed = record.get("renamed_keys", {})  # keys MLflow refused, back to what they were
        if renamed:
            tags = {renamed.get(k, k): v for k, v in tags.items()}
            params = {renamed.get(k, k): v for k, v in params.items()}
            metrics = [(renamed.get(k, k), step, value, moment) for k, step, value, moment in metrics]
        tags.pop(EXPORT_ID_TAG, None)
        for key in record.get("added_tags", []):
            tags.pop(key, None)
        for key, (kind, text) in record.get("params", {}).items():  # typed, and whole when MLflow cut them
            params[key] = decode_param(kind, text)
        notes = record.get("notes", notes)
        documents = record.get("documents", {})
        datasets = record.get("datasets", datasets)
        described = record.get("artifacts", {})
        added = set(record.get("added_artifacts", []))
        artifacts = [a for a in artifacts if a.name not in added]
        for artifact in artifacts:
            kind = described.get(artifact.name)
            if kind:
                artifact.kind, artifact.media_type = kind["kind"], kind["media_type"]
                artifact.created_time = kind.get("created_time")
        if record.get("start_time") is not None and round(record["start_time"] * 1000) == run.start_ms:
            start = record["start_time"]
        if record.get("end_time") is not None and end is not None and round(record["end_time"] * 1000) == run.end_ms:
            end = record["end_time"]
    latest = {}
    if record is not None:
        latest = {k: tuple(v) for k, v in record.get("latest", {}).items()}
    return ImportedRun(
        latest=latest, provenance=record is None,
        system="mlflow", source_id=run.run_id, run_id=run_id, experiment=run.experiment, name=name,
        status=STATUSES.get(run.status, "KILLED"), start_time=start, end_time=end,
        parent_run_id=id_for(parent) if parent else None, params=params, tags=tags, notes=notes,
        metrics=metrics, artifacts=artifacts, datasets=datasets, documents=documents, warnings=run.warnings)


def id_mapper(exported: dict[str, str]) -> Callable[[str], str]:
    """MLflow run id -> nbtrack id: the id nbtrack exported it with, else the MLflow id itself."""
    return lambda mlflow_id: exported.get(mlflow_id) or nbtrack_run_id("mlflow", mlflow_id)


def dataset_entry(name: str, digest: str, source_type: str, source: str, schema: str | None,
                  profile: str | None, context: str | None) -> dict[str, Any]:
    """An MLflow dataset input as an nbtrack dataset row (MLflow's digest is the fingerprint)."""
    info = {"kind": "mlflow", "digest": digest, "source_type": source_type, "source": source}
    for key, text in (("schema", schema), ("profile", profile)):
        if text:
            try:
                info[key] = json.loads(text)
            except ValueError:
                info[key] = text
    shown = f"{name} ({context})" if context else name
    return {"name": shown, "fingerprint": digest, "info": info}


def artifact_sources(uri: str | None, search_dirs: list[str], artifacts_root: str | None) -> list[ArtifactSource]:
    """The files under a run's artifact URI (``file:``, a path, ``mlflow-artifacts:`` under
    ``artifacts_root``, or any fsspec URL). Raises OSError saying why they cannot be read."""
    import os

    if not uri:
        return []
    if uri.startswith("mlflow-artifacts:"):
        if artifacts_root is None:
            raise OSError(f"artifacts are on an MLflow server ({uri}): pass --artifacts-root with the server's "
                          "--artifacts-destination directory to copy them")
        path = os.path.join(artifacts_root, uri.split(":", 1)[1].lstrip("/"))
    elif uri.startswith("file:"):
        path = uri[len("file://"):] if uri.startswith("file://") else uri[len("file:"):]
    elif "://" in uri:
        return _remote_sources(uri)
    else:
        path = uri
    if not os.path.isabs(path):
        candidates = [os.path.join(base, path) for base in search_dirs]
        path = next((c for c in candidates if os.path.isdir(c)), candidates[0] if candidates else path)
    if not os.path.isdir(path):
        return []  # MLflow creates the directory only when something is logged
    sources = []
    for root, _dirs, files in os.walk(path):
        for file in sorted(files):
            full = os.path.join(root, file)
            sources.append(ArtifactSource(os.path.relpath(full, path).replace(os.sep, "/"), path=full))
    return sorted(sources, key=lambda a: a.name)


def _remote_sources(uri: str) -> list[ArtifactSource]:
    import fsspec

    fs, root = fsspec.core.url_to_fs(uri)
    sources = []
    for full in sorted(fs.find(root)):
        name = full[len(root):].lstrip("/")
        sources.append(ArtifactSource(name, read=lambda full=full: fs.cat_file(full)))
    return sources
