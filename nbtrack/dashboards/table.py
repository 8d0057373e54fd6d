"""HTML for the run table: cell formatting, best-value marks, status colours, escaping.

Every string that comes from a run passes through :func:`esc` before it reaches HTML.
The report and the dashboard's static fallback use :func:`table_html` (a plain ``<table>``);
the interactive table draws its rows in the browser (``static/runtable.js``).
"""

from __future__ import annotations

import html
import math
from typing import Any, Iterable, Mapping, Sequence

from ..formatting import format_duration, format_number, format_time, is_missing
from .columns import column_label, guess_direction, key_of, kind_of

STATUS_COLOURS = {
    "RUNNING": "#1f77b4",
    "FINISHED": "#2ca02c",
    "FAILED": "#d62728",
    "KILLED": "#7f7f7f",
}

# Styles of the HTML the dashboard's panels and the report show. Every rule is scoped under
# .nbtrack-dashboard (the dashboard widget's root and the report's <body>): the page also holds
# the labextension's Runs panel, whose own .nbtrack-status labels these rules must not touch.
# The static fallback copy is revealed after 5 s unless the interactive table (.nbtrack-runtable,
# drawn by runtable.js) is there: a frontend that cannot run anywidget shows the copy.
CSS = """
.nbtrack-dashboard { font-family: var(--jp-ui-font-family, sans-serif); font-size: 12px; }
.nbtrack-dashboard .nbtrack-runid { font-family: var(--jp-code-font-family, monospace); user-select: all;
  cursor: text; }
.nbtrack-dashboard .nbtrack-best { font-weight: bold; background: rgba(255, 200, 0, 0.35); border-radius: 3px;
  padding: 0 2px; }
.nbtrack-dashboard .nbtrack-status { color: white; border-radius: 8px; padding: 0 6px; font-size: 11px; }
.nbtrack-dashboard .nbtrack-deleted { text-decoration: line-through; opacity: 0.6; }
.nbtrack-dashboard .nbtrack-error { color: #b00020; white-space: pre;
  font-family: var(--jp-code-font-family, monospace); }
.nbtrack-dashboard .nbtrack-diff { font-family: var(--jp-code-font-family, monospace); font-size: 12px;
  white-space: pre; }
.nbtrack-dashboard .nbtrack-diff .add { background: #e6ffec; }
.nbtrack-dashboard .nbtrack-diff .del { background: #ffebe9; }
.nbtrack-dashboard .nbtrack-diff .hunk { color: #6f42c1; }
.nbtrack-dashboard .nbtrack-differs { background: rgba(255, 200, 0, 0.25); }
.nbtrack-dashboard .nbtrack-snapshot pre { margin: 0; padding: 2px 6px; border-left: 3px solid transparent; }
.nbtrack-dashboard .nbtrack-snapshot .tracked { background: rgba(31, 119, 180, 0.12); border-left-color: #1f77b4; }
.nbtrack-dashboard .nbtrack-detail .widget-html-content, .nbtrack-dashboard .nbtrack-compare-panel .widget-html-content
  { line-height: 1.45; }
.nbtrack-dashboard .nbtrack-kv td, .nbtrack-dashboard .nbtrack-kv th { text-align: left; padding: 1px 8px 1px 0;
  vertical-align: top; }
.nbtrack-dashboard .nbtrack-static-note { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 3px;
  padding: 4px 8px; margin: 4px 0; }
.nbtrack-dashboard .nbtrack-static table.nbtrack-table td, .nbtrack-dashboard .nbtrack-static table.nbtrack-table th
  { padding: 2px 8px; white-space: nowrap; text-align: left; }
.nbtrack-dashboard .nbtrack-static table.nbtrack-table td.num { text-align: right; }
.nbtrack-dashboard .nbtrack-static { overflow-x: auto; }
.nbtrack-dashboard .nbtrack-static-fallback { visibility: hidden; max-height: 0; overflow: hidden;
  animation: nbtrack-reveal 0s linear 5s forwards; }
@keyframes nbtrack-reveal { to { visibility: visible; max-height: none; overflow: visible; } }
.nbtrack-dashboard:has(.nbtrack-runtable) .nbtrack-static-fallback { display: none; }
"""


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included), after turning it into text."""
    return html.escape("" if value is None else str(value), quote=True)


def format_value(column: str, value: Any) -> str:
    """Display text (not yet escaped) of one cell."""
    if is_missing(value):
        return ""
    if column in ("start_time", "end_time"):
        return format_time(value)
    if column == "duration":
        return format_duration(value)
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or (
        type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iuf")


def best_values(metric_ranges: Mapping[str, tuple], directions: Mapping[str, str] | None = None) -> dict[str, float]:
    """The best value of each metric over all matching runs, from ``RunsSummary.metrics``.

    ``metric_ranges`` maps a metric key to ``(min, max)``; ``directions`` maps a key to
    ``"max"``/``"min"`` (guessed from the name when absent). Returns ``{"metrics.<k>": best}``.
    """
    directions = directions or {}
    out = {}
    for key, bounds in metric_ranges.items():
        if not bounds or len(bounds) != 2:
            continue
        low, high = bounds
        direction = directions.get(key) or guess_direction(key)
        best = low if direction == "min" else high
        if not is_missing(best):
            out[f"metrics.{key}"] = float(best)
    return out


def is_best(column: str, value: Any, best: Mapping[str, float]) -> bool:
    """True when ``value`` is the best of its metric column."""
    target = best.get(column)
    if target is None or is_missing(value) or not is_numeric(value):
        return False
    return math.isclose(float(value), target, rel_tol=1e-12, abs_tol=1e-15)


def status_badge(status: Any) -> str:
    """A coloured status pill."""
    colour = STATUS_COLOURS.get(str(status), "#555")
    return (f'<span class="nbtrack-status nbtrack-status-{esc(str(status).lower())}" '
            f'style="background:{colour}">{esc(status)}</span>')


def cell_inner_html(column: str, value: Any, best: Mapping[str, float] | None = None) -> str:
    """The escaped content of one cell, with run-id, status and best-value decorations."""
    if column == "run_id":
        text = esc(value)
        return f'<code class="nbtrack-runid" title="run id {text}: click to select it all, then copy">{text}</code>'
    if column == "status":
        return status_badge(value) if not is_missing(value) else ""
    text = esc(format_value(column, value))
    if best and kind_of(column) == "metrics" and is_best(column, value, best):
        return f'<span class="nbtrack-best" title="best {esc(key_of(column))}">{text}</span>'
    return text


def table_html(records: Iterable[Mapping[str, Any]], columns: Sequence[str],
               best: Mapping[str, float] | None = None, caption: str | None = None) -> str:
    """A self-contained ``<table>`` of runs (for the HTML report)."""
    head = "".join(
        f'<th data-column="{esc(c)}" title="{esc(c)}">{esc(column_label(c))}</th>' for c in columns)
    body = []
    for row in records:
        tds = []
        for column in columns:
            value = row.get(column)
            numeric = ' class="num"' if kind_of(column) == "metrics" or is_numeric(value) else ""
            tds.append(f"<td{numeric}>{cell_inner_html(column, value, best)}</td>")
        body.append(f'<tr class="nbtrack-row" data-run-id="{esc(row.get("run_id", ""))}">' + "".join(tds) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<table class="nbtrack-table">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')
