"""``nbtrack.report()``: the dashboard's table and plots as one self-contained HTML file.

The file inlines plotly.js, needs no server and works offline, so it can be mailed to a
colleague. Every string from a run is escaped (table) or made inert (plot labels).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Sequence

from nbtrack.errors import ExperimentNotFoundError, NbtrackError
from nbtrack.headline import headline_key

from . import figures
from .columns import BASE_COLUMNS, default_columns, guess_direction, order_clause
from .histories import read_histories
from .mediaview import CSS as MEDIA_CSS
from .report_media import SCRIPT as MEDIA_SCRIPT
from .report_media import media_sections, script_json
from .table import CSS, best_values, table_html
from .templating import render, trusted

MAX_TABLE_ROWS = 2000
MAX_BARS = 50
MAX_CURVES = 10

_SORT_SCRIPT = """
document.querySelectorAll('table.nbtrack-table th').forEach(function (th, index) {
  th.style.cursor = 'pointer';
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var descending = th.dataset.sorted !== 'asc';
    th.closest('tr').querySelectorAll('th').forEach(function (o) { delete o.dataset.sorted; });
    th.dataset.sorted = descending ? 'desc' : 'asc';
    function key(row) {
      var text = row.cells[index].textContent.trim();
      var number = parseFloat(text);
      return text === '' ? null : (isNaN(number) || !/^[-+.\\d]/.test(text) ? text : number);
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null) return 1; if (y === null) return -1;
      var order = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""

_PAGE_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table.nbtrack-table { border-collapse: collapse; font-size: 12px; }
table.nbtrack-table th, table.nbtrack-table td { padding: 3px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
table.nbtrack-table th { position: sticky; top: 0; background: #fafafa; text-align: left; }
table.nbtrack-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.nbtrack-table th[data-sorted=asc]::after { content: ' ▲'; }
table.nbtrack-table th[data-sorted=desc]::after { content: ' ▼'; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
"""


class NoRunsToReportError(NbtrackError, LookupError):
    """The experiment / filter matches no runs."""

    def __init__(self, experiment: Any, filter: str | None) -> None:
        self.experiment, self.filter = experiment, filter
        where = f" in {experiment!r}" if experiment else ""
        how = f" matching {filter!r}" if filter else ""
        super().__init__(f"no runs{where}{how}: nothing to report (list runs with `nbtrack ls`)")


def _check_experiments(api: Any, experiment: str | Sequence[str] | None) -> None:
    if experiment is None:
        return
    wanted = [experiment] if isinstance(experiment, str) else list(experiment)
    known = set(api.experiments()["experiment"].tolist())
    for name in wanted:
        if name not in known:
            raise ExperimentNotFoundError(name)


def build_figures(api: Any, frame: Any, summary: Any, metric: str | None) -> list[Any]:
    """The report's plots: bar and history of the primary metric, scatter and parallel coordinates."""
    metrics = sorted(summary.metrics)
    metric = metric if metric in metrics else headline_key(metrics)
    if metric is None or frame is None or len(frame) == 0:
        return []
    column = f"metrics.{metric}"
    direction = guess_direction(metric)
    ranked = frame.dropna(subset=[column]).sort_values(column, ascending=direction == "min")
    out = [figures.bar_figure(ranked.head(MAX_BARS), column, direction)]
    top = ranked.head(MAX_CURVES)
    if len(top):
        ids = top["run_id"].tolist()
        view = read_histories(ids, metric)  # long runs: min/max per step range, as in the dashboard
        out.append(figures.history_figure(view.frame, metric, labels=figures.run_labels(top), exact=view.exact))
    varying = [c for c in default_columns(summary) if c.startswith("params.")]
    if varying:
        colour = varying[1] if len(varying) > 1 else None
        out.append(figures.scatter_figure(frame, varying[0], column, colour))
        out.append(figures.parallel_figure(frame, varying[:8], column))
    return out


def _ranked_ids(frame: Any, summary: Any, metric: str | None) -> list[str]:
    """Run ids, the best by the leading metric first (the media view shows the first few)."""
    metrics = sorted(summary.metrics)
    metric = metric if metric in metrics else headline_key(metrics)
    column = f"metrics.{metric}" if metric else None
    if column is None or column not in frame.columns:
        return [str(r) for r in frame["run_id"].tolist()]
    ranked = frame.sort_values(column, ascending=guess_direction(metric) == "min", na_position="last")
    return [str(r) for r in ranked["run_id"].tolist()]


def render_report(experiment: str | Sequence[str] | None = None, filter: str | None = None,
                  metric: str | None = None) -> str:
    """The report as one HTML string (what :func:`write_report` writes)."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    import nbtrack as api

    _check_experiments(api, experiment)
    summary = api.summarize_runs(experiment, filter)
    if summary.count == 0:
        raise NoRunsToReportError(experiment, filter)
    frame = api.runs(experiment, filter, order_by=order_clause("start_time", True), max_results=MAX_TABLE_ROWS)
    columns = list(BASE_COLUMNS) + [c for c in default_columns(summary) if c not in BASE_COLUMNS]
    best = best_values(summary.metrics)
    shown = f"{summary.count:,} runs" if summary.count <= MAX_TABLE_ROWS else \
        f"the newest {MAX_TABLE_ROWS:,} of {summary.count:,} runs"
    title = "nbtrack report" + (f": {experiment}" if isinstance(experiment, str) else
                                f": {', '.join(experiment)}" if experiment else "")
    figure_divs = [
        pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=f"nbtrack-figure-{i}",
                    config={"displaylogo": False, "responsive": True})
        for i, fig in enumerate(build_figures(api, frame, summary, metric))
    ]
    ranked = _ranked_ids(frame, summary, metric)
    media = media_sections(ranked, figures.run_labels(frame))
    for section in media:
        section["data"] = trusted(section["data"])  # JSON made safe for a <script> by media_sections
    statuses = ", ".join(f"{count} {status.lower()}" for status, count in sorted(summary.statuses.items()))
    generated = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = script_json({"experiment": experiment, "filter": filter, "runs": summary.count})
    return render(
        "report.html", title=title, css=trusted(CSS + _PAGE_CSS + MEDIA_CSS), plotlyjs=trusted(get_plotlyjs()),
        meta=trusted(meta),
        shown=shown, statuses=statuses, filter=filter, generated=generated,
        figure_divs=[trusted(div) for div in figure_divs], media=media, media_script=trusted(MEDIA_SCRIPT),
        table=trusted(table_html(frame.to_dict("records"), columns, best)), sort_script=trusted(_SORT_SCRIPT))


def write_report(experiment: str | Sequence[str] | None = None, path: str | Path = "report.html",
                 filter: str | None = None) -> Path:
    """Write the runs table and plots of ``experiment`` (matching ``filter``) to ``path``.

    The file is self-contained (plotly.js inline) and works offline. Returns the path.
    Raises ``ExperimentNotFoundError`` for an unknown experiment, ``FilterSyntaxError``
    for a bad filter and ``NoRunsToReportError`` when nothing matches.
    """
    target = Path(path).expanduser()
    html_text = render_report(experiment, filter)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html_text, encoding="utf-8")
    return target.resolve()


__all__ = ["write_report", "render_report", "NoRunsToReportError"]
