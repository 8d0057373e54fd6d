"""The dashboard's calls into the store, in one place (the adapter ``DashboardState`` uses).

The user's filter text goes to ``nbtrack.runs()`` / ``count_runs()`` / ``summarize_runs()``
as typed; everything the dashboard adds (statuses, run ids, top-level runs, the children of a
page's runs) goes as structured parameters: no filter string is composed here. Unknown filter
keys come from ``nbtrack.check_filter_keys`` (the dashboard says them itself, so ``runs()``'s
``UnknownKeyWarning`` is silenced here).
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from ..statuses import STATUSES

MAX_NESTED = 500  # nested runs fetched under the parents of one page


def _api() -> Any:
    import nbtrack

    return nbtrack


@dataclass(frozen=True)
class Query:
    """What the table asks for (every page)."""

    experiments: tuple[str, ...] = ()
    filter_text: str = ""
    statuses: tuple[str, ...] = STATUSES
    include_deleted: bool = False

    @property
    def experiment(self) -> list[str] | None:
        return list(self.experiments) or None

    @property
    def all_statuses(self) -> bool:
        return set(self.statuses) >= set(STATUSES) or not self.statuses


@dataclass(frozen=True)
class UnknownKey:
    """A key the filter names that no run in the chosen experiments has."""

    field: str  # "metrics.acuracy"
    position: int  # where it starts in the filter text
    suggestion: str | None = None  # "metrics.acc"

    @property
    def message(self) -> str:
        hint = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return f"no run has {self.field}{hint}"


@dataclass
class StoreQueries:
    """Store reads of one dashboard; caches whether the chosen experiments hold nested runs.
    Safe to call from the summary thread."""

    _nested: dict[tuple, bool] = field(default_factory=dict)

    def arguments(self, query: Query, run_ids: Sequence[str] | None = None, top_level: bool = False,
                  parent_run_ids: Sequence[str] | None = None) -> dict[str, Any]:
        """Keyword arguments of runs()/count_runs()/summarize_runs() for ``query`` (``top_level``:
        only runs without a parent; ``parent_run_ids``: only runs nested under these)."""
        kwargs: dict[str, Any] = {"experiment": query.experiment, "filter": query.filter_text.strip() or None,
                                  "include_deleted": query.include_deleted}
        if not query.all_statuses:
            kwargs["statuses"] = list(query.statuses)
        if run_ids is not None:
            kwargs["run_ids"] = list(run_ids)
        if top_level:
            kwargs["top_level"] = True
        if parent_run_ids is not None:
            kwargs["parent_run_ids"] = list(parent_run_ids)
        return kwargs

    def summarize(self, query: Query) -> Any:
        kwargs = self.arguments(query)
        kwargs["include_deleted"] = False  # best values and columns come from live runs
        return _api().summarize_runs(**kwargs)

    def count(self, query: Query, top_level: bool = False) -> int:
        return int(_api().count_runs(**self.arguments(query, top_level=top_level)))

    def page(self, query: Query, order_by: str, limit: int, offset: int, top_level: bool = False,
             parent_run_ids: Sequence[str] | None = None) -> Any:
        with _quiet_unknown_keys():
            return _api().runs(**self.arguments(query, top_level=top_level, parent_run_ids=parent_run_ids),
                               order_by=order_by, max_results=limit, offset=offset)

    @staticmethod
    def deleted_ids(frame: Any) -> set[str]:
        """Which runs of a page read with ``include_deleted`` are deleted (its ``deleted`` column)."""
        if not len(frame) or "deleted" not in frame.columns:
            return set()
        return {str(i) for i, gone in zip(frame["run_id"].tolist(), frame["deleted"].tolist()) if bool(gone)}

    def by_ids(self, run_ids: Sequence[str]) -> Any:
        """The runs with these ids (deleted ones too), in no particular order."""
        with _quiet_unknown_keys():
            return _api().runs(**self.arguments(Query(include_deleted=True), run_ids=run_ids))

    def nested_under(self, query: Query, parent_ids: Sequence[str], order_by: str) -> Any:
        """Runs of ``query`` whose parent is one of ``parent_ids``."""
        return self.page(query, order_by, MAX_NESTED, 0, parent_run_ids=parent_ids)

    def has_nested(self, query: Query) -> bool:
        """Whether any run of the chosen experiments is nested (kept until :meth:`forget_keys`)."""
        key = (query.experiments, query.include_deleted)
        if key not in self._nested:
            everything = Query(query.experiments, include_deleted=query.include_deleted)
            self._nested[key] = self.count(everything) > self.count(everything, top_level=True)
        return self._nested[key]

    # -- keys the filter names ----------------------------------------------------------------
    def forget_keys(self) -> None:
        """Drop what is cached (after a refresh: new runs may bring nesting)."""
        self._nested.clear()

    @staticmethod
    def unknown_keys(query: Query) -> list[UnknownKey]:
        """Keys in the filter that no run of the chosen experiments has, with the closest known key
        (the core's check: an index probe per key)."""
        if not query.filter_text.strip():
            return []
        return [UnknownKey(u.field, u.position, u.suggestion) for u in
                _api().check_filter_keys(query.experiment, query.filter_text, query.include_deleted)]


@contextlib.contextmanager
def _quiet_unknown_keys() -> Iterator[None]:
    """The dashboard says unknown keys under its filter box: no ``UnknownKeyWarning`` on stderr."""
    from nbtrack.store.keys import UnknownKeyWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownKeyWarning)
        yield
