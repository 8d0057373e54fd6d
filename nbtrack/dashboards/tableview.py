"""The run table as one widget model (anywidget): controls, header, rows and pager.

The frontend (``static/runtable.js``, styles in ``static/runtable.css``) draws the ``view``
trait: the controls' state and only the visible page, as column arrays. What the user does
comes back as messages (``{"type": "sort", "column": ...}``, see :meth:`RunTable.receive`) or
through the synced traits ``selected`` and ``hovered`` (linked to the ``DashboardState``'s),
``column_widths`` and ``hidden_columns``. Sorting, filtering and paging run in the database
(``DashboardState.reload``), so the browser's cost does not grow with the number of runs.

Importing this module needs anywidget; ``widget.py`` falls back to a static table without it.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import anywidget
import traitlets
from traitlets import Dict, List, Unicode

from ..formatting import is_missing
from .columns import BASE_COLUMNS, STATUSES, column_label, field_expr, kind_of
from .state import MAX_PAGE_SIZE, DashboardState

STATIC = Path(__file__).with_name("static")
PAGE_SIZES = (10, 25, 50, 100, 250)
TIME_COLUMNS = ("start_time", "end_time")
CHOOSABLE_BASE = BASE_COLUMNS + ("end_time", "experiment")


def _api() -> Any:
    import nbtrack

    return nbtrack


def json_value(value: Any) -> Any:
    """A cell value as JSON: numbers stay numbers (``"inf"``/``"-inf"`` for infinities), times
    become epoch seconds, missing values None, anything else its text."""
    if is_missing(value):
        return None
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, _dt.datetime):  # pandas Timestamp too
        return value.timestamp()
    if isinstance(value, (dict, list, tuple)):
        import json

        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def column_type(column: str, values: Iterable[Any]) -> str:
    """How the frontend formats a column: id, status, time, duration, number or text."""
    if column == "run_id":
        return "id"
    if column == "status":
        return "status"
    if column in TIME_COLUMNS:
        return "time"
    if column == "duration":
        return "duration"
    if kind_of(column) == "metrics":
        return "number"
    present = [v for v in values if v is not None]
    return "number" if present and all(isinstance(v, (int, float)) for v in present) else "text"


def column_spec(column: str, values: Sequence[Any] = ()) -> dict[str, Any]:
    kind = column_type(column, values)
    return {"key": column, "label": column_label(column), "kind": kind_of(column), "type": kind,
            "numeric": kind in ("number", "duration")}


def rows_payload(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list]:
    """The page as column arrays: ``{"run_id": [...], "<column>": [...], "depth": [...], ...}``."""
    out: dict[str, list] = {"run_id": [str(row.get("run_id", "")) for row in rows]}
    for column in columns:
        if column != "run_id":
            out[column] = [json_value(row.get(column)) for row in rows]
    out["parent_run_id"] = [json_value(row.get("parent_run_id")) for row in rows]
    out["depth"] = [int(row.get("depth", 0) or 0) for row in rows]
    out["nested"] = [int(row.get("nested", 0) or 0) for row in rows]
    out["deleted"] = [bool(row.get("deleted", False)) for row in rows]
    return out


def view_payload(state: DashboardState, experiments: Sequence[str], ack: int = 0) -> dict[str, Any]:
    """Everything the frontend draws, from the state (only the visible page of runs)."""
    columns = state.shown_columns
    rows = rows_payload(state.rows, columns)
    metrics = state.metric_keys()
    return {
        "loaded": state.loaded,
        "ack": ack,
        "experiments": {"options": list(experiments), "chosen": list(state.experiments)},
        "filter": {"text": state.filter_text, "error": state.filter_error,
                   "position": state.filter_error_position, "unknown": list(state.unknown_keys)},
        "statuses": {"all": list(STATUSES), "shown": list(state.statuses)},
        "include_deleted": state.include_deleted,
        "auto_refresh": state.auto_refresh,
        "running": state.running,
        "grouped": state.grouped,
        "message": {"text": state.message, "error": state.message_is_error},
        "columns": [column_spec(c, rows.get(c, ())) for c in columns],
        "chosen": list(state.columns),
        "available": [column_spec(c) for c in CHOOSABLE_BASE] + [column_spec(c) for c in state.available],
        "directions": {key: state.direction(key) for key in metrics},
        "sort": {"column": state.sort_by, "desc": state.sort_desc},
        "summarizing": state.summarizing,
        "page": {"index": state.page, "size": state.page_size,
                 "count": None if state.summarizing else state.page_count,
                 "total": None if state.summarizing else state.total,
                 "sizes": sorted(set(PAGE_SIZES) | {state.page_size})},
        "rows": rows,
        "best": {key: value for key, value in state.best.items() if math.isfinite(value)},
    }


class RunTable(anywidget.AnyWidget):
    """The run table widget. ``state`` is the dashboard's ``DashboardState``."""

    _esm = STATIC / "runtable.js"
    _css = STATIC / "runtable.css"

    view = Dict(help="what the frontend draws (see view_payload)").tag(sync=True)
    selected = List(Unicode(), help="selected run ids (linked to state.selected)").tag(sync=True)
    hovered = Unicode("", help="the run id under the pointer (linked to state.hovered)").tag(sync=True)
    column_widths = Dict(help="column -> width in pixels, set by dragging a header's edge").tag(sync=True)
    hidden_columns = List(Unicode(), help="columns hidden from the header's × or the columns menu").tag(sync=True)

    def __init__(self, state: DashboardState, report_error: Callable[[Exception], None] | None = None) -> None:
        super().__init__()
        self.state = state
        self._report_error = report_error or state.report
        self._ack = 0
        self._pushed = False
        self._experiments = self._experiment_names()
        self._links = [traitlets.link((state, "selected"), (self, "selected")),
                       traitlets.link((state, "hovered"), (self, "hovered"))]
        state.observe(self._on_loaded, "loaded")
        state.observe(self._on_answer, ["filter_error", "message", "message_is_error", "auto_refresh"])
        self.on_msg(self._on_msg)
        self.push()

    # -- Python -> frontend -----------------------------------------------------------------
    @staticmethod
    def _experiment_names() -> list[str]:
        try:
            return [str(name) for name in _api().experiments()["experiment"].tolist()]
        except Exception:
            return []

    def push(self) -> None:
        """Send the current state to the frontend (one message).

        A reload pushes as soon as the state has its new page (on ``loaded``); the panels redraw
        on ``version``, which follows once the browser reports the rows drawn.
        """
        names = self._experiments + [e for e in self.state.experiments if e not in self._experiments]
        self.view = view_payload(self.state, names, self._ack)
        self._pushed = True

    def _on_loaded(self, change: Any) -> None:
        self.push()

    def _on_answer(self, change: Any) -> None:
        if not self.state._loading:  # inside a reload the `loaded` bump pushes once at the end
            self.push()

    # -- frontend -> Python -------------------------------------------------------------------
    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        self.receive(content)

    def receive(self, message: Mapping[str, Any]) -> None:
        """Act on one message from the frontend; the new view goes back in one message.

        Types: ``filter {text}``, ``use_suggestion {field, suggestion}``, ``experiments {chosen}``,
        ``statuses {shown}``, ``sort {column}``, ``page {index}``, ``page_size {size}``,
        ``columns {chosen}``, ``columns_default``, ``direction {metric, direction}``,
        ``open {run_id}``, ``refresh``, ``option {name: include_deleted | auto_refresh, value}``.
        """
        if not isinstance(message, Mapping):
            return
        kind = str(message.get("type", ""))
        if kind == "ready":  # a browser draws this table: panels wait for its "drawn"
            self.state.frontend_draws = True
            return
        if kind == "drawn":
            self.state.confirm_drawn(int(message.get("loaded", 0)))
            return
        self._ack = int(message.get("seq", self._ack + 1) or 0)
        self._pushed = False
        try:
            self._act(kind, message)
        except Exception as error:  # shown above the table; the widget keeps working
            self._report_error(error)
        if not self._pushed:  # nothing reloaded (or it failed): still answer, the frontend waits
            self.push()

    def _act(self, kind: str, message: Mapping[str, Any]) -> None:
        state = self.state
        if kind == "filter":
            state.filter_text = str(message.get("text", ""))
        elif kind == "use_suggestion":
            state.filter_text = replace_key(state.filter_text, state.unknown_keys, str(message.get("field", "")),
                                            str(message.get("suggestion", "")))
        elif kind == "experiments":
            state.experiments = [str(e) for e in message.get("chosen", [])]
        elif kind == "statuses":
            state.statuses = [str(s) for s in message.get("shown", [])]
        elif kind == "sort":
            state.sort_on(str(message["column"]))
        elif kind == "page":
            state.page = max(0, int(message["index"]))
        elif kind == "page_size":
            state.page_size = min(MAX_PAGE_SIZE, max(1, int(message["size"])))
        elif kind == "columns":
            with state.hold_trait_notifications():
                state.columns_auto = False
                state.columns = [str(c) for c in message.get("chosen", [])]
        elif kind == "columns_default":
            self.hidden_columns = []
            state.columns_auto = True
        elif kind == "direction":
            state.directions = {**state.directions, str(message["metric"]): str(message["direction"])}
        elif kind == "open":
            state.detail_run_id = str(message["run_id"])
        elif kind == "refresh":
            self._experiments = self._experiment_names()
            state.refresh()
        elif kind == "option" and message.get("name") in ("include_deleted", "auto_refresh"):
            setattr(state, str(message["name"]), bool(message.get("value")))
        else:
            raise ValueError(f"the run table got an unknown message {kind!r}")

    # -- for Python code and tests -----------------------------------------------------------------
    def visible_run_ids(self) -> list[str]:
        """Run ids of the rows on screen, top to bottom (nested runs under their parent)."""
        return list(self.view.get("rows", {}).get("run_id", []))

    def column(self, name: str) -> list[Any]:
        """The values of one shown column on the visible page, as sent to the browser."""
        return list(self.view["rows"][name])

    def close(self) -> None:
        """Stop following the state and close the widget (twice is harmless)."""
        links, self._links = getattr(self, "_links", []), []
        if links:
            for link in links:
                link.unlink()
            self.state.unobserve(self._on_loaded, "loaded")
            self.state.unobserve(self._on_answer, ["filter_error", "message", "message_is_error", "auto_refresh"])
        super().close()


def replace_key(text: str, unknown: Sequence[Mapping[str, Any]], field: str, suggestion: str) -> str:
    """The filter with the unknown key ``field`` (where the store saw it) replaced by ``suggestion``."""
    for item in unknown:
        if item.get("field") == field and suggestion:
            start = int(item.get("position", -1))
            entity, _, key = field.partition(".")
            if 0 <= start < len(text):
                tail = text[start:]
                # the field may be written as metrics.key, metric.`key`, ...: replace through the key's end
                at = tail.find(key)
                if at >= 0:
                    end = start + at + len(key)
                    if text[end:end + 1] in ("`", '"'):
                        end += 1
                    return text[:start] + field_expr(suggestion) + text[end:]
    return text.replace(field, field_expr(suggestion)) if field and suggestion else text


__all__ = ["RunTable", "view_payload", "rows_payload", "json_value", "replace_key"]
