"""The compare panel: 2 to 10 selected runs side by side (oldest first), a "differences
only" switch, the notebook diff of two of them from the older to the newer, and for those
two a ranked explanation of why they differ (:mod:`.explain`)."""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w

from ..guard import guarded
from .compare import compare_html, diff_html, diff_lines_html
from .detail import notebook_snapshot_text
from .explain import explain, explain_html
from .figures import run_label
from .lazyview import LazyView
from .table import esc
from .viewbase import ViewHelpers

MAX_COMPARED = 10

CSS = """
.nbtrack-explain-changes li { margin: 2px 0; }
.nbtrack-explain-detail { margin: 2px 0 4px; padding: 2px 6px; background: #f6f8fa; font-size: 11px; }
.nbtrack-explain-metrics .nbtrack-better td:last-child { color: #2ca02c; }
.nbtrack-explain-metrics .nbtrack-worse td:last-child { color: #d62728; }
"""


def _api() -> Any:
    import nbtrack

    return nbtrack


class CompareView(LazyView, ViewHelpers, w.VBox):
    """Params and metrics of the selected runs side by side, and why two of them differ."""

    def __init__(self, state: Any, report_error: Callable[[Exception], None] | None = None,
                 active: bool = True) -> None:
        self.state = state
        self._report_error = report_error or (lambda error: None)
        self._active = active
        self.records: list[Any] = []
        self.note = w.HTML()
        self.note.add_class("nbtrack-compare-note")
        self.differences_only = w.Checkbox(value=False, description="differences only", indent=False,
                                           layout=w.Layout(width="160px"))
        self.differences_only.add_class("nbtrack-differences-only")
        self.table = w.HTML()
        self.table.add_class("nbtrack-compare-html")
        self.run_a = w.Dropdown(description="diff", layout=w.Layout(width="300px"))
        self.run_b = w.Dropdown(description="and", layout=w.Layout(width="300px"))
        self.explanation = w.HTML()
        self.explanation.add_class("nbtrack-explain-html")
        self.diff = w.HTML()
        self.diff.add_class("nbtrack-diff-html")
        self.run_a.observe(self._guard(lambda _c: self.render_pair()), "value")
        self.run_b.observe(self._guard(lambda _c: self.render_pair()), "value")
        self.differences_only.observe(self._guard(lambda _c: self.render_table()), "value")
        style = w.HTML(f"<style>{CSS}</style>", layout=w.Layout(display="none"))
        super().__init__([style, w.HBox([self.note, self.differences_only]), self.table,
                          w.HBox([self.run_a, self.run_b]), self.explanation, self.diff])
        self.add_class("nbtrack-compare-panel")
        state.observe(self._guard(lambda _c: self.request()), "selected")
        self.request()

    def refresh_view(self) -> None:
        self.render()

    def render(self) -> None:
        """Compare the selected runs (the first MAX_COMPARED), oldest first."""
        selected = list(self.state.selected)
        records = []
        for run_id in selected[:MAX_COMPARED]:
            try:
                records.append(_api().get_run(run_id))
            except Exception as error:  # a run deleted elsewhere: skip it, say so
                self._report_error(error)
        self.records = sorted(records, key=lambda r: r.start_time or 0)
        more = len(selected) - MAX_COMPARED
        self.note.value = (f"<i>comparing the first {MAX_COMPARED} of {len(selected)} selected runs</i>"
                           if more > 0 else "")
        self.render_table()
        options = [(run_label(r.run_id, r.name), r.run_id) for r in self.records]
        with self._quiet():
            self.run_a.options, self.run_b.options = options, options
            if len(options) >= 2:  # the two newest by default: the last change made
                self.run_a.value, self.run_b.value = options[-2][1], options[-1][1]
        self.render_pair()

    def render_table(self) -> None:
        self.table.value = compare_html(self.records, self.state.directions, self.differences_only.value)

    def pair(self) -> tuple[Any, Any] | None:
        """The two chosen runs, older first (a diff always runs from the older to the newer)."""
        by_id = {r.run_id: r for r in self.records}
        a, b = by_id.get(self.run_a.value), by_id.get(self.run_b.value)
        if a is None or b is None or a is b:
            return None
        return tuple(sorted((a, b), key=lambda r: r.start_time or 0))  # type: ignore[return-value]

    def render_pair(self) -> None:
        """The explanation and the notebook diff of the two chosen runs."""
        pair = self.pair()
        if self._syncing:
            return
        if pair is None:
            hint = "<i>choose two different runs to see why they differ</i>" if len(self.records) >= 2 else ""
            self.explanation.value, self.diff.value = hint, ""
            return
        older, newer = pair
        self.explanation.value = explain_html(explain(older, newer, self.state.directions))
        self.diff.value = self._diff(older, newer)

    @staticmethod
    def _diff(older: Any, newer: Any) -> str:
        try:  # the notebook layer's diff lines cells up by id; fall back to difflib on the texts
            from nbtrack.notebook.sourcediff import source_diff
        except Exception:
            source_diff = None
        if source_diff is not None:
            with guarded("diffing the notebook snapshots by cell"):
                return diff_lines_html(source_diff(older.run_id, newer.run_id).splitlines())
        text_a, text_b = notebook_snapshot_text(older), notebook_snapshot_text(newer)
        if text_a is None or text_b is None:
            missing = ", ".join(run_label(r.run_id, r.name) for r, t in ((older, text_a), (newer, text_b)) if t is None)
            return f"<i>no notebook snapshot in {esc(missing)}</i>"
        return diff_html(text_a, text_b, run_label(older.run_id, older.name), run_label(newer.run_id, newer.name))


__all__ = ["CompareView", "MAX_COMPARED"]
