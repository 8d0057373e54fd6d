"""Helpers for the sync tests: runs of every shape in a local store, and a store read back whole."""

from __future__ import annotations

import math

import numpy

import nbtrack
from nbtrack import config


def forget_stores() -> None:
    for store in config._stores.values():
        store.close()
    config._stores.clear()


def log_runs(uri: str, experiment: str = "team", runs: int = 3, points: int = 50) -> list[str]:
    """Runs with params, metrics (NaN and infinity included), tags, notes, artifacts, a dataset and a
    child run; the last one FAILED. Returns their ids."""
    nbtrack.set_store(uri)
    ids = []
    for number in range(runs):
        try:
            with nbtrack.track(experiment, params={"number": number, "lr": 0.1 * (number + 1), "model": "rf"},
                               tags={"stage": "dev"}, notes=f"note of run {number}") as run:
                ids.append(run.run_id)
                for step in range(points):
                    nbtrack.log_metric("loss", 1.0 / (step + 1), step=step)
                nbtrack.log_metric("odd", float("nan"), step=0)
                nbtrack.log_metric("odd", math.inf, step=1)
                nbtrack.log_artifact(f"artifact of run {number}".encode(), name="out/result.bin")
                nbtrack.log_artifact(b"shared by every run", name="shared.bin")
                nbtrack.log_dataset(numpy.array([[1, 2], [3, number]]), "train")
                with nbtrack.track(name=f"child-{number}", nested=True) as child:
                    ids.append(child.run_id)
                    nbtrack.log_metric("child_metric", number)
                if number == runs - 1:
                    raise ValueError("the last run fails")
        except ValueError:
            pass
    return ids


def read_store(uri: str) -> dict[str, dict]:
    """Everything about every run of a store (deleted ones too), read back through the public API."""
    forget_stores()
    nbtrack.set_store(uri)
    frame = nbtrack.runs(include_deleted=True)
    found = {}
    for run_id in frame["run_id"]:
        record = nbtrack.get_run(run_id)
        histories = {}
        for key in record.metrics:
            history = record.metric_history(key)
            histories[key] = sorted((int(s), "nan" if v != v else v, t.timestamp()) for s, v, t in
                                    zip(history["step"], history["value"], history["timestamp"]))
        found[run_id] = {
            "experiment": record.experiment, "name": record.name, "status": record.status,
            "start_time": record.start_time, "end_time": record.end_time, "parent": record.parent_run_id,
            "deleted": record.deleted, "user": record.user, "host": record.host, "params": record.params,
            "metrics": {k: "nan" if v != v else v for k, v in record.metrics.items()}, "tags": record.tags,
            "notes": record.notes, "histories": histories,
            "artifacts": {a.name: a.read_bytes() for a in record.artifacts},
            "datasets": [(d["name"], d["fingerprint"]) for d in record.datasets],
            "documents": {key: record.document(key) for key in record.document_keys},
        }
    forget_stores()
    return found


def differences(a: dict, b: dict) -> list:
    """Where two read_store results differ (for assertion messages)."""
    found = []
    for run_id in sorted(set(a) | set(b)):
        if run_id not in a or run_id not in b:
            found.append((run_id, "only in one"))
            continue
        for field in a[run_id]:
            if a[run_id][field] != b[run_id][field]:
                found.append((run_id[:8], field, str(a[run_id][field])[:300], str(b[run_id][field])[:300]))
    return found
