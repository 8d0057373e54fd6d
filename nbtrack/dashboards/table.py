"""HTML for the run table: cell formatting, best-value marks, status colours, escaping.

Every string that comes from a run passes through :func:`esc` before it reaches HTML.
The widget uses :func:`row_html` (one row of fixed-width cells); the report uses
:func:`table_html` (a plain ``<table>``).
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

DEFAULT_WIDTHS = {"run_id": 80, "name": 160, "status": 84, "start_time": 120, "duration": 64}
VALUE_WIDTH = 92

CSS = """
.nbtrack-dashboard { font-family: var(--jp-ui-font-family, sans-serif); font-size: 12px; }
.nbtrack-dashboard .nbtrack-cells { display: flex; align-items: center; }
.nbtrack-dashboard .nbtrack-cell { flex: none; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; padding: 0 4px; box-sizing: border-box; }
.nbtrack-dashboard .nbtrack-cell.num { text-align: right; font-variant-numeric: tabular-nums; }
.nbtrack-runid { font-family: var(--jp-code-font-family, monospace); user-select: all; cursor: text; }
.nbtrack-best { font-weight: bold; background: rgba(255, 200, 0, 0.35); border-radius: 3px; padding: 0 2px; }
.nbtrack-status { color: white; border-radius: 8px; padding: 0 6px; font-size: 11px; }
.nbtrack-dashboard .nbtrack-header button { font-weight: bold; text-align: left; overflow: hidden;
  text-overflow: ellipsis; padding: 0 4px; }
.nbtrack-dashboard .nbtrack-row:nth-child(even) { background: var(--jp-layout-color2, #f5f5f5); }
.nbtrack-dashboard .nbtrack-deleted { text-decoration: line-through; opacity: 0.6; }
.nbtrack-error { color: #b00020; white-space: pre; font-family: var(--jp-code-font-family, monospace); }
.nbtrack-diff { font-family: var(--jp-code-font-family, monospace); font-size: 12px; white-space: pre; }
.nbtrack-diff .add { background: #e6ffec; } .nbtrack-diff .del { background: #ffebe9; }
.nbtrack-diff .hunk { color: #6f42c1; }
.nbtrack-differs { background: rgba(255, 200, 0, 0.25); }
.nbtrack-snapshot pre { margin: 0; padding: 2px 6px; border-left: 3px solid transparent; }
.nbtrack-snapshot .tracked { background: rgba(31, 119, 180, 0.12); border-left-color: #1f77b4; }
.nbtrack-detail .widget-html-content, .nbtrack-compare-panel .widget-html-content,
.nbtrack-filter-error .widget-html-content { line-height: 1.45; }
.nbtrack-kv td, .nbtrack-kv th { text-align: left; padding: 1px 8px 1px 0; vertical-align: top; }
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


def column_width(column: str, widths: Mapping[str, int] | None = None) -> int:
    """Pixel width of a column in the widget table."""
    if widths and column in widths:
        return int(widths[column])
    return DEFAULT_WIDTHS.get(column, VALUE_WIDTH)


def row_html(row: Mapping[str, Any], columns: Sequence[str], best: Mapping[str, float] | None = None,
             widths: Mapping[str, int] | None = None) -> str:
    """One table row as a flex line of fixed-width cells (used inside an HTML widget)."""
    cells = []
    for column in columns:
        value = row.get(column)
        numeric = " num" if kind_of(column) == "metrics" or is_numeric(value) else ""
        title = esc(format_value(column, value)) if column not in ("run_id", "status") else ""
        cells.append(
            f'<div class="nbtrack-cell{numeric}" data-column="{esc(column)}" title="{title}" '
            f'style="width:{column_width(column, widths)}px">{cell_inner_html(column, value, best)}</div>'
        )
    run_id = esc(row.get("run_id", ""))
    deleted = ' nbtrack-deleted" title="deleted: open it and click restore' if row.get("deleted") else ""
    return f'<div class="nbtrack-cells{deleted}" data-run-id="{run_id}">' + "".join(cells) + "</div>"


def header_label(column: str, sort_by: str | None, descending: bool) -> str:
    """Header text with a sort arrow on the sorted column (plain text, for a Button)."""
    label = column_label(column)
    if column == sort_by:
        label += " ▼" if descending else " ▲"
    return label


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
