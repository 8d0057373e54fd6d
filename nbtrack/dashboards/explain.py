"""Why do these two runs differ? A ranked list of what changed from the older run to the
newer one, joined with how their metrics moved.

What is compared, and how much each kind of change weighs (the rank; ties keep this order):

======================================================  ======
change                                                  weight
======================================================  ======
a param (added, removed or another value)                 1.0
the tracked cell's code (the cell that logged)            0.95
a dataset's fingerprint (``log_dataset``: the data)       0.9
a cell upstream of the tracked one: it defines a name
the tracked cell uses, directly or through other cells    0.85
a package the run imported: another version               0.7
git: another commit, or other uncommitted changes          0.6
Python's version                                          0.5
another code cell above the tracked one                   0.3
a package installed but not imported: another version    0.1
a code cell below the tracked one (ran after it)          0.05
======================================================  ======

Cells are matched by cell id when both snapshots have ids, else by position; markdown
changes are ignored; a cell's ``%%track`` line is ignored (it names the run, it does not
compute). "Upstream" is computed on the newer snapshot from the names each cell defines
and uses (:func:`nbtrack.notebook.cellflow.cell_flow`), walking up from the tracked cell.
The weights order the evidence; they are not probabilities. When nothing recorded
differs, the explanation says so: the difference comes from randomness or from something
nbtrack does not record (a file read without ``log_dataset``, a service, the hardware).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from .columns import guess_direction

WEIGHTS = {
    "param": 1.0, "tracked cell": 0.95, "dataset": 0.9, "upstream cell": 0.85, "imported package": 0.7,
    "git": 0.6, "python": 0.5, "cell above": 0.3, "installed package": 0.1, "cell below": 0.05,
}
MAX_PACKAGE_CHANGES = 20


@dataclass
class Change:
    """One recorded difference between the two runs."""

    kind: str  # a key of WEIGHTS
    what: str  # e.g. "lr", "cell 3 (id abc)", "train", "numpy"
    before: str
    after: str
    weight: float
    detail: str = ""  # e.g. the cell's diff


@dataclass
class MetricDelta:
    key: str
    before: float | None
    after: float | None
    direction: str

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def verdict(self) -> str:
        """``better``, ``worse``, ``same`` or ``""`` (missing on one side)."""
        delta = self.delta
        if delta is None:
            return ""
        if delta == 0:
            return "same"
        return "better" if (delta > 0) == (self.direction == "max") else "worse"


@dataclass
class Explanation:
    older: Any
    newer: Any
    changes: list[Change] = field(default_factory=list)
    metrics: list[MetricDelta] = field(default_factory=list)

    @property
    def top(self) -> Change | None:
        return self.changes[0] if self.changes else None

    def summary(self) -> str:
        moved = [m for m in self.metrics if m.verdict in ("better", "worse")]
        movement = "; ".join(f"{m.key} {_number(m.before)} → {_number(m.after)} ({m.verdict})" for m in moved[:3])
        if not self.changes:
            return ((movement + ": ") if movement else "") + (
                "no recorded difference (params, code, data, packages, git) explains it: randomness, or "
                "something nbtrack does not record")
        lead = self.changes[0]
        cause = f"{lead.kind} {lead.what}" + (f": {lead.before} → {lead.after}" if lead.before or lead.after else "")
        return (movement + "; " if movement else "") + f"most likely {cause}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _text(value: Any) -> str:
    from .detail import value_text

    return "(none)" if value is None else value_text(value)


# -- params, datasets, packages, git ---------------------------------------------------------------

def param_changes(older: Mapping[str, Any], newer: Mapping[str, Any]) -> list[Change]:
    out = []
    for key in sorted(set(older) | set(newer), key=str):
        before, after = older.get(key), newer.get(key)
        if key not in older or key not in newer or _text(before) != _text(after):
            out.append(Change("param", str(key), _text(before) if key in older else "(absent)",
                              _text(after) if key in newer else "(absent)", WEIGHTS["param"]))
    return out


def dataset_changes(older: Sequence[Mapping], newer: Sequence[Mapping]) -> list[Change]:
    before = {d.get("name"): d for d in older or []}
    after = {d.get("name"): d for d in newer or []}
    out = []
    for name in sorted(set(before) | set(after), key=str):
        a, b = before.get(name), after.get(name)
        fa, fb = (a or {}).get("fingerprint"), (b or {}).get("fingerprint")
        if fa != fb:
            shape = lambda d: f" {d.get('shape')}" if d and d.get("shape") else ""  # noqa: E731
            out.append(Change("dataset", str(name), (fa or "(absent)")[:12] + shape(a),
                              (fb or "(absent)")[:12] + shape(b), WEIGHTS["dataset"]))
    return out


def package_changes(older_env: Mapping, newer_env: Mapping, older_imported: Mapping | None,
                    newer_imported: Mapping | None) -> list[Change]:
    installed_a = (older_env or {}).get("packages") or {}
    installed_b = (newer_env or {}).get("packages") or {}
    imported = {k.lower() for k in (older_imported or {})} | {k.lower() for k in (newer_imported or {})}
    out = []
    for name in sorted(set(installed_a) | set(installed_b), key=str.lower):
        a, b = installed_a.get(name), installed_b.get(name)
        if a != b:
            kind = "imported package" if name.lower() in imported else "installed package"
            out.append(Change(kind, name, a or "(absent)", b or "(absent)", WEIGHTS[kind]))
    out.sort(key=lambda c: -c.weight)
    return out[:MAX_PACKAGE_CHANGES]


def git_changes(older_env: Mapping, newer_env: Mapping) -> list[Change]:
    a, b = (older_env or {}).get("git") or {}, (newer_env or {}).get("git") or {}
    out = []
    if a.get("commit") != b.get("commit"):
        out.append(Change("git", "commit", str(a.get("commit") or "(none)")[:10], str(b.get("commit") or "(none)")[:10],
                          WEIGHTS["git"]))
    if a.get("diff", "") != b.get("diff", "") or bool(a.get("dirty")) != bool(b.get("dirty")):
        out.append(Change("git", "uncommitted changes", "dirty" if a.get("dirty") else "clean",
                          "dirty" if b.get("dirty") else "clean", WEIGHTS["git"],
                          detail="the uncommitted diff differs" if a.get("diff") != b.get("diff") else ""))
    python_a = ((older_env or {}).get("python") or {}).get("version")
    python_b = ((newer_env or {}).get("python") or {}).get("version")
    if python_a and python_b and python_a != python_b:
        out.append(Change("python", "version", python_a, python_b, WEIGHTS["python"]))
    return out


# -- cells -------------------------------------------------------------------------------------

def _code(source: str) -> str:
    """A cell's code without its ``%%track`` line, stripped."""
    lines = source.replace("\r\n", "\n").split("\n")
    if lines and lines[0].lstrip().startswith("%%track"):
        lines = lines[1:]
    return "\n".join(line.rstrip() for line in lines).strip()


