"""``nbtrack.dashboard()``: the run table (one anywidget model) above tabs of panels.

State lives in a ``DashboardState`` (traitlets); the table and the panels observe it and
write only to it (the "Dashboard" section of docs/design.md is the contract). Without
anywidget the table is a static HTML table with a note saying so; in a frontend that runs no
widgets at all the display falls back to the same static table (its ``text/html``).
"""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w

from .compareview import CompareView
from .fallback import NO_WIDGETS, StaticTable, anywidget_available, frontend_fallback, static_table_html
from .mediaview import MediaView
from .panels import DetailView
from .plotview import PlotView
from .state import DashboardState
from .table import CSS, esc

# The panels under the table: (tab title, factory(state, report_error) -> widget). See the
# "Dashboard" section of docs/design.md for what a panel may read and write. The first panel
# is built with the dashboard; the others when their tab is first opened (or board.panel(title)).
# A panel with an `active` attribute gets True while its tab is shown, False otherwise.
PANELS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("Plots", lambda state, report: PlotView(state, report, defer=True)),
    ("Run detail", DetailView),
    ("Compare", lambda state, report: CompareView(state, report, active=False)),  # drawn when its tab opens
    ("Media", lambda state, report: MediaView(state, report, active=False)),
)
DETAIL_TITLE = "Run detail"


class Dashboard(w.VBox):
    """Filter, sort, select, plot and compare runs; act on one run.

    ``dashboard.state`` holds everything the controls set (``filter_text``, ``sort_by``,
    ``selected``, ...) and what the store answered (``rows``, ``total``, ``filter_error``).
    ``dashboard.table`` is the run table widget; ``dashboard.panel(title)`` a panel.
    ``read_only=True`` browses only: no tag, rename, note, delete, restore or checkout.
    """

    def __init__(self, experiment: str | list[str] | None = None, filter: str | None = None,
                 page_size: int = 25, read_only: bool = False) -> None:
        # read_only (nbtrack ui): the state refuses every action on a run; the detail panel shows none
        self.state = DashboardState(experiment, filter, page_size=page_size, read_only=read_only)
        self.interactive = anywidget_available()
        tops: list[Any] = []
        if self.interactive:
            from .tableview import RunTable

            self.table: Any = RunTable(self.state, self.state.report)
            tops.append(frontend_fallback(self.state))  # shown only where the table cannot draw
        else:
            self.table = StaticTable(self.state)
        self._titles = [title for title, _ in PANELS]
        self._factories = dict(PANELS)
        self._panels: dict[str, Any] = {}
        first = self._titles[0]
        self._panels[first] = self._factories[first](self.state, self.state.report)
        self.tabs = w.Tab(children=[self._panels[first]] + [w.Box() for _ in self._titles[1:]],
                          titles=tuple(self._titles))
        self.tabs.add_class("nbtrack-tabs")
        self.tabs.observe(self._on_tab, "selected_index")
        self.state.observe(self._on_detail_run, "detail_run_id")
        style = w.HTML(f"<style>{CSS}</style>", layout=w.Layout(display="none"))
        super().__init__([style, *tops, self.table, self.tabs])
        self.add_class("nbtrack-dashboard")

    # -- panels -----------------------------------------------------------------------------
    def panel(self, title: str) -> Any:
        """The panel under ``title`` (built now if its tab was never opened)."""
        if title not in self._panels:
            if title not in self._factories:
                raise KeyError(f"no panel {title!r}; the panels are {', '.join(self._titles)}")
            try:
                self._panels[title] = self._factories[title](self.state, self.state.report)
            except Exception as error:  # a panel that cannot be built says so in its tab
                self.state.report(error)
                self._panels[title] = w.HTML(f'<div class="nbtrack-error">{esc(title)} failed: '
                                             f"{esc(type(error).__name__)}: {esc(error)}</div>")
            children = list(self.tabs.children)
            children[self._titles.index(title)] = self._panels[title]
            self.tabs.children = children
        return self._panels[title]

    @property
    def plots(self) -> Any:
        return self.panel("Plots")

    @property
    def detail(self) -> Any:
        return self.panel(DETAIL_TITLE)

    @property
    def compare(self) -> Any:
        return self.panel("Compare")

    @property
    def media(self) -> Any:
        return self.panel("Media")

    @property
    def panels(self) -> dict[str, Any]:
        """The panels built so far, by title."""
        return dict(self._panels)

    def _on_tab(self, change: Any) -> None:
        index = change["new"]
        if index is None or not 0 <= index < len(self._titles):
            return
        shown = self._titles[index]
        self.panel(shown)
        for title, panel in self._panels.items():  # a panel with `active` draws only while shown
            if hasattr(panel, "active"):
                try:
                    panel.active = title == shown
                except Exception as error:  # a panel that fails says so; the table keeps working
                    self.state.report(error)

    def _on_detail_run(self, change: Any) -> None:
        if change["new"] and DETAIL_TITLE in self._titles:
            self.panel(DETAIL_TITLE)
            self.tabs.selected_index = self._titles.index(DETAIL_TITLE)

    # -- display ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, plus a static table for frontends that run no widgets (they show text/html)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["text/html"] = (f'<div class="nbtrack-dashboard"><style>{CSS}</style>'
                                 f"{static_table_html(self.state, NO_WIDGETS)}</div>")
        return bundle

    # -- public -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload experiments and runs from the store."""
        if hasattr(self.table, "receive"):
            self.table.receive({"type": "refresh"})
        else:
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
        super().close()


def dashboard(experiment: str | list[str] | None = None, filter: str | None = None) -> Dashboard:
    """An inline dashboard of the runs of ``experiment`` (a name, a list, or None for all).

    ``filter`` uses the syntax of ``nbtrack.runs``. The widget renders in JupyterLab 4,
    Notebook 7 and VS Code through ordinary widget comms.
    """
    return Dashboard(experiment=experiment, filter=filter)
