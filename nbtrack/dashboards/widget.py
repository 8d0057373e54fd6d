"""``nbtrack.dashboard()``: an inline run browser built from plain ipywidgets.

It talks to the kernel through ordinary widget comms (no server, no iframe) and renders
in JupyterLab 4, Notebook 7 and VS Code. State lives in a ``DashboardState`` (traitlets);
the views observe it; figures come from pure functions in ``figures.py``.
"""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w
import traitlets

from .columns import STATUSES, column_label, kind_of
from .compareview import CompareView
from .lazyview import LazyView
from .mediaview import MediaView
from .panels import DetailView
from .plotview import PlotView
from .state import DashboardState
from .table import CSS, STATUS_COLOURS, esc
from .tableview import RunTableView
from .viewbase import ViewHelpers

# The panels under the table: (tab title, factory(state, report_error) -> widget). See the
# "Dashboard" section of docs/design.md for what a panel may read and write.
PANELS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("Plots", lambda state, report: PlotView(state, report, defer=True)),
    ("Run detail", DetailView),
    ("Compare", lambda state, report: CompareView(state, report, active=False)),  # drawn when its tab opens
    ("Media", lambda state, report: MediaView(state, report, active=False)),
)
TAB_PLOTS, TAB_DETAIL, TAB_COMPARE, TAB_MEDIA = 0, 1, 2, 3