def upstream_cells(cells: Sequence[Any], tracked: int) -> set[int]:
    """Indices of the code cells above ``tracked`` whose names reach it: a cell defining a
    name the tracked cell (or another upstream cell) uses."""
    needed = set(_names_of(cells[tracked].source)[1])
    out: set[int] = set()
    for index in range(tracked - 1, -1, -1):
        cell = cells[index]
        if cell.cell_type != "code":
            continue
        defined, used = _names_of(cell.source)
        if defined & needed:
            out.add(index)
            needed = (needed - defined) | used
    return out


def _names_of(source: str) -> tuple[frozenset[str], frozenset[str]]:
    """(names a cell leaves bound, names it reads from earlier cells), by the hidden-state
    report's cell analysis. A function the cell defines reads its free names when called:
    those the cell does not bind itself come from earlier cells too."""
    from nbtrack.notebook.cellflow import cell_flow

    flow = cell_flow(_code(source))
    deferred = {name for binding in flow.bindings.values() for name in binding.deferred}
    return flow.bound, frozenset(flow.inputs) | (deferred - flow.bound)


def _match_cells(older: Sequence[Any], newer: Sequence[Any]) -> list[tuple[Any | None, Any | None, int | None]]:
    """Pairs (older cell, newer cell, index in newer) by id where both have ids, else by position."""
    by_id = all(c.id for c in older) and all(c.id for c in newer) and older and newer
    pairs: list[tuple[Any | None, Any | None, int | None]] = []
    if by_id:
        old = {c.id: c for c in older}
        seen = set()
        for index, cell in enumerate(newer):
            pairs.append((old.get(cell.id), cell, index))
            seen.add(cell.id)
        pairs += [(c, None, None) for c in older if c.id not in seen]
        return pairs
    for index in range(max(len(older), len(newer))):
        pairs.append((older[index] if index < len(older) else None, newer[index] if index < len(newer) else None,
                      index if index < len(newer) else None))
    return pairs


