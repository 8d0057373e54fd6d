"""``nbtrack export mlflow TARGET``: nbtrack runs into an MLflow store, written by the real
MLflow client in a child process (``mlflow_writer.py``).

Each run keeps its name, status, start and end times, params, tags, every metric point,
artifacts and parent link. For the MLflow UI it gains ``mlflow.source.*`` tags (notebook
or script path and type, git commit, branch and remote, the cell's source) and its notes as
``mlflow.note.content``. What MLflow cannot hold (param types, documents such as the notebook
snapshot's description and the environment, datasets, artifact kinds, exact times, keys
MLflow refuses) goes into the artifact ``nbtrack/run.json``, from which ``nbtrack import
mlflow`` rebuilds the run as it was. Exporting again adds nothing (tag ``nbtrack.run_id``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from .mlflow_runs import EXPORT_RECORD, NOTE_TAG
from .progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    from ..store.records import RunRecord
    from ..store.sql import SqlStore

WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlflow_writer.py")
MAX_PARAM = 6000  # MLflow's limits on param and tag values (its SQL columns allow a little more)
MAX_TAG = 8000
_VALID_KEY = re.compile(r"^[/\w.\- :]{1,250}$")


@dataclass
class ExportReport:
    exported: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    mlflow_version: str = ""

    def summary(self) -> str:
        text = f"exported {len(self.exported)} runs to MLflow {self.mlflow_version}".rstrip()
        if self.already:
            text += f"; {len(self.already)} were there already"
        if self.failed:
            text += f"; {len(self.failed)} could not be exported"
        return text


def mlflow_key(key: str) -> str:
    """``key`` as MLflow accepts it (letters, digits, ``_ - . / : space``; at most 250 characters)."""
    if _VALID_KEY.match(key):
        return key
    return (re.sub(r"[^/\w.\- :]", "_", key) or "_")[:250]


def _source_tags(record: "RunRecord") -> dict[str, str]:
    """The ``mlflow.source.*`` tags the MLflow UI shows for where a run's code comes from."""
    tags: dict[str, str] = {}
    source = record.tags.get("nbtrack.source")
    notebook = record.tags.get("nbtrack.notebook")
    script = (record.document("script") or {}).get("path")
    if source == "notebook" or notebook:
        tags["mlflow.source.type"] = "NOTEBOOK"
        if notebook:
            tags["mlflow.source.name"] = notebook
    elif script:
        tags["mlflow.source.type"] = "LOCAL"
        tags["mlflow.source.name"] = script
    git = (record.environment or {}).get("git") or {}
    for key, field_name in (("mlflow.source.git.commit", "commit"), ("mlflow.source.git.branch", "branch"),
                            ("mlflow.source.git.repoURL", "remote")):
        if git.get(field_name):
            tags[key] = str(git[field_name])
    cell = record.document("cell") or {}
    if cell.get("source"):
        tags["mlflow.source.cell"] = str(cell["source"])[:MAX_TAG]
    return tags


def _metric_points(store: "SqlStore", run_id: str) -> list[tuple[str, int, float, bool, float]]:
    from sqlalchemy import select

    from ..store import schema as s

    table = s.metric_history
    with store.read() as connection:
        return [tuple(row) for row in connection.execute(
            select(table.c.key, table.c.step, table.c.value, table.c.is_nan, table.c.timestamp)
            .where(table.c.run_id == run_id).order_by(table.c.key, table.c.step, table.c.timestamp))]


def _params(store: "SqlStore", run_id: str) -> dict[str, tuple[str, str]]:
    from sqlalchemy import select

    from ..store import schema as s

    with store.read() as connection:
        return {key: (kind, text) for key, kind, text in connection.execute(
            select(s.params.c.key, s.params.c.kind, s.params.c.value).where(s.params.c.run_id == run_id))}


