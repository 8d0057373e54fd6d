"""Plotly figures from run data: pure functions, no widget, no store.

Inputs are DataFrames shaped like ``nbtrack.runs()`` (``run_id``, ``name``, ``params.<k>``,
``metrics.<k>``, ...) and ``nbtrack.metric_histories()`` (``run_id, step, value,
timestamp``). Every trace carries the run ids it shows (``customdata`` or ``ids``), and
values are plain lists so the figure JSON stays readable.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from typing import Any, Mapping, Sequence

import plotly.graph_objects as go

from ..formatting import is_missing
from .columns import column_label as _raw_label
from .columns import guess_direction


def _text(value: Any) -> str:
    """Text for plotly labels: plotly reads a subset of HTML in text, so escape it."""
    return html.escape(str(value), quote=False)


def column_label(column: str) -> str:
    return _text(_raw_label(column))

HEIGHT = 380


def _style(fig: go.Figure) -> go.Figure:
    """A light look without a plotly template (copying a template costs ~20 ms per figure)."""
    fig.update_layout(plot_bgcolor="white", paper_bgcolor="white", font=dict(size=12),
                      margin=dict(l=60, r=30, t=50, b=50))
    fig.update_xaxes(gridcolor="#eee", zerolinecolor="#ddd", linecolor="#ccc")
    fig.update_yaxes(gridcolor="#eee", zerolinecolor="#ddd", linecolor="#ccc")
    return fig


def _plain(value: Any) -> Any:
    if is_missing(value):
        return None
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        return value.item()
    return value


def _column(df: Any, column: str) -> list:
    if column not in getattr(df, "columns", ()):
        return [None] * len(df)
    return [_plain(v) for v in df[column].tolist()]


def run_label(run_id: str, name: Any = None) -> str:
    """``name (abcd1234)``, or the short id alone."""
    short = str(run_id)[:8]
    return f"{name} ({short})" if name not in (None, "") and not is_missing(name) else short


def run_labels(runs: Any) -> dict[str, str]:
    """run_id -> label for every row of a runs DataFrame."""
    names = _column(runs, "name")
    return {rid: run_label(rid, name) for rid, name in zip(_column(runs, "run_id"), names)}


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=title, height=HEIGHT,
        annotations=[dict(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)],
        xaxis=dict(visible=False), yaxis=dict(visible=False),
    )
    return _style(fig)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value))


def _iso(moment: Any) -> str:
    """ISO text of epoch seconds, a datetime or a pandas Timestamp (UTC when naive)."""
    if isinstance(moment, (int, float)):
        return _dt.datetime.fromtimestamp(float(moment), tz=_dt.timezone.utc).isoformat()
    if hasattr(moment, "isoformat"):
        return moment.isoformat()
    return str(moment)


def history_figure(histories: Any, key: str, x: str = "step", labels: Mapping[str, str] | None = None) -> go.Figure:
    """Metric history curves: one line per run of ``key`` against ``step`` or wall ``time``.

    ``histories`` is a ``metric_histories()`` DataFrame; ``labels`` maps run ids to legend names.
    """
    title = f"{_text(key)} by {'step' if x == 'step' else 'wall time'}"
    if histories is None or len(histories) == 0:
        return _empty(title, f"no history of {_text(key)} in these runs")
    labels = labels or {}
    frame = histories.sort_values(["run_id", "step"])
    groups = {run_id: part for run_id, part in frame.groupby("run_id", sort=False)}
    order = [r for r in dict.fromkeys(labels) if r in groups] + sorted(set(groups) - set(labels))
    hover = ("%{fullData.name}<br>" + ("step" if x == "step" else "time") + " %{x}<br>"
             + _text(key) + " %{y}<extra></extra>")
    traces = []
    for run_id in order:
        part = groups[run_id]
        xs = part["step"].astype(int).tolist() if x == "step" else [_iso(t) for t in part["timestamp"].tolist()]
        ys = [None if v != v else v for v in part["value"].astype(float).tolist()]
        # plain dicts: validating 25 Scatter objects one by one costs more than the whole query
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines+markers" if len(xs) < 50 else "lines",
                           name=_text(labels.get(run_id, run_label(run_id))), customdata=[run_id] * len(xs),
                           hovertemplate=hover))
    x_title = "step" if x == "step" else "wall time (UTC)"
    fig = go.Figure(data=traces, layout=dict(
        title=dict(text=title), height=HEIGHT, xaxis=dict(title=dict(text=x_title)),
        yaxis=dict(title=dict(text=_text(key))), legend=dict(orientation="h", y=-0.2)))
    return _style(fig)


def scatter_figure(runs: Any, x: str, y: str, color: str | None = None) -> go.Figure:
    """One marker per run: column ``x`` against column ``y``, coloured by column ``color``.

    Numeric colours use a colour scale; other values get one trace per distinct value.
    """
    title = f"{column_label(y)} vs {column_label(x)}" + (f" (colour: {column_label(color)})" if color else "")
    if runs is None or len(runs) == 0:
        return _empty(title, "no runs")
    run_ids = _column(runs, "run_id")
    names = [_text(run_label(r, n)) for r, n in zip(run_ids, _column(runs, "name"))]
    xs, ys = _column(runs, x), _column(runs, y)
    xs = [v if _is_number(v) or v is None else _text(v) for v in xs]
    ys = [v if _is_number(v) or v is None else _text(v) for v in ys]
    fig = go.Figure()
    hover = "%{text}<br>" + column_label(x) + " %{x}<br>" + column_label(y) + " %{y}"
    colours = _column(runs, color) if color else None
    if colours is not None and all(_is_number(c) or c is None for c in colours) and any(_is_number(c) for c in colours):
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", text=names, customdata=run_ids, name=column_label(y),
            marker=dict(size=11, color=[c if c is not None else float("nan") for c in colours],
                        colorscale="Viridis", showscale=True, colorbar=dict(title=column_label(color))),
            hovertemplate=hover + "<br>" + column_label(color) + " %{marker.color}<extra></extra>",
        ))
    elif colours is not None:
        groups: dict[str, list[int]] = {}
        for i, c in enumerate(colours):
            groups.setdefault("(none)" if c is None else _text(c), []).append(i)
        for group, index in groups.items():
            fig.add_trace(go.Scatter(
                x=[xs[i] for i in index], y=[ys[i] for i in index], mode="markers", name=group,
                text=[names[i] for i in index], customdata=[run_ids[i] for i in index],
                marker=dict(size=11), hovertemplate=hover + "<extra>%{fullData.name}</extra>",
            ))
    else:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", text=names, customdata=run_ids,
                                 name=column_label(y), marker=dict(size=11),
                                 hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(title=title, height=HEIGHT,
                      xaxis_title=column_label(x), yaxis_title=column_label(y))
    return _style(fig)


def parallel_figure(runs: Any, params: Sequence[str], metric: str) -> go.Figure:
    """Parallel coordinates from the ``params`` columns to one ``metric`` column (the line colour).

    Non-numeric params become categorical axes whose ticks show the values.
    """
    title = f"params → {column_label(metric)}"
    if runs is None or len(runs) == 0:
        return _empty(title, "no runs")
    dimensions = []
    for column in list(params) + [metric]:
        values = _column(runs, column)
        if all(_is_number(v) or v is None for v in values):
            dimensions.append(dict(label=column_label(column),
                                   values=[v if v is not None else float("nan") for v in values]))
        else:
            texts = ["(none)" if v is None else _text(v) for v in values]
            categories = sorted(set(texts))
            codes = {c: i for i, c in enumerate(categories)}
            dimensions.append(dict(label=column_label(column), values=[codes[t] for t in texts],
                                   tickvals=list(range(len(categories))), ticktext=categories))
    colour = dimensions[-1]["values"]
    fig = go.Figure(go.Parcoords(
        dimensions=dimensions, ids=_column(runs, "run_id"),
        line=dict(color=colour, colorscale="Viridis", showscale=True,
                  reversescale=guess_direction(metric) == "min"),
    ))
    fig.update_layout(title=title, height=HEIGHT)
    return _style(fig)


def bar_figure(runs: Any, metric: str, direction: str | None = None) -> go.Figure:
    """One bar per run for ``metric``; the best bar (per ``direction``) is highlighted."""
    title = f"{column_label(metric)} by run"
    if runs is None or len(runs) == 0:
        return _empty(title, "no runs")
    run_ids = _column(runs, "run_id")
    names = [_text(run_label(r, n)) for r, n in zip(run_ids, _column(runs, "name"))]
    values = [v if _is_number(v) else None for v in _column(runs, metric)]
    direction = direction or guess_direction(metric)
    present = [v for v in values if v is not None]
    best = (min(present) if direction == "min" else max(present)) if present else None
    colours = ["#ff7f0e" if v is not None and v == best else "#1f77b4" for v in values]
    fig = go.Figure(go.Bar(x=names, y=values, customdata=run_ids, marker=dict(color=colours),
                           name=column_label(metric),
                           hovertemplate="%{x}<br>" + column_label(metric) + " %{y}<extra></extra>"))
    fig.update_layout(title=title + (" (lower is better)" if direction == "min" else ""),
                      height=HEIGHT, yaxis_title=column_label(metric))
    return _style(fig)


def plotted_run_ids(fig: go.Figure) -> list[str]:
    """The run ids a figure shows, in trace order (for tests and the report)."""
    out: list[str] = []
    for trace in fig.data:
        ids = getattr(trace, "customdata", None)
        if ids is None and trace.type == "parcoords":
            ids = trace.ids
        for run_id in ids or ():
            if run_id not in out:
                out.append(run_id)
    return out


def mimebundle(fig: go.Figure) -> dict:
    """The ``application/vnd.plotly.v1+json`` bundle JupyterLab, Notebook 7 and VS Code render."""
    import json

    import plotly.io as pio

    spec = json.loads(pio.to_json(fig, validate=False))
    spec.setdefault("config", {"displaylogo": False, "responsive": True})
    return {"application/vnd.plotly.v1+json": spec,
            "text/plain": f"<plotly figure: {fig.layout.title.text or ''}>"}


__all__ = ["history_figure", "scatter_figure", "parallel_figure", "bar_figure", "run_label",
           "run_labels", "plotted_run_ids", "mimebundle"]
