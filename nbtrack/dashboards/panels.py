"""The detail panel (one run, with the actions) and the compare panel (two or more runs)."""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w

from ..guard import guarded
from .compare import compare_html, diff_html, diff_lines_html
from .detail import detail_html, notebook_snapshot_text, plotly_artifacts
from .figures import run_label
from .state import DashboardState
from .table import esc
from .viewbase import ViewHelpers

MAX_COMPARED = 8


def _api() -> Any:
    import nbtrack

    return nbtrack


def _button(description: str, css: str, style: str = "", icon: str = "") -> w.Button:
    button = w.Button(description=description, button_style=style, icon=icon,
                      layout=w.Layout(width="auto"))
    button.add_class(css)
    return button


class DetailView(ViewHelpers, w.VBox):
    """Everything about ``state.detail_run_id``, plus tag / rename / note / delete / restore / checkout."""

    def __init__(self, state: DashboardState, report_error: Callable[[Exception], None] | None = None) -> None:
        self.state = state
        self._report_error = report_error or (lambda error: None)
        self.record: Any = None
        self.html = w.HTML("<i>click ⓘ on a row to see that run</i>")
        self.html.add_class("nbtrack-detail-html")
        self.figures = w.Output()
        self.figures.add_class("nbtrack-detail-figures")
        self.tag_text = w.Text(placeholder="key=value, key2=value2", layout=w.Layout(width="220px"))
        self.tag_text.add_class("nbtrack-tag-text")
        self.tag_button = _button("tag", "nbtrack-tag", icon="tag")
        self.name_text = w.Text(placeholder="new name", layout=w.Layout(width="180px"))
        self.name_text.add_class("nbtrack-name-text")
        self.rename_button = _button("rename", "nbtrack-rename", icon="pencil")
        self.note_text = w.Textarea(placeholder="a note about this run", layout=w.Layout(width="300px", height="56px"))
        self.note_text.add_class("nbtrack-note-text")
        self.note_button = _button("add note", "nbtrack-note", icon="comment")
        self.delete_button = _button("delete", "nbtrack-delete", style="danger", icon="trash")
        self.restore_button = _button("restore", "nbtrack-restore", icon="undo")
        self.checkout_path = w.Text(placeholder="path (default: next to this notebook)", layout=w.Layout(width="260px"))
        self.checkout_button = _button("check out notebook", "nbtrack-checkout", icon="download")
        self.actions = w.VBox([
            w.HBox([self.tag_text, self.tag_button, self.name_text, self.rename_button]),
            w.HBox([self.note_text, self.note_button]),
            w.HBox([self.delete_button, self.restore_button, self.checkout_path, self.checkout_button]),
        ])
        self.actions.add_class("nbtrack-actions")
        self.tag_button.on_click(self._guard(lambda _b: self._run(self.state.tag, self.tag_text)))
        self.rename_button.on_click(self._guard(lambda _b: self._run(self.state.rename, self.name_text)))
        self.note_button.on_click(self._guard(lambda _b: self._run(self.state.note, self.note_text)))
        self.delete_button.on_click(self._guard(lambda _b: self.state.delete(self.run_id)))
        self.restore_button.on_click(self._guard(lambda _b: self.state.restore(self.run_id)))
        self.checkout_button.on_click(self._guard(
            lambda _b: self.state.checkout(self.run_id, self.checkout_path.value.strip() or None)))
        super().__init__([self.actions, self.html, self.figures])
        self.add_class("nbtrack-detail")
        state.observe(self._guard(lambda _c: self.render()), ["detail_run_id", "version"])
        self.render()

    @property
    def run_id(self) -> str:
        return self.state.detail_run_id

    def _run(self, action: Callable[[str, str], bool], field: w.Text) -> None:
        if self.run_id and action(self.run_id, field.value):
            field.value = ""

    def render(self) -> None:
        """Show the current detail run (or a hint when there is none)."""
        run_id = self.run_id
        self.actions.layout.display = None if run_id else "none"
        if not run_id:
            self.record = None
            self.html.value = "<i>click ⓘ on a row to see that run</i>"
            self.figures.outputs = ()
            return
        try:
            record = _api().get_run(run_id)
        except Exception as error:
            self.record = None
            self.html.value = f'<span class="nbtrack-error">{esc(type(error).__name__)}: {esc(error)}</span>'
            self.figures.outputs = ()
            return
        self.record = record
        deleted = bool(getattr(record, "deleted", False))
        self.delete_button.disabled, self.restore_button.disabled = deleted, not deleted
        self.name_text.placeholder = str(record.name)
        banner = '<div class="nbtrack-error">this run is deleted</div>' if deleted else ""
        self.html.value = banner + detail_html(record)
        outputs = []
        for name, spec in plotly_artifacts(record):
            outputs.append({"output_type": "display_data", "metadata": {},
                            "data": {"application/vnd.plotly.v1+json": spec, "text/plain": f"<figure {name}>"}})
        self.figures.outputs = tuple(outputs)


