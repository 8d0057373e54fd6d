"""Read W&B offline run directories (``wandb/offline-run-<time>-<id>/``).

The run file is read by ``wandb_reader.py`` in a child process, with a Python that has wandb
(``--wandb-python``; default this one), so wandb's record schema decodes it and nbtrack's own
environment needs no wandb. A run becomes an nbtrack run in experiment ``<project>``: its
config is params (W&B's own ``_wandb`` key left out), every numeric history value a metric
point at its step and time, summary values never in the history a point at the last step,
labels, group and job type ``wandb.*`` tags, notes notes, the files W&B saved
(``files/``) and logged media artifacts. Exit code 0 is FINISHED, another FAILED, none
(the process died) KILLED.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from typing import Any, Iterator

from .model import ArtifactSource, ImportedRun, SkippedRun, nbtrack_run_id

READER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wandb_reader.py")


def run_files(path: str) -> list[str]:
    """The ``run-*.wandb`` files in ``path``: a run file, a run directory, or a ``wandb/`` directory."""
    if os.path.isfile(path):
        return [os.path.abspath(path)]
    found = sorted(glob.glob(os.path.join(path, "run-*.wandb"))) or sorted(
        glob.glob(os.path.join(path, "*run-*", "run-*.wandb"))) or sorted(
        glob.glob(os.path.join(path, "wandb", "*run-*", "run-*.wandb")))
    if not found:
        raise FileNotFoundError(f"no W&B run file (run-<id>.wandb) in {path}: give an offline run directory "
                                "such as wandb/offline-run-20250101_120000-abc123, or the wandb/ directory")
    return [os.path.abspath(f) for f in found]


class WandbSource:
    def __init__(self, path: str, python: str | None = None) -> None:
        self.files = run_files(path)
        self.python = python or sys.executable

    def count(self) -> int:
        return len(self.files)

    def _read(self) -> Iterator[dict]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        child = subprocess.Popen([self.python, READER, *self.files], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env)
        try:
            for line in child.stdout:
                answer = json.loads(line)
                if "fatal" in answer:
                    from ..errors import MissingDependencyError

                    raise MissingDependencyError("wandb", "wandb", "nbtrack import wandb",
                                                 f"or pass --wandb-python with a Python that has wandb; "
                                                 f"{answer['fatal']}")
                yield answer
        finally:
            child.stdout.close()
            if child.wait(timeout=60) not in (0, 1):
                raise RuntimeError(f"the W&B reader failed: {child.stderr.read().strip()[-500:]}")
            child.stderr.close()

    def runs(self) -> Iterator[ImportedRun | SkippedRun]:
        for answer in self._read():
            if "error" in answer:
                yield SkippedRun("wandb", answer["path"], answer["error"])
                continue
            try:
                yield to_imported(answer["run"], os.path.dirname(answer["path"]))
            except Exception as error:  # noqa: BLE001 - reported, the others go on
                yield SkippedRun("wandb", answer["path"], f"{type(error).__name__}: {error}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return None


def to_imported(data: dict, folder: str) -> ImportedRun:
    project = data.get("project") or "wandb"
    source_id = f"{data.get('entity') or ''}/{project}/{data['id']}".lstrip("/")
    exit_code = data.get("exit_code")
    status = "KILLED" if exit_code is None else ("FINISHED" if exit_code == 0 else "FAILED")
    start = float(data.get("start_time") or 0.0)
    run = ImportedRun("wandb", source_id, nbtrack_run_id("wandb", source_id), project, data.get("name") or data["id"],
                      status, start, notes=data.get("notes") or "")
    run.params = {k: v for k, v in data.get("config", {}).items() if not k.startswith("_wandb")}
    for key, value in (("wandb.tags", ", ".join(data.get("tags") or [])), ("wandb.group", data.get("group")),
                       ("wandb.job_type", data.get("job_type")), ("wandb.entity", data.get("entity")),
                       ("wandb.run_id", data["id"])):
        if value:
            run.tags[key] = str(value)
    last_step, last_moment, logged = 0, start, set()
    for row in data.get("history", []):
        values = row["values"]
        step = int(row["step"] if row["step"] is not None else values.get("_step", 0))
        moment = float(values.get("_timestamp", start))
        last_step, last_moment = max(last_step, step), max(last_moment, moment)
        for key, value in values.items():
            if key.startswith("_"):
                continue
            number = _number(value)
            if number is not None:
                run.metrics.append((key, step, number, moment))
                logged.add(key)
            elif isinstance(value, dict) and value.get("path"):
                _media(run, folder, key, step, value)
    for key, value in data.get("summary", {}).items():
        number = _number(value)
        if not key.startswith("_") and key not in logged and number is not None:
            run.metrics.append((key, last_step, number, last_moment))
    if data.get("runtime"):
        run.end_time = start + float(data["runtime"])
    elif status != "KILLED":
        run.end_time = last_moment
    files = os.path.join(folder, "files")
    for root, _dirs, names in os.walk(files):
        for name in sorted(names):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, files).replace(os.sep, "/")
            if not any(a.name == f"files/{relative}" for a in run.artifacts):
                run.artifacts.append(ArtifactSource(f"files/{relative}", path=full))
    return run


def _media(run: ImportedRun, folder: str, key: str, step: int, value: dict) -> None:
    full = os.path.join(folder, "files", value["path"])
    if os.path.isfile(full):
        run.artifacts.append(ArtifactSource(f"files/{value['path']}", path=full))
    else:
        run.warnings.append(f"{value.get('_type', 'media')} {key!r} at step {step}: {full} is missing")
