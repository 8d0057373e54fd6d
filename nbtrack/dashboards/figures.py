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


HEIGHT = 400
MISSING = "missing"
MISSING_COLOUR = "#9e9e9e"
SELECTED_OPACITY, UNSELECTED_OPACITY = 1.0, 0.25


AXIS_STYLE = dict(gridcolor="#eee", zerolinecolor="#ddd", linecolor="#ccc", automargin=True)


def _style_layout(layout: dict, subtitle: str | None = None) -> dict:
    """``layout`` (a plain dict) with the look of every nbtrack figure, no plotly template
    (copying a template costs ~20 ms per figure).

    Nothing overlaps: the title sits in the top margin (left-aligned, sized to its lines),
    a legend or a colour bar right of the plot area (plotly widens the right margin for
    them), and the axes take the room their tick labels and titles need (``automargin``).
    """
    title = dict(layout.get("title") or {})
    text = title.get("text") or ""
    if subtitle:
        text += f"<br><span style='font-size:11px;color:#666'>{subtitle}</span>"
    styled = dict(layout)
    styled.update(
        plot_bgcolor="white", paper_bgcolor="white", font=dict(size=12),
        title=dict(text=text, x=0.01, xanchor="left", y=0.98, yanchor="top", yref="container", font=dict(size=14)),
        margin=dict(l=60, r=20, t=72 if subtitle else 52, b=50),
        legend=dict(x=1.02, xanchor="left", y=1.0, yanchor="top", font=dict(size=11)),
        hovermode="closest")
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            styled[key] = {**AXIS_STYLE, **axis}
    return styled


def _style(fig: go.Figure, subtitle: str | None = None) -> go.Figure:
    """The same look applied to a built figure (see :func:`_style_layout`)."""
    title = fig.layout.title.text or ""
    fig.update_layout(_style_layout({"title": {"text": title}}, subtitle))
    fig.update_xaxes(**AXIS_STYLE)
    fig.update_yaxes(**AXIS_STYLE)
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


def _selected_indices(run_ids: Sequence[str], selected: Sequence[str] | None) -> list[int] | None:
    """``selectedpoints`` for a trace: positions of the selected runs (None: no selection)."""
    if not selected:
        return None
    chosen = set(selected)
    return [i for i, run_id in enumerate(run_ids) if run_id in chosen]


def history_figure(histories: Any, key: str, x: str = "step", labels: Mapping[str, str] | None = None,
                   exact: Mapping[str, bool] | None = None, missing: Sequence[str] = (),
                   highlight: str | None = None) -> go.Figure:
    """Metric history curves: one line per run of ``key`` against ``step`` or wall ``time``.

    ``histories`` is a ``metric_histories()`` DataFrame (or :class:`~.histories.Histories`'
    frame, with ``exact`` saying which runs are downsampled); ``labels`` maps run ids to
    legend names; ``missing`` lists runs that have no point of ``key`` (legend entries
    marked "no data", nothing drawn); ``highlight`` is a run drawn thicker, others faded.
    """
    title = f"{_text(key)} by {'step' if x == 'step' else 'wall time'}"
    labels = labels or {}
    if (histories is None or len(histories) == 0) and not missing:
        return _empty(title, f"no history of {_text(key)} in these runs")
    exact = exact or {}
    traces = []
    if histories is not None and len(histories):
        frame = histories.sort_values(["run_id", "step"], kind="stable")
        groups = {run_id: part for run_id, part in frame.groupby("run_id", sort=False)}
        order = [r for r in dict.fromkeys(labels) if r in groups] + sorted(set(groups) - set(labels))
        hover = ("%{fullData.name}<br>" + ("step" if x == "step" else "time") + " %{x}<br>"
                 + _text(key) + " %{y}<extra></extra>")
        for run_id in order:
            part = groups[run_id]
            # numpy arrays (NaN is a gap) and one customdata entry per trace: the figure is built
            # without plotly's per-element validation (2,000 points x 25 runs would cost seconds)
            xs = part["step"].to_numpy(dtype="int64") if x == "step" else [_iso(t) for t in part["timestamp"].tolist()]
            ys = part["value"].to_numpy(dtype="float64")
            downsampled = exact.get(run_id) is False
            name = _text(labels.get(run_id, run_label(run_id)))
            traces.append(dict(type="scatter", x=xs, y=ys, name=name, customdata=[run_id],
                               mode="lines+markers" if len(xs) < 50 and not downsampled else "lines",
                               hovertemplate=hover, uid=run_id,
                               meta=dict(run_id=run_id, downsampled=downsampled)))
    for run_id in missing:
        if not any(t["uid"] == run_id for t in traces):
            traces.append(dict(type="scatter", x=[], y=[], mode="lines", uid=run_id, customdata=[],
                               name=_text(labels.get(run_id, run_label(run_id))) + f" ({MISSING}: no {_text(key)})",
                               visible="legendonly", line=dict(color=MISSING_COLOUR, dash="dot"),
                               meta=dict(run_id=run_id, missing=True)))
    x_title = "step" if x == "step" else "wall time (UTC)"
    subtitle = "long runs shown as min/max per step range: zoom in for every point" if any(
        t.get("meta", {}).get("downsampled") for t in traces) else None
    layout = _style_layout(dict(
        title=dict(text=title), height=HEIGHT, xaxis=dict(title=dict(text=x_title)),
        yaxis=dict(title=dict(text=_text(key))), uirevision=f"{key}|{x}", showlegend=True), subtitle)
    fig = go.Figure(data=traces, layout=layout, _validate=False)
    if highlight:
        for trace, update in zip(fig.data, highlight_updates(fig, highlight)):
            trace.update(update)
    return fig