class CompareView(ViewHelpers, w.VBox):
    """Params and metrics of the selected runs side by side, and a notebook diff of two of them."""

    def __init__(self, state: DashboardState, report_error: Callable[[Exception], None] | None = None) -> None:
        self.state = state
        self._report_error = report_error or (lambda error: None)
        self.records: list[Any] = []
        self.table = w.HTML()
        self.table.add_class("nbtrack-compare-html")
        self.run_a = w.Dropdown(description="diff", layout=w.Layout(width="300px"))
        self.run_b = w.Dropdown(description="against", layout=w.Layout(width="300px"))
        self.diff = w.HTML()
        self.diff.add_class("nbtrack-diff-html")
        self.run_a.observe(self._guard(lambda _c: self.render_diff()), "value")
        self.run_b.observe(self._guard(lambda _c: self.render_diff()), "value")
        super().__init__([self.table, w.HBox([self.run_a, self.run_b]), self.diff])
        self.add_class("nbtrack-compare-panel")
        state.observe(self._guard(lambda _c: self.render()), "selected")
        self.render()

    def render(self) -> None:
        """Compare the selected runs (the first MAX_COMPARED)."""
        ids = list(self.state.selected)[:MAX_COMPARED]
        records = []
        for run_id in ids:
            try:
                records.append(_api().get_run(run_id))
            except Exception as error:  # a run deleted elsewhere: skip it, say so
                self._report_error(error)
        self.records = records
        self.table.value = compare_html(records, self.state.directions)
        options = [(run_label(r.run_id, r.name), r.run_id) for r in records]
        self.run_a.options, self.run_b.options = options, options
        if len(options) >= 2:
            self.run_a.value, self.run_b.value = options[0][1], options[1][1]
        self.render_diff()

    def render_diff(self) -> None:
        """Diff the two chosen runs' notebook snapshots."""
        by_id = {r.run_id: r for r in self.records}
        a, b = by_id.get(self.run_a.value), by_id.get(self.run_b.value)
        if a is None or b is None or a is b:
            self.diff.value = "<i>choose two different runs to diff their notebooks</i>" if len(by_id) >= 2 else ""
            return
        try:  # the notebook layer's diff lines cells up by id; fall back to difflib on the texts
            from nbtrack.notebook.sourcediff import source_diff
        except Exception:
            source_diff = None
        if source_diff is not None:
            with guarded("diffing the notebook snapshots by cell"):
                self.diff.value = diff_lines_html(source_diff(a.run_id, b.run_id).splitlines())
                return
        text_a, text_b = notebook_snapshot_text(a), notebook_snapshot_text(b)
        if text_a is None or text_b is None:
            missing = ", ".join(run_label(r.run_id, r.name) for r, t in ((a, text_a), (b, text_b)) if t is None)
            self.diff.value = f"<i>no notebook snapshot in {esc(missing)}</i>"
            return
        self.diff.value = diff_html(text_a, text_b, run_label(a.run_id, a.name), run_label(b.run_id, b.name))
