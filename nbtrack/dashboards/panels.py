"""The detail panel (one run, with the actions); the compare panel lives in compareview.py."""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w

from .detail import detail_html, plotly_artifacts
from .state import DashboardState
from .table import esc
from .viewbase import ViewHelpers


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
        # a read-only dashboard (nbtrack ui) puts no action on the page (and its state refuses them)
        self.read_only = bool(getattr(state, "read_only", False))
        if self.read_only:  # closed: their models leave the page and the kernel stops listening to them
            for row in self.actions.children:
                for widget in (*row.children, row):
                    widget.close()
            self.actions.close()
        super().__init__(([] if self.read_only else [self.actions]) + [self.html, self.figures])
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