def cell_changes(older_snapshot: Any, newer_snapshot: Any) -> list[Change]:
    """Code cells whose code differs, weighed by where they sit relative to the tracked cell."""
    import difflib

    older, newer = list(older_snapshot.cells), list(newer_snapshot.cells)
    tracked = newer_snapshot.tracked_index
    if tracked is None and newer_snapshot.tracked_id:
        tracked = next((i for i, c in enumerate(newer) if c.id == newer_snapshot.tracked_id), None)
    upstream = upstream_cells(newer, tracked) if tracked is not None and tracked < len(newer) else set()
    out = []
    for before, after, index in _match_cells(older, newer):
        cell = after or before
        if cell.cell_type != "code":
            continue
        code_a, code_b = _code(before.source) if before else "", _code(after.source) if after else ""
        if code_a == code_b:
            continue
        if index is None or tracked is None:
            kind = "cell above"
        elif index == tracked:
            kind = "tracked cell"
        elif index in upstream:
            kind = "upstream cell"
        else:
            kind = "cell above" if index < tracked else "cell below"
        label = f"cell {index}" if index is not None else "a removed cell"
        if cell.id:
            label += f" (id {cell.id})"
        diff = "\n".join(difflib.unified_diff(code_a.splitlines(), code_b.splitlines(), lineterm="", n=1))
        out.append(Change(kind, label, "(absent)" if before is None else "", "(absent)" if after is None else "",
                          WEIGHTS[kind], detail=diff))
    return out


def _snapshot(record: Any) -> Any:
    from .detail import notebook_snapshot

    try:
        return notebook_snapshot(record)
    except Exception:
        return None


def _document(record: Any, key: str) -> Any:
    try:
        return record.document(key)
    except Exception:
        return None


def metric_deltas(older: Any, newer: Any, directions: Mapping[str, str] | None = None) -> list[MetricDelta]:
    keys = sorted(k for k in set(older.metrics or {}) | set(newer.metrics or {}) if not k.startswith("system/"))
    out = []
    for key in keys:
        a, b = (older.metrics or {}).get(key), (newer.metrics or {}).get(key)
        direction = (directions or {}).get(key) or guess_direction(key)
        out.append(MetricDelta(key, a if a == a else None, b if b == b else None, direction))
    return out


def explain(run_a: Any, run_b: Any, directions: Mapping[str, str] | None = None) -> Explanation:
    """What changed from the older of two runs (records, ids or prefixes) to the newer, ranked."""
    import nbtrack

    records = [nbtrack.get_run(r) if isinstance(r, str) else r for r in (run_a, run_b)]
    older, newer = sorted(records, key=lambda r: r.start_time or 0)
    changes = param_changes(older.params or {}, newer.params or {})
    snap_a, snap_b = _snapshot(older), _snapshot(newer)
    if snap_a is not None and snap_b is not None:
        changes += cell_changes(snap_a, snap_b)
    changes += dataset_changes(older.datasets or [], newer.datasets or [])
    env_a, env_b = _document(older, "environment") or {}, _document(newer, "environment") or {}
    changes += package_changes(env_a, env_b, _document(older, "imported_packages"),
                               _document(newer, "imported_packages"))
    changes += git_changes(env_a, env_b)
    changes.sort(key=lambda change: -change.weight)  # stable: equal weights keep their order
    return Explanation(older, newer, changes, metric_deltas(older, newer, directions))


def explain_html(explanation: Explanation) -> str:
    """The explanation as escaped HTML (templates/explain.html)."""
    from .figures import run_label
    from .templating import macro

    return str(macro("explain.html", "explanation", explanation.summary(),
                     run_label(explanation.older.run_id, explanation.older.name),
                     run_label(explanation.newer.run_id, explanation.newer.name),
                     explanation.metrics, explanation.changes, _number))


__all__ = ["explain", "explain_html", "Explanation", "Change", "MetricDelta", "WEIGHTS", "upstream_cells"]
