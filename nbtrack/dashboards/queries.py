"""The dashboard's calls into the store, in one place (the adapter ``DashboardState`` uses).

Structured query parameters (``statuses=``, ``run_ids=``, ``top_level=``) are passed to
``nbtrack.runs()`` / ``count_runs()`` / ``summarize_runs()`` when the store's read functions
take them; otherwise they are folded into the filter string (``status IN (...)``,
``run_id IN (...)``, ``parent_run_id IS NULL``), which the filter parser compiles to the same
bound-parameter SQL. Unknown filter keys come from ``nbtrack.check_filter_keys`` when the core
has it (the dashboard says them itself, so ``runs()``'s ``UnknownKeyWarning`` is silenced
here), else from :func:`_unknown_keys_here`.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from .columns import STATUSES, combine_filters, run_ids_clause, status_clause

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
    """Store reads of one dashboard; caches the keys of the chosen experiments (for key checks)
    and whether they hold nested runs. Safe to call from the summary thread."""

    _keys: dict[tuple[str, ...], dict[str, set[str]]] = field(default_factory=dict)
    _nested: dict[tuple, bool] = field(default_factory=dict)

    @staticmethod
    def _takes(*names: str) -> bool:
        try:
            parameters = inspect.signature(_api().runs).parameters
        except (TypeError, ValueError):
            return False
        return all(name in parameters for name in names)

    @classmethod
    def structured(cls) -> bool:
        """True when ``nbtrack.runs`` takes ``statuses=`` and ``run_ids=`` (the query layer's parameters)."""
        return cls._takes("statuses", "run_ids")

    def arguments(self, query: Query, extra_filter: str | None = None,
                  run_ids: Sequence[str] | None = None, top_level: bool = False) -> dict[str, Any]:
        """Keyword arguments of runs()/count_runs()/summarize_runs() for ``query`` (``top_level``:
        only runs without a parent)."""
        if top_level and not self._takes("top_level"):
            extra_filter, top_level = combine_filters(extra_filter, "parent_run_id IS NULL"), False
        user = combine_filters(query.filter_text, extra_filter)
        if self.structured():
            kwargs: dict[str, Any] = {"experiment": query.experiment, "filter": user,
                                      "include_deleted": query.include_deleted}
            if not query.all_statuses:
                kwargs["statuses"] = list(query.statuses)
            if run_ids is not None:
                kwargs["run_ids"] = list(run_ids)
            if top_level:
                kwargs["top_level"] = True
            return kwargs
        statuses = None if query.all_statuses else status_clause(query.statuses)
        ids = run_ids_clause(run_ids) if run_ids is not None else None
        return {"experiment": query.experiment, "filter": combine_filters(user, statuses, ids),
                "include_deleted": query.include_deleted}

    def summarize(self, query: Query) -> Any:
        kwargs = self.arguments(query)
        kwargs["include_deleted"] = False  # best values and columns come from live runs
        return _api().summarize_runs(**kwargs)

    def count(self, query: Query, extra_filter: str | None = None, top_level: bool = False) -> int:
        return int(_api().count_runs(**self.arguments(query, extra_filter, top_level=top_level)))

    def page(self, query: Query, order_by: str, limit: int, offset: int, extra_filter: str | None = None,
             top_level: bool = False) -> Any:
        with _quiet_unknown_keys():
            return _api().runs(**self.arguments(query, extra_filter, top_level=top_level), order_by=order_by,
                               max_results=limit, offset=offset)

    def deleted_ids(self, frame: Any) -> set[str]:
        """Which runs of a page read with ``include_deleted`` are deleted (the ``deleted`` column
        when the core gives one, else one more query for the live ones)."""
        if not len(frame):
            return set()
        ids = [str(r) for r in frame["run_id"].tolist()]
        if "deleted" in frame.columns:
            return {i for i, gone in zip(ids, frame["deleted"].tolist()) if bool(gone)}
        with _quiet_unknown_keys():
            live = _api().runs(**self.arguments(Query(), run_ids=ids), max_results=len(ids))
        return set(ids) - {str(r) for r in live["run_id"].tolist()}

    def by_ids(self, run_ids: Sequence[str]) -> Any:
        """The runs with these ids (deleted ones too), in no particular order."""
        with _quiet_unknown_keys():
            return _api().runs(**self.arguments(Query(include_deleted=True), run_ids=run_ids))

    def nested_under(self, query: Query, parent_ids: Sequence[str], order_by: str) -> Any:
        """Runs of ``query`` whose parent is one of ``parent_ids``."""
        return self.page(query, order_by, MAX_NESTED, 0,
                         extra_filter="parent_run_id IN (" + ", ".join(_quote(p) for p in parent_ids) + ")")

    def has_nested(self, query: Query) -> bool:
        """Whether any run of the chosen experiments is nested (kept until :meth:`forget_keys`)."""
        key = (query.experiments, query.include_deleted)
        if key not in self._nested:
            everything = Query(query.experiments, include_deleted=query.include_deleted)
            self._nested[key] = self.count(everything, "parent_run_id IS NOT NULL") > 0
        return self._nested[key]

    # -- keys the filter names ----------------------------------------------------------------
    def forget_keys(self) -> None:
        """Drop what is cached (after a refresh: new runs may bring new keys, or nesting)."""
        self._keys.clear()
        self._nested.clear()

    def remember_keys(self, query: Query, summary: Any) -> None:
        """Keep the keys of an unfiltered summary of the chosen experiments (saves a query later)."""
        if not query.filter_text.strip() and query.all_statuses:
            self._keys[query.experiments] = {"params": set(summary.params), "metrics": set(summary.metrics),
                                             "tags": set(summary.tags)}

    def known_keys(self, query: Query) -> dict[str, set[str]]:
        """``{"params": {...}, "metrics": {...}, "tags": {...}}`` over the chosen experiments."""
        if query.experiments not in self._keys:
            self.remember_keys(Query(query.experiments), _api().summarize_runs(query.experiment, None))
        return self._keys[query.experiments]

    def keys_known(self, query: Query) -> bool:
        """True when :meth:`unknown_keys` answers fast (the core's check, or keys already read)."""
        return hasattr(_api(), "check_filter_keys") or query.experiments in self._keys

    def unknown_keys(self, query: Query) -> list[UnknownKey]:
        """Keys in the filter that no run of the chosen experiments has, with the closest known key."""
        if not query.filter_text.strip():
            return []
        check = getattr(_api(), "check_filter_keys", None)
        if check is not None:  # the core's own check (an index probe per key)
            return [UnknownKey(u.field, u.position, u.suggestion) for u in
                    check(query.experiment, query.filter_text, query.include_deleted)]
        return _unknown_keys_here(query.filter_text, self.known_keys(query))


def closest_key(key: str, candidates: Sequence[str] | set[str]) -> str | None:
    """The candidate most like ``key`` (difflib's ratio, case-insensitive; a longer shared start
    breaks ties), or None when none is close."""
    lowered = key.lower()
    best, best_score = None, 0.0
    for candidate in sorted(candidates):
        other = candidate.lower()
        score = difflib.SequenceMatcher(None, lowered, other).ratio()
        shared = len(_common_prefix(lowered, other))
        score += 0.05 * min(shared, 3)
        if score > best_score:
            best, best_score = candidate, score
    return best if best_score >= 0.6 else None


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


@contextlib.contextmanager
def _quiet_unknown_keys() -> Iterator[None]:
    """The dashboard says unknown keys under its filter box: no ``UnknownKeyWarning`` on stderr."""
    try:
        from nbtrack.store.keys import UnknownKeyWarning
    except ImportError:  # a core without the check
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownKeyWarning)
        yield


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _fields(node: Any) -> list[Any]:
    """Every ``Field`` of a parsed filter, in order."""
    from nbtrack.store import filters as f

    if node is None:
        return []
    if isinstance(node, f.Compare):
        return [node.field]
    if isinstance(node, (f.And, f.Or)):
        return [x for item in node.items for x in _fields(item)]
    if isinstance(node, f.Not):
        return _fields(node.item)
    return []


def _unknown_keys_here(text: str, known: dict[str, set[str]]) -> list[UnknownKey]:
    from nbtrack.store.filters import parse_filter

    try:
        node = parse_filter(text)
    except Exception:  # a syntax error is reported by the query itself
        return []
    out: list[UnknownKey] = []
    for item in _fields(node):
        if item.entity not in known or item.key in known[item.entity]:
            continue
        name = f"{item.entity}.{item.key}"
        if name in {u.field for u in out}:
            continue
        match = closest_key(item.key, known[item.entity])
        kind = item.entity
        if match is None:  # the right key under another kind: params.acc for metrics.acc
            for other, keys in known.items():
                if item.key in keys:
                    match, kind = item.key, other
                    break
        out.append(UnknownKey(name, item.position, f"{kind}.{match}" if match is not None else None))
    return out
