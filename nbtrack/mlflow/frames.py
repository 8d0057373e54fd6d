"""``search_runs`` and ``get_run`` in MLflow's shapes, read through nbtrack's queries.

The DataFrame has MLflow's columns in MLflow's order: ``run_id, experiment_id, status,
artifact_uri, start_time, end_time``, then ``metrics.*``, ``params.*`` (text, as MLflow keeps
them) and ``tags.*`` (with ``mlflow.runName`` and ``mlflow.parentRunId``). Filtering, ordering
and the limit run in the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    ViewType,
    artifact_uri,
    param_text,
    system_tags,
    to_millis,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..store.records import RunRecord
    from ..store.sql import SqlStore

INFO_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def _frame(store: "SqlStore", names: list[str] | None, filter_string: str | None, view: int,
           max_results: int | None, order_by: Sequence[str] | None) -> "pd.DataFrame":
    from ..store.query import search_runs
    from .filters import nbtrack_filter, nbtrack_order_by

    filter_string, order_by = nbtrack_filter(filter_string), nbtrack_order_by(order_by)

    if view == ViewType.ACTIVE_ONLY:
        return search_runs(store, names, filter_string or None, order_by, max_results)
    frame = search_runs(store, names, filter_string or None, order_by, None if view != ViewType.ALL else max_results,
                        include_deleted=True)
    if view == ViewType.DELETED_ONLY:
        active = set(search_runs(store, names, filter_string or None, None, None)["run_id"])
        frame = frame[~frame["run_id"].isin(active)].reset_index(drop=True)
        if max_results is not None:
            frame = frame.head(int(max_results))
    elif view != ViewType.ALL:
        raise ValueError(f"run_view_type must be ViewType.ACTIVE_ONLY (1), DELETED_ONLY (2) or ALL (3), not {view!r}")
    return frame


def mlflow_frame(frame: "pd.DataFrame", experiment_ids: dict[str, str]) -> "pd.DataFrame":
    """nbtrack's runs DataFrame in MLflow's column names, order and value types."""
    import pandas as pd

    data: dict[str, Any] = {
        "run_id": list(frame["run_id"]),
        "experiment_id": [experiment_ids.get(name) for name in frame["experiment"]],
        "status": list(frame["status"]),
        "artifact_uri": [artifact_uri(run_id) for run_id in frame["run_id"]],
        "start_time": frame["start_time"],
        "end_time": frame["end_time"],
    }
    columns = list(frame.columns)
    for column in sorted(c for c in columns if c.startswith("metrics.")):
        data[column] = frame[column]
    for column in sorted(c for c in columns if c.startswith("params.")):
        data[column] = [None if value is None or value != value else param_text(value) for value in frame[column]]
    tags = {c: list(frame[c]) for c in columns if c.startswith("tags.")}
    if len(frame):
        tags["tags.mlflow.runName"] = list(frame["name"])
        parents = list(frame["parent_run_id"])
        if any(parents):
            tags["tags.mlflow.parentRunId"] = parents
    for column in sorted(tags):
        data[column] = tags[column]
    result = pd.DataFrame(data)
    return result.reset_index(drop=True)


def run_from_row(row: Any, columns: list[str], experiment_ids: dict[str, str]) -> Run:
    """A Run entity from a row of nbtrack's runs DataFrame."""
    params, metrics, tags = {}, {}, {}
    for column in columns:
        value = row[column]
        if column.startswith("params.") and value is not None and value == value:
            params[column[7:]] = param_text(value)
        elif column.startswith("metrics.") and value == value:
            metrics[column[8:]] = float(value)
        elif column.startswith("tags.") and value is not None:
            tags[column[5:]] = value
    tags.update(system_tags(row["name"], row["parent_run_id"]))
    info = RunInfo(row["run_id"], experiment_ids.get(row["experiment"], ""), row["name"], row["status"],
                   to_millis(row["start_time"].timestamp()),
                   None if row["end_time"] != row["end_time"] or row["end_time"] is None
                   else to_millis(row["end_time"].timestamp()),
                   artifact_uri(row["run_id"]))
    return Run(info, RunData(metrics, params, tags))


def search(store: "SqlStore", names: list[str] | None, filter_string: str | None, view: int,
           max_results: int | None, order_by: Sequence[str] | None, output_format: str,
           experiment_ids: dict[str, str]) -> Any:
    frame = _frame(store, names, filter_string, view, max_results, order_by)
    if output_format == "list":
        columns = list(frame.columns)
        return [run_from_row(row, columns, experiment_ids) for _, row in frame.iterrows()]
    if output_format != "pandas":
        raise ValueError(f"output_format must be 'pandas' or 'list', not {output_format!r}")
    return mlflow_frame(frame, experiment_ids)


def run_from_record(record: "RunRecord", experiment_id: str) -> Run:
    """A Run entity from a stored nbtrack run (``get_run``)."""
    tags = dict(record.tags)
    tags.update(system_tags(record.name, record.parent_run_id))
    if record.notes.strip() and "mlflow.note.content" not in tags:
        tags["mlflow.note.content"] = record.notes.rstrip("\n")
    info = RunInfo(record.run_id, experiment_id, record.name, record.status, to_millis(record.start_time),
                   to_millis(record.end_time), artifact_uri(record.run_id),
                   "deleted" if record.deleted else "active")
    inputs = RunInputs([
        DatasetInput(Dataset(d["name"], d["fingerprint"][:8], d.get("kind", ""), str(d.get("path", "")),
                             None, None), [])
        for d in record.datasets])
    for dataset_input in inputs.dataset_inputs:
        name = dataset_input.dataset.name
        if name.endswith(")") and " (" in name:
            dataset_input.tags.append(InputTag("mlflow.data.context", name[name.rindex(" (") + 2:-1]))
    return Run(info, RunData(dict(record.metrics), {k: param_text(v) for k, v in record.params.items()}, tags),
               inputs)
