"""A run's lineage: the datasets and models it used, the model versions it produced, its parents
and children, and the runs that used what it produced.

What a run *used* comes from what it logged (``log_dataset``, or ``load_dataset`` inside it) and
from ``load_model`` calls made while it was active (its ``models_used`` document). What it
*produced* is every registered version whose artifact came from it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..guard import guarded
from ..store import schema as s

if TYPE_CHECKING:  # pragma: no cover
    from ..store.records import RunRecord
    from .records import ModelVersion

MAX_DEPTH = 100  # parent chains longer than this are cut (a cycle written by hand cannot hang a read)
_uses: dict[str, list[dict]] = {}
_uses_lock = threading.Lock()


def record_model_use(entry: dict) -> None:
    """Note in the active run (if any) that it loaded ``entry`` (a version, or a run's artifact)."""
    from ..run import _active, active_run

    run = active_run()
    if run is None or entry.get("run_id") == run.run_id:
        return
    with guarded("recording which model the run loaded"), _uses_lock:
        for ended in set(_uses) - {r.run_id for r in _active}:  # only active runs can still record
            del _uses[ended]
        uses = _uses.setdefault(run.run_id, [])
        if entry not in uses:
            uses.append(entry)
            run.set_document("models_used", list(uses))


@dataclass(frozen=True)
class DatasetUse:
    """A dataset the run logged: which version (fingerprint), whether its content is stored, and
    the run that logged that version first."""

    name: str
    fingerprint: str
    kind: str
    shape: tuple | None
    stored: bool
    first_run: str | None
    loaded_from: str | None = None

    @property
    def summary(self) -> str:
        """``ed55d0293ef4 dataframe 100×3 (stored, first logged by 3f2a9c1b)``."""
        shape = "×".join(map(str, self.shape)) if self.shape else ""
        origin = f", first logged by {self.first_run[:8]}" if self.first_run else ""
        loaded = f", loaded from {self.loaded_from[:8]}" if self.loaded_from else ""
        return (f"{self.fingerprint[:12]} {self.kind} {shape}".rstrip() +
                f" ({'stored' if self.stored else 'fingerprint only'}{origin}{loaded})")

    def __str__(self) -> str:
        return f"{self.name} {self.summary}"


@dataclass(frozen=True)
class ModelUse:
    """A model the run loaded: a registered version (name, version) or a run's artifact."""

    run_id: str
    artifact: str
    sha256: str
    name: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        what = f"{self.name} v{self.version}" if self.name else self.artifact
        return f"{what} (from run {self.run_id[:8]})"


@dataclass(frozen=True)
class Lineage:
    """Where a run's inputs came from and where its outputs went (``get_run(id).lineage``)."""

    run_id: str
    parents: tuple[str, ...]
    children: tuple[str, ...]
    datasets: tuple[DatasetUse, ...]
    models_used: tuple[ModelUse, ...]
    models_produced: tuple["ModelVersion", ...]
    used_by: tuple[str, ...]

    @property
    def upstream(self) -> list[str]:
        """Runs whose outputs this run used: the sources of its models, the first loggers of its data."""
        found = [m.run_id for m in self.models_used] + [d.loaded_from or d.first_run or "" for d in self.datasets]
        return list(dict.fromkeys(r for r in found if r and r != self.run_id))

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "parents": list(self.parents), "children": list(self.children),
                "datasets": [vars(d) | {"shape": list(d.shape) if d.shape else None} for d in self.datasets],
                "models_used": [vars(m) for m in self.models_used],
                "models_produced": [{"name": v.name, "version": v.version, "aliases": list(v.aliases),
                                     "artifact": v.artifact_name} for v in self.models_produced],
                "used_by": list(self.used_by), "upstream": self.upstream}

    def __str__(self) -> str:
        lines = [f"lineage of run {self.run_id}"]
        if self.parents:
            lines.append("  parents: " + " <- ".join(p[:8] for p in self.parents))
        if self.children:
            lines.append("  children: " + ", ".join(c[:8] for c in self.children))
        lines += [f"  used dataset {d}" for d in self.datasets]
        lines += [f"  used model {m}" for m in self.models_used]
        lines += [f"  produced {v.label} ({v.artifact_name})" for v in self.models_produced]
        if self.used_by:
            lines.append("  its models were loaded by: " + ", ".join(r[:8] for r in self.used_by))
        return "\n".join(lines)


def _parents(connection: Any, parent: str | None) -> list[str]:
    chain: list[str] = []
    while parent and parent not in chain and len(chain) < MAX_DEPTH:
        chain.append(parent)
        parent = connection.execute(select(s.runs.c.parent_run_id).where(s.runs.c.run_id == parent)).scalar()
    return chain


def _first_runs(connection: Any, fingerprints: list[str]) -> dict[str, str]:
    first: dict[str, str] = {}
    if fingerprints:
        for fingerprint, run_id in connection.execute(select(s.datasets.c.fingerprint, s.datasets.c.run_id).where(
                s.datasets.c.fingerprint.in_(fingerprints)).order_by(s.datasets.c.created_time)):
            first.setdefault(fingerprint, run_id)
    return first


def _used_by(connection: Any, run_id: str) -> list[str]:
    rows = connection.execute(select(s.run_documents.c.run_id, s.documents.c.body).select_from(
        s.run_documents.join(s.documents, s.run_documents.c.sha256 == s.documents.c.sha256)).where(
        s.run_documents.c.key == "models_used", s.documents.c.body.like(f"%{run_id}%")))
    return sorted({other for other, body in rows
                   if any(use.get("run_id") == run_id for use in json.loads(body) if isinstance(use, dict))})


def lineage_of(record: "RunRecord") -> Lineage:
    """The lineage of a stored run."""
    from .catalog import versions_by_run

    store = record.store
    with store.read() as connection:
        parents = _parents(connection, record.parent_run_id)
        children = list(connection.execute(select(s.runs.c.run_id).where(
            s.runs.c.parent_run_id == record.run_id, s.runs.c.deleted.is_(False)).order_by(
            s.runs.c.start_time)).scalars())
        first = _first_runs(connection, sorted({d["fingerprint"] for d in record.datasets}))
        used_by = _used_by(connection, record.run_id)
    datasets = tuple(DatasetUse(
        d["name"], d["fingerprint"], d.get("kind", ""), tuple(d["shape"]) if d.get("shape") else None,
        bool(d.get("stored")), first.get(d["fingerprint"]), d.get("loaded_from")) for d in record.datasets)
    uses = record.document("models_used", []) or []
    models_used = tuple(ModelUse(u.get("run_id", ""), u.get("artifact", ""), u.get("sha256", ""), u.get("name"),
                                 u.get("version")) for u in uses if isinstance(u, dict))
    produced = tuple(versions_by_run(store, [record.run_id]).get(record.run_id, []))
    return Lineage(record.run_id, tuple(parents), tuple(children), datasets, models_used, produced, tuple(used_by))
