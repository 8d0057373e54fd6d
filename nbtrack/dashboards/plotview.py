"""The plots panel: plots that take part in the selection.

- **history**: metric curves of the selected runs (the visible page when none is selected);
  long runs come downsampled from the database and zooming re-reads the visible steps, so
  a zoomed-in range shows every logged point. Hovering a row in the table (``state.hovered``)
  brings that run's curve forward.
- **scatter** and **parallel**: every run the table matches (up to ``MAX_POPULATION``, in the
  table's order); **bar**: the visible page. A click toggles a run in ``state.selected``; a
  lasso or box (scatter, bar) or a brush on an axis (parallel) selects the runs it holds.
  Selected runs are drawn opaque, the others faded.

The figure is a plotly ``FigureWidget`` (anywidget) when anywidget is available; otherwise
(``fallback.anywidget_available()`` is False) a static figure in an ``Output`` with a note.
Figures come from the pure functions of ``figures.py``.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import ipywidgets as w

from . import figures
from .columns import column_label, kind_of, order_clause
from .fallback import anywidget_available
from .histories import MAX_POINTS, read_histories
from .viewbase import ViewHelpers

KINDS = (("history", "history"), ("scatter", "scatter"), ("parallel", "parallel"), ("bar", "bar"))
MAX_POPULATION = 2000
CLICK_WINDOW = 1.0  # seconds within which plotly's selection of a clicked point belongs to the click
STATIC_NOTE = ("<i>static plots: install anywidget (<code>pip install anywidget</code>) to select runs "
               "by clicking or lassoing points</i>")


def _run_of(trace: Any) -> str | None:
    """The run id a history trace draws (its ``meta``)."""
    meta = trace.meta if isinstance(trace.meta, dict) else {}
    return meta.get("run_id")


def _api() -> Any:
    import nbtrack

    return nbtrack


class PlotView(ViewHelpers, w.VBox):
    """Plot controls and the figure."""

    def __init__(self, state: Any, report_error: Callable[[Exception], None] | None = None,
                 defer: bool = False, interactive: bool | None = None) -> None:
        self.state = state
        self._report_error = report_error or (lambda error: None)
        self._syncing = False
        self._render_lock = threading.RLock()
        self._initial: threading.Thread | None = None
        self._figure: Any = None
        self._population: Any = None
        self._population_key: Any = None
        self._points: dict[int, list[int]] = {}
        self._zoom: tuple[int, int] | None = None
        self._rendering = False
        self._view_checked = False
        self._last_click: tuple[float, set[str]] | None = None
        self._last_select: tuple[float, set[str], list[str]] | None = None
        self.interactive = anywidget_available() if interactive is None else interactive
        self.widget: Any = None  # the FigureWidget on screen
        self.kind = w.ToggleButtons(options=KINDS, value="history", style={"button_width": "80px"})
        self.kind.add_class("nbtrack-plot-kind")
        self.metric = w.Dropdown(description="metric", layout=w.Layout(width="260px"))
        self.metric.add_class("nbtrack-plot-metric")
        self.x_axis = w.ToggleButtons(options=[("step", "step"), ("wall time", "time")], value="step",
                                      style={"button_width": "80px"})
        self.scatter_x = w.Dropdown(description="x", layout=w.Layout(width="240px"))
        self.scatter_y = w.Dropdown(description="y", layout=w.Layout(width="240px"))
        self.scatter_color = w.Dropdown(description="colour", layout=w.Layout(width="240px"))
        for dropdown in (self.metric, self.scatter_x, self.scatter_y, self.scatter_color):
            dropdown.style.description_width = "50px"
        self.output = w.Output(layout=w.Layout(min_height="410px", display="none" if self.interactive else None))
        self.output.add_class("nbtrack-plot")
        self.figure_box = w.VBox(layout=w.Layout(min_height="410px", display=None if self.interactive else "none"))
        self.figure_box.add_class("nbtrack-plot")
        self.hint = w.HTML("" if self.interactive else STATIC_NOTE)
        self.hint.add_class("nbtrack-plot-hint")
        self.options_box = w.HBox()
        super().__init__([w.HBox([self.kind]), self.options_box, self.hint, self.figure_box, self.output])
        self.add_class("nbtrack-plots")
        for control in (self.kind, self.metric, self.x_axis, self.scatter_x, self.scatter_y, self.scatter_color):
            control.observe(self._guard(self._on_control), "value")
        state.observe(self._guard(self._on_selection), "selected")
        state.observe(self._guard(self._on_data), "version")
        if "hovered" in state.trait_names():
            state.observe(self._guard(lambda change: self.highlight(change["new"] or None)), "hovered")
        self.update_options()
        if defer:
            # The first figure (plotly's cold start) is drawn in the background so the
            # table shows at once; later redraws are synchronous and serialized with it.
            self._initial = threading.Thread(target=self._guard(self.render), name="nbtrack-first-plot", daemon=True)
            self._initial.start()
        else:
            self.render()

    def wait(self, timeout: float | None = 30.0) -> None:
        """Wait for the deferred first figure, if any."""
        initial = self._initial
        if initial is not None and initial is not threading.current_thread():
            initial.join(timeout)

    @property
    def figure(self) -> Any:
        """The figure on screen (a ``plotly.graph_objects.Figure``; in interactive mode the
        ``FigureWidget`` itself, whose traces carry the run ids)."""
        self.wait()
        return self.widget if self.widget is not None else self._figure

    # -- events from the state and the controls ------------------------------------------------
    def _on_control(self, change: Any) -> None:
        if not self._syncing:
            self._zoom = None
            self.render()

    def _on_selection(self, change: Any) -> None:
        if self.kind.value == "history":
            self._zoom = None
            self.render()
        elif self.kind.value in ("scatter", "bar"):
            self._show_selection()

    def _on_data(self, change: Any) -> None:
        self._population_key = None
        changed = self.update_options()
        # With a selection the curves do not depend on the page; redraw only when something
        # may have moved (new metrics, running runs) or the page is what is shown.
        if changed or not self.state.selected or self.state.running or self.kind.value != "history":
            self.render()

    @staticmethod
    def _set_options(dropdown: w.Dropdown, options: list[tuple[str, Any]], preferred: Any = None) -> bool:
        if list(dropdown.options) == options:
            return False
        values = [v for _, v in options]
        current = dropdown.value
        dropdown.options = options
        dropdown.value = current if current in values else (preferred if preferred in values else
                                                            (values[0] if values else None))
        return True

    def update_options(self) -> bool:
        """Offer the metrics and columns the current data has; keep choices that still exist."""
        state = self.state
        metrics = state.metric_keys()
        params = [f"params.{k}" for k in state.param_keys()]
        metric_columns = [f"metrics.{k}" for k in metrics]
        columns = params + metric_columns + ["duration", "start_time"]
        labelled = [(f"{kind_of(c)[:-1] if kind_of(c) != 'attributes' else 'run'}: {column_label(c)}", c)
                    for c in columns]
        varying = [c for c in state.columns if c.startswith("params.")]
        plain = [m for m in metrics if not m.startswith("system/")]
        with self._quiet():
            changed = self._set_options(self.metric, [(m, m) for m in metrics], (plain or [None])[0])
            changed |= self._set_options(self.scatter_x, labelled, varying[0] if varying else (params[:1] or [None])[0])
            changed |= self._set_options(self.scatter_y, labelled,
                                         f"metrics.{plain[0]}" if plain else (metric_columns or [None])[0])
            changed |= self._set_options(self.scatter_color, [("(none)", "")] + labelled,
                                         varying[1] if len(varying) > 1 else "")
        return changed

    def _layout_options(self) -> None:
        wanted = {
            "history": [self.metric, self.x_axis],
            "scatter": [self.scatter_x, self.scatter_y, self.scatter_color],
            "parallel": [self.metric],
            "bar": [self.metric],
        }[self.kind.value]
        if list(self.options_box.children) != wanted:
            self.options_box.children = wanted

    # -- data ----------------------------------------------------------------------------------
    def population(self) -> Any:
        """The runs a scatter, parallel or bar plot offers for selection (cached per reload)."""
        state = self.state
        kind = "bar" if self.kind.value == "bar" else "many"
        key = (kind, state.version, state.sort_by, state.sort_desc)
        if self._population_key != key:
            if kind == "bar":
                frame = state.frame if state.frame is not None else state.plot_frame()
            else:
                frame = _api().runs(**state.query(), order_by=order_clause(state.sort_by, state.sort_desc),
                                    max_results=MAX_POPULATION)
            self._population, self._population_key = frame, key
        return self._population

    def _history_figure(self) -> Any:
        state = self.state
        metric = self.metric.value
        if not metric:
            return figures.history_figure(None, "(no metrics)")
        frame = state.plot_frame()
        ids = [str(r) for r in frame["run_id"].tolist()]
        zoom = self._zoom if self.x_axis.value == "step" else None
        view = read_histories(ids, metric, MAX_POINTS, step_range=zoom) if ids else None
        if view is None:
            return figures.history_figure(None, metric)
        plotted = set(view.frame["run_id"]) if len(view.frame) else set()
        missing = [] if zoom else [r for r in ids if r not in plotted]
        return figures.history_figure(view.frame, metric, x=self.x_axis.value, labels=figures.run_labels(frame),
                                      exact=view.exact, missing=missing,
                                      highlight=getattr(state, "hovered", "") or None)

    def build_figure(self) -> Any:
        """The figure for the current controls and runs (pure functions from figures.py)."""
        state = self.state
        kind = self.kind.value
        metric = self.metric.value
        if kind == "history":
            return self._history_figure()
        frame = self.population()
        selected = list(state.selected)
        if kind == "scatter":
            if not (self.scatter_x.value and self.scatter_y.value):
                return figures.scatter_figure(None, "x", "y")
            return figures.scatter_figure(frame, self.scatter_x.value, self.scatter_y.value,
                                          self.scatter_color.value or None, selected=selected)
        if kind == "parallel":
            params = [c for c in state.columns if c.startswith("params.")] or \
                [f"params.{k}" for k in state.param_keys()][:8]
            return figures.parallel_figure(frame, params, f"metrics.{metric}" if metric else "duration")
        return figures.bar_figure(frame, f"metrics.{metric}" if metric else "duration",
                                  state.direction(metric) if metric else "min", selected=selected)

    # -- drawing -------------------------------------------------------------------------------
    def render(self) -> None:
        """Redraw the figure."""
        with self._render_lock:
            self._layout_options()
            figure = self.build_figure()
            self._figure = figure
            if not self.interactive:
                self.output.outputs = ({"output_type": "display_data", "data": figures.mimebundle(figure),
                                        "metadata": {}},)
                return
            self._rendering = True  # our own relayout is not a zoom
            try:
                self._show_widget(figure)
            finally:
                self._rendering = False

    def _show_widget(self, figure: Any) -> None:
        """Show ``figure`` in the one FigureWidget, created on first use and then updated in
        place (traces replaced, layout replaced): the browser keeps its plot and only
        receives the changes."""
        import plotly.graph_objects as go

        widget = self.widget
        if widget is None:
            widget = go.FigureWidget(figure)
            widget.layout.on_change(self._guard(self._on_zoom), "xaxis.range", "xaxis.autorange")
            widget.observe(self._guard(self._on_first_view), "_js2py_traceDeltas")
            self._view_checked = False
            self.widget = widget
            self.figure_box.children = (widget,)
        else:
            self._replace(widget, list(figure.data), figure.layout.to_plotly_json())
        self._connect(widget)

    @staticmethod
    def _replace(widget: Any, traces: list, layout: dict) -> None:
        old = set(widget.layout.to_plotly_json())
        layout = {key: value for key, value in layout.items() if key != "template"}  # sent once, with the widget
        with widget.batch_update():
            widget.data = ()
        widget.add_traces(traces)
        removed = old - set(layout) - {"template"}
        if removed:
            widget.plotly_relayout({key: None for key in removed})  # e.g. a missing band's xaxis2
        with widget.batch_update():  # layout.update, unlike plotly_relayout, may add axes such as xaxis2
            widget.layout.update(layout, overwrite=True)

    def _connect(self, widget: Any) -> None:
        for index, trace in enumerate(widget.data):
            if trace.type in ("scatter", "scattergl", "bar"):
                trace.on_click(self._picked("click", index))
                trace.on_selection(self._picked("select", index))
            elif trace.type == "parcoords":
                trace.on_change(self._guard(lambda trace, *_: self._on_brush(trace)), "dimensions")

    def _on_first_view(self, change: Any) -> None:
        """The browser drew the widget and reports one delta per trace it holds.

        plotly's ``FigureWidget`` opens its comm before it sets its data, so the data goes in a
        second message; while the browser is still loading plotly's widget code (the first
        widget of a page on a busy machine) the model can come up with its defaults and the
        plot is drawn empty. When the view holds no trace while the figure has some, the widget
        is replaced by a fresh one (the code is loaded by then). Checked once per widget.
        """
        message = change["new"]
        if not message or self._view_checked:
            return
        self._view_checked = True
        widget = self.widget
        if widget is None or message.get("trace_deltas") or not widget.data:
            return  # drawn with traces (later changes reach the live view), or nothing to draw
        with self._render_lock:
            self.widget = None
            self._show_widget(self._figure)
            widget.close()

    def _picked(self, how: str, index: int) -> Callable[..., None]:
        """A trace's click/selection callback. plotly calls every trace once per event, in
        order: the points are gathered until the last trace, then the selection is set."""
        def callback(trace: Any, points: Any, *_: Any) -> None:
            self._points[index] = list(points.point_inds)
            if index == len(self.widget.data) - 1:
                picked = figures.selected_run_ids(self.widget, self._points)
                self._points = {}
                self._select(how, picked)
        return self._guard(callback)

    def _select(self, how: str, picked: list[str]) -> None:
        """A click toggles its run; a lasso or box replaces the selection (an empty one does
        not: the table's "clear selection" does). In select mode plotly also reports a click as
        a one-point selection (before or after the click event): that one is undone, the click
        decides."""
        import time

        now = time.monotonic()
        same = set(picked)
        if how != "click":
            if not picked:  # plotly reports an empty selection when the plot is redrawn: not a user's choice
                return
            click = self._last_click
            if click is not None and now - click[0] < CLICK_WINDOW and click[1] == same:
                return
            self._last_select = (now, same, list(self.state.selected))
            self.state.selected = picked
            return
        current = list(self.state.selected)
        chosen = self._last_select
        if chosen is not None and now - chosen[0] < CLICK_WINDOW and chosen[1] == same:
            current = chosen[2]
        for run_id in picked:
            current = [r for r in current if r != run_id] if run_id in current else current + [run_id]
        self._last_click = (now, same)
        self.state.selected = current

    def _on_brush(self, trace: Any) -> None:
        picked = figures.parcoords_selected_run_ids(trace)
        self.state.selected = picked or []

    def _on_zoom(self, layout: Any, x_range: Any, autorange: Any) -> None:
        """The user zoomed (or reset) the history plot: re-read the visible steps."""
        if self.kind.value != "history" or self.x_axis.value != "step" or self._rendering:
            return
        if autorange or not x_range or x_range[0] is None:
            zoom = None
        else:
            zoom = (int(float(x_range[0])) - 1, int(float(x_range[1])) + 1)
        if zoom == self._zoom:
            return
        self._zoom = zoom
        view = self._history_figure()
        self._figure = view
        with self.widget.batch_update():
            new = {_run_of(trace): trace for trace in view.data}
            for trace in self.widget.data:
                fresh = new.get(_run_of(trace))
                if fresh is not None:
                    trace.update(x=fresh.x, y=fresh.y, customdata=fresh.customdata, mode=fresh.mode)
            self.widget.layout.title.text = view.layout.title.text

    def _show_selection(self) -> None:
        """Scatter and bar: fade the unselected runs in place (no redraw of the figure)."""
        if self.widget is None or not self.interactive:
            self.render()
            return
        selected = list(self.state.selected)
        with self.widget.batch_update():
            for trace in self.widget.data:
                if trace.type in ("scatter", "bar"):
                    trace.selectedpoints = figures._selected_indices(list(trace.customdata or ()), selected)

    def highlight(self, run_id: str | None) -> None:
        """Bring one run's trace forward (the row under the pointer in the table)."""
        if self.widget is None:
            return
        with self.widget.batch_update():
            for trace, update in zip(self.widget.data, figures.highlight_updates(self.widget, run_id)):
                if update:
                    trace.update(update)

    def plotted_run_ids(self) -> list[str]:
        """Run ids of the figure on screen, in trace order."""
        figure = self.figure
        return figures.plotted_run_ids(figure) if figure is not None else []

    def selected_on_plot(self) -> list[str]:
        """Run ids drawn as selected (opaque) on a scatter or bar plot."""
        figure = self.figure
        out: list[str] = []
        for trace in getattr(figure, "data", ()):
            points = trace.selectedpoints if trace.type in ("scatter", "bar") else None
            if points is not None:
                ids = list(trace.customdata or ())
                out.extend(ids[i] for i in points)
        return out


__all__ = ["PlotView", "MAX_POPULATION"]
