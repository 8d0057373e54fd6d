"""The dashboard's state: what is asked for (traitlets the controls write) and what the
store answered (the visible page, totals, best values, errors).

``DashboardState`` needs no widget: tests drive it directly on a real store. Only the
visible page is loaded (``runs(max_results=page_size, offset=...)``); column choices,
totals and best values come from ``summarize_runs`` over every matching run, which is
re-run only when the matching set may have changed (filter, experiments, statuses,
refresh), not on sort or page changes.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from typing import Any, Iterator

from traitlets import (
    Bool,
    Dict,
    Float,
    HasTraits,
    Int,
    List,
    TraitError,
    Unicode,
    default,
    observe,
    validate,
)

from ..guard import guarded
from . import summaries
from .columns import (
    BASE_COLUMNS,
    STATUSES,
    available_columns,
    default_columns,
    guess_direction,
    kind_of,
    order_clause,
)
from .queries import Query, StoreQueries
from .stateactions import RunActions
from .table import best_values

MAX_PAGE_SIZE = 500
MAX_PLOTTED_SELECTION = 200
DRAWN_TIMEOUT = 1.0  # seconds the panels wait for the browser to draw new rows


class DashboardState(RunActions, HasTraits):
    """Query state of one dashboard and the answer for the visible page."""

    # -- asked for --------------------------------------------------------------------
    experiments = List(Unicode(), help="experiment names; empty means every experiment")
    filter_text = Unicode("", help="a filter in the syntax of nbtrack.runs()")
    statuses = List(Unicode(), help="statuses shown; all four by default")
    include_deleted = Bool(False, help="also show deleted runs (to restore them)")
    columns = List(Unicode(), help="params./metrics./tags. columns shown after the base columns")
    columns_auto = Bool(True, help="columns follow the data: varying params and every metric")
    sort_by = Unicode("start_time")
    sort_desc = Bool(True)
    page = Int(0)
    page_size = Int(25)
    selected = List(Unicode(), help="selected run ids (kept across pages and filters)")
    hovered = Unicode("", help="the run id under the pointer in the table or a plot; '' when none")
    detail_run_id = Unicode("", help="the run shown in the detail view")
    directions = Dict(help="metric key -> 'max' or 'min', overriding the guess from its name")
    auto_refresh = Bool(True, help="refresh every refresh_interval seconds while a shown run is RUNNING")
    group_nested = Bool(True, help="page over top-level runs with their nested runs under them "
                                   "(when no filter narrows the runs)")
    refresh_interval = Float(5.0)
    read_only = Bool(False, help="browse only (nbtrack ui): tag, rename, note, delete, restore and checkout "
                                 "are refused (set at construction)")

    # -- answered ---------------------------------------------------------------------
    rows = List(help="the visible page: one dict per run, keys as in runs()")
    total = Int(0, help="runs matching the filter")
    available = List(Unicode(), help="every column the chooser offers")
    best = Dict(help="'metrics.<k>' -> best value over every matching run")
    running = Int(0, help="matching runs that are RUNNING")
    filter_error = Unicode("", help="why the last filter was rejected (the table keeps its last good state)")
    filter_error_position = Int(-1)
    unknown_keys = List(help="keys the filter names that no run has: {field, position, suggestion, message}")
    grouped = Bool(False, help="the page holds top-level runs with their nested runs (depth > 0) under them")
    summarizing = Bool(False, help="the rows are in; totals, default columns and best values are on their way")
    message = Unicode("", help="the outcome of the last action")
    message_is_error = Bool(False)
    loaded = Int(0, help="bumped after every successful reload and column/direction change: the table redraws")
    version = Int(0, help="follows `loaded` once the browser shows the new rows (at once without a browser): "
                          "panels redraw on it")

    def __init__(self, experiment: str | list[str] | None = None, filter: str | None = None,
                 load: bool = True, **kwargs: Any) -> None:
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._pending: str | None = None  # None | "page" | "full"
        self._local = threading.local()  # "loading" is per thread: a refresh thread must not mute the user
        self._reset_page = False
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.queries = StoreQueries()
        self.frontend_draws = False  # set by the table widget once a browser draws it (see _changed)
        self._drawn_timer: threading.Timer | None = None
        self._generation = 0
        self._pending_summary: Any = None
        self._summaries = summaries.SummaryRunner()
        self.frame: Any = None  # the visible page as a DataFrame
        self.summary: Any = None
        experiments = [experiment] if isinstance(experiment, str) else list(experiment or [])
        with self.batch(load=False):
            super().__init__(experiments=experiments, filter_text=filter or "", **kwargs)
        if load:
            self.reload(full=True)

    @property
    def _loading(self) -> bool:
        return getattr(self._local, "loading", False)

    @_loading.setter
    def _loading(self, value: bool) -> None:
        self._local.loading = value

    # -- defaults and validation ------------------------------------------------------
    @validate("statuses")
    def _valid_statuses(self, proposal: Any) -> list[str]:
        unknown = [s for s in proposal["value"] if s not in STATUSES]
        if unknown:
            raise TraitError(f"unknown status {unknown[0]!r}; choose from {', '.join(STATUSES)}")
        return [s for s in STATUSES if s in proposal["value"]]

    @default("statuses")
    def _statuses_default(self) -> list[str]:
        return list(STATUSES)

    @validate("page_size")
    def _valid_page_size(self, proposal: Any) -> int:
        return max(1, min(MAX_PAGE_SIZE, int(proposal["value"])))

    @validate("page")
    def _valid_page(self, proposal: Any) -> int:
        if self.summarizing:  # the total is being counted: the page past the end comes back empty
            return max(0, int(proposal["value"]))
        return max(0, min(int(proposal["value"]), self.page_count - 1))

    @validate("sort_by")
    def _valid_sort_by(self, proposal: Any) -> str:
        column = proposal["value"]
        if kind_of(column) == "attributes" and column not in BASE_COLUMNS + ("end_time", "experiment"):
            raise TraitError(f"cannot sort by {column!r}: use a base column or params./metrics./tags.<key>")
        return column

    @validate("directions")
    def _valid_directions(self, proposal: Any) -> dict:
        for key, direction in proposal["value"].items():
            if direction not in ("max", "min"):
                raise TraitError(f"direction of {key!r} must be 'max' or 'min', not {direction!r}")
        return {k[len("metrics."):] if k.startswith("metrics.") else k: v for k, v in proposal["value"].items()}

    @validate("read_only")
    def _stays_read_only(self, proposal: Any) -> bool:
        if self.read_only and not proposal["value"]:
            raise TraitError("a read-only dashboard stays read-only")
        return bool(proposal["value"])

    @validate("refresh_interval")
    def _valid_interval(self, proposal: Any) -> float:
        return max(0.5, float(proposal["value"]))

    # -- derived ----------------------------------------------------------------------
    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.page_size)) if self.page_size else 1

    @property
    def experiment_arg(self) -> list[str] | None:
        return list(self.experiments) or None

    def current_query(self) -> Query:
        """The asked-for query as the store adapter takes it."""
        return Query(tuple(self.experiments), self.filter_text, tuple(self.statuses), self.include_deleted)

    @property
    def shown_columns(self) -> list[str]:
        return list(BASE_COLUMNS) + [c for c in self.columns if c not in BASE_COLUMNS]

    def query(self) -> dict[str, Any]:
        """Keyword arguments of ``nbtrack.runs()``/``count_runs()``/``summarize_runs()`` for the runs
        the table matches (every page), so a panel can fetch the same set."""
        return self.queries.arguments(self.current_query())

    def report(self, error: Exception) -> None:
        """Show an error above the table (what panels call instead of raising)."""
        self.message, self.message_is_error = f"{type(error).__name__}: {error}", True

    def direction(self, metric: str) -> str:
        """``"max"`` or ``"min"`` for a metric key or ``metrics.<key>`` column."""
        key = metric[len("metrics."):] if metric.startswith("metrics.") else metric
        return self.directions.get(key) or guess_direction(key)

    # -- reloading --------------------------------------------------------------------
    @contextlib.contextmanager
    def batch(self, load: bool = True) -> Iterator[None]:
        """Change several traits with one reload at the end (none when ``load`` is False)."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                pending, self._pending = self._pending, None
                if pending and load:
                    self.reload(full=pending == "full")

    def _request(self, level: str) -> None:
        if self._loading:
            return
        if self._batch_depth:
            if self._pending != "full":
                self._pending = level
            return
        self.reload(full=level == "full")

    @observe("experiments", "filter_text", "statuses", "include_deleted")
    def _on_query(self, change: Any) -> None:
        if not self._loading:
            self._reset_page = True
            self._request("full")

    @observe("sort_by", "sort_desc", "page", "page_size")
    def _on_page(self, change: Any) -> None:
        if not self._loading:
            self._request("page")

    @observe("directions")
    def _on_directions(self, change: Any) -> None:
        if self.summary is not None:
            self.best = best_values(self.summary.metrics, self.directions)
            self._changed()

    @observe("columns")
    def _on_columns(self, change: Any) -> None:
        if not self._loading:  # chosen by hand: views redraw once; reload announces itself
            self._changed()

    @observe("columns_auto")
    def _on_columns_auto(self, change: Any) -> None:
        if change["new"] and self.summary is not None:
            self.columns = default_columns(self.summary)

    def _filter_failed(self, error: Any) -> None:
        text = self.filter_text
        position = getattr(error, "position", -1)
        parsed, stripped = getattr(error, "text", None) or text, text.strip()
        at = parsed.find(stripped) if stripped else -1
        if at >= 0:  # the user's filter may sit inside "(...) AND (status ...)", and was stripped
            position += len(text) - len(text.lstrip()) - at
        position = max(0, min(position, len(text)))
        message = getattr(error, "message", str(error))
        self.filter_error_position = position
        self.filter_error = f"{message} at position {position}:\n  {text}\n  {' ' * position}^"

    def reload(self, full: bool = True) -> bool:
        """Query the store: the visible page, and (when ``full``) the summary of every matching run.

        The summary (totals, default columns, best values) runs in a thread started first; the
        page does not wait for it more than ``summaries.SUMMARY_WAIT`` seconds: past that the
        rows are shown with ``summarizing`` set and the rest follows (``wait()`` blocks until it
        has). Returns False, keeping the previous rows, when the filter is rejected or the
        store fails; the reason is in ``filter_error`` or ``message``.
        """
        from nbtrack.errors import FilterSyntaxError

        queries, query = self.queries, self.current_query()
        with self._lock:
            self._generation += 1
            generation = self._generation
            job = None
            self._loading = True
            try:
                grouped = self.grouped
                if full or self.summary is None:
                    grouped = self.group_nested and not query.filter_text.strip() and query.all_statuses \
                        and queries.has_nested(query)
                    job = self._summaries.submit(summaries.SummaryJob(queries, query, grouped))
                    self.unknown_keys = summaries.unknown_keys(queries, query)  # said with the rows
                pages = max(1, math.ceil(self.total / self.page_size))
                page = 0 if self._reset_page else self.page if self.summarizing else min(self.page, pages - 1)
                order = order_clause(self.sort_by, self.sort_desc)
                frame = queries.page(query, order, self.page_size, page * self.page_size, top_level=grouped)
                nested = queries.nested_under(query, [str(r) for r in frame["run_id"]], order) \
                    if grouped and len(frame) else None
                rows = _rows_with_nesting(frame, nested)
                if query.include_deleted and rows:
                    deleted = queries.deleted_ids(frame)
                    if nested is not None:
                        deleted |= queries.deleted_ids(nested)
                    for row in rows:
                        row["deleted"] = row["run_id"] in deleted
                with guarded("listing the registered models of the page"):  # row["models"]: "churn v3 @champion"
                    from ..registry.html import with_registered_models

                    with_registered_models(rows)
                answered = job.wait(summaries.SUMMARY_WAIT) if job is not None else False
            except FilterSyntaxError as error:
                self._filter_failed(error)
                return False
            except Exception as error:  # the store failed: say so, keep the last good page
                self.message, self.message_is_error = f"could not load runs: {type(error).__name__}: {error}", True
                return False
            finally:
                self._loading = False
            self._loading = True
            try:
                self.filter_error, self.filter_error_position = "", -1
                self._reset_page = False
                self.frame = frame
                self.grouped = grouped
                self.page = page
                self.rows = rows
                if job is not None:
                    self._pending_summary = job
                    self.summarizing = not answered
                    if answered:
                        self._take_summary(job.answer)
                self._changed()
            finally:
                self._loading = False
        if job is not None and not answered:
            job.then(lambda answer: self._late_summary(generation, job, answer))
        self._schedule_refresh()
        return True

    def _take_summary(self, answer: Any) -> None:
        """Apply a summary's answer (inside a reload's or a late summary's assignments)."""
        self._pending_summary = None
        self.summarizing = False
        if answer.error is not None:
            self.message = f"could not summarize the runs: {type(answer.error).__name__}: {answer.error}"
            self.message_is_error = True
            return
        summary = answer.summary
        self.summary = summary
        self.total = answer.total
        self.unknown_keys = answer.unknown
        self.available = available_columns(summary)
        self.best = best_values(summary.metrics, self.directions)
        self.running = int(summary.statuses.get("RUNNING", 0))
        if self.columns_auto:
            self.columns = default_columns(summary)

    def _late_summary(self, generation: int, job: Any, answer: Any) -> None:
        """A summary that came after its rows: apply it unless a newer reload replaced it."""
        with guarded("summarizing the dashboard's runs"), self._lock:
            if generation != self._generation or self._pending_summary is not job:
                return
            self._loading = True
            try:
                self._take_summary(answer)
                self._changed()
            finally:
                self._loading = False
            past_end = self.page > self.page_count - 1
        if past_end:  # a refresh that found fewer runs: show the last page
            self.page = self.page_count - 1
        self._schedule_refresh()

    def wait(self, timeout: float | None = 60.0) -> bool:
        """Wait until the totals, columns and best values of the last reload are in; False on timeout."""
        job = self._pending_summary
        if job is None:
            return True
        if not job.wait(timeout):
            return False
        deadline = time.monotonic() + 5.0  # the thread applies it right after its answer
        while self._pending_summary is job and time.monotonic() < deadline:
            time.sleep(0.005)
        return self._pending_summary is not job

    # -- announcing new rows: the table first, then the panels ------------------------------------
    def _changed(self) -> None:
        """New rows or columns: the table pushes them on ``loaded``; panels redraw on ``version``.

        With a browser drawing the table, ``version`` follows when it reports the rows drawn
        (:meth:`confirm_drawn`), so a panel's redraw (a plot is costly to build and to draw)
        does not hold the rows back; after ``DRAWN_TIMEOUT`` seconds without a word it follows
        anyway. Without a browser it follows at once.
        """
        self.loaded += 1
        if not self.frontend_draws:
            self.version = self.loaded
            return
        timer = self._drawn_timer
        if timer is None or not timer.is_alive():
            self._drawn_timer = threading.Timer(DRAWN_TIMEOUT, self._drawn_timed_out)
            self._drawn_timer.daemon = True
            self._drawn_timer.start()

    def confirm_drawn(self, loaded: int) -> None:
        """The browser shows the rows of ``loaded``: let the panels follow."""
        target = min(int(loaded), self.loaded)
        if target > self.version:
            self.version = target

    def _drawn_timed_out(self) -> None:
        with guarded("announcing new rows to the dashboard's panels"):
            if self.version < self.loaded:
                self.version = self.loaded

    def refresh(self) -> bool:
        """Reload everything (the refresh button): new runs may bring new keys too."""
        self.queries.forget_keys()
        return self.reload(full=True)

    # -- sorting, paging, selection -----------------------------------------------------
    def default_descending(self, column: str) -> bool:
        """First click on a header: metrics best-first, start time newest-first, others ascending."""
        if kind_of(column) == "metrics":
            return self.direction(column) == "max"
        return column in ("start_time", "end_time", "duration")

    def sort_on(self, column: str) -> None:
        """What a click on a column header does: sort by it, or flip the direction if it already is."""
        with self.batch():
            if column == self.sort_by:
                self.sort_desc = not self.sort_desc
            else:
                self.sort_by = column
                self.sort_desc = self.default_descending(column)
            self.page = 0

    def next_page(self) -> None:
        self.page = min(self.page + 1, self.page_count - 1)

    def previous_page(self) -> None:
        self.page = max(self.page - 1, 0)

    def set_selected(self, run_id: str, on: bool) -> None:
        """Select or unselect one run."""
        current = list(self.selected)
        if on and run_id not in current:
            self.selected = current + [run_id]
        elif not on and run_id in current:
            self.selected = [r for r in current if r != run_id]

    # -- data for the plots and views -----------------------------------------------------
    def plot_frame(self) -> Any:
        """Runs to plot: the selected ones (from any page), else the visible page."""
        if self.selected:
            ids = list(self.selected)[:MAX_PLOTTED_SELECTION]
            frame = self.queries.by_ids(ids)
            order = {run_id: i for i, run_id in enumerate(ids)}
            return frame.iloc[sorted(range(len(frame)), key=lambda i: order.get(frame["run_id"].iloc[i], 0))]
        if self.frame is None:
            import pandas as pd

            return pd.DataFrame({"run_id": [], "name": []})
        return self.frame

    def metric_keys(self) -> list[str]:
        return sorted((self.summary.metrics if self.summary else {}) or {})

    def param_keys(self) -> list[str]:
        return sorted((self.summary.params if self.summary else {}) or {})

    # -- auto-refresh -------------------------------------------------------------------------
    @property
    def auto_refreshing(self) -> bool:
        return self._timer is not None and self._timer.is_alive()

    @observe("auto_refresh")
    def _on_auto_refresh(self, change: Any) -> None:
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if not (self.auto_refresh and self.running > 0) or self.auto_refreshing or self._stop.is_set():
            return
        self._timer = threading.Thread(target=self._refresh_loop, name="nbtrack-dashboard-refresh", daemon=True)
        self._timer.start()

    def _refresh_loop(self) -> None:
        while True:
            due = time.monotonic() + self.refresh_interval
            while time.monotonic() < due and not self._stop.is_set():  # notice a shorter interval soon
                self._stop.wait(min(0.25, max(0.0, due - time.monotonic())))
                due = min(due, time.monotonic() + self.refresh_interval)
            if self._stop.is_set() or not (self.auto_refresh and self.running > 0):
                break
            with guarded("refreshing the dashboard"):  # a failed refresh is retried next time
                self.reload(full=True)
        self._timer = None

    def close(self) -> None:
        """Stop auto-refreshing."""
        self._stop.set()
        if self._drawn_timer is not None:
            self._drawn_timer.cancel()


def _rows_with_nesting(frame: Any, nested: Any) -> list[dict]:
    """The page's rows (dicts), each followed by its nested runs (``depth`` 1), in the page's order."""
    rows = frame.to_dict("records")
    for row in rows:
        row["depth"] = 0
    if nested is None or not len(nested):
        return rows
    children: dict[str, list[dict]] = {}
    for child in nested.to_dict("records"):
        child["depth"] = 1
        children.setdefault(str(child["parent_run_id"]), []).append(child)
    out = []
    for row in rows:
        kids = children.get(str(row["run_id"]), [])
        row["nested"] = len(kids)
        out.append(row)
        out.extend(kids)
    return out