def run_payload(store: "SqlStore", record: "RunRecord", workdir: str) -> dict[str, Any]:
    """One run for the writer: its MLflow fields, and its artifacts (with ``nbtrack/run.json``) in a folder."""
    from .mlflow_runs import NAME_TAG, PARENT_TAG

    typed = _params(store, record.run_id)
    params = [[mlflow_key(k), text if kind == "s" else _shown(record.params[k])] for k, (kind, text) in typed.items()]
    params = [[k, v if len(v) <= MAX_PARAM else v[:MAX_PARAM - 1] + "…"] for k, v in params]
    tags = {mlflow_key(k): v[:MAX_TAG] for k, v in record.tags.items() if k not in (NAME_TAG, PARENT_TAG)}
    added = []
    for key, value in _source_tags(record).items():
        if key not in tags:
            tags[key] = value
            added.append(key)
    if record.notes.strip() and NOTE_TAG not in tags:
        tags[NOTE_TAG] = record.notes.rstrip("\n")[:MAX_TAG]
    renamed = {mlflow_key(k): k for k in list(record.tags) + list(typed) if mlflow_key(k) != k}
    metrics = []
    for key, step, value, is_nan, moment in _metric_points(store, record.run_id):
        shown = mlflow_key(key)
        if shown != key:
            renamed[shown] = key
        metrics.append([shown, float("nan") if is_nan or value is None else value, int(round(moment * 1000)), step])
    folder = os.path.join(workdir, record.run_id)
    described = {}
    for artifact in record.artifacts:
        destination = os.path.join(folder, *artifact.name.split("/"))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        local = artifact.local_path()
        if local is not None:
            try:
                os.link(local, destination)
            except OSError:
                shutil.copyfile(local, destination)
        else:
            with open(destination, "wb") as handle:
                handle.write(artifact.read_bytes())
        described[artifact.name] = {"kind": artifact.kind, "media_type": artifact.media_type,
                                    "created_time": artifact.created_time}
    exported = {
        "format": 1, "run_id": record.run_id, "name": record.name, "params": {k: list(v) for k, v in typed.items()},
        "notes": record.notes, "documents": {k: record.document(k) for k in record.document_keys},
        "datasets": [{"name": d["name"], "fingerprint": d["fingerprint"],
                      "info": {k: v for k, v in d.items() if k not in ("name", "fingerprint")}}
                     for d in record.datasets],
        "artifacts": described, "added_tags": added, "added_artifacts": [EXPORT_RECORD], "renamed_keys": renamed,
        "start_time": record.start_time, "end_time": record.end_time, "latest": _latest_points(store, record.run_id),
    }
    record_path = os.path.join(folder, *EXPORT_RECORD.split("/"))
    os.makedirs(os.path.dirname(record_path), exist_ok=True)
    with open(record_path, "w", encoding="utf-8") as handle:
        json.dump(exported, handle, default=str, allow_nan=True)
    return {"run_id": record.run_id, "experiment": record.experiment, "name": record.name, "status": record.status,
            "start_ms": int(round(record.start_time * 1000)),
            "end_ms": None if record.end_time is None else int(round(record.end_time * 1000)),
            "parent": record.parent_run_id, "params": params, "tags": tags, "metrics": metrics,
            "artifact_dir": folder}


def _latest_points(store: "SqlStore", run_id: str) -> dict[str, list]:
    from sqlalchemy import select

    from ..store import schema as s

    table = s.latest_metrics
    with store.read() as connection:
        return {key: [step, float("nan") if is_nan or value is None else value, moment]
                for key, step, value, is_nan, moment in connection.execute(
                    select(table.c.key, table.c.step, table.c.value, table.c.is_nan, table.c.timestamp)
                    .where(table.c.run_id == run_id))}


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _ordered(store: "SqlStore", experiment: Any, filter_text: str | None) -> list[str]:
    """Run ids to export, parents before their children."""
    from ..store.query import search_runs

    frame = search_runs(store, experiment, filter_text, "start_time ASC")
    ids = list(frame["run_id"])
    parents = dict(zip(frame["run_id"], frame["parent_run_id"]))
    done: set[str] = set()
    ordered: list[str] = []

    def visit(run_id: str) -> None:
        if run_id in done:
            return
        done.add(run_id)
        parent = parents.get(run_id)
        if isinstance(parent, str) and parent in parents:
            visit(parent)
        ordered.append(run_id)

    for run_id in ids:
        visit(run_id)
    return ordered


