"""Read an MLflow ``mlruns`` directory (MLflow's file store), read-only.

Layout: ``<exp id>/meta.yaml`` per experiment; ``<exp id>/<run id>/meta.yaml`` per run with
``params/``, ``tags/``, ``metrics/`` (one file per key, nested folders for keys with ``/``;
metric lines are ``<timestamp ms> <value> <step>``) and ``artifacts/``. Deleted
experiments live in ``.trash/``; MLflow 3's ``models/`` and ``traces/`` are not runs.
"""

from __future__ import annotations

import os
from typing import Iterator

from .mlflow_runs import MlflowRun, artifact_sources, dataset_entry, id_mapper, to_imported
from .model import ImportedRun, SkippedRun

STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
NOT_RUNS = {"models", "traces", "datasets", "tags", "outputs"}


def is_mlruns(path: str) -> bool:
    return os.path.isdir(path) and (os.path.isfile(os.path.join(path, "0", "meta.yaml")) or any(
        os.path.isfile(os.path.join(path, entry, "meta.yaml")) for entry in os.listdir(path)))


def _yaml(path: str) -> dict:
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _files(root: str) -> dict[str, str]:
    """``{key: file path}`` under ``root`` (keys with ``/`` are nested folders)."""
    out = {}
    if not os.path.isdir(root):
        return out
    for folder, _dirs, files in os.walk(root):
        for file in files:
            full = os.path.join(folder, file)
            out[os.path.relpath(full, root).replace(os.sep, "/")] = full
    return out


def _text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _points(key: str, path: str) -> list[tuple[str, int, float, float]]:
    points = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) < 2:
                continue
            value = float(parts[1])
            points.append((key, int(parts[2]) if len(parts) > 2 else 0, value, int(parts[0]) / 1000))
    return points


class MlflowFilesSource:
    """The runs of an ``mlruns`` directory."""

    def __init__(self, path: str, experiments: list[str] | None = None, include_deleted: bool = False,
                 artifacts_root: str | None = None, copy_artifacts: bool = True) -> None:
        self.root = os.path.abspath(path)
        if not is_mlruns(self.root):
            raise ValueError(f"{path} is not an MLflow mlruns directory (no <experiment id>/meta.yaml in it)")
        self.wanted = set(experiments) if experiments else None
        self.include_deleted = include_deleted
        self.artifacts_root = artifacts_root
        self.copy_artifacts = copy_artifacts
        self.deleted = 0

    def _experiments(self) -> list[tuple[str, dict]]:
        found = []
        folders = [self.root] + ([os.path.join(self.root, ".trash")] if self.include_deleted else [])
        for folder in folders:
            if not os.path.isdir(folder):
                continue
            for entry in sorted(os.listdir(folder)):
                meta = os.path.join(folder, entry, "meta.yaml")
                if entry.startswith(".") or entry in NOT_RUNS or not os.path.isfile(meta):
                    continue
                info = _yaml(meta)
                if self.wanted is not None and info.get("name") not in self.wanted:
                    continue
                found.append((os.path.join(folder, entry), info))
        return found

    def _run_dirs(self) -> list[tuple[str, str, dict]]:
        runs = []
        self.deleted = 0
        for folder, experiment in self._experiments():
            for entry in sorted(os.listdir(folder)):
                meta = os.path.join(folder, entry, "meta.yaml")
                if entry in NOT_RUNS or not os.path.isfile(meta):
                    continue
                info = _yaml(meta)
                if info.get("lifecycle_stage") == "deleted" and not self.include_deleted:
                    self.deleted += 1
                    continue
                runs.append((os.path.join(folder, entry), experiment.get("name") or str(experiment.get(
                    "experiment_id")), info))
        runs.sort(key=lambda r: (r[2].get("start_time") or 0, r[2].get("run_id") or ""))
        return runs

    def count(self) -> int:
        return len(self._run_dirs())

    def runs(self) -> Iterator[ImportedRun | SkippedRun]:
        runs = self._run_dirs()
        exported = {}
        for folder, _experiment, info in runs:
            tag = os.path.join(folder, "tags", "nbtrack.run_id")
            if os.path.isfile(tag):
                exported[str(info.get("run_id") or os.path.basename(folder))] = _text(tag).strip()
        id_for = id_mapper(exported)
        for folder, experiment, info in runs:
            run_id = str(info.get("run_id") or info.get("run_uuid") or os.path.basename(folder))
            try:
                yield to_imported(self._read(folder, experiment, info, run_id), id_for)
            except Exception as error:  # noqa: BLE001 - one bad run is reported, the others go on
                yield SkippedRun("mlflow", run_id, f"{type(error).__name__}: {error}")

    def _read(self, folder: str, experiment: str, info: dict, run_id: str) -> MlflowRun:
        status = info.get("status")
        status = STATUS_NUMBERS.get(status, str(status)) if isinstance(status, int) else str(status or "FINISHED")
        run = MlflowRun(run_id, experiment, info.get("run_name") or None, status, info.get("start_time"),
                        info.get("end_time"))
        run.params = {k: _text(p) for k, p in _files(os.path.join(folder, "params")).items()}
        run.tags = {k: _text(p) for k, p in _files(os.path.join(folder, "tags")).items()}
        for key, path in sorted(_files(os.path.join(folder, "metrics")).items()):
            run.metrics.extend(sorted(_points(key, path), key=lambda p: (p[1], p[3])))
        run.datasets = _datasets(folder)
        if self.copy_artifacts:
            uri = info.get("artifact_uri") or ""
            local = os.path.join(folder, "artifacts")
            try:
                sources = artifact_sources(uri, [self.root], self.artifacts_root) if uri else []
                if not sources and os.path.isdir(local):
                    sources = artifact_sources(local, [], None)
                run.artifacts = sources
            except OSError as error:
                run.warnings.append(f"artifacts not copied: {error}")
        return run


def _datasets(folder: str) -> list[dict]:
    """The run's dataset inputs: ``inputs/<id>/meta.yaml`` naming ``<experiment>/datasets/<id>/meta.yaml``."""
    inputs = os.path.join(folder, "inputs")
    if not os.path.isdir(inputs):
        return []
    found = []
    for entry in sorted(os.listdir(inputs)):
        meta = os.path.join(inputs, entry, "meta.yaml")
        if not os.path.isfile(meta):
            continue
        link = _yaml(meta)
        described = os.path.join(os.path.dirname(folder), "datasets", str(link.get("source_id")), "meta.yaml")
        if link.get("source_type") != "DATASET" or not os.path.isfile(described):
            continue
        data = _yaml(described)
        found.append(dataset_entry(str(data.get("name")), str(data.get("digest")), str(data.get("source_type", "")),
                                   str(data.get("source", "")), data.get("schema"), data.get("profile"),
                                   (link.get("tags") or {}).get("mlflow.data.context")))
    return found