def highlight_updates(fig: go.Figure, run_id: str | None) -> list[dict]:
    """One property update per trace that brings ``run_id`` forward (None: back to normal).

    Curves: the run's line thicker, the others faded. Markers and bars: an outline on the
    run's point. Apply with ``trace.update(u)`` for each pair (in a FigureWidget's
    ``batch_update`` it is one message to the browser).
    """
    updates: list[dict] = []
    for trace in fig.data:
        ids = list(trace.customdata or ())
        meta = trace.meta if isinstance(trace.meta, dict) else {}
        if meta.get("missing") or trace.type not in ("scatter", "scattergl", "bar"):
            updates.append({})
        elif trace.type != "bar" and "lines" in (trace.mode or ""):
            on = run_id is not None and run_id in ids
            updates.append({"line": {"width": 4 if on else 2}, "opacity": 1.0 if on or run_id is None else 0.3})
        else:
            updates.append({"marker": {"line": {"width": [3 if r == run_id else 0 for r in ids], "color": "#222"}}})
    return updates


def _strip_axis(domain: list[float]) -> dict:
    """A narrow band beside the plot area holding the runs that lack the axis' value."""
    return dict(domain=domain, range=[-1, 1], tickvals=[0], ticktext=[MISSING], showgrid=False,
                zeroline=False, fixedrange=True, tickfont=dict(color=MISSING_COLOUR))


