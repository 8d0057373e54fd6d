"""Where the interactive dashboard cannot run: a static table instead, with a note saying why.

Three cases. anywidget cannot be imported in the kernel: the dashboard's table is a
:class:`StaticTable` (an ipywidgets ``HTML`` redrawn on every reload; drive it from Python
through ``board.state``) and the panels draw static figures. The frontend runs widgets but not
anywidget's (the server's environment lacks it): :func:`frontend_fallback` is a static copy of
the first page, hidden by CSS as soon as the interactive table has drawn itself and shown
after a few seconds otherwise. The frontend runs no widgets at all (nbconvert, a notebook
viewer): the dashboard's display carries :func:`static_table_html` as its ``text/html``.
Every string from a run is escaped (``table.table_html``).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from .table import esc, table_html

NO_ANYWIDGET = ("The interactive run table needs the anywidget package in this kernel "
                "(pip install anywidget); this is a static table of the current page. "
                "Change it from Python: board.state.filter_text = \"metrics.acc > 0.8\", "
                "board.state.sort_on(\"metrics.acc\"), board.state.next_page().")
NO_FRONTEND = ("The interactive run table did not load in this frontend: its anywidget extension is "
               "missing (pip install anywidget where the Jupyter server runs, then reload the page). "
               "Below, a static copy of the runs as the dashboard opened; board.state still drives it.")
NO_WIDGETS = ("A static copy of the nbtrack dashboard: this frontend does not run Jupyter widgets. "
              "Open the notebook in JupyterLab 4, Notebook 7 or VS Code for the interactive table.")


def anywidget_available() -> bool:
    """True when ``anywidget`` can be imported in this kernel."""
    try:
        import anywidget  # noqa: F401
    except Exception:
        return False
    return True


def static_table_html(state: Any, note: str) -> str:
    """The visible page as an escaped HTML table, under ``note`` and a line saying which page."""
    counted = "counting runs…" if state.summarizing else f"{state.total:,} runs"
    page = f"page {state.page + 1} of {'…' if state.summarizing else state.page_count} · {counted}"
    if state.filter_text:
        page += f" · filter: {state.filter_text}"
    problem = state.filter_error or state.message
    body = table_html(state.rows, state.shown_columns, state.best) if state.rows else "<p><i>no runs match</i></p>"
    return (f'<div class="nbtrack-static">'
            f'<div class="nbtrack-static-note" role="note">{esc(note)}</div>'
            f'<div class="nbtrack-static-page">{esc(page)}</div>'
            + (f'<pre class="nbtrack-error">{esc(problem)}</pre>' if problem else "")
            + body + "</div>")


def frontend_fallback(state: Any) -> w.HTML:
    """A static copy of the first page, shown only where the interactive table fails to draw
    (see ``FRONTEND_FALLBACK_CSS`` in table.py)."""
    copy = w.HTML(static_table_html(state, NO_FRONTEND))
    copy.add_class("nbtrack-static-fallback")
    return copy


class StaticTable(w.HTML):
    """The run table without anywidget: the visible page as static HTML, redrawn on every reload."""

    def __init__(self, state: Any, note: str = NO_ANYWIDGET) -> None:
        super().__init__()
        self.state, self.note = state, note
        self.add_class("nbtrack-static-table")
        state.observe(self._redraw, ["version", "filter_error", "message"])
        self._redraw(None)

    def _redraw(self, change: Any) -> None:
        self.value = static_table_html(self.state, self.note)

    def visible_run_ids(self) -> list[str]:
        return [str(row.get("run_id", "")) for row in self.state.rows]

    def close(self) -> None:
        if getattr(self, "state", None) is not None:
            self.state.unobserve(self._redraw, ["version", "filter_error", "message"])
            self.state = None
        super().close()


__all__ = ["anywidget_available", "static_table_html", "frontend_fallback", "StaticTable", "NO_ANYWIDGET",
           "NO_FRONTEND", "NO_WIDGETS"]