def target_uri(target: str) -> tuple[str, str | None, dict[str, str]]:
    """The MLflow URI to write to, the working directory for the writer, and extra environment."""
    if "://" in target and not target.startswith("file:"):
        if target.startswith("sqlite:///"):
            path = target[len("sqlite:///"):].split("?", 1)[0]
            return target, os.path.dirname(os.path.abspath(path)) or None, {}
        return target, None, {}
    path = target[len("file://"):] if target.startswith("file://") else target
    path = os.path.abspath(path)
    if path.endswith((".db", ".sqlite", ".sqlite3")):
        return f"sqlite:///{path}", os.path.dirname(path), {}
    os.makedirs(path, exist_ok=True)
    return path, None, {"MLFLOW_ALLOW_FILE_STORE": "true"}  # MLflow 3 allows its file store only so


def _payloads(store: "SqlStore", run_ids: list[str], workdir: str, failed: list) -> Iterator[dict]:
    from ..store.records import load_run

    for run_id in run_ids:
        try:
            yield run_payload(store, load_run(store, run_id), workdir)
        except Exception as error:  # noqa: BLE001 - reported, the others go on
            failed.append((run_id, f"{type(error).__name__}: {error}"))


def export_runs(target: str, experiment: Any = None, filter_text: str | None = None, python: str | None = None,
                artifact_location: str | None = None, store: "SqlStore | None" = None) -> ExportReport:
    """Export the matching runs into the MLflow store ``target``; returns what was written."""
    from .. import api

    store = store or api._store_for_reading()
    uri, cwd, extra_env = target_uri(target)
    run_ids = _ordered(store, experiment, filter_text)
    report = ExportReport()
    env = {**os.environ, **extra_env}
    env.pop("PYTHONPATH", None)  # the writer needs mlflow, not nbtrack (nor a package named mlflow in it)
    command = [python or sys.executable, WRITER, uri, os.path.abspath(artifact_location) if artifact_location else ""]
    progress = Progress(len(run_ids), "exporting to MLflow")
    with tempfile.TemporaryDirectory(prefix="nbtrack-export-") as workdir:
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, cwd=cwd, env=env)
        try:
            ready = json.loads(child.stdout.readline() or '{"status": "fatal", "reason": "no answer"}')
            if ready.get("status") != "ready":
                child.stdin.close()
                error = child.stderr.read().strip().splitlines()
                reason = ready.get("reason") or (error[-1] if error else "the writer exited")
                if "No module named 'mlflow'" in reason:
                    from ..errors import MissingDependencyError

                    raise MissingDependencyError("mlflow", "mlflow", "nbtrack export mlflow",
                                                 "or pass --mlflow-python with a Python that has mlflow")
                raise RuntimeError(f"cannot write to MLflow at {target}: {reason}")
            report.mlflow_version = ready.get("mlflow_version", "")
            for payload in _payloads(store, run_ids, workdir, report.failed):
                child.stdin.write(json.dumps(payload, allow_nan=True) + "\n")
                child.stdin.flush()
                answer = json.loads(child.stdout.readline() or '{"status": "failed", "reason": "the writer exited"}')
                progress.advance()
                status = answer.get("status")
                if status == "exported":
                    report.exported.append(payload["run_id"])
                elif status == "already":
                    report.already.append(payload["run_id"])
                else:
                    report.failed.append((payload["run_id"], answer.get("reason", "unknown")))
                    if answer.get("reason") == "the writer exited":
                        break
                shutil.rmtree(payload["artifact_dir"], ignore_errors=True)
            child.stdin.close()
            child.wait(timeout=120)
        finally:
            progress.close()
            if child.poll() is None:
                child.kill()
    return report
