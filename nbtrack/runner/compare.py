"""Compare a re-run with its original: metrics within a tolerance, then the likely causes of a
difference (data, packages, Python, the original's hidden state or stale snapshot).

Verdicts: ``verified`` (every metric the original logged, but its ``system/...`` samples, has
the same value in the re-run within ``atol + rtol * |original|``, and the same history),
``diverged`` (one differs or is missing, the re-run failed, or no run of the tracked cell was
found), ``changed`` (the re-run was given other params with ``-p``: the comparison is shown,
nothing is claimed about the original).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..formatting import format_number

VERIFIED, DIVERGED, CHANGED = "verified", "diverged", "changed"
MAX_LISTED = 5  # packages, params, datasets named in one line before "and N more"


@dataclass
class MetricDifference:
    """One metric of the original that the re-run did not reproduce."""

    key: str
    original: float | None
    rerun: float | None
    step: int | None = None  # the first differing step of the history (None: the latest value)

    def text(self) -> str:
        if self.rerun is None:
            return f"{self.key} {_num(self.original)} was not logged by the re-run"
        where = f" at step {self.step}" if self.step is not None else ""
        delta = _delta(self.original, self.rerun)
        return f"{self.key}{where} {_num(self.original)} -> {_num(self.rerun)}{delta}"


@dataclass
class Comparison:
    """The outcome of comparing a re-run with its original (stored as the re-run's ``rerun`` document)."""

    verdict: str
    original_run_id: str
    rerun_run_id: str | None
    rtol: float = 0.0
    atol: float = 0.0
    overrides: dict[str, Any] = field(default_factory=dict)
    metrics_compared: int = 0
    differences: list[MetricDifference] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # likely causes, most likely first
    notes: list[str] = field(default_factory=list)
    data_changes: list[dict] = field(default_factory=list)  # {name, original, rerun, detail}
    package_changes: dict[str, list] = field(default_factory=dict)  # name -> [original, rerun]
    error: str | None = None

    def headline(self) -> str:
        """One line: the verdict, the first difference and the most likely cause."""
        if self.verdict == VERIFIED:
            text = (f"verified: {self.metrics_compared} metric{'s' if self.metrics_compared != 1 else ''} equal"
                    + (f" (rtol {format_number(self.rtol)}, atol {format_number(self.atol)})"
                       if self.rtol or self.atol else " (exactly)") if self.metrics_compared
                    else "verified: the re-run finished (the original logged no metric)")
            return text
        label = "rerun with changes" if self.verdict == CHANGED else "diverged"
        if self.error:
            first = f"the re-run failed: {self.error}"
        elif self.differences:
            first = self.differences[0].text()
            more = len(self.differences) - 1
            first += f" (+{more} more metric{'s' if more != 1 else ''})" if more > 0 else ""
        elif self.verdict == CHANGED:
            first = "every metric equal"
        else:
            first = self.notes[0] if self.notes else "no run of the tracked cell"
        cause = f"; likely cause: {self.causes[0]}" if self.causes and self.verdict == DIVERGED else ""
        return f"{label}: {first}{cause}"

    def to_document(self) -> dict:
        return asdict(self)


def _num(value: Any) -> str:
    return "none" if value is None else format_number(value, digits=6)


def _delta(original: Any, rerun: Any) -> str:
    if not isinstance(original, (int, float)) or not isinstance(rerun, (int, float)):
        return ""
    if not (math.isfinite(original) and math.isfinite(rerun)):
        return ""
    difference = rerun - original
    relative = f", {difference / abs(original):+.2%}" if original else ""
    return f" ({'+' if difference >= 0 else '-'}{format_number(abs(difference), digits=3)}{relative})"


def close(original: float, rerun: float, rtol: float, atol: float) -> bool:
    """Whether two metric values agree: NaN matches NaN, infinities match themselves,
    else ``|rerun - original| <= atol + rtol * |original|`` (exact by default)."""
    if original != original or rerun != rerun:
        return original != original and rerun != rerun
    if math.isinf(original) or math.isinf(rerun):
        return original == rerun
    return abs(rerun - original) <= atol + rtol * abs(original)


def compared_metrics(run: Any) -> dict[str, float]:
    """The metrics of ``run`` a re-run must reproduce: all but the ``system/...`` samples (CPU and
    memory measure the machine, not the result)."""
    from ..sysmetrics import PREFIX

    return {key: value for key, value in run.metrics.items() if not key.startswith(PREFIX)}


def compare_metrics(original: Any, rerun: Any, rtol: float, atol: float) -> list[MetricDifference]:
    """Every metric of the original against the re-run's: the latest value, then the history
    (a metric logged at several steps must agree at each)."""
    differences = []
    for key, value in compared_metrics(original).items():
        if key not in rerun.metrics:
            differences.append(MetricDifference(key, value, None))
        elif not close(value, rerun.metrics[key], rtol, atol):
            differences.append(MetricDifference(key, value, rerun.metrics[key]))
        else:
            step = _first_history_difference(original, rerun, key, rtol, atol)
            if step is not None:
                differences.append(MetricDifference(key, step[1], step[2], step[0]))
    return differences


def _first_history_difference(original: Any, rerun: Any, key: str, rtol: float,
                              atol: float) -> tuple[int, float, float | None] | None:
    left, right = original.metric_history(key), rerun.metric_history(key)
    if len(left) <= 1 and len(right) <= 1:
        return None  # the latest values were compared already
    theirs = list(zip(right["step"], right["value"]))
    for position, (step, value) in enumerate(zip(left["step"], left["value"])):
        if position >= len(theirs):
            return int(step), float(value), None
        if theirs[position][0] != step or not close(float(value), float(theirs[position][1]), rtol, atol):
            return int(step), float(value), float(theirs[position][1])
    return None


def data_changes(original: Any, rerun: Any | None, preflight: list[dict]) -> list[dict]:
    """Datasets the original logged whose content differs: from the check before the re-run
    (files on disk) and from the fingerprints the re-run logged under the same names."""
    changes = {change["name"]: change for change in preflight}
    if rerun is not None:
        theirs = {d["name"]: d for d in rerun.datasets}
        for mine in original.datasets:
            other = theirs.get(mine["name"])
            if other is not None and other["fingerprint"] != mine["fingerprint"]:
                changes[mine["name"]] = {"name": mine["name"], "original": mine["fingerprint"],
                                         "rerun": other["fingerprint"], "detail": describe_data_change(mine, other)}
    return list(changes.values())


def describe_data_change(mine: dict, other: dict) -> str:
    """What changed between two fingerprints of a dataset, in words."""
    parts = []
    if mine.get("shape") != other.get("shape") and mine.get("shape") and other.get("shape"):
        rows = (mine["shape"][0], other["shape"][0])
        if rows[0] != rows[1]:
            parts.append(f"rows {rows[0]} -> {rows[1]}")
    added = [c for c in other.get("columns") or [] if c not in (mine.get("columns") or [])]
    removed = [c for c in mine.get("columns") or [] if c not in (other.get("columns") or [])]
    if added:
        parts.append("new columns " + ", ".join(map(str, added[:MAX_LISTED])))
    if removed:
        parts.append("columns gone " + ", ".join(map(str, removed[:MAX_LISTED])))
    if mine.get("size") is not None and other.get("size") is not None and mine["size"] != other["size"]:
        parts.append(f"{mine['size']} -> {other['size']} bytes")
    return ", ".join(parts) if parts else "same shape, other values"


def package_changes(original: Any, rerun: Any | None) -> dict[str, list]:
    """Python and the packages the notebook imported whose versions differ between the two runs."""
    if rerun is None:
        return {}
    mine, theirs = original.environment or {}, rerun.environment or {}
    changes: dict[str, list] = {}
    python = ((mine.get("python") or {}).get("version"), (theirs.get("python") or {}).get("version"))
    if all(python) and python[0] != python[1]:
        changes["python"] = list(python)
    imported_mine = original.document("imported_packages") or {}
    imported_theirs = rerun.document("imported_packages") or {}
    installed_mine, installed_theirs = mine.get("packages") or {}, theirs.get("packages") or {}
    for name in sorted({**imported_mine, **imported_theirs}, key=str.lower):
        before = imported_mine.get(name) or installed_mine.get(name)
        after = imported_theirs.get(name) or installed_theirs.get(name)
        if before != after:
            changes[name] = [before, after]
    return changes


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def likely_causes(original: Any, data: list[dict], packages: dict[str, list], stale_note: str | None,
                  overrides: dict[str, Any]) -> list[str]:
    """Why the re-run may differ, most likely first."""
    causes = []
    if overrides:
        causes.append("the params given with -p: " + _listed([f"{k}={v!r}" for k, v in overrides.items()]))
    for change in data:
        causes.append(f"data {change['name']!r} changed ({change['detail']}; fingerprint "
                      f"{str(change['original'])[:12]} -> {str(change['rerun'] or 'missing')[:12]})")
    if packages:
        causes.append("package versions differ: " + _listed(
            [f"{name} {before or 'absent'} -> {after or 'absent'}" for name, (before, after) in packages.items()]))
    hidden = original.document("hidden_state") or {}
    if isinstance(hidden, dict) and hidden.get("matters") and hidden.get("warnings"):
        causes.append(f"the original ran with hidden state: {hidden['warnings'][0]}")
    if stale_note:
        causes.append(f"the original's snapshot may not hold what ran ({stale_note})")
    if not causes:
        causes.append("no data, package or code difference was found: the notebook is likely not deterministic "
                      "(an unseeded random generator, the clock, or data read without nbtrack.log_dataset)")
    return causes


def compare(original: Any, rerun: Any | None, *, rtol: float = 0.0, atol: float = 0.0,
            overrides: dict[str, Any] | None = None, preflight: list[dict] | None = None,
            error: str | None = None, stale_note: str | None = None) -> Comparison:
    """The :class:`Comparison` of ``rerun`` (a RunRecord, None when the re-run has no run of
    the tracked cell) with ``original``."""
    overrides = dict(overrides or {})
    result = Comparison(VERIFIED, original.run_id, rerun.run_id if rerun is not None else None, rtol, atol,
                        overrides, error=error)
    result.data_changes = data_changes(original, rerun, list(preflight or []))
    result.package_changes = package_changes(original, rerun)
    diverged = error is not None
    if rerun is None:
        result.notes.append("the re-run has no run of the tracked cell")
        diverged = True
    else:
        result.metrics_compared = len(compared_metrics(original))
        result.differences = compare_metrics(original, rerun, rtol, atol)
        diverged = diverged or bool(result.differences)
        if rerun.status != "FINISHED" and original.status == "FINISHED":
            result.notes.append(f"the re-run of the cell ended {rerun.status}")
            diverged = True
        changed_params = [k for k in original.params if k not in overrides and not _same(
            original.params[k], rerun.params.get(k, _MISSING))]
        if changed_params:
            result.notes.append("params differ: " + _listed(
                [f"{k} {original.params[k]!r} -> {rerun.params.get(k, 'absent')!r}" for k in changed_params]))
        seen = {d["name"] for d in rerun.datasets}
        missing = [d["name"] for d in original.datasets if d["name"] not in seen]
        if missing:
            result.notes.append("datasets the re-run did not log: " + _listed(missing))
    result.causes = likely_causes(original, result.data_changes, result.package_changes, stale_note, overrides)
    if overrides:
        result.verdict = CHANGED
    elif diverged:
        result.verdict = DIVERGED
    return result


_MISSING = object()


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float) and left != left and right != right:
        return True
    return type(left) is type(right) and left == right
