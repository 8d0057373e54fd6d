"""The media view: one image per run side by side, one step slider shared by all of them
(the latest step by default), so a figure logged every epoch can be watched changing
across runs. Only the shown step's content is read from the store."""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w

from .figures import run_labels
from .lazyview import LazyView
from .media import MediaIndex, media_cell_html, media_cells, media_index
from .viewbase import ViewHelpers

MAX_MEDIA_RUNS = 10
UNSELECTED_RUNS = 4

CSS = """
.nbtrack-media-grid, .nbtrack-media-panels { display: flex; flex-wrap: wrap; gap: 12px; }
.nbtrack-media-cell { max-width: 420px; }
.nbtrack-media-image { max-width: 400px; max-height: 400px; border: 1px solid #ddd; display: block; }
.nbtrack-media-head { font-size: 12px; margin-bottom: 4px; }
"""


class MediaView(LazyView, ViewHelpers, w.VBox):
    """Series chooser, shared step slider and one panel per run (selected runs, else the first
    rows of the page)."""

    def __init__(self, state: Any, report_error: Callable[[Exception], None] | None = None,
                 active: bool = True) -> None:
        self.state = state
        self._active = active
        self._report_error = report_error or (lambda error: None)
        self.index = MediaIndex()
        self.run_ids: list[str] = []
        self.labels: dict[str, str] = {}
        self.cells: list[Any] = []
        self._slots: list[tuple[w.VBox, w.HTML, w.Output]] = []
        self.series = w.Dropdown(description="media", layout=w.Layout(width="320px"))
        self.series.style.description_width = "50px"
        self.series.add_class("nbtrack-media-series")
        self.step = w.SelectionSlider(options=[0], value=0, description="step", continuous_update=True,
                                      layout=w.Layout(width="520px"))
        self.step.add_class("nbtrack-media-slider")
        self.hint = w.HTML()
        self.hint.add_class("nbtrack-media-hint")
        self.panels = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.panels.add_class("nbtrack-media-panels")
        style = w.HTML(f"<style>{CSS}</style>", layout=w.Layout(display="none"))
        super().__init__([style, w.HBox([self.series, self.step]), self.hint, self.panels])
        self.add_class("nbtrack-media")
        self.series.observe(self._guard(self._on_series), "value")
        self.step.observe(self._guard(self._on_step), "value")
        state.observe(self._guard(lambda _c: self.request()), "selected")
        state.observe(self._guard(self._on_version), "version")
        self.request()

    # -- data ---------------------------------------------------------------------------------
    def shown_run_ids(self) -> list[str]:
        selected = list(self.state.selected)[:MAX_MEDIA_RUNS]
        if selected:
            return selected
        return [str(row["run_id"]) for row in (self.state.rows or [])[:UNSELECTED_RUNS]]

    def _labels(self) -> dict[str, str]:
        import nbtrack

        if not self.run_ids:
            return {}
        try:
            frame = nbtrack.runs(run_ids=self.run_ids, include_deleted=True)
        except Exception:
            return {}
        return run_labels(frame)

    def _on_version(self, change: Any) -> None:
        if self.shown_run_ids() != self.run_ids or self.state.running:
            self.request()

    def refresh_view(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Re-read the media index of the shown runs (names and steps only) and redraw."""
        self.run_ids = self.shown_run_ids()
        self.index = media_index(self.run_ids)
        self.labels = self._labels()
        names = self.index.names()
        with self._quiet():
            current = self.series.value
            self.series.options = names
            self.series.value = current if current in names else (names[0] if names else None)
        self._sync_slider(keep=True)
        self.render()

    def _sync_slider(self, keep: bool) -> None:
        name = self.series.value
        steps = self.index.steps(name) if name else []
        with self._quiet():
            current = self.step.value
            at_end = current == (self.step.options[-1] if self.step.options else None)
            options = steps or [0]
            if list(self.step.options) != options:
                self.step.options = options
            # follow new steps while on the latest one (a running run); else keep the chosen step
            self.step.value = current if keep and current in options and not at_end else options[-1]
            self.step.disabled = len(options) < 2

    # -- events -------------------------------------------------------------------------------
    def _on_series(self, change: Any) -> None:
        if not self._syncing:
            self._sync_slider(keep=False)
            self.render()

    def _on_step(self, change: Any) -> None:
        if not self._syncing:
            self.render()

    def show_step(self, step: int) -> None:
        """Move the shared slider (what dragging it does)."""
        self.step.value = step

    # -- drawing ------------------------------------------------------------------------------
    def render(self) -> None:
        """Draw each shown run's image at the slider's step (reads those blobs only)."""
        name = self.series.value
        if not self.run_ids:
            self.hint.value = "<i>select runs to compare their media</i>"
            self.panels.children = ()
            return
        if not name:
            self.hint.value = ("<i>no media in these runs: log images per step with "
                               "<code>nbtrack.log_figure(fig, 'name', step=epoch)</code></i>")
            self.panels.children = ()
            return
        shown = [r for r in self.run_ids if r in self.index.series.get(name, {})] or self.run_ids
        self.hint.value = (f"<span>{len(shown)} run{'s' if len(shown) != 1 else ''} · "
                           f"{len(self.index.steps(name))} steps</span>")
        cells = media_cells(self.index, name, shown, int(self.step.value), self.labels)
        self.cells = cells
        while len(self._slots) < len(cells):  # a pool reused across steps: a drag creates no widgets
            head, figure = w.HTML(), w.Output(layout=w.Layout(width="420px"))
            self._slots.append((w.VBox([head, figure]), head, figure))
        for (_box, head, figure), cell in zip(self._slots, cells):
            head.value = media_cell_html(cell, plotly_placeholder=True)
            if cell.spec is not None:
                figure.outputs = ({"output_type": "display_data", "metadata": {},
                                   "data": {"application/vnd.plotly.v1+json": cell.spec,
                                            "text/plain": f"<figure {cell.label} step {cell.step}>"}},)
                figure.layout.display = None
            else:
                figure.outputs = ()
                figure.layout.display = "none"
        children = tuple(box for box, _, _ in self._slots[:len(cells)])
        if self.panels.children != children:
            self.panels.children = children