def scatter_figure(runs: Any, x: str, y: str, color: str | None = None,
                   selected: Sequence[str] | None = None) -> go.Figure:
    """One marker per run: column ``x`` against column ``y``, coloured by column ``color``.

    Numeric colours use a colour scale; other values get one trace per distinct value.
    A run that lacks ``x`` or ``y`` is drawn in a band beside that axis marked "missing"
    (not at the axis minimum). ``selected`` run ids are shown opaque, the others faded.
    """
    title = f"{column_label(y)} vs {column_label(x)}" + (f" (colour: {column_label(color)})" if color else "")
    if runs is None or len(runs) == 0:
        return _empty(title, "no runs")
    run_ids = _column(runs, "run_id")
    names = [_text(run_label(r, n)) for r, n in zip(run_ids, _column(runs, "name"))]
    xs = [v if _is_number(v) or v is None else _text(v) for v in _column(runs, x)]
    ys = [v if _is_number(v) or v is None else _text(v) for v in _column(runs, y)]
    x_numeric = all(_is_number(v) or v is None for v in xs)
    y_numeric = all(_is_number(v) or v is None for v in ys)
    # a categorical axis shows missing as one more category; a numeric one as a band beside it
    xs = [v if v is not None or x_numeric else f"({MISSING})" for v in xs]
    ys = [v if v is not None or y_numeric else f"({MISSING})" for v in ys]
    band_x = x_numeric and any(v is None for v in xs)
    band_y = y_numeric and any(v is None for v in ys)
    hover = "%{text}<br>" + column_label(x) + " %{x}<br>" + column_label(y) + " %{y}"
    colours = _column(runs, color) if color else None
    present = [i for i in range(len(run_ids)) if xs[i] is not None and ys[i] is not None]
    traces: list[dict] = []

    def trace(index: list[int], **extra: Any) -> dict:
        ids = [run_ids[i] for i in index]
        return dict(type="scatter", mode="markers", x=[xs[i] for i in index], y=[ys[i] for i in index],
                    text=[names[i] for i in index], customdata=ids, selectedpoints=_selected_indices(ids, selected),
                    unselected=dict(marker=dict(opacity=UNSELECTED_OPACITY)), **extra)

    numeric_colour = colours is not None and all(_is_number(c) or c is None for c in colours) and any(
        _is_number(c) for c in colours)
    if numeric_colour:
        traces.append(trace(present, name=column_label(y), showlegend=False,
                            marker=dict(size=11, color=[colours[i] if colours[i] is not None else float("nan")
                                                        for i in present],
                                        colorscale="Viridis", showscale=True,
                                        colorbar=dict(title=dict(text=column_label(color)), x=1.02, xanchor="left")),
                            hovertemplate=hover + "<br>" + column_label(color) + " %{marker.color}<extra></extra>"))
    elif colours is not None:
        groups: dict[str, list[int]] = {}
        for i in present:
            groups.setdefault(f"({MISSING})" if colours[i] is None else _text(colours[i]), []).append(i)
        for group, index in groups.items():
            traces.append(trace(index, name=group, marker=dict(size=11),
                                hovertemplate=hover + "<extra>%{fullData.name}</extra>"))
    else:
        traces.append(trace(present, name=column_label(y), showlegend=False, marker=dict(size=11),
                            hovertemplate=hover + "<extra></extra>"))
    missing_marker = dict(size=10, color=MISSING_COLOUR, symbol="x-thin-open", line=dict(width=2))
    for lacks_x, lacks_y, axes in ((True, False, ("x2", "y")), (False, True, ("x", "y2")), (True, True, ("x2", "y2"))):
        index = [i for i in range(len(run_ids)) if (xs[i] is None) == lacks_x and (ys[i] is None) == lacks_y]
        if not index:
            continue
        lacking = " and ".join(column_label(c) for c, lacks in ((x, lacks_x), (y, lacks_y)) if lacks)
        part = trace(index, name=f"{MISSING} {lacking}", showlegend=False, marker=missing_marker, xaxis=axes[0],
                     yaxis=axes[1], meta=dict(missing=True),
                     hovertemplate="%{text}<br>" + f"no {lacking}" + "<extra></extra>")
        part["x"] = [0 if lacks_x else xs[i] for i in index]
        part["y"] = [0 if lacks_y else ys[i] for i in index]
        traces.append(part)
    layout: dict[str, Any] = dict(title=dict(text=title), height=HEIGHT, dragmode="lasso",
                                  xaxis=dict(title=dict(text=column_label(x))),
                                  yaxis=dict(title=dict(text=column_label(y))))
    if band_x:
        layout["xaxis"].update(domain=[0.1, 1.0])
        layout["xaxis2"] = dict(_strip_axis([0.0, 0.06]), anchor="y2" if band_y else "y")
        layout["yaxis"].update(anchor="x2")
    if band_y:
        layout["yaxis"].update(domain=[0.14, 1.0])
        layout["yaxis2"] = dict(_strip_axis([0.0, 0.07]), anchor="x2" if band_x else "x")
        layout["xaxis"].update(anchor="y2")
    fig = go.Figure(data=traces, layout=layout)
    return _style(fig)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if low == high:
        return [low]
    return [float(f"{v:.3g}") for v in (low + (high - low) * i / (count - 1) for i in range(count))]


def parallel_figure(runs: Any, params: Sequence[str], metric: str) -> go.Figure:
    """Parallel coordinates from the ``params`` columns to one ``metric`` column (the line colour).

    Non-numeric params become categorical axes whose ticks show the values. A run lacking a
    value sits on a "missing" tick below the axis' range (or the "(missing)" category), not
    at the axis minimum. Brushing an axis selects the runs whose lines pass through.
    """
    title = f"params → {column_label(metric)}"
    if runs is None or len(runs) == 0:
        return _empty(title, "no runs")
    dimensions = []
    for column in list(params) + [metric]:
        values = _column(runs, column)
        if all(_is_number(v) or v is None for v in values):
            present = [float(v) for v in values if v is not None]
            low, high = (min(present), max(present)) if present else (0.0, 1.0)
            dimension = dict(label=column_label(column), values=[v if v is not None else float("nan") for v in values])
            if len(present) < len(values):
                span = (high - low) or abs(high) or 1.0
                gap = low - 0.15 * span
                ticks = _nice_ticks(low, high) if present else []
                dimension.update(values=[v if v is not None else gap for v in values], range=[gap, high],
                                 tickvals=[gap] + ticks, ticktext=[MISSING] + [f"{t:g}" for t in ticks])
            dimensions.append(dimension)
        else:
            texts = [f"({MISSING})" if v is None else _text(v) for v in values]
            categories = sorted(set(texts) - {f"({MISSING})"}) + ([f"({MISSING})"] if f"({MISSING})" in texts else [])
            codes = {c: i for i, c in enumerate(categories)}
            dimensions.append(dict(label=column_label(column), values=[codes[t] for t in texts],
                                   tickvals=list(range(len(categories))), ticktext=categories))
    colour = [v if v == v else 0.0 for v in dimensions[-1]["values"]]
    fig = go.Figure(go.Parcoords(
        dimensions=dimensions, ids=_column(runs, "run_id"), customdata=_column(runs, "run_id"),
        line=dict(color=colour, colorscale="Viridis", showscale=True,
                  colorbar=dict(x=1.02, xanchor="left"),
                  reversescale=guess_direction(metric) == "min"),
    ))
    fig.update_layout(title=title, height=HEIGHT)
    _style(fig)
    fig.update_layout(margin=dict(l=70, r=40, t=90, b=30))  # axis labels sit above the plot area
    return fig


