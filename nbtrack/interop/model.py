"""ImportedRun: one run of another tracker, in the form the writer takes.

A reader fills it from its source; nothing here knows any source. Times are seconds since
the epoch; metric points are ``(key, step, value, timestamp)`` with several points allowed
at one step (MLflow keeps them all). ``run_id`` is the nbtrack id the run gets: the source's
own id when it is a 32-digit hex id (so links between runs stay valid), else a stable id
derived from it, so that importing again finds the run already there.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

IMPORTED_FROM_TAG = "nbtrack.imported_from"
_HEX_ID = re.compile(r"[0-9a-f]{32}")


def nbtrack_run_id(system: str, source_id: str) -> str:
    """The nbtrack id of a run whose id in ``system`` is ``source_id`` (stable across imports)."""
    if _HEX_ID.fullmatch(source_id):
        return source_id
    return uuid.uuid5(uuid.NAMESPACE_URL, f"nbtrack-import:{system}:{source_id}").hex


@dataclass
class ArtifactSource:
    """An artifact to copy: its name in the run and a way to get its bytes (a local file, or a reader)."""

    name: str
    path: str | None = None
    read: Callable[[], bytes] | None = None
    kind: str = "file"
    media_type: str | None = None
    created_time: float | None = None


@dataclass
class ImportedRun:
    """A run read from another tracker."""

    system: str  # "mlflow", "trackio", "wandb"
    source_id: str
    run_id: str
    experiment: str
    name: str
    status: str
    start_time: float
    end_time: float | None = None
    parent_run_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    metrics: list[tuple[str, int, float, float]] = field(default_factory=list)
    artifacts: list[ArtifactSource] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)  # name, fingerprint, info (dict)
    documents: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what could not be carried over, said in the report
    latest: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # known latest points, by key
    provenance: bool = True  # tag and document saying where it came from (not for a run nbtrack exported)

    @property
    def imported_from(self) -> str:
        return f"{self.system}:{self.source_id}"


@dataclass
class SkippedRun:
    """A run a reader could not turn into an ImportedRun, and why."""

    system: str
    source_id: str
    reason: str
