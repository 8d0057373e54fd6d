"""The run table view: clickable headers (sort), one row per run with a selection box and
a details button, and a pager. It observes a ``DashboardState`` and writes only to it.

Rows are a fixed pool of widgets reused across pages, so a page change updates values
instead of creating widgets; only the visible page is ever sent to the browser.
"""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w

from .state import DashboardState
from .table import column_width, esc, header_label, row_html
from .viewbase import ViewHelpers

SELECT_WIDTH = 30
OPEN_WIDTH = 34
PAGE_SIZES = (10, 25, 50, 100)


def _fixed(width: int) -> w.Layout:
    return w.Layout(width=f"{width}px", min_width=f"{width}px", max_width=f"{width}px", margin="0", flex="0 0 auto")


class _Row:
    """The widgets of one table row slot."""

    def __init__(self, on_select: Callable[["_Row", bool], None], on_open: Callable[["_Row"], None]) -> None:
        self.run_id = ""
        self.check = w.Checkbox(value=False, indent=False, layout=_fixed(SELECT_WIDTH))
        self.check.add_class("nbtrack-select")
        self.open = w.Button(icon="info", tooltip="show this run's details", layout=_fixed(OPEN_WIDTH))
        self.open.add_class("nbtrack-open")
        self.cells = w.HTML(layout=w.Layout(margin="0", overflow="hidden"))
        self.box = w.HBox([self.check, self.open, self.cells],
                          layout=w.Layout(align_items="center", margin="0", min_height="28px"))
        self.box.add_class("nbtrack-row")
        self.check.observe(lambda change: on_select(self, change["new"]), "value")
        self.open.on_click(lambda _button: on_open(self))


