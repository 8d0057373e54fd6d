"""Did two runs see the same data? Dataset versions compared by name, from the fingerprint info alone.

A DataFrame's info (and a CSV or parquet file's) carries its row count, columns and dtypes, so
what changed is told without any stored copy: rows, columns added or removed, dtypes, column
order; otherwise the values. Used by ``nbtrack diff`` and the dashboard's compare view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

MAX_NAMED = 8  # columns named in one detail before "and N more"


@dataclass(frozen=True)
class DatasetChange:
    """One dataset name across two runs: ``same``, ``changed``, ``added``, ``removed`` or ``renamed``."""

    name: str
    status: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    details: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """One line: what changed."""
        short = {k: (v or {}).get("fingerprint", "")[:12] for k, v in (("a", self.before), ("b", self.after))}
        if self.status == "same":
            return f"same data ({short['a']})"
        if self.status == "added":
            return f"only in the second run ({short['b']}{_shape(self.after)})"
        if self.status == "removed":
            return f"only in the first run ({short['a']}{_shape(self.before)})"
        if self.status == "renamed":
            return f"same data as {self.details[0]!r} in the other run ({short['a'] or short['b']})"
        return f"{short['a']} -> {short['b']}: " + "; ".join(self.details)


def _shape(info: Mapping | None) -> str:
    shape = (info or {}).get("shape")
    return f", {'×'.join(map(str, shape))}" if shape else ""


def _names(columns: Sequence[str]) -> str:
    shown = ", ".join(map(str, columns[:MAX_NAMED]))
    return shown + (f" and {len(columns) - MAX_NAMED} more" if len(columns) > MAX_NAMED else "")


def describe_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What differs between two versions of a dataset (their fingerprints differ)."""
    details = []
    if before.get("kind") != after.get("kind"):
        details.append(f"kind {before.get('kind')} -> {after.get('kind')}")
    shape_a, shape_b = before.get("shape"), after.get("shape")
    if shape_a and shape_b and shape_a[0] != shape_b[0]:
        details.append(f"rows {shape_a[0]:,} -> {shape_b[0]:,}")
    columns_a, columns_b = before.get("columns"), after.get("columns")
    if columns_a is not None and columns_b is not None:
        added = [c for c in columns_b if c not in columns_a]
        removed = [c for c in columns_a if c not in columns_b]
        if added:
            details.append(f"columns added: {_names(added)}")
        if removed:
            details.append(f"columns removed: {_names(removed)}")
        dtypes_a, dtypes_b = before.get("dtypes") or {}, after.get("dtypes") or {}
        retyped = [f"{c} {dtypes_a[c]} -> {dtypes_b[c]}" for c in columns_a
                   if c in dtypes_b and c in dtypes_a and dtypes_a[c] != dtypes_b[c]]
        if retyped:
            details.append("dtypes: " + _names(retyped))
        if not added and not removed and list(columns_a) != list(columns_b):
            details.append("column order changed")
    elif shape_a and shape_b and shape_a != shape_b:
        details.append(f"shape {'×'.join(map(str, shape_a))} -> {'×'.join(map(str, shape_b))}")
    if before.get("dtype") and after.get("dtype") and before["dtype"] != after["dtype"]:
        details.append(f"dtype {before['dtype']} -> {after['dtype']}")
    if before.get("size") is not None and after.get("size") is not None and before["size"] != after["size"]:
        details.append(f"size {before['size']:,} -> {after['size']:,} bytes")
    if before.get("files") is not None and after.get("files") is not None and before["files"] != after["files"]:
        details.append(f"files {before['files']} -> {after['files']}")
    if not details:
        details.append("same shape and columns; the values differ")
    return details


def dataset_changes(first: Sequence[Mapping[str, Any]], second: Sequence[Mapping[str, Any]]) -> list[DatasetChange]:
    """The datasets of two runs (``RunRecord.datasets``), matched by name, in name order."""
    a = {d.get("name"): d for d in first}
    b = {d.get("name"): d for d in second}
    changes = []
    for name in sorted(set(a) | set(b), key=str):
        before, after = a.get(name), b.get(name)
        if before is not None and after is not None:
            if before.get("fingerprint") == after.get("fingerprint"):
                changes.append(DatasetChange(name, "same", before, after))
            else:
                changes.append(DatasetChange(name, "changed", before, after, tuple(describe_change(before, after))))
            continue
        present = before if before is not None else after
        others = b if before is not None else a
        twin = next((other for other, info in others.items() if other not in (a if before is not None else b)
                     and info.get("fingerprint") == present.get("fingerprint")), None)
        if twin is not None:
            changes.append(DatasetChange(name, "renamed", before, after, (str(twin),)))
        else:
            changes.append(DatasetChange(name, "removed" if after is None else "added", before, after))
    return changes


def same_data(changes: Sequence[DatasetChange]) -> bool:
    """True when both runs logged the same datasets (names aside) with the same content."""
    return all(change.status in ("same", "renamed") for change in changes)


def summary_lines(changes: Sequence[DatasetChange]) -> list[str]:
    """``nbtrack diff``'s lines: a verdict, then one line per dataset that differs."""
    if not changes:
        return ["datasets: none logged"]
    if same_data(changes):
        shown = ", ".join(f"{c.name} {(c.before or c.after or {}).get('fingerprint', '')[:12]}" for c in changes
                          if c.status == "same")
        return [f"datasets: same data ({shown})" if shown else "datasets: same data, under other names"]
    width = max(len(str(c.name)) for c in changes)
    lines = ["datasets: different data"]
    lines += [f"  {str(c.name).ljust(width)}  {c.text}" for c in changes if c.status != "same"]
    same = [c.name for c in changes if c.status == "same"]
    if same:
        lines.append(f"  (same: {', '.join(map(str, same))})")
    return lines


def compare_rows(records: Sequence[Any]) -> list[dict]:
    """Rows for the dashboard's compare table: one per dataset name, one cell per run saying which
    version it saw and, after the first run, what changed against the first run."""
    names = sorted({d.get("name") for r in records for d in (getattr(r, "datasets", None) or [])}, key=str)
    rows = []
    for name in names:
        infos = [next((d for d in (getattr(r, "datasets", None) or []) if d.get("name") == name), None)
                 for r in records]
        fingerprints = {(i or {}).get("fingerprint") for i in infos}
        first = infos[0]
        cells = []
        for index, info in enumerate(infos):
            if info is None:
                cells.append({"text": "", "best": False})
                continue
            text = info.get("fingerprint", "")[:12] + _shape(info)
            if index and first is not None and info.get("fingerprint") != first.get("fingerprint"):
                text += " — " + "; ".join(describe_change(first, info))
            elif index and first is not None:
                text += " — same data"
            cells.append({"text": text, "best": False})
        rows.append({"key": name, "differs": len(fingerprints) > 1, "cells": cells})
    return rows
