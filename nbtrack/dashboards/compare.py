"""Side-by-side comparison of runs and the diff of two notebook snapshots, as escaped HTML
(templates/compare.html)."""

from __future__ import annotations

import difflib
from typing import Any, Mapping, Sequence

from .detail import value_text
from .figures import run_label
from .table import is_best, status_badge
from .templating import macro, trusted


def _values_differ(values: Sequence[Any]) -> bool:
    texts = {value_text(v) if v is not None else "\0missing" for v in values}
    return len(texts) > 1


def compare_html(records: Sequence[Any], directions: Mapping[str, str] | None = None,
                 differences_only: bool = False) -> str:
    """Params and metrics of two or more runs side by side; rows whose values differ are
    highlighted (class ``nbtrack-differs``) and the best value of each metric is marked.
    With ``differences_only`` the rows where every run agrees are left out."""
    if len(records) < 2:
        return "<i>select two or more runs to compare</i>"
    head = [{"run_id": r.run_id, "label": run_label(r.run_id, r.name), "badge": trusted(status_badge(r.status))}
            for r in records]
    sections = []
    for kind in ("params", "metrics"):
        keys = sorted({k for r in records for k in (getattr(r, kind, {}) or {})}, key=str)
        if not keys:
            continue
        rows = []
        for key in keys:
            values = [(getattr(r, kind, {}) or {}).get(key) for r in records]
            differs = _values_differ(values)
            if differences_only and not differs:
                continue
            best: dict[str, float] = {}
            if kind == "metrics":
                numbers = [v for v in values if isinstance(v, (int, float)) and v == v]
                if numbers and differs:
                    from .columns import guess_direction

                    direction = (directions or {}).get(key) or guess_direction(key)
                    best = {key: min(numbers) if direction == "min" else max(numbers)}
            cells = [{"text": "" if value is None else value_text(value),
                      "best": bool(best) and is_best(key, value, best)} for value in values]
            rows.append({"key": key, "differs": differs, "cells": cells})
        if rows:
            sections.append((kind, rows))
    # -- datasets (nbtrack.registry.datadiff): which data version each run saw, what changed
    from ..registry.datadiff import compare_rows

    data_rows = [row for row in compare_rows(records) if row["differs"] or not differences_only]
    if data_rows:
        sections.append(("datasets", data_rows))
    return str(macro("compare.html", "compare_table", head, sections, len(records) + 1))


def diff_lines(text_a: str, text_b: str, label_a: str = "a", label_b: str = "b", context: int = 3) -> list[str]:
    """Unified-diff lines (changed hunks with ``context`` lines around them)."""
    return list(difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), fromfile=label_a,
                                     tofile=label_b, n=context, lineterm=""))


def diff_html(text_a: str, text_b: str, label_a: str = "a", label_b: str = "b", context: int = 3) -> str:
    """The diff of two notebook snapshots as escaped, coloured lines."""
    return diff_lines_html(diff_lines(text_a, text_b, label_a, label_b, context))


def diff_lines_html(lines: Sequence[str]) -> str:
    """Unified-diff lines (e.g. from ``nbtrack.notebook.sourcediff.source_diff``) as escaped, coloured HTML."""
    lines = [line.rstrip("\n") for line in lines]
    if not lines:
        return "<i>the two notebook snapshots are identical</i>"
    out = []
    for line in lines:
        if line.startswith(("+++", "---")):
            cls = "file"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        out.append((cls, line))
    return str(macro("compare.html", "diff", out))