class RunTableView(ViewHelpers, w.VBox):
    """Header, rows and pager of the run table."""

    def __init__(self, state: DashboardState, report_error: Callable[[Exception], None] | None = None) -> None:
        self.state = state
        self._report_error = report_error or (lambda error: None)
        self._syncing = False
        self._header_columns: tuple[str, ...] = ()
        self.header_buttons: dict[str, w.Button] = {}
        self.header = w.HBox(layout=w.Layout(margin="0", align_items="center"))
        self.header.add_class("nbtrack-header")
        self.rows: list[_Row] = []
        self.body = w.VBox(layout=w.Layout(margin="0"))
        self.body.add_class("nbtrack-rows")
        self.empty = w.HTML()
        self.empty.add_class("nbtrack-empty")

        self.prev_button = w.Button(description="‹ prev", layout=w.Layout(width="70px"))
        self.prev_button.add_class("nbtrack-prev")
        self.next_button = w.Button(description="next ›", layout=w.Layout(width="70px"))
        self.next_button.add_class("nbtrack-next")
        self.page_label = w.HTML()
        self.page_label.add_class("nbtrack-page")
        self.page_size = w.Dropdown(options=sorted(set(PAGE_SIZES) | {state.page_size}), value=state.page_size,
                                    description="rows", layout=w.Layout(width="130px"))
        self.page_size.style.description_width = "36px"
        self.selection_label = w.HTML()
        self.selection_label.add_class("nbtrack-selection")
        self.clear_button = w.Button(description="clear selection", layout=w.Layout(width="120px"))
        self.prev_button.on_click(self._guard(lambda _b: self.state.previous_page()))
        self.next_button.on_click(self._guard(lambda _b: self.state.next_page()))
        self.clear_button.on_click(self._guard(lambda _b: setattr(self.state, "selected", [])))
        self.page_size.observe(self._guard(self._on_page_size), "value")
        pager = w.HBox([self.prev_button, self.page_label, self.next_button, self.page_size,
                        self.selection_label, self.clear_button], layout=w.Layout(align_items="center"))
        pager.add_class("nbtrack-pager")
        super().__init__([self.header, self.body, self.empty, pager],
                         layout=w.Layout(overflow="auto", margin="0"))
        self.add_class("nbtrack-table")
        state.observe(self._guard(lambda _c: self.render()), "version")
        state.observe(self._guard(lambda _c: self.render_selection()), "selected")
        self.render()

    # -- helpers -----------------------------------------------------------------------
    def _on_page_size(self, change: Any) -> None:
        if not self._syncing:
            self.state.page_size = int(change["new"])

    def _on_select(self, row: _Row, on: bool) -> None:
        if not self._syncing and row.run_id:
            self.state.set_selected(row.run_id, on)

    def _on_open(self, row: _Row) -> None:
        if row.run_id:
            self.state.detail_run_id = row.run_id

    def _new_row(self) -> _Row:
        return _Row(self._guard(self._on_select), self._guard(self._on_open))

    # -- rendering ----------------------------------------------------------------------
    def _build_header(self, columns: list[str]) -> None:
        spacer = w.HTML(layout=_fixed(SELECT_WIDTH + OPEN_WIDTH))
        self.header_buttons = {}
        for column in columns:
            button = w.Button(tooltip=f"sort by {column} (click again to reverse)",
                              layout=_fixed(column_width(column)))
            button.add_class("nbtrack-sort")
            button.add_class("nbtrack-col-" + "".join(ch if ch.isalnum() else "-" for ch in column))
            button.on_click(self._guard(lambda _b, column=column: self.state.sort_on(column)))
            self.header_buttons[column] = button
        self.header.children = [spacer] + list(self.header_buttons.values())
        self._header_columns = tuple(columns)

    def render(self) -> None:
        """Bring header, rows and pager in line with the state."""
        state = self.state
        columns = state.shown_columns
        if tuple(columns) != self._header_columns:
            self._build_header(columns)
        for column, button in self.header_buttons.items():
            button.description = header_label(column, state.sort_by, state.sort_desc)
            button.button_style = "info" if column == state.sort_by else ""
        rows = state.rows
        while len(self.rows) < len(rows):
            self.rows.append(self._new_row())
        selected = set(state.selected)
        with self._quiet():
            for slot, row in zip(self.rows, rows):
                slot.run_id = str(row.get("run_id", ""))
                slot.cells.value = row_html(row, columns, state.best)
                slot.check.value = slot.run_id in selected
                slot.box.layout.display = None
            for slot in self.rows[len(rows):]:
                slot.run_id = ""
                slot.box.layout.display = "none"
            if self.page_size.value != state.page_size:
                if state.page_size not in self.page_size.options:
                    self.page_size.options = sorted(set(self.page_size.options) | {state.page_size})
                self.page_size.value = state.page_size
        children = tuple(slot.box for slot in self.rows)
        if self.body.children != children:
            self.body.children = children
        self.empty.value = "" if rows else "<i>no runs match</i>"
        self.page_label.value = (f'<span class="nbtrack-page-text">page {state.page + 1} of {state.page_count}'
                                 f" · {state.total:,} runs</span>")
        self.prev_button.disabled = state.page <= 0
        self.next_button.disabled = state.page >= state.page_count - 1
        self.render_selection()

    def render_selection(self) -> None:
        """Checkboxes and the selection count follow ``state.selected``."""
        selected = set(self.state.selected)
        with self._quiet():
            for slot in self.rows:
                if slot.run_id:
                    slot.check.value = slot.run_id in selected
        count = len(selected)
        self.selection_label.value = (f"<span>{count} selected</span>" if count
                                      else "<span>none selected: plots show this page</span>")
        self.clear_button.disabled = not count

    def visible_run_ids(self) -> list[str]:
        """Run ids of the rows on screen, top to bottom."""
        return [slot.run_id for slot in self.rows if slot.run_id]

    def row_for(self, run_id: str) -> _Row:
        for slot in self.rows:
            if slot.run_id == run_id:
                return slot
        raise KeyError(f"run {run_id} is not on this page")


__all__ = ["RunTableView", "esc"]
