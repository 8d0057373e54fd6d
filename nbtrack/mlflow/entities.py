"""MLflow-shaped entities (``mlflow.entities``): what ``get_run``, ``search_runs(output_format="list")``,
``MlflowClient`` and ``start_run`` hand back, built from nbtrack runs.

Times are milliseconds since the epoch and params are strings, as in MLflow.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterator


class RunStatus:
    """MLflow's run statuses (strings here; ``to_string``/``from_string`` as in MLflow)."""

    RUNNING, SCHEDULED, FINISHED, FAILED, KILLED = "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"
    _ALL = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)

    @staticmethod
    def to_string(status: Any) -> str:
        if isinstance(status, int) and 1 <= status <= 5:  # MLflow's protobuf numbers
            return RunStatus._ALL[status - 1]
        return str(status)

    @staticmethod
    def from_string(status: str) -> str:
        if status not in RunStatus._ALL:
            raise ValueError(f"unknown run status {status!r}; valid: {', '.join(RunStatus._ALL)}")
        return status

    @staticmethod
    def is_terminated(status: str) -> bool:
        return status in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class ViewType:
    """Which runs or experiments a search sees."""

    ACTIVE_ONLY, DELETED_ONLY, ALL = 1, 2, 3


class LifecycleStage:
    ACTIVE, DELETED = "active", "deleted"


def to_millis(seconds: float | None) -> int | None:
    """Whole milliseconds, as MLflow keeps times (``int(time.time() * 1000)``)."""
    return None if seconds is None or seconds != seconds else math.floor(seconds * 1000 + 1e-6)


def param_text(value: Any) -> str:
    """A param as MLflow stores it: ``str(value)`` (nbtrack keeps the type, MLflow keeps text)."""
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Metric:
    """One metric point: ``timestamp`` in ms, as MLflow's ``Metric(key, value, timestamp, step)``."""

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class ExperimentTag:
    key: str
    value: str


@dataclass(frozen=True)
class FileInfo:
    """An artifact as ``list_artifacts`` lists it (a directory has ``is_dir`` and no size)."""

    path: str
    is_dir: bool
    file_size: int | None


@dataclass
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    user_id: str = ""

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass
class RunData:
    """Latest metric values, params as strings, tags (with ``mlflow.runName``/``mlflow.parentRunId``)."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True)
class DatasetInput:
    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)


@dataclass
class Run:
    """A run as MLflow shows it: ``info``, ``data``, ``inputs``."""

    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)


class ActiveRun:
    """What ``start_run`` returns: ``.info`` and ``.data`` of the live run, a context manager.

    Unlike MLflow's (a snapshot taken at start), ``data`` and ``info.status`` are read from
    the live run each time.
    """

    def __init__(self, run: Any, on_exit: Any) -> None:
        self._run = run
        self._on_exit = on_exit

    @property
    def info(self) -> RunInfo:
        from .experiments import experiment_id_for

        run = self._run
        return RunInfo(run.run_id, experiment_id_for(run.experiment), run.name, run.status,
                       to_millis(run.start_time), to_millis(run.end_time), artifact_uri(run.run_id))

    @property
    def data(self) -> RunData:
        run = self._run
        tags = dict(run.tags)
        tags.update(system_tags(run.name, run.parent_run_id))
        return RunData(dict(run.metrics), {k: param_text(v) for k, v in run.params.items()}, tags)

    @property
    def nbtrack_run(self) -> Any:
        """The nbtrack :class:`~nbtrack.Run` behind this MLflow-shaped handle."""
        return self._run

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._on_exit(self._run, exc)
        return False

    def __repr__(self) -> str:
        return f"<ActiveRun: run_id={self._run.run_id!r}, run_name={self._run.name!r}, status={self._run.status!r}>"


class PagedList(list):
    """A list with MLflow's ``token`` attribute (nbtrack returns every page at once: always None)."""

    def __init__(self, items: Any = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token


def artifact_uri(run_id: str, path: str | None = None) -> str:
    """The artifact location of a run, ``runs:/<run_id>`` (nbtrack stores artifacts by content)."""
    base = f"runs:/{run_id}"
    return f"{base}/{path.lstrip('/')}" if path else base


def system_tags(name: str, parent_run_id: str | None) -> dict[str, str]:
    """The ``mlflow.*`` tags MLflow keeps for what nbtrack holds as run fields."""
    tags = {"mlflow.runName": name}
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    return tags


def now_millis() -> int:
    return int(time.time() * 1000)


def iterate_metrics(points: Any) -> Iterator[Metric]:
    """Metric entities from (key, value, timestamp seconds, step) rows."""
    for key, value, seconds, step in points:
        yield Metric(key, float(value), to_millis(seconds) or 0, int(step))
