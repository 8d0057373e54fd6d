"""Module-level functions: log to the active run, read and edit runs in the current store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from . import config
from .errors import NoActiveRunError
from .flusher import FLUSHER
from .run import Run, active_run

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .store.keys import UnknownKey
    from .store.query import RunsSummary
    from .store.records import RunRecord


def track(experiment: str | None = None, name: str | None = None, tags: dict | None = None,
          params: dict | None = None, notes: str | None = None, nested: bool = False,
          system_metrics: bool | float | None = None) -> Run:
    """Start a run and make it the active one.

    Use it as ``with nbtrack.track("churn") as run:``, as a decorator
    ``@nbtrack.track("churn")`` (each call is a run), or as a plain call followed by
    ``run.end()``. Starting a run while one is active raises ActiveRunError unless
    ``nested=True``, which makes the new run a child of the active one.
    ``system_metrics``: seconds between CPU/memory/GPU samples (``system/...`` metrics),
    False for none; None follows ``NBTRACK_SYSTEM_METRICS`` (default every 10 s).
    """
    return Run(experiment=experiment, name=name, tags=tags, params=params, notes=notes, nested=nested,
               system_metrics=system_metrics)


def _require(call: str) -> Run:
    run = active_run()
    if run is None:
        raise NoActiveRunError(call)
    return run


def log_param(key: str, value: Any) -> None:
    """Record a param of the active run (int, float, bool, str, None, lists and dicts of those)."""
    _require("log_param").log_param(key, value)


def log_params(params: dict[str, Any]) -> None:
    """Record several params of the active run."""
    _require("log_params").log_params(params)


def log_metric(key: str, value: Any, step: int | None = None, timestamp: float | None = None) -> None:
    """Record a point of a metric of the active run; ``step=None`` is the next step for the key."""
    run = active_run()
    if run is None:
        raise NoActiveRunError("log_metric")
    run.log_metric(key, value, step, timestamp)


def log_metrics(metrics: dict[str, Any], step: int | None = None) -> None:
    """Record one point for each metric of the dict, in the active run."""
    _require("log_metrics").log_metrics(metrics, step=step)


def set_tag(key: str, value: Any) -> None:
    """Set a tag of the active run."""
    _require("set_tag").set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    """Set several tags of the active run."""
    _require("set_tags").set_tags(tags)


def log_artifact(obj: Any, name: str | None = None) -> str:
    """Store a file, directory, bytes, text, figure, DataFrame or object with the active run."""
    return _require("log_artifact").log_artifact(obj, name)


def log_image(image: Any, name: str, step: int | None = None) -> str:
    """Keep an image (figure, array, PIL image, bytes, file) as one step of the media series ``name``."""
    return _require("log_image").log_image(image, name, step)


def log_figure(figure: Any, name: str, step: int | None = None) -> str:
    """Keep a matplotlib or plotly figure as one step of the media series ``name``."""
    return _require("log_figure").log_figure(figure, name, step)


def log_dataset(data: Any, name: str, store: bool = True, max_copy_bytes: int | str | None = None) -> dict:
    """Fingerprint the data the active run used (content hash, shape, columns, dtypes) and keep a
    copy of it when ``store`` and it is at most ``max_copy_bytes`` (default 100 MB); returns the info."""
    return _require("log_dataset").log_dataset(data, name, store=store, max_copy_bytes=max_copy_bytes)


def log_note(text: str) -> None:
    """Append a note to the active run."""
    _require("log_note").log_note(text)


def flush(timeout: float = 60.0) -> None:
    """Write everything buffered in this process to the store now, after the background work of
    ended runs (environment capture, notebook snapshot) has landed (waiting ``timeout`` s at most)."""
    import time

    deadline = time.monotonic() + timeout
    for run in FLUSHER.runs():
        run.wait_for_background(max(0.0, deadline - time.monotonic()))
    FLUSHER.flush_all()


def _store_for_reading():
    if FLUSHER.runs():
        FLUSHER.flush_all()  # read what this process has logged
    return config.get_store()


def runs(experiment: str | Iterable[str] | None = None, filter: str | None = None,
         order_by: str | Sequence[str] | None = None, max_results: int | None = None, *,
         offset: int = 0, include_deleted: bool = False, run_ids: Iterable[str] | None = None,
         statuses: Iterable[str] | None = None, tags: dict[str, Any] | None = None,
         notebook: str | Iterable[str] | None = None, top_level: bool = False,
         parent_run_ids: Iterable[str] | None = None) -> "pd.DataFrame":
    """Runs as a DataFrame, one row each, shaped like ``mlflow.search_runs``.

    ``filter`` uses MLflow's search syntax plus OR, NOT and parentheses, for example
    ``"metrics.acc > 0.8 and (params.model = 'rf' or tags.stage != 'dev')"``.
    ``order_by`` is a clause or list of clauses such as ``"metrics.acc DESC"``.
    The structured parameters narrow the selection further (all must hold): ``run_ids``
    (full ids), ``statuses`` (e.g. ``["RUNNING"]``), ``tags`` (``{"stage": "prod"}``, a list
    of allowed values, or None for "no such tag"), ``notebook`` (path(s) recorded in the
    ``nbtrack.notebook`` tag), ``top_level`` (only runs without a parent), ``parent_run_ids``
    (only runs nested under one of these runs). With
    ``include_deleted`` deleted runs are included and a ``deleted`` column says which.
    """
    from .store.query import search_runs

    store = _store_for_reading()
    frame = search_runs(store, experiment, filter, order_by, max_results, offset, include_deleted,
                        run_ids=run_ids, statuses=statuses, tags=tags, notebook=notebook, top_level=top_level,
                        parent_run_ids=parent_run_ids)
    if filter:
        import warnings

        from .store.keys import UnknownKeyWarning

        for unknown in check_filter_keys(experiment, filter, include_deleted):
            warnings.warn(unknown.message, UnknownKeyWarning, stacklevel=2)
    return frame


def check_filter_keys(experiment: str | Iterable[str] | None = None, filter: str | None = None,
                      include_deleted: bool = False) -> "list[UnknownKey]":
    """The params./metrics./tags. keys of ``filter`` that no run of ``experiment`` has, each with
    ``field``, ``position`` (in the filter), ``suggestion`` (the closest existing key, or None)
    and ``message`` ("no run in experiment 'churn' has metrics.acuracy; did you mean
    metrics.accuracy?"). ``runs()`` warns with the same messages (``UnknownKeyWarning``)."""
    from .store.keys import unknown_keys
    from .store.selection import RunSelection

    selection = RunSelection.build(experiment, filter, include_deleted)
    return unknown_keys(_store_for_reading(), selection)


def count_runs(experiment: str | Iterable[str] | None = None, filter: str | None = None,
               include_deleted: bool = False, *, run_ids: Iterable[str] | None = None,
               statuses: Iterable[str] | None = None, tags: dict[str, Any] | None = None,
               notebook: str | Iterable[str] | None = None, top_level: bool = False,
               parent_run_ids: Iterable[str] | None = None) -> int:
    """The number of runs that ``runs()`` would return without a limit (same selection arguments)."""
    from .store.query import count_runs as count

    return count(_store_for_reading(), experiment, filter, include_deleted, run_ids=run_ids, statuses=statuses,
                 tags=tags, notebook=notebook, top_level=top_level, parent_run_ids=parent_run_ids)


def summarize_runs(experiment: str | Iterable[str] | None = None, filter: str | None = None,
                   include_deleted: bool = False, *, run_ids: Iterable[str] | None = None,
                   statuses: Iterable[str] | None = None, tags: dict[str, Any] | None = None,
                   notebook: str | Iterable[str] | None = None, top_level: bool = False,
                   parent_run_ids: Iterable[str] | None = None) -> "RunsSummary":
    """Counts, distinct param/tag values and metric ranges over all matching runs (same selection
    arguments as ``runs()``)."""
    from .store.query import summarize_runs as summarize

    return summarize(_store_for_reading(), experiment, filter, include_deleted, run_ids=run_ids,
                     statuses=statuses, tags=tags, notebook=notebook, top_level=top_level,
                     parent_run_ids=parent_run_ids)


def metric_histories(run_ids: Sequence[str], key: str) -> "pd.DataFrame":
    """Every point of metric ``key`` for the given runs: run_id, step, value, timestamp."""
    from .store.query import metric_histories as histories

    store = _store_for_reading()
    full_ids = [r if len(r) == 32 else store.resolve_run_id(r) for r in run_ids]
    return histories(store, full_ids, key)


def get_run(run_id: str) -> "RunRecord":
    """Everything recorded about one run; a unique prefix of the id is enough."""
    from .store.records import load_run

    return load_run(_store_for_reading(), run_id)


def experiments() -> "pd.DataFrame":
    """Experiments with their number of runs and the time of the latest."""
    from .store.query import list_experiments

    return list_experiments(_store_for_reading())


def rename_run(run_id: str, name: str) -> None:
    """Give a stored run a new name."""
    from .values import check_name

    _store_for_reading().rename_run(run_id, check_name("run name", name))


def tag_run(run_id: str, tags: dict[str, Any]) -> None:
    """Set tags on a stored run (finished or not)."""
    from .values import check_key, tag_value

    _store_for_reading().set_tags(run_id, {check_key("tag", k): tag_value(k, v) for k, v in tags.items()})


def note_run(run_id: str, text: str) -> None:
    """Append a note to a stored run."""
    from .values import check_text

    if not isinstance(text, str):
        raise TypeError(f"a note is text, not {type(text).__name__}")
    check_text("note", text)
    _store_for_reading().append_note(run_id, text if text.endswith("\n") else text + "\n")


def delete_run(run_id: str) -> None:
    """Hide a run from queries (soft delete); ``restore_run`` brings it back, ``nbtrack gc`` purges it."""
    _store_for_reading().delete_run(run_id)


def restore_run(run_id: str) -> None:
    """Undo ``delete_run``."""
    _store_for_reading().restore_run(run_id)


def rename_experiment(old: str, new: str) -> None:
    """Rename an experiment; its runs follow."""
    from .values import check_name

    if not isinstance(new, str) or not new.strip():
        raise ValueError(f"experiment name must be a non-empty string, got {new!r}")
    check_name("experiment name", new)
    _store_for_reading().rename_experiment(old, new)
