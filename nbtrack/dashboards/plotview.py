"""The plots panel: metric histories, scatter, parallel coordinates and a bar chart of the
selected runs (or the visible page when none is selected), redrawn in place.

The figure is shown through an ``Output`` widget whose single output is replaced with the
figure's ``application/vnd.plotly.v1+json`` bundle: JupyterLab 4 and Notebook 7 render it
with the ``jupyterlab-plotly`` extension that ships inside plotly, VS Code natively. No
``FigureWidget`` (which needs anywidget in plotly 6+).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import ipywidgets as w

from . import figures
from .columns import column_label, kind_of
from .state import DashboardState
from .viewbase import ViewHelpers

KINDS = (("history", "history"), ("scatter", "scatter"), ("parallel", "parallel"), ("bar", "bar"))


class PlotView(ViewHelpers, w.VBox):
    """Plot controls and the figure."""

    def __init__(self, state: DashboardState, report_error: Callable[[Exception], None] | None = None,
                 defer: bool = False) -> None:
        self.state = state
        self._report_error = report_error or (lambda error: None)
        self._syncing = False
        self._render_lock = threading.RLock()
        self._initial: threading.Thread | None = None
        self._figure: Any = None
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
        self.output = w.Output(layout=w.Layout(min_height="390px"))
        self.output.add_class("nbtrack-plot")
        self.options_box = w.HBox()
        super().__init__([w.HBox([self.kind]), self.options_box, self.output])
        self.add_class("nbtrack-plots")
        for control in (self.kind, self.metric, self.x_axis, self.scatter_x, self.scatter_y, self.scatter_color):
            control.observe(self._guard(self._on_control), "value")
        state.observe(self._guard(self._on_selection), "selected")
        state.observe(self._guard(self._on_data), "version")
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
        """The figure on screen (a ``plotly.graph_objects.Figure``)."""
        self.wait()
        return self._figure

    def _on_control(self, change: Any) -> None:
        if not self._syncing:
            self.render()

    def _on_selection(self, change: Any) -> None:
        self.render()

    def _on_data(self, change: Any) -> None:
        changed = self.update_options()
        # With a selection the plotted runs do not depend on the page; redraw only when
        # something may have moved (new metrics, running runs) or the page is what is shown.
        if changed or not self.state.selected or self.state.running:
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
        with self._quiet():
            changed = self._set_options(self.metric, [(m, m) for m in metrics])
            changed |= self._set_options(self.scatter_x, labelled, varying[0] if varying else (params[:1] or [None])[0])
            changed |= self._set_options(self.scatter_y, labelled, metric_columns[0] if metric_columns else None)
            changed |= self._set_options(self.scatter_color, [("(none)", "")] + labelled,
                                         varying[1] if len(varying) > 1 else "")
        return changed

    def _layout_options(self) -> None:
        kind = self.kind.value
        wanted = {
            "history": [self.metric, self.x_axis],
            "scatter": [self.scatter_x, self.scatter_y, self.scatter_color],
            "parallel": [self.metric],
            "bar": [self.metric],
        }[kind]
        if list(self.options_box.children) != wanted:
            self.options_box.children = wanted

    def build_figure(self) -> Any:
        """The figure for the current controls and runs (pure functions from figures.py)."""
        state = self.state
        frame = state.plot_frame()
        kind = self.kind.value
        metric = self.metric.value
        if kind == "history":
            if not metric:
                return figures.history_figure(None, "(no metrics)")
            ids = [str(r) for r in frame["run_id"].tolist()]
            histories = __import__("nbtrack").metric_histories(ids, metric) if ids else None
            return figures.history_figure(histories, metric, x=self.x_axis.value, labels=figures.run_labels(frame))
        if kind == "scatter":
            if not (self.scatter_x.value and self.scatter_y.value):
                return figures.scatter_figure(None, "x", "y")
            return figures.scatter_figure(frame, self.scatter_x.value, self.scatter_y.value,
                                          self.scatter_color.value or None)
        if kind == "parallel":
            params = [c for c in state.columns if c.startswith("params.")] or \
                [f"params.{k}" for k in state.param_keys()][:8]
            return figures.parallel_figure(frame, params, f"metrics.{metric}" if metric else "duration")
        return figures.bar_figure(frame, f"metrics.{metric}" if metric else "duration",
                                  state.direction(metric) if metric else "min")

    def render(self) -> None:
        """Redraw the figure in place."""
        with self._render_lock:
            self._layout_options()
            figure = self.build_figure()
            self._figure = figure
            self.output.outputs = ({"output_type": "display_data", "data": figures.mimebundle(figure),
                                    "metadata": {}},)

    def plotted_run_ids(self) -> list[str]:
        """Run ids of the figure on screen, in trace order."""
        figure = self.figure
        return figures.plotted_run_ids(figure) if figure is not None else []
