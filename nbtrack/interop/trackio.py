"""Read a Trackio project from its local SQLite file (``$TRACKIO_DIR/<project>.db``), read-only.

Trackio keeps, per project, a ``metrics`` table (one row per ``trackio.log`` call: run, step,
ISO timestamp and a JSON object of values), ``configs`` (a run's config as JSON, with
Trackio's own ``_Username``, ``_Created``, ``_Group`` keys) and ``system_metrics``. A run
becomes an nbtrack run in experiment ``<project>``: config keys are params (types kept),
``_Group``/``_Username`` are tags, numbers are metric points, system metrics are
``system/<key>`` points, images and other media (``{"_type": "trackio.image", "file_path":
...}`` under ``$TRACKIO_DIR/media``) are artifacts, and tables and histograms JSON artifacts.
Trackio records no status or end: a run is FINISHED and ends at its last logged point.
Databases from before Trackio 0.24 (no ``run_id`` column) are read by run name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from typing import Any, Iterator

from .model import ArtifactSource, ImportedRun, SkippedRun, nbtrack_run_id

SYSTEM_CONFIG = {"_Username": "trackio.user", "_Group": "trackio.group"}
NON_FINITE = {"Infinity": float("inf"), "-Infinity": float("-inf"), "NaN": float("nan")}


def trackio_dir(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    if os.environ.get("TRACKIO_DIR"):
        return os.environ["TRACKIO_DIR"]
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return os.path.join(home, "trackio")


def _canonical(project: str) -> str:
    return "".join(c for c in project if c.isalnum() or c in "-_").rstrip() or "default"


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


class TrackioSource:
    """The runs of one Trackio project (a project name, or the path of its ``.db`` file)."""

    def __init__(self, project: str, directory: str | None = None) -> None:
        if project.endswith(".db") and os.path.isfile(project):
            self.path = os.path.abspath(project)
            self.project = os.path.basename(project)[:-3]
            self.directory = directory or os.path.dirname(self.path)
        else:
            self.directory = trackio_dir(directory)
            self.project = project
            self.path = os.path.join(self.directory, _canonical(project) + ".db")
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"no Trackio project {project!r}: {self.path} does not exist (pass the project "
                                    "name with --trackio-dir, or the path of its .db file)")
        self.connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        tables = {r[0] for r in self.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "metrics" not in tables:
            raise ValueError(f"{self.path} is not a Trackio project database (no metrics table)")
        self.tables = tables
        self.by_id = "run_id" in self._columns("metrics")

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self.connection.execute(f"PRAGMA table_info({table})")}

    def _runs(self) -> list[tuple[str, str]]:
        """(run key, run name) in the order the runs started; the key is the run id, or the name in old files."""
        key = "run_id" if self.by_id else "run_name"
        rows = self.connection.execute(f"SELECT {key}, run_name, MIN(id) FROM metrics GROUP BY {key}").fetchall()
        if "configs" in self.tables:
            known = {r[0] for r in rows}
            rows += [(r[0], r[1], 1 << 62) for r in self.connection.execute(
                f"SELECT {key}, run_name FROM configs") if r[0] not in known]
        return [(str(r[0]), str(r[1])) for r in sorted(rows, key=lambda r: r[2])]

    def count(self) -> int:
        return len(self._runs())

    def runs(self) -> Iterator[ImportedRun | SkippedRun]:
        for key, name in self._runs():
            try:
                yield self._run(key, name)
            except Exception as error:  # noqa: BLE001 - reported, the others go on
                yield SkippedRun("trackio", key, f"{type(error).__name__}: {error}")

    def _run(self, key: str, name: str) -> ImportedRun:
        column = "run_id" if self.by_id else "run_name"
        source_id = key if self.by_id else f"{self.project}/{name}"
        run = ImportedRun("trackio", source_id, nbtrack_run_id("trackio", source_id), self.project, name,
                          "FINISHED", 0.0)
        moments: list[float] = []
        if "configs" in self.tables:
            row = self.connection.execute(f"SELECT config, created_at FROM configs WHERE {column} = ?",
                                          (key,)).fetchone()
            if row is not None:
                config = json.loads(row[0])
                created = config.pop("_Created", None) or row[1]
                for system_key, tag in SYSTEM_CONFIG.items():
                    value = config.pop(system_key, None)
                    if value is not None:
                        run.tags[tag] = str(value)
                run.params = {k: _decoded(v) for k, v in config.items()}
                if _seconds(created) is not None:
                    moments.append(_seconds(created))
        for step, stamp, values in self.connection.execute(
                f"SELECT step, timestamp, metrics FROM metrics WHERE {column} = ? ORDER BY id", (key,)):
            moment = _seconds(stamp) or 0.0
            moments.append(moment)
            for metric, value in json.loads(values).items():
                self._value(run, metric, int(step), _decoded(value), moment)
        if "system_metrics" in self.tables:
            for index, (stamp, values) in enumerate(self.connection.execute(
                    f"SELECT timestamp, metrics FROM system_metrics WHERE {column} = ? ORDER BY id", (key,))):
                moment = _seconds(stamp) or 0.0
                for metric, value in json.loads(values).items():
                    if isinstance(_decoded(value), (int, float)):
                        run.metrics.append((f"system/{metric}", index, float(_decoded(value)), moment))
        if moments:
            run.start_time, run.end_time = min(moments), max(moments)
        return run

    def _value(self, run: ImportedRun, key: str, step: int, value: Any, moment: float) -> None:
        if isinstance(value, bool) or isinstance(value, (int, float)):
            run.metrics.append((key, step, float(value), moment))
        elif isinstance(value, dict) and str(value.get("_type", "")).startswith("trackio."):
            kind = value["_type"].split(".", 1)[1]
            path = value.get("file_path")
            if path:
                full = os.path.join(self.directory, "media", path)
                extension = os.path.splitext(path)[1]
                if os.path.isfile(full):
                    run.artifacts.append(ArtifactSource(f"media/{key}/step_{step}{extension}", path=full))
                else:
                    run.warnings.append(f"{kind} {key!r} at step {step}: its file {full} is missing")
            else:
                text = json.dumps(value).encode("utf-8")
                run.artifacts.append(ArtifactSource(f"{kind}s/{key}/step_{step}.json", read=lambda text=text: text,
                                                    kind="json", media_type="application/json"))
        elif value is not None:
            run.warnings.append(f"{key!r} at step {step} is a {type(value).__name__}, not a number: not imported")

    def close(self) -> None:
        self.connection.close()


def _decoded(value: Any) -> Any:
    return NON_FINITE.get(value, value) if isinstance(value, str) else value