def bar_figure(runs: Any, metric: str, direction: str | None = None,
               selected: Sequence[str] | None = None) -> go.Figure:
    """One bar per run for ``metric``; the best bar (per ``direction``) is highlighted.

    A run lacking the metric gets a grey "missing" mark at zero instead of a bar;
    ``selected`` runs are opaque, the others faded.
    """
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
    traces = [dict(type="bar", x=names, y=values, customdata=run_ids, marker=dict(color=colours),
                   name=column_label(metric), selectedpoints=_selected_indices(run_ids, selected),
                   unselected=dict(marker=dict(opacity=UNSELECTED_OPACITY)),
                   hovertemplate="%{x}<br>" + column_label(metric) + " %{y}<extra></extra>")]
    lacking = [i for i, v in enumerate(values) if v is None]
    if lacking:
        ids = [run_ids[i] for i in lacking]
        traces.append(dict(type="scatter", mode="markers+text", x=[names[i] for i in lacking], y=[0] * len(lacking),
                           customdata=ids, text=[MISSING] * len(lacking), textposition="top center",
                           textfont=dict(color=MISSING_COLOUR), name=MISSING,
                           marker=dict(color=MISSING_COLOUR, symbol="x-thin-open", size=10, line=dict(width=2)),
                           meta=dict(missing=True), selectedpoints=_selected_indices(ids, selected),
                           hovertemplate="%{x}<br>no " + column_label(metric) + "<extra></extra>"))
    fig = go.Figure(data=traces, layout=dict(
        title=dict(text=title + (" (lower is better)" if direction == "min" else "")), height=HEIGHT,
        yaxis=dict(title=dict(text=column_label(metric))), xaxis=dict(tickangle=-30), showlegend=False,
        dragmode="select"))
    return _style(fig)


def selected_run_ids(fig: go.Figure, points: Mapping[int, Sequence[int]]) -> list[str]:
    """Run ids of the points a click, box or lasso picked: ``points`` maps a trace index to
    the picked point indices (what plotly reports), in trace order, without repeats."""
    out: dict[str, None] = {}
    for index in sorted(points):
        ids = list(fig.data[index].customdata or ()) if index < len(fig.data) else []
        for point in points[index]:
            if 0 <= point < len(ids):
                out[str(ids[point])] = None
    return list(out)


def _within(value: float, ranges: Any) -> bool:
    if not ranges:
        return True
    pairs = ranges if isinstance(ranges[0], (list, tuple)) else [ranges]
    return any(low <= value <= high for low, high in pairs)


def parcoords_selected_run_ids(trace: Any) -> list[str] | None:
    """Run ids whose line passes every brushed range of a parallel-coordinates trace
    (``dimensions[i].constraintrange``); None when no axis is brushed."""
    dimensions = list(trace.dimensions or ())
    brushed = [d for d in dimensions if d.constraintrange]
    if not brushed:
        return None
    ids = list(trace.customdata if trace.customdata is not None else trace.ids or ())
    out = []
    for row, run_id in enumerate(ids):
        if all(_within(float(d.values[row]), list(d.constraintrange)) for d in brushed
               if d.values is not None and row < len(d.values) and d.values[row] == d.values[row]):
            out.append(str(run_id))
    return out


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


__all__ = ["history_figure", "scatter_figure", "parallel_figure", "bar_figure", "run_label", "run_labels",
           "plotted_run_ids", "highlight_updates", "selected_run_ids", "parcoords_selected_run_ids",
           "mimebundle", "MISSING"]