class Dashboard(ViewHelpers, w.VBox):
    """Filter, sort, select, plot and compare runs; act on one run.

    ``dashboard.state`` holds everything the controls set (``filter_text``, ``sort_by``,
    ``selected``, ...) and what the store answered (``rows``, ``total``, ``filter_error``).
    ``read_only=True`` browses only: no tag, rename, note, delete, restore or checkout.
    """

    def __init__(self, experiment: str | list[str] | None = None, filter: str | None = None,
                 page_size: int = 25, read_only: bool = False) -> None:
        # read_only (nbtrack ui): the state refuses every action on a run; the detail panel shows none
        self.state = DashboardState(experiment, filter, page_size=page_size, read_only=read_only)
        self._syncing = False
        report = self._report_error
        style = w.HTML(f"<style>{CSS}</style>", layout=w.Layout(display="none"))

        # -- controls ----------------------------------------------------------------
        self.experiment_picker = w.SelectMultiple(options=self._experiment_names(), value=(),
                                                  rows=3, description="experiments",
                                                  layout=w.Layout(width="300px"))
        self.experiment_picker.style.description_width = "initial"
        self.experiment_picker.add_class("nbtrack-experiments")
        self._sync_experiments()
        self.filter_box = w.Text(value=self.state.filter_text, continuous_update=False,
                                 placeholder="metrics.acc > 0.8 and params.model = 'rf'  (Enter to apply)",
                                 description="filter", layout=w.Layout(width="520px"))
        self.filter_box.style.description_width = "40px"
        self.filter_box.add_class("nbtrack-filter")
        self.status_buttons = {}
        for status in STATUSES:
            button = w.ToggleButton(value=status in self.state.statuses, description=status.lower(),
                                    tooltip=f"show {status} runs", layout=w.Layout(width="78px"))
            button.add_class("nbtrack-status-filter")
            button.add_class(f"nbtrack-status-filter-{status.lower()}")
            button.style.text_color = STATUS_COLOURS[status]
            button.observe(self._guard(self._on_status), "value")
            self.status_buttons[status] = button
        self.refresh_button = w.Button(description="refresh", icon="refresh", layout=w.Layout(width="90px"))
        self.refresh_button.add_class("nbtrack-refresh")
        self.auto_refresh = w.Checkbox(value=self.state.auto_refresh, description="auto-refresh while running",
                                       indent=False, layout=w.Layout(width="200px"))
        self.show_deleted = w.Checkbox(value=False, description="show deleted", indent=False,
                                       layout=w.Layout(width="120px"))
        self.columns_toggle = w.ToggleButton(description="columns…", layout=w.Layout(width="90px"))
        self.columns_toggle.add_class("nbtrack-columns-toggle")
        self.column_chooser = w.SelectMultiple(rows=8, layout=w.Layout(width="360px"))
        self.column_chooser.add_class("nbtrack-columns")
        self.columns_default = w.Button(description="default columns", layout=w.Layout(width="130px"))
        self.direction_metric = w.Dropdown(description="metric", layout=w.Layout(width="220px"))
        self.direction_metric.style.description_width = "50px"
        self.direction = w.ToggleButtons(options=[("higher is better", "max"), ("lower is better", "min")],
                                         style={"button_width": "110px"})
        self.direction.add_class("nbtrack-direction")
        self.column_box = w.HBox([self.column_chooser,
                                  w.VBox([self.columns_default, w.HTML("<b>best value of</b>"),
                                          self.direction_metric, self.direction])],
                                 layout=w.Layout(display="none"))
        self.filter_error = w.HTML()
        self.filter_error.add_class("nbtrack-filter-error")
        self.message = w.HTML()
        self.message.add_class("nbtrack-message")
        self.status_line = w.HTML()
        self.status_line.add_class("nbtrack-status-line")

        # -- views ------------------------------------------------------------------
        self.table = RunTableView(self.state, report)
        self.panels = {title: factory(self.state, report) for title, factory in PANELS}
        self.plots, self.detail, self.compare, self.media = (
            self.panels[t] for t in ("Plots", "Run detail", "Compare", "Media"))
        self.tabs = w.Tab(children=list(self.panels.values()))
        for index, title in enumerate(self.panels):
            self.tabs.set_title(index, title)
        self.tabs.add_class("nbtrack-tabs")
        lazy = [(i, p) for i, p in enumerate(self.panels.values()) if isinstance(p, LazyView)]
        self.tabs.observe(self._guard(lambda c: [setattr(p, "active", c["new"] == i) for i, p in lazy]),
                          "selected_index")  # a lazy panel draws when its tab is shown

        # -- wiring ------------------------------------------------------------------
        self.filter_box.observe(self._guard(self._on_filter), "value")
        self.experiment_picker.observe(self._guard(self._on_experiments), "value")
        self.refresh_button.on_click(self._guard(lambda _b: self.refresh()))
        traitlets.link((self.auto_refresh, "value"), (self.state, "auto_refresh"))
        traitlets.link((self.show_deleted, "value"), (self.state, "include_deleted"))
        self.columns_toggle.observe(self._guard(self._on_columns_toggle), "value")
        self.column_chooser.observe(self._guard(self._on_columns_chosen), "value")
        self.direction_metric.observe(self._guard(lambda _c: self._show_direction()), "value")
        self.direction.observe(self._guard(self._on_direction), "value")
        self.columns_default.on_click(self._guard(lambda _b: setattr(self.state, "columns_auto", True)))
        self.state.observe(self._guard(self._show_filter_error), ["filter_error"])
        self.state.observe(self._guard(self._show_message), ["message", "message_is_error"])
        self.state.observe(self._guard(self._on_version), "version")
        self.state.observe(self._guard(self._on_detail_run), "detail_run_id")

        controls = w.VBox([
            w.HBox([self.experiment_picker,
                    w.VBox([self.filter_box,
                            w.HBox(list(self.status_buttons.values()) + [self.columns_toggle])])]),
            w.HBox([self.refresh_button, self.auto_refresh, self.show_deleted, self.status_line],
                   layout=w.Layout(align_items="center")),
            self.column_box,
            self.filter_error,
        ])
        controls.add_class("nbtrack-controls")
        super().__init__([style, controls, self.message, self.table, self.tabs])
        self.add_class("nbtrack-dashboard")
        self._on_version(None)
        self._show_filter_error(None)

    # -- helpers --------------------------------------------------------------------
    def _report_error(self, error: Exception) -> None:
        self.state.report(error)

    @staticmethod
    def _experiment_names() -> list[str]:
        import nbtrack

        try:
            return [str(name) for name in nbtrack.experiments()["experiment"].tolist()]
        except Exception:
            return []

    def _sync_experiments(self) -> None:
        names = self._experiment_names()
        chosen = [e for e in self.state.experiments]
        options = names + [e for e in chosen if e not in names]
        self._syncing = True
        try:
            if list(self.experiment_picker.options) != options:
                self.experiment_picker.options = options
            self.experiment_picker.value = tuple(chosen)
        finally:
            self._syncing = False

    # -- control -> state -------------------------------------------------------------
    def _on_filter(self, change: Any) -> None:
        if not self._syncing:
            self.state.filter_text = change["new"]

    def _on_experiments(self, change: Any) -> None:
        if not self._syncing:
            self.state.experiments = list(change["new"])

    def _on_status(self, change: Any) -> None:
        if not self._syncing:
            self.state.statuses = [s for s, b in self.status_buttons.items() if b.value]

    def _on_direction(self, change: Any) -> None:
        metric = self.direction_metric.value
        if not self._syncing and metric:
            self.state.directions = {**self.state.directions, metric: change["new"]}

    def _show_direction(self) -> None:
        metric = self.direction_metric.value
        if metric:
            self._syncing = True
            try:
                self.direction.value = self.state.direction(metric)
            finally:
                self._syncing = False

    def _on_columns_toggle(self, change: Any) -> None:
        self.column_box.layout.display = None if change["new"] else "none"

    def _on_columns_chosen(self, change: Any) -> None:
        if not self._syncing:
            with self.state.hold_trait_notifications():
                self.state.columns_auto = False
                self.state.columns = list(change["new"])

    # -- state -> controls --------------------------------------------------------------
    def _on_version(self, change: Any) -> None:
        state = self.state
        self._syncing = True
        try:
            options = [(f"{kind_of(c)[:-1]}: {column_label(c)}", c) for c in state.available]
            if list(self.column_chooser.options) != options:
                self.column_chooser.options = options
            value = tuple(c for c in state.columns if c in state.available)
            if tuple(self.column_chooser.value) != value:
                self.column_chooser.value = value
            if self.filter_box.value != state.filter_text:
                self.filter_box.value = state.filter_text
            metrics = state.metric_keys()
            if list(self.direction_metric.options) != metrics:
                current = self.direction_metric.value
                self.direction_metric.options = metrics
                self.direction_metric.value = current if current in metrics else (metrics[0] if metrics else None)
        finally:
            self._syncing = False
        self._show_direction()
        running = f' · <span style="color:{STATUS_COLOURS["RUNNING"]}">{state.running} running' + (
            ", auto-refreshing" if state.auto_refresh else "") + "</span>" if state.running else ""
        self.status_line.value = f"<span>{state.total:,} runs{running}</span>"

    def _show_filter_error(self, change: Any) -> None:
        error = self.state.filter_error
        self.filter_error.value = f'<div class="nbtrack-error">{esc(error)}</div>' if error else ""
        self.filter_box.layout.border = "1px solid #b00020" if error else ""

    def _show_message(self, change: Any) -> None:
        text = self.state.message
        css = "nbtrack-error" if self.state.message_is_error else "nbtrack-info"
        self.message.value = f'<div class="{css}">{esc(text)}</div>' if text else ""

    def _on_detail_run(self, change: Any) -> None:
        if change["new"]:
            self.tabs.selected_index = TAB_DETAIL

    # -- public ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload experiments and runs from the store."""
        self._sync_experiments()
        self.state.refresh()

    def close(self) -> None:
        """Stop auto-refresh and close this widget and every widget inside it."""
        self.state.close()
        seen: set[int] = set()

        def close_tree(widget: Any) -> None:
            if id(widget) in seen:
                return
            seen.add(id(widget))
            for child in getattr(widget, "children", ()) or ():
                close_tree(child)
            if widget is not self:
                widget.close()

        close_tree(self)
        for slot in self.table.rows:  # hidden row slots are children too, but be sure
            close_tree(slot.box)
        super().close()


def dashboard(experiment: str | list[str] | None = None, filter: str | None = None) -> Dashboard:
    """An inline dashboard of the runs of ``experiment`` (a name, a list, or None for all).

    ``filter`` uses the syntax of ``nbtrack.runs``. The widget renders in JupyterLab 4,
    Notebook 7 and VS Code through ordinary widget comms.
    """
    return Dashboard(experiment=experiment, filter=filter)
